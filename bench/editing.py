"""Editing under concurrent use on the embedded default (SQLite): errors and latency.

    .venv/bin/python bench/editing.py [--seconds 300] [--readers 4] [--url URL] [--data-dir DIR]

Without --url, starts the server as `./dev.sh start` configures it (development settings,
SQLite and files under a fresh temporary CMS_DATA_DIR, the demo network, baked public
files, `manage.py runserver`, here without the autoreloader and on a free port) and stops it
at the end. With --url, drives a server already running (e.g. `./dev.sh start`); --data-dir
is its CMS_DATA_DIR (for `manage.py totp_code`) and the demo must be there; without --url,
--data-dir is where the started server keeps its state (the demo is reused if there).

For --seconds, through the admin over HTTP, with the demo accounts (password, then the TOTP
code `manage.py totp_code` prints):
- four editors (two schools' 信息员 and a teacher of each) open the editor of a new article,
  save drafts and open the editor again after each save (Wagtail records an editing session
  there: the path that answered "database is locked"), and submit every third draft;
- two web administrators open the dashboard and approve what awaits them (first review);
- one leader opens the dashboard and signs what awaits them (passphrase signature);
- anonymous readers read the public site and API v3.

Prints, per kind of request: how many, errors by status (5xx, 4xx, connection failures; a
form shown again instead of saved counts too), and the median and p95 latency. Goal: 0
errors. Exits 1 when there were errors.
"""

import argparse
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from html import unescape
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "demo-2026-edu"
PASSPHRASE = "demo-signing-2026"
EDITORS = [("yizhong_editor", "yizhong", "news"), ("shiyan_editor", "shiyan", "news"),
           ("yizhong_teacher1", "yizhong", "teaching"), ("shiyan_teacher1", "shiyan", "teaching")]
ADMINISTRATORS = ["yizhong_admin", "shiyan_admin"]
LEADER = "yizhong_leader"
SUBMIT_EVERY = 3


def padded(text: str, width: int) -> str:
    """``text`` left-aligned in ``width`` columns of a terminal (CJK characters take two)."""
    return text + " " * max(0, width - sum(2 if ord(c) > 0x2E80 else 1 for c in text))


