"""review's system checks (``manage.py check``, and before every management command)."""

from django.conf import settings
from django.core import checks

from review.retention import (
    DEFAULT_DAYS,
    RETENTION_SETTINGS,
    retention_problems,
    rotating_file_problems,
)

# A stable id a setting, so that a deployment can tell them apart (never silence them).
CHECK_IDS = {
    "SECURITY_LOG_RETENTION_DAYS": "review.E001",
    "AUDIT_LOG_RETENTION_DAYS": "review.E002",
    "APP_LOG_RETENTION_DAYS": "review.E003",
}


def check_log_retention(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """The security log, Wagtail's audit log and the application's log files are kept at
    least six months (review.retention)."""
    errors = [checks.Error(message, id=CHECK_IDS[name])
              for name in RETENTION_SETTINGS
              for message in retention_problems(
                  values={name: getattr(settings, name, DEFAULT_DAYS)})]
    errors += [checks.Error(message, id="review.E004") for message in
               rotating_file_problems(logging_config=getattr(settings, "LOGGING", {}) or {})]
    return errors
