"""Task queue figures (issue 19): tasks per second through each backend, and the time to drain
10,000 queued tasks with 1 and 2 workers.

    .venv/bin/python bench/queue_throughput.py [--tasks 10000] [--backends db,rq] [--workers 1,2]
        [--database-url postgres://postgres@127.0.0.1:5432/postgres]
        [--rerender 300 --demo-dir DIR] [--redis-url redis://127.0.0.1:6379/2]

For each backend (``db``: django-tasks-db on the database — SQLite in a fresh CMS_DATA_DIR,
the embedded default, or a throwaway PostgreSQL database with --database-url; ``rq``:
django-tasks-rq on Redis, with RQ's forking worker; ``rq-simple``: the same with
SimpleWorker, which runs jobs in the worker process) it

* enqueues ``--tasks`` trivial tasks one by one, each in its own transaction (how the
  application enqueues: one per publication), and prints the enqueue rate;
* for each worker count, starts that many real workers (``manage.py db_worker``; ``manage.py
  rqworker default --burst``, RQ's forking worker) against the full queue, and times from the
  moment the first worker is up (its heartbeat row; its registration in Redis) until every
  task has finished: the drain time and the tasks per second through the workers.

With --rerender N and --demo-dir (a CMS_DATA_DIR with a demo built and baked, e.g. one kept by
``bench/public_read.py --keep``), the same drain for N re-render tasks
(``bake_publication_events`` of one article each, cycling through the site's articles: the
article, its listings, homes, feeds and sitemap) on the database backend of that directory.

Workers run cms.settings.dev with DEBUG off (a generated settings module).

(Not named bench/queue.py: run as a script, bench/ is first on sys.path, and a queue.py there
would shadow the standard library's ``queue`` — which logging.handlers, and so Django's
logging set-up, imports — in every bench script.)
"""

import argparse
import contextlib
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
TRIVIAL = "tests.jobs.tasks.trivial"  # importable by the workers (PYTHONPATH is the repo)


def write_settings(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    # Both queues under aliases of their own, so that one process enqueues on either.
    (directory / "bench_queue_settings.py").write_text(
        "from cms.settings.dev import *  # noqa\nDEBUG = False\n"
        "TASKS = {**TASKS, 'db': {'BACKEND': TASKS_BACKENDS['db']},\n"
        "         'rq': {'BACKEND': TASKS_BACKENDS['rq']}}\n")


def environment(*, data_dir: Path, settings_dir: Path, backend: str, database_url: str | None,
                redis_url: str) -> dict:
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "CMS_BAKE_DIR", "DJANGO_SETTINGS_MODULE")}
    env.update(CMS_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="bench_queue_settings",
               PYTHONPATH=os.pathsep.join([str(settings_dir), str(ROOT)]),
               CMS_TASKS_BACKEND=backend, CMS_REDIS_URL=redis_url, PYTHONUNBUFFERED="1")
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def manage(env: dict, *args: str, log: Path) -> None:
    with open(log, "a") as handle:
        completed = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env,
                                   stdout=handle, stderr=subprocess.STDOUT)
    if completed.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed; see {log}")


def start_workers(env: dict, backend: str, count: int, log: Path) -> list[subprocess.Popen]:
    if backend == "db":
        argv = ["db_worker", "--no-reload", "--no-startup-delay", "--interval", "0.05",
                "--backend", "db"]
    elif backend == "rq":
        argv = ["rqworker", "default", "--burst"]
    else:  # rq-simple: no fork per job
        argv = ["rqworker", "default", "--burst", "--worker-class", "rq.worker.SimpleWorker"]
    with open(log, "a") as handle:
        return [subprocess.Popen([PYTHON, "manage.py", *argv], cwd=ROOT, env=env,
                                 stdout=handle, stderr=subprocess.STDOUT,
                                 start_new_session=True) for _ in range(count)]


