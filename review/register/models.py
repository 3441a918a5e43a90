"""The register's records: the chained publication register, its head, and its signed
checkpoints. Rows are appended, never changed.

Generic over any Wagtail page or snippet with revisions; nothing here knows the cms models.
"""

from django.contrib.contenttypes.models import ContentType
from django.db import models

from review.canonical import entry_hash
from review.exceptions import AppendOnlyError


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model._meta.verbose_name}不可修改。")

    def delete(self):
        raise AppendOnlyError(f"{self.model._meta.verbose_name}不可删除。")


class AppendOnlyModel(models.Model):
    """Rows are inserted once and never updated or deleted through the ORM (on PostgreSQL a
    trigger refuses UPDATE and DELETE too; see migrations)."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"{self._meta.verbose_name}不可修改。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{self._meta.verbose_name}不可删除。")


class RegisterEntry(AppendOnlyModel):
    """One line of the publication register (发布登记), chained to the one before.

    ``entry`` is exactly the stored entry: ``{seq, kind, approval, signature, published_at,
    published_by, prev_hash}``; the other columns index it for lookups.
    """

    class Kind(models.TextChoices):
        PUBLICATION = "publication", "发布"
        TAKEDOWN = "takedown", "紧急撤稿"
        # Signed content put back after it was changed behind the CMS's back (check-live).
        RESTORATION = "restoration", "恢复"

    seq = models.PositiveBigIntegerField(unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    entry = models.JSONField()
    entry_hash = models.CharField(max_length=64, unique=True)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=255)
    revision = models.ForeignKey("wagtailcore.Revision", null=True, on_delete=models.PROTECT,
                                 related_name="+")
    content_sha256 = models.CharField(max_length=64, blank=True)
    approval_record = models.OneToOneField("review.Approval", null=True, on_delete=models.PROTECT,
                                           related_name="register_entry")
    published_at = models.DateTimeField()

    class Meta:
        verbose_name = "发布登记"
        verbose_name_plural = "发布登记"
        ordering = ["seq"]
        indexes = [models.Index(fields=["content_type", "object_id", "seq"]),
                   # Site health reads the newest publications first and stops early
                   # (review.health.sources.network_dates), from the index alone.
                   models.Index(fields=["content_type", "kind", "published_at", "object_id"],
                                name="register_published_object")]

    def __str__(self):
        return f"#{self.seq} {self.get_kind_display()}"

    def save(self, *args, **kwargs):
        if entry_hash(self.entry) != self.entry_hash:
            raise ValueError("entry_hash does not match entry")
        super().save(*args, **kwargs)


class CheckpointBase(AppendOnlyModel):
    """A signed statement of a chained log's Merkle tree: its size and root hash, as a C2SP
    signed note made with the log key (never a leader's key). Checkpoints are meant to leave
    the system — e-mailed, printed, kept on write-once storage — so that a rewrite of the
    database cannot go unnoticed. Each log keeps its checkpoints in a table of its own (see
    ``review.register.chain``)."""

    size = models.PositiveBigIntegerField()
    root_hash = models.CharField(max_length=64)
    origin = models.CharField(max_length=255)
    note = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["size", "pk"]

    def __str__(self):
        return f"checkpoint {self.size} {self.root_hash[:16]}…"


class Checkpoint(CheckpointBase):
    """A checkpoint of the publication register."""

    class Meta(CheckpointBase.Meta):
        verbose_name = "登记检查点"
        verbose_name_plural = "登记检查点"


class RegisterHead(models.Model):
    """The chain's head in one row: appending locks it (SELECT … FOR UPDATE), so concurrent
    publications on several application servers queue up instead of forking the chain."""

    seq = models.PositiveBigIntegerField(default=0)
    entry_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self):
        return f"head #{self.seq}"


class SecurityEvent(AppendOnlyModel):
    """One line of the security audit log (安全审计日志, 等保 8.1.4.3), chained to the one
    before like the publication register: ``entry`` is exactly ``{seq, at, event, outcome,
    actor, subject, address, data, prev_hash}``; the other columns index it.

    Actor and subject are kept as names, not foreign keys: the log outlives the accounts.
    """

    class Outcome(models.TextChoices):
        SUCCESS = "success", "成功"
        FAILURE = "failure", "失败"

    seq = models.PositiveBigIntegerField(unique=True)
    at = models.DateTimeField(db_index=True)
    event = models.CharField(max_length=48, db_index=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    actor = models.CharField(max_length=150, blank=True, db_index=True)
    subject = models.CharField(max_length=255, blank=True)
    address = models.CharField(max_length=64, blank=True)
    entry = models.JSONField()
    entry_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = "安全审计日志"
        verbose_name_plural = "安全审计日志"
        ordering = ["seq"]
        # Only "view" (review.view_securityevent: the admin's 安全审计日志 report): rows are
        # appended by record_security_event, never added, changed or deleted by anyone.
        default_permissions = ("view",)

    def __str__(self):
        return f"#{self.seq} {self.event} {self.actor}"

    def save(self, *args, **kwargs):
        if entry_hash(self.entry) != self.entry_hash:
            raise ValueError("entry_hash does not match entry")
        super().save(*args, **kwargs)


class SecurityLogHead(models.Model):
    """The security log's head row, locked while appending (as ``RegisterHead``)."""

    seq = models.PositiveBigIntegerField(default=0)
    entry_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self):
        return f"security head #{self.seq}"


class SecurityCheckpoint(CheckpointBase):
    """A checkpoint of the security audit log, signed with the same log key as the register's
    under the security log's own origin (``REVIEW_SECURITY_LOG_ORIGIN``)."""

    class Meta(CheckpointBase.Meta):
        verbose_name = "安全审计日志检查点"
        verbose_name_plural = "安全审计日志检查点"
