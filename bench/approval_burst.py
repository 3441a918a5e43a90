"""Approval → baked file, one at a time and in a burst (issue 19: "Cost per publication does not
grow with the site"; the exam-results morning).

    .venv/bin/python bench/approval_burst.py --data DIR [--approvals 5] [--burst 10]
        [--warmup 1] [--column ID] [--workers 1]

DIR is a state directory (CMS_DATA_DIR: SQLite and the baked tree, the embedded default) made
by ``manage.py migrate``, ``demo --articles N`` and ``bake --all`` (bench/public_read.py
--keep makes one; so does ``CMS_DATA_DIR=DIR manage.py demo --articles N``); ``migrate`` is
run first. In the column with most articles on a school's site, drafts go through the real
two-stage workflow in the admin (the administrator's review, then the leader's approval
signed with the passphrase key, posted to Wagtail's workflow action view), DEBUG off. The
re-rendering runs as deployed: the approval's transaction records the bake task in the outbox
(cms.jobs.outbox), enqueued on the database queue when it commits, and run by ``--workers``
queue workers (``manage.py db_worker``, started by the bench, stopped at the end; their output
goes to a log in a temporary directory). Tasks left queued in DIR (the demo's publications)
run first, untimed.

* ``--warmup`` approvals first, not counted (the first bake after an upgrade renders what the
  new code renders differently);
* ``--approvals`` one at a time: each waits until its bake task has finished;
* ``--burst`` approvals posted back to back (prepared first, so the burst is only the
  leaders' approvals: the exam-results morning).

For each approval: the time from the start of the leader's request until the article's own
baked file holds its title (a thread polls it every 2 ms), and until the bake task enqueued
for that approval has finished (every file it affects re-rendered: the task renders them all
before it returns; its ``finished_at`` on the queue, a wall-clock time compared with the
bench's own); the files that task wrote (its return value: written, unchanged — rendered to
the same bytes, or left because a later task already rendered them — and removed); the
approval request itself. p50/p95/max per mode. The figures depend on the machine's load: run
it on an idle machine. On SQLite every transaction takes the write lock at its start (the
settings' IMMEDIATE mode), a worker's claim of a task included: in a burst posted back to back
the workers may get none until the burst is over (the first task then takes in every
approval's page: compare its files written with the others').
"""

import argparse
import contextlib
import datetime
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The same 2 ms file poller as the read benchmark (this directory is on sys.path when run).
from public_read import FileWatcher

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = "bench_approval_burst_settings"


def setup(data: Path) -> Path:
    """Settings for this process and the queue workers; migrate. The settings' directory."""
    settings_dir = Path(tempfile.mkdtemp(prefix="bench-approval-"))
    (settings_dir / f"{SETTINGS}.py").write_text(
        "from cms.settings.dev import *  # noqa: F403\n\nDEBUG = False\n"
        "EMAIL_BACKEND = 'django.core.mail.backends.locmem.EmailBackend'\n"
        # The clients log in with force_login: no second factor to enrol (not what is timed).
        "ACCOUNTS_REQUIRE_SECOND_FACTOR = False\n")
    sys.path[:0] = [str(settings_dir), str(ROOT)]
    os.environ["CMS_DATA_DIR"] = str(data)
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    os.environ["CMS_TASKS_BACKEND"] = "db"  # the persistent queue, as deployed
    for name in ("DATABASE_URL", "CMS_BAKE_DIR"):
        os.environ.pop(name, None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--no-input", verbosity=0)
    return settings_dir


class Workers:
    """``manage.py db_worker`` subprocesses, each in its own session (stopped by group)."""

    def __init__(self, *, count: int, settings_dir: Path):
        self.log = settings_dir / "db_worker.log"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(settings_dir), str(ROOT)]),
               "PYTHONUNBUFFERED": "1"}
        argv = [sys.executable, str(ROOT / "manage.py"), "db_worker", "--no-reload",
                "--no-startup-delay", "--interval", "0.05"]
        self.processes: list[subprocess.Popen] = []
        with open(self.log, "ab") as handle:
            for _ in range(count):
                self.processes.append(subprocess.Popen(
                    argv, env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=handle,
                    stderr=subprocess.STDOUT, start_new_session=True))

    def check(self) -> None:
        for process in self.processes:
            if process.poll() is not None:
                raise SystemExit(f"db_worker {process.pid} exited with {process.returncode}; "
                                 f"see {self.log}")

    def wait_up(self, *, timeout: float = 120) -> None:
        """Until every worker has written its heartbeat (it is polling the queue)."""
        from cms.jobs.models import WorkerHeartbeat

        deadline = time.monotonic() + timeout
        pids = [process.pid for process in self.processes]
        while WorkerHeartbeat.objects.filter(pid__in=pids).count() < len(pids):
            self.check()
            if time.monotonic() > deadline:
                raise SystemExit(f"the queue workers did not start within {timeout:.0f} s; "
                                 f"see {self.log}")
            time.sleep(0.05)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def wait_for_queue(workers: Workers, *, timeout: float) -> None:
    """Until the database queue has nothing ready or running."""
    from django_tasks_db.models import DBTaskResult

    deadline = time.monotonic() + timeout
    while DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists():
        workers.check()
        if time.monotonic() > deadline:
            raise SystemExit(f"the task queue did not drain within {timeout:.0f} s; "
                             f"see {workers.log}")
        time.sleep(0.02)


