"""Merkle checkpoints of the publication register, signed with the log key."""

import base64
from collections.abc import Iterator

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import transaction

from review.canonical import canonical_json
from review.register import merkle, signednote
from review.register.logkey import load_log_key, log_origin
from review.register.models import Checkpoint, RegisterEntry, RegisterHead

CHUNK = 5000


def entries_up_to(size: int) -> Iterator[dict]:
    """Stored entries with seq 1..size, in order."""
    return (RegisterEntry.objects.filter(seq__lte=size).order_by("seq")
            .values_list("entry", flat=True).iterator(chunk_size=CHUNK))


def leaf_hashes(size: int) -> list[bytes]:
    return [merkle.leaf_hash(canonical_json(entry)) for entry in entries_up_to(size)]


def sign_checkpoint(*, size: int, root: bytes) -> str:
    key = load_log_key()
    origin = log_origin()
    body = signednote.checkpoint_body(origin=origin, size=size, root=root)
    public_raw = key.public_key().public_bytes_raw()
    return signednote.signed_note(body, name=origin,
                                  key_hash=signednote.ed25519_key_hash(origin, public_raw),
                                  signature=key.sign(body.encode()))


def make_checkpoint(*, force: bool = False) -> Checkpoint:
    """Sign the tree of every entry appended so far (the latest checkpoint again if nothing
    was appended since, unless ``force``). Entries never change, so nothing is locked while
    the root is computed: publications go on meanwhile and fall into the next checkpoint."""
    size = RegisterHead.objects.get(pk=1).seq
    latest = Checkpoint.objects.order_by("-size", "-pk").first()
    if latest is not None and latest.size == size and not force:
        return latest
    accumulator = merkle.RootAccumulator()
    for entry in entries_up_to(size):
        accumulator.add(merkle.leaf_hash(canonical_json(entry)))
    if accumulator.size != size:
        raise RuntimeError(f"register has {accumulator.size} entries up to head #{size}")
    root = accumulator.root()
    with transaction.atomic():
        return Checkpoint.objects.create(size=size, root_hash=root.hex(), origin=log_origin(),
                                         note=sign_checkpoint(size=size, root=root))


def checkpoint_root(checkpoint: Checkpoint) -> bytes:
    body, _ = signednote.parse_signed_note(checkpoint.note)
    _, _, root = signednote.parse_checkpoint_body(body)
    return root


def checkpoint_signature_holds(note: str, *, public_key_raw: bytes) -> bool:
    """The note carries a valid signature by the log key over its body."""
    try:
        body, signatures = signednote.parse_signed_note(note)
        origin, _, _ = signednote.parse_checkpoint_body(body)
    except signednote.NoteError:
        return False
    expected_hash = signednote.ed25519_key_hash(origin, public_key_raw)
    key = Ed25519PublicKey.from_public_bytes(public_key_raw)
    for name, key_hash, signature in signatures:
        if name == origin and key_hash == expected_hash:
            try:
                key.verify(signature, body.encode())
            except InvalidSignature:
                return False
            return True
    return False


def root_b64(root: bytes) -> str:
    return base64.b64encode(root).decode()
