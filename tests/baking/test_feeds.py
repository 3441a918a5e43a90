"""RSS feeds of a site and of its columns: live public articles only, baked with the pages that
list them, and checked like every baked file."""

import xml.etree.ElementTree as ET

from wagtail.models import PageViewRestriction

from cms.models import ColumnKind, ColumnPage
from review.pipeline.actions import TakedownAction
from tests.baking.conftest import url_of
from tests.conftest import make_article, publish, publish_via_workflow
from tests.review.test_register_log import run


def titles(content: bytes) -> list[str]:
    return [item.findtext("title") for item in ET.fromstring(content).iter("item")]


def test_site_and_column_feeds_list_live_public_articles_newest_first(client, network, news):
    make_article(news, "旧闻", date="2026-09-01")
    make_article(news, "新闻", date="2026-11-01")
    make_article(news, "草稿", live=False)
    private = make_article(news, "内部通知")
    PageViewRestriction.objects.create(page=private, restriction_type="login")
    make_article(network.column(network.school_b, "news"), "乙校新闻")

    column_feed = client.get(url_of(news) + "feed.xml", headers={"host": "jia.test"})
    assert column_feed.status_code == 200
    assert column_feed["Content-Type"] == "application/rss+xml; charset=utf-8"
    assert titles(column_feed.content) == ["新闻", "旧闻"]
    root = ET.fromstring(column_feed.content)
    assert root.findtext("channel/link") == "http://jia.test" + url_of(news)
    site_feed = client.get("/feed.xml", headers={"host": "jia.test"})
    assert titles(site_feed.content) == ["新闻", "旧闻"]
    portal_feed = client.get("/feed.xml", headers={"host": "portal.test"})
    assert set(titles(portal_feed.content)) == {"新闻", "旧闻", "乙校新闻"}


def test_no_feed_for_articles_link_columns_or_unknown_paths(client, network, news):
    article = make_article(news, "文章")
    link = ColumnPage(title="教育局网站", slug="bureau", kind=ColumnKind.LINK, live=False,
                      link_url="https://example.cn/")
    network.school_a.home_page.add_child(instance=link)
    link.save_revision()
    publish(link)
    for path in (url_of(article) + "feed.xml", url_of(link) + "feed.xml", "/nope/feed.xml"):
        assert client.get(path, headers={"host": "jia.test"}).status_code == 404, path


def test_approval_and_takedown_rebake_the_feeds(network, news, bake_dir,
                                                django_capture_on_commit_callbacks):
    article = make_article(news, "运动会通知", live=False)
    with django_capture_on_commit_callbacks(execute=True):
        publish_via_workflow(article)
    column_feed = bake_dir / "jia.test" / url_of(news).strip("/") / "feed.xml"
    feeds = [column_feed, bake_dir / "jia.test" / "feed.xml", bake_dir / "portal.test" / "feed.xml"]
    for feed in feeds:
        assert "运动会通知" in titles(feed.read_bytes()), feed
    article.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        TakedownAction(article, user=None, reason="有误").execute(skip_permission_checks=True)
    for feed in feeds:
        assert "运动会通知" not in titles(feed.read_bytes()), feed


def test_a_tampered_feed_is_found_and_rewritten(client, network, news, bake_dir):
    from django.core.management import call_command

    make_article(news, "招生简章")
    call_command("bake", "--all", stdout=None, stderr=None)
    feed = bake_dir / "jia.test" / url_of(news).strip("/") / "feed.xml"
    original = feed.read_bytes()
    assert original == client.get(url_of(news) + "feed.xml", headers={"host": "jia.test"},
                                  HTTP_COOKIE="sessionid=x").content
    feed.write_bytes(original.replace("招生简章".encode(), "虚假招生".encode()))
    code, out = run("check-live", "--restore")
    assert code == 1 and "feed.xml" in out and "SHA-256 不符" in out
    assert feed.read_bytes() == original


def test_the_embedded_server_serves_a_baked_feed(client, network, news, bake_dir):
    from django.core.management import call_command

    make_article(news, "放假通知")
    call_command("bake", "--all", stdout=None, stderr=None)
    response = client.get("/feed.xml", headers={"host": "jia.test"})
    assert response["X-Baked"] == "1"
    assert response["Content-Type"] == "application/rss+xml; charset=utf-8"
    assert titles(response.content) == ["放假通知"]


def test_an_empty_feed_is_the_same_bytes_every_time(client, network):
    from cms.models import ColumnPage

    empty = ColumnPage.objects.live().descendant_of(network.school_b.home_page).filter(
        numchild=0).first()
    first = client.get(url_of(empty) + "feed.xml", headers={"host": "yi.test"})
    assert first.status_code == 200 and titles(first.content) == []
    import time

    time.sleep(1.1)  # RSS dates have whole seconds
    assert client.get(url_of(empty) + "feed.xml", headers={"host": "yi.test"}).content == \
        first.content
