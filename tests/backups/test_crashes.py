"""Backups and restores killed with SIGKILL (tests/backups/killer.py) half-way, as real
processes on a migrated SQLite site: the next run removes or resumes the debris, prune
reclaims the chunks no snapshot names, and no backup takes a restore's debris in."""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from backups.snapshots import CHUNK_SIZE, Repository
from tests.shared import copy_test_database

ROOT = Path(__file__).resolve().parents[2]

# The database mark makes pytest-django set up the test database, which `migrated` copies
# (run alone, the module would otherwise have none set up); transactional, as SQLite cannot
# copy a shared in-memory database from inside the connection's open transaction.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="runs in the SQLite suite (real processes on their own SQLite site)")]


def manage(*args, data_dir: Path, kill: tuple[str, int] | None = None,
           expect: int = 0) -> subprocess.CompletedProcess:
    """``manage.py *args`` on the site in ``data_dir``; with ``kill``, SIGKILLed there."""
    command = [sys.executable, "manage.py"] if kill is None else [
        sys.executable, str(ROOT / "tests" / "backups" / "killer.py"), kill[0], str(kill[1])]
    environment = {**os.environ, "CMS_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT),
                   "DJANGO_SETTINGS_MODULE": "cms.settings.dev"}
    environment.pop("DATABASE_URL", None)
    result = subprocess.run([*command, *args], cwd=ROOT, env=environment, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == (-9 if kill else expect), result.stderr[-2000:]
    return result


@pytest.fixture(scope="module")
def migrated(django_db_setup, django_db_blocker, tmp_path_factory) -> Path:
    """A new site's data directory: a migrated database and nothing else."""
    site = tmp_path_factory.mktemp("migrated")
    with django_db_blocker.unblock():
        copy_test_database(site / "db.sqlite3")
    return site


def new_site(migrated: Path, where: Path) -> Path:
    shutil.copytree(migrated, where)
    (where / "media" / "documents").mkdir(parents=True)
    (where / "media" / "documents" / "a.pdf").write_bytes(b"%PDF-1.4 a" * 30_000)
    (where / "originals").mkdir()
    (where / "originals" / "big.bin").write_bytes(os.urandom(2 * CHUNK_SIZE + 1000))
    return where


@pytest.fixture(scope="module")
def backed_up(migrated, tmp_path_factory) -> tuple[Path, str]:
    source = new_site(migrated, tmp_path_factory.mktemp("backed-up") / "source")
    manage("backup", "create", data_dir=source)
    return source, snapshot_ids(source)[-1]


def snapshot_ids(site: Path) -> list[str]:
    return [s["id"] for s in json.loads(
        manage("backup", "list", "--format", "json", data_dir=site).stdout)]


def chunk_files(repository: Path) -> set[str]:
    return {p.name for p in (repository / "objects").glob("??/??/*")}


def named_chunks(repository: Path) -> set[str]:
    return {digest for snapshot in Repository(repository).snapshots()
            for part in snapshot.parts for digest in part.chunks}


def pieces(path: Path) -> set[str]:
    data = path.read_bytes()
    return {hashlib.sha256(data[i:i + CHUNK_SIZE]).hexdigest()
            for i in range(0, len(data), CHUNK_SIZE)}


def test_a_killed_backup_is_cleaned_up_and_prune_reclaims_its_orphans(migrated, tmp_path):
    site = new_site(migrated, tmp_path / "site")
    gone = site / "media" / "documents" / "gone.bin"
    gone.write_bytes(os.urandom(2 * CHUNK_SIZE + 1000))
    repository = site / "backups"
    # Chunks in order (files sorted by path): the dump's, media/documents/a.pdf (1),
    # media/documents/gone.bin (3), originals/big.bin (3): killed half-way through big.bin's
    # second, gone.bin stored whole.
    dump = -(-(site / "db.sqlite3").stat().st_size // CHUNK_SIZE)
    manage("backup", "create", data_dir=site, kill=("chunk", dump + 6))
    debris = list((repository / "objects" / "tmp").iterdir())
    assert [p.stat().st_size for p in debris] == [CHUNK_SIZE // 2]
    assert len(chunk_files(repository)) == dump + 5
    assert not list((repository / "snapshots").glob("*.json"))  # no manifest: no snapshot

    gone_pieces = pieces(gone)
    gone.unlink()  # its stored chunks are now named by no snapshot, ever
    before = chunk_files(repository)
    inodes = {p.name: p.stat().st_ino for p in (repository / "objects").glob("??/??/*")}
    manage("backup", "create", data_dir=site)
    assert list((repository / "objects" / "tmp").iterdir()) == []
    assert len(snapshot_ids(site)) == 1
    # The chunks stored before the kill are kept, not written again.
    assert {p.name: p.stat().st_ino for p in (repository / "objects").glob("??/??/*")
            if p.name in before} == inodes
    orphans = chunk_files(repository) - named_chunks(repository)
    assert gone_pieces <= orphans and len(gone_pieces) == 3
    assert orphans <= before  # the orphans are the killed run's, not the new run's

    out = manage("backup", "prune", "--keep-within", "180d", "--dry-run", data_dir=site).stdout
    assert f"将删除 {len(orphans)} 个不再被任何快照引用的数据块" in out
    assert chunk_files(repository) - named_chunks(repository) == orphans
    out = manage("backup", "prune", "--keep-within", "180d", data_dir=site).stdout
    assert f"已删除 {len(orphans)} 个不再被任何快照引用的数据块" in out
    assert chunk_files(repository) == named_chunks(repository)
    assert "完好" in manage("backup", "verify", data_dir=site).stdout


def sqlite_rows(path: Path) -> list[str]:
    with sqlite3.connect(path) as database:
        return list(database.iterdump())


def site_files(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes()
            for folder in ("media", "originals") for p in (site / folder).rglob("*")
            if p.is_file()}


def restore_debris(site: Path) -> list[Path]:
    return [p for p in site.rglob("*") if p.name.startswith(".restore-")]


@pytest.mark.parametrize("kill", [("stage", 3), ("place", 1), ("database", 1)],
                         ids=["staging", "moving-into-place", "loading-the-database"])
def test_a_killed_restore_is_resumed_by_a_plain_retry(backed_up, tmp_path, kill):
    source, snapshot_id = backed_up
    target = tmp_path / "target"
    target.mkdir()
    shutil.copytree(source / "backups", target / "backups")
    manage("backup", "restore", snapshot_id, data_dir=target, kill=kill)
    assert restore_debris(target)  # killed half-way: the staging directory is there

    if kill[0] == "place":  # a file that is not the restore's own still refuses the retry
        (target / "media" / "other.txt").write_text("x")
        refused = manage("backup", "restore", snapshot_id, data_dir=target, expect=2)
        assert "目标不是空的" in refused.stderr
        (target / "media" / "other.txt").unlink()

    retry = manage("backup", "restore", snapshot_id, data_dir=target)
    assert "继续上次中断的恢复" in retry.stderr
    assert f"已恢复 {snapshot_id}" in retry.stdout
    assert restore_debris(target) == []
    assert site_files(target) == site_files(source)
    assert sqlite_rows(target / "db.sqlite3") == sqlite_rows(source / "db.sqlite3")
    assert (target / "static" / "wagtailadmin").is_dir()  # collectstatic ran

    # The next backup of the restored site holds the site, nothing of the restore.
    manage("backup", "create", data_dir=target)
    repository = Repository(target / "backups")
    names = [{p.name for p in s.parts} for s in repository.snapshots()]
    assert names[-1] == names[0]


def test_debris_of_an_earlier_killed_restore_is_cleared(backed_up, tmp_path):
    """What the issue found after a restore killed under the previous code: .restore-*
    files beside the targets, a database file with -wal and -shm, backups/tmp…."""
    source, snapshot_id = backed_up
    target = tmp_path / "target"
    target.mkdir()
    shutil.copytree(source / "backups", target / "backups")
    (target / "media" / "documents").mkdir(parents=True)
    (target / "media" / "documents" / ".restore-k3j2h1").write_bytes(b"partial" * 1000)
    with sqlite3.connect(target / "db.sqlite3") as database:
        database.execute("PRAGMA journal_mode=WAL")
    (target / "backups" / "tmpab12cd").mkdir()
    (target / "backups" / "tmpab12cd" / "database").write_bytes(b"partial dump")

    manage("backup", "restore", snapshot_id, data_dir=target)
    assert restore_debris(target) == []
    assert site_files(target) == site_files(source)
    manage("backup", "create", data_dir=target)
    assert not (target / "backups" / "tmpab12cd").exists()
    repository = Repository(target / "backups")
    names = [{p.name for p in s.parts} for s in repository.snapshots()]
    assert names[-1] == names[0]
