"""Dormant accounts (等保 8.1.4.2): ``manage.py deactivate_dormant`` deactivates accounts
without a login for 90 days (superusers too), reports them, logs each, and is safe to run
twice."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from cms.accounts.dormant import dormant_since, format_table
from cms.accounts.models import AccountState
from review.register.models import SecurityEvent

User = get_user_model()
NOW = datetime(2026, 9, 1, tzinfo=UTC)


def test_dormant_since():
    joined, login = NOW - timedelta(days=200), NOW - timedelta(days=100)
    assert dormant_since(last_login=None, date_joined=joined, reactivated_at=None) == joined
    assert dormant_since(last_login=login, date_joined=joined, reactivated_at=None) == login
    reactivated = NOW - timedelta(days=3)
    assert dormant_since(last_login=login, date_joined=joined,
                         reactivated_at=reactivated) == reactivated
    assert dormant_since(last_login=login, date_joined=joined,
                         reactivated_at=joined) == login


def test_table_lines_up_with_chinese_text():
    table = format_table(["用户名", "天数"], [["zhang", "100"], ["一个很长的名字", "7"]])
    lines = table.splitlines()
    assert lines[0] == "用户名          天数"
    assert lines[2] == "zhang           100"
    assert lines[3] == "一个很长的名字  7"


def run(*args) -> str:
    out = io.StringIO()
    call_command("deactivate_dormant", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def dormant(network):
    """a_teacher last logged in 100 days ago; b_teacher never did, in an account made 120
    days ago; root (a superuser) 91 days ago; a_leader 30 days ago; b_leader 200 days ago but
    was reactivated yesterday."""
    now = timezone.now()
    User.objects.filter(username="a_teacher").update(last_login=now - timedelta(days=100))
    User.objects.filter(username="b_teacher").update(date_joined=now - timedelta(days=120),
                                                     last_login=None)
    User.objects.filter(username="root").update(last_login=now - timedelta(days=91))
    User.objects.filter(username="a_leader").update(last_login=now - timedelta(days=30))
    User.objects.filter(username="b_leader").update(last_login=now - timedelta(days=200))
    AccountState.objects.update_or_create(user=network.users["b_leader"], defaults={
        "reactivated_at": now - timedelta(days=1)})
    return network


def test_dry_run_reports_and_changes_nothing(dormant):
    out = run("--dry-run")
    assert "将停用 3 个超过 90 天未登录的账号（试运行，未作改动）" in out
    lines = out.splitlines()
    assert lines[1].split() == ["用户名", "姓名", "所属组", "最后登录", "未登录天数"]
    rows = {line.split()[0]: line for line in lines[3:]}
    assert list(rows) == ["b_teacher", "a_teacher", "root"]  # longest idle first
    assert rows["b_teacher"].split()[-2:] == ["从未登录", "120"]
    assert "甲中学 教师" in rows["a_teacher"] and rows["a_teacher"].endswith(" 100")
    assert User.objects.filter(is_active=False).count() == 0
    assert not SecurityEvent.objects.filter(event="account_deactivated").exists()


def test_deactivates_logs_and_is_safe_to_run_twice(dormant):
    holder = Client()
    holder.force_login(User.objects.get(username="root"))  # (which notes a login now)
    User.objects.filter(username="root").update(last_login=timezone.now() - timedelta(days=91))
    out = run()
    assert "已停用 3 个超过 90 天未登录的账号：" in out
    assert set(User.objects.filter(is_active=False).values_list("username", flat=True)) == {
        "a_teacher", "b_teacher", "root"}
    events = SecurityEvent.objects.filter(event="account_deactivated").order_by("seq")
    assert [(e.actor, e.subject) for e in events] == [
        ("system", "user:b_teacher"), ("system", "user:a_teacher"), ("system", "user:root")]
    assert events[1].entry["data"]["idle_days"] == 100
    # Their sessions are over.
    assert holder.get("/admin/").status_code == 302

    assert run() == "没有超过 90 天未登录的在用账号。\n"
    assert SecurityEvent.objects.filter(event="account_deactivated").count() == 3


def test_days_is_an_option(dormant):
    out = run("--days", "150", "--dry-run")
    assert "将停用 0" not in out and "没有超过 150 天未登录的在用账号" in out
    assert "a_leader" in run("--days", "20", "--dry-run")
    with pytest.raises(CommandError, match="正整数"):
        run("--days", "0")
