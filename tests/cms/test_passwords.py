"""Password rules (等保 8.1.4.1): complexity, not like the username, no reuse of the last five,
expiry after 90 days (warned 14 days before), and a change forced when someone else set the
password — through the views people use (Wagtail's account page and user forms)."""

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cms.accounts.models import AccountState, PasswordHistory
from cms.accounts.passwords import (
    character_classes,
    complexity_errors,
    contains_username,
    days_until_expiry,
    password_status,
)
from review.register.models import SecurityEvent
from tests.cms.accounts import change_own_password
from tests.shared import PASSWORD

User = get_user_model()
NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


# The rules, as plain functions ----------------------------------------------------------


def test_character_classes():
    assert character_classes("abc") == {"lower"}
    assert character_classes("Ab1!") == {"lower", "upper", "digit", "symbol"}
    assert character_classes("数学 课") == {"symbol"}  # no case: counted with the symbols


@pytest.mark.parametrize("password", ["Abcdefgh12", "abcdefgh1!", "ABCDEFGH-1", "语文数学课程ab12"])
def test_ten_characters_of_three_classes_pass(password):
    assert complexity_errors(password, min_length=10, min_classes=3) == []


def test_too_short_or_too_plain_is_explained_in_chinese():
    short = complexity_errors("Ab1!", min_length=10, min_classes=3)
    assert short == ["密码太短：至少 10 个字符（现在 4 个）。"]
    plain = complexity_errors("abcdefghijk12", min_length=10, min_classes=3)
    assert len(plain) == 1 and "至少 3 类" in plain[0] and "大写字母、符号" in plain[0]
    assert len(complexity_errors("abc", min_length=10, min_classes=3)) == 2


def test_contains_username():
    assert contains_username(password="Yizhong_Admin2026", username="yizhong_admin")
    assert contains_username(password="x-nimda_gnohziy-1", username="yizhong_admin")
    assert not contains_username(password="Lantern-2026-river", username="yizhong_admin")
    assert not contains_username(password="ab-Lantern-2026", username="ab")  # too short to judge


def test_days_until_expiry_counts_started_days():
    assert days_until_expiry(changed_at=NOW, now=NOW, max_age_days=90) == 90
    assert days_until_expiry(changed_at=NOW - timedelta(days=76), now=NOW, max_age_days=90) == 14
    assert days_until_expiry(changed_at=NOW - timedelta(days=89, hours=23), now=NOW,
                             max_age_days=90) == 1
    assert days_until_expiry(changed_at=NOW - timedelta(days=90), now=NOW, max_age_days=90) == 0


def test_password_status():
    def status(**kwargs):
        arguments = {"must_change_password": False, "changed_at": NOW, "joined_at": NOW,
                     "now": NOW, "max_age_days": 90} | kwargs
        return password_status(**arguments)

    assert not status().must_change and not status().warn
    assert status(must_change_password=True).reason == "set_by_other"
    expired = status(changed_at=NOW - timedelta(days=90))
    assert expired.must_change and expired.reason == "expired"
    soon = status(changed_at=NOW - timedelta(days=80))
    assert not soon.must_change and soon.warn and soon.days_left == 10
    # Never recorded: counted from the account's creation.
    assert status(changed_at=None, joined_at=NOW - timedelta(days=100)).reason == "expired"
    assert not status(changed_at=None, max_age_days=None).must_change


# Django's validators, as configured ------------------------------------------------------


def messages_for(password, user=None):
    with pytest.raises(ValidationError) as refused:
        validate_password(password, user)
    return " ".join(refused.value.messages)


def test_configured_validators_refuse_in_chinese():
    user = User(username="yizhong_teacher1", first_name="张", last_name="明")
    assert "密码太短" in messages_for("Ab1!x", user)
    assert "至少 3 类" in messages_for("lanternriver", user)
    assert "不能包含用户名" in messages_for("Yizhong_Teacher1!", user)
    validate_password("Lantern-River-2026", user)  # passes


# Through the admin ------------------------------------------------------------------------


def test_admin_user_form_refuses_a_weak_password(client, network):
    client.force_login(network.users["a_administrator"])
    weak = "abcdefghijk"
    response = client.post(reverse("wagtailusers_users:add"), {
        "username": "new_teacher", "email": "t@example.cn", "first_name": "新",
        "last_name": "师", "password1": weak, "password2": weak,
        "groups": [network.school_a.groups["teacher"].pk]})
    assert response.status_code == 200
    assert "至少 3 类" in response.content.decode()
    assert not User.objects.filter(username="new_teacher").exists()


def test_own_change_refuses_the_last_five_passwords(client, network):
    teacher = network.users["a_teacher"]
    client.force_login(teacher)
    passwords = [PASSWORD] + [f"Lantern-River-{n}" for n in range(1, 7)]
    for old, new in pairwise(passwords):
        assert change_own_password(client, old=old, new=new).status_code == 302, new
    current = passwords[-1]
    assert PasswordHistory.objects.filter(user=teacher).count() == 5
    for reused in passwords[2:]:
        response = change_own_password(client, old=current, new=reused)
        assert response.status_code == 200
        assert "不能与最近 5 次使用过的密码相同" in response.content.decode()
    teacher.refresh_from_db()
    assert teacher.check_password(current)
    # The sixth back has left the history: it may come again.
    assert change_own_password(client, old=current, new=passwords[1]).status_code == 302
    events = SecurityEvent.objects.filter(event="password_changed", actor="a_teacher")
    assert events.count() == 7 and events.first().subject == "user:a_teacher"


