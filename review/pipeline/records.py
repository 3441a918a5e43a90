"""The pipeline's records: leaders' signing credentials, their signed approvals, and the
leaders' acknowledgements of emergency takedowns.

Generic over any Wagtail page or snippet with revisions; nothing here knows the cms models.
The logic modules of the pipeline (approvals, passkeys, the signing at approval) import these
records from here, not from ``review.pipeline.models``, which also re-exports the workflow
tasks that call that logic.
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models

from review.register.models import RegisterEntry


class SigningCredential(models.Model):
    """A leader's means of signing approvals. Never deleted; revoked instead."""

    class Kind(models.TextChoices):
        WEBAUTHN = "webauthn", "安全密钥 / 通行密钥"
        PASSPHRASE = "passphrase", "口令密钥"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="signing_credentials")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField("名称", max_length=100, blank=True)
    algorithm = models.CharField(max_length=32)  # ed25519, webauthn-es256, webauthn-eddsa
    key_id = models.CharField(max_length=64, unique=True)
    public_key_der = models.BinaryField()
    sealed_key = models.JSONField(null=True, blank=True)  # passphrase kind: review.keys.SealedKey
    credential_id = models.BinaryField(null=True, blank=True)  # WebAuthn
    sign_count = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "签名凭证"
        verbose_name_plural = "签名凭证"

    def __str__(self):
        return f"{self.get_kind_display()} {self.key_id[:12]}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Approval(models.Model):
    """A leader's signed approval of one revision: what may go live, and nothing else — and
    only if the workflow it was given in finished with it (``task_state``)."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=255)
    revision = models.ForeignKey("wagtailcore.Revision", on_delete=models.PROTECT,
                                 related_name="+")
    content_sha256 = models.CharField(max_length=64, db_index=True)
    payload = models.JSONField()  # the signed approval object
    signature = models.JSONField()  # {alg, key_id, value, [authenticator_data, client_data_json]}
    credential = models.ForeignKey(SigningCredential, on_delete=models.PROTECT,
                                   related_name="approvals")
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+")
    # The leader's step of the workflow the approval was given at: it publishes only what
    # that workflow finished with (review.pipeline.binding). None: signed outside a workflow.
    task_state = models.ForeignKey("wagtailcore.TaskState", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+",
                                   verbose_name="签名时的审批步骤")
    # Set once, when the workflow it was given in ends or restarts without it (rejected,
    # cancelled, sent back through the workflow): it never publishes anything after that.
    voided_at = models.DateTimeField("作废时间", null=True, blank=True)
    void_reason = models.CharField("作废原因", max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "领导审批签名"
        verbose_name_plural = "领导审批签名"
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self):
        return f"{self.payload.get('title')} · {self.approver}"


class TakedownAcknowledgement(models.Model):
    """A leader's acknowledgement of an emergency takedown (the entry itself never changes)."""

    entry = models.OneToOneField(RegisterEntry, on_delete=models.PROTECT,
                                 related_name="acknowledgement")
    leader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="+")
    note = models.TextField(blank=True)
    acknowledged_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "撤稿确认"
        verbose_name_plural = "撤稿确认"

    def __str__(self):
        return f"#{self.entry.seq} · {self.leader}"

