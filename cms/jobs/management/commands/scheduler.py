"""manage.py scheduler — enqueue the periodic jobs (cms.jobs.schedule) as they fall due.

Run one or several (each period is enqueued once whichever gets there first); the workers
run the jobs. ``--once`` ticks once and exits (tests, or a system timer instead of a daemon).
"""

import signal
import sys
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from cms.jobs.schedule import all_jobs
from cms.jobs.scheduler import tick


class Command(BaseCommand):
    help = "定时任务调度：到期的定时任务放入任务队列（由工作进程执行）。可同时运行多个。"

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=5.0,
                            help="检查间隔，秒（默认 5）")
        parser.add_argument("--once", action="store_true", help="只检查一次就退出")

    def handle(self, *args, interval: float, once: bool, **options):
        if interval <= 0:
            from django.core.management.base import CommandError

            raise CommandError("--interval 须大于 0。")
        jobs = all_jobs()
        if options["verbosity"] >= 1:
            self.stdout.write(f"调度 {len(jobs)} 个定时任务：{'、'.join(jobs)}")
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while True:
            close_old_connections()
            try:
                for run in tick(jobs=jobs.values()):
                    if options["verbosity"] >= 1:
                        self.stdout.write(f"已入队：{run}")
            except Exception as error:  # the database restarting, say: try again next tick
                self.stderr.write(f"调度失败：{error!r}")
                if once:
                    raise
            if once:
                return
            time.sleep(interval - time.time() % interval)
