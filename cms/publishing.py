"""Driving the publishing pipeline from code: the demo and scripts use exactly the steps a
person takes in the admin (submit, first review, signed approval), never direct publishing.
Works for pages and for snippets with workflows alike."""

from wagtail.models import Page, TaskState, WorkflowState

from cms.exceptions import PipelineError


def fresh(obj):
    """``obj`` as stored now (the specific page, for pages)."""
    obj = type(obj)._default_manager.get(pk=obj.pk)
    return obj.specific if isinstance(obj, Page) else obj


def submit(page, *, user) -> WorkflowState:
    """Submit the object's latest revision to the workflow of its site (or reuse the one open;
    one returned for changes is resubmitted, which screens the content again)."""
    page = fresh(page)
    if page.latest_revision_id is None:
        page.save_revision(user=user)
    state = page.current_workflow_state
    if state is not None and state.status == WorkflowState.STATUS_NEEDS_CHANGES:
        state.resume(user)
        state.refresh_from_db()
    if state is not None:
        return state
    workflow = page.get_workflow()
    if workflow is None:
        raise PipelineError(f"“{page}”所在网站没有配置审批流程。")
    return workflow.start(page, user)


def act(page, *, user, action: str = "approve", **form_data) -> TaskState:
    """Take ``action`` on the object's current task as ``user`` (what the modal's button does)."""
    page = fresh(page)
    state = page.current_workflow_state
    if state is None or state.current_task_state is None:
        raise PipelineError(f"“{page}”没有待处理的审批。")
    task_state = state.current_task_state
    task = task_state.task.specific
    if action not in {name for name, *_ in task.get_actions(page, user)}:
        raise PipelineError(f"{user} 不能对“{page}”执行 {action}。")
    task.on_action(task_state, user, action, **form_data)
    task_state.refresh_from_db()
    return task_state


def publish_through_pipeline(page, *, submitter, reviewer, leader, passphrase: str,
                             reason: str = ""):
    """Submit, first-review and sign: the whole pipeline, as three different people.
    ``reason`` is the first reviewer's comment: the recorded reason for passing findings the
    screener left to people."""
    state = submit(page, user=submitter)
    act(page, user=reviewer, action="approve", comment=reason)
    act(page, user=leader, action="approve", comment="", passphrase=passphrase)
    state.refresh_from_db()
    if state.status != WorkflowState.STATUS_APPROVED:
        raise PipelineError(f"“{page}”未能完成审批。")
    # Usually live now; an approved removal of a column takes it down instead.
    return fresh(page)
