"""The embedded default (SQLite) under concurrent use: no request fails because another
connection — another process, as a background task worker is — writes the same database
file (issue 18, finding 1).

The test database is in memory, which has neither WAL nor SQLite's file locks; these tests
copy it to a file and serve their requests from that copy, while a real second process
writes the file at the moment that used to fail."""

import json
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from wagtail.admin.models import EditingSession
from wagtail.models import APIToken, Page

from cms.publishing import submit
from tests.conftest import make_article, task_state

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite",
                                reason="SQLite's file locks (PostgreSQL locks rows)")

# The other process: takes the write lock, writes, says so, holds the lock for a while (a long
# request elsewhere, a task worker's write), commits.
OTHER_WRITER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
db.execute("BEGIN IMMEDIATE")
# A real change: SQLite leaves snapshots valid after an update that changes nothing.
db.execute("INSERT INTO django_migrations (app, name, applied)"
           " VALUES ('other_process', 'write', datetime('now'))")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("COMMIT")
"""


class OtherProcess:
    def __init__(self, path):
        self.path = path
        self.running: list[subprocess.Popen] = []

    def hold_lock(self, seconds: float) -> subprocess.Popen:
        """Start writing in another process; return once it holds the write lock."""
        process = subprocess.Popen([sys.executable, "-c", OTHER_WRITER, str(self.path),
                                    str(seconds)], stdout=subprocess.PIPE, text=True)
        self.running.append(process)
        assert process.stdout.readline().strip() == "locked"
        return process

    def write(self) -> None:
        """A write committed by the other process (as a task worker's index update)."""
        self.hold_lock(0).wait(timeout=30)

    def finish(self) -> None:
        for process in self.running:
            process.wait(timeout=60)


@pytest.fixture
def on_file(network, tmp_path):
    """The test's database copied to a file in WAL mode; this thread's requests, and any
    thread started now, use the copy. Yields the other process writing the same file."""
    path = tmp_path / "db.sqlite3"
    connection.ensure_connection()
    # As this connection sees it, the module's build (not committed) included.
    path.write_bytes(connection.connection.serialize())
    copy = sqlite3.connect(path)
    copy.execute("PRAGMA journal_mode=WAL")
    copy.close()
    settings_dict = connections.settings["default"]
    original, name = connections["default"], settings_dict["NAME"]
    settings_dict["NAME"] = str(path)
    on_file = connections.create_connection("default")
    connections["default"] = on_file
    other = OtherProcess(path)
    try:
        yield other
    finally:
        other.finish()
        on_file.close()
        connections["default"] = original
        settings_dict["NAME"] = name


@contextmanager
def after_first_read_of(table: str, action):
    """Run ``action`` right after the first statement reading ``table`` inside a transaction
    of this thread's connection: the request's snapshot is taken, its write is yet to come."""
    done = False

    def wrapper(execute, sql, params, many, context):
        nonlocal done
        result = execute(sql, params, many, context)
        if not done and connection.in_atomic_block and sql.startswith("SELECT") \
                and f'FROM "{table}"' in sql:
            done = True
            action()
        return result

    with connection.execute_wrapper(wrapper):
        yield


def article_form() -> dict:
    return {"title": "并发保存的草稿", "slug": "concurrent-draft", "date": "2026-11-20",
            "source": "校办", "author": "", "body-count": "0",
            "attachments-TOTAL_FORMS": "0", "attachments-INITIAL_FORMS": "0",
            "attachments-MIN_NUM_FORMS": "0", "attachments-MAX_NUM_FORMS": "1000"}


def save_draft(client, network) -> Page:
    """The administrator adds an article in the editor and saves it as a draft."""
    client.force_login(network.users["a_administrator"])
    news = network.column(network.school_a, "news")
    response = client.post(reverse("wagtailadmin_pages:add",
                                   args=["cms", "articlepage", news.pk]), article_form())
    assert response.status_code == 302, response.content.decode()[:1000]
    return Page.objects.get(slug="concurrent-draft")


def test_the_editor_opens_after_a_draft_save_while_another_process_writes(
        client, network, on_file):
    """Finding 1: the editor records an editing session when it opens — a write in a reading
    request — and answered 500 "database is locked" while another writer (the background
    task after the save) held the lock. It now takes the lock from the start and waits."""
    page = save_draft(client, network)
    writer = on_file.hold_lock(1)
    response = client.get(reverse("wagtailadmin_pages:edit", args=[page.pk]))
    assert writer.poll() is not None  # it waited for the other process
    assert response.status_code == 200
    assert "并发保存的草稿" in response.content.decode()
    assert EditingSession.objects.filter(object_id=str(page.pk),
                                         user=network.users["a_administrator"]).count() == 1


@pytest.mark.parametrize("other_writes", ["committed", "holds the lock"])
def test_a_reading_request_that_must_write_is_served_again_as_a_writer(
        client, network, on_file, other_writes, monkeypatch):
    """Any reading request that writes after it has read (here the editor, as if it were
    not known to write): another process wrote after the request's snapshot (a stale
    snapshot cannot become a writer), or holds the lock (SQLite refuses a reading transaction
    at once). The request is served again as a writer, not answered with 500."""
    page = save_draft(client, network)
    monkeypatch.setattr("cms.middleware.writes_on_every_read", lambda request: False,
                        raising=False)
    action = on_file.write if other_writes == "committed" else lambda: on_file.hold_lock(1)
    with after_first_read_of("wagtailcore_page", action):
        response = client.get(reverse("wagtailadmin_pages:edit", args=[page.pk]))
    assert response.status_code == 200
    assert "并发保存的草稿" in response.content.decode()
    assert EditingSession.objects.filter(object_id=str(page.pk),
                                         user=network.users["a_administrator"]).count() == 1


def test_a_token_read_during_another_process_long_write_answers_at_once(network, on_file):
    """Finding 1: while a long write held the lock, token reads answered 500, because the
    token's last use was written inside the reading request. It is recorded after the answer,
    skipped while the database is busy, and recorded by the next use."""
    page = make_article(network.column(network.school_a, "news"), "令牌读取的草稿", live=False)
    token, key = APIToken.create_token(user=network.users["a_administrator"], name="读取")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_HOST="jia.test")
    url = f"/api/v3/pages/{page.pk}/?version=draft"
    writer = on_file.hold_lock(3)
    started = time.monotonic()
    response = client.get(url)
    waited = time.monotonic() - started
    assert response.status_code == 200, response.content[:500]
    assert json.loads(response.content)["title"] == "令牌读取的草稿"
    assert writer.poll() is None, f"the read waited for the writer ({waited:.1f} s)"
    token.refresh_from_db()
    assert token.last_used_at is None  # skipped: the database was busy
    writer.wait(timeout=30)
    assert client.get(url).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_approvals_at_once_wait_their_turn_behind_a_long_write(network, on_file):
    """Finding 1: approvals that queued for SQLite's lock longer than the driver's 5 s busy
    timeout answered 500. Three administrators' approvals wait behind another process holding
    the lock for six seconds, and all go through."""
    teacher = network.users["a_teacher"]
    teaching = network.column(network.school_a, "teaching")
    pages = []
    for number in range(3):
        page = make_article(teaching, f"待审文章{number}", live=False, owner=teacher)
        submit(page, user=teacher)
        pages.append(page)
    clients = []
    for page in pages:
        client = Client(raise_request_exception=False)
        client.force_login(network.users["a_administrator"])
        clients.append((client, reverse("wagtailadmin_pages:workflow_action",
                                        args=[page.pk, "approve", task_state(page).pk])))
    statuses: list[int] = []

    def approve(client, url):
        try:
            statuses.append(client.post(url, {"comment": "内容属实"}).status_code)
        finally:
            connection.close()  # this thread's own

    writer = on_file.hold_lock(6)
    threads = [threading.Thread(target=approve, args=pair) for pair in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    writer.wait(timeout=30)
    assert sorted(statuses) == [302, 302, 302]
    for page in pages:
        assert task_state(page).task.specific_class.__name__ == "LeaderApprovalTask"
