"""The one schedule: every periodic job of the product, declared here (or by another app
through the ``register_scheduled_jobs`` hook), run by the task queue's workers.

A job is a management command run with fixed arguments once per period. Periods are
aligned on local wall-clock time (``TIME_ZONE``): a daily job "at 02:30" owns the period
that starts at 02:30 each day. The scheduler (``manage.py scheduler``) enqueues a job when
the period that contains *now* has no run yet; a period is therefore run at most once
(cms.jobs.models.JobRun is unique on job and period), and periods missed while nothing ran
are caught up by one run, the current period's, not by one per missed period.

Adding a job is one declaration: ``Job("name", "说明", every=DAY, at=time(3, 0),
command=("my_command", "--flag"))`` in ``DEFAULT_JOBS``, or from another app::

    @hooks.register("register_scheduled_jobs")
    def my_jobs():
        return [Job(...)]   # or, from an app that must not import cms, a dict of its fields:
        # [{"name": "x", "title": "…", "every": datetime.timedelta(days=1), "command": (...)}]
"""

import datetime
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from django.conf import settings
from wagtail import hooks

MINUTE = datetime.timedelta(minutes=1)
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)
# Periods are counted from this local midnight (a Monday): weekly jobs start on Mondays.
_EPOCH = datetime.datetime(2001, 1, 1)


@dataclass(frozen=True)
class Job:
    """``command`` is a management command and its arguments, or a callable returning them
    when the job runs (arguments that depend on settings, e.g. pushing a backup off-site
    only when off-site storage is configured)."""

    name: str
    title: str
    every: datetime.timedelta
    command: tuple[str, ...] | Callable[[], tuple[str, ...]]
    at: datetime.time = datetime.time(0, 0)
    # Superusers are e-mailed when this many runs in a row fail.
    alert_after_failures: int = 2
    tags: tuple[str, ...] = field(default=())

    def __post_init__(self):
        if self.every <= datetime.timedelta(0):
            raise ValueError(f"{self.name}: every must be positive")
        if not self.name.isidentifier():
            raise ValueError(f"{self.name!r}: a job's name is an identifier")

    def argv(self) -> tuple[str, ...]:
        return tuple(self.command() if callable(self.command) else self.command)

    def period(self, *, now: datetime.datetime) -> datetime.datetime:
        return period_start(now=now, every=self.every, at=self.at)


def period_start(*, now: datetime.datetime, every: datetime.timedelta,
                 at: datetime.time = datetime.time(0, 0)) -> datetime.datetime:
    """The start of the period containing ``now`` (aware), in local wall-clock time:
    periods of length ``every`` shifted by ``at`` from local midnight."""
    tz = now.tzinfo
    local = now.astimezone(_local_zone()).replace(tzinfo=None)
    offset = datetime.timedelta(hours=at.hour, minutes=at.minute, seconds=at.second)
    origin = _EPOCH + offset
    periods = (local - origin) // every
    start = origin + periods * every
    return start.replace(tzinfo=_local_zone()).astimezone(tz)


def next_period(*, now: datetime.datetime, every: datetime.timedelta,
                at: datetime.time = datetime.time(0, 0)) -> datetime.datetime:
    return period_start(now=now, every=every, at=at) + every


def _local_zone():
    from zoneinfo import ZoneInfo

    return ZoneInfo(settings.TIME_ZONE)


def _backup_argv() -> tuple[str, ...]:
    # Pushed off-site when a bucket is configured (BACKUPS_OFFSITE_S3_BUCKET).
    if getattr(settings, "BACKUPS_OFFSITE_STORAGE", None):
        return ("backup", "create", "--push")
    return ("backup", "create")


def _prune_argv() -> tuple[str, ...]:
    return ("prune_results", "--days", str(settings.TASKS_RESULTS_KEEP_DAYS))


DEFAULT_JOBS: tuple[Job, ...] = (
    Job("publish_scheduled", "定时发布与到期下线", every=MINUTE,
        command=("publish_scheduled",)),
    Job("rescan_live", "词库变更后的复查（补跑排队中的）", every=datetime.timedelta(minutes=10),
        command=("rescan_live",)),
    Job("publication_log_daily", "发布登记检查点与线上内容核对", every=DAY,
        at=datetime.time(1, 0), command=("publication_log", "daily")),
    Job("security_log_checkpoint", "安全审计日志检查点", every=DAY, at=datetime.time(1, 10),
        command=("security_log", "checkpoint")),
    Job("bake", "静态化补漏（增量）", every=DAY, at=datetime.time(1, 20), command=("bake",)),
    Job("backup", "站点快照（已配置时推送异地）", every=DAY, at=datetime.time(2, 0),
        command=_backup_argv),
    Job("remind_quotas", "学期资源要求提醒", every=DAY, at=datetime.time(8, 0),
        command=("remind_quotas",)),
    Job("interaction_deadlines", "留言答复期限提醒与逾期上报", every=DAY,
        at=datetime.time(8, 10), command=("interaction_deadlines",)),
    Job("deactivate_dormant", "停用长期未登录的账号", every=DAY, at=datetime.time(3, 0),
        command=("deactivate_dormant",)),
    Job("security_log_prune", "清理过期的审计日志", every=DAY, at=datetime.time(3, 30),
        command=("security_log", "prune")),
    Job("prune_results", "清理过期的任务结果与运行记录", every=DAY, at=datetime.time(4, 0),
        command=_prune_argv),
)


def all_jobs() -> dict[str, Job]:
    """Every declared job by name: the defaults, then each ``register_scheduled_jobs``
    hook's (a hook's job of the same name replaces a default). A hook returns ``Job``s, or
    plain mappings of ``Job``'s fields: apps that must not import cms (review, backups)
    declare their jobs without it."""
    jobs = {job.name: job for job in DEFAULT_JOBS}
    for hook in hooks.get_hooks("register_scheduled_jobs"):
        found: Iterable[Job | Mapping] = hook() or ()
        for job in found:
            job = job if isinstance(job, Job) else Job(**job)
            jobs[job.name] = job
    return jobs
