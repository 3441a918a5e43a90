"""Login lockout, login audit events and API token throttling (等保 8.1.4.1), through the
admin's login page, the account administrators' lockout view and API v3; and the pure logic
(which lockouts a set of attempts adds up to, the message, the token header, the counter)
without a database."""

import io
import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Group, Permission
from django.core.cache.backends.locmem import LocMemCache
from django.core.management import CommandError, call_command
from django.db.models import F
from django.http import HttpRequest
from django.test import Client
from wagtail.models import APIToken

from cms.accounts.api_throttle import bearer_token, count
from cms.accounts.lockout import ADDRESS, USERNAME, Lockout, current_lockouts, lockout_message
from review.register.models import SecurityEvent
from tests.conftest import make_user
from tests.shared import PASSWORD

LOGIN = "/admin/login/"
LOCKOUTS = "/admin/accounts/lockouts/"
UNLOCK = "/admin/accounts/lockouts/unlock/"
WRONG = "not-the-password"


def staff_group(name: str, *permissions: str) -> Group:
    group = Group.objects.create(name=name)
    codenames = ["wagtailadmin.access_admin", *permissions]
    for perm in codenames:
        app_label, codename = perm.split(".")
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label,
                                                     codename=codename))
    return group


@pytest.fixture
def people(db):
    return SimpleNamespace(
        teacher=make_user("zhang_teacher", staff_group("教师")),
        unlocker=make_user("account_admin",
                           staff_group("账号管理员", "accounts.unlock_account")),
    )


def login(username: str, password: str, *, address: str = "127.0.0.1"):
    """A fresh browser at ``address`` signing in on the admin's login page."""
    return Client(REMOTE_ADDR=address).post(LOGIN, {"username": username,
                                                    "password": password})


def logged_in(response) -> bool:
    return response.status_code == 302 and "_auth_user_id" in response.client.session


def events(event: str):
    return list(SecurityEvent.objects.filter(event=event).order_by("seq"))


def refused_as_locked(response, what: str) -> bool:
    page = response.content.decode()
    return (response.status_code == 429 and f"{what}已锁定 15 分钟" in page
            and "请联系账号管理员" in page and 'name="password"' in page
            and "_auth_user_id" not in response.client.session)


# --- Through the login page ---------------------------------------------------------------

def test_five_failures_lock_the_account_from_any_address(people):
    # One failure from each of five addresses: no address reaches the limit, the account does.
    for n in range(4):
        response = login("zhang_teacher", WRONG, address=f"10.0.0.{n + 1}")
        assert response.status_code == 200 and not logged_in(response)
    assert refused_as_locked(login("zhang_teacher", WRONG, address="10.0.0.5"), "账号")

    # The right password is refused now, from anywhere; another account is not locked.
    assert refused_as_locked(login("zhang_teacher", PASSWORD, address="10.0.0.9"), "账号")
    assert logged_in(login("account_admin", PASSWORD, address="10.0.0.1"))

    logins = SecurityEvent.objects.filter(event__in=["login", "login_failed", "lockout"])
    assert [e.event for e in logins.order_by("seq")][:7] == [
        *["login_failed"] * 5, "lockout", "login_failed"]  # each failure, then what it caused
    failures = events("login_failed")
    assert [e.actor for e in failures] == ["zhang_teacher"] * 6
    assert all(e.outcome == "failure" for e in failures)
    assert [e.address for e in failures] == [f"10.0.0.{n}" for n in (1, 2, 3, 4, 5, 9)]
    assert failures[-1].entry["data"] == {"locked_out": True}  # refused, password unchecked
    [lockout] = events("lockout")
    assert lockout.actor == "zhang_teacher" and lockout.subject == "user:zhang_teacher"
    assert lockout.address == "10.0.0.5" and lockout.entry["data"]["failures"] == 5
    # Never a password in the log.
    for entry in SecurityEvent.objects.values_list("entry", flat=True):
        assert WRONG not in json.dumps(entry) and PASSWORD not in json.dumps(entry)


def test_failures_on_many_names_lock_the_address(people):
    for name in ("admin", "root", "test", "yizhong_admin"):
        assert login(name, WRONG, address="10.9.9.9").status_code == 200
    assert refused_as_locked(login("guest", WRONG, address="10.9.9.9"), "登录地址")
    [lockout] = events("lockout")
    assert lockout.subject == "address:10.9.9.9"

    # Every account is refused from that address, and none is locked elsewhere.
    assert refused_as_locked(login("zhang_teacher", PASSWORD, address="10.9.9.9"), "登录地址")
    assert logged_in(login("zhang_teacher", PASSWORD, address="10.9.9.8"))


