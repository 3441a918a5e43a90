"""The one schedule: periods, exactly once per period, catching up once, failures recorded
and alerted, the admin's view (tasks run where enqueued: ImmediateBackend)."""

import datetime
import zoneinfo

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from wagtail import hooks

from cms.jobs import scheduler
from cms.jobs.models import JobRun
from cms.jobs.runs import consecutive_failures
from cms.jobs.schedule import DAY, MINUTE, Job, all_jobs, next_period, period_start

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=SHANGHAI)


# Pure logic: periods.

def test_a_minute_period_starts_on_the_minute():
    assert period_start(now=at(2026, 3, 1, 10, 17, 42), every=MINUTE) == at(2026, 3, 1, 10, 17)
    assert next_period(now=at(2026, 3, 1, 10, 17, 42), every=MINUTE) == at(2026, 3, 1, 10, 18)


def test_a_daily_period_starts_at_its_local_time():
    two_thirty = datetime.time(2, 30)
    assert period_start(now=at(2026, 3, 1, 2, 30), every=DAY, at=two_thirty) == \
        at(2026, 3, 1, 2, 30)
    # Before 02:30 the current period is yesterday's.
    assert period_start(now=at(2026, 3, 1, 2, 29, 59), every=DAY, at=two_thirty) == \
        at(2026, 2, 28, 2, 30)
    # Given in UTC, still local 02:30 (18:30 UTC the day before).
    utc = at(2026, 3, 1, 9, 0).astimezone(datetime.UTC)
    start = period_start(now=utc, every=DAY, at=two_thirty)
    assert start == at(2026, 3, 1, 2, 30) and start.tzinfo == datetime.UTC


def test_a_job_refuses_a_nonsense_declaration():
    with pytest.raises(ValueError):
        Job("x", "x", every=datetime.timedelta(0), command=("bake",))
    with pytest.raises(ValueError):
        Job("not a name", "x", every=DAY, command=("bake",))


def test_the_schedule_declares_the_periodic_jobs():
    jobs = all_jobs()
    assert jobs["publish_scheduled"].every == MINUTE
    assert jobs["publication_log_daily"].argv() == ("publication_log", "daily")
    for name in ("remind_quotas", "bake", "backup", "deactivate_dormant", "prune_results",
                 "security_log_checkpoint", "rescan_live"):
        assert name in jobs


def test_the_backup_is_pushed_off_site_only_when_configured(settings):
    settings.BACKUPS_OFFSITE_STORAGE = None
    assert all_jobs()["backup"].argv() == ("backup", "create")
    settings.BACKUPS_OFFSITE_STORAGE = "backups_offsite"
    assert all_jobs()["backup"].argv() == ("backup", "create", "--push")


def test_a_progress_bar_is_stored_as_its_last_state():
    from cms.jobs.runs import plain_output

    assert plain_output("\r备份 [#  ] 10%\r备份 [###] 100%\n完成\n") == "备份 [###] 100%\n完成\n"


# The scheduler, with tasks run where they are enqueued.

CALLS = []
ECHO = Job("echo_test", "测试任务", every=MINUTE, command=("check",))


def failing(name="failing_test"):
    return Job(name, "总是失败", every=MINUTE, command=("publication_log", "no-such-action"))


@pytest.fixture
def extra_jobs():
    """Jobs registered through the hook, as another app would."""
    registered = [ECHO, failing()]
    with hooks.register_temporarily("register_scheduled_jobs", lambda: registered):
        yield registered


def test_a_hook_adds_a_job_in_one_line(extra_jobs):
    assert all_jobs()["echo_test"] is ECHO


def test_an_app_that_may_not_import_cms_declares_its_job_as_a_mapping():
    declared = {"name": "verify_backups", "title": "核验备份", "every": DAY,
                "at": datetime.time(5, 0), "command": ("backup", "verify")}
    with hooks.register_temporarily("register_scheduled_jobs", lambda: [declared]):
        job = all_jobs()["verify_backups"]
    assert job.argv() == ("backup", "verify") and job.at == datetime.time(5, 0)


def test_each_period_runs_once_however_many_schedulers_tick(db, extra_jobs):
    now = at(2026, 3, 1, 10, 17, 5)
    first = scheduler.tick(now=now, jobs=[ECHO])
    again = scheduler.tick(now=now + datetime.timedelta(seconds=30), jobs=[ECHO])
    assert [run.job for run in first] == ["echo_test"] and again == []
    run = JobRun.objects.get(job="echo_test")
    assert run.status == JobRun.Status.SUCCEEDED and run.period == at(2026, 3, 1, 10, 17)
    assert "System check identified no issues" in run.output
    # The next minute is a new period.
    assert len(scheduler.tick(now=now + MINUTE, jobs=[ECHO])) == 1