class Figures:
    """Latency and outcome of every request, by kind (thread-safe)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.examples: dict[str, str] = {}

    def record(self, kind: str, seconds: float, error: str | None = None,
               detail: str = "") -> None:
        with self.lock:
            self.latency[kind].append(seconds)
            if error:
                self.errors[kind][error] += 1
                self.examples.setdefault(f"{kind} {error}", detail[:300])

    def report(self, seconds: float) -> int:
        total_errors = 0
        print(f"\n{padded('请求类型', 14)}{padded('请求数', 8)}{padded('中位(ms)', 10)}"
              f"{padded('p95(ms)', 10)}错误（按状态）")
        for kind in sorted(self.latency):
            values = sorted(self.latency[kind])
            median = values[len(values) // 2] * 1000
            p95 = values[min(len(values) - 1, int(len(values) * 0.95))] * 1000
            errors = dict(self.errors.get(kind, {}))
            total_errors += sum(errors.values())
            shown = ", ".join(f"{status}: {count}" for status, count in sorted(errors.items()))
            print(f"{padded(kind, 14)}{len(values):<8}{median:<10.0f}{p95:<10.0f}{shown or '0'}")
        requests_made = sum(len(values) for values in self.latency.values())
        print(f"\n共 {requests_made} 个请求，{seconds:.0f} 秒，错误 {total_errors} 个。")
        for key, detail in sorted(self.examples.items()):
            print(f"  例 {key}: {detail}")
        return total_errors


figures = Figures()


def timed(session: requests.Session, kind: str, method: str, url: str, *,
          expect=(200, 302), form_error_marker: str | None = None, **kwargs):
    """One request, recorded under ``kind``; the response, or None when it failed."""
    started = time.perf_counter()
    try:
        response = session.request(method, url, allow_redirects=False, timeout=120, **kwargs)
    except requests.RequestException as error:
        figures.record(kind, time.perf_counter() - started, "连接失败", repr(error))
        return None
    elapsed = time.perf_counter() - started
    error = None
    if response.status_code not in expect:
        error = str(response.status_code)
    elif form_error_marker and response.status_code == 200 \
            and form_error_marker in response.text:
        error = "表单未保存"
    detail = ""
    if error:
        detail = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text))[:300]
        exception = re.search(r'<pre class="exception_value">(.*?)</pre>', response.text, re.S)
        if exception:
            detail = unescape(exception.group(1)).strip()
    figures.record(kind, elapsed, error, detail)
    return response


# --- The server --------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def manage(*args, env, stdout=subprocess.DEVNULL, check=True):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          stdout=stdout, stderr=subprocess.PIPE, text=True, check=check)


def server_env(data_dir: Path) -> dict:
    return {**os.environ, "CMS_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "cms.settings.dev"}


def start_server(data_dir: Path, port: int, log) -> subprocess.Popen:
    """What `./dev.sh start` does, on ``data_dir`` and ``port``."""
    env = server_env(data_dir)
    started = time.perf_counter()
    manage("migrate", "--no-input", "-v0", env=env)
    manage("demo", "--if-empty", "--production-keys", env=env, stdout=log)
    manage("bake", env=env, stdout=log)
    print(f"演示数据已建好（{time.perf_counter() - started:.0f} 秒）。", flush=True)
    server = subprocess.Popen([sys.executable, "manage.py", "runserver", "--noreload",
                               f"127.0.0.1:{port}"], cwd=ROOT, env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    for _ in range(120):
        try:
            requests.get(f"http://127.0.0.1:{port}/admin/login/", timeout=5)
            return server
        except requests.RequestException:
            time.sleep(0.5)
    server.terminate()
    raise SystemExit("服务器没有启动，见日志。")


# --- People ------------------------------------------------------------------------------

def csrf_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if not match:
        raise RuntimeError("页面上没有 CSRF 令牌")
    return match.group(1)


def log_in(base: str, username: str, env: dict) -> requests.Session:
    """Password, then the current TOTP code when the account asks for one."""
    session = requests.Session()
    page = session.get(f"{base}/admin/login/", timeout=60)
    response = session.post(f"{base}/admin/login/", data={
        "csrfmiddlewaretoken": csrf_token(page.text), "username": username,
        "password": PASSWORD, "next": "/admin/"}, timeout=60)
    for _ in range(3):
        if "/2fa/verify/" not in response.url:
            break
        if _:  # each code is good once: a login a moment ago may have used this one
            time.sleep(10)
        code = manage("totp_code", username, env=env, stdout=subprocess.PIPE).stdout.strip()
        response = session.post(response.url, data={
            "csrfmiddlewaretoken": csrf_token(response.text), "token": code}, timeout=60)
    if not response.url.rstrip("/").endswith("/admin") or response.status_code != 200:
        raise RuntimeError(f"{username} 登录失败：{response.status_code} {response.url}")
    session.headers["X-CSRFToken"] = session.cookies.get("csrftoken", "")
    return session


def column_ids(env: dict) -> dict[tuple[str, str], int]:
    """(school, column slug) → page id, read once from the database before the run."""
    code = ("import json; from cms.models import ColumnPage; print(json.dumps("
            "[[c.url_path.split('/')[1], c.slug, c.pk] for c in ColumnPage.objects.all()]))")
    out = manage("shell", "-c", code, env=env, stdout=subprocess.PIPE).stdout
    return {(school, slug): pk for school, slug, pk in json.loads(out.strip().splitlines()[-1])}


def draftail(text: str) -> str:
    return json.dumps({"blocks": [{"key": "a", "text": text, "type": "unstyled", "depth": 0,
                                   "inlineStyleRanges": [], "entityRanges": []}],
                       "entityMap": {}})


def article_form(*, title: str, slug: str, text: str, **extra) -> dict:
    return {"title": title, "slug": slug, "date": "2026-12-01", "source": "办公室",
            "author": "", "body-count": "1", "body-0-type": "paragraph",
            "body-0-value": draftail(text), "body-0-deleted": "", "body-0-order": "0",
            "body-0-id": "", "attachments-TOTAL_FORMS": "0", "attachments-INITIAL_FORMS": "0",
            "attachments-MIN_NUM_FORMS": "0", "attachments-MAX_NUM_FORMS": "1000", **extra}


def body_block_id(html: str) -> str:
    """The id of the body's first block in the editor (kept on save, as the browser does)."""
    match = re.search(r'&quot;id&quot;: &quot;([0-9a-f-]{36})&quot;', html)
    return match.group(1) if match else ""


FORM_ERROR = "error-message"


