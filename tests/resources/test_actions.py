"""The resources' state changes are actions (cms.resources.actions), through the interfaces
people use: each logs its registered action with its data, which the admin history shows,
refuses someone not entitled (changing nothing) and sends its signal."""


import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from wagtail.models import ModelLogEntry, TaskState, WorkflowState

from cms.resources import signals
from cms.resources.actions.approve_internally import ApproveInternallyAction
from cms.resources.actions.decide_second_preparation import DecideSecondPreparationAction
from cms.resources.approval import InternalApprovalRefused
from cms.resources.exceptions import SecondPreparationRefused
from cms.resources.lesson_plans import current_version, derive
from cms.resources.models import Resource, SecondPreparation
from cms.resources.rules import Visibility
from tests.resources.test_pipeline import pdf, upload
from tests.resources.test_second_preparation import reviewed, shared  # noqa: F401 (fixture)
from tests.shared import received

LIST = reverse("resources_second_preparations")


def logged(resource, action):
    return ModelLogEntry.objects.filter(content_type__app_label="resources",
                                        object_id=str(resource.pk), action=action)


def history(client, user, resource) -> str:
    client.force_login(user)
    url = reverse("wagtailsnippets_resources_resource:history", args=[resource.pk])
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def workflow_action(client, user, resource, action="approve", data=None):
    """What the workflow modal's button posts, as ``user``."""
    client.force_login(user)
    task_state = TaskState.objects.get(workflow_state__object_id=str(resource.pk),
                                       status=TaskState.STATUS_IN_PROGRESS)
    url = reverse("wagtailsnippets_resources_resource:workflow_action",
                  args=[resource.pk, action, task_state.pk])
    return client.post(url, data or {"comment": ""})


@pytest.fixture
def internal(client, network, semester) -> Resource:
    """An internal resource a teacher filed, waiting for the first review."""
    upload(client, network.users["a_teacher"], semester, [pdf("校内试题.pdf")],
           visibility=Visibility.INTERNAL, kind="exam")
    return Resource.objects.get()


# --- Internal approval of a resource ---------------------------------------------------------

def test_the_first_reviews_approval_is_logged_with_its_data_shown_and_signalled(
        client, network, internal):
    administrator = network.users["a_administrator"]
    with received(signals.resource_approved_internally) as calls:
        workflow_action(client, administrator, internal)
    resource = Resource.objects.get()
    assert resource.approved_at is not None and not resource.live
    entry = logged(resource, "resources.approved_internally").get()
    assert entry.user == administrator and entry.revision_id == resource.latest_revision_id
    assert entry.data == {"registry_number": resource.registry_number, "title": "校内试题",
                          "first_reviewer": "a_administrator"}
    [call] = calls
    assert (call["sender"], call["instance"], call["revision"], call["user"]) == (
        Resource, resource, resource.latest_revision, administrator)
    text = history(client, administrator, resource)
    assert "校内资源审核通过" in text
    assert (f"校内资源 {resource.registry_number}“校内试题”经a_administrator初审通过（不公开）"
            in text)


def test_the_submitter_cannot_approve_their_own_internal_resource(client, network, internal):
    with received(signals.resource_approved_internally) as calls:
        workflow_action(client, network.users["a_teacher"], internal)
        # Nor a script finishing it without the first review.
        with pytest.raises(InternalApprovalRefused, match="初审"):
            internal.get_latest_revision().publish(user=network.users["a_teacher"],
                                                   skip_permission_checks=True)
    resource = Resource.objects.get()
    assert resource.approved_at is None and resource.workflow_in_progress
    assert not logged(resource, "resources.approved_internally").exists()
    assert calls == []


def test_only_someone_entitled_may_approve_an_internal_resource(client, network, internal):
    workflow_action(client, network.users["a_administrator"], internal)
    resource = Resource.objects.get()
    approved_at, revision = resource.approved_at, resource.latest_revision
    with received(signals.resource_approved_internally) as calls:
        for user, reason in ((network.users["a_teacher"], "本人"),
                             (network.users["b_administrator"], "权限")):
            action = ApproveInternallyAction(resource, revision=revision, user=user)
            with pytest.raises(InternalApprovalRefused, match=reason) as refusal:
                action.execute()
            assert isinstance(refusal.value, PermissionDenied)
    assert calls == []
    assert Resource.objects.get().approved_at == approved_at
    assert logged(resource, "resources.approved_internally").count() == 1
    assert WorkflowState.objects.get().status == WorkflowState.STATUS_APPROVED


