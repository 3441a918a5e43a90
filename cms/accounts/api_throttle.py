"""Throttling API v3 bearer tokens (等保 8.1.4.1): an address that sends too many tokens
that do not authenticate is refused for a while, before any token is looked up, so tokens
cannot be guessed at speed. Counts live in a cache that every server shares (Redis where
several run). Optionally, each token is limited to so many requests a window.

Wagtail's ``BearerTokenAuth`` is built into its API routers, so the count is kept around
the view: after it, a presented token that did not authenticate counts against the address.
"""

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import caches
from wagtail.api.v3.errors import problem_response
from wagtail.models import APIToken

from review.register.security import client_address, record_security_event

API_PREFIX = "/api/"
PREFIX = "cms:api-token"


def bearer_token(header: str) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, as API v3 reads it."""
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()


def token_authenticates(token: str) -> bool:
    """Whether API v3 would take ``token``: an unrevoked token of an active user."""
    if not token:
        return False
    found = APIToken.objects.select_related("user").filter(
        key_hash__in=APIToken.candidate_key_hashes(token), revoked_at__isnull=True).first()
    return found is not None and found.user.is_active


def count(cache, key: str, *, window: int) -> int:
    """Add one to the count at ``key``, which starts at the first and lasts ``window``
    seconds (atomic where the cache's increment is: Redis, Django's local memory)."""
    if cache.add(key, 1, timeout=window):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.add(key, 1, timeout=window)
        return 1


def _cache():
    return caches[getattr(settings, "CMS_THROTTLE_CACHE", "default")]


def seconds_blocked(*, prefix: str, address: str, now: float) -> int:
    """Seconds until ``address`` is let through again by the throttle at ``prefix`` (0: it
    is)."""
    until = _cache().get(f"{prefix}:blocked:{address}")
    return max(0, math.ceil(until - now)) if until else 0


def count_failure(*, prefix: str, address: str, now: float, limit: int, window: int) -> bool:
    """Count one failure of ``address`` at ``prefix``; True when it reached ``limit`` within
    ``window`` seconds and the address is now blocked for the window."""
    failures = count(_cache(), f"{prefix}:failures:{address}", window=window)
    if failures < limit:
        return False
    _cache().set(f"{prefix}:blocked:{address}", now + window, timeout=window)
    _cache().delete(f"{prefix}:failures:{address}")
    return True


def blocked_for(address: str, *, now: float) -> int:
    """Seconds until ``address`` may present tokens again (0: it may)."""
    return seconds_blocked(prefix=PREFIX, address=address, now=now)


def note_failure(address: str, *, now: float) -> bool:
    """Count a token that did not authenticate; True when this one reached the limit and
    the address is now refused for the window."""
    return count_failure(prefix=PREFIX, address=address, now=now,
                         limit=settings.CMS_API_TOKEN_FAILURE_LIMIT,
                         window=settings.CMS_API_TOKEN_FAILURE_WINDOW)


def over_rate(token: str) -> bool:
    """Whether ``token`` has made more requests this window than ``CMS_API_TOKEN_RATE_LIMIT``
    (off when unset). Keyed by a digest: the cache never holds a token."""
    limit = getattr(settings, "CMS_API_TOKEN_RATE_LIMIT", None)
    if not limit:
        return False
    digest = hashlib.sha256(token.encode()).hexdigest()[:32]
    requests = count(_cache(), f"{PREFIX}:rate:{digest}",
                     window=settings.CMS_API_TOKEN_FAILURE_WINDOW)
    return requests > limit


def too_many(*, retry_after: int, detail: str):
    response = problem_response(status=429, title="请求过于频繁", detail=detail)
    response["Retry-After"] = str(retry_after)
    return response


class ApiTokenThrottleMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        token = bearer_token(header) if header else None
        if token is None or not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        address = client_address(request)
        wait = blocked_for(address, now=time.time())
        if wait:
            return too_many(retry_after=wait, detail=(
                f"API 令牌验证失败次数过多，本地址已被暂停使用令牌，请 {wait} 秒后重试。"))
        if over_rate(token):
            window = settings.CMS_API_TOKEN_FAILURE_WINDOW
            return too_many(retry_after=window, detail=(
                f"该 API 令牌请求过于频繁，请 {window} 秒后重试。"))
        response = self.get_response(request)
        authenticated = isinstance(getattr(request, "auth", None), APIToken)
        if not authenticated and not token_authenticates(token) \
                and note_failure(address, now=time.time()):
            record_security_event(
                event="api_throttled", subject=f"address:{address}", address=address,
                data={"failures": settings.CMS_API_TOKEN_FAILURE_LIMIT,
                      "seconds": settings.CMS_API_TOKEN_FAILURE_WINDOW})
        return response
