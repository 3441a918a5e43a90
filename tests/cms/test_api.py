"""The headless API (Wagtail API v3 at /api/v3/): project fields, docs, live content only."""

import pytest
from wagtail.models import PageViewRestriction

from tests.conftest import make_article, make_document

A_HOST = {"HTTP_HOST": "jia.test"}


@pytest.fixture
def notice(network):
    document = make_document(network.school_a, "校历", content=b"%PDF-1.4 x", filename="xl.pdf")
    return make_article(network.column(network.school_a, "notices"), "校历发布",
                        attachments=[document])


def test_openapi_document_describes_the_project_fields(client, db):
    response = client.get("/api/v3/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    text = response.content.decode()
    assert schema["openapi"].startswith("3.")
    for field in ("kind", "update_interval_days", "attachments",
                  "source", "date", "body"):
        assert f'"{field}"' in text, field


def test_docs_are_served_without_a_cdn(client, db):
    response = client.get("/api/v3/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/api/v3/openapi.json" in page
    assert "cdn." not in page and "unpkg" not in page


def test_article_detail_exposes_fields_and_attachment_urls(client, network, notice):
    data = client.get(f"/api/v3/pages/{notice.pk}/", **A_HOST).json()
    assert data["title"] == "校历发布"
    assert data["date"] == notice.date.isoformat()
    assert data["body"][0]["type"] == "paragraph"
    [attachment] = data["attachments"]
    assert attachment["filename"] == "xl.pdf" and attachment["file_size"] == 10
    assert attachment["url"].startswith("http://jia.test/attachments/")
    download = client.get(attachment["url"].removeprefix("http://jia.test"), **A_HOST)
    assert b"".join(download.streaming_content) == b"%PDF-1.4 x"


def test_column_detail_exposes_kind_and_update_interval(client, network):
    column = network.column(network.school_a, "news")
    data = client.get(f"/api/v3/pages/{column.pk}/", **A_HOST).json()
    assert (data["kind"], data["kind_label"], data["update_interval_days"]) == ("news", "动态要闻",
                                                                                14)


def test_anonymous_listing_is_live_public_content_of_the_requested_site(client, network, notice):
    private = make_article(network.column(network.school_a, "news"), "内部通知")
    PageViewRestriction.objects.create(page=private, restriction_type="login")
    draft = make_article(network.column(network.school_a, "news"), "草稿", live=False)
    other = make_article(network.column(network.school_b, "news"), "乙校新闻")

    ids = {item["id"] for item in
           client.get("/api/v3/pages/?limit=100", **A_HOST).json()["items"]}
    assert notice.pk in ids
    assert private.pk not in ids and draft.pk not in ids and other.pk not in ids
    assert client.get(f"/api/v3/pages/{private.pk}/", **A_HOST).status_code == 404
    assert client.get(f"/api/v3/pages/{draft.pk}/", **A_HOST).status_code == 404


def test_index_links_to_the_openapi_document_and_docs(client, db):
    response = client.get("/api/v3/")
    assert response.status_code == 200
    index = response.json()
    assert index["openapi"].endswith("/api/v3/openapi.json")
    assert index["docs"].endswith("/api/v3/docs/")
    assert index["endpoints"]["pages"].endswith("/api/v3/pages/")


def test_openapi_document_lists_the_problems_answered(client, db):
    schema = client.get("/api/v3/openapi.json").json()
    create = schema["paths"]["/api/v3/pages/"]["post"]["responses"]
    assert {"201", "401", "403", "413", "422"} <= set(create)
    assert "application/problem+json" in create["422"]["content"]
    assert "ProblemDetail" in schema["components"]["schemas"]
