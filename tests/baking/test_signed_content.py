"""Issue 17, finding 6: writes that skip ``save()`` (``QuerySet.update``, SQL) never reach
readers. Pages are rendered and baked only as the register signed them; a page put online
by SQL answers 404 and is not baked; the staff and the bureau are alarmed once; anonymous
readers get the baked file whatever the query string but ``page=N``; rich text is sanitised
again when printed."""

import json
import re
from urllib.parse import unquote

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from wagtail.models import Page, Revision

from cms.models import ArticlePage, ColumnPage, SchoolHomePage
from review.register.livecheck import ALARM_EVENT, check_live, signed_object_for
from review.register.models import SecurityEvent
from tests.baking.conftest import baked, url_of
from tests.conftest import make_article

A_HOST = {"HTTP_HOST": "jia.test"}
SCRIPT = "<script>alert('篡改')</script>"
# Markup a browser runs, written straight into the database.
XSS_VECTORS = [
    SCRIPT,
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    '<a href="javascript:alert(1)">点我</a>',
    '<p onmouseover="alert(1)">悬停</p>',
    "<body onload=alert(1)>",
    "<details open ontoggle=alert(1)>",
    '<object data="javascript:alert(1)"></object>',
    "<style>@import 'javascript:alert(1)'</style>",
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    "<math><mi xlink:href=javascript:alert(1)>x</mi></math>",
]


def alarms(page) -> int:
    return SecurityEvent.objects.filter(event=ALARM_EVENT,
                                        subject=f"cms.articlepage:{page.pk}").count()


def sql(statement: str, *params) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def tamper_body(article, html: str) -> None:
    body = json.dumps([{"type": "paragraph", "value": html, "id": "tampered"}])
    sql("UPDATE cms_articlepage SET body = %s WHERE page_ptr_id = %s", body, article.pk)


@pytest.fixture
def mailed(network):
    """Addresses for the school's administrator and the bureau's, who are told."""
    for key in ("a_administrator", "county_administrator"):
        user = network.users[key]
        user.email = f"{key}@example.test"
        user.save(update_fields=["email"])
    mail.outbox.clear()


def test_title_and_body_written_past_save_are_not_shown_served_nor_baked(
        client, settings, network, bake_dir, mailed, django_capture_on_commit_callbacks):
    news = network.column(network.school_a, "news")
    article = make_article(news, "签名批准的标题")
    ArticlePage.objects.filter(pk=article.pk).update(title="篡改的标题")
    tamper_body(article, f'<p data-block-key="x">篡改的正文</p>{SCRIPT}')

    with django_capture_on_commit_callbacks(execute=True):
        # Rendered from the database (no baked file served), with and without a query.
        settings.BAKE_SERVE = False
        for query in ({}, {"x": 1}):
            response = client.get(url_of(article), query, **A_HOST)
            text = response.content.decode()
            assert response.status_code == 200 and "签名批准的标题" in text, query
            assert "篡改" not in text and "<script" not in text, query
        # What bake --all writes is the signed content too, for the page and its listings.
        settings.BAKE_SERVE = True
        call_command("bake", "--all", stdout=None, stderr=None)
    for url in (url_of(article), url_of(news), url_of(news) + "feed.xml", "/"):
        text = baked(bake_dir, "jia.test", url).read_text()
        assert "篡改" not in text and "<script" not in text, url
    assert "签名批准的标题" in baked(bake_dir, "jia.test", url_of(article)).read_text()
    for query in ({}, {"x": 1}, {"utm_source": "wx"}):
        response = client.get(url_of(article), query, **A_HOST)
        assert response["X-Baked"] == "1" and "篡改" not in response.content.decode()

    # One alarm for this tampering, however many readers and bakes met it: in the
    # security log, and one e-mail to the school's staff and the bureau.
    assert alarms(article) == 1
    event = SecurityEvent.objects.get(event=ALARM_EVENT, subject=f"cms.articlepage:{article.pk}")
    assert event.outcome == "failure" and event.entry["data"]["shown"] == "签名批准的版本"
    assert len(mail.outbox) == 1
    assert {"a_administrator@example.test", "county_administrator@example.test"} <= set(
        mail.outbox[0].to)
    assert "签名批准的内容不符" in mail.outbox[0].subject
    # check-live still reports it, and a second tampering raises a second alarm.
    assert any(m.object_id == str(article.pk) for m in check_live())
    ArticlePage.objects.filter(pk=article.pk).update(title="再次篡改")
    settings.BAKE_SERVE = False
    assert "再次篡改" not in client.get(url_of(article), **A_HOST).content.decode()
    assert alarms(article) == 2


