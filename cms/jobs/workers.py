"""Queue workers of the database backend: heartbeats, and tasks of dead workers put back.

django-tasks-db marks a task ``RUNNING`` with the claiming worker's id and nothing else: a
worker killed mid-task (SIGKILL, power cut, OOM) leaves it running for ever. Each of our
workers (``manage.py db_worker``, cms/jobs/management/commands/db_worker.py) records a
heartbeat every ``BEAT`` seconds; a running task whose last worker has not beaten for
``DEAD_AFTER`` is made ready again (tasks are safe to run twice), unless it has already killed
``MAX_DELIVERIES`` workers: then it is recorded as failed, so that one poisonous task does not
take every worker down in turn.
"""

import datetime
import logging
import os
import socket
import threading

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from cms.jobs.models import WorkerHeartbeat

logger = logging.getLogger(__name__)
BEAT = datetime.timedelta(seconds=getattr(settings, "JOBS_WORKER_BEAT_SECONDS", 5))
DEAD_AFTER = datetime.timedelta(seconds=getattr(settings, "JOBS_WORKER_DEAD_SECONDS", 30))
MAX_DELIVERIES = 3


class WorkerDied(Exception):
    """The worker running the task stopped (killed, or its machine went down)."""


def beat(*, worker_id: str, now: datetime.datetime | None = None) -> None:
    now = now or timezone.now()
    updated = WorkerHeartbeat.objects.filter(worker_id=worker_id).update(seen_at=now)
    if not updated:
        WorkerHeartbeat.objects.create(worker_id=worker_id, hostname=socket.gethostname(),
                                       pid=os.getpid(), seen_at=now)


def forget(*, worker_id: str) -> None:
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


def recover_stale(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Put back (or fail) the running tasks of workers that stopped beating."""
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    alive = set(WorkerHeartbeat.objects.filter(seen_at__gte=now - DEAD_AFTER)
                .values_list("worker_id", flat=True))
    requeued = failed = 0
    running = DBTaskResult.objects.running().filter(started_at__lt=now - DEAD_AFTER)
    for result in running.only("id", "worker_ids"):
        if result.worker_ids and result.worker_ids[-1] in alive:
            continue
        with transaction.atomic():
            try:
                result = DBTaskResult.objects.select_for_update().get(
                    pk=result.pk, status="RUNNING")
            except DBTaskResult.DoesNotExist:
                continue  # finished meanwhile
            if len(result.worker_ids) >= MAX_DELIVERIES:
                try:
                    raise WorkerDied(f"执行此任务的工作进程已 {len(result.worker_ids)} 次中途退出，"
                                     "不再重试")
                except WorkerDied as error:
                    result.set_failed(error)
                failed += 1
            else:
                result.status = "READY"
                result.save(update_fields=["status"])
                requeued += 1
        logger.warning("工作进程 %s 已停止：任务 %s %s", result.worker_ids[-1:], result.pk,
                       "记为失败" if result.status == "FAILED" else "重新排队")
    WorkerHeartbeat.objects.filter(seen_at__lt=now - DEAD_AFTER * 10).delete()
    return {"requeued": requeued, "failed": failed}


class Heartbeat(threading.Thread):
    """Beats for a worker from a thread of its own (the worker's thread may be in a long
    task), and puts back the tasks of dead workers on the way."""

    def __init__(self, worker_id: str):
        super().__init__(name="cms-heartbeat", daemon=True)
        self.worker_id = worker_id
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                close_old_connections()
                beat(worker_id=self.worker_id)
                recover_stale()
            except Exception:
                logger.exception("工作进程心跳失败")
            self.stopped.wait(BEAT.total_seconds())
        connection.close()

    def stop(self) -> None:
        self.stopped.set()


def recover_abandoned_on_redis(*, timestamp: float | None = None) -> dict[str, int]:
    """On RQ, put back (or fail) the tasks of workers that died mid-task.

    RQ keeps a started job in its StartedJobRegistry under a heartbeat that expires about 90 s
    after its worker stops; its own clean-up (every ten minutes in any live worker) then moves
    the job to the failed registry unless it has retries left, and our tasks are enqueued
    without retries: a task whose worker was killed was never run again. Here an abandoned
    job is given the deliveries left of ``MAX_DELIVERIES`` and RQ's clean-up retries it — or
    fails it, when it has already taken that many workers down. Called on every tick of the
    scheduler, so recovery waits only for the heartbeat to expire."""
    import django_rq
    from rq.job import JobStatus
    from rq.registry import StartedJobRegistry

    requeued = failed = 0
    for name in settings.RQ_QUEUES:
        queue = django_rq.get_queue(name)
        registry = StartedJobRegistry(queue=queue)
        for job_id in registry.get_expired_job_ids(timestamp):
            job = queue.fetch_job(job_id)
            if job is None or job.get_status(refresh=False) != JobStatus.STARTED:
                continue
            deliveries = job.meta.get("cms_deliveries", 0) + 1
            job.meta["cms_deliveries"] = deliveries
            job.retries_left = max(MAX_DELIVERIES - deliveries, 0)
            job.save(include_meta=True)
            if job.retries_left:
                requeued += 1
            else:
                failed += 1
                logger.error("任务 %s 已使 %s 个工作进程中途停止，记为失败", job_id, deliveries)
        registry.cleanup(timestamp)
    return {"requeued": requeued, "failed": failed}
