"""WebAuthn credentials: enrolment, signing an approval, offline verification, refusals.
A software authenticator stands in for the security key (tests/review/support/softauthn.py)."""

import base64
import hashlib
import subprocess

import pytest
from django.utils import timezone
from wagtail.models import Page

from review.keys import public_key_pem
from review.models import RegisterEntry
from review.pipeline.approvals import ApprovalError, build_approval, signature_holds
from review.pipeline.passkeys import (
    approval_challenge,
    enrol,
    registration_options,
    sign_with_passkey,
)
from tests.review.support.softauthn import SoftAuthenticator
from tests.review.world import make_bulletin


@pytest.fixture
def passkey(world):
    leader = world.users["leader"]
    device = SoftAuthenticator(rp_id="localhost", origin="http://localhost:8000", alg=-7)
    challenge = b"registration-challenge-0001"
    assert '"challenge"' in registration_options(user=leader, challenge=challenge)
    credential = enrol(user=leader, response=device.create(challenge), challenge=challenge,
                       name="U盾")
    return device, credential


def approval_for(world, title="安全密钥签名的通知"):
    page = make_bulletin(world, title, live=False, owner=world.users["author"])
    revision = page.get_latest_revision()
    payload = build_approval(revision=revision, operator=world.users["author"],
                             first_reviewer=world.users["reviewer"],
                             approver=world.users["leader"], submitted_at=timezone.now())
    return page, revision, payload


def test_enrolment_records_the_public_key(passkey):
    _device, credential = passkey
    assert credential.kind == "webauthn" and credential.algorithm == "webauthn-es256"
    assert credential.key_id == hashlib.sha256(bytes(credential.public_key_der)).hexdigest()


def test_a_passkey_approval_publishes_and_verifies_offline(world, passkey, tmp_path):
    device, credential = passkey
    page, revision, payload = approval_for(world)
    approval = sign_with_passkey(credential=credential, payload=payload, revision=revision,
                                 assertion=device.get(approval_challenge(payload)))
    assert signature_holds(approval)
    revision.publish(skip_permission_checks=True)
    assert Page.objects.get(pk=page.pk).live
    signature = RegisterEntry.objects.get(object_id=str(page.pk)).entry["signature"]
    assert signature["alg"] == "webauthn-es256"

    # Offline, with openssl only: signed bytes = authenticatorData ‖ SHA-256(clientDataJSON).
    data = (base64.b64decode(signature["authenticator_data"])
            + hashlib.sha256(base64.b64decode(signature["client_data_json"])).digest())
    (tmp_path / "data.bin").write_bytes(data)
    (tmp_path / "sig.der").write_bytes(base64.b64decode(signature["value"]))
    (tmp_path / "pub.pem").write_text(public_key_pem(bytes(credential.public_key_der)))
    result = subprocess.run(["openssl", "dgst", "-sha256", "-verify", "pub.pem", "-signature",
                             "sig.der", "data.bin"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0 and "Verified OK" in result.stdout


def test_an_assertion_for_another_approval_is_refused(world, passkey):
    device, credential = passkey
    _page, revision, payload = approval_for(world)
    other = {**payload, "title": "别的内容"}
    with pytest.raises(ApprovalError):
        sign_with_passkey(credential=credential, payload=payload, revision=revision,
                          assertion=device.get(approval_challenge(other)))


def test_a_replayed_assertion_is_refused(world, passkey):
    device, credential = passkey
    _page, revision, payload = approval_for(world)
    assertion = device.get(approval_challenge(payload))
    sign_with_passkey(credential=credential, payload=payload, revision=revision,
                      assertion=assertion)
    credential.refresh_from_db()
    with pytest.raises(ApprovalError):
        sign_with_passkey(credential=credential, payload=payload, revision=revision,
                          assertion=assertion)


def test_a_revoked_passkey_cannot_sign(world, passkey):
    device, credential = passkey
    credential.revoked_at = timezone.now()
    credential.save()
    _page, revision, payload = approval_for(world)
    with pytest.raises(ApprovalError):
        sign_with_passkey(credential=credential, payload=payload, revision=revision,
                          assertion=device.get(approval_challenge(payload)))


def test_an_eddsa_passkey_works_too(world):
    leader = world.users["leader"]
    device = SoftAuthenticator(rp_id="localhost", origin="http://localhost:8000", alg=-8)
    credential = enrol(user=leader, response=device.create(b"challenge-eddsa-0001"),
                       challenge=b"challenge-eddsa-0001")
    assert credential.algorithm == "webauthn-eddsa"
    _page, revision, payload = approval_for(world, "EdDSA签名")
    approval = sign_with_passkey(credential=credential, payload=payload, revision=revision,
                                 assertion=device.get(approval_challenge(payload)))
    assert signature_holds(approval)


def test_a_registration_from_another_origin_is_refused(world):
    device = SoftAuthenticator(rp_id="localhost", origin="http://evil.example", alg=-7)
    with pytest.raises(ApprovalError):
        enrol(user=world.users["leader"], response=device.create(b"c" * 16),
              challenge=b"c" * 16)
