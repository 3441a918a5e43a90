"""The compliance engine's records: signing credentials, signed approvals, the register.

Generic over any Wagtail page or snippet with revisions; nothing here knows the cms models.
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models

from review.canonical import entry_hash


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

    def __str__(self):
        return f"{self.get_kind_display()} {self.key_id[:12]}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Approval(models.Model):
    """A leader's signed approval of one revision: what may go live, and nothing else."""

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
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "领导审批签名"
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self):
        return f"{self.payload.get('title')} · {self.approver}"


class AppendOnlyError(Exception):
    """Register entries and checkpoints are never changed or removed."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("发布登记不可修改。")

    def delete(self):
        raise AppendOnlyError("发布登记不可删除。")


class AppendOnlyModel(models.Model):
    """Rows are inserted once and never updated or deleted through the ORM (on PostgreSQL a
    trigger refuses UPDATE and DELETE too; see migrations)."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("发布登记不可修改。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("发布登记不可删除。")


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
    approval_record = models.OneToOneField(Approval, null=True, on_delete=models.PROTECT,
                                           related_name="register_entry")
    published_at = models.DateTimeField()

    class Meta:
        verbose_name = "发布登记"
        ordering = ["seq"]
        indexes = [models.Index(fields=["content_type", "object_id", "seq"])]

    def __str__(self):
        return f"#{self.seq} {self.get_kind_display()}"

    def save(self, *args, **kwargs):
        if entry_hash(self.entry) != self.entry_hash:
            raise ValueError("entry_hash does not match entry")
        super().save(*args, **kwargs)


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

    def __str__(self):
        return f"#{self.entry.seq} · {self.leader}"


class Checkpoint(AppendOnlyModel):
    """A signed statement of the register's Merkle tree: its size and root hash, as a C2SP
    signed note made with the log key (never a leader's key). Checkpoints are meant to leave
    the system — e-mailed, printed, kept on write-once storage — so that a rewrite of the
    database cannot go unnoticed."""

    size = models.PositiveBigIntegerField()
    root_hash = models.CharField(max_length=64)
    origin = models.CharField(max_length=255)
    note = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "登记检查点"
        ordering = ["size", "pk"]

    def __str__(self):
        return f"checkpoint {self.size} {self.root_hash[:16]}…"


class RegisterHead(models.Model):
    """The chain's head in one row: appending locks it (SELECT … FOR UPDATE), so concurrent
    publications on several application servers queue up instead of forking the chain."""

    seq = models.PositiveBigIntegerField(default=0)
    entry_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self):
        return f"head #{self.seq}"


# --- Workflow tasks ------------------------------------------------------------------------

from django import forms  # noqa: E402
from django.utils import timezone  # noqa: E402
from wagtail.forms import TaskStateCommentForm  # noqa: E402
from wagtail.log_actions import log  # noqa: E402
from wagtail.models import AbstractGroupApprovalTask, Task, TaskState  # noqa: E402

from review.context import Refused  # noqa: E402


class ScreeningTaskState(TaskState):
    findings = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = "自动检查记录"


class ScreeningTask(Task):
    """Automatic: runs the content screener on the submitted revision; a block-level finding
    sends the submission back to its author with the findings attached."""

    task_state_class = ScreeningTaskState

    class Meta:
        verbose_name = "自动内容检查"

    @classmethod
    def get_description(cls):
        return "自动检查敏感词、学生个人信息、暗链和不安全代码；发现须拦截的问题时退回作者。"

    def start(self, workflow_state, user=None):
        from review.screening import blocking, screen

        task_state = super().start(workflow_state, user=user)
        findings = screen(task_state.revision.as_object())
        blocked = blocking(findings)
        task_state.findings = findings
        task_state.status = (TaskState.STATUS_REJECTED if blocked
                             else TaskState.STATUS_APPROVED)
        task_state.finished_at = timezone.now()
        task_state.comment = "自动检查未通过：" + summarise(blocked) if blocked else ""
        task_state.save()
        log(instance=workflow_state.content_object, action="review.screened",
            revision=task_state.revision, user=user,
            data={"findings": len(findings), "blocked": len(blocked)})
        return task_state

    def get_actions(self, obj, user):
        return []


