"""The persistent queue on its real backends: the database (django-tasks-db, with our worker's
recovery of dead workers' tasks) and RQ on Redis (DB 2 of the local Redis)."""

import datetime
import io
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from wagtail import hooks

from cms.jobs import outbox, scheduler, workers
from cms.jobs.models import JobRun, PendingEnqueue, WorkerHeartbeat
from cms.jobs.schedule import MINUTE, Job
from tests.jobs.tasks import failing, trivial

DB = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
RQ = {"default": {"BACKEND": "django_tasks_rq.RQBackend"}}
ECHO = Job("echo_test", "测试任务", every=MINUTE, command=("check",))


@pytest.fixture(autouse=True)
def echo_job():
    """The job the workers look up by name (registered as another app would)."""
    with hooks.register_temporarily("register_scheduled_jobs", lambda: [ECHO]):
        yield


def run_db_worker() -> None:
    # The worker closes connections not in autocommit mode between tasks, as a request
    # does: that would be the test's own (on PostgreSQL; SQLite's in-memory one is spared).
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload",
                     verbosity=0, stdout=io.StringIO())


# The database backend.

@pytest.fixture
def db_queue(settings, db):
    settings.TASKS = DB


def test_on_the_database_a_scheduled_run_is_queued_with_its_row_and_run_by_a_worker(db_queue):
    from django_tasks_db.models import DBTaskResult

    (run,) = scheduler.tick(jobs=[ECHO])
    run.refresh_from_db()
    assert run.status == JobRun.Status.QUEUED
    task = DBTaskResult.objects.get()
    assert str(task.id) == run.task_id or task.id.hex == run.task_id.replace("-", "")
    assert task.args_kwargs == {"args": [run.pk], "kwargs": {}}  # the task takes an id
    run_db_worker()
    run.refresh_from_db()
    assert run.status == JobRun.Status.SUCCEEDED and run.attempts == 1, run.error
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


def test_on_the_database_a_run_rolled_back_leaves_no_task(db_queue):
    from django_tasks_db.models import DBTaskResult

    with pytest.raises(RuntimeError), transaction.atomic():
        scheduler.tick(jobs=[ECHO])
        raise RuntimeError("the scheduler dies before its commit")
    assert not JobRun.objects.exists() and not DBTaskResult.objects.exists()


def test_on_the_database_a_failure_is_recorded_with_its_traceback(db_queue):
    from django_tasks_db.models import DBTaskResult

    failing.enqueue("磁盘已满")
    run_db_worker()
    result = DBTaskResult.objects.get()
    assert result.status == "FAILED" and result.exception_class_path == "builtins.ValueError"
    assert "Traceback" in result.traceback and "磁盘已满" in result.traceback


def test_a_task_of_a_dead_worker_is_put_back_and_a_poisonous_one_failed(db_queue):
    from django_tasks_db.models import DBTaskResult

    now = timezone.now()
    long_ago = now - workers.DEAD_AFTER * 2
    dead = trivial.enqueue(1)
    alive = trivial.enqueue(2)
    poison = trivial.enqueue(3)
    just_claimed = trivial.enqueue(4)
    WorkerHeartbeat.objects.create(worker_id="alive", hostname="h", pid=1, seen_at=now)
    WorkerHeartbeat.objects.create(worker_id="dead", hostname="h", pid=2, seen_at=long_ago)
    for result, worker_ids, started in ((dead, ["dead"], long_ago), (alive, ["alive"], long_ago),
                                        (poison, ["a", "b", "c"], long_ago),
                                        (just_claimed, ["new"], now)):
        DBTaskResult.objects.filter(pk=result.id).update(status="RUNNING", started_at=started,
                                                          worker_ids=worker_ids)
    assert workers.recover_stale(now=now) == {"requeued": 1, "failed": 1}
    statuses = dict(DBTaskResult.objects.values_list("args_kwargs__args__0", "status"))
    assert statuses == {1: "READY", 2: "RUNNING", 3: "FAILED", 4: "RUNNING"}
    failed = DBTaskResult.objects.get(pk=poison.id)
    assert "WorkerDied" in failed.exception_class_path and "3 次" in failed.traceback
    run_db_worker()  # the put-back task runs to completion
    assert DBTaskResult.objects.get(pk=dead.id).status == "SUCCESSFUL"


