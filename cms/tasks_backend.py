"""A django-tasks backend that runs tasks in a background thread of the process that
enqueued them: the request that published returns at once, and the re-rendering it started
(cms.baking) happens right after, one task at a time, in the order enqueued. Wagtail's own
tasks (search index updates) run there too.

A task enqueued inside a transaction starts once it commits (and never if it rolls back):
the thread has its own database connection, which sees only committed data.

Nothing is persisted: tasks still queued when a process dies are lost. For static publishing
that loses nothing lasting — `manage.py bake` (cron, and at start) catches up on every
publication the register records since its last run.
"""

import atexit
import functools
import logging
import queue
import threading

from django.db import connections, transaction
from django_tasks.backends.immediate import ImmediateBackend

logger = logging.getLogger(__name__)
DRAIN_SECONDS_AT_EXIT = 60


class _Worker:
    """The process's one background thread and its queue (django-tasks makes a backend per
    request thread; they all share this)."""

    def __init__(self):
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def submit(self, run) -> None:
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self.work, name="cms-tasks", daemon=True)
                self.thread.start()
        self.queue.put(run)

    def work(self) -> None:
        while (run := self.queue.get()) is not None:
            try:
                run()
            except Exception:
                logger.exception("后台任务失败")
            finally:
                connections.close_all()  # this thread's own connections

    def wait(self, timeout: float | None = None) -> bool:
        """Block until everything submitted so far has run (tests, benchmarks, exit)."""
        if self.thread is None or not self.thread.is_alive():
            return True
        reached = threading.Event()
        self.queue.put(reached.set)
        return reached.wait(timeout)


worker = _Worker()
atexit.register(worker.wait, DRAIN_SECONDS_AT_EXIT)


class ThreadBackend(ImmediateBackend):
    def _execute_task(self, task_result) -> None:
        """Called by ``enqueue`` with the new result: run it in the background thread once
        the current transaction commits, with ImmediateBackend's runner (which records
        success or failure on the result)."""
        run = functools.partial(ImmediateBackend._execute_task, self, task_result)
        transaction.on_commit(functools.partial(worker.submit, run), robust=True)
