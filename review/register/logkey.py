"""The log key: the Ed25519 key that signs checkpoints, separate from every leader's key.

It signs unattended (daily checkpoints), so it lives in a file readable only by the service
(``REVIEW_LOG_KEY_FILE``, default ``CMS_DATA_DIR/keys/publication-log.pem``), created on first
use. Its public key goes out with every audit bundle and checkpoint.
"""

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings

from review.keys import create_key_file, key_id


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
    create_key_file(path, Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))


def log_public_key_der() -> bytes:
    return load_log_key().public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def log_public_key_pem() -> bytes:
    return load_log_key().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def log_key_id() -> str:
    return key_id(log_public_key_der())
