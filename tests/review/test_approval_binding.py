"""An approval is bound to the workflow state it was made in (issue 17, finding 4).

The leader signs at the leader's step; when that step does not end the workflow — the leader
edited as they signed (an edit sends the content back through the whole workflow), the
workflow was rejected, cancelled or restarted — the signature is void: no path publishes
with it. The world is the lean one (tests/review/world.py)."""

import datetime
import json

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone
from wagtail.models import APIToken, Page, PageLogEntry, TaskState, WorkflowState

from review.exceptions import PublicationRefused, Refused
from review.models import Approval, RegisterEntry
from review.pipeline.binding import binding_refusal
from review.pipeline.workflow import SignApprovalAction
from review.register.models import SecurityEvent
from tests.conftest import act, make_user, task_state
from tests.review.world import PASSPHRASE


def bearer(user) -> dict:
    _, token = APIToken.create_token(user=user, name="t")
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def is_live(page) -> bool:
    return Page.objects.filter(pk=page.pk, live=True).exists()


def voided_in_history(page) -> int:
    return PageLogEntry.objects.filter(page_id=page.pk, action="review.approval_voided").count()


def step(page) -> str:
    return task_state(page).task.specific_class.__name__


def draftail(text: str) -> str:
    """The editor's form value of a rich text field holding one paragraph."""
    return json.dumps({"blocks": [{"key": "a", "text": text, "type": "unstyled", "depth": 0,
                                   "inlineStyleRanges": [], "entityRanges": []}],
                       "entityMap": {}})


def edit_form(page, **actions) -> dict:
    """The editor's form for ``page`` as stored now, with the action buttons pressed."""
    page = Page.objects.get(pk=page.pk).specific
    return {"title": page.title, "slug": page.slug, "body": draftail(page.title), **actions}


def leader_edits_and_signs(client, world, page, *, body: str) -> Approval:
    """The leader, at their step, edits the page in the editor and signs in the same go
    (the edit view's workflow action with the signing modal's data)."""
    signed = Approval.objects.count()
    client.force_login(world.users["leader"])
    response = client.post(reverse("wagtailadmin_pages:edit", args=[page.pk]), {
        "title": page.title, "slug": page.slug, "body": draftail(body),
        "action-workflow-action": "1", "workflow-action-name": "approve",
        "workflow-action-extra-data": json.dumps({"comment": "", "passphrase": PASSPHRASE}),
    })
    assert response.status_code in (200, 302)
    assert Approval.objects.count() == signed + 1
    return Approval.objects.latest("created_at")


def api_publish(client, world, page):
    publisher = make_user("editor_two", world.editors)
    return client.post(f"/api/v3/pages/{page.pk}/actions/publish/", {},
                       content_type="application/json", **bearer(publisher))


@pytest.fixture
def at_leader(client, world, pending):
    act(client, world.users["reviewer"], pending, "approve", {"comment": "内容属实"})
    assert step(pending) == "LeaderApprovalTask"
    return pending


def test_finding_4_leftover_signature_of_a_rejected_revision_publishes_nothing(
        client, world, at_leader):
    """Leader edits and signs → the workflow restarts at first review → the administrator
    rejects that revision → another editor publishes through API v3: refused."""
    approval = leader_edits_and_signs(client, world, at_leader, body="领导修改后的正文。")
    assert step(at_leader) == "FirstReviewTask"  # the edit sent it back through the workflow
    assert approval.revision_id == Page.objects.get(pk=at_leader.pk).latest_revision_id
    # Void from that moment, and people can see it: the page's history, the security log.
    assert approval.voided_at is not None and "重新开始" in approval.void_reason
    assert voided_in_history(at_leader) == 1
    assert SecurityEvent.objects.filter(event="approval_voided",
                                        entry__data__approval_id=approval.pk).exists()
    act(client, world.users["reviewer"], at_leader, "reject", {"comment": "领导改后有误"})
    assert WorkflowState.objects.get(object_id=str(at_leader.pk)).status == "needs_changes"
    entries = RegisterEntry.objects.count()
    response = api_publish(client, world, at_leader)
    assert response.status_code == 403, response.content
    assert "已作废" in refused_reason(response)
    assert not is_live(at_leader)
    assert RegisterEntry.objects.count() == entries
    assert voided_in_history(at_leader) == 1


def workflow_of(page) -> WorkflowState:
    return WorkflowState.objects.filter(object_id=str(page.pk)).latest("created_at")


def refused_reason(response) -> str:
    return json.loads(response.content)["detail"]


# --- What readers get: nothing, whatever happened to the workflow after the signature -------

def test_finding_4_the_leftover_signature_names_no_reviewer_of_another_revision(
        client, world, at_leader):
    approval = leader_edits_and_signs(client, world, at_leader, body="领导修改后的正文。")
    # The reviewer passed the revision before the leader's edit, not this one.
    assert approval.payload["first_reviewer"] is None
    assert approval.task_state.task.specific_class.__name__ == "LeaderApprovalTask"


