"""A restricted page's baked file is never served to anonymous readers (issue 17, finding 3):
restricting takes the page down and its file goes; and until a re-bake has removed it, the
embedded server does not serve it (cms.baking.audience)."""

import pytest
from django.core.management import call_command
from wagtail.models import PageViewRestriction

from cms.baking.audience import RESTRICTED_FILE, restricted_folders
from tests.baking.conftest import baked, baked_build, copy_of, url_of
from tests.conftest import make_article

A_HOST = {"HTTP_HOST": "jia.test"}


def _article(network):
    return (make_article(network.column(network.school_a, "news"), "将要受限的文章"),)


_article_build = baked_build(_article)


@pytest.fixture
def article(_article_build, network, bake_dir):
    (article,) = copy_of(_article_build, bake_dir)
    return article


def test_restricting_a_live_page_removes_its_file(client, article, bake_dir,
                                                  django_capture_on_commit_callbacks):
    path = baked(bake_dir, "jia.test", url_of(article))
    assert client.get(url_of(article), **A_HOST)["X-Baked"] == "1"
    with django_capture_on_commit_callbacks(execute=True):
        PageViewRestriction.objects.create(page=article, restriction_type="password",
                                           password="pw-2026")
    assert not path.exists()
    response = client.get(url_of(article), **A_HOST)
    assert "X-Baked" not in response and "将要受限的文章的正文" not in response.content.decode()


def test_the_file_of_a_restricted_page_is_not_served_before_it_is_rebaked(
        client, network, article, bake_dir, settings, django_capture_on_commit_callbacks):
    settings.BAKE_ON_PUBLICATION = False  # the re-bake has not run yet
    news = network.column(network.school_a, "news")
    path = baked(bake_dir, "jia.test", url_of(article))
    with django_capture_on_commit_callbacks(execute=True):
        PageViewRestriction.objects.create(page=news, restriction_type="login")
    assert path.exists()  # still there: yet not served
    assert restricted_folders() == {"jia.test": [url_of(news).strip("/")]}
    assert (bake_dir / RESTRICTED_FILE).exists()
    # The guard took the column and its article down; Wagtail answers, not the old file.
    response = client.get(url_of(article), **A_HOST)
    assert "X-Baked" not in response and response.status_code == 404
    assert "X-Baked" not in client.get(url_of(news), **A_HOST)
    # Other pages of the site are still served from their files.
    assert client.get("/", **A_HOST)["X-Baked"] == "1"


def test_a_bake_never_writes_a_restricted_page(client, network, bake_dir):
    news = network.column(network.school_a, "news")
    article = make_article(news, "受保护的文章", live=False)
    PageViewRestriction.objects.create(page=article, restriction_type="password", password="p")
    from tests.conftest import publish

    publish(article)
    call_command("bake", "--all", stdout=None, stderr=None)
    assert not baked(bake_dir, "jia.test", url_of(article)).exists()
    assert restricted_folders() == {"jia.test": [url_of(article).strip("/")]}
