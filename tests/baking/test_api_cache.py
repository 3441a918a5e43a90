"""API v3 anonymous reads are cached, answer If-None-Match with 304, and are invalidated by
publication events; drafts never reach the cache and authenticated requests bypass it."""

from wagtail.models import APIToken

from tests.conftest import make_article, publish_via_workflow

A_HOST = {"HTTP_HOST": "jia.test"}
LISTING = "/api/v3/pages/"


def titles(response) -> set[str]:
    return {item["title"] for item in response.json()["items"]}


def test_second_anonymous_read_is_a_hit_with_the_same_bytes(client, network, news):
    make_article(news, "缓存的文章")
    first = client.get(LISTING, **A_HOST)
    second = client.get(LISTING, **A_HOST)
    assert (first["X-Api-Cache"], second["X-Api-Cache"]) == ("miss", "hit")
    assert first.content == second.content and first["ETag"] == second["ETag"]
    assert second["Content-Type"] == first["Content-Type"]
    assert "缓存的文章" in titles(second)


def test_if_none_match_gets_304(client, network):
    etag = client.get(LISTING, **A_HOST)["ETag"]
    response = client.get(LISTING, HTTP_IF_NONE_MATCH=etag, **A_HOST)
    assert response.status_code == 304 and response.content == b""


def test_entries_are_per_host_and_query(client, network):
    client.get(LISTING, **A_HOST)
    assert client.get(LISTING, HTTP_HOST="yi.test")["X-Api-Cache"] == "miss"
    assert client.get(LISTING, {"limit": 1}, **A_HOST)["X-Api-Cache"] == "miss"


def test_a_publication_invalidates_cached_reads(client, network, news,
                                                django_capture_on_commit_callbacks):
    assert "新批准的文章" not in titles(client.get(LISTING, **A_HOST))
    assert client.get(LISTING, **A_HOST)["X-Api-Cache"] == "hit"
    with django_capture_on_commit_callbacks(execute=True):
        publish_via_workflow(make_article(news, "新批准的文章", live=False))
    response = client.get(LISTING, **A_HOST)
    assert response["X-Api-Cache"] == "miss"
    assert "新批准的文章" in titles(response)


def test_drafts_never_enter_the_anonymous_cache(client, network, news):
    draft = make_article(news, "草稿", live=False)
    client.get(LISTING, **A_HOST)
    assert "草稿" not in titles(client.get(LISTING, **A_HOST))
    assert client.get(f"/api/v3/pages/{draft.pk}/", **A_HOST).status_code == 404


def test_token_and_session_requests_bypass_the_cache(client, network, news):
    make_article(news, "草稿", live=False)
    client.get(LISTING, **A_HOST)  # anonymous, cached
    user = network.users["a_administrator"]
    _, token = APIToken.create_token(user=user, name="测试")
    with_token = client.get(LISTING, HTTP_AUTHORIZATION=f"Bearer {token}", **A_HOST)
    assert with_token.status_code == 200 and "X-Api-Cache" not in with_token
    assert "草稿" in titles(with_token)  # the staff view, which must never be cached
    assert "草稿" not in titles(client.get(LISTING, **A_HOST))
    client.force_login(user)
    assert "X-Api-Cache" not in client.get(LISTING, **A_HOST)
