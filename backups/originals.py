"""Originals: every uploaded file is stored first in a write-once, content-addressed store
with a manifest row, so that replacing a document's file or deleting the document (Wagtail
deletes the file in both cases) never loses it. Published revisions are kept as long.

Every upload path — the admin's single and multiple upload, API v3, scripts — saves the
document or image model, so capturing on its ``post_save`` covers them all.
"""

import datetime
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import ModelLogEntry, PageLogEntry, Revision

from backups.fetch import Limits, fetch
from backups.models import Original, Retained, operator_name
from backups.retention import retain_until, retention_days
from backups.store import sha256_of
from backups.stores import store


def captured_models() -> list:
    return [get_document_model(), get_image_model()]


def capture(*, file_field, owner, category: str = "", source: str = Original.Source.UPLOAD,
            source_url: str = "", operator=None) -> Original:
    """Store ``file_field``'s bytes as an original of ``owner`` (once per content)."""
    now = timezone.now()
    with file_field.open("rb") as handle:
        sha256, size = store().put(handle, retain_until=retain_until(now, category=category))
    object_type = ContentType.objects.get_for_model(owner)
    original, _ = Original.objects.get_or_create(
        sha256=sha256, object_type=object_type, object_id=str(owner.pk),
        defaults={
            "size": size, "filename": Path(file_field.name).name,
            "content_type": getattr(getattr(file_field, "file", None), "content_type", "")
            or "",
            "source": source, "source_url": source_url, "operator": operator_name(operator),
            "category": category, "created_at": now,
            "retain_until": retain_until(now, category=category),
        })
    return original


def _already_kept(instance) -> bool:
    """The file ``instance`` has now is kept as its original already. A file name alone does
    not tell: storage reuses the name of a file deleted when it was replaced, so a later
    replacement may carry an earlier one's name with other bytes (which readers may be
    served, by their hash, once a leader signs them)."""
    rows = Original.objects.filter(object_type=ContentType.objects.get_for_model(instance),
                                   object_id=str(instance.pk),
                                   filename=Path(instance.file.name).name)
    try:
        size = instance.file.size
    except OSError:
        return rows.exists()
    digests = {row.sha256 for row in rows if row.size == size}
    if not digests:
        return False
    with instance.file.open("rb") as handle:
        return sha256_of(handle) in digests


def capture_on_save(sender, instance, raw=False, **kwargs) -> None:
    """Receiver: a document or image was saved with a file."""
    if raw or not instance.file:
        return
    if _already_kept(instance):
        return  # saved again without a new file (a title edit): nothing new to keep
    user = getattr(instance, "uploaded_by_user", None)
    source, source_url = getattr(instance, "original_source", (Original.Source.UPLOAD, ""))
    capture(file_field=instance.file, owner=instance, operator=user, source=source,
            source_url=source_url)


@dataclass
class Pruned:
    rows: list[Original]
    removed_files: list[str]  # digests whose bytes were removed (no other row uses them)

    @property
    def size(self) -> int:
        sizes = {row.sha256: row.size for row in self.rows}
        return sum(sizes[digest] for digest in self.removed_files)


def prune_expired(*, now: datetime.datetime | None = None, dry_run: bool = False) -> Pruned:
    """Remove originals whose retention has passed and which are not under legal hold: their
    manifest rows, and their bytes where no row still needs them. Each content goes in its
    own transaction, the bytes last, so a refused removal leaves the rows in place."""
    now = now or timezone.now()
    expired = list(Original.objects.expired(now=now).order_by("sha256", "pk"))
    rows_by_digest: dict[str, list[Original]] = {}
    for row in expired:
        rows_by_digest.setdefault(row.sha256, []).append(row)
    digests = list(rows_by_digest)
    still_needed = set(Original.objects.filter(sha256__in=digests)
                       .filter(Q(retain_until__gt=now) | Q(legal_hold=True))
                       .values_list("sha256", flat=True))
    removable = [digest for digest in digests if digest not in still_needed]
    if dry_run:
        return Pruned(expired, removable)
    for digest in digests:
        with transaction.atomic():
            for row in rows_by_digest[digest]:
                row.delete()
            if digest in removable:
                store().remove(digest)
    return Pruned(expired, removable)


def refuse_early_deletion(sender, instance, **kwargs) -> None:
    """Receiver for every deletion: a published revision younger than the retention stays
    (Wagtail's purge_revisions skips it, as it skips protected ones)."""
    if sender is not Revision:
        return
    keep_from = timezone.now() - timezone.timedelta(days=retention_days())
    if instance.created_at >= keep_from and was_published(instance):
        raise Retained(f"已发布的版本（#{instance.pk}）须保存 {retention_days()} 天，"
                       "不能删除。", [instance])


def was_published(revision) -> bool:
    return (PageLogEntry.objects.filter(revision=revision, action="wagtail.publish").exists()
            or ModelLogEntry.objects.filter(revision=revision,
                                            action="wagtail.publish").exists())


def originals_of(obj) -> list[Original]:
    return list(Original.objects.filter(object_type=ContentType.objects.get_for_model(obj),
                                        object_id=str(obj.pk)))



def fetch_limits():
    """``BACKUPS_FETCH_TIMEOUT`` (seconds per read), ``BACKUPS_FETCH_DEADLINE`` (seconds in
    all), ``BACKUPS_FETCH_MAX_BYTES``, ``BACKUPS_FETCH_ALLOW_PRIVATE`` (intranet sources)."""
    default = Limits()
    return Limits(
        timeout=getattr(settings, "BACKUPS_FETCH_TIMEOUT", default.timeout),
        deadline=getattr(settings, "BACKUPS_FETCH_DEADLINE", default.deadline),
        max_bytes=getattr(settings, "BACKUPS_FETCH_MAX_BYTES", default.max_bytes),
        allow_private=getattr(settings, "BACKUPS_FETCH_ALLOW_PRIVATE", default.allow_private))


def add_document_from_source(*, url: str, title: str, collection, user, uploaded=None,
                             limits=None):
    """A document whose original records where it came from: ``uploaded`` (a file someone
    saved from ``url``), or else the bytes fetched from ``url`` within ``limits``."""
    fetched = None
    if uploaded is None:
        fetched = fetch(url, limits=limits or fetch_limits())
        uploaded = File(fetched.file, name=fetched.filename)
    try:
        document = get_document_model()(title=title, collection=collection,
                                         uploaded_by_user=user, file=uploaded)
        document.original_source = (Original.Source.URL, fetched.url if fetched else url)
        document._set_document_file_metadata()
        with transaction.atomic():
            document.save()
        return document
    finally:
        if fetched is not None:
            fetched.file.close()