def test_the_outbox_enqueues_what_a_dead_process_committed_once(db_queue):
    from django_tasks_db.models import DBTaskResult

    with transaction.atomic():  # committed, but its process died before enqueueing
        pending = outbox.record([(trivial, [7])])
        outbox.record([(trivial, [7]), (trivial, [8])], pending=pending)
    assert not DBTaskResult.objects.exists()
    assert outbox.flush_stale() == 0  # too recent: its own process may still enqueue it
    later = timezone.now() + outbox.STALE_AFTER * 2
    assert outbox.flush_stale(now=later) == 1
    assert sorted(DBTaskResult.objects.values_list("args_kwargs__args__0", flat=True)) == [7, 8]
    outbox.dispatch(pending)  # the writer wakes up late: nothing enqueued twice
    assert DBTaskResult.objects.count() == 2 and not PendingEnqueue.objects.exists()


# RQ on Redis.

@pytest.fixture
def rq_queue(settings, db):
    import django_rq

    settings.TASKS = RQ
    connection = django_rq.get_connection("default")
    connection.flushdb()
    yield django_rq.get_queue("default")
    connection.flushdb()


def run_rq_worker(queue) -> None:
    from django_tasks_rq.backend import Job
    from rq import SimpleWorker

    SimpleWorker([queue], connection=queue.connection, job_class=Job).work(burst=True)


def test_on_redis_tasks_run_and_failures_keep_their_traceback(rq_queue):
    from django_tasks import default_task_backend

    ok = trivial.enqueue(41)
    bad = failing.enqueue("网络中断")
    run_rq_worker(rq_queue)
    assert default_task_backend.get_result(ok.id).status == "SUCCESSFUL"
    assert default_task_backend.get_result(ok.id).return_value == 41
    failed = default_task_backend.get_result(bad.id)
    assert failed.status == "FAILED" and "网络中断" in failed.errors[0].traceback


def test_on_redis_a_scheduled_run_is_committed_then_queued_and_runs_once(rq_queue):
    (run,) = scheduler.tick(jobs=[ECHO])
    run.refresh_from_db()
    assert run.status == JobRun.Status.QUEUED and run.task_id
    run_rq_worker(rq_queue)
    run.refresh_from_db()
    assert run.status == JobRun.Status.SUCCEEDED


def test_on_redis_a_run_left_pending_by_a_dead_scheduler_is_queued_by_the_next(rq_queue):
    stranded = JobRun.objects.create(job=ECHO.name, period=ECHO.period(now=timezone.now()))
    JobRun.objects.filter(pk=stranded.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=5))
    assert scheduler.tick(jobs=[ECHO]) == []  # the period has its row: not a second one
    run_rq_worker(rq_queue)
    stranded.refresh_from_db()
    assert stranded.status == JobRun.Status.SUCCEEDED


def claim_and_die(queue) -> None:
    """A worker takes the next job and dies before finishing it (its heartbeat stops)."""
    from django_tasks_rq.backend import Job
    from rq import SimpleWorker

    worker = SimpleWorker([queue], connection=queue.connection, job_class=Job)
    job, _ = queue.dequeue_any([queue], timeout=None, connection=queue.connection,
                               job_class=Job)
    worker.prepare_execution(job)
    worker.prepare_job_execution(job)


def test_on_redis_a_task_of_a_dead_worker_is_put_back_and_a_poisonous_one_failed(rq_queue):
    import time

    from django_tasks import default_task_backend

    after_heartbeats_expire = time.time() + 3600
    result = trivial.enqueue(5)
    claim_and_die(rq_queue)
    assert default_task_backend.get_result(result.id).status == "RUNNING"
    assert workers.recover_abandoned_on_redis(timestamp=time.time() - 60) == {
        "requeued": 0, "failed": 0}  # its heartbeat is still fresh
    assert workers.recover_abandoned_on_redis(timestamp=after_heartbeats_expire) == {
        "requeued": 1, "failed": 0}
    run_rq_worker(rq_queue)  # the put-back task runs to completion
    assert default_task_backend.get_result(result.id).status == "SUCCESSFUL"
    assert default_task_backend.get_result(result.id).return_value == 5

    poison = trivial.enqueue(6)
    for _ in range(workers.MAX_DELIVERIES - 1):
        claim_and_die(rq_queue)
        assert workers.recover_abandoned_on_redis(timestamp=after_heartbeats_expire) == {
            "requeued": 1, "failed": 0}
    claim_and_die(rq_queue)
    assert workers.recover_abandoned_on_redis(timestamp=after_heartbeats_expire) == {
        "requeued": 0, "failed": 1}
    run_rq_worker(rq_queue)
    assert default_task_backend.get_result(poison.id).status == "FAILED"
