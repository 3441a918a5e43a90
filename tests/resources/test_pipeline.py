"""Resources pass the publishing pipeline: public ones go live only with the leader's signed
approval (and are registered); internal ones are approved by the first review and never go
live. Files become documents of the school, kept as originals."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from wagtail.documents import get_document_model
from wagtail.models import WorkflowState

from backups.models import Original
from cms.publishing import PipelineError, act
from cms.resources.approval import InternalApprovalRefused
from cms.resources.models import Resource
from cms.resources.rules import Visibility
from review.models import RegisterEntry
from review.pipeline.guard import PublicationRefused
from tests.conftest import LEADER_PASSPHRASE, blank_pdf

URL = reverse("resources_mine")


def pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, blank_pdf(), content_type="application/pdf")


def batch(semester, *, visibility=Visibility.PUBLIC, kind="courseware", **extra):
    return {"semester": semester.pk, "kind": kind, "subject": "物理", "grade": "初二",
            "source_channel": "made", "visibility": visibility, "description": "",
            **extra}


def upload(client, user, semester, files, **fields):
    client.force_login(user)
    return client.post(URL, {**batch(semester, **fields), "files": files})


def entries(resource):
    return RegisterEntry.objects.filter(content_type__app_label="resources",
                                        object_id=str(resource.pk))


def test_a_batch_files_each_file_as_a_numbered_resource_in_the_schools_collection(
        client, network, semester):
    teacher = network.users["a_teacher"]
    response = upload(client, teacher, semester, [pdf("电路教案.pdf"), pdf("欧姆定律.pdf")])
    assert response.status_code == 302
    resources = list(Resource.objects.order_by("registry_sequence"))
    assert [r.registry_number for r in resources] == [f"JIA-{semester.start_year}-0001",
                                                      f"JIA-{semester.start_year}-0002"]
    assert [r.title for r in resources] == ["电路教案", "欧姆定律"]
    for resource in resources:
        assert not resource.live and resource.approved_at is None
        assert resource.uploader == teacher and resource.subject == "物理"
        document = resource.files.get().document
        assert document.collection == network.school_a.collection
        # The originals store kept the upload (backups' post_save capture on documents).
        assert Original.objects.filter(object_id=str(document.pk)).exists()
        assert len(resource.files.get().sha256) == 64
        # Submitted: screened, now with the web administrators.
        assert resource.workflow_in_progress
        assert resource.current_workflow_task.name.endswith("网站管理员初审")


def test_numbers_continue_per_school_and_start_afresh_for_another(client, network, semester):
    upload(client, network.users["a_teacher"], semester, [pdf("1.pdf")])
    upload(client, network.users["b_teacher"], semester, [pdf("2.pdf")])
    upload(client, network.users["a_teacher"], semester, [pdf("3.pdf"), pdf("4.pdf")],
           one_resource_title="一件合并的资源")
    numbers = sorted(Resource.objects.values_list("registry_number", flat=True))
    year = semester.start_year
    assert numbers == [f"JIA-{year}-0001", f"JIA-{year}-0002", f"YI-{year}-0001"]
    assert Resource.objects.get(title="一件合并的资源").files.count() == 2


def test_a_public_resource_goes_live_only_with_the_leaders_signature(client, network, semester):
    upload(client, network.users["a_teacher"], semester, [pdf("课件.pdf")])
    resource = Resource.objects.get()
    act(resource, user=network.users["a_administrator"], action="approve", comment="")
    resource.refresh_from_db()
    assert not resource.live and resource.approved_at is None  # first review is not enough
    act(resource, user=network.users["a_leader"], action="approve", comment="",
        passphrase=LEADER_PASSPHRASE)
    resource.refresh_from_db()
    assert resource.live and resource.approved_at is not None
    entry = entries(resource).get()
    approval = entry.entry["approval"]
    assert approval["site"] == network.school_a.site.hostname
    assert approval["attachments"][0]["sha256"] == resource.files.get().sha256
    assert (approval["operator"], approval["approver"]) == ("a_teacher", "a_leader")


def test_a_public_resource_cannot_be_published_directly(client, network, semester):
    upload(client, network.users["a_teacher"], semester, [pdf("课件.pdf")])
    resource = Resource.objects.get()
    with pytest.raises(PublicationRefused):
        resource.get_latest_revision().publish(skip_permission_checks=True)
    resource.refresh_from_db()
    assert not resource.live and resource.approved_at is None and not entries(resource)


def test_an_internal_resource_is_approved_by_the_first_review_and_never_goes_live(
        client, network, semester):
    upload(client, network.users["a_teacher"], semester, [pdf("校内试题.pdf")],
           visibility=Visibility.INTERNAL, kind="exam")
    resource = Resource.objects.get()
    assert [t.name for t in resource.get_workflow().tasks] == ["甲中学 自动内容检查",
                                                              "甲中学 网站管理员初审"]
    # Nobody reviews their own submission.
    with pytest.raises(PipelineError):
        act(resource, user=network.users["a_teacher"], action="approve", comment="")
    act(resource, user=network.users["a_administrator"], action="approve", comment="")
    resource.refresh_from_db()
    assert resource.approved_at is not None and not resource.live
    assert resource.workflow_states.get().status == WorkflowState.STATUS_APPROVED
    assert not entries(resource).exists()


def test_an_internal_resource_is_not_approved_without_a_first_review(client, network, semester):
    upload(client, network.users["a_teacher"], semester, [pdf("试题.pdf")],
           visibility=Visibility.INTERNAL)
    resource = Resource.objects.get()
    with pytest.raises(InternalApprovalRefused):
        resource.get_latest_revision().publish(skip_permission_checks=True)
    resource.refresh_from_db()
    assert resource.approved_at is None


def test_a_rejected_submission_does_not_count(client, network, semester):
    upload(client, network.users["a_teacher"], semester, [pdf("试题.pdf")],
           visibility=Visibility.INTERNAL)
    resource = Resource.objects.get()
    act(resource, user=network.users["a_administrator"], action="reject", comment="文件不全")
    resource.refresh_from_db()
    assert resource.approved_at is None


def test_taking_a_public_resource_down_stops_counting_it(client, network, semester):
    upload(client, network.users["a_teacher"], semester, [pdf("课件.pdf")])
    resource = Resource.objects.get()
    act(resource, user=network.users["a_administrator"], action="approve", comment="")
    act(resource, user=network.users["a_leader"], action="approve", comment="",
        passphrase=LEADER_PASSPHRASE)
    Resource.objects.get(pk=resource.pk).unpublish()
    resource.refresh_from_db()
    assert not resource.live and resource.approved_at is None
    assert list(entries(resource).values_list("kind", flat=True)) == ["publication", "takedown"]


def test_a_live_public_resource_is_not_taken_offline_by_an_internal_approval(
        client, network, semester):
    upload(client, network.users["a_teacher"], semester, [pdf("课件.pdf")])
    resource = Resource.objects.get()
    act(resource, user=network.users["a_administrator"], action="approve", comment="")
    act(resource, user=network.users["a_leader"], action="approve", comment="",
        passphrase=LEADER_PASSPHRASE)
    live = Resource.objects.get(pk=resource.pk)
    live.visibility = Visibility.INTERNAL
    revision = live.save_revision(user=network.users["a_teacher"])
    with pytest.raises(InternalApprovalRefused, match="撤稿"):
        revision.publish(skip_permission_checks=True)
    resource.refresh_from_db()
    assert resource.live and resource.visibility == Visibility.PUBLIC
    assert list(entries(resource).values_list("kind", flat=True)) == ["publication"]


def test_a_batch_with_one_bad_file_files_nothing(client, network, semester):
    documents = get_document_model().objects.count()
    bad = SimpleUploadedFile("setup.exe", b"MZ\x90\x00", content_type="application/octet-stream")
    response = upload(client, network.users["a_teacher"], semester,
                      [pdf("好的.pdf"), bad, SimpleUploadedFile("空.pdf", b"")])
    assert response.status_code == 200
    text = response.content.decode()
    assert "没有登记任何资源" in text and "setup.exe" in text and "空.pdf" in text
    assert not Resource.objects.exists()
    assert get_document_model().objects.count() == documents


def test_bad_fields_file_nothing(client, network, semester):
    response = upload(client, network.users["a_teacher"], semester, [pdf("a.pdf")],
                      kind="novel", subject="")
    assert response.status_code == 200
    assert not Resource.objects.exists()


def test_an_ended_semester_takes_no_more_resources(network, semester):
    import datetime

    from cms.resources.services import BatchFields, UploadError, upload_batch

    semester.start_date -= datetime.timedelta(days=400)
    semester.end_date = semester.start_date + datetime.timedelta(days=100)
    semester.save()
    with pytest.raises(UploadError, match="已结束"):
        upload_batch(teacher=network.users["a_teacher"], school=network.school_a.home_page,
                     fields=BatchFields(semester=semester, kind="paper", subject="语文",
                                        grade="初一", source_channel="made"),
                     files=[pdf("a.pdf")])
    assert not Resource.objects.exists()
