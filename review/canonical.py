"""Canonical JSON (RFC 8785) and the hashes built on it. Plain functions, no Django."""

import hashlib
import json
import re
from typing import Any

import rfc8785

GENESIS_HASH = "0" * 64


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JCS) bytes: sorted keys, no spaces, UTF-8, ECMAScript number form.

    Without floats and with keys inside the Basic Multilingual Plane (so that UTF-16 and code
    point order agree), JCS is exactly ``json.dumps`` with sorted keys and no spaces, four
    times faster than the general encoder; verifying a million entries needs that.
    """
    if _plain(value):
        return json.dumps(value, ensure_ascii=False, sort_keys=True,
                          separators=(",", ":")).encode()
    return rfc8785.dumps(value)


ASTRAL_UTF8 = re.compile(rb"[\xf0-\xf4]")  # lead bytes of characters beyond U+FFFF


def _refuse_float(text: str):
    raise ValueError(f"a float ({text}) in a register entry: our entries never hold one")


def parse_canonical_source(text: str) -> tuple[Any, bytes]:
    """Parse stored JSON that must hold no floats and give its canonical bytes, without the
    walk ``canonical_json`` needs to rule floats out (verifying a million entries)."""
    value = json.loads(text, parse_float=_refuse_float, parse_constant=_refuse_float)
    return value, canonical_bytes_without_floats(value)


def canonical_bytes_without_floats(value: Any) -> bytes:
    """JCS bytes of a value known to hold no floats."""
    data = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    # Keys beyond the BMP sort differently in UTF-16: rare, so checked on the output.
    return rfc8785.dumps(value) if ASTRAL_UTF8.search(data) else data


def _plain(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and (k.isascii() or max(k) < "\U00010000") and _plain(v)
                   for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return not isinstance(value, float)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def json_normalise(value: Any, *, encoder: type[json.JSONEncoder] | None = None) -> Any:
    """Round-trip through JSON so dates, decimals and UUIDs become the strings stored."""
    return json.loads(json.dumps(value, cls=encoder, ensure_ascii=False))


def entry_hash(entry: dict) -> str:
    """The chain link: SHA-256 of an entry's canonical JSON (``prev_hash`` of the next)."""
    return sha256_hex(canonical_json(entry))
