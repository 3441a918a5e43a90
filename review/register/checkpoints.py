"""Merkle checkpoints of a chained log (the publication register by default, or the security
audit log: ``review.register.chain``), signed with the log key."""

import base64
from collections.abc import Iterator

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import transaction

from review.canonical import canonical_json
from review.register import merkle, signednote
from review.register.chain import REGISTER, ChainedLog
from review.register.logkey import load_log_key
from review.register.models import CheckpointBase

CHUNK = 5000


def entries_up_to(size: int, *, log: ChainedLog = REGISTER) -> Iterator[dict]:
    """Stored entries with seq 1..size, in order."""
    return (log.entries.objects.filter(seq__lte=size).order_by("seq")
            .values_list("entry", flat=True).iterator(chunk_size=CHUNK))


def leaf_hashes(size: int, *, log: ChainedLog = REGISTER) -> list[bytes]:
    return [merkle.leaf_hash(canonical_json(entry)) for entry in entries_up_to(size, log=log)]


def sign_checkpoint(*, size: int, root: bytes, origin: str) -> str:
    key = load_log_key()
    body = signednote.checkpoint_body(origin=origin, size=size, root=root)
    public_raw = key.public_key().public_bytes_raw()
    return signednote.signed_note(body, name=origin,
                                  key_hash=signednote.ed25519_key_hash(origin, public_raw),
                                  signature=key.sign(body.encode()))


def make_checkpoint(*, log: ChainedLog = REGISTER, force: bool = False) -> CheckpointBase:
    """Sign the tree of every entry appended so far (the latest checkpoint again if nothing
    was appended since, unless ``force``). Entries never change, so nothing is locked while
    the root is computed: appends go on meanwhile and fall into the next checkpoint."""
    size = log.head_seq()
    latest = log.latest_checkpoint()
    if latest is not None and latest.size == size and not force:
        return latest
    accumulator = merkle.RootAccumulator()
    for entry in entries_up_to(size, log=log):
        accumulator.add(merkle.leaf_hash(canonical_json(entry)))
    if accumulator.size != size:
        raise RuntimeError(f"{log.name} log has {accumulator.size} entries up to head #{size}")
    root = accumulator.root()
    origin = log.origin()
    with transaction.atomic():
        return log.checkpoints.objects.create(
            size=size, root_hash=root.hex(), origin=origin,
            note=sign_checkpoint(size=size, root=root, origin=origin))


def checkpoint_root(checkpoint: CheckpointBase) -> bytes:
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
