"""The compliance engine's state changes are actions (review.pipeline.actions): through the
admin, each logs its registered action with its data — which the page history shows — sends
its signal, and refuses someone not entitled without changing anything."""

import json

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from wagtail.models import Page, PageLogEntry

from cms.publishing import submit
from review.exceptions import Refused
from review.models import RegisterEntry, SigningCredential, TakedownAcknowledgement
from review.pipeline import signals
from review.pipeline.actions import RestoreRegisteredAction, TakedownAction
from tests.conftest import act, make_user
from tests.review.test_pii import with_check
from tests.review.world import PASSPHRASE, make_bulletin
from tests.shared import received

STUDENT_ID = with_check("11010520100307123")


def history(client, user, page) -> str:
    client.force_login(user)
    return client.get(reverse("wagtailadmin_pages:history", args=[page.pk])).content.decode()


def logged(page, action) -> PageLogEntry:
    return PageLogEntry.objects.filter(page=page, action=action).latest("timestamp")


def test_a_takedown_logs_its_reason_and_entry_and_tells_receivers(client, world):
    page = make_bulletin(world, "有误的通知")
    with received(signals.taken_down) as calls:
        client.force_login(world.users["reviewer"])
        client.post(reverse("review_takedown", args=[page.pk]),
                    {"reason": "日期有误，核实后重发。"})
    entry = RegisterEntry.objects.filter(object_id=str(page.pk)).latest("seq")
    assert entry.kind == "takedown"
    log = logged(page, "review.taken_down")
    assert log.user == world.users["reviewer"]
    assert log.data == {"reason": "日期有误，核实后重发。", "seq": entry.seq,
                        "authorised_by_seq": None}
    assert f"紧急撤稿（发布登记第 {entry.seq} 条）：日期有误，核实后重发。" in history(
        client, world.users["reviewer"], page)
    assert [(call["instance"].pk, call["entry"], call["user"]) for call in calls] == [
        (page.pk, entry, world.users["reviewer"])]


def test_a_takedown_by_someone_without_the_right_changes_nothing(world):
    page = make_bulletin(world, "正常的通知")
    entries = RegisterEntry.objects.count()
    with received(signals.taken_down) as calls, pytest.raises(Refused):
        TakedownAction(page, user=world.users["leader"], reason="想撤就撤").execute()
    assert Page.objects.get(pk=page.pk).live
    assert RegisterEntry.objects.count() == entries and calls == []
    assert not PageLogEntry.objects.filter(page=page, action="review.taken_down").exists()


def test_a_takedown_needs_a_reason(world):
    page = make_bulletin(world, "正常的通知")
    with pytest.raises(Refused):
        TakedownAction(page, user=world.users["reviewer"], reason="  ").execute()
    assert Page.objects.get(pk=page.pk).live


def test_acknowledging_a_takedown_is_logged_once_and_only_by_a_leader(client, world):
    page = make_bulletin(world, "撤下的通知")
    entry = TakedownAction(page, user=world.users["reviewer"], reason="有误").execute()
    url = reverse("review_acknowledge_takedown", args=[entry.pk])
    client.force_login(world.users["reviewer"])  # an editor, not a leader
    assert client.post(url, {"note": "x"}).status_code in (302, 403)
    assert not TakedownAcknowledgement.objects.filter(entry=entry).exists()
    with received(signals.takedown_acknowledged) as calls:
        client.force_login(world.users["leader"])
        client.post(url, {"note": "已知悉"})
    acknowledgement = TakedownAcknowledgement.objects.get(entry=entry)
    assert logged(page, "review.takedown_acknowledged").data == {"seq": entry.seq,
                                                                 "note": "已知悉"}
    assert f"领导确认了撤稿（发布登记第 {entry.seq} 条）：已知悉" in history(
        client, world.users["leader"], page)
    assert [call["instance"] for call in calls] == [acknowledgement]


def test_the_leaders_signature_is_logged_with_its_key_and_hash(client, world, pending):
    act(client, world.users["reviewer"], pending, "approve")
    with received(signals.approval_signed) as calls:
        act(client, world.users["leader"], pending, "approve", {"passphrase": PASSPHRASE})
    assert Page.objects.get(pk=pending.pk).live
    [call] = calls
    approval = call["instance"]
    log = logged(pending, "review.signed")
    assert log.data == {"key_id": approval.credential.key_id, "alg": "ed25519",
                        "content_sha256": approval.content_sha256}
    assert f"密钥 {approval.credential.key_id[:12]}" in history(client, world.users["leader"],
                                                              pending)


def test_revoking_a_credential_is_logged_and_only_the_owner_may(client, world):
    deputy = make_user("deputy", world.leaders)
    credential = world.users["leader"].signing_credentials.get()
    client.force_login(deputy)
    assert client.post(reverse("review_credential_revoke", args=[credential.pk])).status_code \
        == 404
    assert SigningCredential.objects.get(pk=credential.pk).revoked_at is None
    with received(signals.credential_revoked) as calls:
        client.force_login(world.users["leader"])
        client.post(reverse("review_credential_revoke", args=[credential.pk]))
    assert SigningCredential.objects.get(pk=credential.pk).revoked_at is not None
    from wagtail.models import ModelLogEntry

    log = ModelLogEntry.objects.get(action="review.credential_revoked",
                                    object_id=str(credential.pk))
    assert log.data["key_id"] == credential.key_id and log.user == world.users["leader"]
    assert [call["instance"].pk for call in calls] == [credential.pk]


def test_masking_logs_only_the_masked_number(client, world):
    from review.screening.pii import mask

    page = make_bulletin(world, "资助名单", live=False, owner=world.users["author"])
    page.body = f"<p>身份证号 {STUDENT_ID}</p>"
    page.save_revision(user=world.users["author"])
    submit(page, user=world.users["author"])
    url = reverse("review_mask", args=[ContentType.objects.get_for_model(page).pk, page.pk])
    with received(signals.number_masked) as calls:
        client.force_login(world.users["author"])
        client.post(url, {"mask_match": STUDENT_ID})
    log = logged(page, "review.number_masked")
    assert log.data == {"masked": mask(STUDENT_ID)}
    assert STUDENT_ID not in json.dumps(log.data)
    assert f"个人号码已打码为 {mask(STUDENT_ID)}" in history(client, world.users["author"], page)
    assert [call["masked"] for call in calls] == [mask(STUDENT_ID)]


def test_a_restoration_is_logged_with_the_entry_it_puts_back(world):
    page = make_bulletin(world, "被改动的通知")
    entry = RegisterEntry.objects.filter(object_id=str(page.pk)).latest("seq")
    Page.objects.filter(pk=page.pk).update(title="被改动的标题")  # behind the CMS
    with received(signals.restored) as calls:
        RestoreRegisteredAction(Page.objects.get(pk=page.pk).specific, entry=entry,
                                reason="恢复").execute()
    assert Page.objects.get(pk=page.pk).title == "被改动的通知"
    assert logged(page, "review.restored").data == {"seq": entry.seq, "reason": "恢复"}
    assert RegisterEntry.objects.filter(object_id=str(page.pk)).latest("seq").kind == \
        "restoration"
    assert [call["entry"] for call in calls] == [entry]


def test_a_restoration_cannot_put_back_a_takedown(world):
    page = make_bulletin(world, "已撤下的通知")
    entry = TakedownAction(page, user=world.users["reviewer"], reason="有误").execute()
    with pytest.raises(Refused):
        RestoreRegisteredAction(Page.objects.get(pk=page.pk).specific, entry=entry,
                                reason="恢复").execute()
    assert not Page.objects.get(pk=page.pk).live
