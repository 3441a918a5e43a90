"""WebAuthn credentials (passkeys, security keys): enrolment, and signing an approval.

For an approval the challenge is SHA-256 of the approval's RFC 8785 canonical JSON, so the
authenticator's signature — over authenticatorData ‖ SHA-256(clientDataJSON) — binds exactly
that approval; the key never leaves the leader's device. ES256 is asked for first, so one
``openssl dgst -sha256 -verify`` command checks most entries offline; EdDSA is accepted too.
"""

import base64
import json

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.db import transaction
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    decode_credential_public_key,
    decoded_public_key_to_cryptography,
)
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import InvalidRegistrationResponse, WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from review import keys
from review.exceptions import ApprovalError
from review.pipeline.approvals import record_approval
from review.pipeline.records import Approval, SigningCredential
from review.pipeline.signatures import approval_challenge

ALGORITHMS = {
    COSEAlgorithmIdentifier.ECDSA_SHA_256: "webauthn-es256",
    COSEAlgorithmIdentifier.EDDSA: "webauthn-eddsa",
}


def relying_party() -> tuple[str, list[str]]:
    return (getattr(settings, "REVIEW_WEBAUTHN_RP_ID", "localhost"),
            list(getattr(settings, "REVIEW_WEBAUTHN_ORIGINS", ["http://localhost:8000"])))


def registration_options(*, user, challenge: bytes) -> str:
    rp_id, _ = relying_party()
    existing = [PublicKeyCredentialDescriptor(id=bytes(c.credential_id))
                for c in user.signing_credentials.filter(kind=SigningCredential.Kind.WEBAUTHN)]
    options = generate_registration_options(
        rp_id=rp_id, rp_name=settings.WAGTAIL_SITE_NAME, user_name=user.get_username(),
        user_id=str(user.pk).encode(), user_display_name=user.get_full_name() or
        user.get_username(), challenge=challenge, exclude_credentials=existing,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED),
        supported_pub_key_algs=list(ALGORITHMS),
    )
    return options_to_json(options)


def enrol(*, user, response, challenge: bytes, name: str = "") -> SigningCredential:
    rp_id, origins = relying_party()
    try:
        verified = verify_registration_response(
            credential=response, expected_challenge=challenge, expected_rp_id=rp_id,
            expected_origin=origins, require_user_verification=True,
            supported_pub_key_algs=list(ALGORITHMS))
    except InvalidRegistrationResponse as error:
        raise ApprovalError(f"安全密钥登记失败：{error}") from error
    decoded = decode_credential_public_key(verified.credential_public_key)
    public_key = decoded_public_key_to_cryptography(decoded)
    der = public_key.public_bytes(serialization.Encoding.DER,
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    return SigningCredential.objects.create(
        user=user, kind=SigningCredential.Kind.WEBAUTHN, name=name or "安全密钥",
        algorithm=ALGORITHMS[COSEAlgorithmIdentifier(decoded.alg)], key_id=keys.key_id(der),
        public_key_der=der, credential_id=verified.credential_id,
        sign_count=verified.sign_count,
        sealed_key={"cose_public_key": bytes_to_base64url(verified.credential_public_key)},
    )


def authentication_options(*, credentials, challenge: bytes) -> str:
    """Options for ``navigator.credentials.get``: any of ``credentials`` may answer
    ``challenge``."""
    rp_id, _ = relying_party()
    options = generate_authentication_options(
        rp_id=rp_id, challenge=challenge,
        allow_credentials=[PublicKeyCredentialDescriptor(id=bytes(c.credential_id))
                           for c in credentials],
        user_verification=UserVerificationRequirement.REQUIRED)
    return options_to_json(options)


def assertion_options(*, credentials, payload: dict) -> str:
    """Options for ``navigator.credentials.get``: any of the leader's active keys may sign."""
    return authentication_options(credentials=credentials, challenge=approval_challenge(payload))


def parse_assertion(assertion) -> dict:
    try:
        parsed = json.loads(assertion) if isinstance(assertion, str | bytes) else assertion
        parsed["rawId"], parsed["response"]["signature"]
    except (ValueError, TypeError, KeyError) as error:
        raise ApprovalError("安全密钥返回的签名数据格式不正确。") from error
    return parsed


def credential_for_assertion(*, user, assertion) -> SigningCredential:
    """The user's active WebAuthn credential that produced ``assertion``."""
    raw_id = base64url_to_bytes(parse_assertion(assertion)["rawId"])
    for credential in user.signing_credentials.filter(kind=SigningCredential.Kind.WEBAUTHN,
                                                      revoked_at=None):
        if bytes(credential.credential_id) == raw_id:
            return credential
    raise ApprovalError("该安全密钥未登记或已吊销。")


@transaction.atomic
def verify_assertion(*, credential: SigningCredential, assertion, challenge: bytes) -> None:
    """Check that ``credential`` (active, WebAuthn) answered ``challenge`` with ``assertion``,
    with user verification, at our relying party; advance its signature counter."""
    if not credential.is_active or credential.kind != SigningCredential.Kind.WEBAUTHN:
        raise ApprovalError("签名凭证无效或已吊销。")
    rp_id, origins = relying_party()
    try:
        verified = verify_authentication_response(
            credential=assertion, expected_challenge=challenge,
            expected_rp_id=rp_id, expected_origin=origins,
            credential_public_key=base64url_to_bytes(credential.sealed_key["cose_public_key"]),
            credential_current_sign_count=credential.sign_count, require_user_verification=True)
    except WebAuthnException as error:  # a bad signature, or malformed data
        raise ApprovalError(f"安全密钥签名验证失败：{error}") from error
    credential.sign_count = verified.new_sign_count
    credential.save(update_fields=["sign_count"])


@transaction.atomic
def sign_with_passkey(*, credential: SigningCredential, payload: dict, assertion,
                      revision, task_state=None) -> Approval:
    verify_assertion(credential=credential, assertion=assertion,
                     challenge=approval_challenge(payload))
    response = parse_assertion(assertion)["response"]
    b64 = lambda name: base64.b64encode(base64url_to_bytes(response[name])).decode()  # noqa: E731
    signature = {"alg": credential.algorithm, "key_id": credential.key_id,
                 "value": b64("signature"), "authenticator_data": b64("authenticatorData"),
                 "client_data_json": b64("clientDataJSON")}
    return record_approval(credential=credential, payload=payload, signature=signature,
                           revision=revision, task_state=task_state)
