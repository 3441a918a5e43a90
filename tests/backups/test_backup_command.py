"""backup create | list | verify | restore | prune, through the command; and a restore drill in
a fresh state directory, with real processes, ending in a verified publication log."""

import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from backups.snapshots import Repository
from tests.backups.helpers import listing, run
from tests.shared import clone_test_database, copy_test_database

ROOT = Path(__file__).resolve().parents[2]


def test_create_list_and_an_unchanged_second_run(state, transactional_db):
    run("create")
    objects = state / "backups" / "objects"
    stored = sum(p.stat().st_size for p in objects.rglob("*") if p.is_file())
    run("create")
    again = sum(p.stat().st_size for p in objects.rglob("*") if p.is_file())
    snapshots = listing()
    assert [set(s) for s in snapshots] == [{"id", "created_at", "size", "files"}] * 2
    assert snapshots[0]["created_at"] < snapshots[1]["created_at"]
    assert snapshots[0]["files"] == 2
    assert again - stored < 200_000  # next to nothing: at most the database dump changed


def test_a_log_growing_during_the_backup_does_not_keep_it_reading(state, transactional_db):
    """A log file under the state directory written to while ``backup create`` reads it: the
    backup ends, holds the log as of its start, and says it changed while read."""
    import threading

    log = state / "logs" / "cms.log"
    log.parent.mkdir()
    log.write_bytes(b"started\n" * 100_000)
    stop = threading.Event()

    def append():
        with log.open("ab") as out:
            while not stop.is_set():
                out.write(b"request\n" * 1000)
                out.flush()

    writer = threading.Thread(target=append, daemon=True)
    writer.start()
    err = io.StringIO()
    done = threading.Thread(target=call_command, args=("backup", "create"),
                            kwargs={"stdout": io.StringIO(), "stderr": err})
    done.start()
    done.join(60)
    finished = not done.is_alive()
    stop.set()
    writer.join(5)
    done.join(60)
    assert finished
    assert "logs/cms.log 在读取时被修改" in err.getvalue()
    progress = [int(m) for m in re.findall(r"(\d+)%", err.getvalue())]
    assert progress and max(progress) <= 100
    repository = Repository(state / "backups")
    (snapshot,) = repository.snapshots()
    part = next(p for p in snapshot.parts if p.name == "files/logs/cms.log")
    assert b"".join(repository.read_part(part)) == log.read_bytes()[:part.size]
    assert 800_000 <= part.size < log.stat().st_size


def test_a_full_disk_stops_the_backup_with_a_message_and_no_snapshot(state, transactional_db,
                                                                     monkeypatch):
    import errno

    from django.core.management.base import CommandError

    from backups.store import ContentStore

    write_temporary = ContentStore._write_temporary

    def filling(self, write):
        def half_then_full(out):
            out.write(b"half a chunk")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return write_temporary(self, half_then_full)

    monkeypatch.setattr(ContentStore, "_write_temporary", filling)
    with pytest.raises(CommandError, match="磁盘空间不足，已停止") as raised:
        call_command("backup", "create", stdout=io.StringIO(), stderr=io.StringIO())
    assert raised.value.returncode == 2
    repository = state / "backups"
    assert listing() == []
    assert [p for p in (repository / "objects").rglob("*") if p.is_file()] == []


def test_verify_names_the_damaged_part(state, transactional_db):
    run("create")
    assert run("verify")[0] == 0
    snapshot_id = listing()[0]["id"]
    repository = Repository(state / "backups")
    part = next(p for p in repository.load(snapshot_id).parts if p.name.endswith("b.bin"))
    damaged = repository.objects.path_for(part.chunks[0])
    os.chmod(damaged, 0o644)
    with damaged.open("r+b") as handle:
        handle.seek(100)
        handle.write(b"\x00\x01")
    code, out = run("verify", snapshot_id)
    assert code == 1
    assert "files/originals/b.bin" in out and "损坏" in out


def test_restore_refuses_a_state_that_is_not_empty(state, transactional_db):
    from django.core.management.base import CommandError

    run("create")
    with pytest.raises(CommandError, match="不是空的") as raised:
        call_command("backup", "restore", listing()[0]["id"])
    assert raised.value.returncode == 2
    with pytest.raises(CommandError, match="没有这个备份"):
        call_command("backup", "restore", "nonexistent")


def test_prune_keeps_the_retention_minimum(state, db):
    import datetime

    repository = Repository(state / "backups")
    old = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=400)
    recent = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=100)
    for when in (old, recent):
        repository.create(engine="sqlite", database=lambda out: out.write(b"dump"),
                          files=[("a", state / "media" / "documents" / "a.pdf")], now=when)
    assert "将删除 1 个快照" in run("prune", "--keep-within", "30d", "--dry-run")[1]
    assert len(listing()) == 2
    run("prune", "--keep-within", "30d")  # 30 days asked, 180 kept
    assert [s["created_at"][:10] for s in listing()] == [recent.date().isoformat()]
    assert run("verify")[0] == 0  # shared chunks survived


def sqlite_rows(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        return list(connection.iterdump())


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite drill runs in the SQLite "
                    "suite (it does not depend on the suite's database)")
