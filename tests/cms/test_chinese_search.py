"""Chinese words inside titles are found (issue 18, finding 7): in the admin's page, document
and image searches, and API v3's ``?search=``, as in the public search — on the database
backend in use (cms.search_backend)."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.cms.test_signed_files import make_image
from tests.conftest import make_article, make_document

A_HOST = {"HTTP_HOST": "jia.test"}


@pytest.fixture
def content(network):
    news = network.column(network.school_a, "news")
    live = make_article(news, "城关中学举行新生开学典礼", live=True)
    draft = make_article(network.column(network.school_a, "teaching"), "七年级读书活动安排",
                         live=False)
    other = make_article(news, "秋季运动会通知", live=True)
    document = make_document(network.school_a, "读书活动安排表")
    image = make_image(network, title="开学典礼合影", name="photo.png")
    call_command("update_index", stdout=io.StringIO(), stderr=io.StringIO())
    return {"live": live, "draft": draft, "other": other, "document": document,
            "image": image}


@pytest.mark.parametrize("query", ["开学", "典礼", "开学典礼", "新生开学"])
def test_the_admin_page_search_finds_words_inside_titles(client, network, content, query):
    client.force_login(network.users["a_administrator"])
    html = client.get(reverse("wagtailadmin_pages:search"), {"q": query}).content.decode()
    assert "城关中学举行新生开学典礼" in html, query
    assert "秋季运动会通知" not in html


def test_the_admin_finds_drafts_documents_and_images_by_chinese_words(client, network,
                                                                       content):
    client.force_login(network.users["a_administrator"])
    pages = client.get(reverse("wagtailadmin_pages:search"), {"q": "读书"}).content.decode()
    assert "七年级读书活动安排" in pages
    documents = client.get(reverse("wagtaildocs:index"), {"q": "活动"}).content.decode()
    assert "读书活动安排表" in documents
    images = client.get(reverse("wagtailimages:index"), {"q": "典礼"}).content.decode()
    assert "开学典礼合影" in images
    nothing = client.get(reverse("wagtaildocs:index"), {"q": "典礼"}).content.decode()
    assert "读书活动安排表" not in nothing


def test_english_queries_still_search_as_before(client, network, content):
    client.force_login(network.users["a_administrator"])
    html = client.get(reverse("wagtaildocs:index"), {"q": "zzz"}).content.decode()
    assert "读书活动安排表" not in html


@pytest.mark.parametrize("query", ["开学", "开学典礼", "典礼"])
def test_the_api_search_finds_words_inside_titles(client, network, content, query):
    data = client.get("/api/v3/pages/", {"search": query}, **A_HOST).json()
    titles = [item["title"] for item in data["items"]]
    assert "城关中学举行新生开学典礼" in titles, (query, data)
    assert "秋季运动会通知" not in titles
