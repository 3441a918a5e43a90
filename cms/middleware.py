"""Request-wide database behaviour of the embedded default."""

from django.db import connection

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SqliteReadsMiddleware:
    """On SQLite, a request that only reads opens its transaction with a plain (deferred)
    BEGIN, not the BEGIN IMMEDIATE the settings give every transaction.

    Every request runs in a transaction (ATOMIC_REQUESTS and review's ActorMiddleware), and
    IMMEDIATE takes SQLite's single write lock at once: readers would queue behind each other
    and behind any writer, and give up with an error after the busy timeout. A deferred
    transaction reads from WAL snapshots alongside a writer. Writes keep IMMEDIATE, which
    spares them deadlocks when two transactions try to upgrade from reading to writing.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if connection.vendor != "sqlite" or request.method not in READ_METHODS:
            return self.get_response(request)
        connection.ensure_connection()
        connection.transaction_mode = None
        try:
            return self.get_response(request)
        finally:
            # The configured mode, not the one found: concurrent requests sharing one
            # connection (the test live server's in-memory database) would otherwise hand
            # each other the read mode for good.
            connection.transaction_mode = connection.settings_dict["OPTIONS"].get(
                "transaction_mode")
