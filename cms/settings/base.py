"""Settings shared by every environment.

All state of the embedded default lives under one directory, ``CMS_DATA_DIR``
(default ``./var/`` in the repository): the SQLite database, media, and later
originals and backups. ``DATABASE_URL`` selects another database.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(os.environ.get("CMS_DATA_DIR") or BASE_DIR / "var").resolve()

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if h]

INSTALLED_APPS = [
    "cms",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.sitemaps",
    "wagtail.contrib.table_block",
    "wagtail.embeds",
    "wagtail.sites",
    "cms.apps.UsersAppConfig",  # wagtail.users, confined to one organisation
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail.locales",
    "wagtail.api.v3",
    "csp",  # Content-Security-Policy (cms.security_headers)
    "ninja",  # serves the API docs' Swagger assets locally (no CDN on school intranets)
    "wagtail",
    # After wagtail.admin: review replaces the workflow e-mails it connects.
    "review",
    "backups",
    "cms.resources",  # teachers' semester resources (label: resources)
    "cms.baking",  # static publishing (label: baking)
    "cms.accounts",  # who manages whom, second factors, lockout (label: accounts)
    "cms.sitechanges",  # site records and external redirects, signed by the bureau leader
    "cms.interaction",  # public messages and reports (label: interaction)
    # Second factors at login (cms.accounts.twofactor): django-otp and its TOTP devices.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "simple_history",
    "cms.jobs",  # the schedule, its runs, workers' heartbeats (label: jobs); before
    # django_tasks_db so that its `db_worker` (with stale-claim recovery) is the one run
    "django_tasks",  # background work: re-rendering after publication (cms.baking), ...
    "django_tasks_db",  # ... on a persistent queue in the database (CMS_TASKS_BACKEND=db)
    "django_rq",  # ... or on Redis (CMS_TASKS_BACKEND=rq): rqworker
    "axes",  # login lockout (cms.accounts.lockout)
    "modelcluster",
    "taggit",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
]

MIDDLEWARE = [
    # First: the client's address behind nginx, for everything that counts or logs it.
    "cms.proxy.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before anything that may answer early (baked files), so every response carries them.
    "cms.security_headers.ContentSecurityPolicyMiddleware",
    "cms.security_headers.PermissionsPolicyMiddleware",
    # Before anything reads the database: an address sending bad API tokens is refused here.
    "cms.accounts.api_throttle.ApiTokenThrottleMiddleware",
    "cms.accounts.page_passwords.PagePasswordThrottleMiddleware",
    # API v3 bodies over the size and depth limits are refused before any transaction opens.
    "cms.api_input.ApiInputMiddleware",
    # When a token was last used: after the answer, outside the request's transaction.
    "cms.accounts.tokens.TokenUsageMiddleware",
    # Early: anonymous reads of baked pages and cached API reads skip the rest (cms.baking).
    "cms.baking.middleware.BakedFileMiddleware",
    "cms.baking.api_cache.ApiCacheMiddleware",
    # Before the request's transactions open: reading needs no write lock on SQLite.
    "cms.middleware.SqliteReadsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Which second factor verified the session (request.user.is_verified()), then: admin
    # requests of users who need one go to enrolment or verification first.
    "django_otp.middleware.OTPMiddleware",
    "cms.accounts.twofactor.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Session limits, then a password that must be changed (cms.accounts): after the user
    # and the messages are known.
    "cms.accounts.middleware.SessionLimitsMiddleware",
    "cms.accounts.middleware.PasswordChangeRequiredMiddleware",
    "review.context.ActorMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # A full disk answers 507 with a message, after the request's transaction rolled back.
    "cms.full_disk.FullDiskMiddleware",
    # Last: turns a locked-out login into the login page with the lockout message.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cms.urls"
WSGI_APPLICATION = "cms.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The public website's templates live in site/ (not a Python package).
        "DIRS": [BASE_DIR / "site" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'db.sqlite3'}",
        # Persistent connections: opening one costs more than serving a cached API read.
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    # WAL lets the public site read while an editor writes. Writers take SQLite's one lock
    # in turn (BEGIN IMMEDIATE, see cms.middleware) and wait for it up to the timeout: a
    # writer holds it for the length of its request (a leader's signature, a large body), and
    # twenty approvals at once queue for longer than the driver's default of 5 s. The same
    # holds for another process writing the same file (background task workers, commands).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": float(os.environ.get("CMS_SQLITE_BUSY_TIMEOUT", "60")),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
for database in DATABASES.values():
    # A refused publication or a bad form changes nothing: each request is one transaction.
    database["ATOMIC_REQUESTS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Axes first: it refuses a locked-out account or address before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login lockout (等保 8.1.4.1): 5 failures lock the account, and 5 failures from one address
# lock the address, each for 15 minutes (counted independently); account administrators
# unlock early (cms.accounts.views). Attempts while locked do not extend the lock, and a
# successful login does not wipe the count (it would wipe the address's count of attempts
# on other accounts too).
# Reverse proxies whose X-Forwarded-For names the client (cms.proxy), comma-separated
# addresses or networks: none in front of the embedded server; production's nginx.
CMS_TRUSTED_PROXIES = [value.strip() for value in
                       os.environ.get("CMS_TRUSTED_PROXIES", "").split(",") if value.strip()]
AXES_FAILURE_LIMIT = 5
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = False
AXES_CLIENT_IP_CALLABLE = "cms.accounts.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "cms.accounts.lockout.lockout_response"
AXES_COOLOFF_MESSAGE = "登录失败次数过多，已锁定 15 分钟；如需提前解锁，请联系账号管理员。"
# The security audit log records logins (cms.accounts.signals): no second log of them.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# API tokens (API v3 bearer tokens): an address that sends this many bad tokens within the
# window is refused (429) for the rest of it; counts live in the cache named here, which
# several servers must share (Redis, see CACHES). A per-token request limit is off unless set.
CMS_API_TOKEN_FAILURE_LIMIT = int(os.environ.get("CMS_API_TOKEN_FAILURE_LIMIT", "10"))
CMS_API_TOKEN_FAILURE_WINDOW = int(os.environ.get("CMS_API_TOKEN_FAILURE_WINDOW", "60"))
# Wrong passwords of password-protected pages an address may give within the window
# (seconds) before it is refused for a window (cms.accounts.page_passwords).
CMS_PAGE_PASSWORD_FAILURE_LIMIT = int(os.environ.get("CMS_PAGE_PASSWORD_FAILURE_LIMIT", "10"))
CMS_PAGE_PASSWORD_FAILURE_WINDOW = int(os.environ.get("CMS_PAGE_PASSWORD_FAILURE_WINDOW", "900"))
# API v3 request bodies larger than this are refused (413) before any work (cms/api_input.py).
CMS_API_MAX_BODY_BYTES = int(os.environ.get("CMS_API_MAX_BODY_BYTES", str(2 * 1024 * 1024)))
CMS_API_TOKEN_RATE_LIMIT = int(os.environ.get("CMS_API_TOKEN_RATE_LIMIT", "0")) or None
# When an API token was last used is recorded at most once a minute, by
# cms.accounts.tokens.TokenUsageMiddleware after the answer and without waiting for a busy
# database, not by Wagtail's authentication inside the request's transaction (on SQLite a
# reading request would have to become a writer, and wait behind a long write).
CMS_API_TOKEN_LAST_USED_INTERVAL = 60
WAGTAILAPI_TOKEN_LAST_USED_INTERVAL = None
CMS_THROTTLE_CACHE = "default"

# Passwords (等保 8.1.4.1, cms.accounts.passwords): 10 characters of 3 classes, not like the
# username, none of the last 5 again; staff passwords expire (warned before), and a password
# someone else set must be changed at the holder's next admin request.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "cms.accounts.passwords.UsernameValidator"},
    {"NAME": "cms.accounts.passwords.ComplexityValidator",
     "OPTIONS": {"min_length": 10, "min_classes": 3}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "cms.accounts.passwords.HistoryValidator"},  # ACCOUNTS_PASSWORD_HISTORY_COUNT
]
ACCOUNTS_PASSWORD_HISTORY_COUNT = 5
ACCOUNTS_PASSWORD_MAX_AGE_DAYS = int(os.environ.get("ACCOUNTS_PASSWORD_MAX_AGE_DAYS", "90"))
ACCOUNTS_PASSWORD_WARN_DAYS = int(os.environ.get("ACCOUNTS_PASSWORD_WARN_DAYS", "14"))
# Admin views open to someone who must change their password first (add the second factor's
# verification and enrolment views here).
ACCOUNTS_PASSWORD_CHANGE_OPEN_VIEWS = [
    "wagtailadmin_account", "wagtailadmin_logout", "wagtailadmin_login",
    "wagtailadmin_password_reset", "wagtailadmin_password_reset_done",
    "wagtailadmin_password_reset_confirm", "wagtailadmin_password_reset_complete",
    "wagtailadmin_javascript_catalog", "wagtailadmin_sprite",
    "accounts_2fa_setup", "accounts_2fa_verify", "accounts_2fa_passkey_options",
    "accounts_2fa_passkey_verify",
]
# Sessions (cms.accounts.sessions): logged out after 30 idle minutes and 12 hours after login;
# all of a user's sessions end on a password change, a role change or deactivation.
ACCOUNTS_SESSION_IDLE_MINUTES = int(os.environ.get("ACCOUNTS_SESSION_IDLE_MINUTES", "30"))
ACCOUNTS_SESSION_ABSOLUTE_HOURS = int(os.environ.get("ACCOUNTS_SESSION_ABSOLUTE_HOURS", "12"))
SESSION_COOKIE_AGE = ACCOUNTS_SESSION_ABSOLUTE_HOURS * 3600
# Requests the admin sends by itself (an open editor's pings): not the person's activity.
ACCOUNTS_SESSION_PASSIVE_VIEWS = ["wagtailadmin_editing_sessions:ping",
                                  "wagtailadmin_editing_sessions:release"]
# Accounts without a login for this many days are deactivated (manage.py deactivate_dormant).
ACCOUNTS_DORMANT_DAYS = int(os.environ.get("ACCOUNTS_DORMANT_DAYS", "90"))

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
WAGTAIL_CONTENT_LANGUAGES = LANGUAGES
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES
# What Wagtail leaves untranslated in zh_Hans (cms/locale; `manage.py compilemessages`). A
# locale path, not only an app's locale: it then comes first, and reaches the admin's
# JavaScript catalogue too (which reads only wagtail.admin's app locale besides these).
LOCALE_PATHS = [BASE_DIR / "cms" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "site" / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    # Uploads are written beside their place and renamed in whole: a full disk leaves no
    # partial file (cms.full_disk).
    "default": {"BACKEND": "cms.full_disk.MediaStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Teachers upload courseware and video; the bureau's cap, not Django's 2.5 MB default.
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
WAGTAILDOCS_EXTENSIONS = [
    "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "txt", "csv", "zip", "wps", "et", "dps",
]

WAGTAIL_SITE_NAME = os.environ.get("CMS_NETWORK_NAME", "教育网站群")
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
# Wagtail's database backend, finding Chinese words inside titles; on SQLite, a query holding
# " no longer breaks (cms.search_backend).
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "cms.search_backend"}}
# Anonymous readers and other front ends get live content only; see cms/api.py.
WAGTAILAPI_LIMIT_MAX = 100
# Pages and documents are private to their school: keep Wagtail from leaking drafts
# through "view live" links and the document serve view bypassing collection rules.
WAGTAILDOCS_SERVE_METHOD = "serve_view"
WAGTAIL_WORKFLOW_ENABLED = True
WAGTAIL_MODERATION_ENABLED = True
# Publishing: the workflow's last step publishes the revision the leader signed (review/).
WAGTAIL_FINISH_WORKFLOW_ACTION = "review.pipeline.finish.publish_approved"
WAGTAIL_WORKFLOW_REQUIRE_REAPPROVAL_ON_EDIT = True
REVIEW_SCREENER = "review.screening.objects.screen_object"
# Originals (every uploaded file, write-once, content-addressed) and their retention.
BACKUPS_ORIGINALS_DIR = DATA_DIR / "originals"
# Image renditions readers get, made from the bytes the leader signed (cms.signed_files),
# kept under the signed SHA-256.
SIGNED_RENDITIONS_DIR = DATA_DIR / "signed-renditions"
# The image sizes the public templates ask for ({% signed_image %}): no other is made for
# anonymous readers.
PUBLIC_IMAGE_FILTERS = ("width-800",)
BACKUPS_RETENTION_DAYS = int(os.environ.get("BACKUPS_RETENTION_DAYS", "180"))
# Production: S3-compatible buckets with Object Lock for the originals and for the off-site
# copy of backups (credentials from boto3's usual chain: AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY, or a profile). Each is off unless its bucket is named.
BACKUPS_OBJECT_LOCK_MODE = os.environ.get("BACKUPS_OBJECT_LOCK_MODE", "COMPLIANCE")
for _alias, _bucket, _prefix in (("originals", "BACKUPS_ORIGINALS_S3_BUCKET", "originals"),
                                 ("backups_offsite", "BACKUPS_OFFSITE_S3_BUCKET", "backups")):
    if os.environ.get(_bucket):
        STORAGES[_alias] = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
            "bucket_name": os.environ[_bucket],
            "endpoint_url": os.environ.get("BACKUPS_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("BACKUPS_S3_REGION") or None,
            "location": os.environ.get(f"{_bucket.removesuffix('_BUCKET')}_PREFIX", _prefix),
        }}
BACKUPS_ORIGINALS_STORAGE = "originals" if "originals" in STORAGES else None
BACKUPS_OFFSITE_STORAGE = "backups_offsite" if "backups_offsite" in STORAGES else None
# A lexicon change enqueues a rescan of live content on the task queue; the scheduled job
# "rescan_live" (cms.jobs) runs whatever is still queued.
REVIEW_RESCAN_IN_BACKGROUND = True
# The publication register's checkpoints: the log's name (origin) and its signing key file.
REVIEW_LOG_ORIGIN = os.environ.get(
    "REVIEW_LOG_ORIGIN",
    WAGTAILADMIN_BASE_URL.split("://", 1)[-1].rstrip("/") + "/publication-log")
REVIEW_LOG_KEY_FILE = os.environ.get("REVIEW_LOG_KEY_FILE") or DATA_DIR / "keys" / \
    "publication-log.pem"
# The security audit log's checkpoints: signed with the same key, under a name of their own.
REVIEW_SECURITY_LOG_ORIGIN = os.environ.get(
    "REVIEW_SECURITY_LOG_ORIGIN",
    WAGTAILADMIN_BASE_URL.split("://", 1)[-1].rstrip("/") + "/security-log")
# WebAuthn relying party: the admin's host name, and the origins the admin is reached at.
REVIEW_WEBAUTHN_RP_ID = os.environ.get("REVIEW_WEBAUTHN_RP_ID", "localhost")
REVIEW_WEBAUTHN_ORIGINS = os.environ.get("REVIEW_WEBAUTHN_ORIGINS",
                                         "http://localhost:8000").split(",")
# Static publishing (静态化): the baked public files of every site, re-rendered in the
# background on publication events (cms.baking); the embedded server serves them.
BAKE_DIR = Path(os.environ.get("CMS_BAKE_DIR") or DATA_DIR / "public")
# Background work (django-tasks) on a persistent queue (cms.jobs): re-rendering after a
# publication, lexicon rescans and the scheduled jobs survive a crash of the process that
# enqueued them. CMS_TASKS_BACKEND selects the queue: "db" (default: the database itself,
# SQLite embedded, PostgreSQL in production; `manage.py db_worker` runs it, and a task enqueued
# inside a transaction commits or rolls back with it), "rq" (Redis at CMS_REDIS_URL, for
# several application servers; `manage.py rqworker default --worker-class
# rq.worker.SimpleWorker`), "immediate" (run where enqueued)
# or a backend's dotted path.
TASKS_BACKENDS = {
    "db": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
_tasks_backend = os.environ.get("CMS_TASKS_BACKEND", "").strip() or "db"
TASKS = {"default": {"BACKEND": TASKS_BACKENDS.get(_tasks_backend, _tasks_backend)}}
CMS_REDIS_URL = os.environ.get("CMS_REDIS_URL", "redis://127.0.0.1:6379/0")
# django-rq's queues (used only when CMS_TASKS_BACKEND=rq).
RQ_QUEUES = {"default": {"URL": CMS_REDIS_URL, "DEFAULT_TIMEOUT": 6 * 3600}}
# django-tasks-rq's job class, so that a plain `manage.py rqworker default` runs tasks.
RQ = {"JOB_CLASS": "django_tasks_rq.backend.Job"}
# Finished task results (and job runs) older than this are deleted by the scheduled job
# "prune_results" (cms.jobs).
TASKS_RESULTS_KEEP_DAYS = int(os.environ.get("CMS_TASKS_RESULTS_KEEP_DAYS", "30"))
# API v3 anonymous reads are cached (invalidated on publication). One process needs no more
# than Django's in-memory cache; several processes or servers share one, e.g.
# CMS_CACHE_BACKEND=django.core.cache.backends.redis.RedisCache CMS_CACHE_LOCATION=redis://…
CACHES = {"default": {
    "BACKEND": os.environ.get("CMS_CACHE_BACKEND",
                              "django.core.cache.backends.locmem.LocMemCache"),
    "LOCATION": os.environ.get("CMS_CACHE_LOCATION", ""),
}}
# Two-factor login (等保 8.1.4.1): superusers, web administrators, leaders and account
# administrators verify a TOTP code, a recovery code or a passkey after the password;
# ACCOUNTS_SECOND_FACTOR_FOR_ALL_STAFF extends it to everyone who uses the admin.
ACCOUNTS_REQUIRE_SECOND_FACTOR = True
# Enrolling a signing credential needs the password and a second-factor code given this
# recently (cms.accounts.reauth).
ACCOUNTS_REAUTHENTICATION_MINUTES = 5
ACCOUNTS_SECOND_FACTOR_FOR_ALL_STAFF = os.environ.get(
    "ACCOUNTS_SECOND_FACTOR_FOR_ALL_STAFF", "").lower() in {"1", "true", "yes"}
OTP_TOTP_ISSUER = WAGTAIL_SITE_NAME
WAGTAIL_ENABLE_UPDATE_CHECK = False
# No Gravatar: staff e-mail hashes would go to a foreign service, and the admin's CSP only
# allows images from the site itself (Wagtail shows its default avatar instead).
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAIL_ALLOW_UNICODE_SLUGS = True

# Security headers (cms/security_headers.py; nginx sends the same with the baked files).
# The public site: nothing inline, nothing from elsewhere. The one inline <style> is the
# 500 page's (it must render even when static files are broken): allowed by its hash, which
# tests/cms/test_security_headers.py recomputes from the template.
SERVER_ERROR_STYLE_HASH = "'sha256-MFu4d8/DA4qeUrNr+T6f7binRy89X0xM2JFiOhOQ6NI='"
CONTENT_SECURITY_POLICY = {"DIRECTIVES": {
    "default-src": [SELF],
    "script-src": [SELF],
    "style-src": [SELF, SERVER_ERROR_STYLE_HASH],
    "img-src": [SELF],
    "object-src": [NONE],
    "base-uri": [SELF],
    "form-action": [SELF],
    "frame-ancestors": [NONE],
}}
# The Wagtail admin (and the API's Swagger docs): found by loading the admin in Chromium
# under a 'self'-only policy and reading the violations. Wagtail 8 still writes inline
# <script> elements (listings, date pickers, inline panels, the multiple chooser panel) and
# its vendor.js inserts inline scripts and styles; style attributes are everywhere. Its CSS
# and Swagger UI's draw data: images, and the multiple image upload previews blob: URLs;
# previews are framed by the admin itself. Still nothing from any other origin, no plugins,
# no <base>, no form posting elsewhere, no eval.
CMS_ADMIN_CONTENT_SECURITY_POLICY = {
    "PREFIXES": ["/admin/", "/api/v3/docs"],
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, UNSAFE_INLINE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [SELF],
    },
}
# Browser features nobody here uses are off; leaders' passkeys (WebAuthn) stay allowed for
# the site's own pages.
PERMISSIONS_POLICY = {
    "accelerometer": [], "camera": [], "geolocation": [], "gyroscope": [],
    "magnetometer": [], "microphone": [], "payment": [], "usb": [],
    "publickey-credentials-create": ["self"], "publickey-credentials-get": ["self"],
}

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("CMS_FROM_EMAIL", "cms@localhost")

# How long logs are kept (review.retention; `manage.py check` refuses less than 180 days, the
# Cybersecurity Law's six months): the security audit log (never deleted by the application),
# Wagtail's audit log (`manage.py security_log prune` deletes older entries), and the
# application's log files below.
SECURITY_LOG_RETENTION_DAYS = int(os.environ.get("SECURITY_LOG_RETENTION_DAYS", "180"))
AUDIT_LOG_RETENTION_DAYS = int(os.environ.get("AUDIT_LOG_RETENTION_DAYS", "180"))
APP_LOG_RETENTION_DAYS = int(os.environ.get("APP_LOG_RETENTION_DAYS", "180"))
# The application's log: to the console and to CMS_LOG_DIR/cms.log, a file a day (rotated at
# midnight, cms.log.YYYY-MM-DD), keeping APP_LOG_RETENTION_DAYS of them. With several worker
# processes, let one of them rotate (or have logrotate do it and use a WatchedFileHandler).
LOG_DIR = Path(os.environ.get("CMS_LOG_DIR") or DATA_DIR / "logs")
LOG_DIR.mkdir(parents=True, exist_ok=True)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(process)d "
                                       "%(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "file": {
            "class": "logging.handlers.TimedRotatingFileHandler",
            "filename": str(LOG_DIR / "cms.log"),
            "when": "midnight",
            "backupCount": APP_LOG_RETENTION_DAYS,
            "encoding": "utf-8",
            "delay": True,  # no file until something is logged
            "formatter": "plain",
        },
    },
    "root": {"handlers": ["console", "file"], "level": "WARNING"},
    # A reading request served again as a writer (SQLite was busy): rare, worth counting.
    "loggers": {"cms.middleware": {"level": "INFO"}},
}

# Public messages and reports (cms.interaction). Replies are due within
# CMS_INTERACTION_REPLY_WORKING_DAYS working days (Monday–Friday, less the listed holidays,
# plus the listed make-up working days 调休: ISO dates, comma-separated in the environment);
# handlers are warned CMS_INTERACTION_WARN_WORKING_DAYS working days before.
CMS_INTERACTION_REPLY_WORKING_DAYS = int(os.environ.get("CMS_INTERACTION_REPLY_WORKING_DAYS", "5"))
CMS_INTERACTION_WARN_WORKING_DAYS = int(os.environ.get("CMS_INTERACTION_WARN_WORKING_DAYS", "1"))
CMS_INTERACTION_HOLIDAYS = [d.strip() for d in os.environ.get(
    "CMS_INTERACTION_HOLIDAYS", "").split(",") if d.strip()]
CMS_INTERACTION_WORKDAYS = [d.strip() for d in os.environ.get(
    "CMS_INTERACTION_WORKDAYS", "").split(",") if d.strip()]
# Submissions per address and per site within the window (seconds), counted in the throttle
# cache every process shares (CMS_THROTTLE_CACHE); sizes in characters and request bytes.
CMS_INTERACTION_RATE_WINDOW = int(os.environ.get("CMS_INTERACTION_RATE_WINDOW", "3600"))
CMS_INTERACTION_ADDRESS_LIMIT = int(os.environ.get("CMS_INTERACTION_ADDRESS_LIMIT", "5"))
CMS_INTERACTION_SITE_LIMIT = int(os.environ.get("CMS_INTERACTION_SITE_LIMIT", "200"))
CMS_INTERACTION_MAX_TITLE = 100
CMS_INTERACTION_MAX_BODY = int(os.environ.get("CMS_INTERACTION_MAX_BODY", "3000"))
CMS_INTERACTION_MAX_REQUEST_BYTES = 64 * 1024
# Wrong ticket codes on the status page, per address, before it is refused for the window.
CMS_INTERACTION_STATUS_FAILURE_LIMIT = 20
CMS_INTERACTION_STATUS_FAILURE_WINDOW = 900
# The key that seals senders' contact details, outside the database (cms.interaction.crypto).
CMS_INTERACTION_KEY_FILE = os.environ.get("CMS_INTERACTION_KEY_FILE") or DATA_DIR / "keys" / \
    "interaction-contacts.key"
# Site health against the inspection indicators (review.health; README "Site health"). Veto
# lines are the indicators'; the warning lines come before them, as commercial monitors warn.
HEALTH_COLUMN_WARNING_FRACTION = 0.7      # a column is warned about at 70% of its interval
HEALTH_HOMEPAGE_DAYS = 14                 # veto: homepage not updated for two weeks
HEALTH_HOMEPAGE_WARNING_DAYS = 10
HEALTH_BLANK_COLUMNS_WARNING_ABOVE = 2    # warning above 2 blank columns, veto at 5
HEALTH_BLANK_COLUMNS_VETO_AT = 5
HEALTH_OVERDUE_COLUMNS_WARNING_ABOVE = 6  # warning above 6 overdue columns, veto at 10 (or 5
HEALTH_OVERDUE_COLUMNS_VETO_AT = 10       # news/notice-type columns, interval ≤ 180 days)
HEALTH_OVERDUE_SHORT_COLUMNS_VETO_AT = 5
HEALTH_AVAILABILITY_WARNING_SHARE = 0.03  # homepage failures over 7 days: warning 3%, veto 5%
HEALTH_AVAILABILITY_VETO_SHARE = 0.05
HEALTH_PROBE_MINUTES = 5                  # the availability probe's period
HEALTH_PROBE_TIMEOUT = 15.0               # a homepage not open within 15 s failed
HEALTH_LINK_CONCURRENCY = 16              # hosts fetched at once; one request at a time per host
HEALTH_LINK_HOST_INTERVAL = 0.5           # seconds between two requests to one host
HEALTH_LINK_TIMEOUT = 10.0
HEALTH_SUSPECT_CONFIRM_FAILURES = 3       # a timeout/5xx target is broken after 3 failures
HEALTH_SUSPECT_CONFIRM_HOURS = 24         # spanning at least 24 hours
HEALTH_FINGERPRINT_ON_PUBLISH = True      # fingerprint external targets when pages go live
HEALTH_DAILY_REPORT_ONLY_CHANGES = True   # no daily e-mail for a site whose items did not change
