"""The teacher's page to start a second preparation (二次备课), through the test client:
from a shared lesson plan of their school, upload an edited version and submit it."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cms.resources.lesson_plans import current_version, decide
from cms.resources.models import Resource, SecondPreparation
from cms.resources.rules import ResourceKind, Visibility
from tests.conftest import blank_pdf
from tests.resources.conftest import make_resources
from tests.resources.test_second_preparation import reviewed, shared  # noqa: F401 (fixture)

LIST = reverse("resources_second_preparations")


def derive_url(plan) -> str:
    return reverse("resources_derive_lesson_plan", args=[plan.pk])


def edited(name="教案-修改.pdf"):
    return SimpleUploadedFile(name, blank_pdf(), content_type="application/pdf")


def test_a_teacher_finds_the_shared_plan_and_submits_a_second_preparation(
        client, network, shared):  # noqa: F811
    teacher = network.users["a2_teacher"]
    client.force_login(teacher)
    listing = client.get(LIST).content.decode()
    assert shared.title in listing and derive_url(shared) in listing
    page = client.get(derive_url(shared))
    assert page.status_code == 200
    text = page.content.decode()
    assert shared.registry_number in text and f"{shared.title}（二次备课）" in text
    response = client.post(derive_url(shared), {
        "title": "分层教学版", "description": "增加分层作业", "files": [edited()]})
    assert response.status_code == 302 and response["Location"] == LIST
    preparation = SecondPreparation.objects.get()
    revised = Resource.objects.get(pk=preparation.revised_id)
    assert (revised.title, revised.description, revised.uploader) == (
        "分层教学版", "增加分层作业", teacher)
    assert revised.derived_from == shared and revised.kind == ResourceKind.LESSON_PLAN
    assert revised.visibility == Visibility.INTERNAL
    assert revised.workflow_in_progress  # submitted to the school's review
    assert revised.files.get().document.filename.endswith(".pdf")
    # It shows on the teacher's list, and the group leader takes it from there.
    assert "分层教学版" in client.get(LIST).content.decode()
    reviewed(network, preparation)
    decide(preparation=preparation, leader=network.users["group_leader"], accept=True)
    assert current_version(shared) == revised
    # The replaced version is no longer offered; the new one is.
    listing = client.get(LIST).content.decode()
    assert derive_url(shared) not in listing and derive_url(revised) in listing
    assert client.get(derive_url(shared)).status_code == 404


def test_without_a_file_nothing_is_submitted(client, network, shared):  # noqa: F811
    client.force_login(network.users["a2_teacher"])
    response = client.post(derive_url(shared), {"title": "", "description": ""})
    assert response.status_code == 200
    assert "请选择要上传的文件" in response.content.decode()
    assert not SecondPreparation.objects.exists()
    assert Resource.objects.count() == 1


def test_another_schools_teacher_and_unapproved_plans_are_refused(
        client, network, shared, semester):  # noqa: F811
    client.force_login(network.users["b_teacher"])
    assert shared.title not in client.get(LIST).content.decode()
    assert client.get(derive_url(shared)).status_code == 404
    assert client.post(derive_url(shared), {"files": [edited()]}).status_code == 404
    [draft] = make_resources(school=network.school_a.home_page,
                             teacher=network.users["a_teacher"], semester=semester,
                             kinds={ResourceKind.LESSON_PLAN: 1}, approved=False)
    [paper] = make_resources(school=network.school_a.home_page,
                             teacher=network.users["a_teacher"], semester=semester,
                             kinds={ResourceKind.PAPER: 1})
    client.force_login(network.users["a2_teacher"])
    for plan in (draft, paper):
        assert client.get(derive_url(plan)).status_code == 404
        assert client.post(derive_url(plan), {"files": [edited()]}).status_code == 404
    assert not SecondPreparation.objects.exists()


def test_staff_who_do_not_teach_are_refused(client, network, shared):  # noqa: F811
    client.force_login(network.users["a_administrator"])
    assert client.get(derive_url(shared)).status_code in (302, 403)


def test_without_a_teaching_group_the_teacher_is_told_and_nothing_is_filed(
        client, network, shared):  # noqa: F811
    from cms.resources.models import TeachingGroup

    TeachingGroup.objects.all().delete()
    client.force_login(network.users["a2_teacher"])
    response = client.post(derive_url(shared), {"files": [edited()]})
    assert response.status_code == 200
    assert "教研组" in response.content.decode()
    assert Resource.objects.count() == 1 and not SecondPreparation.objects.exists()
