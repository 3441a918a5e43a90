"""Crash safety, proven by killing real processes (SIGKILL) that share a SQLite database
under a temporary CMS_DATA_DIR: the web process right after an approval commits, a worker
mid-task, schedulers at random moments.

The database is this test process's (migrated once for the session), copied to a file with
SQLite's online backup once the test has built what it needs: migrating afresh would take
longer than all the tests together. The processes use tests/jobs/process_settings.py.
"""

import itertools
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from tests.shared import copy_test_database

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def sqlite_only():
    if connection.vendor != "sqlite":
        pytest.skip("the processes share a copy of the SQLite test database")


def environment(data_dir: Path, **extra) -> dict:
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "CMS_BAKE_DIR")}
    env.update(DJANGO_SETTINGS_MODULE="tests.jobs.process_settings", CMS_DATA_DIR=str(data_dir),
               CMS_TASKS_BACKEND="db", PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", **extra)
    return env


def manage(data_dir: Path, *args, timeout=120, **extra) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, timeout=timeout,
                          env=environment(data_dir, **extra), capture_output=True, text=True)


def spawn(data_dir: Path, name: str, *args, **extra) -> subprocess.Popen:
    log = open(data_dir / f"{name}.log", "a", encoding="utf-8")  # noqa: SIM115
    return subprocess.Popen([sys.executable, "manage.py", *args], cwd=ROOT,
                            env=environment(data_dir, **extra), stdout=log,
                            stderr=subprocess.STDOUT)


def copy_database(data_dir: Path) -> None:
    """This test's (committed) database, with its signing key, for the processes."""
    copy_test_database(data_dir / "db.sqlite3")
    key = Path(django_settings.REVIEW_LOG_KEY_FILE)
    if key.exists():
        (data_dir / "keys").mkdir(exist_ok=True)
        (data_dir / "keys" / key.name).write_bytes(key.read_bytes())


def query(data_dir: Path, sql: str, *params) -> list[tuple]:
    with sqlite3.connect(data_dir / "db.sqlite3", timeout=30) as db:
        return db.execute(sql, params).fetchall()


def wait_for(condition, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# The leader's approval, in a process of its own that dies the instant the approval commits:
# before any of the transaction's on-commit callbacks (where re-rendering used to be queued).
APPROVE_AND_DIE = """
import os, signal
from django.db import connection
from wagtail import signals
from cms.models import ArticlePage
from tests.conftest import publish_via_workflow

def die_at_commit(sender, instance, **kwargs):
    connection.run_on_commit.insert(0, (set(connection.savepoint_ids),
                                        lambda: os.kill(os.getpid(), signal.SIGKILL), False))

signals.page_published.connect(die_at_commit)
publish_via_workflow(ArticlePage.objects.get(pk={pk}))
print("still alive")
"""


def test_killing_the_web_process_right_after_an_approval_commits_loses_no_rerendering(
        tmp_path, settings):
    from cms.baking import paths
    from tests.conftest import build_network, make_article

    # Built with static publishing on, into the directory the processes bake into.
    settings.BAKE_ON_PUBLICATION = True
    settings.BAKE_DIR = tmp_path / "public"
    network = build_network()
    news = network.column(network.school_a, "news")
    article = make_article(news, "审批后进程被杀的文章", live=False)
    copy_database(tmp_path)

    approval = manage(tmp_path, "shell", "-c", APPROVE_AND_DIE.format(pk=article.pk))
    assert approval.returncode == -signal.SIGKILL, approval.stderr[-3000:]
    assert "still alive" not in approval.stdout
    # Committed: the page is live and the re-rendering recorded, but nothing was enqueued
    # or baked (the process died first).
    assert query(tmp_path, "SELECT live FROM wagtailcore_page WHERE id = ?", article.pk) == [(1,)]
    assert query(tmp_path, "SELECT COUNT(*) FROM jobs_pendingenqueue") == [(1,)]
    assert query(tmp_path, "SELECT COUNT(*) FROM django_tasks_database_dbtaskresult "
                           "WHERE task_path LIKE 'cms.baking.%'") == [(0,)]
    url = article.get_url_parts()[2]
    page_file = tmp_path / "public" / "jia.test" / paths.file_for_url(url_path=url, page_number=1)
    assert not page_file.exists()

    time.sleep(1.1)  # the outbox's record is now older than any live process's commit
    worker = manage(tmp_path, "db_worker", "--batch", "--no-startup-delay", "--no-reload")
    assert worker.returncode == 0, worker.stderr[-3000:]
    assert "审批后进程被杀的文章" in page_file.read_text(encoding="utf-8")
    assert query(tmp_path, "SELECT COUNT(*) FROM jobs_pendingenqueue") == [(0,)]
    assert query(tmp_path, "SELECT status FROM django_tasks_database_dbtaskresult "
                           "WHERE task_path LIKE 'cms.baking.%'") == [("SUCCESSFUL",)]
    check = manage(tmp_path, "publication_log", "check-live")
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-3000:]


