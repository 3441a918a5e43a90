"""Workflow glue: the leader's signature at approval.

A passphrase key signs on the server, within the approval request. A WebAuthn key signs in
the leader's browser, so the approval is built first (``prepare_approval``), sent to the
browser to be signed, and checked on return against a fresh build from the same revision:
everything the leader signed must still be true when the signature is accepted.
"""

import json
from datetime import datetime, timedelta

from django.utils import timezone
from wagtail.log_actions import log
from wagtail.models import TaskState, WorkflowState

from review.exceptions import ApprovalError, Refused, SignatureRefused
from review.pipeline import signals
from review.pipeline.approvals import build_approval, sign_with_passphrase
from review.pipeline.passkeys import credential_for_assertion, sign_with_passkey
from review.pipeline.records import Approval, SigningCredential

# A WebAuthn approval must come back within this time of being prepared.
PREPARED_APPROVAL_TTL = timedelta(minutes=10)
# Fields fixed at preparation; every other field must equal a fresh build.
PREPARED_FIELDS = ("approved_at", "nonce")


def first_reviewer(*, workflow_state, revision):
    """Who passed ``revision`` at a person's step before the leader's: the earliest approval
    by a person of a task state over that very revision (an edit sends content back through
    the workflow, so whoever reviewed an earlier revision did not review this one)."""
    state = (workflow_state.task_states
             .filter(status=TaskState.STATUS_APPROVED, revision=revision)
             .exclude(finished_by=None).order_by("finished_at").first())
    return state.finished_by if state else None


def prepare_approval(*, task_state, user) -> tuple[dict, object]:
    """The approval ``user`` would sign now for this task state, and its revision."""
    workflow_state = task_state.workflow_state
    revision = workflow_state.content_object.get_latest_revision()
    payload = build_approval(revision=revision, operator=workflow_state.requested_by,
                             first_reviewer=first_reviewer(workflow_state=workflow_state,
                                                            revision=revision),
                             approver=user, submitted_at=workflow_state.created_at)
    return payload, revision


def prepared_approval_matches(*, prepared: dict, fresh: dict, now: datetime) -> str | None:
    """Why a browser-signed approval no longer matches the content, or None if it does."""
    if set(prepared) != set(fresh):
        return "签名内容的字段不完整。"
    changed = [key for key in fresh if key not in PREPARED_FIELDS and prepared[key] != fresh[key]]
    if changed:
        return "签名后内容已变化（" + "、".join(changed) + "），请重新审阅后签名。"
    try:
        prepared_at = datetime.fromisoformat(prepared["approved_at"].replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return "签名时间格式不正确。"
    if not now - PREPARED_APPROVAL_TTL <= prepared_at <= now + timedelta(seconds=30):
        return "签名已过期，请重新签名。"
    return None


class SignApprovalAction:
    """The leader's signed approval of the content at a leader-approval task (check → sign →
    ``log()`` → signal). Neither the submitter nor the first reviewer may give it: the task
    decides who may (``user_may_approve``). Only the workflow's current step, in progress,
    is signed at, and the approval is bound to it (review.pipeline.binding)."""

    def __init__(self, task_state, *, user, passphrase: str = "", approval_payload: str = "",
                 webauthn_assertion: str = "") -> None:
        self.task_state = task_state
        self.user = user
        self.passphrase = passphrase
        self.approval_payload = approval_payload
        self.webauthn_assertion = webauthn_assertion

    def check(self) -> None:
        workflow_state = self.task_state.workflow_state
        if (self.task_state.status != TaskState.STATUS_IN_PROGRESS
                or workflow_state.status != WorkflowState.STATUS_IN_PROGRESS
                or workflow_state.current_task_state_id != self.task_state.pk):
            raise Refused("这一审批步骤已经结束，不能再签名。")
        task = self.task_state.task.specific
        may_approve = getattr(task, "user_may_approve", None)
        if may_approve is None or not may_approve(
                workflow_state=self.task_state.workflow_state, user=self.user):
            raise Refused("初审人、提交人不能给出领导审批。")

    def execute(self) -> Approval:
        self.check()
        payload, revision = prepare_approval(task_state=self.task_state, user=self.user)
        try:
            if self.webauthn_assertion:
                approval = _sign_with_passkey(user=self.user, fresh=payload, revision=revision,
                                              prepared_json=self.approval_payload,
                                              assertion=self.webauthn_assertion,
                                              task_state=self.task_state)
            else:
                approval = _sign_with_passphrase(user=self.user, payload=payload,
                                                 revision=revision, passphrase=self.passphrase,
                                                 task_state=self.task_state)
        except ApprovalError as error:
            raise SignatureRefused(str(error)) from error
        log(instance=self.task_state.workflow_state.content_object, action="review.signed",
            revision=revision, user=self.user,
            data={"key_id": approval.credential.key_id, "alg": approval.signature["alg"],
                  "content_sha256": approval.content_sha256})
        signals.approval_signed.send(sender=Approval, instance=approval, user=self.user)
        return approval


def _sign_with_passphrase(*, user, payload, revision, passphrase, task_state) -> Approval:
    credential = (SigningCredential.objects
                  .filter(user=user, kind=SigningCredential.Kind.PASSPHRASE, revoked_at=None)
                  .order_by("-created_at").first())
    if credential is None:
        raise ApprovalError("您还没有有效的口令密钥，请先在“签名凭证”中登记，或使用安全密钥签名。")
    if not passphrase:
        raise ApprovalError("请输入签名口令。")
    return sign_with_passphrase(credential=credential, passphrase=passphrase, payload=payload,
                                revision=revision, task_state=task_state)


def _sign_with_passkey(*, user, fresh, revision, prepared_json, assertion,
                       task_state) -> Approval:
    try:
        prepared = json.loads(prepared_json)
    except ValueError as error:
        raise ApprovalError("签名内容格式不正确。") from error
    if not isinstance(prepared, dict):
        raise ApprovalError("签名内容格式不正确。")
    if (reason := prepared_approval_matches(prepared=prepared, fresh=fresh,
                                            now=timezone.now())) is not None:
        raise ApprovalError(reason)
    if Approval.objects.filter(revision=revision, payload__nonce=prepared["nonce"]).exists():
        raise ApprovalError("这份签名已经用过。")
    credential = credential_for_assertion(user=user, assertion=assertion)
    return sign_with_passkey(credential=credential, payload=prepared, assertion=assertion,
                             revision=revision, task_state=task_state)
