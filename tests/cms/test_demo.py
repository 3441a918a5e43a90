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



@pytest.mark.parametrize(("production_keys", "memory_kib"), [(False, 8 * 1024),
                                                             (True, 64 * 1024)])
def test_the_demo_leaders_keys_are_cheap_unless_production_keys_are_asked(
        db, production_keys, memory_kib):
    """The demo's passphrase is public, so its keys are sealed cheaply; benchmarks that time
    signing ask for production's cost (demo --production-keys)."""
    from cms.demo import content
    from cms.demo.build import _create_accounts, demo_signing_kdf
    from cms.organisations import create_portal, create_school

    organisations = {"portal": create_portal(name="县教育局", hostname="p.test", port=80)}
    for school in content.SCHOOLS:
        organisations[school["slug"]] = create_school(name=school["name"], slug=school["slug"],
                                                      hostname=school["hostname"], port=80)
    users = _create_accounts(organisations,
                             signing_kdf=demo_signing_kdf(production_keys=production_keys))
    leaders = [user for user in users.values() if user.signing_credentials.exists()]
    assert leaders
    for leader in leaders:
        assert leader.signing_credentials.get().sealed_key["kdf"]["memory_kib"] == memory_kib
