"""Request-wide database behaviour of the embedded default."""

import logging

from django.db import connection
from django.http import HttpResponse
from django.urls import Resolver404, resolve

from cms.sqlite import is_busy

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

logger = logging.getLogger(__name__)


def writes_on_every_read(request) -> bool:
    """Whether the view writes whenever it is read: Wagtail's editors (pages, snippets,
    models) record an editing session on every opening. Such a request is a writer from the
    start rather than a reader retried as one, which it would nearly always be while anyone
    else is saving (in the editing benchmark, 136 of 138 openings)."""
    try:
        match = resolve(request.path_info, getattr(request, "urlconf", None))
    except Resolver404:
        return False
    if match.view_name == "wagtailadmin_pages:edit":  # routed by page type: no class here
        return True
    view_class = getattr(match.func, "view_class", None)
    return match.url_name == "edit" and hasattr(view_class, "get_editing_sessions")


class _BusyWatch:
    """An execute wrapper noting whether a statement of the request met a busy lock."""

    def __init__(self):
        self.seen = False

    def __call__(self, execute, sql, params, many, context):
        try:
            return execute(sql, params, many, context)
        except Exception as error:
            if is_busy(error):
                self.seen = True
            raise


class SqliteReadsMiddleware:
    """On SQLite, a request that only reads opens its transaction with a plain (deferred)
    BEGIN, not the BEGIN IMMEDIATE the settings give every transaction.

    Every request runs in a transaction (ATOMIC_REQUESTS and review's ActorMiddleware), and
    IMMEDIATE takes SQLite's single write lock at once: readers would queue behind each other
    and behind any writer, and give up with an error after the busy timeout. A deferred
    transaction reads from WAL snapshots alongside a writer. Writes keep IMMEDIATE, which
    spares them deadlocks when two transactions try to upgrade from reading to writing.

    Some reading requests write all the same (Wagtail's editor records an editing session,
    a first visit makes a user profile or an image rendition). A deferred transaction that
    has read can only become a writer if nobody else holds the lock or has committed since its
    snapshot; otherwise SQLite refuses at once, without waiting (waiting could not help: the
    snapshot is stale). Such a request is served once more as a writer, with BEGIN IMMEDIATE,
    which waits its turn for the lock; its first attempt wrote nothing (the write was refused)
    and is rolled back. Where the upgrade succeeds, SQLite guarantees nobody wrote since the
    snapshot, so the request's reads and its write are consistent. Views known to write on
    every reading (``writes_on_every_read``) are writers from the start.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if connection.vendor != "sqlite" or request.method not in READ_METHODS \
                or writes_on_every_read(request):
            return self.get_response(request)
        watch = _BusyWatch()
        request._sqlite_busy_watch = watch
        connection.ensure_connection()
        connection.transaction_mode = None
        try:
            with connection.execute_wrapper(watch):
                response = self.get_response(request)
        finally:
            # The configured mode, not the one found: concurrent requests sharing one
            # connection (the test live server's in-memory database) would otherwise hand
            # each other the read mode for good.
            connection.transaction_mode = connection.settings_dict["OPTIONS"].get(
                "transaction_mode")
            del request._sqlite_busy_watch
        if not watch.seen:
            return response
        logger.info("读取请求需要写入而数据库正忙，以写入方式重新处理：%s", request.path)
        response.close()  # the first attempt's answer is not sent (its files, its signals)
        return self.get_response(request)

    def process_exception(self, request, exception):
        """The busy refusal of a first attempt is no server error: the request is served
        again (above), so nothing is logged and no error page is rendered for it. The stand-in
        answer never leaves the server; its status 500 keeps the session middleware from
        saving what the attempt changed (messages it consumed are shown by the second)."""
        watch = getattr(request, "_sqlite_busy_watch", None)
        if watch is not None and (watch.seen or is_busy(exception)):
            watch.seen = True
            return HttpResponse(status=500)
        return None