def editor(base: str, session: requests.Session, name: str, column: int, until: float):
    """Add an article, then save drafts and reopen the editor; submit every third draft and
    start another article."""
    number = 0
    while time.time() < until:
        number += 1
        slug = f"bench-{name}-{number}-{random.randrange(10**6)}"
        add_url = f"{base}/admin/pages/add/cms/articlepage/{column}/"
        page = timed(session, "打开新建页", "GET", add_url)
        if page is None or page.status_code != 200:
            time.sleep(1)
            continue
        created = timed(session, "新建草稿", "POST", add_url, form_error_marker=FORM_ERROR,
                        data={"csrfmiddlewaretoken": csrf_token(page.text),
                              **article_form(title=f"{name} 的压测文章 {number}", slug=slug,
                                             text="第一稿。")})
        if created is None or created.status_code != 302:
            time.sleep(1)
            continue
        edit_url = base + re.sub(r"^https?://[^/]+", "", created.headers["Location"])
        for draft in range(1, SUBMIT_EVERY + 1):
            if time.time() >= until:
                return
            opened = timed(session, "打开编辑页", "GET", edit_url)
            if opened is None or opened.status_code != 200:
                break
            extra = {"action-submit": "1"} if draft == SUBMIT_EVERY else {}
            kind = "提交审核" if extra else "保存草稿"
            saved = timed(session, kind, "POST", edit_url, form_error_marker=FORM_ERROR,
                          data={"csrfmiddlewaretoken": csrf_token(opened.text),
                                **article_form(title=f"{name} 的压测文章 {number}", slug=slug,
                                               text=f"第 {draft + 1} 稿。" * 20,
                                               **{"body-0-id": body_block_id(opened.text)}),
                                **extra})
            if saved is None or saved.status_code != 302:
                break
            time.sleep(random.uniform(0.5, 2))  # the person reads what they wrote


WORKFLOW_ACTION = re.compile(r'data-workflow-action-url="(/admin/pages/workflow/action/\d+/'
                             r'approve/\d+/)"')


def reviewer(base: str, session: requests.Session, kind: str, data: dict, until: float):
    """Open the dashboard; approve the first thing awaiting this person; again."""
    while time.time() < until:
        dashboard = timed(session, "工作台", "GET", f"{base}/admin/")
        urls = WORKFLOW_ACTION.findall(dashboard.text) if dashboard is not None else []
        if not urls:
            time.sleep(2)
            continue
        timed(session, kind, "POST", base + random.choice(urls),
              data={"csrfmiddlewaretoken": session.cookies.get("csrftoken", ""), **data})
        time.sleep(random.uniform(0.5, 1.5))


def reader(base: str, until: float):
    session = requests.Session()
    hosts = ["yizhong.localhost:8000", "shiyan.localhost:8000", "127.0.0.1:8000"]
    while time.time() < until:
        host = random.choice(hosts)
        if random.random() < 0.5:
            timed(session, "读者页面", "GET", f"{base}/", headers={"Host": host},
                  expect=(200,))
        else:
            timed(session, "读者 API", "GET", f"{base}/api/v3/pages/?limit=10",
                  headers={"Host": host}, expect=(200,))
        time.sleep(random.uniform(0.1, 0.5))


def main() -> None:
    parser = argparse.ArgumentParser(description="内置默认配置（SQLite）下并发编辑的错误与延迟。")
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--url", help="已在运行的服务器（默认：自行启动一个）")
    parser.add_argument("--data-dir", help="该服务器的 CMS_DATA_DIR（与 --url 一起；不带 --url 时："
                        "在此目录启动服务器，已有演示数据则沿用）")
    args = parser.parse_args()

    server = None
    log = None
    if args.url:
        base = args.url.rstrip("/")
        env = server_env(Path(args.data_dir or ROOT / "var").resolve())
    else:
        data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="cms-bench-editing-"))
        data_dir.mkdir(parents=True, exist_ok=True)
        log = open(data_dir / "server.log", "w")  # noqa: SIM115 (open for the whole run)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = server_env(data_dir)
        print(f"数据目录 {data_dir}，服务器日志 {data_dir / 'server.log'}", flush=True)
        server = start_server(data_dir, port, log)
    try:
        run(base, env, args)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)


def run(base: str, env: dict, args) -> None:
    columns = column_ids(env)
    people = {name: log_in(base, name, env)
              for name in [*(e[0] for e in EDITORS), *ADMINISTRATORS, LEADER]}
    until = time.time() + args.seconds
    threads = [threading.Thread(target=editor, args=(base, people[name], name,
                                                     columns[(school, slug)], until))
               for name, school, slug in EDITORS]
    threads += [threading.Thread(target=reviewer, args=(
        base, people[name], "初审通过", {"comment": "同意。"}, until)) for name in ADMINISTRATORS]
    threads.append(threading.Thread(target=reviewer, args=(
        base, people[LEADER], "领导签发", {"comment": "", "passphrase": PASSPHRASE}, until)))
    threads += [threading.Thread(target=reader, args=(base, until))
                for _ in range(args.readers)]
    print(f"运行 {args.seconds:.0f} 秒：{len(EDITORS)} 位编辑、{len(ADMINISTRATORS)} 位网站管理员、"
          f"1 位领导、{args.readers} 位读者……", flush=True)
    started = time.time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    errors = figures.report(time.time() - started)
    if errors:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
