"""二次备课: a new version replaces the shared lesson plan only once the subject's group
leader signs it off; the earlier version stays."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cms.models import Role
from cms.publishing import act
from cms.resources.lesson_plans import SecondPreparationError, current_version, decide, derive
from cms.resources.models import Resource, SecondPreparation, TeachingGroup
from cms.resources.rules import ResourceKind
from tests.conftest import blank_pdf, make_user
from tests.resources.conftest import make_resources


def pdf(name="教案.pdf"):
    return SimpleUploadedFile(name, blank_pdf())


@pytest.fixture
def shared(network, semester):
    [plan] = make_resources(school=network.school_a.home_page,
                            teacher=network.users["a_teacher"], semester=semester,
                            kinds={ResourceKind.LESSON_PLAN: 1})
    plan = Resource.objects.get(pk=plan.pk)
    network.users["group_leader"] = make_user("group_leader",
                                              network.school_a.groups[Role.TEACHER])
    network.users["a2_teacher"] = make_user("a2_teacher", network.school_a.groups[Role.TEACHER])
    TeachingGroup.objects.create(school=network.school_a.home_page, subject=plan.subject,
                                 leader=network.users["group_leader"])
    return plan


def reviewed(network, preparation):
    act(preparation.revised, user=network.users["a_administrator"], action="approve", comment="")
    preparation.refresh_from_db()
    return preparation


def test_the_group_leader_signs_off_and_the_earlier_version_stays(network, shared):
    preparation = derive(original=shared, teacher=network.users["a2_teacher"], files=[pdf()])
    assert Resource.objects.get(pk=preparation.revised.pk).derived_from == shared
    assert current_version(shared) == shared  # not before the sign-off
    with pytest.raises(SecondPreparationError, match="还未通过学校的审核"):
        decide(preparation=preparation, leader=network.users["group_leader"], accept=True)
    reviewed(network, preparation)
    decide(preparation=preparation, leader=network.users["group_leader"], accept=True)
    assert current_version(shared) == preparation.revised
    assert Resource.objects.filter(pk=shared.pk).exists()  # kept, unchanged


def test_only_the_subjects_group_leader_decides(network, shared):
    preparation = reviewed(network, derive(original=shared, teacher=network.users["a2_teacher"],
                                           files=[pdf()]))
    for user in (network.users["a_administrator"], network.users["a_leader"],
                 network.users["a_teacher"]):
        with pytest.raises(SecondPreparationError, match="教研组长"):
            decide(preparation=preparation, leader=user, accept=True)
    assert SecondPreparation.objects.get().status == "pending"


def test_returning_needs_a_comment(network, shared):
    preparation = derive(original=shared, teacher=network.users["a2_teacher"], files=[pdf()])
    with pytest.raises(SecondPreparationError, match="意见"):
        decide(preparation=preparation, leader=network.users["group_leader"], accept=False)
    decide(preparation=preparation, leader=network.users["group_leader"], accept=False,
           comment="请补充分层作业")
    assert current_version(shared) == shared


def test_a_replaced_version_cannot_be_replaced_again(network, shared):
    first = reviewed(network, derive(original=shared, teacher=network.users["a2_teacher"],
                                     files=[pdf()]))
    second = derive(original=shared, teacher=network.users["a_teacher"], files=[pdf()])
    decide(preparation=first, leader=network.users["group_leader"], accept=True)
    reviewed(network, second)
    with pytest.raises(SecondPreparationError, match="替换"):
        decide(preparation=second, leader=network.users["group_leader"], accept=True)
    with pytest.raises(SecondPreparationError, match="最新版本"):
        derive(original=shared, teacher=network.users["a_teacher"], files=[pdf()])


def test_another_schools_teacher_cannot_derive(network, shared):
    with pytest.raises(SecondPreparationError, match="本校"):
        derive(original=shared, teacher=network.users["b_teacher"], files=[pdf()])


def test_the_leader_decides_in_the_admin(client, network, shared):
    preparation = reviewed(network, derive(original=shared, teacher=network.users["a2_teacher"],
                                           files=[pdf()]))
    client.force_login(network.users["group_leader"])
    url = reverse("resources_second_preparations")
    assert preparation.revised.title in client.get(url).content.decode()
    client.post(url, {"id": preparation.pk, "decision": "accept"})
    assert current_version(shared) == preparation.revised
    # Another school's people cannot act on it.
    client.force_login(network.users["b_teacher"])
    assert client.post(url, {"id": preparation.pk, "decision": "return",
                             "comment": "x"}).status_code in (302, 403)
    assert SecondPreparation.objects.get().status == "accepted"