def test_the_lock_ends_after_fifteen_minutes(people):
    for _ in range(5):  # from one address: the account and the address are locked
        login("zhang_teacher", WRONG)
    assert refused_as_locked(login("zhang_teacher", PASSWORD), "账号和登录地址")

    # The refused attempts did not extend the lock: after 14 minutes it holds, after 15 not.
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=14))
    assert refused_as_locked(login("zhang_teacher", PASSWORD), "账号和登录地址")
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=1,
                                                                            seconds=1))
    assert logged_in(login("zhang_teacher", PASSWORD))
    [success] = events("login")
    assert success.actor == "zhang_teacher" and success.address == "127.0.0.1"


def test_login_and_logout_are_logged(people):
    assert login("zhang_teacher", WRONG).status_code == 200
    assert login("nobody_here", WRONG).status_code == 200
    response = login("zhang_teacher", PASSWORD)
    assert logged_in(response)
    client = response.client
    client.post("/admin/logout/")
    assert "_auth_user_id" not in client.session

    log = [(e.event, e.outcome, e.actor, e.subject, e.address)
           for e in SecurityEvent.objects.filter(event__in=["login", "login_failed", "logout"])
           .order_by("seq")]
    assert log == [
        ("login_failed", "failure", "zhang_teacher", "user:zhang_teacher", "127.0.0.1"),
        ("login_failed", "failure", "nobody_here", "user:nobody_here", "127.0.0.1"),
        ("login", "success", "zhang_teacher", "user:zhang_teacher", "127.0.0.1"),
        ("logout", "success", "zhang_teacher", "user:zhang_teacher", "127.0.0.1"),
    ]


def test_a_login_without_a_request_is_refused(people, client):
    """Axes judges each login by its request: code that authenticates without one (the test
    client's login()) must pass one, or it could try passwords past the lockout."""
    with pytest.raises(ValueError):
        client.login(username="zhang_teacher", password=PASSWORD)
    assert client.login(request=HttpRequest(), username="zhang_teacher", password=PASSWORD)


# --- The account administrators' lockout view -------------------------------------------

def test_an_account_administrator_unlocks_an_account(people, client):
    for n in range(5):
        login("zhang_teacher", WRONG, address=f"10.0.0.{n + 1}")
    assert refused_as_locked(login("zhang_teacher", PASSWORD), "账号")

    client.force_login(people.unlocker)
    assert LOCKOUTS in client.get("/admin/").content.decode()  # in the settings menu
    page = client.get(LOCKOUTS).content.decode()
    assert "zhang_teacher" in page and "解锁" in page

    response = client.post(UNLOCK, {"kind": USERNAME, "value": "zhang_teacher"}, follow=True)
    assert "已解除账号“zhang_teacher”的登录锁定" in response.content.decode()
    assert "zhang_teacher" not in client.get(LOCKOUTS).content.decode()
    [unlock] = events("unlock")
    assert unlock.actor == "account_admin" and unlock.subject == "user:zhang_teacher"
    assert unlock.address == "127.0.0.1" and unlock.entry["data"]["failures"] == 5
    assert logged_in(login("zhang_teacher", PASSWORD))

    # Nothing locked: a clear message, nothing changed, nothing recorded.
    response = client.post(UNLOCK, {"kind": USERNAME, "value": "zhang_teacher"}, follow=True)
    assert "当前没有被锁定" in response.content.decode()
    response = client.post(UNLOCK, {"kind": "is_superuser", "value": "x"}, follow=True)
    assert "当前没有被锁定" in response.content.decode()
    assert len(events("unlock")) == 1


def test_an_account_administrator_unlocks_an_address(people, client):
    for name in ("a1", "a2", "a3", "a4", "a5"):
        login(name, WRONG, address="10.9.9.9")
    assert refused_as_locked(login("zhang_teacher", PASSWORD, address="10.9.9.9"), "登录地址")
    client.force_login(people.unlocker)
    assert "10.9.9.9" in client.get(LOCKOUTS).content.decode()
    client.post(UNLOCK, {"kind": ADDRESS, "value": "10.9.9.9"})
    assert events("unlock")[0].subject == "address:10.9.9.9"
    assert logged_in(login("zhang_teacher", PASSWORD, address="10.9.9.9"))


