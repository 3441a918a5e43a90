"""Runs of scheduled jobs, workers' heartbeats and tasks waiting to be enqueued."""

from django.db import models
from django.utils import timezone


class JobRun(models.Model):
    """One period of one job (cms.jobs.schedule). Unique on job and period: the lease that
    makes each period run once however many schedulers try to enqueue it."""

    class Status(models.TextChoices):
        PENDING = "pending", "待入队"
        QUEUED = "queued", "已入队"
        RUNNING = "running", "运行中"
        SUCCEEDED = "succeeded", "成功"
        FAILED = "failed", "失败"

    job = models.CharField("任务", max_length=64)
    period = models.DateTimeField("周期开始")
    status = models.CharField("状态", max_length=16, choices=Status.choices,
                              default=Status.PENDING)
    task_id = models.CharField("队列任务编号", max_length=64, blank=True)
    attempts = models.PositiveIntegerField("尝试次数", default=0)
    created_at = models.DateTimeField("排定时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    output = models.TextField("输出", blank=True)
    error = models.TextField("错误（含调用栈）", blank=True)

    class Meta:
        verbose_name = "定时任务运行"
        verbose_name_plural = "定时任务运行"
        constraints = [models.UniqueConstraint(fields=["job", "period"],
                                               name="jobs_one_run_per_period")]
        indexes = [models.Index(fields=["job", "-period"], name="jobs_run_latest"),
                   models.Index(fields=["status", "created_at"], name="jobs_run_status")]

    def __str__(self):
        return f"{self.job} @ {timezone.localtime(self.period):%Y-%m-%d %H:%M:%S}"


class WorkerHeartbeat(models.Model):
    """A queue worker (`manage.py db_worker`) that is alive: it updates ``seen_at`` every few
    seconds. A task claimed by a worker that stopped beating is put back in the queue."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField(auto_now_add=True)
    seen_at = models.DateTimeField()

    class Meta:
        verbose_name = "队列工作进程"
        verbose_name_plural = "队列工作进程"

    def __str__(self):
        return f"{self.hostname}:{self.pid}"


class PendingEnqueue(models.Model):
    """Tasks to enqueue, written in the transaction whose commit they follow (a publication's
    re-rendering): if the process dies between the commit and enqueueing them, the scheduler
    finds them here and enqueues them (the transactional outbox)."""

    calls = models.JSONField(default=list)  # [[task module path, [args...]], ...]
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "待入队任务"
        verbose_name_plural = "待入队任务"

    def __str__(self):
        return f"待入队 #{self.pk}"
