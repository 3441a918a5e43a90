"""Production: PostgreSQL through DATABASE_URL, secrets from the environment, HTTPS.

TLS ends at nginx (`manage.py nginx_config --tls-certificate … --tls-key …`), which tells
the application the scheme in X-Forwarded-Proto. ``CMS_TLS`` is on unless set to 0: then
the site is reached over plain http (a trial on a closed network) and `check --deploy` says
what that gives up.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403

if not SECRET_KEY:  # noqa: F405
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is not set: production refuses to start without a secret key."
    )
if not ALLOWED_HOSTS:  # noqa: F405
    raise ImproperlyConfigured(
        "DJANGO_ALLOWED_HOSTS is not set: list the portal's and schools' host names, "
        "comma-separated."
    )


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be 1 or 0, not {value!r}.")


DEBUG = False
# The cache holds counts every gunicorn worker and server must share (API-token and
# page-password throttles, public-form rate limits) and the API cache's generation: Django's
# in-memory default is per process, so each worker counted its own ten wrong passwords. Redis
# runs beside every server; CMS_CACHE_BACKEND (with CMS_CACHE_LOCATION) chooses another.
if not os.environ.get("CMS_CACHE_BACKEND"):
    CACHES = {"default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ.get("CMS_CACHE_LOCATION") or "redis://127.0.0.1:6379/1",
    }}
TLS = _flag("CMS_TLS", True)
# nginx overwrites X-Forwarded-Proto on every proxied request (deploy/nginx): trust it.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# nginx on the same machine (deploy/nginx) names the client in X-Forwarded-For (cms.proxy):
# without it, lockouts, throttles and the security log would count nginx as one client.
CMS_TRUSTED_PROXIES = CMS_TRUSTED_PROXIES or ["127.0.0.1", "::1"]  # noqa: F405
# Credentials only over TLS (等保 8.1.4.1), and browsers told to come back only over it.
SECURE_SSL_REDIRECT = TLS
SESSION_COOKIE_SECURE = TLS
CSRF_COOKIE_SECURE = TLS
SECURE_HSTS_SECONDS = int(os.environ.get("CMS_HSTS_SECONDS", 365 * 24 * 3600)) if TLS else 0
# Every school's site is a subdomain of the network's domain, all behind this nginx.
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# Preloading is the domain owner's decision (hstspreload.org, hard to undo): opt in.
SECURE_HSTS_PRELOAD = _flag("CMS_HSTS_PRELOAD", False)
if not SECURE_HSTS_PRELOAD:
    # security.W021 ("SECURE_HSTS_PRELOAD is not True") asks for that decision; it is taken
    # by CMS_HSTS_PRELOAD, not by this code.
    SILENCED_SYSTEM_CHECKS = [*globals().get("SILENCED_SYSTEM_CHECKS", []), "security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
    },
}
