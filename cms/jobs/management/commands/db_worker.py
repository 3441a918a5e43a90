"""django-tasks-db's ``db_worker``, with a heartbeat and the recovery of dead workers' tasks
(cms.jobs.workers). Being listed before django_tasks_db in INSTALLED_APPS, this is the
``db_worker`` that `manage.py` runs."""

from django.conf import settings
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from cms.jobs import outbox, workers


class Command(DbWorkerCommand):
    help = "运行数据库任务队列的工作进程（带心跳；接手已停止的工作进程未完成的任务）。"

    def handle(self, *args, worker_id: str, **options):
        workers.beat(worker_id=worker_id)
        workers.recover_stale()
        outbox.flush_stale()
        heartbeat = workers.Heartbeat(worker_id)
        if getattr(settings, "JOBS_WORKER_HEARTBEAT_THREAD", True):
            heartbeat.start()
        try:
            return super().handle(*args, worker_id=worker_id, **options)
        finally:
            heartbeat.stop()
            workers.forget(worker_id=worker_id)
