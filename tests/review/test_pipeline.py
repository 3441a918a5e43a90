"""The publishing pipeline through the admin: screening, first review, the leader's signed
approval, separation of duties, and rejections that need a comment. On the lean world
(tests/review/world.py); how schools keep out of each other's pipelines is tested with the
education domain, in tests/cms/test_confinement.py."""

import pytest
from django.test import override_settings
from django.urls import reverse
from wagtail.models import Page, WorkflowState

from cms.publishing import submit
from review.models import Approval, RegisterEntry
from tests.conftest import act, make_user, task_state
from tests.review.world import PASSPHRASE, make_bulletin, publish_via_workflow


def blocking_screener(obj):
    text = getattr(obj, "body", "")
    return ([{"kind": "sensitive_word", "severity": "block", "category": "赌博", "rule": "lexicon",
              "start": text.index("赌场"), "end": text.index("赌场") + 2, "match": "赌场",
              "context": text}] if "赌场" in text else [])


def test_screening_passes_then_first_review_then_signed_approval_publishes(client, world,
                                                                           pending):
    assert task_state(pending).task.specific_class.__name__ == "FirstReviewTask"
    act(client, world.users["reviewer"], pending, "approve", {"comment": "内容属实"})
    assert task_state(pending).task.specific_class.__name__ == "LeaderApprovalTask"
    response = act(client, world.users["leader"], pending, "approve",
                   {"comment": "同意发布", "passphrase": PASSPHRASE})
    assert response.status_code in (200, 302)
    page = Page.objects.get(pk=pending.pk)
    assert page.live
    entry = RegisterEntry.objects.get(object_id=str(page.pk))
    approval = entry.entry["approval"]
    assert (approval["operator"], approval["first_reviewer"], approval["approver"]) == (
        "author", "reviewer", "leader")
    assert approval["revision_id"] == page.live_revision_id
    assert entry.entry["published_by"] == "leader"
    assert entry.entry["signature"]["alg"] == "ed25519"


def test_wrong_passphrase_approves_nothing(client, world, pending):
    approvals = Approval.objects.count()
    act(client, world.users["reviewer"], pending, "approve")
    act(client, world.users["leader"], pending, "approve",
        {"passphrase": "not-the-leaders-passphrase"})
    assert not Page.objects.get(pk=pending.pk).live
    assert task_state(pending).task.specific_class.__name__ == "LeaderApprovalTask"
    assert Approval.objects.count() == approvals


def test_revoked_credential_cannot_sign(client, world, pending):
    from django.utils import timezone

    world.users["leader"].signing_credentials.update(revoked_at=timezone.now())
    act(client, world.users["reviewer"], pending, "approve")
    act(client, world.users["leader"], pending, "approve", {"passphrase": PASSPHRASE})
    assert not Page.objects.get(pk=pending.pk).live


def test_nobody_reviews_their_own_submission(client, world):
    editor = world.users["author"]  # an editor who submits
    article = make_bulletin(world, "办公室通知", live=False, owner=editor)
    submit(article, user=editor)
    act(client, editor, article, "approve")
    assert task_state(article).task.specific_class.__name__ == "FirstReviewTask"
    # Another administrator may.
    act(client, world.users["reviewer"], article, "approve")
    assert task_state(article).task.specific_class.__name__ == "LeaderApprovalTask"


def test_first_reviewer_cannot_also_give_the_leaders_approval(client, world, pending):
    both = make_user("principal", world.editors, world.leaders)
    from review.pipeline.approvals import enrol_passphrase_credential
    from tests.review.world import FAST_KDF

    enrol_passphrase_credential(user=both, passphrase=PASSPHRASE, kdf=FAST_KDF)
    act(client, both, pending, "approve")
    assert task_state(pending).task.specific_class.__name__ == "LeaderApprovalTask"
    act(client, both, pending, "approve", {"passphrase": PASSPHRASE})
    assert not Page.objects.get(pk=pending.pk).live
    act(client, world.users["leader"], pending, "approve", {"passphrase": PASSPHRASE})
    assert Page.objects.get(pk=pending.pk).live


def test_superusers_outside_the_groups_cannot_approve(client, world, pending):
    act(client, world.users["root"], pending, "approve")
    assert task_state(pending).task.specific_class.__name__ == "FirstReviewTask"


def test_rejecting_needs_a_comment_and_returns_the_submission(client, world, pending):
    admin = world.users["reviewer"]
    act(client, admin, pending, "reject", {"comment": "  "})
    assert task_state(pending).status == "in_progress"
    act(client, admin, pending, "reject", {"comment": "请补充教学反思的具体课例。"})
    state = WorkflowState.objects.get(object_id=str(pending.pk))
    assert state.status == WorkflowState.STATUS_NEEDS_CHANGES
    assert state.current_task_state.comment == "请补充教学反思的具体课例。"
    assert not Page.objects.get(pk=pending.pk).live


