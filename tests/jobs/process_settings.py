"""Settings of the processes the crash tests start and kill: the test settings, with every
piece of state under CMS_DATA_DIR (shared by the processes of one test), the database queue,
static publishing on, and short timeouts so that recovery happens within the test."""

from cms.settings.test import *  # noqa: F403

BAKE_ON_PUBLICATION = True
BAKE_DIR = DATA_DIR / "public"  # noqa: F405
MEDIA_ROOT = DATA_DIR / "media"  # noqa: F405
REVIEW_LOG_KEY_FILE = DATA_DIR / "keys" / "publication-log.pem"  # noqa: F405
TASKS = {"default": {"BACKEND": TASKS_BACKENDS[  # noqa: F405
    os.environ.get("CMS_TASKS_BACKEND") or "db"]}}  # noqa: F405
JOBS_WORKER_HEARTBEAT_THREAD = True
JOBS_WORKER_BEAT_SECONDS = 0.5
JOBS_WORKER_DEAD_SECONDS = 2
JOBS_OUTBOX_STALE_SECONDS = 1