class TaskClock:
    """When the bake task enqueued for an article's approval finished, and what it wrote: the
    queue's own record (DBTaskResult) of the first bake_publication_events task enqueued at
    or after the approval began whose page ids include the article."""

    def __init__(self):
        from django_tasks_db.models import DBTaskResult

        from cms.baking.tasks import bake_publication_events

        self.results = DBTaskResult.objects.filter(
            task_path=bake_publication_events.module_path)

    def task_for(self, *, page_id: int, since: float) -> dict:
        after = datetime.datetime.fromtimestamp(since, tz=datetime.UTC)
        for result in self.results.filter(enqueued_at__gte=after).order_by("enqueued_at"):
            if page_id not in result.args_kwargs["args"][0]:
                continue
            if result.status != "SUCCESSFUL":
                raise SystemExit(f"the bake task {result.id} for page {page_id} is "
                                 f"{result.status}:\n{result.traceback}")
            value = result.return_value or {}
            return {"finished": result.finished_at.timestamp(),
                    "written": value.get("written", 0), "unchanged": value.get("unchanged", 0),
                    "removed": value.get("removed", 0)}
        raise SystemExit(f"no bake task enqueued for page {page_id} after its approval")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--approvals", type=int, default=5)
    parser.add_argument("--burst", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--column", type=int)
    parser.add_argument("--label", default="")
    parser.add_argument("--workers", type=int, default=1, help="db_worker processes")
    args = parser.parse_args()
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    settings_dir = setup(args.data.resolve())
    from django_tasks_db.models import DBTaskResult

    # Counted before the workers start: they take the first at once.
    queued = DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).count()
    drained = time.perf_counter()
    workers = Workers(count=args.workers, settings_dir=settings_dir)
    try:
        run(args, workers, queued=queued, drained=drained)
    finally:
        workers.stop()


