"""Whether a leader's approval still holds for the workflow it was given in.

The leader signs at their step of a workflow (a ``TaskState`` of ``LeaderApprovalTask``). The
signature may publish only what that workflow ended with: its step must be the one the
workflow finished on, approved, over the revision it signed. A workflow that was rejected,
cancelled or restarted after the signature (an edit sends the content back through the whole
workflow, WAGTAIL_WORKFLOW_REQUIRE_REAPPROVAL_ON_EDIT) leaves the signature unused, and void.

An approval signed outside any workflow (a script holding the leader's key; the demo's
bootstrap) is bound to nothing but its revision and its hash.

``binding_refusal`` is plain logic over the stored values; ``approval_binding_refusal`` reads
them from an approval (whose ``task_state__workflow_state`` should be selected with it). The
guard asks it at every publication; ``VoidApprovalsAction`` (review.pipeline.actions) also
marks such approvals void, logged, as soon as their workflow is rejected, cancelled or
restarted, so that people see it in the history and a void approval stays void.
"""

from wagtail.models import TaskState, WorkflowState

VOID = "该版本的领导签名已作废（{reason}），须重新提交审批、由领导重新签名。"


def binding_refusal(*, signed_revision_id: int, task_state_id: int | None,
                    task_state_status: str | None, task_state_revision_id: int | None,
                    workflow_status: str | None,
                    workflow_current_task_state_id: int | None) -> str | None:
    """Why an approval signed at task state ``task_state_id`` no longer holds, or None."""
    if task_state_id is None:
        return None
    if workflow_status == WorkflowState.STATUS_CANCELLED:
        return "签名所在的审批流程已取消"
    if workflow_status == WorkflowState.STATUS_NEEDS_CHANGES:
        return "签名所在的审批流程已被退回修改"
    if workflow_status != WorkflowState.STATUS_APPROVED:
        return "签名之后审批流程重新开始，尚未完成"
    if (workflow_current_task_state_id != task_state_id
            or task_state_status != TaskState.STATUS_APPROVED):
        return "签名之后审批流程重新开始过，不是以这次签名完成的"
    if task_state_revision_id != signed_revision_id:
        return "所签名的版本不是该审批步骤审阅的版本"
    return None


def approval_binding_refusal(approval) -> str | None:
    """``binding_refusal`` for a stored approval; once voided, it stays void."""
    if approval.voided_at is not None:
        return approval.void_reason or "签名所在的审批流程没有以这次签名完成"
    task_state = approval.task_state
    if task_state is None:
        return binding_refusal(signed_revision_id=approval.revision_id, task_state_id=None,
                               task_state_status=None, task_state_revision_id=None,
                               workflow_status=None, workflow_current_task_state_id=None)
    workflow_state = task_state.workflow_state
    return binding_refusal(
        signed_revision_id=approval.revision_id, task_state_id=task_state.pk,
        task_state_status=task_state.status, task_state_revision_id=task_state.revision_id,
        workflow_status=workflow_state.status,
        workflow_current_task_state_id=workflow_state.current_task_state_id)
