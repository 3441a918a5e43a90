"""Moderation as Wagtail ``Task`` subclasses: the automatic screening, the administrators'
first review, and the leader's approval, which is a signature over the exact revision."""

from django.db import models
from django.utils import timezone
from wagtail.forms import TaskStateCommentForm
from wagtail.log_actions import log
from wagtail.models import AbstractGroupApprovalTask, Task, TaskState

from review.exceptions import Refused
from review.pipeline.forms import (
    APPROVE_WITH_REASON,
    LeaderApprovalForm,
    OverrideReasonForm,
    RejectForm,
)
from review.pipeline.workflow import SignApprovalAction
from review.screening.findings import Finding, blocking, needing_reason, summarise
from review.screening.objects import screen


class ScreeningTaskState(TaskState):
    findings = models.JSONField(default=list, blank=True)  # [Finding.to_json()]

    class Meta:
        verbose_name = "自动检查记录"
        verbose_name_plural = "自动检查记录"

    def finding_records(self) -> list[Finding]:
        return [Finding.from_json(finding) for finding in self.findings]


class ScreeningTask(Task):
    """Automatic: runs the content screener on the submitted revision; a block-level finding
    sends the submission back to its author with the findings attached."""

    task_state_class = ScreeningTaskState

    class Meta:
        verbose_name = "自动内容检查"
        verbose_name_plural = "自动内容检查"

    @classmethod
    def get_description(cls):
        return "自动检查敏感词、学生个人信息、暗链和不安全代码；发现须拦截的问题时退回作者。"

    def start(self, workflow_state, user=None):
        task_state = super().start(workflow_state, user=user)
        findings = screen(task_state.revision.as_object())
        blocked = blocking(findings)
        task_state.findings = [finding.to_json() for finding in findings]
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
        return needing_reason(findings)

    def check_screening(self, task_state, *, user, comment: str) -> None:
        """Nothing with a blocking finding passes a review; findings left to people pass the
        first review only with a recorded reason. Screens what the next step would get — the
        latest revision (reviewers may have edited) — with the lexicon as it is now."""
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
                {"kind": f.kind, "rule": f.rule, "match": f.shown_match, "field": f.field}
                for f in pending]})

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


def screening_findings(*, workflow_state, revision=None) -> list[Finding]:
    """What the screener found in the workflow's content: the screening task's findings, or —
    when the content was edited after it ran (reviewers may edit) — a fresh screening of
    ``revision``."""
    if workflow_state is None:
        return []
    screening = (ScreeningTaskState.objects.filter(workflow_state=workflow_state)
                 .order_by("-started_at", "-pk").first())
    if revision is None and workflow_state.current_task_state is not None:
        revision = workflow_state.current_task_state.revision
    if screening is not None and (revision is None or screening.revision_id == revision.pk):
        return screening.finding_records()
    return screen(revision.as_object()) if revision is not None else []


class FirstReviewTask(ReviewTaskMixin, AbstractGroupApprovalTask):
    """网站管理员初审: the administrators' first review."""

    asks_override_reason = True

    class Meta:
        verbose_name = "网站管理员初审"
        verbose_name_plural = "网站管理员初审"

    @classmethod
    def get_description(cls):
        return "所选用户组（网站管理员）成员初审；不能初审本人提交的内容。"


class LeaderApprovalTask(ReviewTaskMixin, AbstractGroupApprovalTask):
    """领导审批: the leader's approval, which is a signature over the exact revision."""

    screens_on_approve = False  # screened in on_action, before the signature

    class Meta:
        verbose_name = "领导审批"
        verbose_name_plural = "领导审批"

    @classmethod
    def get_description(cls):
        return "所选用户组（领导）成员签名审批；初审人和提交人不能审批。"

    def excluded(self, workflow_state, user) -> bool:
        """The submitter, and whoever passed an earlier step (the first reviewer). A leader
        whose own signature sent the content back through the workflow (they edited it as
        they signed) signs again at the end."""
        if super().excluded(workflow_state, user):
            return True
        return (workflow_state.task_states.filter(status=TaskState.STATUS_APPROVED,
                                                  finished_by=user)
                .exclude(task__in=LeaderApprovalTask.objects.all()).exists())

    def approve_actions(self):
        return [("approve", "签名批准", True)]

    def get_form_for_action(self, action):
        return LeaderApprovalForm if action == "approve" else RejectForm

    def get_template_for_action(self, action):
        return "review/leader_approval_modal.html" if action == "approve" else ""

    def user_may_approve(self, *, workflow_state, user) -> bool:
        return self._user_in_groups(user) and not self.excluded(workflow_state, user)

    def on_action(self, task_state, user, action_name, **kwargs):
        if action_name == "approve":
            signing = SignApprovalAction(
                task_state, user=user, passphrase=kwargs.get("passphrase") or "",
                approval_payload=kwargs.get("approval_payload") or "",
                webauthn_assertion=kwargs.get("webauthn_assertion") or "")
            signing.check()
            # Before the signature: nothing blocked is ever signed.
            self.check_screening(task_state, user=user, comment=kwargs.get("comment") or "")
            signing.execute()
        for signing_field in ("passphrase", "approval_payload", "webauthn_assertion"):
            kwargs.pop(signing_field, None)
        return super().on_action(task_state, user, action_name, **kwargs)
