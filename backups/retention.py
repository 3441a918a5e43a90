"""How long originals and edited versions are kept: ``BACKUPS_RETENTION_DAYS`` (default 180,
never less: the regulation's six months), longer per category with
``BACKUPS_RETENTION_DAYS_BY_CATEGORY``."""

import datetime

from django.conf import settings
from django.core import checks

MINIMUM_DAYS = 180


def retention_days(category: str = "") -> int:
    days = int(getattr(settings, "BACKUPS_RETENTION_DAYS", MINIMUM_DAYS))
    by_category = getattr(settings, "BACKUPS_RETENTION_DAYS_BY_CATEGORY", {}) or {}
    return max(days, int(by_category.get(category, days)), MINIMUM_DAYS)


def retain_until(created_at: datetime.datetime, *, category: str = "") -> datetime.datetime:
    return created_at + datetime.timedelta(days=retention_days(category))


def check_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    errors = []
    days = getattr(settings, "BACKUPS_RETENTION_DAYS", MINIMUM_DAYS)
    if not isinstance(days, int) or days < MINIMUM_DAYS:
        errors.append(checks.Error(
            f"BACKUPS_RETENTION_DAYS is {days!r}; originals and edited versions must be kept "
            f"at least {MINIMUM_DAYS} days (six months).", id="backups.E001"))
    for category, value in (getattr(settings, "BACKUPS_RETENTION_DAYS_BY_CATEGORY", {})
                            or {}).items():
        if not isinstance(value, int) or value < MINIMUM_DAYS:
            errors.append(checks.Error(
                f"BACKUPS_RETENTION_DAYS_BY_CATEGORY[{category!r}] is {value!r}; at least "
                f"{MINIMUM_DAYS} days.", id="backups.E002"))
    return errors
