"""Tampering with the chained logs the way an attacker with database access would, behind the
ORM's back, and running the logs' commands."""

import contextlib
import json
from io import StringIO

from django.core.management import call_command
from django.db import connection


def run_command(name: str, *args) -> tuple[int, str]:
    """Run a management command; its exit code and output."""
    out = StringIO()
    try:
        call_command(name, *args, stdout=out, stderr=StringIO())
    except SystemExit as exit_:
        return exit_.code, out.getvalue()
    return 0, out.getvalue()


@contextlib.contextmanager
def past_the_trigger(cursor):
    """A PostgreSQL superuser can switch ordinary triggers off for the session."""
    postgres = connection.vendor == "postgresql"
    if postgres:
        cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        if postgres:
            cursor.execute("SET session_replication_role = origin")


def raw_update(table: str, assignments: dict, where: str, params: list) -> None:
    """UPDATE behind the ORM, as a database user would (on PostgreSQL past the trigger, as
    the table's owner could)."""
    postgres = connection.vendor == "postgresql"
    columns = ", ".join(f"{name} = %s{'::jsonb' if postgres and name == 'entry' else ''}"
                        for name in assignments)
    values = [json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else v
              for v in assignments.values()]
    with connection.cursor() as cursor, past_the_trigger(cursor):
        cursor.execute(f"UPDATE {table} SET {columns} WHERE {where}", [*values, *params])


def raw_delete(table: str, where: str, params: list) -> None:
    with connection.cursor() as cursor, past_the_trigger(cursor):
        cursor.execute(f"DELETE FROM {table} WHERE {where}", params)
