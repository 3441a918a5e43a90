"""The publishing pipeline through the admin: screening, first review, the leader's signed
approval, separation of duties, and rejections that need a comment."""

from django.test import override_settings
from django.urls import reverse
from wagtail.models import Page, WorkflowState

from cms.publishing import submit
from review.models import Approval, RegisterEntry
from tests.conftest import LEADER_PASSPHRASE, act, make_article, make_user, task_state


def blocking_screener(obj):
    text = " ".join(str(block.value) for block in getattr(obj, "body", []))
    return ([{"kind": "sensitive_word", "severity": "block", "category": "赌博", "rule": "lexicon",
              "start": text.index("赌场"), "end": text.index("赌场") + 2, "match": "赌场",
              "context": text}] if "赌场" in text else [])


def test_screening_passes_then_first_review_then_signed_approval_publishes(client, network,
                                                                           submitted):
    assert task_state(submitted).task.specific_class.__name__ == "FirstReviewTask"
    act(client, network.users["a_administrator"], submitted, "approve", {"comment": "内容属实"})
    assert task_state(submitted).task.specific_class.__name__ == "LeaderApprovalTask"
    response = act(client, network.users["a_leader"], submitted, "approve",
                   {"comment": "同意发布", "passphrase": LEADER_PASSPHRASE})
    assert response.status_code in (200, 302)
    page = Page.objects.get(pk=submitted.pk)
    assert page.live
    entry = RegisterEntry.objects.get(object_id=str(page.pk))
    approval = entry.entry["approval"]
    assert (approval["operator"], approval["first_reviewer"], approval["approver"]) == (
        "a_teacher", "a_administrator", "a_leader")
    assert approval["revision_id"] == page.live_revision_id
    assert entry.entry["published_by"] == "a_leader"
    assert entry.entry["signature"]["alg"] == "ed25519"


def test_wrong_passphrase_approves_nothing(client, network, submitted):
    approvals = Approval.objects.count()
    act(client, network.users["a_administrator"], submitted, "approve")
    act(client, network.users["a_leader"], submitted, "approve",
        {"passphrase": "not-the-leaders-passphrase"})
    assert not Page.objects.get(pk=submitted.pk).live
    assert task_state(submitted).task.specific_class.__name__ == "LeaderApprovalTask"
    assert Approval.objects.count() == approvals


def test_revoked_credential_cannot_sign(client, network, submitted):
    from django.utils import timezone

    network.users["a_leader"].signing_credentials.update(revoked_at=timezone.now())
    act(client, network.users["a_administrator"], submitted, "approve")
    act(client, network.users["a_leader"], submitted, "approve", {"passphrase": LEADER_PASSPHRASE})
    assert not Page.objects.get(pk=submitted.pk).live


def test_nobody_reviews_their_own_submission(client, network):
    editor = network.users["a_editor"]  # an administrator who submits
    article = make_article(network.column(network.school_a, "news"), "办公室通知", live=False,
                           owner=editor)
    submit(article, user=editor)
    act(client, editor, article, "approve")
    assert task_state(article).task.specific_class.__name__ == "FirstReviewTask"
    # Another administrator may.
    act(client, network.users["a_administrator"], article, "approve")
    assert task_state(article).task.specific_class.__name__ == "LeaderApprovalTask"


def test_first_reviewer_cannot_also_give_the_leaders_approval(client, network, submitted):
    both = make_user("principal", network.school_a.groups["administrator"],
                     network.school_a.groups["leader"])
    from review.pipeline.approvals import enrol_passphrase_credential
    from tests.conftest import FAST_KDF

    enrol_passphrase_credential(user=both, passphrase=LEADER_PASSPHRASE, kdf=FAST_KDF)
    act(client, both, submitted, "approve")
    assert task_state(submitted).task.specific_class.__name__ == "LeaderApprovalTask"
    act(client, both, submitted, "approve", {"passphrase": LEADER_PASSPHRASE})
    assert not Page.objects.get(pk=submitted.pk).live
    act(client, network.users["a_leader"], submitted, "approve", {"passphrase": LEADER_PASSPHRASE})
    assert Page.objects.get(pk=submitted.pk).live


def test_other_schools_people_cannot_act(client, network, submitted):
    act(client, network.users["b_administrator"], submitted, "approve")
    assert task_state(submitted).task.specific_class.__name__ == "FirstReviewTask"


def test_superusers_outside_the_groups_cannot_approve(client, network, submitted):
    act(client, network.users["superuser"], submitted, "approve")
    assert task_state(submitted).task.specific_class.__name__ == "FirstReviewTask"


def test_rejecting_needs_a_comment_and_returns_the_submission(client, network, submitted):
    admin = network.users["a_administrator"]
    act(client, admin, submitted, "reject", {"comment": "  "})
    assert task_state(submitted).status == "in_progress"
    act(client, admin, submitted, "reject", {"comment": "请补充教学反思的具体课例。"})
    state = WorkflowState.objects.get(object_id=str(submitted.pk))
    assert state.status == WorkflowState.STATUS_NEEDS_CHANGES
    assert state.current_task_state.comment == "请补充教学反思的具体课例。"
    assert not Page.objects.get(pk=submitted.pk).live


