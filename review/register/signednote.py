"""Checkpoints as C2SP signed notes (https://c2sp.org/tlog-checkpoint, c2sp.org/signed-note).

A checkpoint body is three lines — origin, tree size, base64 root hash — each ending in a
newline. The signed note appends a blank line and one signature line per signer:
"— <key name> <base64(4-byte key hash ‖ signature)>". For Ed25519 the key hash is the first
four bytes of SHA-256(key name ‖ "\\n" ‖ 0x01 ‖ 32-byte public key) and the signature covers
the body's bytes.

Standard library only: this file is copied into every audit bundle beside the verifier.
"""

import base64
import hashlib

ED25519_ALGORITHM = b"\x01"
SIGNATURE_PREFIX = "\u2014 "  # an em dash and a space


class NoteError(ValueError):
    """Not a well-formed checkpoint or signed note."""


def checkpoint_body(*, origin: str, size: int, root: bytes) -> str:
    if not origin or "\n" in origin:
        raise NoteError("the origin must be one non-empty line")
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def parse_checkpoint_body(body: str) -> tuple[str, int, bytes]:
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "" or not lines[0]:
        raise NoteError("a checkpoint has an origin, a size and a root hash, one a line")
    try:
        size = int(lines[1])
        root = base64.b64decode(lines[2], validate=True)
    except ValueError as error:
        raise NoteError(f"bad size or root hash: {error}") from error
    if size < 0 or str(size) != lines[1] or len(root) != 32:
        raise NoteError("bad size or root hash")
    return lines[0], size, root


def ed25519_key_hash(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519_ALGORITHM + public_key).digest()[:4]


def signed_note(body: str, *, name: str, key_hash: bytes, signature: bytes) -> str:
    encoded = base64.b64encode(key_hash + signature).decode()
    return f"{body}\n{SIGNATURE_PREFIX}{name} {encoded}\n"


def parse_signed_note(text: str) -> tuple[str, list[tuple[str, bytes, bytes]]]:
    """The body and its signatures as (key name, key hash, signature)."""
    body, separator, signature_block = text.partition("\n\n")
    if not separator or not signature_block.endswith("\n"):
        raise NoteError("a signed note is a body, a blank line and signature lines")
    signatures = []
    for line in signature_block[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError(f"not a signature line: {line!r}")
        name, _, encoded = line[len(SIGNATURE_PREFIX):].rpartition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except ValueError as error:
            raise NoteError(f"bad signature encoding: {error}") from error
        if not name or len(raw) < 5:
            raise NoteError(f"bad signature line: {line!r}")
        signatures.append((name, raw[:4], raw[4:]))
    return body + "\n", signatures
