"""The public website: live content only, per site, accessible markup."""

import datetime

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from wagtail.models import PageViewRestriction

from cms.baking.listing import ARTICLES_PER_PAGE
from cms.columns import ColumnKind
from cms.models import ColumnPage
from tests.conftest import make_article, make_document, publish

A_HOST = {"HTTP_HOST": "jia.test"}
B_HOST = {"HTTP_HOST": "yi.test"}


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.fixture
def articles(network):
    news = network.column(network.school_a, "news")
    return {
        "live": make_article(news, "甲中学举行新生开学典礼", date=datetime.date(2026, 9, 1)),
        "draft": make_article(news, "甲中学尚未审批的草稿", live=False),
        "b_live": make_article(network.column(network.school_b, "news"), "乙中学秋季运动会"),
    }


def test_portal_lists_schools_and_the_networks_latest_news(client, network, articles):
    page = html(client.get("/", HTTP_HOST="portal.test"))
    assert 'lang="zh-CN"' in page
    assert "甲中学" in page and "乙中学" in page
    assert "甲中学举行新生开学典礼" in page and "乙中学秋季运动会" in page
    assert "甲中学尚未审批的草稿" not in page


def test_school_home_shows_latest_items_per_column(client, network, articles):
    page = html(client.get("/", **A_HOST))
    assert "甲中学举行新生开学典礼" in page
    assert "乙中学秋季运动会" not in page  # another site's content
    assert "甲中学尚未审批的草稿" not in page
    for title in ("学校概况", "校园动态", "通知公告", "教学园地", "教研教改", "教学资源"):
        assert title in page
    assert 'href="#main"' in page and '<nav class="site-nav" aria-label="栏目导航">' in page


def test_column_listing_is_paginated_newest_first(client, network):
    notices = network.column(network.school_a, "notices")
    for day in range(1, ARTICLES_PER_PAGE + 6):
        make_article(notices, f"第{day}号通知", date=datetime.date(2026, 1, day), slug=f"n{day}")
    first = html(client.get("/notices/", **A_HOST))
    assert "第25号通知" in first and "第6号通知" in first and "第5号通知" not in first
    assert first.index("第25号通知") < first.index("第24号通知")
    assert 'href="?page=2"' in first  # the oldest archive page
    # Archive pages are numbered from the oldest (cms.baking.listing): page 2 holds the
    # oldest twenty, page 3 the newest five; each newest first.
    second = html(client.get("/notices/?page=2", **A_HOST))
    assert "第1号通知" in second and "第20号通知" in second and "第21号通知" not in second
    assert second.index("第20号通知") < second.index("第1号通知")
    assert 'href="?page=3" rel="prev"' in second and 'rel="next"' not in second
    third = html(client.get("/notices/?page=3", **A_HOST))
    assert "第21号通知" in third and "第25号通知" in third and "第20号通知" not in third
    assert 'href="?page=2" rel="next"' in third
    # Out-of-range and junk page numbers fall back instead of failing.
    assert html(client.get("/notices/?page=99", **A_HOST)) == third
    assert "第25号通知" in html(client.get("/notices/?page=abc", **A_HOST))


def test_article_page_with_attachment_downloads_only_while_live(client, network):
    document = make_document(network.school_a, "校历", content=b"%PDF-1.4 calendar",
                             filename="xiaoli.pdf")
    article = make_article(network.column(network.school_a, "notices"), "2026年秋季学期校历",
                           attachments=[document])
    page = html(client.get(article.url, **A_HOST))
    attachment = article.attachments.get()
    link = reverse("attachment", args=[attachment.pk, "xiaoli.pdf"])
    assert link in page and "发布日期" in page
    download = client.get(link, **A_HOST)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 calendar"
    assert client.get(reverse("attachment", args=[attachment.pk, "other.pdf"])).status_code == 404

    article.unpublish()
    assert client.get(link, **A_HOST).status_code == 404


def test_drafts_and_private_pages_are_never_served(client, network, articles):
    assert client.get(articles["draft"].url, **A_HOST).status_code == 404
    listing = html(client.get("/news/", **A_HOST))
    assert "甲中学尚未审批的草稿" not in listing
    # Restricting a live page takes it down (issue 17: the audience is signed) ...
    PageViewRestriction.objects.create(page=articles["live"], restriction_type="login")
    assert client.get(articles["live"].url, **A_HOST).status_code == 404
    # ... and approved again with its restriction, it asks readers to log in.
    publish(articles["live"])
    assert client.get(articles["live"].url, **A_HOST).status_code == 302
    assert "甲中学举行新生开学典礼" not in html(client.get("/news/", **A_HOST))


