"""Fixtures built once per module, as Django's ``setUpTestData`` builds them once per class.

A shared build runs inside an outer transaction that stays open while the module's tests run;
each test's own transaction (pytest-django's ``db``) is then a savepoint inside it, so a test
rolls back to the built state, and the build itself is rolled back when the module ends.
Tests read the built objects again by primary key, so nothing one test changes in memory
reaches the next.

A transactional test commits and flushes: it cannot run inside the outer transaction, so
every open build is rolled back before one starts (pytest-django runs transactional tests
after the others, so no test of the same module needs the build afterwards), and transactional
tests build their own world.

The network and the lean world are the same in every module that reads them, so their builds
are kept (``kept_build``): the next module that reads one finds it open and builds nothing. A
kept build is rolled back when a module that does not read it starts (so that module finds
the database without it), before a transactional test, and at the session's end. A network
build costs 1.5 s on SQLite and 3 s on PostgreSQL; about seventy modules read one, and they run
one after another (``group_readers_of_kept_builds``), so each worker builds it about once.
"""

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TypeVar

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save
from django.test.utils import override_settings
from modelsearch import index as search_index
from modelsearch.signal_handlers import post_delete_signal_handler, post_save_signal_handler
from wagtail.signal_handlers import disable_reference_index_auto_update

from review.keys import KdfParams

PASSWORD = "correct-horse-battery"
LEADER_PASSPHRASE = "leader-passphrase-2026"
# Argon2id at a tenth of production cost: the same code path, faster tests.
FAST_KDF = KdfParams(memory_kib=8 * 1024, iterations=1, lanes=1)

# For tests whose subject cannot depend on the database engine, such as settings read in a
# process given no DATABASE_URL: they run in the SQLite suite only, not again on PostgreSQL.
engine_independent = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="does not depend on the database engine: the SQLite suite runs it")

T = TypeVar("T")
_open_builds: list["SharedBuild"] = []
# Build fixture name → its build, kept open past its module (kept_build).
_kept_builds: dict[str, "SharedBuild"] = {}
# Kept build fixture name → the modules (paths) with a test reading it, as collected.
_reading_modules: dict[str, set] = {}


class SharedBuild:
    """One module's build: its value, and the outer transaction that holds its rows."""

    def __init__(self, *, blocker) -> None:
        self._blocker = blocker
        self._atomic = transaction.atomic()
        self._value = None
        self.closed = False

    @property
    def value(self):
        if self.closed:
            raise RuntimeError("这个共享的测试数据已经回滚（之后运行了一个事务性测试）：事务性测试"
                               "应该自己构建数据。")
        return self._value

    def open(self, build: Callable[[], object]) -> None:
        self._atomic.__enter__()
        _open_builds.append(self)
        try:
            with index_updates_off():
                self._value = build()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.closed:
            return
        # Builds opened after this one are transactions (savepoints) inside it: they go first.
        for later in reversed(_open_builds[_open_builds.index(self) + 1:]):
            later.close()
        self.closed = True
        _open_builds.remove(self)
        with self._blocker.unblock():
            transaction.set_rollback(True)
            self._atomic.__exit__(None, None, None)


@contextmanager
def shared_build(blocker, build: Callable[[], object]) -> Iterator[SharedBuild]:
    """Build once inside an outer transaction; roll everything back at the end."""
    with blocker.unblock():
        shared = SharedBuild(blocker=blocker)
        shared.open(build)
        try:
            yield shared
        finally:
            shared.close()


def is_transactional(item) -> bool:
    """Whether the test commits (and so flushes the database when it ends)."""
    marker = item.get_closest_marker("django_db")
    return bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ()))
                or (marker is not None and marker.kwargs.get("transaction")))


def read_shared(request, *, build_fixture: str, build: Callable[[], T]) -> T:
    """What a test gets of a shared build: the module's build (``build_fixture``), or, for a
    transactional test, a build of its own. Cached reads go with the previous test's rollback."""
    if is_transactional(request.node):
        with index_updates_off():
            return build()
    cache.clear()
    return request.getfixturevalue(build_fixture).value


def module_build(build: Callable[[], object]):
    """A module-scoped fixture holding ``build``'s shared build (read it with
    ``read_shared``)."""
    @pytest.fixture(scope="module")
    def fixture(django_db_setup, django_db_blocker) -> Iterator[SharedBuild]:
        with shared_build(django_db_blocker, build) as shared:
            yield shared

    return fixture


def kept_build(build: Callable[[], object], *, name: str):
    """A module-scoped fixture, named ``name``, holding ``build``'s shared build, which is kept
    open after the module for the next module that reads it (``release_kept_builds``)."""
    @pytest.fixture(scope="module", name=name)
    def fixture(_close_kept_builds, django_db_blocker) -> SharedBuild:
        shared = _kept_builds.get(name)
        if shared is None or shared.closed:
            with django_db_blocker.unblock():
                shared = SharedBuild(blocker=django_db_blocker)
                shared.open(build)
            _kept_builds[name] = shared
        return shared

    return fixture


@pytest.fixture(scope="session")
def _close_kept_builds(django_db_setup) -> Iterator[None]:
    """Kept builds are rolled back before the test databases are dropped."""
    yield
    close_shared_builds()


def release_kept_builds(item) -> None:
    """Roll back the kept builds that ``item``'s module does not read: within a module every
    test sees what the module's builds hold, as with ``module_build``."""
    for name, shared in _kept_builds.items():
        if not shared.closed and item.path not in _reading_modules.get(name, ()):
            shared.close()