def test_periods_missed_while_down_are_caught_up_once(db, extra_jobs):
    daily = Job("daily_test", "每日测试", every=DAY, at=datetime.time(2, 0), command=("check",))
    scheduler.tick(now=at(2026, 3, 1, 2, 0, 3), jobs=[daily])
    # Down for three days and a half: one run, the current period's.
    created = scheduler.tick(now=at(2026, 3, 4, 14, 0), jobs=[daily])
    assert [run.period for run in created] == [at(2026, 3, 4, 2, 0)]
    assert JobRun.objects.filter(job="daily_test").count() == 2


def test_a_run_delivered_twice_runs_once(db, extra_jobs):
    from cms.jobs.runs import run_job

    (run,) = scheduler.tick(now=at(2026, 3, 1, 10, 0), jobs=[ECHO])
    assert run_job.call(run.pk) == {"run": run.pk, "ran": False}


def test_a_failure_is_recorded_with_its_traceback_and_alerts_superusers_the_second_time(
        network, extra_jobs):
    root = network.users["superuser"]
    root.email = "root@example.test"
    root.save()
    job = failing()
    scheduler.tick(now=at(2026, 3, 1, 10, 0), jobs=[job])
    run = JobRun.objects.get(job=job.name)
    assert run.status == JobRun.Status.FAILED
    assert "Traceback" in run.error and "CommandError" in run.error
    assert consecutive_failures(job_name=job.name) == 1 and not mail.outbox
    scheduler.tick(now=at(2026, 3, 1, 10, 1), jobs=[job])
    assert consecutive_failures(job_name=job.name) == 2
    (message,) = mail.outbox
    assert message.to == ["root@example.test"] and "总是失败" in message.subject
    assert "CommandError" in message.body
    scheduler.tick(now=at(2026, 3, 1, 10, 2), jobs=[job])
    assert len(mail.outbox) == 1  # once per streak


def test_a_run_of_a_job_no_longer_declared_fails_clearly(db):
    from cms.jobs.runs import JobFailed, run_job

    run = JobRun.objects.create(job="removed_job", period=at(2026, 3, 1, 10, 0))
    with pytest.raises(JobFailed):
        run_job.call(run.pk)
    run.refresh_from_db()
    assert run.status == JobRun.Status.FAILED and "没有名为“removed_job”的定时任务" in run.error


def test_the_admin_lists_jobs_for_the_bureau_and_superusers_only(client, network, extra_jobs):
    scheduler.tick(now=at(2026, 3, 1, 10, 0), jobs=[ECHO, failing()])
    url = reverse("jobs_schedule")
    for allowed in ("superuser", "county_administrator", "county_accounts"):
        client.force_login(network.users[allowed])
        page = client.get(url).content.decode()
        assert "定时发布与到期下线" in page and "测试任务" in page and "成功" in page
        assert "总是失败" in page and "CommandError" in page
        assert '"/admin/jobs/"' in client.get(reverse("wagtailadmin_home")).content.decode()
    for refused in ("a_administrator", "a_leader", "county_leader", "county_teacher"):
        client.force_login(network.users[refused])
        refusal = client.get(url)  # Wagtail turns PermissionDenied into a redirect home
        assert refusal.status_code == 302 and refusal.url == reverse("wagtailadmin_home")
        assert '"/admin/jobs/"' not in \
            client.get(reverse("wagtailadmin_home")).content.decode()


def test_results_and_runs_are_pruned_after_the_configured_days(db, settings):
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    old = timezone.now() - datetime.timedelta(days=40)
    for minute in range(8):
        JobRun.objects.create(job="echo_test", period=old + datetime.timedelta(minutes=minute),
                              status=JobRun.Status.SUCCEEDED, finished_at=old)
    fresh = JobRun.objects.create(job="other", period=old, status=JobRun.Status.SUCCEEDED,
                                  finished_at=timezone.now())
    DBTaskResult.objects.create(args_kwargs={"args": [], "kwargs": {}}, task_path="x.y",
                                backend_name="default", run_after=old, status="SUCCESSFUL",
                                finished_at=old)
    DBTaskResult.objects.create(args_kwargs={"args": [], "kwargs": {}}, task_path="x.y",
                                backend_name="default", run_after=old, status="READY")
    settings.TASKS_RESULTS_KEEP_DAYS = 30
    call_command("prune_results", stdout=__import__("io").StringIO())
    assert JobRun.objects.filter(job="echo_test").count() == 5  # the latest five are kept
    assert JobRun.objects.filter(pk=fresh.pk).exists()
    assert list(DBTaskResult.objects.values_list("status", flat=True)) == ["READY"]
    with pytest.raises(Exception, match="至少为 1"):
        call_command("prune_results", "--days", "0")