def test_staff_without_the_permission_cannot_unlock(people, client):
    for _ in range(5):
        login("account_admin", WRONG)
    client.force_login(people.teacher)
    assert LOCKOUTS not in client.get("/admin/").content.decode()
    # Wagtail's admin answers a refusal by sending the person home with its message.
    for response in (client.get(LOCKOUTS),
                     client.post(UNLOCK, {"kind": USERNAME, "value": "account_admin"})):
        assert response.status_code == 302 and response["Location"] == "/admin/"
    assert refused_as_locked(login("account_admin", PASSWORD, address="10.0.0.7"), "账号")
    assert events("unlock") == []


def test_maintainers_list_and_unlock_from_the_shell(people):
    for _ in range(5):
        login("zhang_teacher", WRONG)
    out = io.StringIO()
    call_command("lockouts", stdout=out)
    assert "账号\tzhang_teacher\t失败 5 次" in out.getvalue()
    assert "登录地址\t127.0.0.1\t失败 5 次" in out.getvalue()

    call_command("lockouts", "--unlock-username", "zhang_teacher", stdout=io.StringIO())
    [unlock] = events("unlock")
    assert unlock.actor == "manage.py" and unlock.subject == "user:zhang_teacher"
    with pytest.raises(CommandError, match="当前没有被锁定"):
        call_command("lockouts", "--unlock-address", "10.1.2.3")
    assert len(events("unlock")) == 1


# --- API tokens ---------------------------------------------------------------------------

def whoami(token: str, *, address: str = "10.5.5.5"):
    return Client(REMOTE_ADDR=address).get("/api/v3/whoami/",
                                           HTTP_AUTHORIZATION=f"Bearer {token}")


def test_bad_tokens_from_one_address_are_throttled(people):
    _, good = APIToken.create_token(user=people.teacher, name="前端")
    for _ in range(20):  # good tokens never count
        assert whoami(good).status_code == 200
    for n in range(10):
        assert whoami(f"wagtail_guess{n}").status_code == 401
    response = whoami("wagtail_guess10")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert "API 令牌验证失败次数过多" in response.json()["detail"]
    # The address is refused even with a good token; other addresses are not.
    assert whoami(good).status_code == 429
    assert whoami(good, address="10.5.5.6").status_code == 200
    assert whoami("wagtail_guess", address="10.5.5.6").status_code == 401
    [throttled] = events("api_throttled")
    assert throttled.subject == "address:10.5.5.5" and throttled.address == "10.5.5.5"


def test_bad_tokens_on_public_reads_count_too(people):
    # Pages are readable anonymously: a bad token is served as anonymous, and still counted.
    for n in range(10):
        response = Client(REMOTE_ADDR="10.6.6.6").get(
            "/api/v3/pages/", HTTP_AUTHORIZATION=f"Bearer wagtail_guess{n}")
        assert response.status_code != 429
    assert whoami("anything", address="10.6.6.6").status_code == 429
    # Requests without a token are not throttled.
    assert Client(REMOTE_ADDR="10.6.6.6").get("/api/v3/pages/").status_code != 429