def test_killing_a_worker_mid_task_leaves_the_task_to_be_run_again_and_completed(
        tmp_path, settings):
    from tests.jobs.tasks import slow_marker

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    marker = tmp_path / "marker"
    result = slow_marker.enqueue(str(marker), 2.0)
    copy_database(tmp_path)

    first = spawn(tmp_path, "worker-1", "db_worker", "--no-startup-delay", "--no-reload",
                  "--interval", "0.1", "--worker-id", "first")
    try:
        wait_for(lambda: marker.exists(), timeout=60, what="the task to start")
        first.send_signal(signal.SIGKILL)
        first.wait()
    finally:
        stop(first)
    status = "SELECT status, worker_ids FROM django_tasks_database_dbtaskresult WHERE id = ?"
    task_id = result.id.replace("-", "")
    assert query(tmp_path, status, task_id) == [("RUNNING", '["first"]')]

    second = spawn(tmp_path, "worker-2", "db_worker", "--no-startup-delay", "--no-reload",
                   "--interval", "0.1", "--worker-id", "second")
    try:
        wait_for(lambda: "done" in marker.read_text(), timeout=60, what="the task to finish")
        wait_for(lambda: query(tmp_path, status, task_id)[0][0] == "SUCCESSFUL", timeout=10,
                 what="the result to be recorded")
    finally:
        stop(second)
    assert query(tmp_path, status, task_id) == [("SUCCESSFUL", '["first", "second"]')]
    lines = [line.split()[0] for line in marker.read_text().splitlines()]
    assert lines == ["start", "start", "done"]
    # A worker stopping forgets its heartbeat; the killed one's is left to expire.
    assert query(tmp_path, "SELECT worker_id FROM jobs_workerheartbeat") == [("first",)]


def test_killing_schedulers_at_random_moments_misses_no_period_and_runs_none_twice(tmp_path):
    copy_database(tmp_path)
    ticks = tmp_path / "ticks"
    tick_env = {"CMS_TEST_TICK_SECONDS": "2", "CMS_TEST_TICK_FILE": str(ticks)}
    worker = spawn(tmp_path, "worker", "db_worker", "--no-startup-delay", "--no-reload",
                   "--interval", "0.1", **tick_env)
    schedulers = [spawn(tmp_path, f"scheduler-{n}", "scheduler", "--interval", "0.1",
                        **tick_env) for n in range(2)]
    rng = random.Random(19)
    starts = [1, 1]
    kills = 0

    def ready(n: int) -> bool:
        log = tmp_path / f"scheduler-{n}.log"
        return log.exists() and log.read_text().count("调度 ") >= starts[n]

    try:
        wait_for(lambda: ticks.exists(), timeout=60, what="the first run")
        # One scheduler at a time is killed at a random moment (the other one up) and
        # started again.
        while kills < 4:
            victim = kills % 2
            wait_for(lambda: ready(1 - victim), timeout=60, what="the other scheduler")  # noqa: B023
            time.sleep(rng.uniform(0.1, 1.0))
            schedulers[victim].send_signal(signal.SIGKILL)
            schedulers[victim].wait()
            kills += 1
            starts[victim] += 1
            schedulers[victim] = spawn(tmp_path, f"scheduler-{victim}", "scheduler",
                                       "--interval", "0.1", **tick_env)
        time.sleep(2.5)
    finally:
        for process in schedulers:
            stop(process)
    try:
        wait_for(lambda: not query(tmp_path, "SELECT COUNT(*) FROM jobs_jobrun WHERE job = "
                                             "'test_tick' AND status NOT IN ('succeeded', "
                                             "'failed')")[0][0],
                 timeout=30, what="the worker to finish the runs")
    finally:
        stop(worker)
    runs = query(tmp_path, "SELECT period, status, attempts FROM jobs_jobrun "
                           "WHERE job = 'test_tick' ORDER BY period")
    assert len(runs) >= 4
    assert {status for _, status, _ in runs} == {"succeeded"}
    periods = [_seconds(period) for period, _, _ in runs]
    assert all(b - a == 2 for a, b in itertools.pairwise(periods)), periods
    # Each run ran its command once: one line per run.
    assert len(ticks.read_text().splitlines()) == len(runs)


def _seconds(stored: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(stored).timestamp())