def test_a_draft_put_online_by_update_answers_404_and_is_not_baked(
        client, settings, network, bake_dir):
    news = network.column(network.school_a, "news")
    signed = make_article(news, "已签名的文章")
    draft = make_article(news, "未经审批的草稿", live=False)
    ArticlePage.objects.filter(pk=draft.pk).update(live=True)
    settings.BAKE_SERVE = False
    for query in ({}, {"x": 1}):
        assert client.get(url_of(draft), query, **A_HOST).status_code == 404, query
    listing = client.get(url_of(news), **A_HOST).content.decode()
    assert "已签名的文章" in listing and "未经审批的草稿" not in listing

    call_command("bake", "--all", stdout=None, stderr=None)
    assert not baked(bake_dir, "jia.test", url_of(draft)).exists()
    assert baked(bake_dir, "jia.test", url_of(signed)).exists()
    for url in (url_of(news), url_of(news) + "feed.xml", "/"):
        assert "未经审批的草稿" not in baked(bake_dir, "jia.test", url).read_text(), url
    event = SecurityEvent.objects.get(event=ALARM_EVENT, subject=f"cms.articlepage:{draft.pk}")
    assert event.entry["data"]["shown"] == "不显示（404）"


def test_page_n_of_a_column_listing_is_still_page_n(client, settings, network, bake_dir,
                                                     small_pages):
    news = network.column(network.school_a, "news")
    titles = [make_article(news, f"分页文章{number}").title for number in range(3)]
    # Newest first, two per page: the oldest article is alone on page 2.
    for serve in (False, True):
        settings.BAKE_SERVE = serve
        if serve:
            call_command("bake", "--all", stdout=None, stderr=None)
        second = client.get(url_of(news), {"page": 2}, **A_HOST).content.decode()
        assert titles[0] in second and titles[2] not in second, serve
        first = client.get(url_of(news), {"x": 1}, **A_HOST).content.decode()
        assert titles[2] in first and titles[0] not in first, serve


def test_a_signed_page_is_rendered_as_it_is(network):
    """No mismatch, no alarm: the live object itself is what readers get."""
    news = network.column(network.school_a, "news")
    assert signed_object_for(news) is news
    assert not SecurityEvent.objects.filter(event=ALARM_EVENT).exists()


def test_column_intro_written_by_sql_is_not_printed(client, settings, network):
    news = network.column(network.school_a, "news")
    ColumnPage.objects.filter(pk=news.pk).update(intro=f"<p>栏目说明</p>{SCRIPT}")
    settings.BAKE_SERVE = False
    response = client.get(url_of(news), {"x": 1}, **A_HOST)
    assert response.status_code == 200 and "<script" not in response.content.decode()


@pytest.mark.parametrize("vector", XSS_VECTORS)
def test_rich_text_is_sanitised_again_when_printed(vector):
    """The filter the public templates print rich text with, on markup that never went
    through the sanitiser on save."""
    html = Template("{% load cms_tags %}{{ value|clean_richtext }}").render(
        Context({"value": f"<p>正文</p>{vector}"}))
    lowered = html.lower()
    for dangerous in ("<script", "onerror", "onload", "ontoggle", "onmouseover", "javascript:",
                      "<iframe", "<svg", "<object", "<style", "<math"):
        assert dangerous not in lowered, (vector, html)
    assert "<p>正文</p>" in html


def test_the_article_template_prints_body_rich_text_sanitised(network):
    """The article template itself, given a page whose body was never sanitised (as
    rendering would get it if both the guard and the signed-content check were bypassed)."""
    news = network.column(network.school_a, "news")
    article = make_article(news, "模板")
    tamper_body(article, f'<p data-block-key="k">模板正文</p>{SCRIPT}<img src=x onerror=alert(1)>')
    unsaved = ArticlePage.objects.get(pk=article.pk)  # not through signed_object_for
    request = RequestFactory().get(url_of(article), HTTP_HOST="jia.test")
    response = unsaved.serve(request)
    response.render()
    text = response.content.decode()
    assert "模板正文" in text and "<script" not in text and "onerror" not in text


def test_checking_a_listing_costs_no_query_per_listed_article(client, settings, network):
    """The listed articles' register entries and child rows are read together: a longer
    listing costs no more queries."""
    settings.BAKE_SERVE = False
    news = network.column(network.school_a, "news")

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get(url_of(news), **A_HOST).status_code == 200
        return len(context.captured_queries)

    make_article(news, "第一篇")
    make_article(news, "第二篇")
    two = queries()
    for number in range(4):
        make_article(news, f"更多{number}")
    assert queries() == two


def test_navigation_breadcrumbs_and_footer_show_the_signed_titles(client, settings, network):
    """Every page prints its site's home (title, address) and columns: as they were signed."""
    settings.BAKE_SERVE = False
    news = network.column(network.school_a, "news")
    article = make_article(news, "面包屑")
    home = network.school_a.home_page
    ColumnPage.objects.filter(pk=news.pk).update(title="篡改的栏目")
    Page.objects.filter(pk=home.pk).update(title="篡改的学校")
    SchoolHomePage.objects.filter(pk=home.pk).update(address="篡改的地址")
    for url in (url_of(article), url_of(news), "/"):
        text = client.get(url, **A_HOST).content.decode()
        assert "篡改" not in text, url
        assert news.title in text and home.title in text, url