@override_settings(REVIEW_SCREENER="tests.review.test_pipeline.blocking_screener")
def test_a_block_finding_returns_the_submission_with_the_findings(network):
    teacher = network.users["a_teacher"]
    article = make_article(network.column(network.school_a, "teaching"), "课后活动", live=False,
                           owner=teacher)
    article.body = [("paragraph", "<p>欢迎访问某某赌场网站</p>")]
    article.save_revision(user=teacher)
    submit(article, user=teacher)
    state = WorkflowState.objects.get(object_id=str(article.pk))
    assert state.status == WorkflowState.STATUS_NEEDS_CHANGES
    screening = state.current_task_state.specific
    assert screening.findings[0]["match"] == "赌场"
    assert "赌场" in screening.comment


def test_reviewers_see_what_changed_against_the_live_version(client, network):
    editor = network.users["a_editor"]
    article = make_article(network.column(network.school_a, "news"), "运动会通知",
                           owner=editor)
    article = article.specific
    article.title = "运动会延期通知"
    article.save_revision(user=editor)
    submit(article, user=editor)
    for reviewer in ("a_administrator", "a_leader"):
        client.force_login(network.users[reviewer])
        url = reverse("wagtailadmin_pages:revisions_compare",
                      args=[article.pk, "live", "latest"])
        page = client.get(url).content.decode()
        assert "运动会通知" in page and "运动会延期通知" in page, reviewer
    client.force_login(network.users["b_leader"])
    response = client.get(reverse("wagtailadmin_pages:revisions_compare",
                                  args=[article.pk, "live", "latest"]))
    assert "运动会延期通知" not in response.content.decode()


def test_the_approval_signs_the_hash_of_every_file_readers_get(network):
    import hashlib
    from io import BytesIO

    from django.core.files.images import ImageFile
    from wagtail.images import get_image_model

    from tests.conftest import blank_pdf, make_document, png_bytes, publish_via_workflow

    pdf = blank_pdf()  # readable: the screener reads attachments
    document = make_document(network.school_a, "名单", content=pdf, filename="list.pdf")
    image = get_image_model()(title="封面", collection=network.school_a.collection)
    image.file.save("cover.png", ImageFile(BytesIO(png_bytes()), name="cover.png"), save=False)
    image.save()
    article = make_article(network.column(network.school_a, "news"), "带附件的通知", live=False,
                           owner=network.users["a_editor"], attachments=[document])
    article.cover_image = image
    article.save_revision(user=network.users["a_editor"])
    publish_via_workflow(article, submitter=network.users["a_editor"])

    entry = RegisterEntry.objects.get(object_id=str(article.pk))
    assert entry.entry["approval"]["attachments"] == [
        {"kind": "document", "id": document.pk, "filename": "list.pdf", "size": len(pdf),
         "sha256": hashlib.sha256(pdf).hexdigest()},
        {"kind": "image", "id": image.pk, "filename": image.filename, "size": len(png_bytes()),
         "sha256": hashlib.sha256(png_bytes()).hexdigest()},
    ]


def test_a_scheduled_publication_goes_live_at_the_signed_time_not_before(network):
    import datetime
    import time

    from django.core.management import call_command
    from django.utils import timezone
    from wagtail.models import Revision

    from tests.conftest import publish_via_workflow

    article = make_article(network.column(network.school_a, "notices"), "开学通知", live=False,
                           owner=network.users["a_editor"])
    go_live_at = (timezone.now() + datetime.timedelta(seconds=2)).replace(microsecond=0)
    article.go_live_at = go_live_at
    article.save_revision(user=network.users["a_editor"])
    publish_via_workflow(article, submitter=network.users["a_editor"])

    revision = Revision.objects.get(object_id=str(article.pk), approved_go_live_at__isnull=False)
    approval = Approval.objects.get(revision=revision)
    assert approval.payload["go_live_at"] == \
        go_live_at.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
    assert not Page.objects.get(pk=article.pk).live

    # Moving the schedule earlier does not move the signed time.
    Revision.objects.filter(pk=revision.pk).update(
        approved_go_live_at=timezone.now() - datetime.timedelta(minutes=1))
    call_command("publish_scheduled")
    assert not Page.objects.get(pk=article.pk).live

    revision.approved_go_live_at = go_live_at
    revision.save(update_fields=["approved_go_live_at"])
    time.sleep(max(0.0, (go_live_at - timezone.now()).total_seconds()) + 0.2)
    call_command("publish_scheduled")
    assert Page.objects.get(pk=article.pk).live
    assert RegisterEntry.objects.get(object_id=str(article.pk)).entry["approval"]["go_live_at"]
