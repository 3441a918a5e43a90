"""URL → file mapping of the baked tree: plain functions, no database."""

from pathlib import PurePosixPath

import pytest

from cms.baking import paths


@pytest.mark.parametrize(("url_path", "page_number", "expected"), [
    ("/", 1, "index.html"),
    ("/news/", 1, "news/index.html"),
    ("/news/a-1/", 1, "news/a-1/index.html"),
    ("/news/", 3, "news/index-page3.html"),
    ("/教学园地/文章/", 1, "教学园地/文章/index.html"),
    ("/sitemap.xml", 1, "sitemap.xml"),
    ("/sitemap-12.xml", 1, "sitemap-12.xml"),
])
def test_public_urls_map_to_files_in_the_site_directory(url_path, page_number, expected):
    assert paths.file_for_url(url_path=url_path, page_number=page_number) \
        == PurePosixPath(expected)


@pytest.mark.parametrize("url_path", [
    "/news",  # Wagtail's page URLs end with a slash; without it is a redirect
    "/admin/", "/admin/pages/3/edit/", "/api/v3/pages/", "/search/", "/documents/1/x.pdf",
    "/attachments/1/x.pdf/", "/static/css/", "/media/images/",
    "/../etc/", "/news/../../", "/./", "/news//x/", "/.hidden/", "relative/", "/a\\b/",
    "/a\x00/",
])
def test_dynamic_and_unsafe_paths_have_no_file(url_path):
    assert paths.file_for_url(url_path=url_path) is None


def test_only_the_page_argument_selects_the_file_whatever_else_the_query_holds():
    def mapped(query):
        return paths.file_for_request(path="/news/", query_string=query)

    for query in ("", "page=1", "page=", "q=1", "utm=1", "x=1&y=<script>", "page=1&x=1"):
        assert mapped(query) == PurePosixPath("news/index.html"), query
    assert mapped("page=12") == PurePosixPath("news/index-page12.html")
    assert mapped("page=2&q=1") == mapped("x=1&page=2") == PurePosixPath("news/index-page2.html")
    # A page number the pagination never writes, or two of them: the application answers.
    for query in ("page=0", "page=-1", "page=x", "page=02", "page=2%0A", "page=2&page=3"):
        assert mapped(query) is None, query
    assert paths.file_for_request(path="/sitemap.xml", query_string="page=2") is None
    assert paths.file_for_request(path="/sitemap-3.xml", query_string="page=2") is None
    for name in ("/sitemap-0.xml", "/sitemap-03.xml", "/sitemap-x.xml", "/news/sitemap-1.xml"):
        assert paths.sitemap_part_number(name) is None


def test_listing_file_names_round_trip_and_never_look_like_a_slug():
    for number in (1, 2, 37):
        name = paths.listing_file(number)
        assert paths.listing_page_number(name) == number
        assert "." in name  # Wagtail slugs have no dot: no child page can have this name
    assert paths.listing_page_number("sitemap.xml") is None
    assert paths.listing_page_number(".bake-x.tmp") is None


def test_site_directory_is_the_host_name_with_a_non_standard_port():
    assert paths.site_directory(hostname="Jia.Test", port=80) == "jia.test"
    assert paths.site_directory(hostname="jia.test", port=443) == "jia.test"
    assert paths.site_directory(hostname="localhost", port=8000) == "localhost_8000"
    for bad in ("", "../x", ".hidden", "a/b"):
        with pytest.raises(ValueError):
            paths.site_directory(hostname=bad, port=80)


def test_content_types_follow_the_file_kind():
    assert paths.content_type_for("index.html") == "text/html; charset=utf-8"
    assert paths.content_type_for("sitemap.xml") == "application/xml"
