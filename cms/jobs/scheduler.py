"""The scheduler's tick: enqueue each job whose current period has no run yet.

Creating the run row (unique on job and period) is the lease: of any number of schedulers
ticking at once, one creates it and enqueues the task, the others get an IntegrityError and
move on. On the database backend, the row and the queued task are written in one transaction,
so a scheduler killed at any point leaves either both or neither, and the next tick (of any
scheduler) enqueues the period then. On other backends (RQ) the row is committed first
("pending"), then the task enqueued and the row marked "queued"; a row left pending by a
scheduler killed in between is enqueued again by a later tick (``requeue_pending``); the task
runs the period once however often it is delivered (cms.jobs.runs.run_job).
"""

import datetime
import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from cms.jobs import outbox, workers
from cms.jobs.models import JobRun
from cms.jobs.runs import run_job
from cms.jobs.schedule import Job, all_jobs

logger = logging.getLogger(__name__)
PENDING_GRACE = datetime.timedelta(seconds=getattr(settings, "JOBS_OUTBOX_STALE_SECONDS", 30))


def tick(*, now: datetime.datetime | None = None, jobs: Iterable[Job] | None = None
         ) -> list[JobRun]:
    """Enqueue every job due at ``now``; the runs this call created."""
    now = now or timezone.now()
    jobs = all_jobs().values() if jobs is None else jobs
    created = [run for job in jobs if (run := schedule_period(job=job, now=now))]
    requeue_pending(now=now)
    outbox.flush_stale(now=now)
    if _on_redis():
        workers.recover_abandoned_on_redis()
    return created


def _on_redis() -> bool:
    return settings.TASKS["default"]["BACKEND"].startswith("django_tasks_rq.")


def schedule_period(*, job: Job, now: datetime.datetime) -> JobRun | None:
    period = job.period(now=now)
    if JobRun.objects.filter(job=job.name, period=period).exists():
        return None  # the common case, without an IntegrityError logged by the database
    transactional = outbox.is_transactional()
    try:
        with transaction.atomic():
            run = JobRun.objects.create(job=job.name, period=period)
            if transactional:
                _enqueue(run)
    except IntegrityError:
        return None  # another scheduler has this period
    if not transactional:
        _enqueue(run)
    return run


def _enqueue(run: JobRun) -> None:
    result = run_job.enqueue(run.pk)
    # Conditional: a fast worker may already have claimed the run.
    JobRun.objects.filter(pk=run.pk, status=JobRun.Status.PENDING).update(
        status=JobRun.Status.QUEUED, task_id=str(result.id))


def requeue_pending(*, now: datetime.datetime) -> int:
    """Runs committed but never enqueued (a scheduler killed between the two, on a backend
    outside the database)."""
    stale = JobRun.objects.filter(status=JobRun.Status.PENDING,
                                  created_at__lt=now - PENDING_GRACE)
    count = 0
    for run in stale:
        try:
            _enqueue(run)
            count += 1
        except Exception:
            logger.exception("定时任务重新入队失败：%s", run)
    return count


def next_runs(*, now: datetime.datetime | None = None) -> dict[str, datetime.datetime]:
    """When each job is next enqueued: its current period's start if that has no run yet
    (the next tick), else the next period's."""
    now = now or timezone.now()
    jobs = all_jobs()
    done = set(JobRun.objects.filter(
        job__in=list(jobs), period__in={job.period(now=now) for job in jobs.values()}
    ).values_list("job", "period"))
    result = {}
    for job in jobs.values():
        period = job.period(now=now)
        result[job.name] = now if (job.name, period) not in done else period + job.every
    return result
