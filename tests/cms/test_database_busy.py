"""Pure logic of the embedded default's database handling (no database): recognising
SQLite's busy lock, and when a token's use is worth recording."""

import sqlite3
from datetime import datetime, timedelta

from django.db import OperationalError

from cms.accounts.tokens import token_use_is_due
from cms.sqlite import is_busy


def test_busy_is_sqlites_lock_whatever_wraps_it():
    locked = sqlite3.OperationalError("database is locked")
    wrapped = OperationalError("database is locked")
    wrapped.__cause__ = locked
    assert is_busy(locked) and is_busy(wrapped)
    assert not is_busy(sqlite3.OperationalError("no such table: x"))
    assert not is_busy(ValueError("database is locked"))


def test_a_tokens_use_is_recorded_at_most_once_an_interval():
    now = datetime(2026, 12, 3, 8, 0)
    assert token_use_is_due(last_used_at=None, now=now, interval=60)
    assert not token_use_is_due(last_used_at=now - timedelta(seconds=59), now=now, interval=60)
    assert token_use_is_due(last_used_at=now - timedelta(seconds=60), now=now, interval=60)


def test_a_stale_snapshot_that_would_write_is_busy(tmp_path):
    """SQLite's own error (extended code SQLITE_BUSY_SNAPSHOT, 517): a reading transaction
    whose snapshot another connection has written past cannot become a writer."""
    path = tmp_path / "x.sqlite3"
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("PRAGMA journal_mode=WAL")
    reader.execute("CREATE TABLE t (x)")
    writer = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT * FROM t").fetchall()
    writer.execute("INSERT INTO t VALUES (1)")
    try:
        reader.execute("INSERT INTO t VALUES (2)")
    except sqlite3.OperationalError as error:
        assert is_busy(error) and error.sqlite_errorcode == 517
    else:
        raise AssertionError("the stale snapshot became a writer")
    finally:
        reader.close()
        writer.close()
