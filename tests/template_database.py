"""PostgreSQL under xdist: every worker's test database is a copy of one migrated template.

Migrating a PostgreSQL test database takes 50 s when two workers do it at once, before either
runs a test. Instead the controller migrates one template, in a subprocess, while the workers
start and collect the suite; each worker then creates its test database from the template
(Django's ``TEST["TEMPLATE"]``), and its own ``migrate`` finds nothing left to apply. If the
template could not be made, the workers migrate their own databases as before.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
# Set by the controller for its workers (which inherit its environment): where the template's
# outcome will be written, and the template's name.
STATUS = "CMS_TEST_TEMPLATE_STATUS"
NAME = "CMS_TEST_TEMPLATE_NAME"
WAIT_SECONDS = 600

_migration: dict = {}


def start(config) -> None:
    """In the xdist controller on PostgreSQL: begin migrating the template in the background."""
    from django.conf import settings

    url = os.environ.get("DATABASE_URL", "")
    # With --reuse-db the workers keep the databases they have: no template is wanted.
    keeps_databases = config.getoption("reuse_db") and not config.getoption("create_db")
    if (hasattr(config, "workerinput") or not config.getoption("numprocesses", None)
            or not url.startswith(("postgres://", "postgresql://")) or keeps_databases):
        return
    template = f"test_{settings.DATABASES['default']['NAME']}_template"
    status = Path(tempfile.mkdtemp(prefix="cms-test-template-")) / "status"
    os.environ[STATUS], os.environ[NAME] = str(status), template
    thread = threading.Thread(target=_migrate, daemon=True, kwargs={
        "url": urlunsplit(urlsplit(url)._replace(path=f"/{template}")),
        "template": template, "status": status})
    _migration.update(thread=thread, template=template, url=url, status=status)
    thread.start()


def _server(url: str):
    """A connection to the server's ``postgres`` database (the controller's Django connection
    is blocked by pytest-django outside tests)."""
    import psycopg

    return psycopg.connect(urlunsplit(urlsplit(url)._replace(path="/postgres")), autocommit=True)


def _migrate(*, url: str, template: str, status: Path) -> None:
    try:
        with _server(url) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
            server.execute(f'CREATE DATABASE "{template}"')
        result = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT,
            env={**os.environ, "DATABASE_URL": url,
                 "DJANGO_SETTINGS_MODULE": "cms.settings.test"},
            capture_output=True, text=True, timeout=WAIT_SECONDS)
        outcome = "ok" if result.returncode == 0 else f"failed\n{result.stderr[-2000:]}"
    except Exception as error:  # the workers fall back to migrating their own
        outcome = f"failed\n{error!r}"
    written = status.with_suffix(".tmp")
    written.write_text(outcome)
    written.rename(status)


def finish() -> None:
    """In the controller: drop the template once the workers are done."""
    if not _migration:
        return
    _migration["thread"].join(timeout=WAIT_SECONDS)
    with _server(_migration["url"]) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{_migration["template"]}" WITH (FORCE)')
    shutil.rmtree(_migration["status"].parent, ignore_errors=True)


def use_template(settings_dict: dict) -> None:
    """In a worker: create the test database from the template, once the controller has it."""
    status = os.environ.get(STATUS)
    if not status:
        return
    deadline = time.monotonic() + WAIT_SECONDS
    while not os.path.exists(status) and time.monotonic() < deadline:
        time.sleep(0.2)
    outcome = Path(status).read_text() if os.path.exists(status) else "failed\ntimed out"
    if outcome == "ok":
        settings_dict["TEST"]["TEMPLATE"] = os.environ[NAME]
    else:
        sys.stderr.write(f"测试数据库模板不可用，各进程自行迁移：{outcome}\n")
