"""Enqueue tasks once a transaction commits, without losing them if the process dies between
the commit and the enqueue (the transactional outbox).

``Outbox.record`` writes the calls inside the transaction; after the commit they are enqueued
and the record deleted. A record still there a little later belongs to a process that died in
between: ``flush_stale`` (run by the scheduler every few seconds and by each worker at start)
enqueues it. A call may thus be enqueued twice (the process died after enqueueing but before
deleting): tasks are safe to run twice. On the database backend the enqueue and the deletion
are one transaction.
"""

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import task_backends
from django_tasks.base import Task

from cms.jobs.models import PendingEnqueue

logger = logging.getLogger(__name__)
# A record older than this has lost the process that wrote it (its commit's callbacks run
# within milliseconds).
STALE_AFTER = datetime.timedelta(seconds=getattr(settings, "JOBS_OUTBOX_STALE_SECONDS", 30))
Call = tuple[Task, list]


def record(calls: list[Call], *, pending: PendingEnqueue | None = None) -> PendingEnqueue:
    """Write (or rewrite, as more events join a batch) the calls in the current transaction."""
    stored = [[task.module_path, list(args)] for task, args in calls]
    if pending is None:
        return PendingEnqueue.objects.create(calls=stored)
    if pending.calls != stored:
        pending.calls = stored
        PendingEnqueue.objects.filter(pk=pending.pk).update(calls=stored)
    return pending


def dispatch(pending: PendingEnqueue) -> None:
    """Enqueue the record's calls and delete it (after the commit that wrote it)."""
    with transaction.atomic():
        # Whoever deletes the record enqueues its calls (the process that wrote it, or the
        # scheduler flushing a stale one): never both.
        deleted, _ = PendingEnqueue.objects.filter(pk=pending.pk).delete()
        if not deleted:
            return
        for path, args in pending.calls:
            import_string(path).enqueue(*args)


def flush_stale(*, now: datetime.datetime | None = None) -> int:
    """Enqueue the calls of records left by processes that died after their commit."""
    cutoff = (now or timezone.now()) - STALE_AFTER
    flushed = 0
    for pending in PendingEnqueue.objects.filter(created_at__lt=cutoff).order_by("pk"):
        try:
            dispatch(pending)
            flushed += 1
        except Exception:
            logger.exception("补入队失败：%s", pending.calls)
    return flushed


def is_transactional() -> bool:
    """Whether enqueueing writes to the same database, in the same transaction (then an
    enqueue inside a transaction is already as safe as the outbox)."""
    from django_tasks_db import DatabaseBackend

    return isinstance(task_backends["default"], DatabaseBackend)
