"""Session limits (等保 8.1.4.1): an idle timeout of 30 minutes, an absolute limit of 12 hours,
and every session of a user ended by a password change, a role change or deactivation."""

import time

import pytest
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse

from cms.accounts.sessions import GENERATION, LOGIN_AT, SEEN_AT, session_end_reason
from tests.cms.accounts import change_own_password
from tests.shared import PASSWORD

User = get_user_model()
HOME = "/admin/"


def test_session_end_reason():
    def reason(**kwargs):
        arguments = {"now": 100_000.0, "login_at": 99_000.0, "seen_at": 99_900.0,
                     "generation": 2, "current_generation": 2, "idle_seconds": 1800,
                     "absolute_seconds": 43_200} | kwargs
        return session_end_reason(**arguments)

    assert reason() == ""
    assert reason(seen_at=100_000.0 - 1800) == "idle"
    assert reason(login_at=100_000.0 - 43_200) == "absolute"
    assert reason(current_generation=3) == "generation"
    assert reason(login_at=None) == "unknown"
    assert reason(generation=None) == "unknown"
    # A role change outranks the clock.
    assert reason(current_generation=3, seen_at=0.0) == "generation"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    assert client.get(HOME).status_code == 200
    return client


def shift(client, **seconds_ago) -> None:
    session = client.session
    for key, ago in seconds_ago.items():
        session[{"login": LOGIN_AT, "seen": SEEN_AT}[key]] = time.time() - ago
    session.save()


def assert_sent_to_login(client, message: str) -> None:
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('wagtailadmin_login')}?next=%2Fadmin%2F"
    page = client.get(response["Location"]).content.decode()
    assert message in page
    # Logged out for good: the next request is anonymous.
    assert client.get(HOME)["Location"].startswith(reverse("wagtailadmin_login"))


def test_login_records_the_session_times_and_generation(network):
    client = logged_in(network.users["a_teacher"])
    session = client.session
    assert time.time() - session[LOGIN_AT] < 60 and time.time() - session[SEEN_AT] < 60
    assert isinstance(session[GENERATION], int)


def test_idle_session_ends_after_thirty_minutes(network):
    client = logged_in(network.users["a_teacher"])
    shift(client, seen=29 * 60)
    assert client.get(HOME).status_code == 200  # and the activity is noted
    assert time.time() - client.session[SEEN_AT] < 60
    shift(client, seen=31 * 60)
    assert_sent_to_login(client, "您已超过 30 分钟没有操作")


def test_an_open_editors_pings_are_not_activity(network, settings):
    client = logged_in(network.users["a_teacher"])
    shift(client, seen=5 * 60)
    before = client.session[SEEN_AT]
    settings.ACCOUNTS_SESSION_PASSIVE_VIEWS = ["wagtailadmin_home"]
    assert client.get(HOME).status_code == 200
    assert client.session[SEEN_AT] == before


def test_session_ends_twelve_hours_after_login_however_busy(network):
    client = logged_in(network.users["a_teacher"])
    shift(client, login=12 * 3600 + 5, seen=10)
    assert_sent_to_login(client, "您已连续登录超过 12 小时")


def test_session_from_before_the_policy_is_ended(network):
    client = logged_in(network.users["a_teacher"])
    session = client.session
    del session[LOGIN_AT]
    session.save()
    assert_sent_to_login(client, "您的登录已经失效")


def test_role_change_ends_the_users_sessions(network):
    teacher = network.users["a_teacher"]
    holder, bystander = logged_in(teacher), logged_in(network.users["a_leader"])
    # Leaders are made by the bureau's account administrators.
    administrator = logged_in(network.users["county_accounts"])
    response = administrator.post(reverse("wagtailusers_users:edit", args=[teacher.pk]), {
        "username": "a_teacher", "email": "t@example.cn", "first_name": "甲", "last_name": "师",
        "is_active": "on", "groups": [network.school_a.groups["leader"].pk]})
    assert response.status_code == 302
    assert_sent_to_login(holder, "您的账号角色或状态已经变更")
    assert bystander.get(HOME).status_code == 200
    assert administrator.get(HOME).status_code == 200
    # A fresh login works.
    assert holder.login(request=HttpRequest(), username="a_teacher", password=PASSWORD)
    assert holder.get(HOME).status_code == 200


def test_role_granted_from_the_groups_side_ends_sessions_too(network):
    teacher = network.users["a_teacher"]
    holder = logged_in(teacher)
    network.school_a.groups["leader"].user_set.add(teacher)
    assert_sent_to_login(holder, "您的账号角色或状态已经变更")


def test_saving_a_user_with_the_same_roles_keeps_their_sessions(network):
    teacher = network.users["a_teacher"]
    holder = logged_in(teacher)
    # Leaders are made by the bureau's account administrators.
    administrator = logged_in(network.users["county_accounts"])
    response = administrator.post(reverse("wagtailusers_users:edit", args=[teacher.pk]), {
        "username": "a_teacher", "email": "new@example.cn", "first_name": "甲", "last_name": "师",
        "is_active": "on", "groups": [network.school_a.groups["teacher"].pk]})
    assert response.status_code == 302
    # Wagtail's form sets the same groups: no role changed.
    assert holder.get(HOME).status_code == 200


def test_deactivation_ends_sessions_and_reactivation_does_not_revive_them(network):
    teacher = network.users["a_teacher"]
    holder = logged_in(teacher)
    administrator = logged_in(network.users["a_administrator"])
    form = {"username": "a_teacher", "email": "t@example.cn", "first_name": "甲",
            "last_name": "师", "groups": [network.school_a.groups["teacher"].pk]}
    url = reverse("wagtailusers_users:edit", args=[teacher.pk])
    assert administrator.post(url, form).status_code == 302  # is_active unticked
    assert not User.objects.get(pk=teacher.pk).is_active
    assert administrator.post(url, {**form, "is_active": "on"}).status_code == 302
    assert User.objects.get(pk=teacher.pk).is_active
    assert_sent_to_login(holder, "您的账号角色或状态已经变更")


def test_bulk_deactivation_ends_sessions_too(network):
    teacher = network.users["a_teacher"]
    holder = logged_in(teacher)
    administrator = logged_in(network.users["a_administrator"])
    url = reverse("wagtail_bulk_action", args=["auth", "user", "set_active_state"])
    response = administrator.post(f"{url}?id={teacher.pk}", {"mark_as_active": "False"})
    assert response.status_code == 302
    assert not User.objects.get(pk=teacher.pk).is_active
    User.objects.filter(pk=teacher.pk).update(is_active=True)
    assert_sent_to_login(holder, "您的账号角色或状态已经变更")


def test_password_change_ends_the_other_sessions_and_keeps_this_one(network):
    teacher = network.users["a_teacher"]
    here, elsewhere = logged_in(teacher), logged_in(teacher)
    assert change_own_password(here, old=PASSWORD, new="Another-Password-9").status_code == 302
    assert here.get(HOME).status_code == 200
    response = elsewhere.get(HOME)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("wagtailadmin_login"))


@pytest.mark.parametrize("path", ["/", "/api/v3/pages/"])
def test_anonymous_requests_get_no_session(client, network, path):
    response = client.get(path, HTTP_HOST="jia.test")
    assert response.status_code == 200
    assert "sessionid" not in response.cookies
    if path == "/":  # (API v3 answers vary on Cookie anyway, for its session auth)
        assert "Cookie" not in response.get("Vary", "")
