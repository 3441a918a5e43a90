"""Rescanning live content when the lexicon changes.

A change to the lexicon or the allow list queues a rescan (once the change commits). The
rescan runs in a background thread of the web process that made the change
(``REVIEW_RESCAN_IN_BACKGROUND``, on by default; one runner thread per process, which keeps
going while rescans are queued) and, for deployments whose workers may not live long enough,
``python manage.py rescan_live`` runs whatever is queued (cron it every few minutes; commands
such as ``import_lexicon`` only queue). Claiming a queued rescan is one conditional UPDATE, so
two runners never run the same rescan; a rescan left running by a process that died is
claimed again after ``STALE_AFTER``. Results list every live page and snippet that now
matches.
"""

import contextlib
import datetime
import logging
import threading
from collections.abc import Callable, Iterator

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import timezone
from wagtail.admin.admin_url_finder import AdminURLFinder
from wagtail.models import DraftStateMixin, Page
from wagtail.snippets.models import get_snippet_models

from review.screening.models import LexiconRescan
from review.screening.objects import current_lexicon, screen_findings

logger = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
STALE_AFTER = datetime.timedelta(hours=2)
_runner_lock = threading.Lock()
_runner: threading.Thread | None = None


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
    """Queue a rescan after the current transaction commits (one queued rescan is enough) and,
    in a web process, make sure a runner thread is on it."""
    def queue():
        if not LexiconRescan.objects.filter(status=LexiconRescan.Status.PENDING).exists():
            LexiconRescan.objects.create(reason=reason[:255])
        if background and getattr(settings, "REVIEW_RESCAN_IN_BACKGROUND", True):
            _start_runner()
    transaction.on_commit(queue)


def _start_runner() -> None:
    global _runner
    with _runner_lock:
        if _runner is not None and _runner.is_alive():
            return  # it claims the new rescan when it is done with the current one
        _runner = threading.Thread(target=_run_in_thread, name="lexicon-rescan", daemon=True)
        _runner.start()


def _run_in_thread() -> None:
    close_old_connections()
    try:
        run_pending()
    except Exception:  # pragma: no cover - logged; rescan_live can run it again
        logger.exception("lexicon rescan failed")
    finally:
        connection.close()


def claim_next() -> LexiconRescan | None:
    stale = timezone.now() - STALE_AFTER
    claimable = (Q(status=LexiconRescan.Status.PENDING)
                 | Q(status=LexiconRescan.Status.RUNNING, started_at__lt=stale))
    for rescan in LexiconRescan.objects.filter(claimable).order_by("requested_at", "pk"):
        claimed = LexiconRescan.objects.filter(claimable, pk=rescan.pk).update(
            status=LexiconRescan.Status.RUNNING, started_at=timezone.now())
        if claimed:
            rescan.refresh_from_db()
            return rescan
    return None


def run_pending(*, progress: Progress | None = None) -> list[LexiconRescan]:
    done = []
    while (rescan := claim_next()) is not None:
        try:
            run(rescan, progress=progress)
        except Exception as error:
            LexiconRescan.objects.filter(pk=rescan.pk).update(
                status=LexiconRescan.Status.FAILED, error=repr(error)[:2000],
                finished_at=timezone.now())
            raise
        done.append(rescan)
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
                 if f.kind == "sensitive_word"]
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
