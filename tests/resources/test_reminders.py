import datetime
import io

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from cms.resources.models import QuotaReminder
from tests.resources.conftest import QUOTA_MET, make_resources


def run(*args) -> str:
    out = io.StringIO()
    call_command("remind_quotas", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def ending(network, semester):
    """The semester ends in 10 days; a_teacher has met the quota, a_leader is no teacher."""
    semester.end_date = timezone.localdate() + datetime.timedelta(days=10)
    semester.save()
    for key in ("a_teacher", "b_teacher"):
        network.users[key].email = f"{key}@example.cn"
        network.users[key].save()
    make_resources(school=network.school_a.home_page, teacher=network.users["a_teacher"],
                   semester=semester, kinds=QUOTA_MET)
    return network


def test_teachers_short_of_the_quota_are_reminded_once(ending):
    assert "已提醒 1 位教师：b_teacher" in run("--days", "14")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["b_teacher@example.cn"]
    assert "还有 10 天" in message.body and "论文还差 1 篇" in message.body
    assert "/admin/resources/mine/" in message.body
    assert QuotaReminder.objects.get().shortfalls["total"] == 50
    run("--days", "14")
    assert len(mail.outbox) == 1  # the next day's run sends nothing new


def test_nothing_before_the_window(ending):
    assert "已提醒 0 位教师" in run("--days", "5")
    assert not mail.outbox


def test_dry_run_sends_nothing(ending):
    assert "将提醒 1 位教师" in run("--days", "30", "--dry-run")
    assert not mail.outbox and not QuotaReminder.objects.exists()


def test_negative_days_are_refused(ending):
    with pytest.raises(CommandError):
        run("--days", "-1")
