"""Checking leaders' WebAuthn signatures over approvals, with the key alone: no relying
party, no stored sign count, nothing but the approval, the signature and the public key. The
approvals module checks stored approvals with it, and so does the register's verification.
"""

import base64
import hashlib
import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from webauthn.helpers import bytes_to_base64url

from review.canonical import canonical_json

USER_PRESENT, USER_VERIFIED = 0x01, 0x04


def approval_challenge(payload: dict) -> bytes:
    return hashlib.sha256(canonical_json(payload)).digest()


def webauthn_signature_holds(public_key_der: bytes, signature: dict, payload: dict) -> bool:
    """Offline-style check: the signature over authenticatorData ‖ SHA-256(clientDataJSON),
    a clientDataJSON of type webauthn.get whose challenge is the approval's hash, and the
    user-present and user-verified flags."""
    try:
        authenticator_data = base64.b64decode(signature["authenticator_data"])
        client_data_json = base64.b64decode(signature["client_data_json"])
        value = base64.b64decode(signature["value"])
        client_data = json.loads(client_data_json)
    except (KeyError, ValueError):
        return False
    if client_data.get("type") != "webauthn.get":
        return False
    if client_data.get("challenge") != bytes_to_base64url(approval_challenge(payload)):
        return False
    if len(authenticator_data) < 37 or (authenticator_data[32] & (USER_PRESENT | USER_VERIFIED)
                                        != USER_PRESENT | USER_VERIFIED):
        return False
    signed = authenticator_data + hashlib.sha256(client_data_json).digest()
    key = serialization.load_der_public_key(public_key_der)
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(value, signed, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, Ed25519PublicKey):
            key.verify(value, signed)
        else:
            return False
    except InvalidSignature:
        return False
    return True
