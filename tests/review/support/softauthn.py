"""Pure-Python software WebAuthn authenticator for tests (ES256 or EdDSA, 'none' attestation)."""

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from webauthn.helpers import encode_cbor  # thin wrapper over cbor2 (a hard dep of webauthn)


def b64u(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


UP, UV, AT = 0x01, 0x04, 0x40


@dataclass
class SoftAuthenticator:
    rp_id: str = "localhost"
    origin: str = "http://localhost:8000"
    alg: int = -7  # -7 ES256 (P-256) or -8 EdDSA (Ed25519)
    aaguid: bytes = bytes(16)
    credential_id: bytes = field(default_factory=lambda: os.urandom(32))
    sign_count: int = 0

    def __post_init__(self):
        self.key = (
            ec.generate_private_key(ec.SECP256R1())
            if self.alg == -7
            else ed25519.Ed25519PrivateKey.generate()
        )

    def cose_public_key(self) -> bytes:
        pub = self.key.public_key()
        if self.alg == -7:
            n = pub.public_numbers()
            return encode_cbor(
                {1: 2, 3: -7, -1: 1, -2: n.x.to_bytes(32, "big"), -3: n.y.to_bytes(32, "big")}
            )
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        return encode_cbor(
            {1: 1, 3: -8, -1: 6, -2: pub.public_bytes(Encoding.Raw, PublicFormat.Raw)}
        )

    def _auth_data(self, flags: int, attested: bytes = b"") -> bytes:
        rp_hash = hashlib.sha256(self.rp_id.encode()).digest()
        return rp_hash + bytes([flags]) + struct.pack(">I", self.sign_count) + attested

    def _client_data(self, typ: str, challenge: bytes) -> bytes:
        return json.dumps(
            {
                "type": typ,
                "challenge": b64u(challenge),
                "origin": self.origin,
                "crossOrigin": False,
            },
            separators=(",", ":"),
        ).encode()

    def _sign(self, data: bytes) -> bytes:
        if self.alg == -7:
            return self.key.sign(data, ec.ECDSA(hashes.SHA256()))  # DER (ASN.1) signature
        return self.key.sign(data)  # raw 64-byte Ed25519

    def create(self, challenge: bytes) -> dict:
        """Equivalent of navigator.credentials.create() -> PublicKeyCredential.toJSON()."""
        attested = (
            self.aaguid
            + struct.pack(">H", len(self.credential_id))
            + self.credential_id
            + self.cose_public_key()
        )
        auth_data = self._auth_data(UP | UV | AT, attested)
        att_obj = encode_cbor({"fmt": "none", "attStmt": {}, "authData": auth_data})
        cdj = self._client_data("webauthn.create", challenge)
        return {
            "id": b64u(self.credential_id),
            "rawId": b64u(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64u(cdj),
                "attestationObject": b64u(att_obj),
                "transports": ["internal"],
            },
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
        }

    def get(self, challenge: bytes, user_handle: bytes | None = None) -> dict:
        """Equivalent of navigator.credentials.get() -> PublicKeyCredential.toJSON()."""
        self.sign_count += 1
        auth_data = self._auth_data(UP | UV)
        cdj = self._client_data("webauthn.get", challenge)
        sig = self._sign(auth_data + hashlib.sha256(cdj).digest())
        resp = {
            "clientDataJSON": b64u(cdj),
            "authenticatorData": b64u(auth_data),
            "signature": b64u(sig),
        }
        if user_handle is not None:
            resp["userHandle"] = b64u(user_handle)
        return {
            "id": b64u(self.credential_id),
            "rawId": b64u(self.credential_id),
            "type": "public-key",
            "response": resp,
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
        }
