"""Serving baked files in the embedded default (production: nginx serves the same tree).

Early in the chain, an anonymous GET or HEAD of a public path whose baked file exists is
answered from the file — with its SHA-256 as ETag, its mtime as Last-Modified and a
Cache-Control fit for a CDN, 304 to a matching conditional request — without touching
sessions, users or templates. Everything else (the admin and previews, the API, search,
downloads, anything with a session cookie or credentials, any other query string, what is not
baked) falls through to Django and Wagtail as before.
"""

import os

from django.conf import settings
from django.http import HttpResponse
from django.http.request import split_domain_port
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from wagtail.models import Site

from cms.baking import paths
from cms.baking.audience import restricted_file
from cms.baking.engine import bake_root, site_directory_of
from cms.baking.files import sha256_bytes
from cms.baking.render import BAKING_MARK

DEFAULT_CACHE_CONTROL = "public, max-age=0, s-maxage=60, must-revalidate"


_ETAGS: dict[tuple, str] = {}
_ETAGS_MAX = 8192


def _etag(stat: os.stat_result, path: str, data: bytes) -> str:
    """The file's SHA-256, remembered per file identity (a replaced file has a new inode and
    mtime, so it is hashed again). A per-process memo, not shared state."""
    key = (path, stat.st_ino, stat.st_mtime_ns, stat.st_size)
    etag = _ETAGS.get(key)
    if etag is None:
        if len(_ETAGS) >= _ETAGS_MAX:
            _ETAGS.clear()
        etag = _ETAGS[key] = f'"{sha256_bytes(data)}"'
    return etag


def is_anonymous_read(request) -> bool:
    """No session (staff, or a reader who opened a password-protected page) and no
    credentials: such a request may be answered with what every reader gets."""
    return (request.method in ("GET", "HEAD")
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
            and "HTTP_AUTHORIZATION" not in request.META
            and BAKING_MARK not in request.META)


def site_directory_for(request) -> str | None:
    """The directory of the site at the host name and port the reader addressed (the Host
    header's, or the scheme's default port), without a database query: a baked read needs
    none. nginx maps the Host header the same way."""
    hostname, port = split_domain_port(request._get_raw_host())
    try:
        port = int(port) if port else (443 if request.is_secure() else 80)
        return paths.site_directory(hostname=hostname, port=port)
    except ValueError:  # no usable host name or port
        return None


class BakedFileMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if getattr(settings, "BAKE_SERVE", True) and is_anonymous_read(request):
            response = self.serve_baked(request)
            if response is not None:
                return response
        return self.get_response(request)

    @staticmethod
    def read(directory: str | None, relative) -> tuple | None:
        if directory is None:
            return None
        path = bake_root() / directory / relative
        try:
            with open(path, "rb") as handle:
                return path, os.fstat(handle.fileno()), handle.read()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    def serve_baked(self, request) -> HttpResponse | None:
        relative = paths.file_for_request(path=request.path,
                                          query_string=request.META.get("QUERY_STRING", ""))
        if relative is None:
            return None
        found = self.read(site_directory_for(request), relative)
        if found is None:
            # Not under the exact host and port: ask Wagtail which site answers (another
            # port of the host name, or the default site), a database query.
            site = Site.find_for_request(request)
            if site is None:
                return None
            found = self.read(site_directory_of(site), relative)
            if found is None:
                return None
        path, stat, data = found
        root = bake_root()
        if restricted_file(root=root, site=path.relative_to(root).parts[0], relative=relative):
            return None  # Wagtail asks for the password or a login
        etag = _etag(stat, str(path), data)
        response = HttpResponse(b"" if request.method == "HEAD" else data,
                                content_type=paths.content_type_for(relative.name))
        response.headers["Content-Length"] = str(len(data))
        response.headers["ETag"] = etag
        response.headers["Last-Modified"] = http_date(int(stat.st_mtime))
        response.headers["Cache-Control"] = getattr(settings, "BAKE_CACHE_CONTROL",
                                                    DEFAULT_CACHE_CONTROL)
        response.headers["Content-Language"] = settings.LANGUAGE_CODE
        # This response skips the inner middleware: keep the framing protection it adds.
        response.headers["X-Frame-Options"] = getattr(settings, "X_FRAME_OPTIONS", "DENY")
        response.headers["X-Baked"] = "1"
        return get_conditional_response(request, etag=etag, last_modified=int(stat.st_mtime),
                                        response=response)
