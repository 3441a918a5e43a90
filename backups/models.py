"""The originals' manifest: one row per file as it was first stored, kept unaltered until its
retention expires (and while a legal hold is on). Generic: nothing here knows cms/ or review/."""

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Max
from django.utils import timezone

from backups.exceptions import Retained
from backups.stores import store


class OriginalQuerySet(models.QuerySet):
    def update(self, **kwargs):
        if set(kwargs) - {"legal_hold", "retain_until"}:
            raise Retained("原件登记不能修改。")
        if "retain_until" in kwargs and self.filter(
                retain_until__gt=kwargs["retain_until"]).exists():
            raise Retained("原件保存期限只能延长，不能缩短。")
        digests = set(self.values_list("sha256", flat=True))
        updated = super().update(**kwargs)
        for digest in digests:
            sync_lock(digest)
        return updated

    def delete(self):
        for original in self:
            original.delete()
        return len(self), {}

    def expired(self, *, now=None):
        return self.filter(retain_until__lte=now or timezone.now(), legal_hold=False)


class Original(models.Model):
    class Source(models.TextChoices):
        UPLOAD = "upload", "上传"
        IMPORT = "import", "导入"
        URL = "url", "网络采集"

    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveBigIntegerField()
    filename = models.CharField(max_length=255)
    content_type = models.CharField("文件类型", max_length=255, blank=True)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.UPLOAD)
    source_url = models.URLField(max_length=2000, blank=True)
    operator = models.CharField("操作人", max_length=150, blank=True)
    # The object the file was stored for (a document, an image), kept as plain values: the
    # object may be deleted; its original may not.
    object_type = models.ForeignKey(ContentType, null=True, on_delete=models.PROTECT,
                                    related_name="+")
    object_id = models.CharField(max_length=255, blank=True)
    category = models.CharField(max_length=50, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    retain_until = models.DateTimeField(db_index=True)
    legal_hold = models.BooleanField("司法保全", default=False)

    objects = OriginalQuerySet.as_manager()

    class Meta:
        verbose_name = "原件"
        verbose_name_plural = "原件"
        ordering = ["created_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["sha256", "object_type", "object_id"],
                                               name="one_original_per_object_and_content")]

    def __str__(self):
        return f"{self.filename} ({self.sha256[:12]}…)"

    def save(self, *args, **kwargs):
        existing = self.pk is not None
        if existing:
            self._refuse_changes()
        super().save(*args, **kwargs)
        if existing:  # a hold set or a retention extended reaches a locking store too
            sync_lock(self.sha256)

    @property
    def may_be_removed(self) -> bool:
        return not self.legal_hold and self.retain_until <= timezone.now()

    def _refuse_changes(self) -> None:
        stored = type(self).objects.get(pk=self.pk)
        mutable = {"legal_hold", "retain_until"}
        changed = [f.name for f in self._meta.concrete_fields if f.name not in mutable
                   and getattr(stored, f.attname) != getattr(self, f.attname)]
        if changed:
            raise Retained(f"原件登记不能修改（{', '.join(changed)}）。", [self])
        if self.retain_until < stored.retain_until:
            raise Retained("原件保存期限只能延长，不能缩短。", [self])

    def delete(self, *args, **kwargs):
        if not self.may_be_removed:
            raise Retained(f"原件“{self.filename}”须保存至 {self.retain_until:%Y-%m-%d}"
                           f"{'，且处于司法保全中' if self.legal_hold else ''}，不能删除。",
                           [self])
        return super().delete(*args, **kwargs)


def operator_name(user) -> str:
    return user.get_username() if user is not None else ""


def sync_lock(sha256: str) -> None:
    """Make the store keep ``sha256`` as long as the manifest says: until the latest
    ``retain_until`` of its rows, held while any of them is (no-ops on the local store)."""
    rows = Original.objects.filter(sha256=sha256)
    latest = rows.aggregate(latest=Max("retain_until"))["latest"]
    if latest is None:
        return
    store().keep_until(sha256, latest)
    store().set_legal_hold(sha256, on=rows.filter(legal_hold=True).exists())
