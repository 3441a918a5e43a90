"""Running one period of one job: the task the scheduler enqueues, its record, and the
e-mail to superusers when a job keeps failing."""

import io
import logging
import traceback

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone
from django_tasks import task

from cms.jobs.models import JobRun
from cms.jobs.schedule import all_jobs

logger = logging.getLogger(__name__)
OUTPUT_LIMIT = 20_000


class JobFailed(Exception):
    """A job's command ended with a non-zero exit status."""


@task()
def run_job(run_id: int) -> dict:
    """Run the job period ``run_id`` once: nothing when it has already finished (a task
    delivered twice). A run left ``running`` by a worker that died is claimed again: it is
    only delivered again once its worker is known dead (cms.jobs.workers)."""
    claimable = [JobRun.Status.PENDING, JobRun.Status.QUEUED, JobRun.Status.RUNNING]
    claimed = JobRun.objects.filter(pk=run_id, status__in=claimable).update(
        status=JobRun.Status.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1)
    if not claimed:
        return {"run": run_id, "ran": False}
    run = JobRun.objects.get(pk=run_id)
    output = io.StringIO()
    try:
        job = all_jobs().get(run.job)
        if job is None:
            raise JobFailed(f"没有名为“{run.job}”的定时任务（已从日程中删除？）")
        try:
            call_command(*job.argv(), stdout=output, stderr=output)
        except SystemExit as exit_:  # commands that report through their exit status
            if exit_.code not in (0, None):
                raise JobFailed(f"命令以状态 {exit_.code} 结束") from None
    except BaseException as error:
        finish(run, status=JobRun.Status.FAILED, output=output.getvalue(),
               error="".join(traceback.format_exception(error)))
        raise
    finish(run, status=JobRun.Status.SUCCEEDED, output=output.getvalue())
    return {"run": run_id, "ran": True, "job": run.job}


def plain_output(output: str) -> str:
    """A command's output as a terminal would end up showing it: of a line redrawn with
    carriage returns (a progress bar), only its last state."""
    return "\n".join(line.rsplit("\r", 1)[-1] for line in output.split("\n"))


def finish(run: JobRun, *, status: str, output: str, error: str = "") -> None:
    output = plain_output(output)
    run.status, run.output, run.error = status, output[-OUTPUT_LIMIT:], error[-OUTPUT_LIMIT:]
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "output", "error", "finished_at"])
    if status == JobRun.Status.FAILED:
        alert_if_failing(job_name=run.job)


def consecutive_failures(*, job_name: str) -> int:
    """Failed runs of the job since its last success (most recent periods first)."""
    count = 0
    finished = JobRun.objects.filter(
        job=job_name, status__in=[JobRun.Status.SUCCEEDED, JobRun.Status.FAILED]
    ).order_by("-period").values_list("status", flat=True)
    for status in finished.iterator():
        if status != JobRun.Status.FAILED:
            break
        count += 1
    return count


def alert_if_failing(*, job_name: str) -> bool:
    """E-mail superusers when the job has just failed for the ``alert_after_failures``-th
    time in a row (once per streak, not at every further failure)."""
    job = all_jobs().get(job_name)
    threshold = job.alert_after_failures if job else 2
    if consecutive_failures(job_name=job_name) != threshold:
        return False
    last = JobRun.objects.filter(job=job_name).order_by("-period").first()
    recipients = list(get_user_model()._default_manager.filter(
        is_superuser=True, is_active=True).exclude(email="").values_list("email", flat=True))
    if not recipients:
        logger.error("定时任务 %s 连续失败 %s 次，但没有可通知的超级管理员邮箱",
                     job_name, threshold)
        return False
    title = job.title if job else job_name
    send_mail(
        subject=f"定时任务连续失败：{title}",
        message=(f"定时任务“{title}”（{job_name}）已连续失败 {threshold} 次。\n\n"
                 f"最近一次：周期 {timezone.localtime(last.period):%Y-%m-%d %H:%M}\n\n"
                 f"错误：\n{last.error[-4000:]}\n\n请在管理后台“定时任务”中查看详情。"),
        from_email=None, recipient_list=recipients, fail_silently=True)
    return True
