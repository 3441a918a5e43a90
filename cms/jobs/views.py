"""The admin's view of the schedule: each job's last run, next run, result and failures."""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import render
from django.utils import timezone

from cms.jobs.models import JobRun, WorkerHeartbeat
from cms.jobs.runs import consecutive_failures
from cms.jobs.schedule import Job, all_jobs
from cms.jobs.scheduler import next_runs
from cms.jobs.workers import DEAD_AFTER

RECENT_FAILURES = 10


def may_see_jobs(user) -> bool:
    """Superusers and the bureau's administrators (its web administrators and account
    administrators): the schedule is the whole network's."""
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    from cms.models import PortalPage, Role

    return user.groups.filter(
        Q(organisation_role__role=Role.ACCOUNTS)
        | Q(organisation_role__role=Role.ADMINISTRATOR,
            organisation_role__home_page__in=PortalPage.objects.values("pk"))).exists()


@dataclass
class Row:
    job: Job
    last: JobRun | None
    next_at: object
    failures_in_a_row: int


def describe_every(job: Job) -> str:
    seconds = int(job.every.total_seconds())
    if seconds % 86400 == 0:
        days = seconds // 86400
        return f"每{'' if days == 1 else days}天 {job.at:%H:%M}"
    if seconds % 3600 == 0:
        return f"每 {seconds // 3600} 小时"
    if seconds % 60 == 0:
        return "每分钟" if seconds == 60 else f"每 {seconds // 60} 分钟"
    return f"每 {seconds} 秒"


def schedule(request):
    if not may_see_jobs(request.user):
        raise PermissionDenied
    jobs = all_jobs()
    upcoming = next_runs()
    rows = []
    for job in jobs.values():
        last = JobRun.objects.filter(job=job.name).order_by("-period").first()
        rows.append(Row(job=job, last=last, next_at=upcoming[job.name],
                        failures_in_a_row=consecutive_failures(job_name=job.name)))
    failures = JobRun.objects.filter(status=JobRun.Status.FAILED).order_by(
        "-period")[:RECENT_FAILURES]
    alive = WorkerHeartbeat.objects.filter(seen_at__gte=timezone.now() - DEAD_AFTER)
    return render(request, "jobs/schedule.html", {
        "rows": [(row, describe_every(row.job)) for row in rows],
        "failures": failures, "workers": alive, "titles": {j.name: j.title for j in
                                                              jobs.values()},
    })