def test_admin_reset_forces_a_change_at_the_holders_next_request(client, network):
    administrator, teacher = network.users["a_administrator"], network.users["a_teacher"]
    client.force_login(administrator)
    response = client.post(reverse("wagtailusers_users:edit", args=[teacher.pk]), {
        "username": "a_teacher", "email": "t@example.cn", "first_name": "甲", "last_name": "师",
        "is_active": "on", "groups": [network.school_a.groups["teacher"].pk],
        "password1": "Reset-By-Admin-1", "password2": "Reset-By-Admin-1"})
    assert response.status_code == 302
    event = SecurityEvent.objects.get(event="password_reset")
    assert (event.actor, event.subject) == ("a_administrator", "user:a_teacher")
    assert event.address == "127.0.0.1"
    # The administrator goes on working.
    assert client.get(reverse("wagtailadmin_home")).status_code == 200

    holder = Client()
    assert holder.login(request=HttpRequest(), username="a_teacher", password="Reset-By-Admin-1")
    response = holder.get(reverse("wagtailadmin_explore_root"))
    assert response.status_code == 302 and response["Location"] == reverse("wagtailadmin_account")
    page = holder.get(response["Location"])
    assert page.status_code == 200
    assert "您的密码是由管理员设置的" in page.content.decode()
    # Logging out stays open; so does everything once the password is the holder's own.
    assert change_own_password(holder, old="Reset-By-Admin-1",
                               new="Holders-Own-2026").status_code == 302
    assert holder.get(reverse("wagtailadmin_home")).status_code == 200
    assert not AccountState.objects.get(user=teacher).must_change_password
    assert SecurityEvent.objects.filter(event="password_changed", actor="a_teacher").exists()


def test_new_account_made_by_an_administrator_changes_its_password_at_first_login(client,
                                                                                  network):
    client.force_login(network.users["a_administrator"])
    client.post(reverse("wagtailusers_users:add"), {
        "username": "new_teacher", "email": "t@example.cn", "first_name": "新",
        "last_name": "师", "password1": "First-Login-2026", "password2": "First-Login-2026",
        "groups": [network.school_a.groups["teacher"].pk]})
    event = SecurityEvent.objects.get(event="password_reset", subject="user:new_teacher")
    assert event.entry["data"] == {"new_account": True}

    newcomer = Client()
    assert newcomer.login(request=HttpRequest(), username="new_teacher",
                          password="First-Login-2026")
    assert newcomer.get(reverse("wagtailadmin_home"))["Location"] == \
        reverse("wagtailadmin_account")
    assert newcomer.post(reverse("wagtailadmin_logout")).status_code == 302


def test_own_password_is_changed_on_the_account_page_not_in_user_management(client, network):
    # Nobody manages their own account in user management (cms.accounts.users): their own
    # password is changed on the account page, where it is their own change.
    root = network.users["superuser"]
    client.force_login(root)
    response = client.post(reverse("wagtailusers_users:edit", args=[root.pk]), {
        "username": "root", "email": "root@example.cn", "first_name": "根", "last_name": "用户",
        "is_active": "on", "is_superuser": "on",
        "password1": "Maintainer-Own-1", "password2": "Maintainer-Own-1"})
    assert response.status_code == 404
    assert not SecurityEvent.objects.filter(event__in=["password_changed",
                                                       "password_reset"]).exists()


def test_expiry_warned_then_forced(client, network):
    teacher = network.users["a_teacher"]
    client.force_login(teacher)
    state = AccountState.objects.get(user=teacher)

    state.password_changed_at = timezone.now() - timedelta(days=80)
    state.save()
    dashboard = client.get(reverse("wagtailadmin_home"))
    assert dashboard.status_code == 200
    assert "您的密码将在 10 天后过期" in dashboard.content.decode()

    state.password_changed_at = timezone.now() - timedelta(days=60)
    state.save()
    assert "过期" not in client.get(reverse("wagtailadmin_home")).content.decode()

    state.password_changed_at = timezone.now() - timedelta(days=91)
    state.save()
    response = client.get(reverse("wagtailadmin_home"))
    assert response["Location"] == reverse("wagtailadmin_account")
    assert "已超过 90 天未修改" in client.get(response["Location"]).content.decode()
    assert change_own_password(client, old=PASSWORD, new="Fresh-Password-2026").status_code == 302
    assert client.get(reverse("wagtailadmin_home")).status_code == 200


def test_public_site_ignores_password_state(client, network):
    teacher = network.users["a_teacher"]
    AccountState.objects.filter(user=teacher).update(must_change_password=True)
    client.force_login(teacher)
    assert client.get("/", HTTP_HOST="jia.test").status_code == 200


def test_emailed_reset_link_is_the_holders_own_change(client, network, mailoutbox):
    teacher = network.users["a_teacher"]
    User.objects.filter(pk=teacher.pk).update(email="a_teacher@example.cn")
    AccountState.objects.filter(user=teacher).update(must_change_password=True)
    client.post(reverse("wagtailadmin_password_reset"), {"email": "a_teacher@example.cn"})
    link = next(line for line in mailoutbox[0].body.splitlines() if "/confirm/" in line)
    form_url = client.get(link[link.index("/admin/"):].strip())["Location"]
    weak = client.post(form_url, {"new_password1": "abc", "new_password2": "abc"})
    assert "密码太短" in weak.content.decode()
    response = client.post(form_url, {"new_password1": "Mailbox-Holder-7",
                                      "new_password2": "Mailbox-Holder-7"})
    assert response.status_code == 302
    assert not AccountState.objects.get(user=teacher).must_change_password
    event = SecurityEvent.objects.get(event="password_changed")
    assert (event.actor, event.entry["data"]) == ("a_teacher", {"via": "email_link"})
    holder = Client()
    assert holder.login(request=HttpRequest(), username="a_teacher", password="Mailbox-Holder-7")
    assert holder.get(reverse("wagtailadmin_home")).status_code == 200