# --- The teaching-group leader's decision --------------------------------------------------

def test_the_leaders_acceptance_is_logged_with_its_data_shown_and_signalled(
        client, network, shared):  # noqa: F811
    preparation = reviewed(network, derive(original=shared, teacher=network.users["a2_teacher"],
                                           files=[pdf("教案.pdf")]))
    leader = network.users["group_leader"]
    client.force_login(leader)
    with received(signals.second_preparation_decided) as calls:
        response = client.post(LIST, {"id": preparation.pk, "decision": "accept",
                                      "comment": "可推广"})
    assert response.status_code == 302 and response["Location"] == LIST
    assert current_version(shared) == preparation.revised
    entry = logged(preparation.revised, "resources.second_preparation_accepted").get()
    assert entry.user == leader
    assert entry.data == {"replaces": shared.registry_number, "comment": "可推广"}
    [call] = calls
    assert (call["sender"], call["instance"].pk, call["user"], call["accepted"]) == (
        SecondPreparation, preparation.pk, leader, True)
    text = history(client, network.users["a_administrator"], preparation.revised)
    assert "二次备课已采用" in text
    assert f"教研组长审核通过，新版本替换共享教案 {shared.registry_number}；意见：可推广" in text


def test_the_leaders_return_is_logged_with_its_comment_shown_and_signalled(
        client, network, shared):  # noqa: F811
    preparation = derive(original=shared, teacher=network.users["a2_teacher"],
                         files=[pdf("教案.pdf")])
    leader = network.users["group_leader"]
    client.force_login(leader)
    with received(signals.second_preparation_decided) as calls:
        client.post(LIST, {"id": preparation.pk, "decision": "return",
                           "comment": "请补充分层作业"})
    assert SecondPreparation.objects.get().status == SecondPreparation.Status.RETURNED
    entry = logged(preparation.revised, "resources.second_preparation_returned").get()
    assert entry.user == leader
    assert entry.data == {"original": shared.registry_number, "comment": "请补充分层作业"}
    assert [call["accepted"] for call in calls] == [False]
    text = history(client, network.users["a2_teacher"], preparation.revised)
    assert "二次备课已退回" in text
    assert f"教研组长退回二次备课（原教案 {shared.registry_number}）；意见：请补充分层作业" in text


def test_only_the_subjects_group_leader_decides_and_a_refusal_changes_nothing(
        client, network, shared):  # noqa: F811
    preparation = reviewed(network, derive(original=shared, teacher=network.users["a2_teacher"],
                                           files=[pdf("教案.pdf")]))
    with received(signals.second_preparation_decided) as calls:
        for user in (network.users["a_administrator"], network.users["a_leader"],
                     network.users["a_teacher"]):
            action = DecideSecondPreparationAction(preparation, user=user, accept=True)
            with pytest.raises(SecondPreparationRefused, match="教研组长") as refusal:
                action.execute()
            assert isinstance(refusal.value, PermissionDenied)
        # Through the admin: another school's teacher, and a teacher who leads no group.
        for user in (network.users["b_teacher"], network.users["a_teacher"]):
            client.force_login(user)
            assert client.post(LIST, {"id": preparation.pk,
                                      "decision": "accept"}).status_code in (302, 403)
    assert calls == []
    assert SecondPreparation.objects.get().status == SecondPreparation.Status.PENDING
    assert current_version(shared) == shared
    assert not ModelLogEntry.objects.filter(action__startswith="resources.second_preparation")\
        .exists()


def test_a_refused_decision_in_the_admin_tells_the_leader_why(client, network, shared):  # noqa: F811
    preparation = derive(original=shared, teacher=network.users["a2_teacher"],
                         files=[pdf("教案.pdf")])
    client.force_login(network.users["group_leader"])
    with received(signals.second_preparation_decided) as calls:
        response = client.post(LIST, {"id": preparation.pk, "decision": "return"},
                               follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    assert [str(message) for message in response.context["messages"]] == [
        "二次备课未能处理：退回须填写意见。"]
    assert calls == []
    assert SecondPreparation.objects.get().status == SecondPreparation.Status.PENDING
