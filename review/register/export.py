"""The audit bundle: the register, or part of it, in a form an auditor verifies offline with
Python's standard library and openssl (review/register/bundle/VERIFY.md), without trusting us."""

import contextlib
import datetime
import itertools
import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from wagtail.models import Site

from review.canonical import canonical_json
from review.exceptions import ExportError
from review.pipeline.records import SigningCredential
from review.register import merkle
from review.register.checkpoints import make_checkpoint
from review.register.logkey import log_origin, log_public_key_pem
from review.register.models import Checkpoint, RegisterEntry
from review.register.provenance import signer_provenance

REGISTER_DIR = Path(__file__).resolve().parent
# Shipped in every bundle: the verifier and the two standard-library modules it imports.
VERIFIER_FILES = {
    "verify_bundle.py": REGISTER_DIR / "bundle" / "verify_bundle.py",
    "merkle.py": REGISTER_DIR / "merkle.py",
    "signednote.py": REGISTER_DIR / "signednote.py",
    "VERIFY.md": REGISTER_DIR / "bundle" / "VERIFY.md",
}


@dataclass(frozen=True)
class ExportSummary:
    out: Path
    entries: int
    tree_size: int
    keys: int
    checkpoints: int
    complete: bool


def site_hostname_for(slug: str) -> str:
    """A site named by its organisation's slug (the slug of the site's home page)."""
    site = Site.objects.filter(root_page__slug=slug).first()
    if site is None:
        known = ", ".join(sorted(Site.objects.values_list("root_page__slug", flat=True)))
        raise ExportError(f"没有标识为“{slug}”的网站（已有：{known}）。")
    return site.hostname


def export_bundle(*, out: Path, site: str | None = None, date_from: datetime.date | None = None,
                  date_to: datetime.date | None = None,
                  progress: Callable[[int, int], None] | None = None) -> ExportSummary:
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ExportError(f"{out} 已存在且不是空目录：不会覆盖。")
    if date_from and date_to and date_from > date_to:
        raise ExportError("起始日期晚于结束日期。")
    hostname = site_hostname_for(site) if site else None
    checkpoint = make_checkpoint()
    size = checkpoint.size
    selection = RegisterEntry.objects.filter(seq__lte=size)
    if hostname:
        selection = selection.filter(Q(entry__approval__site=hostname))
    if date_from:
        selection = selection.filter(published_at__date__gte=date_from)
    if date_to:
        selection = selection.filter(published_at__date__lte=date_to)
    complete = not (hostname or date_from or date_to)

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        summary = _write(staging, selection=selection, checkpoint=checkpoint, complete=complete,
                         filters={"site": site, "site_hostname": hostname,
                                  "from": date_from.isoformat() if date_from else None,
                                  "to": date_to.isoformat() if date_to else None},
                         progress=progress)
        if out.exists():
            out.rmdir()
        staging.rename(out)  # the bundle appears whole or not at all
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return ExportSummary(out=out, **summary)


def _write(staging: Path, *, selection, checkpoint: Checkpoint, complete: bool, filters: dict,
           progress) -> dict:
    size = checkpoint.size
    tree = merkle.MerkleTree([
        merkle.leaf_hash(canonical_json(entry))
        for entry in RegisterEntry.objects.filter(seq__lte=size).order_by("seq")
        .values_list("entry", flat=True).iterator(chunk_size=5000)])
    key_ids: set[str] = set()
    signers: set[str] = set()
    count = 0
    total = selection.count()
    # A complete bundle is checked by recomputing every root; a partial one needs each
    # entry's inclusion proof (a million proofs would more than double the bundle).
    proofs_path = staging / "proofs.jsonl"
    with (open(staging / "entries.jsonl", "wb") as entries,
          open(proofs_path, "w", encoding="utf-8") if not complete else
          contextlib.nullcontext() as proofs):
        for seq, entry in selection.order_by("seq").values_list("seq", "entry") \
                .iterator(chunk_size=5000):
            entries.write(canonical_json(entry) + b"\n")
            if proofs is not None:
                proof = [node.hex() for node in tree.inclusion_proof(seq - 1, size)]
                proofs.write(json.dumps({"seq": seq, "leaf_index": seq - 1,
                                         "tree_size": size, "inclusion": proof}) + "\n")
            if entry.get("signature"):
                key_ids.add(entry["signature"]["key_id"])
            approver = (entry.get("approval") or {}).get("approver")
            if approver:
                signers.add(approver)
            count += 1
            if progress and (count % 10_000 == 0 or count == total):
                progress(count, total)
    _write_keys(staging / "keys", key_ids)
    # Who granted each signer their role and when their keys were enrolled (the security
    # audit log's entries, by seq): for the auditor, not for the verifier.
    (staging / "signers.json").write_text(json.dumps(
        [signer_provenance(username=name) for name in sorted(signers)],
        ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    checkpoints = _write_checkpoints(staging / "checkpoints", tree=tree, size=size)
    manifest = {
        "origin": log_origin(), "log_key_name": log_origin(),
        "exported_at": timezone.now().isoformat(), "filters": filters, "complete": complete,
        "entries": count, "tree_size": size, "latest_checkpoint": f"checkpoints/{size}.txt",
        "time_zone": settings.TIME_ZONE,
    }
    (staging / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2)
                                           + "\n", encoding="utf-8")
    for name, source in VERIFIER_FILES.items():
        shutil.copyfile(source, staging / name)
    return {"entries": count, "tree_size": size, "keys": len(key_ids),
            "checkpoints": checkpoints, "complete": complete}


def _write_keys(directory: Path, key_ids: set[str]) -> None:
    directory.mkdir()
    credentials = {c.key_id: bytes(c.public_key_der)
                   for c in SigningCredential.objects.filter(key_id__in=key_ids)}
    missing = key_ids - credentials.keys()
    if missing:
        raise ExportError(f"登记中的签名密钥在数据库中不存在：{', '.join(sorted(missing))}")
    for key_id, der in credentials.items():
        pem = serialization.load_der_public_key(der).public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        (directory / f"{key_id}.pem").write_bytes(pem)


def _write_checkpoints(directory: Path, *, tree: merkle.MerkleTree, size: int) -> int:
    """Every checkpoint up to ``size`` (the latest of each size), and consistency proofs
    between consecutive ones."""
    directory.mkdir()
    (directory / "log-key.pem").write_bytes(log_public_key_pem())
    by_size = {c.size: c for c in Checkpoint.objects.filter(size__lte=size).order_by("pk")}
    sizes = sorted(by_size)
    for checkpoint_size in sizes:
        (directory / f"{checkpoint_size}.txt").write_text(by_size[checkpoint_size].note,
                                                          encoding="utf-8")
    with open(directory / "consistency.jsonl", "w", encoding="utf-8") as handle:
        for old, new in itertools.pairwise(sizes):
            if old == 0:
                continue
            proof = [node.hex() for node in tree.consistency_proof(old, new)]
            handle.write(json.dumps({"old_size": old, "new_size": new, "proof": proof}) + "\n")
    return len(sizes)
