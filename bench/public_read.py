"""Public read figures (issue 8): baked pages by nginx and by the embedded server, the dynamic
render, cached API reads, approval-to-file latency and the full bake.

    .venv/bin/python bench/public_read.py [--articles 100000] [--duration 10] [--connections 32]
        [--approvals 20] [--conn-max-age SECONDS] [--keep DIR | --reuse DIR [--rebake]]
        [--database-url postgres://postgres@127.0.0.1:5432/postgres]

In a fresh state directory (CMS_DATA_DIR, the embedded default: SQLite and cms.settings.dev,
as ``./dev.sh start`` has it; --database-url names a PostgreSQL server instead, where a
throwaway database is created and dropped), each as a timed subprocess: ``migrate``,
``demo --articles N`` and ``bake --all``. Then it starts, on free loopback ports:

* gunicorn ``cms.wsgi`` with 2 sync workers, as deployed: the baked-file middleware serves the
  baked tree, the API cache is on (Django's default in-memory cache, one per worker);
* nginx with the production configuration (``manage.py nginx_config``) serving the baked tree
  and proxying the rest to that gunicorn, plus a bare server with a copy of the article's
  baked bytes as a plain file (the baseline);
* a second gunicorn, the same but with baked-file serving and the API cache off
  (``BAKE_SERVE = False``, ``API_CACHE_ENABLED = False``): everything rendered dynamically.

Both gunicorns run cms.settings.dev with DEBUG off (a generated settings module; --debug
keeps DEBUG on) and the settings' DATABASE_CONN_MAX_AGE unless --conn-max-age is given. For
one article and one column page (the column with most articles) it measures requests per
second with wrk: baked by nginx, baked by the embedded server, rendered dynamically; and an
API v3 detail read, cached and uncached. Each response is checked first (status 200; nginx's
from the file: the same bytes and nginx's ETag, not the app's SHA-256). Beside each rate, the
server's CPU time per request (its process group, from /proc), which a busy machine disturbs
less than the rate. Last, with the servers stopped, --approvals fresh drafts go through the
real two-stage workflow in the admin (the administrator's first review, then the leader's
approval signed with the passphrase key, posted to Wagtail's workflow action view with
django.test.Client) and the time from the start of the leader's approval until the article's
baked file exists with its title is measured (a thread polls the file), the approval request
itself (the re-rendering runs on the database task queue, in a db_worker the bench starts), and the
time until every affected file is re-baked (listings, homes, feeds, sitemap); the next draft
waits for that. Prints every figure against the goals, as a markdown table, and the
machine's facts.

--keep DIR works in DIR and keeps it (and the PostgreSQL database); --reuse DIR measures such
a state again without migrate, demo and bake (their earlier timings are reprinted); with
--rebake it removes the baked tree and times a full bake again.
"""

import argparse
import contextlib
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
WRK = shutil.which("wrk") or "/usr/bin/wrk"
NGINX_COMMAND = ROOT / "cms" / "management" / "commands" / "nginx_config.py"
SERVED_SETTINGS = "bench_public_read_served"
DYNAMIC_SETTINGS = "bench_public_read_dynamic"
STATE_FILE = "bench-state.json"
PLAIN_PATH = "/plain/index.html"
NGINX_ETAG = re.compile(r'^(W/)?"[0-9a-f]+-[0-9a-f]+"$')
APP_ETAG = re.compile(r'^"[0-9a-f]{64}"$')
# The environment the bench sets itself; inherited values would change what is measured.
CLEARED_ENV = ("DATABASE_URL", "DATABASE_CONN_MAX_AGE", "CMS_DATA_DIR", "CMS_BAKE_DIR",
               "CMS_CACHE_BACKEND", "CMS_CACHE_LOCATION", "DJANGO_ALLOWED_HOSTS",
               "DJANGO_SETTINGS_MODULE")
FULL_BAKE_PAGES, FULL_BAKE_GOAL = 100_000, 300.0
LATENCY_GOAL = 2.0


class BenchError(Exception):
    """The bench cannot go on; the message says why."""


# --- Processes ---------------------------------------------------------------------------

class Processes:
    """Servers started by the bench, each in its own session: stopped by process group."""

    def __init__(self):
        self.running: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, argv: list[str], *, env: dict, log: Path) -> subprocess.Popen:
        with open(log, "ab") as handle:
            process = subprocess.Popen(argv, env=env, cwd=ROOT, stdin=subprocess.DEVNULL,
                                       stdout=handle, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        self.running.append((name, process))
        return process

    def stop(self) -> None:
        for _, process in reversed(self.running):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for _, process in self.running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.running.clear()


def group_cpu_seconds(pgid: int) -> float:
    """User and system CPU of every live process in the group (a server and its workers),
    plus what they collected from workers that exited."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # pgrp; utime, stime, cutime, cstime follow at 11..14
            total += sum(int(value) for value in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(port: int, host: str, path: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request("GET", path, headers={"Host": host})
        response = connection.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        connection.close()


def wait_ready(name: str, process: subprocess.Popen, *, port: int, host: str, path: str,
               log: Path, timeout: float = 120) -> None:
    """Poll until the server answers (any status)."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise BenchError(f"{name} exited with {process.returncode}; see {log}:\n"
                             + tail(log))
        try:
            fetch(port, host, path)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise BenchError(f"{name} not answering on port {port} after {timeout:.0f} s; "
                                 f"see {log}") from None
            time.sleep(0.2)


def tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").replace("\r", "\n")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


# --- Management commands -----------------------------------------------------------------

def manage(env: dict, log: Path, *args: str) -> float:
    """Run ``manage.py ARGS`` in the venv's python, output to ``log``; wall seconds."""
    started = time.perf_counter()
    with open(log, "w") as handle:
        completed = subprocess.run([PYTHON, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT,
                                   stdin=subprocess.DEVNULL, stdout=handle,
                                   stderr=subprocess.STDOUT)
    elapsed = time.perf_counter() - started
    if completed.returncode:
        raise BenchError(f"manage.py {' '.join(args)} exited with {completed.returncode}; "
                         f"see {log}:\n" + tail(log))
    return elapsed


def worker(env: dict, *args: str, log: Path) -> list[dict]:
    """Run this script in a worker mode (Django set up there); its JSON lines."""
    with open(log, "a") as errors:
        completed = subprocess.run([PYTHON, str(Path(__file__).resolve()), *args], env=env,
                                   cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=errors, text=True)
    if completed.returncode:
        raise BenchError(f"worker {' '.join(args)} exited with {completed.returncode}; "
                         f"see {log}:\n" + tail(log))
    return [json.loads(line[5:]) for line in completed.stdout.splitlines()
            if line.startswith("JSON ")]


def emit(record: dict) -> None:
    print("JSON " + json.dumps(record, ensure_ascii=False), flush=True)


# --- Workers (run in a subprocess, with Django) ------------------------------------------

def probe_worker() -> None:
    """The URLs to measure: the column with most articles (on a school's site if any), an
    article in the middle of it, its API detail path, and where their baked files are."""
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
    from wagtail.models import Site

    from cms.baking import paths
    from cms.baking.engine import bake_root, page_url_path, site_root
    from cms.baking.render import host_header
    from cms.models import ArticlePage, ColumnPage

    columns = ColumnPage.objects.live().public().order_by("-numchild", "path")
    schools = [site.root_page.path for site in
               Site.objects.filter(is_default_site=False).select_related("root_page")]
    column = next((candidate for candidate in columns[:50]
                   if candidate.path.startswith(tuple(schools))), None) or columns.first()
    site = column.get_site()
    articles = ArticlePage.objects.live().public().child_of(column).order_by("path")
    count = articles.count()
    if count == 0:
        raise SystemExit(f"no live article in {column.url_path}")
    article = articles[count // 2]
    site_dir = site_root(root=bake_root(), site=site)

    def where(page) -> dict:
        url = page_url_path(page, site.pk)
        return {"id": page.pk, "title": page.title, "url": url,
                "file": str(site_dir / paths.file_for_url(url_path=url))}

    backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
    emit({"host": host_header(site), "hostname": site.hostname, "port": site.port,
          "site_dir": str(site_dir), "bake_dir": str(bake_root()),
          "column": {**where(column), "articles": count,
                     "listing_pages": len(column.listing().archive_pages) + 1},
          "article": where(article), "api": f"/api/v3/pages/{article.pk}/",
          "debug": settings.DEBUG, "database": connection.vendor,
          "database_version": ".".join(map(str, connection.Database.sqlite_version_info))
          if connection.vendor == "sqlite" else str(connection.pg_version),
          "tasks_backend": type(backend).__name__,
          "conn_max_age": settings.DATABASES["default"]["CONN_MAX_AGE"],
          "bake_on_publication": getattr(settings, "BAKE_ON_PUBLICATION", True)})


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


def wait_for_queue(*, timeout: float) -> None:
    """Until the database queue has nothing ready or running (the bench's queue worker,
    started beside this process, has run the approval's re-rendering)."""
    from django_tasks_db.models import DBTaskResult

    deadline = time.monotonic() + timeout
    while DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"the task queue did not drain within {timeout} s")
        time.sleep(0.02)


def latency_worker(count: int, column_id: int) -> None:
    """``count`` drafts through the real workflow in the admin; the leader's signed approval
    timed to the article's baked file."""
    import django

    django.setup()
    from django.conf import settings

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # quiet
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse
    from wagtail.models import Page, WorkflowState

    from cms.baking import paths
    from cms.baking.engine import bake_root, page_url_path, site_root
    from cms.demo.content import DEMO_SIGNING_PASSPHRASE
    from cms.models import ArticlePage, ColumnPage
    from cms.publishing import submit

    column = ColumnPage.objects.get(pk=column_id)
    site = column.get_site()
    home_slug = site.root_page.slug
    prefix = "county" if home_slug == "portal" else home_slug  # the demo's account names
    users = get_user_model().objects
    editor, reviewer, leader = (users.get(username=f"{prefix}_{role}")
                                for role in ("editor", "admin", "leader"))
    reviewer_client, leader_client = Client(), Client()
    reviewer_client.force_login(reviewer)
    leader_client.force_login(leader)
    site_dir = site_root(root=bake_root(), site=site)

    def task_name(page) -> str:
        state = WorkflowState.objects.get(object_id=str(page.pk), status="in_progress")
        return state.current_task_state.task.specific_class.__name__

    def post(client, page, data):
        state = WorkflowState.objects.get(object_id=str(page.pk), status="in_progress")
        url = reverse("wagtailadmin_pages:workflow_action",
                      args=[page.pk, "approve", state.current_task_state.pk])
        response = client.post(url, data)
        if response.status_code not in (200, 302):
            raise SystemExit(f"workflow action answered {response.status_code}")
        return response

    # Tasks queued while the state was built (the demo's publications) run first, untimed.
    wait_for_queue(timeout=1800)
    tag = f"{os.getpid()}{int(time.time()) % 100000}"
    for number in range(1, count + 1):
        title = f"审批到文件延迟测试{number}（{tag}）"
        page = ArticlePage(title=title, slug=f"latency-{tag}-{number}", live=False,
                           body=[("paragraph", f"<p>{title}：正文一段。</p>")])
        column.add_child(instance=page)
        column.refresh_from_db()  # numchild, for the next add_child
        page.save_revision(user=editor)
        submit(page, user=editor)
        post(reviewer_client, page, {"comment": ""})
        if task_name(page) != "LeaderApprovalTask":
            raise SystemExit(f"“{title}”: the first review did not pass it on")
        target = site_dir / paths.file_for_url(url_path=page_url_path(page, site.pk))
        if target.exists():
            raise SystemExit(f"{target} exists before the approval")
        watcher = FileWatcher(target, title.encode())
        watcher.start()
        started = time.perf_counter()
        post(leader_client, page, {"comment": "", "passphrase": DEMO_SIGNING_PASSPHRASE})
        returned = time.perf_counter()
        watcher.join(timeout=120)
        watcher.done.set()
        # One approval at a time on an idle system: wait for the rest of its re-rendering
        # (listings, homes, feeds, sitemap) before the next, and time that too.
        wait_for_queue(timeout=600)
        everything = time.perf_counter()
        if not Page.objects.get(pk=page.pk).live:
            raise SystemExit(f"“{title}” is not live after the leader's approval")
        if watcher.seen_at is None or title.encode() not in target.read_bytes():
            raise SystemExit(f"{target} missing or without the title 120 s after approval")
        emit({"title": title, "file": str(target), "to_file": watcher.seen_at - started,
              "call": returned - started, "everything": everything - started})


# --- The bench ---------------------------------------------------------------------------

@dataclass
class Rate:
    label: str
    url: str
    requests_per_second: float
    latency: str
    note: str
    cpu_ms: float | None  # the server's CPU per request (its workers, all cores)


@dataclass
class WrkRun:
    requests_per_second: float
    requests: int
    latency: str
    note: str


def wrk(*, port: int, host: str, path: str, duration: int, connections: int,
        threads: int) -> WrkRun:
    argv = [WRK, f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s",
            "-H", f"Host: {host}", f"http://127.0.0.1:{port}{path}"]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if found is None:
        raise BenchError("wrk printed no Requests/sec:\n" + out)
    notes = []
    if bad := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out):
        notes.append(f"{bad.group(1)} non-2xx")
    if errors := re.search(r"Socket errors: (.*)", out):
        notes.append("socket errors: " + errors.group(1).strip())
    latency = re.search(r"Latency\s+(\S+)", out)
    requests = re.search(r"(\d+) requests in", out)
    return WrkRun(float(found.group(1)), int(requests.group(1)) if requests else 0,
                  latency.group(1) if latency else "", "; ".join(notes))


