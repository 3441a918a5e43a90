"""The embedded server answers anonymous reads of baked pages from the files."""

import hashlib

import pytest
from django.core.management import call_command

from tests.baking.conftest import baked, baked_build, copy_of, url_of
from tests.conftest import make_article

A_HOST = {"HTTP_HOST": "jia.test"}


def _site(network):
    news = network.column(network.school_a, "news")
    return news, make_article(news, "已静态化的文章")


_site_build = baked_build(_site)


@pytest.fixture
def site_baked(_site_build, network, bake_dir):
    return copy_of(_site_build, bake_dir)


def test_anonymous_reader_gets_the_file_with_validators(client, site_baked, bake_dir):
    _, article = site_baked
    path = baked(bake_dir, "jia.test", url_of(article))
    response = client.get(url_of(article), **A_HOST)
    assert response.status_code == 200 and response["X-Baked"] == "1"
    assert response.content == path.read_bytes()
    assert response["ETag"] == f'"{hashlib.sha256(path.read_bytes()).hexdigest()}"'
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert "Last-Modified" in response and "max-age" in response["Cache-Control"]
    assert response["X-Frame-Options"] == "DENY"


def test_a_baked_read_needs_no_database_query(client, site_baked, django_assert_num_queries):
    _, article = site_baked
    with django_assert_num_queries(0):
        response = client.get(url_of(article), **A_HOST)
        # Behind a proxy the server's own port differs: the Host header is what counts.
        behind_proxy = client.get(url_of(article), HTTP_HOST="jia.test", SERVER_PORT="8000")
    assert response["X-Baked"] == "1" and behind_proxy["X-Baked"] == "1"


def test_a_site_reached_by_another_name_is_served_its_files(client, network, site_baked):
    # No directory for this host name: Wagtail's default site (the portal) answers, as it
    # does for dynamic rendering, and its baked home page is served.
    response = client.get("/", HTTP_HOST="127.0.0.1")
    assert response["X-Baked"] == "1"
    assert network.portal.home_page.title.encode() in response.content


def test_the_file_is_what_is_served_even_when_it_differs_from_the_database(
        client, site_baked, bake_dir):
    _, article = site_baked
    baked(bake_dir, "jia.test", url_of(article)).write_bytes(b"<p>from the file</p>")
    assert client.get(url_of(article), **A_HOST).content == b"<p>from the file</p>"


def test_conditional_requests_get_304(client, site_baked):
    _, article = site_baked
    first = client.get(url_of(article), **A_HOST)
    again = client.get(url_of(article), HTTP_IF_NONE_MATCH=first["ETag"], **A_HOST)
    assert again.status_code == 304 and again.content == b""
    since = client.get(url_of(article), HTTP_IF_MODIFIED_SINCE=first["Last-Modified"],
                       **A_HOST)
    assert since.status_code == 304
    other = client.get(url_of(article), HTTP_IF_NONE_MATCH='"different"', **A_HOST)
    assert other.status_code == 200


def test_head_gets_headers_without_a_body(client, site_baked, bake_dir):
    _, article = site_baked
    response = client.head(url_of(article), **A_HOST)
    assert response.status_code == 200 and response.content == b""
    assert int(response["Content-Length"]) == len(
        baked(bake_dir, "jia.test", url_of(article)).read_bytes())


def test_pagination_and_sitemap_are_served_from_files(client, network, bake_dir, small_pages):
    news = network.column(network.school_a, "news")
    for number in range(3):
        make_article(news, f"文章{number}")
    call_command("bake", "--all", stdout=None, stderr=None)
    second = client.get(url_of(news), {"page": 2}, **A_HOST)
    assert second["X-Baked"] == "1"
    assert second.content == baked(bake_dir, "jia.test", url_of(news), 2).read_bytes()
    sitemap = client.get("/sitemap.xml", **A_HOST)
    assert sitemap["X-Baked"] == "1" and sitemap["Content-Type"] == "application/xml"
    # Other arguments are ignored: the reader gets the file all the same.
    other = client.get(url_of(news), {"page": 2, "x": 1}, **A_HOST)
    assert other["X-Baked"] == "1" and other.content == second.content
    assert "X-Baked" not in client.get(url_of(news), {"page": "02"}, **A_HOST)


def test_staff_with_a_session_get_dynamic_rendering(client, network, site_baked, bake_dir):
    _, article = site_baked
    baked(bake_dir, "jia.test", url_of(article)).write_bytes(b"<p>from the file</p>")
    client.force_login(network.users["a_administrator"])
    response = client.get(url_of(article), **A_HOST)
    assert response.status_code == 200 and "X-Baked" not in response
    assert "已静态化的文章" in response.content.decode()


def test_credentials_and_other_methods_are_never_served_files(client, site_baked):
    _, article = site_baked
    assert "X-Baked" not in client.get(url_of(article), HTTP_AUTHORIZATION="Bearer x",
                                       **A_HOST)
    assert "X-Baked" not in client.post(url_of(article), **A_HOST)


def test_dynamic_paths_are_never_served_from_the_tree(client, site_baked, bake_dir):
    for planted in ("search", "admin", "api/v3/pages"):
        path = bake_dir / "jia.test" / planted / "index.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"planted")
    assert client.get("/search/", {"q": ""}, **A_HOST).content != b"planted"
    assert client.get("/search/", **A_HOST).content != b"planted"
    assert client.get("/admin/", **A_HOST).content != b"planted"
    assert client.get("/api/v3/pages/", **A_HOST).content != b"planted"


def test_what_is_not_baked_falls_through_to_dynamic_rendering(client, network, bake_dir):
    news = network.column(network.school_a, "news")
    article = make_article(news, "还没有静态化")
    response = client.get(url_of(article), **A_HOST)
    assert response.status_code == 200 and "X-Baked" not in response
    assert "还没有静态化" in response.content.decode()


def test_serving_can_be_switched_off(client, settings, site_baked):
    settings.BAKE_SERVE = False
    _, article = site_baked
    assert "X-Baked" not in client.get(url_of(article), **A_HOST)
