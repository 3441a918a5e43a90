"""How long logs are kept (等保 8.1.4.3; the Cybersecurity Law, Art. 21: network logs at least
six months), and the pruning of what may go.

- The security audit log (``SECURITY_LOG_RETENTION_DAYS``): kept at least that long. The
  application never deletes security events at all — the table is append-only (the ORM refuses,
  and on PostgreSQL a trigger) and chained, so removing old events is an operator's decision
  made outside the application, on an archived and verified copy.
- Wagtail's audit log — ``ModelLogEntry`` and ``PageLogEntry``, the admin's history and
  site-history reports (``AUDIT_LOG_RETENTION_DAYS``): ``prune_audit_log`` deletes entries
  older than that, never younger.
- Application log files (``APP_LOG_RETENTION_DAYS``): the LOGGING settings' daily rotating
  file keeps that many files.

Each is at least ``MINIMUM_DAYS``; ``manage.py check`` refuses less (``review.checks``).
"""

import datetime
import logging.handlers

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from wagtail.models import ModelLogEntry, PageLogEntry

MINIMUM_DAYS = 180
DEFAULT_DAYS = 180
# The retention settings, with what they keep (for messages).
RETENTION_SETTINGS = {
    "SECURITY_LOG_RETENTION_DAYS": "安全审计日志",
    "AUDIT_LOG_RETENTION_DAYS": "操作日志（Wagtail 审计日志）",
    "APP_LOG_RETENTION_DAYS": "应用日志文件",
}
ROTATING_HANDLER = f"{logging.handlers.TimedRotatingFileHandler.__module__}." \
                   f"{logging.handlers.TimedRotatingFileHandler.__name__}"


def retention_problems(*, values: dict[str, object]) -> list[str]:
    """Why the retention settings given (setting name -> value) are refused, one message a
    setting: each must be a whole number of days, at least ``MINIMUM_DAYS``."""
    problems = []
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < MINIMUM_DAYS:
            problems.append(
                f"{name} 为 {value!r}：{RETENTION_SETTINGS.get(name, name)}须保存至少 "
                f"{MINIMUM_DAYS} 天（六个月，《网络安全法》第二十一条）。")
    return problems


def rotating_file_problems(*, logging_config: dict) -> list[str]:
    """Daily rotating log files (``TimedRotatingFileHandler``) that keep fewer than
    ``MINIMUM_DAYS`` files, or rotate other than daily (0 files: all are kept)."""
    problems = []
    for name, handler in (logging_config.get("handlers") or {}).items():
        if handler.get("class") != ROTATING_HANDLER:
            continue
        count = handler.get("backupCount", 0)
        when = str(handler.get("when", "h")).lower()
        if count and (count < MINIMUM_DAYS or when not in ("midnight", "d")):
            problems.append(f"日志处理器 {name} 只保留 {count} 个文件（每 {when} 轮换）：应用"
                            f"日志须按天轮换并保存至少 {MINIMUM_DAYS} 天。")
    return problems


def retention_days(*, setting: str) -> int:
    """The configured retention, never below the minimum (the system check reports a lower
    setting; nothing acts on it)."""
    return max(int(getattr(settings, setting, DEFAULT_DAYS)), MINIMUM_DAYS)


def cutoff(*, now: datetime.datetime, days: int) -> datetime.datetime:
    """Entries before this moment are older than ``days`` days."""
    return now - datetime.timedelta(days=max(days, MINIMUM_DAYS))


@transaction.atomic
def prune_audit_log(*, now: datetime.datetime | None = None, dry_run: bool = False
                    ) -> dict[str, int]:
    """Delete Wagtail's audit log entries (model and page log entries) older than
    ``AUDIT_LOG_RETENTION_DAYS``; how many of each went (or would go, with ``dry_run``).
    Security events are not touched: nothing in the application deletes them."""
    before = cutoff(now=now or timezone.now(),
                    days=retention_days(setting="AUDIT_LOG_RETENTION_DAYS"))
    counts = {}
    for model in (ModelLogEntry, PageLogEntry):
        old = model.objects.filter(timestamp__lt=before)
        counts[model._meta.label] = old.count() if dry_run else old.delete()[0]
    return counts