def measure(label: str, *, port: int, host: str, path: str, args, check,
            server: subprocess.Popen) -> Rate:
    """Check one response, warm up, then wrk (and the server's CPU time meanwhile)."""
    status, headers, body = fetch(port, host, path)
    if status != 200:
        raise BenchError(f"{label}: GET {host}{path} answered {status}")
    check(headers, body)
    wrk(port=port, host=host, path=path, duration=min(2, args.duration),
        connections=args.connections, threads=args.threads)  # warm-up: every worker
    check(*fetch(port, host, path)[1:])
    cpu_before = group_cpu_seconds(server.pid)
    run = wrk(port=port, host=host, path=path, duration=args.duration,
              connections=args.connections, threads=args.threads)
    cpu = group_cpu_seconds(server.pid) - cpu_before
    cpu_ms = cpu * 1000 / run.requests if run.requests else None
    print(f"  {label:<26} {run.requests_per_second:>10,.0f} req/s  avg latency "
          f"{run.latency:>8}  server CPU {cpu_ms or 0:6.3f} ms/request"
          + (f"  {run.note}" if run.note else ""), flush=True)
    return Rate(label, f"{host}{path}", run.requests_per_second, run.latency, run.note,
                cpu_ms)


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise BenchError(message)


def write_settings(directory: Path, *, debug: bool) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{SERVED_SETTINGS}.py").write_text(
        '"""The embedded default (cms.settings.dev) as deployed, for bench/public_read.py."""\n'
        "from cms.settings.dev import *  # noqa: F403\n\n"
        f"DEBUG = {debug!r}\n")
    (directory / f"{DYNAMIC_SETTINGS}.py").write_text(
        '"""Everything rendered dynamically: no baked files served, no API cache."""\n'
        f"from {SERVED_SETTINGS} import *  # noqa: F403\n\n"
        "BAKE_SERVE = False\nAPI_CACHE_ENABLED = False\n")