class RejectForm(TaskStateCommentForm):
    comment = forms.CharField(
        label="退回意见", widget=forms.Textarea(attrs={"rows": 4}), required=True,
        help_text="退回必须说明原因，作者和此前的审核人都会收到。",
    )


class OverrideReasonForm(TaskStateCommentForm):
    comment = forms.CharField(
        label="通过理由", widget=forms.Textarea(attrs={"rows": 4}), required=True,
        help_text="自动检查提示了须人工复核的问题（见编辑页上方的列表）；说明为什么可以通过，"
                  "理由记入日志。",
    )


APPROVE_WITH_REASON = "approve_with_reason"


class ReviewTaskMixin:
    """Group review with separation of duties: members of the groups only (superusers too
    must be members), never on one's own submission."""

    def _user_in_groups(self, user):
        return user.is_active and self.groups.filter(id__in=user.groups.all()).exists()

    def excluded(self, workflow_state, user) -> bool:
        return workflow_state is None or workflow_state.requested_by_id == user.pk

    def user_can_access_editor(self, obj, user):
        return self._user_in_groups(user)

    def locked_for_user(self, obj, user):
        return not self._user_in_groups(user)

    # Whether passing findings the screener left to people ("review") needs a reason here.
    asks_override_reason = False
    # Whether on_action screens an approval (the leader's task does it before signing).
    screens_on_approve = True

    def get_actions(self, obj, user):
        workflow_state = obj.current_workflow_state
        if not self._user_in_groups(user) or self.excluded(workflow_state, user):
            return []
        if self.asks_override_reason and self._findings_needing_reason(
                screening_findings(workflow_state=workflow_state,
                                   revision=obj.get_latest_revision())):
            return [("reject", "退回修改", True), (APPROVE_WITH_REASON, "说明理由后通过", True)]
        return [("reject", "退回修改", True), *self.approve_actions()]

    def approve_actions(self):
        return [("approve", "通过", False), ("approve", "通过并附意见", True)]

    @staticmethod
    def _findings_needing_reason(findings):
        from review.screening import needing_reason

        return needing_reason(findings)

    def check_screening(self, task_state, *, user, comment: str) -> None:
        """Nothing with a blocking finding passes a review; findings left to people pass the
        first review only with a recorded reason. Screens what the next step would get — the
        latest revision (reviewers may have edited) — with the lexicon as it is now."""
        from review.screening import blocking, screen

        latest = task_state.workflow_state.content_object.get_latest_revision()
        findings = screen((latest or task_state.revision).as_object())
        blocked = blocking(findings)
        if blocked:
            raise Refused(f"内容含须拦截的问题（{summarise(blocked)}），"
                          "不能通过，请退回修改。")
        pending = self._findings_needing_reason(findings)
        if not (self.asks_override_reason and pending):
            return
        if not comment.strip():
            raise Refused(f"自动检查提示了 {len(pending)} 处须人工复核的问题"
                          f"（{summarise(pending)}），通过时须在意见中写明理由。")
        log(instance=task_state.workflow_state.content_object,
            action="review.screening_overridden", revision=latest or task_state.revision,
            user=user, data={"reason": comment.strip(), "findings": [
                {"kind": f.get("kind"), "rule": f.get("rule"), "match": shown_match(f),
                 "field": f.get("field")} for f in pending]})

    def get_task_states_user_can_moderate(self, user, **kwargs):
        if not self._user_in_groups(user):
            return TaskState.objects.none()
        return (self.task_states.filter(status=TaskState.STATUS_IN_PROGRESS)
                .exclude(workflow_state__requested_by=user))

    def get_form_for_action(self, action):
        if action == APPROVE_WITH_REASON:
            return OverrideReasonForm
        return RejectForm if action == "reject" else TaskStateCommentForm

    def on_action(self, task_state, user, action_name, **kwargs):
        if not self._user_in_groups(user) or self.excluded(task_state.workflow_state, user):
            raise Refused("不能审核本人提交的内容，或不在审核组中。")
        if action_name == APPROVE_WITH_REASON:
            action_name = "approve"
        if action_name == "reject" and not (kwargs.get("comment") or "").strip():
            raise Refused("退回必须填写意见。")
        if action_name == "approve" and self.screens_on_approve:
            self.check_screening(task_state, user=user, comment=kwargs.get("comment") or "")
        return super().on_action(task_state, user, action_name, **kwargs)


