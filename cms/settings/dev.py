"""Local development: the embedded default (SQLite and files under CMS_DATA_DIR)."""

from .base import *  # noqa: F403

DEBUG = True
SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-do-not-use-in-production"  # noqa: F405
# School sites are served as <slug>.localhost, which browsers resolve to 127.0.0.1.
ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", ".localhost", "testserver"]  # noqa: F405
# Mail goes to files, one per message, under var/mail: printed to the console, the demo's
# first build (every workflow step e-mails someone) buried the accounts table under some
# 6,500 lines of it.
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = DATA_DIR / "mail"  # noqa: F405
# The demo's administrators, leaders and superuser share this TOTP secret (development only:
# it is used nowhere unless DEBUG is on); `manage.py totp_code <user>` prints the current code.
ACCOUNTS_DEMO_TOTP_SECRET = "DEMOEDUCMSTOTPKEYFORDEVONLY23456"
# Readers' 404 page rather than Django's English debug page (cms.not_found).
MIDDLEWARE = [*MIDDLEWARE, "cms.not_found.SiteNotFoundMiddleware"]  # noqa: F405