def bench_env(work: Path, database_url: str | None, conn_max_age: int | None) -> dict:
    env = {name: value for name, value in os.environ.items() if name not in CLEARED_ENV}
    env.update(CMS_DATA_DIR=str(work / "data"), DJANGO_SETTINGS_MODULE="cms.settings.dev",
               PYTHONPATH=os.pathsep.join([str(work / "settings"), str(ROOT)]),
               PYTHONUNBUFFERED="1")
    if database_url:
        env["DATABASE_URL"] = database_url
    if conn_max_age is not None:
        env["DATABASE_CONN_MAX_AGE"] = str(conn_max_age)
    return env


def create_database(server_url: str) -> str:
    import psycopg

    name = f"cms_bench_public_{os.getpid()}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def drop_database(server_url: str, database_url: str) -> None:
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def count_files(bake_dir: Path) -> dict[str, int]:
    counts = {"pages": 0, "listing pages 2..N": 0, "sitemaps": 0, "feeds": 0, "other": 0}
    for _folder, _, names in os.walk(bake_dir):
        for name in names:
            if name == "index.html":
                counts["pages"] += 1
            elif re.fullmatch(r"index-page\d+\.html", name):
                counts["listing pages 2..N"] += 1
            elif name == "sitemap.xml":
                counts["sitemaps"] += 1
            elif name == "feed.xml":
                counts["feeds"] += 1
            elif not name.startswith("."):
                counts["other"] += 1
    return counts


def build(args, env: dict, work: Path, logs: Path) -> dict:
    """migrate, demo --articles N, bake --all: timed."""
    print(f"state directory: {work / 'data'}", flush=True)
    state: dict = {"articles": args.articles}
    state["migrate"] = manage(env, logs / "migrate.log", "migrate", "--no-input", "-v0")
    print(f"migrate: {state['migrate']:.1f} s", flush=True)
    state["demo"] = manage(env, logs / "demo.log", "demo", "--articles", str(args.articles),
                           "--production-keys")
    log = (logs / "demo.log").read_text(encoding="utf-8", errors="replace").replace("\r", "\n")
    network = re.search(r"（([\d.]+) 秒）", log)
    added = re.search(r"用时 ([\d.]+) 秒", log)
    state["demo_network"] = float(network.group(1)) if network else None
    state["demo_articles"] = float(added.group(1)) if added else None
    print(f"demo --articles {args.articles}: {state['demo']:.1f} s (network "
          f"{state['demo_network']} s, articles {state['demo_articles']} s, the rest start-up)",
          flush=True)
    bake(state, env, work, logs)
    return state


def bake(state: dict, env: dict, work: Path, logs: Path) -> None:
    """A full bake from nothing: timed."""
    shutil.rmtree(work / "data" / "public", ignore_errors=True)
    state["bake"] = manage(env, logs / "bake.log", "bake", "--all")
    done = re.search(r"完成：写入 (\d+) 个文件，未变 (\d+) 个", (logs / "bake.log").read_text())
    state["bake_written"], state["bake_unchanged"] = (
        (int(done.group(1)), int(done.group(2))) if done else (None, None))
    state["files"] = count_files(work / "data" / "public")
    print(f"bake --all: {state['bake']:.1f} s, files {state['files']} (written "
          f"{state['bake_written']}, unchanged {state['bake_unchanged']})", flush=True)