# Kept builds, in the order their readers run (group_readers_of_kept_builds).
KEPT_BUILD_ORDER = ("_network_build", "_world_build")


def group_readers_of_kept_builds(items: list) -> None:
    """Reorder ``items`` so that the modules reading the same kept build run one after another,
    keeping each module's own order. A kept build is rolled back whenever a module that does not
    read it starts: in collection order, network modules and others alternated, and the network
    was built again for each of some thirty modules. Called before pytest-django's own (stable)
    sort by phase, which keeps this order within each phase. (xdist hands the modules out in
    the resulting order: ``--no-loadscope-reorder`` in pyproject.toml.)"""
    rank: dict[object, int] = {}
    for item in items:
        names = getattr(item, "fixturenames", ())
        reads = [order for order, name in enumerate(KEPT_BUILD_ORDER) if name in names]
        module = item.path
        rank[module] = min([rank.get(module, len(KEPT_BUILD_ORDER)), *reads])
        for order in reads:
            _reading_modules.setdefault(KEPT_BUILD_ORDER[order], set()).add(module)
    items.sort(key=lambda item: rank[item.path])


@contextmanager
def received(signal) -> Iterator[list[dict]]:
    """The keyword arguments (and the sender) of every sending of ``signal`` inside the
    block."""
    calls = []

    def receiver(sender, **kwargs):
        calls.append({"sender": sender, **kwargs})

    signal.connect(receiver, dispatch_uid="tests_shared_received")
    try:
        yield calls
    finally:
        signal.disconnect(dispatch_uid="tests_shared_received")


def close_shared_builds() -> None:
    for shared in reversed(list(_open_builds)):
        shared.close()


@contextmanager
def index_updates_off() -> Iterator[None]:
    """Neither the search index nor Wagtail's reference index follows the saves in the block:
    a build's objects are indexed only for the tests that ask (the ``update_index`` fixture).
    Index updates are a quarter of a build's cost, and most tests never search."""
    models = [model for model in search_index.get_indexed_models()
              if getattr(model, "search_auto_update", True)]
    with ExitStack() as stack:
        stack.enter_context(disable_reference_index_auto_update())
        for model in models:
            post_save.disconnect(post_save_signal_handler, sender=model)
            post_delete.disconnect(post_delete_signal_handler, sender=model)
        stack.callback(_reconnect_search_handlers, models)
        # Anything the handlers above did not cover (a task enqueued by other code) skips the
        # search backend too.
        stack.enter_context(override_settings(WAGTAILSEARCH_BACKENDS=_without_auto_update()))
        yield


def _reconnect_search_handlers(models) -> None:
    for model in models:
        post_save.connect(post_save_signal_handler, sender=model)
        post_delete.connect(post_delete_signal_handler, sender=model)


def _without_auto_update() -> dict:
    from django.conf import settings

    return {name: {**config, "AUTO_UPDATE": False}
            for name, config in settings.WAGTAILSEARCH_BACKENDS.items()}


def restore_migrated_data(blocker) -> None:
    """Load the data the migrations created (serialized when the test database was set up)
    back into a database a transactional test has flushed."""
    from django.db import connections

    with blocker.unblock():
        for connection in connections.all(initialized_only=True):
            contents = getattr(connection, "_test_serialized_contents", None)
            if contents is not None:
                connection.creation.deserialize_db_from_string(contents)


def totp_device(user):
    """The user's confirmed authenticator-app device (made on first use)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.get_or_create(user=user, name="身份验证器",
                                            defaults={"confirmed": True})[0]


def current_code(device) -> str:
    """The code the authenticator app shows now (RFC 6238, computed from the device's key)."""
    from django_otp.oath import totp

    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return f"{code:0{device.digits}d}"


def reauthenticate(client, user, *, password: str = PASSWORD):
    """Log in as ``user`` and confirm it is them with the password and a current code, as
    enrolling a signing credential requires (cms.accounts.reauth)."""
    from django.urls import reverse

    client.force_login(user)
    response = client.post(reverse("accounts_reauthenticate"),
                           {"password": password, "code": current_code(totp_device(user))})
    assert response.status_code == 302, response.content.decode()[:2000]
    return client


def copy_test_database(target: Path) -> None:
    """The test database as committed (what ``manage.py migrate`` leaves a new site with,
    on SQLite) into the file ``target``: a site for real processes without migrating one in a
    subprocess, which takes half a minute."""
    connection.ensure_connection()
    copy = sqlite3.connect(target)
    try:
        connection.connection.backup(copy)
    finally:
        copy.close()


def clone_test_database(name: str) -> None:
    """PostgreSQL: a new database ``name`` holding the test database as committed (what
    ``manage.py migrate`` leaves a new site with), made with ``CREATE DATABASE … TEMPLATE``
    instead of migrating one in a subprocess (40 s on PostgreSQL). A template may have no other
    session: this one is closed, and any left by an earlier test (a live server's thread)
    ended."""
    test_database = connection.settings_dict["NAME"]
    connection.close()
    # Django's own way to reach the server outside the test database (as it creates one).
    with connection._nodb_cursor() as server:
        server.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = %s AND pid <> pg_backend_pid()", [test_database])
        server.execute(f'DROP DATABASE IF EXISTS "{name}"')
        server.execute(f'CREATE DATABASE "{name}" TEMPLATE "{test_database}"')
