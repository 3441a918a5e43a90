"""What a workflow step led to, in the words the person who took it should read.

Wagtail's views confirm every step the same way ("submitted for moderation", "has been
updated"), whatever the workflow then did: a submission the screening returned at once reads
as submitted, a first review as an edit, a signature as nothing. The state the workflow is in
after the step is what happened, so the message is read from it (``outcome``) and shown in
place of Wagtail's (``announce``)."""

from dataclasses import dataclass

from django.contrib import messages
from django.utils import timezone
from django.utils.html import escape
from wagtail.models import TaskState, WorkflowState

from review.pipeline.tasks import (
    FirstReviewTask,
    LeaderApprovalTask,
    ScreeningTask,
    ScreeningTaskState,
)
from review.register.entries import base_content_type
from review.register.models import RegisterEntry
from review.screening.findings import blocking, summarise


@dataclass(frozen=True, kw_only=True)
class Outcome:
    level: int  # django.contrib.messages level
    text: str


def _title(obj) -> str:
    title = obj.get_admin_display_title() if hasattr(obj, "get_admin_display_title") else obj
    return f"《{title}》"


def _latest_entry(obj) -> RegisterEntry | None:
    return (RegisterEntry.objects
            .filter(content_type=base_content_type(obj), object_id=str(obj.pk))
            .order_by("-seq").first())


def outcome(obj, *, workflow_state: WorkflowState | None) -> Outcome | None:
    """What ``obj``'s workflow has just done, or None when it is in no state worth saying.

    ``workflow_state`` is the object's latest workflow state (read after the step)."""
    if workflow_state is None:
        return None
    title = _title(obj)
    state = workflow_state.current_task_state
    task = state.task.specific if state is not None else None
    if workflow_state.status == WorkflowState.STATUS_NEEDS_CHANGES and state is not None:
        if isinstance(task, ScreeningTask):
            findings = blocking(ScreeningTaskState.objects.get(pk=state.pk).finding_records())
            return Outcome(level=messages.ERROR, text=(
                f"{title}未通过自动内容检查，已退回给作者，没有提交审核："
                f"{summarise(findings)}。请按编辑页“内容检查”面板中的提示修改后重新提交。"))
        return Outcome(level=messages.WARNING,
                       text=f"{title}已退回修改，退回意见已通知作者。")
    if workflow_state.status == WorkflowState.STATUS_IN_PROGRESS and task is not None:
        if isinstance(task, LeaderApprovalTask):
            passed_first = workflow_state.task_states.filter(
                status=TaskState.STATUS_APPROVED,
                task__in=FirstReviewTask.objects.all()).exists()
            prefix = "已通过初审，" if passed_first else "已通过自动检查，"
            return Outcome(level=messages.SUCCESS,
                           text=f"{title}{prefix}已提交领导审批。")
        if isinstance(task, FirstReviewTask):
            return Outcome(level=messages.SUCCESS,
                           text=f"{title}已通过自动检查，已提交网站管理员初审。")
        return Outcome(level=messages.SUCCESS, text=f"{title}已提交，正在“{task.name}”。")
    if workflow_state.status == WorkflowState.STATUS_APPROVED:
        entry = _latest_entry(obj)
        live_revision = getattr(obj, "live_revision_id", None)
        if entry is not None and entry.revision_id == live_revision and getattr(obj, "live",
                                                                                 True):
            return Outcome(level=messages.SUCCESS,
                           text=f"{title}已签名发布，登记第 {entry.seq} 号。")
        latest = obj.get_latest_revision() if hasattr(obj, "get_latest_revision") else None
        go_live = getattr(latest, "approved_go_live_at", None) if latest else None
        if go_live is not None:
            when = timezone.localtime(go_live).strftime("%Y-%m-%d %H:%M:%S")
            return Outcome(level=messages.SUCCESS,
                           text=f"{title}已签名批准，将于 {when} 定时发布。")
        return Outcome(level=messages.SUCCESS, text=f"{title}已签名批准。")
    return None


def latest_workflow_state(obj) -> WorkflowState | None:
    return (WorkflowState.objects.for_instance(obj).select_related("current_task_state")
            .order_by("-created_at", "-pk").first())


def announce(request, obj, *, replacing: tuple[str, ...] = ()) -> Outcome | None:
    """Show ``obj``'s workflow outcome as this request's message, dropping the messages whose
    text contains one of ``replacing`` (Wagtail's own confirmations of the same step).

    Messages are read through the storage's public iteration, which marks them shown; the
    ones kept are added again, so they are still shown on the next page."""
    result = outcome(obj, workflow_state=latest_workflow_state(obj))
    if result is None:
        return None
    if replacing:
        storage = messages.get_messages(request)
        # Wagtail escapes the title when it renders a message with buttons.
        texts = [text for text in replacing if text] + [escape(t) for t in replacing if t]
        kept = [message for message in storage
                if not any(text in str(message.message) for text in texts)]
        for message in kept:
            messages.add_message(request, message.level, message.message,
                                 extra_tags=message.extra_tags)
    messages.add_message(request, result.level, result.text)
    return result