NGINX_MAIN = """\
# bench/public_read.py: a main configuration around the rendered production include.
{user}worker_processes auto;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
daemon off;
events {{ worker_connections 4096; }}
http {{
    include {mime};
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path {dir}/tmp/client_body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;

    include {rendered};

    # The baseline: nginx serving a plain file, with nothing else.
    server {{
        listen 127.0.0.1:{plain_port};
        root {dir}/plain;
    }}
}}
"""


def start_nginx(procs: Processes, env: dict, work: Path, *, upstream: int, listen: int,
                plain_port: int, article_bytes: bytes) -> subprocess.Popen:
    directory = work / "nginx"
    for name in ("tmp", "plain" + str(Path(PLAIN_PATH).parent)):
        (directory / name).mkdir(parents=True, exist_ok=True)
    (directory / "plain" / PLAIN_PATH.lstrip("/")).write_bytes(article_bytes)
    rendered = directory / "cms.conf"
    manage(env, work / "logs" / "nginx_config.log", "nginx_config", "--upstream",
           f"127.0.0.1:{upstream}", "--listen", f"127.0.0.1:{listen}", "--out", str(rendered))
    mime = Path("/etc/nginx/mime.types")
    main = directory / "nginx.conf"
    main.write_text(NGINX_MAIN.format(
        user="user root;\n" if os.geteuid() == 0 else "", dir=directory, rendered=rendered,
        plain_port=plain_port, mime=mime if mime.exists() else directory / "mime.types"))
    if not mime.exists():
        (directory / "mime.types").write_text("types { text/html html; }\n")
    base = [NGINX, "-p", str(directory), "-e", str(directory / "error.log"), "-c", str(main)]
    checked = subprocess.run([*base, "-t"], capture_output=True, text=True)
    if checked.returncode:
        raise BenchError(f"nginx -t refused {main}:\n{checked.stderr}")
    return procs.start("nginx", base, env=env, log=directory / "nginx.out")


def start_gunicorn(procs: Processes, env: dict, *, name: str, settings: str, port: int,
                   workers: int, log: Path) -> subprocess.Popen:
    argv = [GUNICORN, "cms.wsgi:application", "--workers", str(workers), "--worker-class",
            "sync", "--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT), "--log-level",
            "warning", "--error-logfile", str(log)]
    return procs.start(name, argv, env={**env, "DJANGO_SETTINGS_MODULE": settings}, log=log)


def version(argv: list[str]) -> str:
    try:
        completed = subprocess.run(argv, capture_output=True, text=True)
    except OSError:
        return "missing"
    return (completed.stdout + completed.stderr).strip().splitlines()[0]