# The test database is set up (and copied) even when run alone; transactional, as SQLite
# cannot copy a shared in-memory database from inside the connection's open transaction.
@pytest.mark.django_db(transaction=True)
def test_restore_drill(tmp_path):
    """The README's restore, start to end: a demo site is backed up, restored into a fresh
    state directory holding only backups/, and comes back identical with its log intact."""
    source, target = tmp_path / "source", tmp_path / "target"
    environment = {**os.environ, "CMS_DATA_DIR": str(source),
                   "DJANGO_SETTINGS_MODULE": "cms.settings.dev"}
    environment.pop("DATABASE_URL", None)

    # The restore runs as production does (the manifest static files storage, which answers
    # 500 for a page naming a static file that was not collected).
    production = {"DJANGO_SETTINGS_MODULE": "cms.settings.production", "CMS_TLS": "0",
                  "DJANGO_SECRET_KEY": "drill-" * 10, "DJANGO_ALLOWED_HOSTS": "*"}

    def manage(*args, data_dir=source, settings=None):
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT,
                                env={**environment, "CMS_DATA_DIR": str(data_dir),
                                     **(settings or {})},
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr[-2000:]
        return result.stdout

    source.mkdir()
    copy_test_database(source / "db.sqlite3")  # a new, migrated site
    manage("demo", "--if-empty")
    manage("backup", "create")
    snapshot_id = json.loads(manage("backup", "list", "--format", "json"))[-1]["id"]
    target.mkdir()
    shutil.copytree(source / "backups", target / "backups")
    manage("backup", "restore", snapshot_id, data_dir=target, settings=production)

    # Serving works at once: the restore collected the static files (they are not in a
    # snapshot; they come with the code).
    answers = manage("shell", "-c", "from django.test import Client; client = Client(); "
                     "print([client.get(path).status_code for path in "
                     "('/admin/login/', '/search/?q=通知')])",
                     data_dir=target, settings=production)
    assert answers.strip().splitlines()[-1] == "[200, 200]"

    kept = sorted(p.relative_to(source) for folder in ("media", "originals", "keys")
                  for p in (source / folder).rglob("*") if p.is_file())
    assert any(p.parts[0] == "originals" for p in kept)
    assert any(p.parts[0] == "media" for p in kept)
    for relative in kept:
        assert (target / relative).read_bytes() == (source / relative).read_bytes()
    assert sqlite_rows(target / "db.sqlite3") == sqlite_rows(source / "db.sqlite3")
    assert "INTACT" in manage("publication_log", "verify", data_dir=target)


def postgres_available() -> bool:
    return shutil.which("psql") is not None and subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-c", "SELECT 1"],
        capture_output=True, check=False).returncode == 0


@pytest.mark.skipif(connection.vendor != "postgresql" and not os.environ.get("DRILL_POSTGRES"),
                    reason="the PostgreSQL drill runs in the PostgreSQL suite")
@pytest.mark.skipif(not postgres_available(), reason="no PostgreSQL on 127.0.0.1:5432")
# Transactional: the test database, as committed, is the new site's template.
@pytest.mark.django_db(transaction=True)
def test_restore_drill_on_postgresql(tmp_path):
    """pg_dump into the repository, psql out of it into an empty database: the same data."""
    names = [f"cms_drill_{role}_{os.getpid()}" for role in ("source", "target")]

    def psql(*args):
        return subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres",
                               "-q", *args], capture_output=True, text=True, check=True)

    def manage(*args, name, data_dir):
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True,
            timeout=600, env={**os.environ, "CMS_DATA_DIR": str(data_dir),
                              "DJANGO_SETTINGS_MODULE": "cms.settings.dev",
                              "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{name}"})
        assert result.returncode == 0, result.stderr[-2000:]
        return result.stdout

    def dump(name):
        # The data: PostgreSQL may print a restored index predicate differently.
        text = subprocess.run(["pg_dump", "-h", "127.0.0.1", "-U", "postgres", "--data-only",
                               name], capture_output=True, text=True, check=True).stdout
        # pg_dump 15.14+ brackets a dump with a random \restrict key: not data. Each table's
        # rows come in their physical order, which a database cloned from the test database
        # (rows deleted and loaded again) need not share with a restored one: compared sorted.
        lines = [line for line in text.splitlines()
                 if not line.startswith(("\\restrict", "\\unrestrict"))]
        tables, rows = [], []
        for line in lines:
            if line.startswith("COPY ") or line == "\\.":
                tables.append(sorted(rows))
                rows = []
            rows.append(line)
        return [*tables, sorted(rows)]

    def create(name):
        psql("-c", f"DROP DATABASE IF EXISTS {name}", "-c", f"CREATE DATABASE {name}")

    try:
        source, target = tmp_path / "source", tmp_path / "target"
        if connection.vendor == "postgresql":  # a new, migrated site
            clone_test_database(names[0])
        else:
            create(names[0])
            manage("migrate", "--no-input", "-v0", name=names[0], data_dir=source)
        create(names[1])
        manage("shell", "-c", "from django.contrib.auth.models import User; "
               "User.objects.create_user('网管员甲', password='x' * 12)",
               name=names[0], data_dir=source)
        manage("backup", "create", name=names[0], data_dir=source)
        snapshot_id = json.loads(manage("backup", "list", "--format", "json", name=names[0],
                                        data_dir=source))[-1]["id"]
        target.mkdir()
        shutil.copytree(source / "backups", target / "backups")
        manage("backup", "restore", snapshot_id, name=names[1], data_dir=target)
        restored = dump(names[1])
        assert restored == dump(names[0])
        assert any("网管员甲" in line for table in restored for line in table)
        assert "INTACT" in manage("publication_log", "verify", name=names[1], data_dir=target)
    finally:
        for name in names:
            psql("-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