def stop(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        if worker.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


class DbQueue:
    def __init__(self):
        from django_tasks_db.models import DBTaskResult

        from cms.jobs.models import WorkerHeartbeat

        self.results, self.heartbeats = DBTaskResult, WorkerHeartbeat

    def clear(self) -> None:
        self.results.objects.all().delete()

    def up(self) -> bool:
        return self.heartbeats.objects.exists()

    def unfinished(self) -> int:
        return self.results.objects.filter(status__in=["READY", "RUNNING"]).count()

    def failed(self) -> int:
        return self.results.objects.filter(status="FAILED").count()


class RqQueue:
    def __init__(self):
        import django_rq

        self.queue = django_rq.get_queue("default")

    def clear(self) -> None:
        self.queue.connection.flushdb()

    def up(self) -> bool:
        from rq import Worker

        return bool(Worker.all(queue=self.queue))

    def unfinished(self) -> int:
        return self.queue.count + self.queue.started_job_registry.count

    def failed(self) -> int:
        return self.queue.failed_job_registry.count


def drain(*, queue, env: dict, backend: str, workers: int, total: int, log: Path) -> float:
    started_processes = time.perf_counter()
    processes = start_workers(env, backend, workers, log)
    try:
        while not queue.up():
            if all(p.poll() is not None for p in processes):
                break  # a burst worker already done
            time.sleep(0.01)
        started = time.perf_counter()
        while queue.unfinished():
            if all(p.poll() is not None for p in processes) and queue.unfinished():
                raise SystemExit(f"workers exited with {queue.unfinished()} tasks left; "
                                 f"see {log}")
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
    finally:
        stop(processes)
    print(f"    {workers} worker(s): {total:,} tasks drained in {elapsed:6.1f} s "
          f"= {total / elapsed:7.0f} tasks/s (workers up after "
          f"{started - started_processes:.1f} s, not counted); failed: {queue.failed()}",
          flush=True)
    return elapsed


def enqueue_trivial(count: int, backend: str) -> float:
    from django.utils.module_loading import import_string

    task = import_string(TRIVIAL).using(backend=backend)
    started = time.perf_counter()
    for n in range(count):
        task.enqueue(n)  # autocommit: one transaction each
    return time.perf_counter() - started


def setup(env: dict, settings_dir: Path) -> None:
    """Django in this process, with the workers' settings and environment."""
    os.environ.update(env)
    sys.path[:0] = [str(settings_dir), str(ROOT)]
    import django

    django.setup()


def run_backend(args, backend: str, env: dict, log: Path) -> dict:
    queue = DbQueue() if backend == "db" else RqQueue()
    figures = {}
    print(f"\n{backend}: {describe(backend, args)}", flush=True)
    for workers in args.workers:
        queue.clear()
        seconds = enqueue_trivial(args.tasks, "db" if backend == "db" else "rq")
        figures["enqueue"] = args.tasks / seconds
        print(f"  enqueued {args.tasks:,} trivial tasks one by one in {seconds:.1f} s = "
              f"{args.tasks / seconds:7.0f} tasks/s", flush=True)
        figures[workers] = drain(queue=queue, env={**env, "CMS_TASKS_BACKEND": backend[:2]},
                                 backend=backend, workers=workers, total=args.tasks, log=log)
    queue.clear()
    return figures


def describe(backend: str, args) -> str:
    if backend == "rq":
        return f"RQ on Redis {args.redis_url} (rqworker: one forked work horse per job)"
    if backend == "rq-simple":
        return f"RQ on Redis {args.redis_url} (rqworker --worker-class SimpleWorker: no fork)"
    if args.database_url:
        return "the database queue on PostgreSQL"
    return "the database queue on SQLite (WAL)"


def run_rerender(args, env: dict, log: Path) -> None:
    """N re-render tasks on the demo directory's database queue."""
    from cms.baking.tasks import bake_publication_events
    from cms.models import ArticlePage

    queue = DbQueue()
    task = bake_publication_events.using(backend="db")
    articles = list(ArticlePage.objects.live().values_list("pk", flat=True)[:500])
    print(f"\nre-render: {args.rerender} tasks (one article each, of {len(articles)}: the "
          f"article, its listings, homes, feeds, sitemap) on {args.demo_dir}", flush=True)
    for workers in args.workers:
        queue.clear()
        for n in range(args.rerender):
            task.enqueue([articles[n % len(articles)]], [])
        drain(queue=queue, env={**env, "CMS_TASKS_BACKEND": "db"}, backend="db",
              workers=workers, total=args.rerender, log=log)
    queue.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--backends", default="db,rq,rq-simple")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--database-url", help="a PostgreSQL server: a throwaway database")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/2")
    parser.add_argument("--rerender", type=int, default=0)
    parser.add_argument("--demo-dir", type=Path)
    args = parser.parse_args()
    args.workers = [int(n) for n in args.workers.split(",")]
    if args.rerender and not args.demo_dir:
        parser.error("--rerender needs --demo-dir")
    work = Path(tempfile.mkdtemp(prefix="bench-queue-"))
    settings_dir = work / "settings"
    write_settings(settings_dir)
    data_dir = args.demo_dir or work / "data"
    created = create_database(args.database_url) if args.database_url else None
    env = environment(data_dir=data_dir, settings_dir=settings_dir, backend="db",
                      database_url=created, redis_url=args.redis_url)
    log = work / "workers.log"
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, load "
          f"{os.getloadavg()[0]:.1f}; work in {work}", flush=True)
    try:
        if not args.demo_dir:  # only the queue's tables: the trivial task touches nothing else
            for app in ("django_tasks_database", "jobs"):
                manage(env, "migrate", app, "-v0", log=log)
        setup(env, settings_dir)
        for backend in [b for b in args.backends.split(",") if b]:
            run_backend(args, backend, env, log)
        if args.rerender:
            run_rerender(args, env, log)
    finally:
        if created:
            from django.db import connections

            connections.close_all()
            drop_database(args.database_url, created)
        shutil.rmtree(work, ignore_errors=True)


def create_database(server_url: str) -> str:
    import psycopg

    name = f"bench_queue_{os.getpid()}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def drop_database(server_url: str, database_url: str) -> None:
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
