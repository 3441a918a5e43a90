"""Rescanning live content when the lexicon changes.

A change to the lexicon, the allow list, the protected names, the wording rules or the typos
queues a rescan (in the change's transaction) and,
once it commits, enqueues the django-tasks task ``rescan_lexicon`` with its id on the
persistent task queue (``REVIEW_RESCAN_IN_BACKGROUND``, on by default; off, the rescan is only
queued). ``python manage.py rescan_live`` runs whatever is queued (commands such as
``import_lexicon`` only queue); it is a scheduled job, so a queued rescan whose task was lost
still runs. Claiming a queued rescan is one conditional UPDATE, so two
workers never run the same rescan and a task run twice does nothing the second time; a rescan
left running by a process that died is claimed again after ``STALE_AFTER``. Results list
every live page and snippet that now matches.
"""

import contextlib
import datetime
import logging
import threading
from collections.abc import Callable, Iterator

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task
from wagtail.admin.admin_url_finder import AdminURLFinder
from wagtail.models import DraftStateMixin, Page
from wagtail.snippets.models import get_snippet_models

from review.screening.models import LexiconRescan
from review.screening.objects import current_lexicon, screen_findings

logger = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
STALE_AFTER = datetime.timedelta(hours=2)
# What a change of the lexicon, the protected names, the wording rules or the typos changes.
RESCANNED_KINDS = frozenset({"sensitive_word", "expression", "typo"})
# Changes batched by ``one_rescan`` in this thread (an import): one rescan when they are done.
_batch = threading.local()


@contextlib.contextmanager
def one_rescan(*, reason: str, rescan: bool = True, background: bool = True):
    """Many changes (an import), one rescan when they are done — or none, with
    ``rescan=False`` (a fresh install has no live content to rescan). Nested batches leave the
    decision to the outermost."""
    _batch.depth = getattr(_batch, "depth", 0) + 1
    try:
        yield
    finally:
        _batch.depth -= 1
    if rescan and not _batch.depth:
        request_rescan(reason=reason, background=background)


def on_lexicon_change(sender, instance, **kwargs) -> None:
    """Receiver for saves and deletions of lexicon and allow-list entries."""
    if getattr(_batch, "depth", 0):
        return
    request_rescan(reason=f"{sender._meta.verbose_name}“{instance.word}”变更")


def request_rescan(*, reason: str, background: bool = True) -> None:
    """Queue a rescan in the current transaction (one queued rescan is enough) and, unless
    ``background`` or ``REVIEW_RESCAN_IN_BACKGROUND`` says not to, enqueue its task once the
    transaction commits. The queued rescan is a row of its own, so a process that dies between
    the commit and the enqueue loses nothing: the scheduled ``rescan_live`` runs it."""
    rescan = LexiconRescan.objects.filter(status=LexiconRescan.Status.PENDING).first()
    if rescan is None:
        rescan = LexiconRescan.objects.create(reason=reason[:255])
    if background and getattr(settings, "REVIEW_RESCAN_IN_BACKGROUND", True):
        transaction.on_commit(lambda: rescan_lexicon.enqueue(rescan.pk))


@task()
def rescan_lexicon(rescan_id: int) -> dict:
    """Run the queued rescan ``rescan_id``; nothing when it has been run (or is running)."""
    rescan = claim(LexiconRescan.objects.filter(pk=rescan_id))
    if rescan is None:
        return {"rescan": rescan_id, "ran": False}
    try:
        run_claimed(rescan)
    except Exception:
        logger.exception("词库变更复查失败：#%s", rescan_id)  # rescan_live can run it again
        raise
    return {"rescan": rescan_id, "ran": True, "checked": rescan.checked,
            "matches": len(rescan.matches)}


def claim(candidates=None) -> LexiconRescan | None:
    """Claim the oldest claimable rescan among ``candidates`` (default: all) with one
    conditional UPDATE each: queued, or left running longer than ``STALE_AFTER``."""
    stale = timezone.now() - STALE_AFTER
    claimable = (Q(status=LexiconRescan.Status.PENDING)
                 | Q(status=LexiconRescan.Status.RUNNING, started_at__lt=stale))
    candidates = LexiconRescan.objects.all() if candidates is None else candidates
    for rescan in candidates.filter(claimable).order_by("requested_at", "pk"):
        claimed = LexiconRescan.objects.filter(claimable, pk=rescan.pk).update(
            status=LexiconRescan.Status.RUNNING, started_at=timezone.now())
        if claimed:
            rescan.refresh_from_db()
            return rescan
    return None


def run_claimed(rescan: LexiconRescan, *, progress: Progress | None = None) -> LexiconRescan:
    """Run a rescan this process claimed; a failure is recorded on it, then raised."""
    try:
        return run(rescan, progress=progress)
    except Exception as error:
        LexiconRescan.objects.filter(pk=rescan.pk).update(
            status=LexiconRescan.Status.FAILED, error=repr(error)[:2000],
            finished_at=timezone.now())
        raise


def run_pending(*, progress: Progress | None = None) -> list[LexiconRescan]:
    done = []
    while (rescan := claim()) is not None:
        done.append(run_claimed(rescan, progress=progress))
    return done


def live_objects() -> Iterator:
    """Every live page and every live snippet that has a draft state."""
    yield from Page.objects.live().specific().iterator(chunk_size=500)
    for model in get_snippet_models():
        if issubclass(model, DraftStateMixin):
            yield from model.objects.filter(live=True).iterator(chunk_size=500)


def count_live_objects() -> int:
    return Page.objects.live().count() + sum(
        model.objects.filter(live=True).count() for model in get_snippet_models()
        if issubclass(model, DraftStateMixin))


def _admin_url(obj) -> str:
    return AdminURLFinder().get_edit_url(obj) or ""


def run(rescan: LexiconRescan, *, progress: Progress | None = None) -> LexiconRescan:
    """Screen every live object's words against the current lexicon."""
    lexicon = current_lexicon()
    total = count_live_objects()
    matches, checked = [], 0
    for obj in live_objects():
        words = [f.to_json() for f in screen_findings(obj, lexicon=lexicon)
                 if f.kind in RESCANNED_KINDS]
        checked += 1
        if words:
            matches.append({
                "content_type": ContentType.objects.get_for_model(obj).pk,
                "object_id": str(obj.pk), "title": str(obj), "admin_url": _admin_url(obj),
                "findings": words,
            })
        if progress:
            progress(checked, total)
    rescan.status = LexiconRescan.Status.DONE
    rescan.checked = checked
    rescan.matches = matches
    rescan.finished_at = timezone.now()
    rescan.save(update_fields=["status", "checked", "matches", "finished_at"])
    return rescan
