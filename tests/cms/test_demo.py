"""manage.py demo on an empty database: bad input is refused (the demo network itself: in
test_demo_network.py, built once for its module)."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from wagtail.models import Page

from cms.demo.build import DemoError, add_generated_articles

User = get_user_model()


def test_articles_needs_a_positive_count(db):
    with pytest.raises(CommandError, match="正整数"):
        call_command("demo", "--articles", "0")
    assert not Page.objects.filter(depth__gte=2).exclude(slug="home").exists()


def test_generated_articles_need_columns(db):
    with pytest.raises(DemoError, match="先运行"):
        add_generated_articles(count=5)