def test_restarted_workflow_still_under_review_publishes_nothing(client, world, at_leader):
    leader_edits_and_signs(client, world, at_leader, body="领导修改后的正文。")
    assert step(at_leader) == "FirstReviewTask"
    entries = RegisterEntry.objects.count()
    response = api_publish(client, world, at_leader)
    assert response.status_code == 403
    assert "已被退回" not in refused_reason(response) and "已作废" in refused_reason(response)
    # The admin's publish button of an editor who may publish: refused with the reason.
    client.force_login(world.users["reviewer"])
    response = client.post(reverse("wagtailadmin_pages:edit", args=[at_leader.pk]),
                           edit_form(at_leader, **{"action-publish": "action-publish"}),
                           follow=True)
    assert "已作废" in response.content.decode()
    assert not is_live(at_leader) and RegisterEntry.objects.count() == entries


def unvoid(approval) -> None:
    """The approval as stored before approvals were voided (the guard alone refuses it)."""
    Approval.objects.filter(pk=approval.pk).update(voided_at=None, void_reason="")


def test_cancelled_workflow_publishes_nothing(client, world, at_leader):
    approval = leader_edits_and_signs(client, world, at_leader, body="领导修改后的正文。")
    unvoid(approval)
    client.force_login(world.users["author"])
    response = client.post(reverse("wagtailadmin_pages:edit", args=[at_leader.pk]),
                           edit_form(at_leader, **{"action-cancel-workflow": "1"}))
    assert response.status_code in (200, 302)
    assert workflow_of(at_leader).status == WorkflowState.STATUS_CANCELLED
    assert "已取消" in Approval.objects.get(pk=approval.pk).void_reason
    entries = RegisterEntry.objects.count()
    assert api_publish(client, world, at_leader).status_code == 403
    # From code, the signed revision itself: refused, and why.
    with pytest.raises(PublicationRefused, match="已取消"):
        Approval.objects.get(pk=approval.pk).revision.publish(skip_permission_checks=True)
    assert not is_live(at_leader) and RegisterEntry.objects.count() == entries


def test_workflow_restarted_from_the_editor_publishes_nothing(client, world, at_leader):
    """Returned for changes, the author starts the workflow afresh (Wagtail's "restart"
    cancels the one returned and starts a new one)."""
    approval = leader_edits_and_signs(client, world, at_leader, body="领导修改后的正文。")
    act(client, world.users["reviewer"], at_leader, "reject", {"comment": "领导改后有误"})
    first = workflow_of(at_leader)
    client.force_login(world.users["author"])
    response = client.post(reverse("wagtailadmin_pages:edit", args=[at_leader.pk]),
                           edit_form(at_leader, **{"action-restart-workflow": "1"}))
    assert response.status_code in (200, 302)
    assert workflow_of(at_leader).pk != first.pk and step(at_leader) == "FirstReviewTask"
    entries = RegisterEntry.objects.count()
    assert api_publish(client, world, at_leader).status_code == 403
    with pytest.raises(PublicationRefused, match="已作废"):
        Approval.objects.get(pk=approval.pk).revision.publish(skip_permission_checks=True)
    assert not is_live(at_leader) and RegisterEntry.objects.count() == entries


def test_a_void_signature_schedules_nothing(client, world, at_leader):
    approval = leader_edits_and_signs(client, world, at_leader, body="领导修改后的正文。")
    act(client, world.users["reviewer"], at_leader, "reject", {"comment": "领导改后有误"})
    revision = approval.revision
    revision.approved_go_live_at = timezone.now() + datetime.timedelta(days=1)
    with pytest.raises(PublicationRefused):
        revision.save(update_fields=["approved_go_live_at"])


def test_a_script_cannot_sign_at_a_step_that_is_over(client, world, at_leader):
    leader_step = task_state(at_leader)
    act(client, world.users["leader"], at_leader, "reject", {"comment": "退回重写"})
    assert workflow_of(at_leader).status == WorkflowState.STATUS_NEEDS_CHANGES
    signed = Approval.objects.count()
    with pytest.raises(Refused, match="已经结束"):
        SignApprovalAction(TaskState.objects.get(pk=leader_step.pk), user=world.users["leader"],
                           passphrase=PASSPHRASE).execute()
    assert Approval.objects.count() == signed


# --- The pipeline still publishes -------------------------------------------------------------

def test_after_the_restart_the_pipeline_publishes_with_the_new_signature(client, world,
                                                                         at_leader):
    leftover = leader_edits_and_signs(client, world, at_leader, body="领导修改后的正文。")
    second_reviewer = make_user("reviewer_two", world.editors)
    act(client, second_reviewer, at_leader, "approve", {"comment": "改后属实"})
    assert step(at_leader) == "LeaderApprovalTask"
    act(client, world.users["leader"], at_leader, "approve", {"passphrase": PASSPHRASE})
    page = Page.objects.get(pk=at_leader.pk)
    assert page.live and page.live_revision_id == leftover.revision_id
    entry = RegisterEntry.objects.filter(object_id=str(page.pk)).latest("seq")
    assert entry.approval_record_id != leftover.pk
    assert entry.entry["approval"]["first_reviewer"] == "reviewer_two"
    assert entry.entry["approval"]["approver"] == "leader"
    assert "领导修改后的正文" in page.specific.body


