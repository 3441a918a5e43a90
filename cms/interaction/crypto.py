"""Contact details encrypted at rest (AES-256-GCM) with a key kept outside the database.

Like the log key (review.register.logkey) it is a file readable only by the service
(``CMS_INTERACTION_KEY_FILE``, default ``CMS_DATA_DIR/keys/interaction-contacts.key``),
created on first use. A copy of the database alone reveals no sender. Back the key up apart
from the database: without it the contact details cannot be read.
Each value is bound to its message's ticket code (associated data), so a ciphertext copied
onto another message does not decrypt.
"""

import json
import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

from review.keys import create_key_file

VERSION = b"\x01"


def key_path() -> Path:
    configured = getattr(settings, "CMS_INTERACTION_KEY_FILE", None)
    return Path(configured) if configured else Path(settings.DATA_DIR) / "keys" / \
        "interaction-contacts.key"


def _load_key() -> bytes:
    path = key_path()
    if not path.exists():
        create_key_file(path, AESGCM.generate_key(bit_length=256))
    key = path.read_bytes()
    if len(key) != 32:
        raise ValueError(f"{path} is not a 256-bit key")
    return key


def seal(contact: dict, *, code: str) -> bytes:
    nonce = os.urandom(12)
    plain = json.dumps(contact, ensure_ascii=False, sort_keys=True).encode()
    return VERSION + nonce + AESGCM(_load_key()).encrypt(nonce, plain, code.encode())


def open_sealed(data: bytes, *, code: str) -> dict:
    data = bytes(data)
    if not data:
        return {}
    if data[:1] != VERSION:
        raise ValueError("unknown contact encryption version")
    nonce, sealed = data[1:13], data[13:]
    return json.loads(AESGCM(_load_key()).decrypt(nonce, sealed, code.encode()))
