"""Canonical JSON (RFC 8785) and the hashes built on it. Plain functions, no Django."""

import hashlib
import json
from typing import Any

import rfc8785

GENESIS_HASH = "0" * 64


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JCS) bytes: sorted keys, no spaces, UTF-8, ECMAScript number form."""
    return rfc8785.dumps(value)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def json_normalise(value: Any, *, encoder: type[json.JSONEncoder] | None = None) -> Any:
    """Round-trip through JSON so dates, decimals and UUIDs become the strings stored."""
    return json.loads(json.dumps(value, cls=encoder, ensure_ascii=False))


def entry_hash(entry: dict) -> str:
    """The chain link: SHA-256 of an entry's canonical JSON (``prev_hash`` of the next)."""
    return sha256_hex(canonical_json(entry))
