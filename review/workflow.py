"""Workflow glue: the leader's signature at approval."""

from django.core.exceptions import PermissionDenied
from wagtail.log_actions import log
from wagtail.models import TaskState

from review.approvals import ApprovalError, build_approval, sign_with_passphrase
from review.models import Approval, SigningCredential


class SignatureRefused(PermissionDenied):
    """The leader's signature could not be made or did not verify; nothing was approved."""


def first_reviewer(workflow_state):
    state = (workflow_state.task_states.filter(status=TaskState.STATUS_APPROVED)
             .exclude(finished_by=None).order_by("finished_at").first())
    return state.finished_by if state else None


def sign_approval(*, task_state, user, passphrase: str) -> Approval:
    workflow_state = task_state.workflow_state
    revision = workflow_state.content_object.get_latest_revision()
    credential = (SigningCredential.objects
                  .filter(user=user, kind=SigningCredential.Kind.PASSPHRASE, revoked_at=None)
                  .order_by("-created_at").first())
    if credential is None:
        raise SignatureRefused("您还没有有效的签名凭证，请先在“签名凭证”中登记。")
    payload = build_approval(revision=revision, operator=workflow_state.requested_by,
                             first_reviewer=first_reviewer(workflow_state), approver=user,
                             submitted_at=workflow_state.created_at)
    try:
        approval = sign_with_passphrase(credential=credential, passphrase=passphrase,
                                        payload=payload, revision=revision)
    except ApprovalError as error:
        raise SignatureRefused(str(error)) from error
    log(instance=workflow_state.content_object, action="review.signed", revision=revision,
        user=user, data={"key_id": credential.key_id, "alg": approval.signature["alg"],
                         "content_sha256": approval.content_sha256})
    return approval
