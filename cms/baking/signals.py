"""Publication events → background re-rendering and API cache invalidation.

Wagtail sends ``page_published`` / ``page_unpublished`` for every path: the workflow's signed
approval, scheduled go-live and expiry (``publish_scheduled`` goes through
``Revision.publish`` and ``unpublish``), emergency takedowns, a column's approved removal (one
unpublish per page) and restorations. Moves send ``post_page_move``. Receivers only collect
ids; once the transaction commits, one task bakes them all (a column removal taking down fifty
pages is one job, not fifty).
"""

import logging

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django_tasks import task
from wagtail import signals
from wagtail.models import Page, Site

from cms.baking import audience
from cms.baking.api_cache import invalidate
from cms.baking.engine import bake_plan, register_seq
from cms.baking.plan import plan_listings
from cms.baking.tasks import bake_publication_events
from cms.jobs import outbox
from cms.resources.models import Resource
from cms.resources.public import listing_column_ids

logger = logging.getLogger(__name__)


class _Batch:
    """Events of one transaction, baked by one task once it commits. The task is recorded in
    the transaction (cms.jobs.outbox), so a process killed right after the commit loses no
    re-rendering: the scheduler enqueues what it recorded."""

    def __init__(self):
        self.page_ids: set[int] = set()
        self.site_ids: set[int] = set()
        self.listing_ids: set[int] = set()
        self.pending = None

    def calls(self) -> list:
        calls = []
        if self.page_ids or self.site_ids or not self.listing_ids:
            # The register's position as of this transaction (its own entries included):
            # the task skips files another task already rendered past it.
            calls.append((bake_publication_events, [sorted(self.page_ids),
                                                    sorted(self.site_ids), register_seq()]))
        if self.listing_ids:
            calls.append((bake_listings, [sorted(self.listing_ids)]))
        return calls

    def record(self) -> None:
        if getattr(settings, "BAKE_ON_PUBLICATION", True):
            self.pending = outbox.record(self.calls(), pending=self.pending)

    def __call__(self) -> None:
        invalidate()
        if self.pending is not None:
            outbox.dispatch(self.pending)


@task()
def bake_listings(column_ids: list[int]) -> dict:
    """Re-render these columns' listing pages (a resource listed there went live or down)."""
    try:
        report = bake_plan(plan=plan_listings(column_ids=column_ids))
    except Exception:
        logger.exception("静态化失败：栏目 %s", column_ids)
        raise
    return {"written": report.written, "unchanged": report.unchanged,
            "removed": report.removed}


def _queue(*, page_ids=(), site_ids=(), listing_ids=()) -> None:
    """Bake (and invalidate cached API reads) once the current transaction commits.

    Events within one savepoint join one batch (a column's approved removal: the column and
    every page under it, one task). Only a batch registered in the innermost savepoint, still
    open, is joined: Django drops the callbacks of a savepoint rolled back, and a batch
    registered further out may belong to an enclosing transaction that never commits (a
    test's, or a test module's shared build). Joining is an optimisation only: each batch
    bakes what its events affect."""
    connection = transaction.get_connection()
    current = set(connection.savepoint_ids)
    batch = next((func for sids, func, _ in reversed(connection.run_on_commit)
                  if isinstance(func, _Batch) and sids and sids == current), None)
    joined = batch is not None
    batch = batch or _Batch()
    batch.page_ids.update(page_ids)
    batch.site_ids.update(site_ids)
    batch.listing_ids.update(listing_ids)
    batch.record()
    if not joined:  # registered last: outside a transaction it runs at once, complete
        transaction.on_commit(batch, robust=True)


def queue_pages(*, page_ids) -> None:
    """Re-bake these pages once the transaction commits (cms.baking.audience: a view
    restriction changed above them)."""
    page_ids = list(page_ids)
    if page_ids:
        _queue(page_ids=page_ids)


def page_published(sender, instance, **kwargs) -> None:
    _queue(page_ids=[instance.pk])


def page_unpublished(sender, instance, **kwargs) -> None:
    _queue(page_ids=[instance.pk])


def page_moved(sender, instance, parent_page_before, parent_page_after, **kwargs) -> None:
    """A live page (or a page with live pages beneath) moved: its old files are stale under
    the old address, so both sites are rebuilt whole (and pruned). Moving drafts changes
    nothing public."""
    if not Page.objects.descendant_of(instance, inclusive=True).filter(live=True).exists():
        return
    sites = {parent.get_site() for parent in (parent_page_before, parent_page_after)}
    _queue(site_ids=[site.pk for site in sites if site is not None])


def queue_listings(*, column_ids) -> None:
    """Something listed on these columns without a page of its own (a teacher's public
    resource, cms.resources.public) went live or was taken down: re-render their listings."""
    column_ids = list(column_ids)
    if column_ids:
        _queue(listing_ids=column_ids)


def resource_publication_changed(sender, instance, **kwargs) -> None:
    """Wagtail's ``published``/``unpublished`` for a teacher's resource: re-render the listing
    of the column that lists it (cms.resources.public)."""
    queue_listings(column_ids=listing_column_ids(resource=instance))


def site_changed(sender, instance, **kwargs) -> None:
    transaction.on_commit(invalidate, robust=True)


def connect() -> None:
    """Connect the receivers (``BakingConfig.ready``)."""
    signals.page_published.connect(page_published, dispatch_uid="cms_baking_published")
    signals.page_unpublished.connect(page_unpublished, dispatch_uid="cms_baking_unpublished")
    signals.post_page_move.connect(page_moved, dispatch_uid="cms_baking_moved")
    # A public resource going live or taken down changes its column's public listing.
    signals.published.connect(resource_publication_changed, sender=Resource,
                              dispatch_uid="resources_listing_published")
    signals.unpublished.connect(resource_publication_changed, sender=Resource,
                                dispatch_uid="resources_listing_unpublished")
    post_save.connect(site_changed, sender=Site, dispatch_uid="cms_baking_site_saved")
    audience.connect()
    post_delete.connect(site_changed, sender=Site, dispatch_uid="cms_baking_site_deleted")
