"""Dumping and restoring the database: SQLite through its online backup API (a consistent
copy while the site runs), PostgreSQL through pg_dump and psql (plain SQL)."""

import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path
from typing import BinaryIO

from django.db import connection

from backups.exceptions import DatabaseBackupError


def engine() -> str:
    return connection.vendor  # "sqlite" or "postgresql"


def _pg_environment() -> tuple[list[str], dict]:
    settings = connection.settings_dict
    args = ["-h", settings.get("HOST") or "127.0.0.1", "-p", str(settings.get("PORT") or 5432),
            "-U", settings.get("USER") or "postgres"]
    environment = {**os.environ}
    if settings.get("PASSWORD"):
        environment["PGPASSWORD"] = settings["PASSWORD"]
    return args, environment


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise DatabaseBackupError(f"找不到 {name}（PostgreSQL 客户端），无法备份或恢复数据库。")
    return path


def dump(out: BinaryIO) -> None:
    if engine() == "sqlite":
        if connection.in_atomic_block:
            # The online backup would wait for this very transaction forever.
            raise DatabaseBackupError("不能在数据库事务中备份 SQLite 数据库。")
        connection.ensure_connection()
        with tempfile.TemporaryDirectory() as directory:
            copy = Path(directory) / "db.sqlite3"
            target = sqlite3.connect(copy)
            try:
                connection.connection.backup(target)
            finally:
                target.close()
            with copy.open("rb") as handle:
                shutil.copyfileobj(handle, out)
        return
    if engine() == "postgresql":
        args, environment = _pg_environment()
        with tempfile.TemporaryFile() as raw:
            result = subprocess.run(
                [_tool("pg_dump"), *args, "--no-owner", "--no-privileges", "--format=plain",
                 connection.settings_dict["NAME"]], stdout=raw, stderr=subprocess.PIPE,
                env=environment, check=False)
            if result.returncode:
                raise DatabaseBackupError(
                    f"pg_dump 失败：{result.stderr.decode(errors='replace')}")
            raw.seek(0)
            # pg_dump 15.14+ brackets the dump with a random \restrict key, which would make
            # every dump differ (and defeat deduplication); psql restores without it.
            for line in raw:
                if not line.startswith((b"\\restrict ", b"\\unrestrict ")):
                    out.write(line)
        return
    raise DatabaseBackupError(f"不支持的数据库：{engine()}")


def size_estimate() -> int:
    """About how many bytes a dump will be (for progress bars)."""
    path = sqlite_path()
    if path is not None:
        return path.stat().st_size if path.exists() else 0
    if engine() == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            return int(cursor.fetchone()[0])
    return 0


def is_empty() -> bool:
    """No tables at all: a database nothing was migrated into."""
    return not connection.introspection.table_names()


def sqlite_path() -> Path | None:
    if engine() != "sqlite":
        return None
    name = str(connection.settings_dict["NAME"])
    return None if name == ":memory:" or name.startswith("file:") else Path(name)


def restore(dump_file: Path, *, force: bool) -> None:
    if engine() == "sqlite":
        path = sqlite_path()
        if path is None:
            raise DatabaseBackupError("内存数据库无法恢复到文件。")
        connection.close()
        # Copied beside the database, then renamed over it: a restore killed meanwhile leaves
        # the old file whole (and a ".restore-" file that backups skip and a retry replaces).
        copy = path.with_name(f".restore-{path.name}")
        shutil.copyfile(dump_file, copy)
        with copy.open("rb") as handle:
            os.fsync(handle.fileno())
        for suffix in ("-wal", "-shm"):  # they belong to the file being replaced
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.replace(copy, path)
        return
    if engine() == "postgresql":
        args, environment = _pg_environment()
        name = connection.settings_dict["NAME"]
        connection.close()
        if force:
            _psql(args, environment, name, ["-c", "DROP SCHEMA public CASCADE; "
                                                  "CREATE SCHEMA public;"])
        _psql(args, environment, name, ["-f", str(dump_file)])
        return
    raise DatabaseBackupError(f"不支持的数据库：{engine()}")


def _psql(args: list[str], environment: dict, name: str, command: list[str]) -> None:
    result = subprocess.run([_tool("psql"), *args, "-q", "-v", "ON_ERROR_STOP=1", "-d", name,
                             *command], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=environment, check=False)
    if result.returncode:
        raise DatabaseBackupError(f"psql 失败：{result.stderr.decode(errors='replace')}")
