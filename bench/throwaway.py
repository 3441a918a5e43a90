"""A throwaway PostgreSQL database for a benchmark: created, set as DATABASE_URL with a
fresh CMS_DATA_DIR, and dropped afterwards."""

import contextlib
import os
import sys
import tempfile
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"


@contextlib.contextmanager
def throwaway_database(prefix: str):
    sys.path.insert(0, str(ROOT))
    name = f"{prefix}_{os.getpid()}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{name}"
    os.environ["CMS_DATA_DIR"] = tempfile.mkdtemp(prefix="cms-bench-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "cms.settings.dev"
    try:
        yield name
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
