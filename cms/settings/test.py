"""Test settings: fast hashing, in-memory mail, media in a throwaway directory."""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-only-key"
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="cms-test-media-"))
BACKUPS_ORIGINALS_DIR = Path(tempfile.mkdtemp(prefix="cms-test-originals-"))
SIGNED_RENDITIONS_DIR = Path(tempfile.mkdtemp(prefix="cms-test-renditions-"))
REVIEW_LOG_KEY_FILE = Path(tempfile.mkdtemp(prefix="cms-test-keys-")) / "publication-log.pem"
CMS_INTERACTION_KEY_FILE = REVIEW_LOG_KEY_FILE.parent / "interaction-contacts.key"
LOG_DIR = Path(tempfile.mkdtemp(prefix="cms-test-logs-"))
LOGGING["handlers"]["file"]["filename"] = str(LOG_DIR / "cms.log")  # noqa: F405
# Static publishing off outside tests/baking, which turns it on per test with a directory of
# its own: otherwise a page baked by one test would be served to the next.
BAKE_ON_PUBLICATION = False
BAKE_SERVE = False
BAKE_DIR = Path(tempfile.mkdtemp(prefix="cms-test-public-"))
# Tasks run where they are enqueued, so a test sees their effect; the queue's own tests
# (tests/jobs) switch to the database and RQ backends, and the processes they start choose
# theirs with CMS_TASKS_BACKEND.
TASKS = {"default": {"BACKEND": TASKS_BACKENDS.get(  # noqa: F405
    os.environ.get("CMS_TASKS_BACKEND", ""), os.environ.get("CMS_TASKS_BACKEND") or
    "django_tasks.backends.immediate.ImmediateBackend")}}
# A worker run inside a test (call_command("db_worker", "--batch")) beats without a thread of
# its own: another connection would wait on the test's transaction (tests/jobs' processes
# have theirs).
JOBS_WORKER_HEARTBEAT_THREAD = False
# RQ's tests use a Redis database of their own.
RQ_QUEUES = {"default": {"URL": os.environ.get("CMS_TEST_REDIS_URL", "redis://127.0.0.1:6379/2")}}
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Wagtail's database backend, finding Chinese words inside titles (cms.search_backend).
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "cms.search_backend"}}
# A snippet with a workflow, to prove the publishing pipeline is generic over snippets.
INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp"]  # noqa: F405
# Tests run queued rescans through the command, in the test's own transaction.
REVIEW_RESCAN_IN_BACKGROUND = False
# Most tests log in with force_login and no second factor; tests/cms/test_two_factor.py
# switches the requirement on.
ACCOUNTS_REQUIRE_SECOND_FACTOR = False
# API token throttling counts in a cache of their own, emptied before each test
# (tests/conftest.py): one test's bad tokens must not throttle the next.
CACHES = {**CACHES, "throttle": {  # noqa: F405
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "throttle"}}
CMS_THROTTLE_CACHE = "throttle"
# Publishing a page with external links does not fetch them (never the internet in tests);
# tests/cms/test_site_health.py turns it on against its local server.
HEALTH_FINGERPRINT_ON_PUBLISH = False
