"""manage.py prune_results [--days N] — delete finished task results and job runs."""

import datetime

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cms.jobs.models import JobRun

# The admin shows each job's recent runs and counts failures in a row: keep at least these.
KEEP_PER_JOB = 5


class Command(BaseCommand):
    help = "删除超过保存期限的已完成任务结果和定时任务运行记录（默认 TASKS_RESULTS_KEEP_DAYS 天）。"

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None,
                            help="保存多少天（默认 TASKS_RESULTS_KEEP_DAYS）")

    def handle(self, *args, days=None, **options):
        days = settings.TASKS_RESULTS_KEEP_DAYS if days is None else days
        if days < 1:
            raise CommandError("--days 须至少为 1。")
        cutoff = timezone.now() - datetime.timedelta(days=days)
        results = 0
        if apps.is_installed("django_tasks_db"):
            from django_tasks_db.models import DBTaskResult

            results, _ = DBTaskResult.objects.filter(
                status__in=["SUCCESSFUL", "FAILED"], finished_at__lt=cutoff).delete()
        runs = 0
        for job in JobRun.objects.values_list("job", flat=True).distinct():
            kept = JobRun.objects.filter(job=job).order_by("-period").values_list(
                "pk", flat=True)[:KEEP_PER_JOB]
            deleted, _ = JobRun.objects.filter(job=job, finished_at__lt=cutoff).exclude(
                pk__in=list(kept)).delete()
            runs += deleted
        self.stdout.write(f"已删除 {results} 条任务结果、{runs} 条定时任务运行记录"
                          f"（{days} 天以前）。")