@override_settings(REVIEW_SCREENER="tests.review.test_pipeline.blocking_screener")
def test_a_block_finding_returns_the_submission_with_the_findings(world):
    teacher = world.users["author"]
    article = make_bulletin(world, "课后活动", live=False, owner=teacher)
    article.body = "<p>欢迎访问某某赌场网站</p>"
    article.save_revision(user=teacher)
    submit(article, user=teacher)
    state = WorkflowState.objects.get(object_id=str(article.pk))
    assert state.status == WorkflowState.STATUS_NEEDS_CHANGES
    screening = state.current_task_state.specific
    assert screening.findings[0]["match"] == "赌场"
    assert "赌场" in screening.comment


def test_reviewers_see_what_changed_against_the_live_version(client, world):
    editor = world.users["author"]
    article = make_bulletin(world, "运动会通知", owner=editor)
    article = article.specific
    article.title = "运动会延期通知"
    article.save_revision(user=editor)
    submit(article, user=editor)
    for reviewer in ("reviewer", "leader"):
        client.force_login(world.users[reviewer])
        url = reverse("wagtailadmin_pages:revisions_compare",
                      args=[article.pk, "live", "latest"])
        page = client.get(url).content.decode()
        assert "运动会通知" in page and "运动会延期通知" in page, reviewer


def test_the_approval_signs_the_hash_of_every_file_readers_get(world):
    import hashlib
    from io import BytesIO

    from django.core.files.base import ContentFile
    from django.core.files.images import ImageFile
    from wagtail.documents import get_document_model
    from wagtail.images import get_image_model

    from tests.conftest import blank_pdf, png_bytes

    pdf = blank_pdf()  # readable: the screener reads attachments
    document = get_document_model()(title="名单")
    document.file.save("list.pdf", ContentFile(pdf), save=False)
    document.save()
    image = get_image_model()(title="封面")
    image.file.save("cover.png", ImageFile(BytesIO(png_bytes()), name="cover.png"), save=False)
    image.save()
    article = make_bulletin(world, "带附件的通知", live=False, owner=world.users["author"])
    article.document, article.image = document, image
    article.save_revision(user=world.users["author"])
    publish_via_workflow(world, article, submitter=world.users["author"])

    entry = RegisterEntry.objects.get(object_id=str(article.pk))
    assert entry.entry["approval"]["attachments"] == [
        {"kind": "document", "id": document.pk, "filename": "list.pdf", "size": len(pdf),
         "sha256": hashlib.sha256(pdf).hexdigest(), "title": "名单"},
        {"kind": "image", "id": image.pk, "filename": image.filename, "size": len(png_bytes()),
         "sha256": hashlib.sha256(png_bytes()).hexdigest(), "title": "封面", "alt": "封面"},
    ]


def test_a_scheduled_publication_goes_live_at_the_signed_time_not_before(world):
    import datetime
    import time

    from django.core.management import call_command
    from django.utils import timezone
    from wagtail.models import Revision

    article = make_bulletin(world, "开学通知", live=False, owner=world.users["author"])
    go_live_at = (timezone.now() + datetime.timedelta(seconds=2)).replace(microsecond=0)
    article.go_live_at = go_live_at
    article.save_revision(user=world.users["author"])
    publish_via_workflow(world, article, submitter=world.users["author"])

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


def test_a_script_calling_the_task_directly_cannot_review_its_own_submission(world, pending):
    # The admin offers no approve button to the submitter; a script skips the admin.
    from review.exceptions import Refused

    state = task_state(pending)
    with pytest.raises(Refused):
        state.task.specific.on_action(state, world.users["author"], "approve", comment="")
    assert task_state(pending).task.specific_class.__name__ == "FirstReviewTask"


def test_a_script_calling_the_task_directly_cannot_sign_as_the_first_reviewer(world, pending):
    from review.exceptions import Refused
    from review.pipeline.approvals import enrol_passphrase_credential
    from tests.review.world import FAST_KDF

    both = make_user("deputy_principal", world.editors, world.leaders)
    enrol_passphrase_credential(user=both, passphrase=PASSPHRASE, kdf=FAST_KDF)
    first = task_state(pending)
    first.task.specific.on_action(first, both, "approve", comment="")
    second = task_state(pending)
    approvals = Approval.objects.count()
    with pytest.raises(Refused):
        second.task.specific.on_action(second, both, "approve", comment="",
                                       passphrase=PASSPHRASE)
    assert Approval.objects.count() == approvals
    assert not Page.objects.get(pk=pending.pk).live