def test_a_per_token_rate_limit_when_set(people, settings):
    settings.CMS_API_TOKEN_RATE_LIMIT = 3
    _, good = APIToken.create_token(user=people.teacher, name="前端")
    assert [whoami(good).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_token_creation_and_revocation_are_logged(people, client):
    superuser = make_user("root", superuser=True)
    client.force_login(superuser)
    # A token is its owner's identity: made for oneself (cms.accounts.tokens).
    response = client.post("/admin/api-tokens/new/", {"name": "校园屏", "user": superuser.pk})
    assert response.status_code == 200
    token = APIToken.objects.get(name="校园屏")
    plaintext = response.context["token"]
    [created] = events("token_created")
    assert created.actor == "root" and created.subject == f"token:{token.prefix}"
    assert created.address == "127.0.0.1"
    assert created.entry["data"] == {"id": token.pk, "name": "校园屏", "owner": "root"}

    client.post(f"/admin/api-tokens/delete/{token.pk}/")
    # Renaming the revoked token (Wagtail's edit view saves the whole row) revokes nothing.
    client.post(f"/admin/api-tokens/edit/{token.pk}/", {"name": "校园屏（旧）"})
    assert APIToken.objects.get(pk=token.pk).name == "校园屏（旧）"
    [revoked] = events("token_revoked")
    assert revoked.actor == "root" and revoked.subject == f"token:{token.prefix}"
    for entry in SecurityEvent.objects.values_list("entry", flat=True):
        assert plaintext not in json.dumps(entry) and token.key_hash not in json.dumps(entry)

    # A live token deleted with its owner's account is revoked too; a revoked one is not again.
    _, _ = APIToken.create_token(user=people.teacher, name="另一个")
    people.teacher.delete()
    assert len(events("token_revoked")) == 2
    assert events("token_revoked")[1].entry["data"]["deleted"] is True


# --- Pure logic -------------------------------------------------------------------------

NOW = datetime(2026, 9, 1, 0, 0, tzinfo=UTC)
COOL_OFF = timedelta(minutes=15)


def attempt(username, ip, failures, minutes_ago):
    return SimpleNamespace(username=username, ip_address=ip, failures_since_start=failures,
                           attempt_time=NOW - timedelta(minutes=minutes_ago))


def lockouts(*attempts):
    return current_lockouts(attempts=attempts, limit=5, cool_off=COOL_OFF, now=NOW)


def test_current_lockouts_by_name_and_by_address():
    found = lockouts(attempt("li", "10.0.0.1", 3, 2), attempt("li", "10.0.0.2", 2, 1),
                     attempt("wang", "10.0.0.1", 1, 1))
    assert [(lo.kind, lo.value, lo.failures) for lo in found] == [(USERNAME, "li", 5)]
    # The lock lasts until the attempt that brought it to five leaves the window.
    assert found[0].until == NOW - timedelta(minutes=2) + COOL_OFF

    found = lockouts(attempt("a", "10.0.0.1", 2, 3), attempt("b", "10.0.0.1", 3, 1))
    assert [(lo.kind, lo.value) for lo in found] == [(ADDRESS, "10.0.0.1")]
    assert found[0].subject == "address:10.0.0.1"


def test_current_lockouts_ignore_old_attempts_and_end_with_the_oldest_needed():
    assert lockouts(attempt("li", "10.0.0.1", 9, 16)) == []
    assert lockouts(attempt("li", "10.0.0.1", 4, 16), attempt("li", "10.0.0.2", 4, 1)) == []
    # Newest first: 3 + 2 reach five at the 10-minute one; the 14-minute one is not needed.
    [lockout] = lockouts(attempt("li", "1.1.1.1", 3, 1), attempt("li", "1.1.1.2", 2, 10),
                         attempt("li", "1.1.1.3", 1, 14))
    assert lockout.until == NOW - timedelta(minutes=10) + COOL_OFF
    assert lockout.failures == 6 and lockout.last_attempt == NOW - timedelta(minutes=1)


def test_lockout_message_says_what_is_locked_and_until_when():
    until = datetime(2026, 9, 1, 0, 15, tzinfo=UTC)  # 08:15 in Beijing
    name = Lockout(kind=USERNAME, value="li", failures=5, last_attempt=NOW, until=until)
    address = Lockout(kind=ADDRESS, value="1.1.1.1", failures=5, last_attempt=NOW, until=until)
    assert lockout_message([name], cool_off=COOL_OFF) == (
        "登录失败次数过多，账号已锁定 15 分钟（至 08:15）；如需提前解锁，请联系账号管理员。")
    assert "账号和登录地址已锁定" in lockout_message([address, name], cool_off=COOL_OFF)
    assert "已锁定 15 分钟" in lockout_message([], cool_off=COOL_OFF)


def test_bearer_token_header():
    assert bearer_token("Bearer wagtail_abc") == "wagtail_abc"
    assert bearer_token("bearer  wagtail_abc ") == "wagtail_abc"
    assert bearer_token("Basic dXNlcjpwYXNz") is None
    assert bearer_token("Bearer") == ""


def test_count_starts_at_the_first_and_adds_up():
    cache = LocMemCache("test-count", {})
    assert [count(cache, "k", window=60) for _ in range(3)] == [1, 2, 3]
    assert count(cache, "other", window=60) == 1
