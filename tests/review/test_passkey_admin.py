"""Leaders enrol security keys and sign approvals with them through the admin views (the
browser's part played by the software authenticator; tests/e2e drives a real Chromium)."""

import base64
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from wagtail.models import Page

from review.models import Approval, RegisterEntry, SigningCredential
from review.pipeline.passkeys import approval_challenge
from tests.conftest import act, task_state
from tests.review.support.softauthn import SoftAuthenticator
from tests.shared import reauthenticate


def enrol_via_admin(client, user, device, name="办公室安全密钥"):
    reauthenticate(client, user)
    options = client.post(reverse("review_passkey_options")).json()["options"]
    challenge = base64.urlsafe_b64decode(options["challenge"] + "==")
    return client.post(reverse("review_passkey_enrol"),
                       {"name": name, "credential": device.create(challenge)},
                       content_type="application/json")


@pytest.fixture
def device(client, world):
    device = SoftAuthenticator(rp_id="localhost", origin="http://localhost:8000")
    response = enrol_via_admin(client, world.users["leader"], device)
    assert response.status_code == 200, response.content
    return device


@pytest.fixture
def awaiting_leader(client, world, pending):
    act(client, world.users["reviewer"], pending, "approve")
    return pending


def prepare(client, user, page):
    client.force_login(user)
    return client.post(reverse("review_prepare_approval", args=[task_state(page).pk]))


def sign(device, prepared: dict) -> dict:
    """What the browser posts. The key signs whatever approval it is given: the server must
    check that the approval still matches the content, not merely that the signature holds."""
    challenge = approval_challenge(prepared["approval"])
    return {"approval_payload": json.dumps(prepared["approval"], ensure_ascii=False),
            "webauthn_assertion": json.dumps(device.get(challenge))}


def test_enrolment_through_the_admin_registers_the_key(world, device):
    credential = SigningCredential.objects.get(user=world.users["leader"], kind="webauthn")
    assert credential.name == "办公室安全密钥"
    assert credential.algorithm == "webauthn-es256"


def test_enrolment_needs_the_challenge_the_server_issued(client, world):
    leader = world.users["leader"]
    reauthenticate(client, leader)
    client.post(reverse("review_passkey_options"))
    forged = SoftAuthenticator().create(b"a challenge the server never issued")
    response = client.post(reverse("review_passkey_enrol"), {"credential": forged},
                           content_type="application/json")
    assert response.status_code == 400 and "error" in response.json()
    # The challenge is single-use: a retry with the right shape needs new options.
    response = client.post(reverse("review_passkey_enrol"), {"credential": forged},
                           content_type="application/json")
    assert response.status_code == 400
    assert not SigningCredential.objects.filter(user=leader, kind="webauthn").exists()


def test_the_leader_signs_with_the_key_and_the_page_goes_live(client, world, device,
                                                              awaiting_leader):
    leader = world.users["leader"]
    prepared = prepare(client, leader, awaiting_leader).json()
    assert prepared["approval"]["approver"] == "leader"
    assert base64.urlsafe_b64decode(prepared["options"]["challenge"] + "==") == \
        approval_challenge(prepared["approval"])
    assert prepared["options"]["userVerification"] == "required"
    act(client, leader, awaiting_leader, "approve", {"comment": "同意", **sign(device, prepared)})
    page = Page.objects.get(pk=awaiting_leader.pk)
    assert page.live
    entry = RegisterEntry.objects.get(object_id=str(page.pk)).entry
    assert entry["signature"]["alg"] == "webauthn-es256"
    assert entry["approval"] == prepared["approval"]


def test_the_modal_offers_the_key_to_a_leader_who_has_one(client, world, device,
                                                          awaiting_leader):
    client.force_login(world.users["leader"])
    url = reverse("wagtailadmin_pages:workflow_action",
                  args=[awaiting_leader.pk, "approve", task_state(awaiting_leader).pk])
    html = client.get(url).json()["html"]
    assert "data-review-passkey-sign" in html
    assert reverse("review_prepare_approval", args=[task_state(awaiting_leader).pk]) in html
    assert 'name="passphrase"' in html  # the leader holds a passphrase key too


def test_an_altered_approval_is_refused(client, world, device, awaiting_leader):
    leader = world.users["leader"]
    prepared = prepare(client, leader, awaiting_leader).json()
    prepared["approval"]["title"] = "另一个标题"
    act(client, leader, awaiting_leader, "approve", sign(device, prepared))
    assert not Page.objects.get(pk=awaiting_leader.pk).live
    assert not Approval.objects.filter(object_id=str(awaiting_leader.pk)).exists()


def test_a_stale_approval_is_refused(client, world, device, awaiting_leader):
    leader = world.users["leader"]
    prepared = prepare(client, leader, awaiting_leader).json()
    stale = timezone.now() - timedelta(hours=1)
    prepared["approval"]["approved_at"] = stale.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    act(client, leader, awaiting_leader, "approve", sign(device, prepared))
    assert not Page.objects.get(pk=awaiting_leader.pk).live


def test_an_assertion_for_another_approval_is_refused(client, world, device, awaiting_leader):
    leader = world.users["leader"]
    first = prepare(client, leader, awaiting_leader).json()
    second = prepare(client, leader, awaiting_leader).json()
    signed_first = sign(device, first)
    assert first["approval"]["nonce"] != second["approval"]["nonce"]
    act(client, leader, awaiting_leader, "approve",
        {"approval_payload": json.dumps(second["approval"]),
         "webauthn_assertion": signed_first["webauthn_assertion"]})
    assert not Page.objects.get(pk=awaiting_leader.pk).live


def test_a_revoked_key_cannot_sign(client, world, device, awaiting_leader):
    leader = world.users["leader"]
    prepared = prepare(client, leader, awaiting_leader).json()
    leader.signing_credentials.filter(kind="webauthn").update(revoked_at=timezone.now())
    act(client, leader, awaiting_leader, "approve", sign(device, prepared))
    assert not Page.objects.get(pk=awaiting_leader.pk).live


def test_only_the_leaders_may_prepare_an_approval(client, world, device, awaiting_leader):
    for name in ("reviewer", "author", "root"):
        assert prepare(client, world.users[name], awaiting_leader).status_code == 403, name


def test_a_leader_without_a_key_is_told_so(client, world, awaiting_leader):
    response = prepare(client, world.users["leader"], awaiting_leader)
    assert response.status_code == 400 and "安全密钥" in response.json()["error"]
