"""The embedded default's database: recognising SQLite's busy lock, and writes that may be
skipped rather than wait for it."""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection as default_connection

# SQLite's primary result code for "another connection holds the lock, or has written since
# this transaction's snapshot" (SQLITE_BUSY; extended: BUSY_SNAPSHOT, BUSY_RECOVERY...).
SQLITE_BUSY = 5


def is_busy(error: BaseException) -> bool:
    """Whether ``error`` (Django's OperationalError or sqlite3's own) is SQLite's busy lock."""
    for candidate in (error, error.__cause__):
        if isinstance(candidate, sqlite3.OperationalError):
            code = getattr(candidate, "sqlite_errorcode", None)
            if code is not None:
                return code & 0xFF == SQLITE_BUSY
            return "database is locked" in str(candidate)
    return False


@contextmanager
def without_waiting(connection=default_connection) -> Iterator[None]:
    """On SQLite, statements in the block give up at once when another connection holds the
    write lock, instead of waiting up to the busy timeout: for writes worth skipping rather
    than delaying an answer (when a token was last used). Elsewhere, nothing changes."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        before = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA busy_timeout = 0")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {before}")