def test_when_the_signed_revision_was_changed_too_readers_keep_the_baked_file(
        client, settings, network, bake_dir):
    news = network.column(network.school_a, "news")
    article = make_article(news, "原有的文章")
    call_command("bake", "--all", stdout=None, stderr=None)
    before = baked(bake_dir, "jia.test", url_of(article)).read_bytes()
    revision = Revision.objects.get(pk=article.live_revision_id)
    Revision.objects.filter(pk=revision.pk).update(
        content={**revision.content, "title": "篡改的版本"})
    ArticlePage.objects.filter(pk=article.pk).update(title="篡改的版本")

    settings.BAKE_SERVE = False
    response = client.get(url_of(article), {"x": 1}, **A_HOST)
    assert response.status_code == 503 and "篡改" not in response.content.decode()
    listing = client.get(url_of(news), **A_HOST).content.decode()
    assert "篡改" not in listing and "原有的文章" not in listing
    with pytest.raises(CommandError):
        call_command("bake", "--all", stdout=None, stderr=None)
    assert baked(bake_dir, "jia.test", url_of(article)).read_bytes() == before
    settings.BAKE_SERVE = True
    assert client.get(url_of(article), {"x": 1}, **A_HOST).content == before
    event = SecurityEvent.objects.get(event=ALARM_EVENT, subject=f"cms.articlepage:{article.pk}")
    assert "签名批准的版本也已被改动" in event.entry["data"]["reason"]


def test_a_page_shown_as_signed_keeps_its_signed_images_and_tables(client, settings, network):
    """A body written as code or the API writes it (a table without the header choice that
    TableBlock adds when it loads) hashes as published, so no false alarm; and when the
    title is tampered with, the signed revision shown still has its signed images."""
    from io import BytesIO

    from django.core.files.images import ImageFile
    from wagtail.images.models import Image

    from tests.conftest import png_bytes, publish

    image = Image(title="运动会合影", collection=network.school_a.collection)
    image.file.save("photo.png", ImageFile(BytesIO(png_bytes()), name="photo.png"), save=False)
    image.save()
    article = make_article(network.column(network.school_a, "news"), "运动会", live=False)
    article.body = [
        ("image", {"image": image, "alt_text": "高二学生冲线", "decorative": False}),
        ("table", {"data": [["项目", "名次"]], "first_row_is_table_header": True,
                   "first_col_is_header": False}),
    ]
    article.save_revision()
    article = publish(article)
    assert signed_object_for(ArticlePage.objects.get(pk=article.pk)).title == "运动会"
    assert alarms(article) == 0

    ArticlePage.objects.filter(pk=article.pk).update(title="篡改的标题")
    settings.BAKE_SERVE = False
    text = client.get(url_of(article), **A_HOST).content.decode()
    assert "篡改" not in text and 'alt="高二学生冲线"' in text and "项目" in text
    assert alarms(article) == 1


def test_anonymous_api_readers_get_pages_only_as_signed(client, network):
    news = network.column(network.school_a, "news")
    article = make_article(news, "签名批准的标题")
    draft = make_article(news, "未经审批的草稿", live=False)
    ArticlePage.objects.filter(pk=article.pk).update(title="篡改的标题")
    tamper_body(article, f'<p data-block-key="x">篡改的正文</p>{SCRIPT}')
    ArticlePage.objects.filter(pk=draft.pk).update(live=True)

    detail = client.get(f"/api/v3/pages/{article.pk}/", **A_HOST)
    assert detail.status_code == 200
    text = json.dumps(detail.json(), ensure_ascii=False)
    assert detail.json()["title"] == "签名批准的标题" and "篡改" not in text
    assert client.get(f"/api/v3/pages/{draft.pk}/", **A_HOST).status_code == 404
    listed = client.get("/api/v3/pages/", {"type": "cms.ArticlePage", "limit": 100},
                        **A_HOST).json()["items"]
    titles = {item["title"] for item in listed}
    assert "签名批准的标题" in titles and "篡改的标题" not in titles
    assert "未经审批的草稿" not in titles
    listed = client.get("/api/v3/pages/", {"limit": 100}, **A_HOST).json()["items"]
    assert {"篡改的标题", "未经审批的草稿"}.isdisjoint(item["title"] for item in listed)


def test_the_sitemap_lists_no_page_put_online_without_a_publication(client, settings, network):
    news = network.column(network.school_a, "news")
    signed = make_article(news, "已签名的文章")
    draft = make_article(news, "未经审批的草稿", live=False)
    ArticlePage.objects.filter(pk=draft.pk).update(live=True)
    settings.BAKE_SERVE = False
    index = client.get("/sitemap.xml", **A_HOST).content.decode()
    parts = re.findall(r"<loc>http://jia\.test(/sitemap-\d+\.xml)</loc>", index)
    listed = "".join(client.get(part, **A_HOST).content.decode() for part in parts)
    assert url_of(signed) in unquote(listed) and url_of(draft) not in unquote(listed)
