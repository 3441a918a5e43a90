"""Approval → baked file, one at a time and in a burst (issue 19: "Cost per publication does not
grow with the site"; the exam-results morning).

    .venv/bin/python bench/approval_burst.py --data DIR [--approvals 5] [--burst 10]
        [--warmup 1] [--column ID]

DIR is a state directory (CMS_DATA_DIR: SQLite and the baked tree, the embedded default) made
by ``manage.py migrate``, ``demo --articles N`` and ``bake --all`` (bench/public_read.py
--keep makes one; so does ``CMS_DATA_DIR=DIR manage.py demo --articles N``); ``migrate`` is
run first. In the column with most articles on a school's site, drafts go through the real
two-stage workflow in the admin (the administrator's review, then the leader's approval
signed with the passphrase key, posted to Wagtail's workflow action view), with the
project's tasks backend as configured (DEBUG off):

* ``--warmup`` approvals first, not counted (the first bake after an upgrade renders what the
  new code renders differently);
* ``--approvals`` one at a time: each waits until its bake task has finished;
* ``--burst`` approvals posted back to back (prepared first, so the burst is only the
  leaders' approvals: the exam-results morning).

For each approval: the time from the start of the leader's request until the article's own
baked file holds its title (a thread polls it every 2 ms), and until the bake task enqueued
for that approval has finished (every file it affects re-rendered: the task renders them all
before it returns); the files rendered per task; the approval request itself. p50/p95/max
per mode. The figures depend on the machine's load: run it on an idle machine.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = "bench_approval_burst_settings"


def setup(data: Path) -> None:
    settings_dir = Path(tempfile.mkdtemp(prefix="bench-approval-"))
    (settings_dir / f"{SETTINGS}.py").write_text(
        "from cms.settings.dev import *  # noqa: F403\n\nDEBUG = False\n"
        "EMAIL_BACKEND = 'django.core.mail.backends.locmem.EmailBackend'\n"
        # The clients log in with force_login: no second factor to enrol (not what is timed).
        "ACCOUNTS_REQUIRE_SECOND_FACTOR = False\n")
    sys.path[:0] = [str(settings_dir), str(ROOT)]
    os.environ["CMS_DATA_DIR"] = str(data)
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    for name in ("DATABASE_URL", "CMS_BAKE_DIR"):
        os.environ.pop(name, None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--no-input", verbosity=0)


class FileWatcher(threading.Thread):
    """Notes the moment a file first exists holding ``needle`` (polled every 2 ms)."""

    def __init__(self, path: Path, needle: bytes):
        super().__init__(daemon=True)
        self.path, self.needle = path, needle
        self.seen_at: float | None = None
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                data = self.path.read_bytes()
            except (FileNotFoundError, NotADirectoryError):
                data = b""
            if self.needle in data:
                self.seen_at = time.perf_counter()
                return
            time.sleep(0.002)


class TaskClock:
    """When the bake task enqueued for an article finished, and how many files it rendered
    (the task's function wrapped in place: the backend runs the module's task object)."""

    def __init__(self):
        from cms.baking import engine, tasks

        self.finished: dict[int, float] = {}
        self.rendered: dict[int, int] = {}
        self.lock = threading.Lock()
        task = tasks.bake_publication_events
        original = task.func
        counter = threading.local()
        real_render = engine.render

        def counting_render(**kwargs):
            counter.count = getattr(counter, "count", 0) + 1
            return real_render(**kwargs)

        engine.render = counting_render

        def timed(*args, **kwargs):
            counter.count = 0
            try:
                return original(*args, **kwargs)
            finally:
                now = time.perf_counter()
                with self.lock:
                    for pk in args[0]:
                        self.finished.setdefault(pk, now)
                        self.rendered.setdefault(pk, counter.count)

        timed.__qualname__ = original.__qualname__  # django-tasks wants a module-level name
        object.__setattr__(task, "func", timed)  # a frozen dataclass; a bench may
        self.timed = timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--approvals", type=int, default=5)
    parser.add_argument("--burst", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--column", type=int)
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    setup(args.data.resolve())

    from cms.tasks_backend import worker as background
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
          f"({total} in the network), listing pages: front + {rest}", flush=True)
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
        started = time.perf_counter()
        response = post(leader_client, page,
                        {"comment": "", "passphrase": DEMO_SIGNING_PASSPHRASE})
        return {"response": response, "page": page, "title": title, "target": target,
                "watcher": watcher, "started": started, "returned": time.perf_counter()}

    def settle(one: dict) -> dict:
        one["watcher"].join(timeout=300)
        one["watcher"].done.set()
        if not Page.objects.get(pk=one["page"].pk).live:
            raise SystemExit(f"“{one['title']}” is not live after the leader's approval "
                             f"({one['response'].status_code} "
                             f"{one['response'].get('Location', '')})")
        if one["watcher"].seen_at is None:
            raise SystemExit(f"{one['target']} without the title 300 s after approval")
        return {"to_file": one["watcher"].seen_at - one["started"],
                "call": one["returned"] - one["started"],
                "everything": clock.finished[one["page"].pk] - one["started"],
                "rendered": clock.rendered[one["page"].pk]}

    def one_at_a_time(count: int, start: int) -> list[dict]:
        results = []
        for number in range(start, start + count):
            one = approve(*draft(number))
            background.wait(timeout=600)
            results.append(settle(one))
        return results

    one_at_a_time(args.warmup, 1)
    results = {"one at a time": one_at_a_time(args.approvals, 100)}
    if args.burst:
        drafts = [draft(number) for number in range(200, 200 + args.burst)]
        background.wait(timeout=600)  # the reviews' own work (search index) done first
        burst = [approve(*one) for one in drafts]
        span = burst[-1]["returned"] - burst[0]["started"]
        background.wait(timeout=1200)
        results["burst"] = [settle(one) for one in burst]
        print(f"{args.label} burst: {args.burst} approvals posted within {span:.1f} s",
              flush=True)
    summary = {}
    for mode, rows in results.items():
        for row in rows:
            print(f"{args.label} {mode:>13}: {row['to_file'] * 1000:7.0f} ms to its file, "
                  f"{row['everything']:6.2f} s every affected file, {row['rendered']:4d} "
                  f"files rendered by its task, approval call {row['call'] * 1000:5.0f} ms",
                  flush=True)

        def stats(key, rows=rows):
            values = sorted(row[key] for row in rows)
            p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
            return {"p50": statistics.median(values), "p95": p95, "max": values[-1]}

        summary[mode] = {"to_file": stats("to_file"), "everything": stats("everything"),
                         "rendered_per_task": stats("rendered")}
        print(f"{args.label} {mode}: to file p50 {summary[mode]['to_file']['p50']:.2f} s, "
              f"p95 {summary[mode]['to_file']['p95']:.2f} s; every affected file p50 "
              f"{summary[mode]['everything']['p50']:.2f} s, p95 "
              f"{summary[mode]['everything']['p95']:.2f} s (goals: < 1 s and < 1.5 s)",
              flush=True)
    print("JSON " + json.dumps({"label": args.label, "column_articles": articles,
                                "articles": total, **summary}), flush=True)


if __name__ == "__main__":
    main()