def run(args, workers: Workers, *, queued: int, drained: float) -> None:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse
    from wagtail.models import Page, Site, WorkflowState

    from cms.baking import paths
    from cms.baking.engine import bake_root, page_url_path, site_root
    from cms.demo.content import DEMO_SIGNING_PASSPHRASE
    from cms.models import ArticlePage, ColumnPage
    from cms.publishing import submit

    if args.column:
        column = ColumnPage.objects.get(pk=args.column)
    else:
        schools = tuple(site.root_page.path for site in
                        Site.objects.filter(is_default_site=False).select_related("root_page"))
        columns = ColumnPage.objects.live().public().order_by("-numchild", "path")
        column = next((c for c in columns[:50] if c.path.startswith(schools)), columns.first())
    site = column.get_site()
    articles = ArticlePage.objects.live().descendant_of(column).count()
    total = ArticlePage.objects.live().count()
    listing = column.listing()
    # Archive pages (this code) or pagination pages after the first (before issue 19).
    rest = (len(listing.archive_pages) if hasattr(listing, "archive_pages")
            else listing.page_count - 1)
    print(f"{args.label} column {column.url_path} on {site.hostname}: {articles} articles "
          f"({total} in the network), listing pages: front + {rest}; "
          f"{len(workers.processes)} db_worker(s)", flush=True)
    home_slug = site.root_page.slug
    prefix = "county" if home_slug == "portal" else home_slug
    users = get_user_model().objects
    editor, reviewer, leader = (users.get(username=f"{prefix}_{role}")
                                for role in ("editor", "admin", "leader"))
    reviewer_client, leader_client = Client(), Client()
    reviewer_client.force_login(reviewer)
    leader_client.force_login(leader)
    site_dir = site_root(root=bake_root(), site=site)
    clock = TaskClock()
    tag = f"{os.getpid()}{int(time.time()) % 100000}"

    def post(client, page, data):
        state = WorkflowState.objects.get(object_id=str(page.pk), status="in_progress")
        url = reverse("wagtailadmin_pages:workflow_action",
                      args=[page.pk, "approve", state.current_task_state.pk])
        response = client.post(url, data)
        if response.status_code not in (200, 302):
            raise SystemExit(f"workflow action answered {response.status_code}")
        return response

    def draft(number: int):
        """A draft submitted and past the first review: waiting for the leader."""
        title = f"审批延迟测试{number}（{tag}）"
        page = ArticlePage(title=title, slug=f"burst-{tag}-{number}", live=False,
                           body=[("paragraph", f"<p>{title}：正文一段。</p>")])
        column.refresh_from_db()
        column.add_child(instance=page)
        page.save_revision(user=editor)
        submit(page, user=editor)
        post(reviewer_client, page, {"comment": ""})
        target = site_dir / paths.file_for_url(url_path=page_url_path(page, site.pk))
        return page, title, target

    def approve(page, title, target) -> dict:
        watcher = FileWatcher(target, title.encode())
        watcher.start()
        # The task's finish is a wall-clock time written by the worker: compared with this.
        started_wall = time.time()
        started = time.perf_counter()
        response = post(leader_client, page,
                        {"comment": "", "passphrase": DEMO_SIGNING_PASSPHRASE})
        return {"response": response, "page": page, "title": title, "target": target,
                "watcher": watcher, "started": started, "started_wall": started_wall,
                "returned": time.perf_counter()}

    def settle(one: dict) -> dict:
        one["watcher"].join(timeout=300)
        one["watcher"].done.set()
        if not Page.objects.get(pk=one["page"].pk).live:
            raise SystemExit(f"“{one['title']}” is not live after the leader's approval "
                             f"({one['response'].status_code} "
                             f"{one['response'].get('Location', '')})")
        if one["watcher"].seen_at is None:
            raise SystemExit(f"{one['target']} without the title 300 s after approval")
        task = clock.task_for(page_id=one["page"].pk, since=one["started_wall"])
        return {"to_file": one["watcher"].seen_at - one["started"],
                "call": one["returned"] - one["started"],
                "everything": task["finished"] - one["started_wall"],
                "written": task["written"], "unchanged": task["unchanged"],
                "removed": task["removed"]}

    def one_at_a_time(count: int, start: int) -> list[dict]:
        results = []
        for number in range(start, start + count):
            one = approve(*draft(number))
            wait_for_queue(workers, timeout=600)
            results.append(settle(one))
        return results

    workers.wait_up()
    # Tasks queued while the state was built (the demo's publications) run first, untimed.
    from django_tasks_db.models import DBTaskResult

    bench_started = datetime.datetime.now(tz=datetime.UTC)
    wait_for_queue(workers, timeout=1800)
    if queued:
        print(f"{args.label} {queued} tasks already queued in {args.data} ran first "
              f"({time.perf_counter() - drained:.0f} s with the workers' start, not counted)",
              flush=True)
    one_at_a_time(args.warmup, 1)
    results = {"one at a time": one_at_a_time(args.approvals, 100)}
    if args.burst:
        drafts = [draft(number) for number in range(200, 200 + args.burst)]
        wait_for_queue(workers, timeout=600)  # the reviews' own work done first
        burst = [approve(*one) for one in drafts]
        span = burst[-1]["returned"] - burst[0]["started"]
        wait_for_queue(workers, timeout=1200)
        results["burst"] = [settle(one) for one in burst]
        print(f"{args.label} burst: {args.burst} approvals posted within {span:.1f} s",
              flush=True)
    summary = {}
    for mode, rows in results.items():
        for row in rows:
            print(f"{args.label} {mode:>13}: {row['to_file'] * 1000:7.0f} ms to its file, "
                  f"{row['everything']:6.2f} s every affected file, {row['written']:4d} "
                  f"files written by its task ({row['unchanged']} unchanged, "
                  f"{row['removed']} removed), approval call {row['call'] * 1000:5.0f} ms",
                  flush=True)

        def stats(key, rows=rows):
            values = sorted(row[key] for row in rows)
            p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
            return {"p50": statistics.median(values), "p95": p95, "max": values[-1]}

        summary[mode] = {"to_file": stats("to_file"), "everything": stats("everything"),
                         "written_per_task": stats("written"),
                         "unchanged_per_task": stats("unchanged")}
        print(f"{args.label} {mode}: to file p50 {summary[mode]['to_file']['p50']:.2f} s, "
              f"p95 {summary[mode]['to_file']['p95']:.2f} s; every affected file p50 "
              f"{summary[mode]['everything']['p50']:.2f} s, p95 "
              f"{summary[mode]['everything']['p95']:.2f} s, max "
              f"{summary[mode]['everything']['max']:.2f} s (goals: < 1 s and < 1.5 s); "
              f"files written per task p50 {summary[mode]['written_per_task']['p50']:.0f}, "
              f"max {summary[mode]['written_per_task']['max']:.0f}",
              flush=True)
    # Any other task of the run that failed (search indexing, say) is a finding too.
    failed = (DBTaskResult.objects.filter(status="FAILED", enqueued_at__gte=bench_started)
              .values_list("task_path", flat=True))
    for path in sorted(set(failed)):
        print(f"{args.label} FAILED: {list(failed).count(path)} × {path} (see {workers.log})",
              flush=True)
    print("JSON " + json.dumps({"label": args.label, "column_articles": articles,
                                "articles": total, "workers": len(workers.processes),
                                **summary}), flush=True)


if __name__ == "__main__":
    main()