def shown_match(finding: dict) -> str:
    """What messages, comments and logs may repeat of a finding: personal numbers masked."""
    from review.pii import PERSONAL_NUMBER_KINDS, mask

    match = finding.get("match") or ""
    if finding.get("kind") in PERSONAL_NUMBER_KINDS:
        return mask(match)
    return match[:40]


def summarise(findings: list[dict], *, limit: int = 5) -> str:
    shown = "；".join(f"{f.get('rule') if f.get('kind') == 'sensitive_word' else f.get('kind')}"
                     f"“{shown_match(f)}”" for f in findings[:limit])
    return shown + (f" 等 {len(findings)} 处" if len(findings) > limit else "")


def screening_findings(*, workflow_state, revision=None) -> list[dict]:
    """What the screener found in the workflow's content: the screening task's findings, or —
    when the content was edited after it ran (reviewers may edit) — a fresh screening of
    ``revision``."""
    from review.screening import screen

    if workflow_state is None:
        return []
    screening = (ScreeningTaskState.objects.filter(workflow_state=workflow_state)
                 .order_by("-started_at", "-pk").first())
    if revision is None and workflow_state.current_task_state is not None:
        revision = workflow_state.current_task_state.revision
    if screening is not None and (revision is None or screening.revision_id == revision.pk):
        return screening.findings
    return screen(revision.as_object()) if revision is not None else []


class FirstReviewTask(ReviewTaskMixin, AbstractGroupApprovalTask):
    """网站管理员初审: the administrators' first review."""

    asks_override_reason = True

    class Meta:
        verbose_name = "网站管理员初审"

    @classmethod
    def get_description(cls):
        return "所选用户组（网站管理员）成员初审；不能初审本人提交的内容。"


class LeaderApprovalForm(TaskStateCommentForm):
    """Either the passphrase (the key signs on the server) or a WebAuthn assertion over the
    prepared approval (the key signs in the leader's browser; see review/static/review/)."""

    passphrase = forms.CharField(label="签名口令", widget=forms.PasswordInput, required=False,
                                 help_text="用您的签名口令对本次审批签名，签名即视为领导签字。")
    approval_payload = forms.CharField(widget=forms.HiddenInput, required=False)
    webauthn_assertion = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean(self):
        data = super().clean()
        if not data.get("passphrase") and not data.get("webauthn_assertion"):
            raise forms.ValidationError("请输入签名口令，或使用安全密钥签名。")
        if data.get("webauthn_assertion") and not data.get("approval_payload"):
            raise forms.ValidationError("缺少所签名的审批内容，请重新签名。")
        return data


