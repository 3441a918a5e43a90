"""Cached API v3 reads of live content, with ETag and 304.

Only anonymous GETs are cached — no bearer token, no session cookie — which API v3 scopes to
live, public content of the requested site (``wagtail.api.v3.querysets``): drafts never enter
the cache, and token or staff requests always reach the view. Entries are keyed by scheme,
host, path and query, and by a generation that every publication event changes: the
publication register's head (sequence number and chained hash, in the database, so it changes
at commit for every process and server) and a counter in the cache bumped on commit of any
publication event or site change (``signals``). Old entries are never read again and expire.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from django.utils.cache import get_conditional_response, patch_vary_headers

from cms.baking.files import sha256_bytes
from cms.baking.middleware import is_anonymous_read
from review.models import RegisterHead

API_PREFIX = "/api/"
GENERATION_KEY = "cms:api:generation"
DEFAULT_SECONDS = 300
_SKIPPED_HEADERS = {"set-cookie", "etag", "content-length"}


def invalidate() -> None:
    """Make every cached API read stale (on commit of a publication event)."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # not set yet (or evicted): any new value differs from before
        cache.set(GENERATION_KEY, 1, timeout=None)


def generation() -> str:
    # The register head's hash names the whole publication history, not just its length.
    # Plain SQL: building the ORM query cost more than the rest of a cache hit together.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT seq, entry_hash FROM {RegisterHead._meta.db_table} "
                       "WHERE id = 1")
        head = cursor.fetchone()
    return f"{head}.{cache.get(GENERATION_KEY, 0)}"


def cache_key(request) -> str:
    raw = "\n".join((generation(), request.scheme, request.get_host(),
                     request.get_full_path()))
    return "cms:api:" + hashlib.sha256(raw.encode()).hexdigest()


def _cacheable(response) -> bool:
    return (response.status_code == 200 and not response.streaming and not response.cookies
            and "private" not in response.get("Cache-Control", "")
            and "no-store" not in response.get("Cache-Control", ""))


class ApiCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (not getattr(settings, "API_CACHE_ENABLED", True) or request.method != "GET"
                or not request.path.startswith(API_PREFIX) or not is_anonymous_read(request)):
            return self.get_response(request)
        key = cache_key(request)
        cached = cache.get(key)
        if cached is None:
            response = self.get_response(request)
            if not _cacheable(response):
                return response
            etag = f'"{sha256_bytes(response.content)}"'
            headers = [(name, value) for name, value in response.items()
                       if name.lower() not in _SKIPPED_HEADERS]
            cache.set(key, (response.status_code, response.content, headers, etag),
                      getattr(settings, "API_CACHE_SECONDS", DEFAULT_SECONDS))
            response.headers["X-Api-Cache"] = "miss"
        else:
            status, content, headers, etag = cached
            response = HttpResponse(content, status=status)
            for name, value in headers:
                response.headers[name] = value
            response.headers["X-Api-Cache"] = "hit"
        response.headers["ETag"] = etag
        # Browsers revalidate (cheap: 304); shared caches must not hand an anonymous answer
        # to a request with a token or a session.
        response.headers["Cache-Control"] = "no-cache"
        patch_vary_headers(response, ("Authorization", "Cookie"))
        return get_conditional_response(request, etag=etag, response=response)
