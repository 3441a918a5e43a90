"""On SQLite, reading requests take no write lock; writing ones take it at once."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite",
                                reason="SQLite's transaction modes (PostgreSQL has no such lock)")


def begins(queries) -> list[str]:
    return [query["sql"] for query in queries if query["sql"].startswith("BEGIN")]


@pytest.mark.django_db(transaction=True)
def test_a_read_begins_deferred_and_a_write_immediate(client, network):
    with CaptureQueriesContext(connection) as reading:
        response = client.get("/", HTTP_HOST="jia.test")
    assert response.status_code == 200
    assert begins(reading) and set(begins(reading)) == {"BEGIN"}
    assert connection.transaction_mode == "IMMEDIATE"  # put back after the request

    with CaptureQueriesContext(connection) as writing:
        client.post("/admin/login/", {"username": "a_administrator", "password": "wrong"})
    assert "BEGIN IMMEDIATE" in begins(writing)


@pytest.mark.django_db(transaction=True)
def test_the_editor_is_a_writer_from_the_start(client, network):
    """Wagtail's editor records an editing session whenever it is opened: its reading
    request takes the write lock at once instead of failing over to it (cms.middleware)."""
    client.force_login(network.users["a_administrator"])
    news = network.column(network.school_a, "news")
    with CaptureQueriesContext(connection) as opening:
        response = client.get(f"/admin/pages/{news.pk}/edit/")
    assert response.status_code == 200
    assert "BEGIN IMMEDIATE" in begins(opening) and "BEGIN" not in begins(opening)
    with CaptureQueriesContext(connection) as listing:
        assert client.get(f"/admin/pages/{news.pk}/").status_code == 200
    assert set(begins(listing)) == {"BEGIN"}

