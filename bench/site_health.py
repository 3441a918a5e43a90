"""Site-health figures (issue 21): the internal link check over a baked demo, external checks
against local servers, and the ledger and dashboard for the whole network.

    .venv/bin/python bench/site_health.py --data-dir DIR [--links 2000] [--hosts 50]
        [--skip-internal] [--skip-external]

DIR is a state directory (CMS_DATA_DIR) made beforehand, e.g.::

    CMS_DATA_DIR=DIR manage.py migrate && CMS_DATA_DIR=DIR manage.py demo --articles 100000 \\
        && CMS_DATA_DIR=DIR manage.py bake --all

Figures:

* ``manage.py check_links`` (internal only: every baked page and listing file read, every
  internal link, image and attachment resolved against the tree and the database), run as a
  child process: wall time and the child's peak RSS (getrusage);
* external checks: ``--links`` addresses spread over ``--hosts`` local HTTP servers (one port
  each: the fetcher's politeness is per host:port, as it is per host in the wild), 90% pages,
  5% 404, 5% 503, each fetched with the default politeness settings (16 hosts at once, one
  request at a time per host, 0.5 s between two requests to a host, 10 s timeout, robots.txt
  read first) and fingerprinted with the full screener, as ``check_links --external`` does;
* the ledger for every site (``review.health.report.site_health``, the ``site_health`` JSON)
  and the network dashboard (the admin's /admin/health/ as a superuser), each timed warm.
"""

import argparse
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ("<html><head><title>合作单位 {n}</title></head><body><h1>合作单位</h1>"
        + "<p>教育合作与交流，欢迎访问。</p>" * 40 + "</body></html>")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/robots.txt":
            body, status = b"User-agent: *\nDisallow: /private/\n", 200
        else:
            n = int(self.path.strip("/").split("/")[-1] or 0)
            status = 404 if n % 20 == 1 else 503 if n % 20 == 2 else 200
            body = PAGE.format(n=n).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def start_servers(count: int) -> list[tuple[ThreadingHTTPServer, int]]:
    servers = []
    for _ in range(count):
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append((httpd, httpd.server_address[1]))
    return servers


def internal(data_dir: Path) -> dict:
    env = {**os.environ, "CMS_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    result = subprocess.run([sys.executable, str(ROOT / "manage.py"), "check_links"], env=env,
                            capture_output=True, text=True, check=True)
    elapsed = time.monotonic() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    files = sum(int(line.split("读取 ")[1].split(" ")[0]) for line in result.stdout.splitlines()
                if "读取 " in line)
    links = sum(int(line.split("，")[1].split(" ")[0]) for line in result.stdout.splitlines()
                if "读取 " in line)
    print(result.stdout.strip())
    return {"seconds": elapsed, "peak_rss_mib": peak_kib / 1024, "files": files, "links": links}


def external(links: int, hosts: int) -> dict:
    from review.health import sources
    from review.health.fetch import fetch_all
    from review.health.linkcheck import _fingerprinter
    from review.health.links import judge

    servers = start_servers(hosts)
    urls = [f"http://127.0.0.1:{servers[i % hosts][1]}/p/{i}" for i in range(links)]
    politeness = sources.politeness()
    started = time.monotonic()
    # As check_links --external: each page fingerprinted (screened) in its fetching thread.
    fetched = fetch_all(urls, politeness=politeness, want_body=lambda url: True,
                        then=_fingerprinter())
    done = time.monotonic()
    verdicts = {}
    for item in fetched:
        verdict = judge(item.outcome)
        verdicts[verdict] = verdicts.get(verdict, 0) + 1
    fingerprints = sum(1 for item in fetched if item.digest is not None)
    for httpd, _port in servers:
        httpd.shutdown()
    return {"seconds": done - started, "fingerprints": fingerprints, "verdicts": verdicts,
            "politeness": politeness}


def ledger_and_dashboard() -> dict:
    from django.contrib.auth import get_user_model
    from django.test import Client, override_settings
    from django.test.utils import setup_test_environment

    from review.health import report, sources

    sites = sources.sites()
    report.site_health(sites)  # warm
    started = time.monotonic()
    healths = report.site_health(sites)
    ledger_seconds = time.monotonic() - started
    setup_test_environment()
    client = Client(HTTP_HOST="localhost")
    user = get_user_model().objects.filter(is_superuser=True).first()
    client.force_login(user)
    # The demo's superuser logs in with a second factor: not what is measured here.
    with override_settings(ACCOUNTS_REQUIRE_SECOND_FACTOR=False):
        client.get("/admin/health/")  # warm
        started = time.monotonic()
        response = client.get("/admin/health/")
        dashboard_seconds = time.monotonic() - started
    return {"sites": len(healths), "ledger_seconds": ledger_seconds,
            "dashboard_seconds": dashboard_seconds, "dashboard_status": response.status_code,
            "columns": sum(len(h.columns) for h in healths)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--links", type=int, default=2000)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--skip-internal", action="store_true")
    parser.add_argument("--skip-external", action="store_true")
    args = parser.parse_args()
    os.environ["CMS_DATA_DIR"] = str(args.data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from wagtail.models import Page

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}; pages in the database: {Page.objects.count()}")
    rows = []
    if not args.skip_internal:
        figures = internal(args.data_dir)
        rows.append(("internal link check (check_links)",
                     f"{figures['seconds']:.1f} s for {figures['files']} files, "
                     f"{figures['links']} links; peak RSS {figures['peak_rss_mib']:.0f} MiB",
                     "< 5 min at 100,000 articles"))
    if not args.skip_external:
        figures = external(args.links, args.hosts)
        p = figures["politeness"]
        rows.append((f"external check, {args.links} links on {args.hosts} local hosts",
                     f"{figures['seconds']:.1f} s with {figures['fingerprints']} pages "
                     f"fingerprinted; {figures['verdicts']}"
                     f"; concurrency {p.concurrency}, {p.host_interval} s per host",
                     "< 2 min"))
    figures = ledger_and_dashboard()
    rows.append((f"ledger, whole network ({figures['sites']} sites, {figures['columns']} columns)",
                 f"{figures['ledger_seconds'] * 1000:.0f} ms", "< 1 s"))
    rows.append(("network dashboard /admin/health/",
                 f"{figures['dashboard_seconds'] * 1000:.0f} ms "
                 f"(HTTP {figures['dashboard_status']})", "< 1 s"))
    print("\n| figure | measured | goal |\n|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