def machine_facts() -> list[tuple[str, str]]:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = next((line.split(":", 1)[1].strip() for line in
                   Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), "?")
    return [("nproc", str(os.cpu_count())), ("CPU", cpu), ("memory", memory),
            ("load average at start", " ".join(f"{x:.2f}" for x in os.getloadavg())),
            ("nginx", version([NGINX, "-v"]).split("/")[-1]),
            ("gunicorn", metadata.version("gunicorn")),
            ("wrk", version([WRK, "--version"]).split(" [")[0]),
            ("Python", platform.python_version()), ("Django", metadata.version("django")),
            ("Wagtail", metadata.version("wagtail"))]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def run(args, work: Path, procs: Processes) -> None:
    facts = machine_facts()
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    write_settings(work / "settings", debug=args.debug)
    env = bench_env(work, args.database, args.conn_max_age)
    if args.reuse:
        state = json.loads((work / STATE_FILE).read_text())
        print(f"reusing {work} (demo --articles {state['articles']}, baked)", flush=True)
        if args.rebake:
            bake(state, env, work, logs)
            (work / STATE_FILE).write_text(json.dumps(state, indent=2))
    else:
        state = build(args, env, work, logs)
        state["database"] = args.database
        (work / STATE_FILE).write_text(json.dumps(state, indent=2))

    info = worker({**env, "DJANGO_SETTINGS_MODULE": SERVED_SETTINGS}, "--worker", "probe",
                  log=logs / "probe.log")[0]
    host, article, column = info["host"], info["article"], info["column"]
    article_bytes = Path(article["file"]).read_bytes()
    column_bytes = Path(column["file"]).read_bytes()
    print(f"site {host}: column {column['url']} ({column['articles']} articles, "
          f"{column['listing_pages']} listing pages), article {article['url']} "
          f"({len(article_bytes):,} bytes baked), column page {len(column_bytes):,} bytes, "
          f"API {info['api']}", flush=True)
    print(f"database {info['database']} {info['database_version']}, DATABASE_CONN_MAX_AGE="
          f"{info['conn_max_age']}; servers: cms.settings.dev with DEBUG={info['debug']}; "
          f"tasks backend {info['tasks_backend']}", flush=True)

    served, dynamic = free_port(), free_port()
    logs_served, logs_dynamic = logs / "gunicorn-served.log", logs / "gunicorn-dynamic.log"
    gunicorn_served = start_gunicorn(procs, env, name="gunicorn (served)",
                                     settings=SERVED_SETTINGS, port=served,
                                     workers=args.workers, log=logs_served)
    gunicorn_dynamic = start_gunicorn(procs, env, name="gunicorn (dynamic)",
                                      settings=DYNAMIC_SETTINGS, port=dynamic,
                                      workers=args.workers, log=logs_dynamic)
    nginx = None
    listen, plain_port = free_port(), free_port()
    if NGINX_COMMAND.exists():
        nginx = start_nginx(procs, env, work, upstream=served, listen=listen,
                            plain_port=plain_port, article_bytes=article_bytes)
    else:
        print(f"nginx not measured: {NGINX_COMMAND.relative_to(ROOT)} does not exist",
              flush=True)
    wait_ready("gunicorn (served)", gunicorn_served, port=served, host=host, path="/",
               log=logs_served)
    wait_ready("gunicorn (dynamic)", gunicorn_dynamic, port=dynamic, host=host, path="/",
               log=logs_dynamic)
    if nginx is not None:
        wait_ready("nginx", nginx, port=plain_port, host="plain", path=PLAIN_PATH,
                   log=work / "nginx" / "error.log")

    def from_nginx_file(expected: bytes, label: str):
        def check(headers, body):
            expect(body == expected, f"{label}: nginx's body differs from the baked file")
            # Both send X-Baked; the application's ETag is a SHA-256, nginx's size-mtime.
            expect(bool(NGINX_ETAG.match(headers.get("etag", ""))),
                   f"{label}: ETag {headers.get('etag')!r} is not nginx's: proxied to the app")
        return check

    def from_embedded_file(expected: bytes, label: str):
        def check(headers, body):
            expect(body == expected, f"{label}: body differs from the baked file")
            expect(headers.get("x-baked") == "1" and bool(APP_ETAG.match(headers.get("etag",
                                                                                     ""))),
                   f"{label}: not served from the baked file by the middleware")
        return check

    def rendered(label: str):
        def check(headers, body):
            expect("x-baked" not in headers, f"{label}: served from the baked file")
        return check

    def api(cached: bool):
        def check(headers, body):
            json.loads(body)
            if cached:
                expect(headers.get("x-api-cache") in ("hit", "miss"), "API cache not in use")
            else:
                expect("x-api-cache" not in headers, "API cache in use on the uncached server")
        return check

    print(f"\nwrk -t{args.threads} -c{args.connections} -d{args.duration}s "
          f"(after a {min(2, args.duration)} s warm-up), gunicorn -w {args.workers} (sync):",
          flush=True)
    plan = []  # key, label, server, port, host, path, check
    if nginx is not None:
        plan += [
            ("plain", "nginx plain file", nginx, plain_port, "plain", PLAIN_PATH,
             lambda headers, body: expect(body == article_bytes, "plain file differs")),
            ("nginx_article", "nginx baked article", nginx, listen, host, article["url"],
             from_nginx_file(article_bytes, "nginx article")),
            ("nginx_column", "nginx baked column", nginx, listen, host, column["url"],
             from_nginx_file(column_bytes, "nginx column"))]
    plan += [
        ("embedded_article", "embedded baked article", gunicorn_served, served, host,
         article["url"], from_embedded_file(article_bytes, "embedded article")),
        ("embedded_column", "embedded baked column", gunicorn_served, served, host,
         column["url"], from_embedded_file(column_bytes, "embedded column")),
        ("dynamic_article", "dynamic article", gunicorn_dynamic, dynamic, host, article["url"],
         rendered("dynamic article")),
        ("dynamic_column", "dynamic column", gunicorn_dynamic, dynamic, host, column["url"],
         rendered("dynamic column")),
        ("api_cached", "API detail cached", gunicorn_served, served, host, info["api"],
         api(cached=True)),
        ("api_uncached", "API detail uncached", gunicorn_dynamic, dynamic, host, info["api"],
         api(cached=False))]
    rates: dict[str, Rate] = {}
    for key, label, server, port, on_host, path, check in plan:
        rates[key] = measure(label, port=port, host=on_host, path=path, args=args, check=check,
                             server=server)
    headers = fetch(served, host, info["api"])[1]
    expect(headers.get("x-api-cache") == "hit", "API detail not a cache hit after warm-up")
    same = fetch(dynamic, host, article["url"])[2] == article_bytes
    print(f"  (the dynamic article's bytes {'equal' if same else 'DIFFER from'} the baked file)",
          flush=True)
    procs.stop()  # the latency run has the database to itself

    latencies: list[dict] = []
    if args.approvals:
        print(f"\napproval-to-file: {args.approvals} drafts in {column['url']} through the "
              "admin's workflow action view (django.test.Client): submitted, first review, "
              "then the leader's signed approval timed", flush=True)
        # The re-rendering runs on the database queue: a worker, as ./dev.sh start has one.
        procs.start("queue worker", [PYTHON, str(ROOT / "manage.py"), "db_worker",
                                     "--no-reload", "--no-startup-delay", "--interval", "0.05"],
                    env={**env, "DJANGO_SETTINGS_MODULE": SERVED_SETTINGS,
                         "CMS_TASKS_BACKEND": "db"},
                    log=logs / "queue-worker.log")
        latencies = worker({**env, "DJANGO_SETTINGS_MODULE": SERVED_SETTINGS}, "--worker",
                           "latency", "--approvals", str(args.approvals), "--column",
                           str(column["id"]), log=logs / "latency.log")
        for one in latencies:
            print(f"  {one['to_file'] * 1000:7.0f} ms to file, {one['call'] * 1000:7.0f} ms "
                  f"approval call, {one['everything']:6.1f} s every affected file  "
                  f"{Path(one['file']).relative_to(info['bake_dir'])}", flush=True)

    report(args, state, info, rates, latencies, facts)