def test_search_finds_chinese_substrings_in_live_pages_of_this_site_only(client, network,
                                                                          articles):
    page = html(client.get("/search/", {"q": "开学典礼"}, **A_HOST))
    assert "甲中学举行新生开学典礼" in page
    assert "甲中学尚未审批的草稿" not in html(client.get("/search/", {"q": "尚未审批"}, **A_HOST))
    assert "乙中学秋季运动会" not in html(client.get("/search/", {"q": "运动会"}, **A_HOST))
    assert "乙中学秋季运动会" in html(client.get("/search/", {"q": "运动会"}, **B_HOST))
    assert "没有找到" in html(client.get("/search/", {"q": "火星探测"}, **A_HOST))
    assert "请输入" in html(client.get("/search/", **A_HOST))


def test_sitemap_lists_live_pages_of_the_site(client, network, articles):
    # /sitemap.xml is an index of the site's parts (cms.sitemaps); test pages are in part 1.
    index = html(client.get("/sitemap.xml", **A_HOST))
    assert "<sitemapindex" in index and "<loc>http://jia.test/sitemap-1.xml</loc>" in index
    assert "sitemap-2.xml" not in index
    sitemap = html(client.get("/sitemap-1.xml", **A_HOST))
    assert articles["live"].full_url in sitemap
    assert articles["draft"].slug not in sitemap
    assert "yi.test" not in sitemap
    assert client.get("/sitemap-2.xml", **A_HOST).status_code == 404
    assert client.get("/sitemap-0.xml", **A_HOST).status_code == 404


def test_not_found_page_is_the_sites_own(client, network):
    response = client.get("/no-such-page/", **A_HOST)
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_server_error_page_renders_without_context():
    page = render_to_string("500.html")
    assert 'lang="zh-CN"' in page and "500" in page


def test_link_column_redirects_to_the_other_site(client, network):
    home = network.school_a.home_page
    link = home.add_child(instance=ColumnPage(title="县教育局", slug="bureau", live=False,
                                              kind=ColumnKind.LINK,
                                              link_url="https://edu.example.gov.cn/"))
    publish(link)
    response = client.get("/bureau/", **A_HOST)
    assert response.status_code == 302 and response["Location"] == "https://edu.example.gov.cn/"
    assert 'href="https://edu.example.gov.cn/"' in html(client.get("/", **A_HOST))


def test_link_column_requires_an_address_and_others_refuse_one(network):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="链接地址"):
        ColumnPage(title="链接", slug="l", kind=ColumnKind.LINK).clean()
    with pytest.raises(ValidationError, match="链接地址"):
        ColumnPage(title="新闻", slug="n", kind=ColumnKind.NEWS, link_url="https://x.cn/").clean()


def test_columns_have_one_level_of_sub_columns(network):
    news = network.column(network.school_a, "news")
    assert ColumnPage.can_create_at(network.school_a.home_page)
    assert ColumnPage.can_create_at(news)
    sub = news.add_child(instance=ColumnPage(title="班级动态", slug="classes", live=False))
    assert not ColumnPage.can_create_at(sub)


def test_body_images_carry_their_alt_text_and_tables_render(client, network):
    from io import BytesIO

    from django.core.files.images import ImageFile
    from wagtail.images.models import Image

    from tests.conftest import png_bytes

    image = Image(title="运动会合影", collection=network.school_a.collection)
    image.file.save("photo.png", ImageFile(BytesIO(png_bytes()), name="photo.png"), save=False)
    image.save()
    article = make_article(network.column(network.school_a, "news"), "运动会", live=False)
    article.body = [
        ("image", {"image": image, "alt_text": "高二学生在百米决赛冲线", "decorative": False}),
        ("table", {"data": [["项目", "名次"], ["1500米", "第一"]],
                   "first_row_is_table_header": True, "first_col_is_header": False}),
    ]
    article.save_revision()
    publish(article)
    page = html(client.get(article.url, **A_HOST))
    assert 'alt="高二学生在百米决赛冲线"' in page
    assert "<table" in page and "1500米" in page


def test_favicon_is_served(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.ico")
    from django.contrib.staticfiles import finders

    with open(finders.find("favicon.ico"), "rb") as icon:
        assert icon.read(4) == b"\x00\x00\x01\x00"  # an ICO file


def test_the_meta_line_may_wrap_on_a_narrow_screen():
    """``.meta { white-space: nowrap }`` made the article's meta line overflow 390 px."""
    from django.contrib.staticfiles import finders

    with open(finders.find("css/site.css"), encoding="utf-8") as css:
        rules = css.read()
    assert "p.meta { display: flex; flex-wrap: wrap" in rules
    assert not any(line.startswith((".meta {", ".article-list time, .meta {"))
                   and "nowrap" in line for line in rules.splitlines())


def test_development_shows_the_sites_own_404(client, network, settings):
    """With DEBUG on (./dev.sh), Django would answer with its English debug page."""
    settings.DEBUG = True
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "cms.not_found.SiteNotFoundMiddleware"]
    response = client.get("/no-such-page/", HTTP_HOST="jia.test")
    assert response.status_code == 404
    page = response.content.decode()
    assert "页面不存在" in page and "Page not found" not in page