def test_a_workflow_rejected_then_resubmitted_publishes_with_its_final_signature(
        client, world, at_leader):
    act(client, world.users["leader"], at_leader, "reject", {"comment": "请补充"})
    from cms.publishing import submit

    submit(at_leader, user=world.users["author"])
    act(client, world.users["reviewer"], at_leader, "approve")
    act(client, world.users["leader"], at_leader, "approve", {"passphrase": PASSPHRASE})
    assert is_live(at_leader)


# --- Approvals stored before the binding --------------------------------------------------

def test_the_migration_binds_leftover_approvals_stored_before(client, world, at_leader):
    import importlib

    approval = leader_edits_and_signs(client, world, at_leader, body="领导修改后的正文。")
    act(client, world.users["reviewer"], at_leader, "reject", {"comment": "领导改后有误"})
    bound_to = approval.task_state_id
    Approval.objects.filter(pk=approval.pk).update(task_state=None, voided_at=None,
                                                   void_reason="")  # as stored before
    migration = importlib.import_module("review.migrations.0011_approval_task_state")
    migration.bind_unused_approvals(apps, None)
    assert Approval.objects.get(pk=approval.pk).task_state_id == bound_to
    response = api_publish(client, world, at_leader)
    assert response.status_code == 403 and "已被退回" in refused_reason(response)
    assert not is_live(at_leader)


def test_a_rejection_voids_a_leftover_signature_not_yet_void(client, world, at_leader):
    approval = leader_edits_and_signs(client, world, at_leader, body="领导修改后的正文。")
    unvoid(approval)
    act(client, world.users["reviewer"], at_leader, "reject", {"comment": "领导改后有误"})
    assert "已被退回" in Approval.objects.get(pk=approval.pk).void_reason


def test_the_signature_the_workflow_finished_with_is_never_voided(client, world, at_leader):
    act(client, world.users["leader"], at_leader, "approve", {"passphrase": PASSPHRASE})
    assert is_live(at_leader)
    assert Approval.objects.get(register_entry__object_id=str(at_leader.pk)).voided_at is None
    assert voided_in_history(at_leader) == 0


# --- The rule, without a database --------------------------------------------------------------

BOUND = dict(signed_revision_id=7, task_state_id=3, task_state_status="approved",
             task_state_revision_id=7, workflow_status="approved",
             workflow_current_task_state_id=3)


def test_an_approval_holds_when_its_workflow_finished_with_it():
    assert binding_refusal(**BOUND) is None


def test_an_approval_signed_outside_a_workflow_is_bound_to_its_revision_only():
    assert binding_refusal(**{**BOUND, "task_state_id": None, "workflow_status": None}) is None


@pytest.mark.parametrize(("change", "reason"), [
    ({"workflow_status": "cancelled"}, "已取消"),
    ({"workflow_status": "needs_changes"}, "已被退回"),
    ({"workflow_status": "in_progress"}, "尚未完成"),
    ({"workflow_current_task_state_id": 9}, "重新开始过"),
    ({"task_state_status": "rejected"}, "重新开始过"),
    ({"task_state_revision_id": 6}, "不是该审批步骤审阅的版本"),
])
def test_an_approval_is_void_when_its_workflow_did_not_finish_with_it(change, reason):
    assert reason in binding_refusal(**{**BOUND, **change})


# --- A snippet, from code -----------------------------------------------------------------------

def test_a_snippets_leftover_signature_publishes_nothing_from_code(world):
    """The same for a snippet, driven from code (cms.publishing, what scripts use): a draft
    saved while the leader signs sends it back; the signature publishes nothing, also after
    the rejection, and the pipeline then publishes with a fresh one."""
    from cms.publishing import act as act_in_code
    from cms.publishing import submit
    from tests.testapp.models import Notice

    users = world.users
    notice = Notice.objects.create(home=world.home, title="校园开放日安排",
                                   text="本周六上午九点开放。", live=False)
    notice.save_revision(user=users["author"])
    submit(notice, user=users["author"])
    act_in_code(notice, user=users["reviewer"], action="approve")
    notice.text = "改为周日上午九点开放。"
    notice.save_revision(user=users["author"])  # while the leader reads it
    act_in_code(notice, user=users["leader"], action="approve", passphrase=PASSPHRASE)
    leftover = Approval.objects.get(object_id=str(notice.pk))
    assert leftover.voided_at is not None
    act_in_code(notice, user=users["reviewer"], action="reject", comment="时间待定")
    with pytest.raises(PublicationRefused, match="已作废"):
        leftover.revision.publish(skip_permission_checks=True)
    assert not Notice.objects.get(pk=notice.pk).live
    assert not RegisterEntry.objects.filter(object_id=str(notice.pk),
                                            content_type__app_label="testapp").exists()
    submit(notice, user=users["author"])
    act_in_code(notice, user=users["reviewer"], action="approve")
    act_in_code(notice, user=users["leader"], action="approve", passphrase=PASSPHRASE)
    assert Notice.objects.get(pk=notice.pk).live
