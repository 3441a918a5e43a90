"""Originals: every uploaded file is stored first in a write-once, content-addressed store
with a manifest row, so that replacing a document's file or deleting the document (Wagtail
deletes the file in both cases) never loses it. Published revisions are kept as long.

Every upload path — the admin's single and multiple upload, API v3, scripts — saves the
document or image model, so capturing on its ``post_save`` covers them all.
"""

from functools import cache
from pathlib import Path

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from backups.models import Original, Retained, operator_name
from backups.retention import retain_until, retention_days
from backups.store import ContentStore


@cache
def _store(root: str) -> ContentStore:
    return ContentStore(root)


def store() -> ContentStore:
    return _store(str(getattr(settings, "BACKUPS_ORIGINALS_DIR", None)
                      or Path(settings.DATA_DIR) / "originals"))


def captured_models() -> list:
    from wagtail.documents import get_document_model
    from wagtail.images import get_image_model

    return [get_document_model(), get_image_model()]


def capture(*, file_field, owner, category: str = "", source: str = Original.Source.UPLOAD,
            source_url: str = "", operator=None) -> Original:
    """Store ``file_field``'s bytes as an original of ``owner`` (once per content)."""
    with file_field.open("rb") as handle:
        sha256, size = store().put(handle)
    object_type = ContentType.objects.get_for_model(owner)
    now = timezone.now()
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


def capture_on_save(sender, instance, raw=False, **kwargs) -> None:
    """Receiver: a document or image was saved with a file."""
    if raw or not instance.file:
        return
    if Original.objects.filter(object_type=ContentType.objects.get_for_model(instance),
                               object_id=str(instance.pk),
                               filename=Path(instance.file.name).name).exists():
        return  # saved again without a new file (a title edit): nothing new to keep
    user = getattr(instance, "uploaded_by_user", None)
    capture(file_field=instance.file, owner=instance, operator=user)


def refuse_early_deletion(sender, instance, **kwargs) -> None:
    """Receiver for every deletion: a published revision younger than the retention stays
    (Wagtail's purge_revisions skips it, as it skips protected ones)."""
    from wagtail.models import Revision

    if sender is not Revision:
        return
    keep_from = timezone.now() - timezone.timedelta(days=retention_days())
    if instance.created_at >= keep_from and was_published(instance):
        raise Retained(f"已发布的版本（#{instance.pk}）须保存 {retention_days()} 天，"
                       "不能删除。", [instance])


def was_published(revision) -> bool:
    from wagtail.models import ModelLogEntry, PageLogEntry

    return (PageLogEntry.objects.filter(revision=revision, action="wagtail.publish").exists()
            or ModelLogEntry.objects.filter(revision=revision,
                                            action="wagtail.publish").exists())


def originals_of(obj) -> list[Original]:
    return list(Original.objects.filter(object_type=ContentType.objects.get_for_model(obj),
                                        object_id=str(obj.pk)))