class LeaderApprovalTask(ReviewTaskMixin, AbstractGroupApprovalTask):
    """领导审批: the leader's approval, which is a signature over the exact revision."""

    screens_on_approve = False  # screened in on_action, before the signature

    class Meta:
        verbose_name = "领导审批"

    @classmethod
    def get_description(cls):
        return "所选用户组（领导）成员签名审批；初审人和提交人不能审批。"

    def excluded(self, workflow_state, user) -> bool:
        if super().excluded(workflow_state, user):
            return True
        return workflow_state.task_states.filter(status=TaskState.STATUS_APPROVED,
                                                 finished_by=user).exists()

    def approve_actions(self):
        return [("approve", "签名批准", True)]

    def get_form_for_action(self, action):
        return LeaderApprovalForm if action == "approve" else RejectForm

    def get_template_for_action(self, action):
        return "review/leader_approval_modal.html" if action == "approve" else ""

    def on_action(self, task_state, user, action_name, **kwargs):
        if action_name == "approve":
            if not self._user_in_groups(user) or self.excluded(task_state.workflow_state, user):
                raise Refused("初审人、提交人不能给出领导审批。")
            # Before the signature: nothing blocked is ever signed.
            self.check_screening(task_state, user=user, comment=kwargs.get("comment") or "")
            from review.workflow import sign_approval

            sign_approval(task_state=task_state, user=user,
                          passphrase=kwargs.get("passphrase") or "",
                          approval_payload=kwargs.get("approval_payload") or "",
                          webauthn_assertion=kwargs.get("webauthn_assertion") or "")
        for signing_field in ("passphrase", "approval_payload", "webauthn_assertion"):
            kwargs.pop(signing_field, None)
        return super().on_action(task_state, user, action_name, **kwargs)


# --- Screening lexicon ---------------------------------------------------------------------

from simple_history.models import HistoricalRecords  # noqa: E402

from review.matching import SEVERITIES, TermError, check_term  # noqa: E402

CATEGORY_LABELS = {
    "gambling": "赌博", "pornography": "色情", "fraud": "诈骗", "drugs": "毒品",
    "spam": "垃圾广告", "education": "教育违规", "privacy": "个人信息", "political": "政治",
    "violence": "暴力", "other": "其他",
}


class Severity(models.TextChoices):
    BLOCK = "block", "拦截（退回作者）"
    REVIEW = "review", "人工复核（须说明理由才能通过）"
    WARN = "warn", "提示"


assert tuple(Severity.values) == SEVERITIES


def _validate_term(word: str) -> None:
    try:
        check_term(word)
    except TermError as error:
        raise ValidationError(str(error)) from error


class LexiconEntry(models.Model):
    """A sensitive word. Matched however it is disguised (review.folding); every change is
    kept (django-simple-history) and makes live content be rescanned."""

    word = models.CharField("词条", max_length=100, unique=True, validators=[_validate_term])
    category = models.CharField("类别", max_length=50, db_index=True,
                                help_text="如 gambling、pornography、fraud、education。")
    severity = models.CharField("处理级别", max_length=8, choices=Severity.choices,
                                default=Severity.BLOCK, db_index=True)
    note = models.CharField("备注", max_length=255, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(verbose_name="词库变更历史")

    class Meta:
        verbose_name = "敏感词"
        verbose_name_plural = "敏感词库"
        ordering = ["category", "word"]

    def __str__(self):
        return self.word

    @property
    def category_label(self) -> str:
        return CATEGORY_LABELS.get(self.category, self.category)


class AllowListEntry(models.Model):
    """A phrase that holds a sensitive word legitimately (反赌博, 严禁有偿补课): a match lying
    inside it is not reported."""

    word = models.CharField("允许短语", max_length=100, unique=True, validators=[_validate_term])
    note = models.CharField("备注", max_length=255, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(verbose_name="允许短语变更历史")

    class Meta:
        verbose_name = "允许短语"
        verbose_name_plural = "允许短语"
        ordering = ["word"]

    def __str__(self):
        return self.word


class LexiconRescan(models.Model):
    """A rescan of live content after the lexicon changed: queued by the change, run in the
    background (review.rescan), its results listed in the admin."""

    class Status(models.TextChoices):
        PENDING = "pending", "排队中"
        RUNNING = "running", "进行中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING,
                              db_index=True)
    reason = models.CharField(max_length=255, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    checked = models.PositiveIntegerField(default=0)
    # [{content_type, object_id, title, admin_url, findings: [finding dicts]}]
    matches = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = "词库变更复查"
        ordering = ["-requested_at", "-pk"]

    def __str__(self):
        return f"rescan {self.pk} {self.status}"
