"""The log key: the Ed25519 key that signs checkpoints, separate from every leader's key.

It signs unattended (daily checkpoints), so it lives in a file readable only by the service
(``REVIEW_LOG_KEY_FILE``, default ``CMS_DATA_DIR/keys/publication-log.pem``), created on first
use. Its public key goes out with every audit bundle and checkpoint.
"""

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings

from review.keys import key_id


def log_key_path() -> Path:
    configured = getattr(settings, "REVIEW_LOG_KEY_FILE", None)
    return Path(configured) if configured else Path(settings.DATA_DIR) / "keys" / \
        "publication-log.pem"


def log_origin() -> str:
    """The checkpoint origin and the log key's name: a schema-less URL naming this log."""
    return settings.REVIEW_LOG_ORIGIN


def load_log_key() -> Ed25519PrivateKey:
    path = log_key_path()
    if not path.exists():
        _create(path)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    try:  # O_EXCL: two processes starting at once must not each write a different key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


def log_public_key_der() -> bytes:
    return load_log_key().public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def log_public_key_pem() -> bytes:
    return load_log_key().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def log_key_id() -> str:
    return key_id(log_public_key_der())
