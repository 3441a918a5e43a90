"""Passphrase signing keys: Ed25519, the private key stored only encrypted.

The private key is encrypted with AES-256-GCM under a key derived from the leader's
passphrase with Argon2id (memory-hard: 64 MiB, 3 passes). The KDF parameters travel with the
sealed key so they can be raised later without breaking existing keys. Plain functions, no
Django.

One lane: with more than one, OpenSSL's Argon2 (through cryptography 50) deadlocks as soon
as two threads derive at once — two leaders signing on a threaded server. Keys sealed with
more lanes still open, one derivation at a time in this process.
"""

import base64
import contextlib
import hashlib
import os
import threading
from dataclasses import asdict, dataclass

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from review.exceptions import PassphraseError

MIN_PASSPHRASE_LENGTH = 12


_MULTI_LANE_LOCK = threading.Lock()


@dataclass(frozen=True)
class KdfParams:
    memory_kib: int = 64 * 1024
    iterations: int = 3
    lanes: int = 1


@dataclass(frozen=True)
class SealedKey:
    """What is stored: the public key and the encrypted private key with its KDF inputs."""

    public_key_der: bytes
    ciphertext: bytes
    salt: bytes
    nonce: bytes
    kdf: KdfParams

    def to_json(self) -> dict:
        b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
        return {"public_key_der": b64(self.public_key_der), "ciphertext": b64(self.ciphertext),
                "salt": b64(self.salt), "nonce": b64(self.nonce), "kdf": asdict(self.kdf)}

    @classmethod
    def from_json(cls, data: dict) -> "SealedKey":
        raw = {k: base64.b64decode(data[k]) for k in ("public_key_der", "ciphertext", "salt",
                                                        "nonce")}
        return cls(**raw, kdf=KdfParams(**data["kdf"]))


def key_id(public_key_der: bytes) -> str:
    """Hex SHA-256 of the SubjectPublicKeyInfo DER: how entries name the key."""
    return hashlib.sha256(public_key_der).hexdigest()


def public_key_pem(public_key_der: bytes) -> str:
    key = serialization.load_der_public_key(public_key_der)
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _derive(passphrase: str, salt: bytes, kdf: KdfParams) -> bytes:
    argon = Argon2id(salt=salt, length=32, iterations=kdf.iterations, lanes=kdf.lanes,
                     memory_cost=kdf.memory_kib)
    if kdf.lanes == 1:
        return argon.derive(passphrase.encode())
    with _MULTI_LANE_LOCK:
        return argon.derive(passphrase.encode())


def create_sealed_key(passphrase: str, *, kdf: KdfParams | None = None) -> SealedKey:
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise PassphraseError(f"签名口令至少需要 {MIN_PASSPHRASE_LENGTH} 个字符。")
    kdf = kdf or KdfParams()
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
    public_der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    salt, nonce = os.urandom(16), os.urandom(12)
    ciphertext = AESGCM(_derive(passphrase, salt, kdf)).encrypt(nonce, raw, public_der)
    return SealedKey(public_key_der=public_der, ciphertext=ciphertext, salt=salt, nonce=nonce,
                     kdf=kdf)


def sign(sealed: SealedKey, passphrase: str, message: bytes) -> bytes:
    """Open the key with the passphrase and sign; the private key never leaves this call."""
    return sign_many(sealed, passphrase, [message])[0]


def sign_many(sealed: SealedKey, passphrase: str, messages: list[bytes]) -> list[bytes]:
    """Open the key once and sign each message (bulk imports); the key never leaves."""
    try:
        raw = AESGCM(_derive(passphrase, sealed.salt, sealed.kdf)).decrypt(
            sealed.nonce, sealed.ciphertext, sealed.public_key_der)
    except InvalidTag as error:
        raise PassphraseError("签名口令不正确。") from error
    private = Ed25519PrivateKey.from_private_bytes(raw)
    return [private.sign(message) for message in messages]


def verify_ed25519(public_key_der: bytes, signature: bytes, message: bytes) -> bool:
    key = serialization.load_der_public_key(public_key_der)
    if not isinstance(key, Ed25519PublicKey):
        return False
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def create_key_file(path, data: bytes) -> None:
    """Write a new key file readable only by its owner, unless one exists already.

    Written in full to a private temporary file and linked into place: a process killed
    half-way leaves no empty or partial key (which every later start would refuse), and of two
    processes creating the key at once only the first one's is kept (``link`` fails when the
    name exists, as ``O_EXCL`` does)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
