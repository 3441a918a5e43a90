"""Where a public URL's baked file lives: plain functions, no Django.

A site's tree is ``<bake dir>/<site directory>/``; a page at ``/a/b/`` is ``a/b/index.html``,
archive page N (N ≥ 2) of a column's listing, ``/a/b/?page=N``, is ``a/b/index-pageN.html``
(numbered from the oldest: page 2 holds the oldest articles; cms.baking.listing), its feed
``/a/b/feed.xml`` is ``a/b/feed.xml`` (cms.feeds), and the sitemap is ``sitemap.xml`` (an index)
with its parts ``sitemap-N.xml`` (cms.sitemaps).
Wagtail slugs never contain a dot, so file names (which all do) never collide with a child
page's directory.
"""

import re
from pathlib import PurePosixPath
from urllib.parse import parse_qsl

INDEX_FILE = "index.html"
SITEMAP_PATH = "/sitemap.xml"
SITEMAP_FILE = "sitemap.xml"
FEED_FILE = "feed.xml"
# The sitemap's parts: part N lists the site's pages with ids from (N-1)·SITEMAP_PART_IDS to
# N·SITEMAP_PART_IDS - 1, so a new page (the highest id) changes only the newest part, and no
# part reaches the protocol's 50,000 URLs.
SITEMAP_PART_IDS = 5000
_SITEMAP_PART = re.compile(r"^/sitemap-([1-9][0-9]{0,8})\.xml$")
_LISTING_FILE = re.compile(r"^index-page([1-9][0-9]{0,8})\.html$")
_PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,8}")

# Always dynamic: the admin (and its previews), the API, search, downloads, static and media.
DYNAMIC_PREFIXES = ("/admin/", "/api/", "/search/", "/documents/", "/attachments/",
                    "/static/", "/media/", "/django-admin/", "/interaction/")


def site_directory(*, hostname: str, port: int) -> str:
    """The directory of a site's tree: its host name, with the port when it is not a
    standard one (two sites may share a host name on different ports)."""
    hostname = hostname.lower()
    if not hostname or "/" in hostname or hostname.startswith("."):
        raise ValueError(f"not a host name: {hostname!r}")
    return hostname if port in (80, 443) else f"{hostname}_{port}"


def sitemap_part_path(number: int) -> str:
    return f"/sitemap-{number}.xml"


def sitemap_part_of(page_id: int) -> int:
    return page_id // SITEMAP_PART_IDS + 1


def sitemap_part_number(url_path: str) -> int | None:
    """N for ``/sitemap-N.xml``, None for any other path."""
    match = _SITEMAP_PART.match(url_path)
    return int(match.group(1)) if match else None


def is_sitemap(url_path: str) -> bool:
    return url_path == SITEMAP_PATH or sitemap_part_number(url_path) is not None


def listing_file(page_number: int) -> str:
    return INDEX_FILE if page_number == 1 else f"index-page{page_number}.html"


def listing_page_number(filename: str) -> int | None:
    """The page number of a listing file name (1 for index.html), None for other names."""
    if filename == INDEX_FILE:
        return 1
    match = _LISTING_FILE.match(filename)
    return int(match.group(1)) if match else None


def _plain_segments(parts) -> bool:
    """No empty, relative or hidden segment (dot-files are the bake's own)."""
    return not any(part in ("", ".", "..") or part.startswith(".") for part in parts)


def is_dynamic_path(path: str) -> bool:
    return path.startswith(DYNAMIC_PREFIXES)


def file_for_url(*, url_path: str, page_number: int = 1) -> PurePosixPath | None:
    """The file, relative to the site's directory, for a public URL path (decoded, starting
    with "/"); None for a path that is never baked (dynamic, without the trailing slash
    Wagtail's page URLs have, or not a plain path)."""
    if is_sitemap(url_path):
        return PurePosixPath(url_path.lstrip("/")) if page_number == 1 else None
    if url_path.endswith("/" + FEED_FILE):
        folder = file_for_url(url_path=url_path.removesuffix(FEED_FILE))
        return folder.parent / FEED_FILE if folder is not None and page_number == 1 else None
    if (not url_path.startswith("/") or not url_path.endswith("/") or page_number < 1
            or is_dynamic_path(url_path) or "\x00" in url_path or "\\" in url_path):
        return None
    parts = url_path.strip("/").split("/") if url_path != "/" else []
    if not _plain_segments(parts):
        return None
    return PurePosixPath(*parts, listing_file(page_number))


def url_for_file(relative: PurePosixPath) -> tuple[str, int] | None:
    """The public URL path and listing page number a baked file answers (the inverse of
    ``file_for_url``); None for a name a bake never writes."""
    if len(relative.parts) == 1 and is_sitemap(f"/{relative}"):
        return f"/{relative}", 1
    if relative.name == FEED_FILE:
        folder = url_for_file(relative.parent / INDEX_FILE)
        return (folder[0] + FEED_FILE, 1) if folder is not None else None
    page_number = listing_page_number(relative.name)
    folder = relative.parent.parts
    if page_number is None or relative.is_absolute() or not _plain_segments(folder):
        return None
    url_path = "/" + "".join(f"{part}/" for part in folder)
    return (url_path, page_number) if not is_dynamic_path(url_path) else None


def file_for_request(*, path: str, query_string: str) -> PurePosixPath | None:
    """The file answering a GET of ``path?query_string``. Only ``page`` counts: readers get
    the baked file whatever else the query string holds (``?x=1``, tracking tags), so no
    query string makes the application render from the database for them. No ``page``, an
    empty one or ``page=1`` is the first page, ``page=N`` a listing's archive page N; any other
    value of it, or more than one, is left to the application."""
    pages = [value for name, value in parse_qsl(query_string, keep_blank_values=True)
             if name == "page"]
    if len(pages) > 1 or (pages and pages[0] and not _PAGE_NUMBER.fullmatch(pages[0])):
        return None
    page_number = int(pages[0]) if pages and pages[0] else 1
    if page_number > 1 and is_sitemap(path):
        return None
    return file_for_url(url_path=path, page_number=page_number)


def feed_url(page_url: str) -> str:
    return page_url + FEED_FILE


def page_url_of(url_path: str) -> str | None:
    """The URL of the page a public URL belongs to: its own, or its folder's for a feed;
    None for the sitemap (the site's, no page's)."""
    if is_sitemap(url_path):
        return None
    return url_path.removesuffix(FEED_FILE)


def content_type_for(filename: str) -> str:
    if filename == FEED_FILE:
        return "application/rss+xml; charset=utf-8"
    if filename.endswith(".xml"):
        return "application/xml"
    return "text/html; charset=utf-8"