def report(args, state, info, rates, latencies, facts) -> None:
    def rps(key: str) -> str:
        rate = rates.get(key)
        if rate is None:
            return "not measured"
        cpu = f", server CPU {rate.cpu_ms:.3f} ms/request" if rate.cpu_ms else ""
        return (f"{rate.requests_per_second:,.0f} req/s (avg latency {rate.latency}{cpu})"
                + (f" — {rate.note}" if rate.note else ""))

    def ratio(top: str, bottom: str, goal: float) -> tuple[str, str]:
        if top not in rates or bottom not in rates:
            return "not measured", ""
        value = rates[top].requests_per_second / rates[bottom].requests_per_second
        text = f"{value:.2f}×"
        if rates[top].cpu_ms and rates[bottom].cpu_ms:  # steadier on a busy machine
            text += f" (by server CPU per request: {rates[bottom].cpu_ms / rates[top].cpu_ms:.1f}×)"
        return text, verdict(value >= goal)

    n = state["articles"]
    files = state["files"]
    total_files = sum(files.values())
    pages = files["pages"]
    per_100k = state["bake"] * FULL_BAKE_PAGES / max(pages, 1)
    bake_goal = (verdict(state["bake"] <= FULL_BAKE_GOAL) if pages >= FULL_BAKE_PAGES else
                 f"{verdict(per_100k <= FULL_BAKE_GOAL)} (projected: {per_100k:,.0f} s per "
                 f"{FULL_BAKE_PAGES:,} pages at this rate)")
    earlier = " (earlier run)" if args.reuse else ""
    rows = [
        ("migrate" + earlier, f"{state['migrate']:.1f} s", "", ""),
        (f"demo --articles {n:,}{earlier}",
         f"{state['demo']:.1f} s (network {state['demo_network']} s, articles "
         f"{state['demo_articles']} s)", "", ""),
        (f"full bake of {pages:,} pages (bake --all){'' if args.rebake else earlier}",
         f"{state['bake']:.1f} s; {total_files:,} files ({files['listing pages 2..N']:,} "
         f"listing pages 2..N, {files['sitemaps']} sitemaps, {files.get('feeds', 0)} feeds), "
         f"{total_files / state['bake']:,.0f} files/s", "≤ 300 s for 100,000 pages", bake_goal),
        ("nginx plain file (article's bytes)", rps("plain"), "", ""),
        ("nginx baked article", rps("nginx_article"), "", ""),
        ("nginx baked column", rps("nginx_column"), "", ""),
        ("embedded baked article (gunicorn)", rps("embedded_article"), "", ""),
        ("embedded baked column (gunicorn)", rps("embedded_column"), "", ""),
        ("dynamic article (gunicorn)", rps("dynamic_article"), "", ""),
        ("dynamic column (gunicorn)", rps("dynamic_column"), "", ""),
        ("API detail cached", rps("api_cached"), "", ""),
        ("API detail uncached", rps("api_uncached"), "", ""),
    ]
    for label, top, bottom, goal in (
            ("nginx baked / plain, article", "nginx_article", "plain", 0.5),
            ("nginx baked / plain, column", "nginx_column", "plain", 0.5),
            ("embedded / dynamic, article", "embedded_article", "dynamic_article", 10),
            ("embedded / dynamic, column", "embedded_column", "dynamic_column", 10),
            ("API cached / uncached", "api_cached", "api_uncached", 10)):
        value, result = ratio(top, bottom, goal)
        rows.append((label, value, f"≥ {goal:g}×", result))
    if latencies:
        to_file = [one["to_file"] for one in latencies]
        calls = [one["call"] for one in latencies]
        p95 = percentile(to_file, 0.95)
        rows.append((f"approval → baked file, {len(to_file)} articles (admin view)",
                     f"p50 {statistics.median(to_file):.2f} s, p95 {p95:.2f} s, "
                     f"max {max(to_file):.2f} s", "p95 < 2 s", verdict(p95 < LATENCY_GOAL)))
        everything = [one["everything"] for one in latencies]
        rows.append(("leader's approval request (the admin view's answer)",
                     f"p50 {statistics.median(calls):.2f} s, p95 "
                     f"{percentile(calls, 0.95):.2f} s, max {max(calls):.2f} s", "", ""))
        rows.append(("approval → every affected file re-baked (listings, feeds, sitemap)",
                     f"p50 {statistics.median(everything):.2f} s, p95 "
                     f"{percentile(everything, 0.95):.2f} s, max {max(everything):.2f} s",
                     "", ""))
    print(f"\n### Public reads (issue 8): {n:,} generated articles, {info['database']} "
          f"{info['database_version']}\n")
    print("| figure | value | goal | result |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\nwrk -t{args.threads} -c{args.connections} -d{args.duration}s on 127.0.0.1; "
          f"gunicorn cms.wsgi -w {args.workers} (sync), cms.settings.dev with "
          f"DEBUG={info['debug']}, DATABASE_CONN_MAX_AGE={info['conn_max_age']}; nginx: "
          "`manage.py nginx_config` inside a main configuration with access_log off; "
          "dynamic: BAKE_SERVE=False, uncached: API_CACHE_ENABLED=False "
          f"(Django's default cache otherwise); URLs on {info['host']}: article "
          f"{info['article']['url']}, column {info['column']['url']} "
          f"({info['column']['articles']:,} articles), API {info['api']}.")
    print("\n| machine | |\n|---|---|")
    for name, value in facts:
        print(f"| {name} | {value} |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description="公开访问性能：nginx 与内置服务器读取静态化页面、动态渲染、"
                    "API 缓存读取、从审批到文件的延迟和全量静态化。")
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=10, help="每一行 wrk 运行的秒数")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk 线程数")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn 同步工作进程数")
    parser.add_argument("--approvals", type=int, default=20,
                        help="从领导审批到静态化文件写出计时的文章数")
    parser.add_argument("--database-url", metavar="URL",
                        help="改用 PostgreSQL 服务器（如 postgres://postgres@127.0.0.1:5432/postgres），"
                             "在其上创建临时数据库，而不是 SQLite")
    parser.add_argument("--conn-max-age", type=int, metavar="SECONDS",
                        help="每个进程的 DATABASE_CONN_MAX_AGE（默认取设置中的值；"
                             "0：每个请求新建数据库连接）")
    parser.add_argument("--debug", action="store_true",
                        help="服务进程保留 cms.settings.dev 的 DEBUG = True")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--keep", metavar="DIR", type=Path,
                       help="在 DIR（新建或为空）中运行并保留它及其数据库")
    where.add_argument("--reuse", metavar="DIR", type=Path,
                       help="在用 --keep 保留的状态上再次测量（不建演示数据、不静态化）")
    parser.add_argument("--rebake", action="store_true",
                        help="与 --reuse 合用：删除静态化目录，重新计时一次全量静态化")
    parser.add_argument("--worker", choices=["probe", "latency"], help=argparse.SUPPRESS)
    parser.add_argument("--column", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "probe":
        probe_worker()
        return
    if args.worker == "latency":
        latency_worker(args.approvals, args.column)
        return
    if args.articles < 1 or args.connections < args.threads:
        parser.error("--articles must be positive and --connections at least --threads")

    # SIGTERM runs the clean-up below like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.reuse:
        work = args.reuse.resolve()
        saved = json.loads((work / STATE_FILE).read_text())
        args.articles, args.database = saved["articles"], saved.get("database")
    elif args.keep:
        work = args.keep.resolve()
        if work.exists() and any(work.iterdir()):
            parser.error(f"--keep {work}: not empty (use --reuse to measure it again)")
        work.mkdir(parents=True, exist_ok=True)
    else:
        work = Path(tempfile.mkdtemp(prefix="cms-public-read-"))
    created_database = None
    if args.database_url and not args.reuse:
        args.database = created_database = create_database(args.database_url)
    elif not args.reuse:
        args.database = None
    procs = Processes()
    try:
        if created_database:
            print(f"database: {created_database}", flush=True)
        run(args, work, procs)
    except BenchError as error:
        print(f"\nbench failed: {error}", file=sys.stderr)
        sys.exit(1)
    finally:
        procs.stop()
        if created_database and not args.keep:
            drop_database(args.database_url, created_database)
        if args.keep or args.reuse:
            print(f"\nkept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
