"""Publication register figures: verifying a million entries, exporting them, check-live.

    .venv/bin/python bench/register.py [--entries 1000000] [--live-pages 100000] [--jobs 2]
        [--files-per-page 1] [--file-kb 100]

Runs against a throwaway PostgreSQL database on 127.0.0.1:5432 (user postgres), created and
dropped here. It builds the demo network with --live-pages generated articles (each signed by
its school's leader and registered, as ``demo --articles`` does), then pads the register with
synthetic signed entries up to --entries (Ed25519, chained, appended in bulk), and times:
a checkpoint, ``publication_log verify`` (every chain link, every signature, the checkpoint
root), a full ``export`` and the standalone verifier on the bundle (chain and Merkle tree;
signatures with openssl on a sample), and ``check-live`` over the live pages: their content
and audience, then the bytes of every file their approvals sign (--files-per-page distinct
files of --file-kb each per page, kept in the originals store), each timed on its own.
"""

import argparse
import base64
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from throwaway import throwaway_database

BATCH = 20_000


def main() -> None:
    parser = argparse.ArgumentParser(
        description="发布登记性能：核验百万条登记、导出、上线内容核对。")
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--live-pages", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--sample", type=int, default=1000,
                        help="独立核验程序用 openssl 核验的签名数")
    parser.add_argument("--files-per-page", type=int, default=1,
                        help="每个生成的线上页面签名的附件数（各不相同，存入原件库），"
                             "check-live 逐字节核对它们")
    parser.add_argument("--file-kb", type=int, default=100, help="每个附件的大小（KB）")
    args = parser.parse_args()

    with throwaway_database("cms_bench_register"):
        run(args)


def timed(label: str, function):
    started = time.perf_counter()
    result = function()
    elapsed = time.perf_counter() - started
    print(f"{label:<34} {elapsed:8.1f} s", flush=True)
    return result, elapsed


def run(args) -> None:
    import django

    django.setup()
    from django.conf import settings

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # quiet
    # No static publishing: the demo's pages would be baked in background threads while the
    # register is timed (and still be baking when the database is dropped).
    settings.BAKE_ON_PUBLICATION = False
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("demo", production_keys=True, verbosity=0, stdout=quiet)
        if args.live_pages:
            timed(f"demo --articles {args.live_pages}",
                  lambda: call_command("demo", articles=args.live_pages, verbosity=0,
                                       stdout=quiet, stderr=quiet))

    from review.models import RegisterHead
    from review.register.checkpoints import make_checkpoint
    from review.register.export import export_bundle
    from review.register.filecheck import check_signed_files
    from review.register.livecheck import check_live
    from review.register.verification import verify_register

    if args.files_per_page:
        files, _ = timed(f"sign {args.files_per_page} file(s) of {args.file_kb} KB per page",
                         lambda: attach_files(per_page=args.files_per_page,
                                              kilobytes=args.file_kb))
        print(f"{'  files':<34} {files:8,d} ({files * args.file_kb / 1024:,.0f} MB)",
              flush=True)
    # check-live before padding: the synthetic entries name pages that do not exist.
    mismatches, live_seconds = timed("check-live (content, audience)", check_live)
    print(f"{'  mismatches':<34} {len(mismatches)}", flush=True)
    print(f"{'  live pages per second':<34} {args.live_pages / live_seconds:8,.0f}", flush=True)
    # The byte verification check-live adds (publication_log check-live runs both).
    findings, files_seconds = timed("check-live (bytes of signed files)", check_signed_files)
    print(f"{'  findings':<34} {len(findings)}", flush=True)
    total = live_seconds + files_seconds
    print(f"{'check-live with byte verification':<34} {total:8.1f} s "
          f"(without: {live_seconds:.1f} s)", flush=True)
    if args.live_pages:
        scale = 100_000 / args.live_pages
        print(f"{'  extrapolated to 100,000 pages':<34} {total * scale:8.0f} s "
              f"(without: {live_seconds * scale:.0f} s; linear, from {args.live_pages:,} "
              "pages)", flush=True)

    existing = RegisterHead.objects.get(pk=1).seq
    padding = max(0, args.entries - existing)
    timed(f"append {padding} synthetic entries", lambda: pad_register(padding))
    size = RegisterHead.objects.get(pk=1).seq
    print(f"{'register size':<34} {size:8d} entries", flush=True)

    timed("checkpoint", make_checkpoint)
    report, verify_seconds = timed(f"verify (database, {args.jobs} processes)",
                                   lambda: verify_register(jobs=args.jobs))
    print(f"{'  intact':<34} {report.intact} ({report.signatures} signatures, "
          f"{size / verify_seconds:,.0f} entries/s)", flush=True)

    out = Path(tempfile.mkdtemp(prefix="cms-bundle-")) / "bundle"
    summary, export_seconds = timed("export (complete bundle)", lambda: export_bundle(out=out))
    megabytes = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 1e6
    print(f"{'  bundle':<34} {megabytes:8.1f} MB, {summary.entries / export_seconds:,.0f} "
          f"entries/s", flush=True)
    verifier = [sys.executable, str(out / "verify_bundle.py"), str(out)]
    completed, _ = timed(f"standalone verifier, {args.sample} sigs",
                         lambda: subprocess.run([*verifier, "--signatures",
                                                 f"sample:{args.sample}"],
                                                capture_output=True, text=True))
    print(f"{'  exit code':<34} {completed.returncode}", flush=True)



def attach_files(*, per_page: int, kilobytes: int) -> int:
    """Register each generated live article again — same revision, same content hash,
    signed anew by a bench key — naming ``per_page`` files of its own (random bytes, so no
    two alike, ``kilobytes`` each) kept in the originals store: the bytes check-live's file
    verification reads (from the page cache, having just been written). The files have no
    document rows: while its original is intact, a file is checked by its bytes alone."""
    from io import BytesIO

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from django.contrib.auth import get_user_model
    from django.contrib.contenttypes.models import ContentType
    from wagtail.models import Page

    from backups.stores import store
    from review.canonical import canonical_json
    from review.keys import key_id
    from review.models import RegisterEntry, SigningCredential
    from review.register.entries import append_many

    private = Ed25519PrivateKey.generate()
    der = private.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    credential = SigningCredential.objects.create(
        user=get_user_model().objects.create_user(username="bench_files_leader"),
        kind=SigningCredential.Kind.PASSPHRASE, name="bench files", algorithm="ed25519",
        key_id=key_id(der), public_key_der=der, sealed_key={})
    page_type = ContentType.objects.get_for_model(Page)
    latest = {}
    for row in (RegisterEntry.objects.filter(content_type=page_type)
                .order_by("seq").iterator(chunk_size=5000)):
        latest[row.object_id] = row
    originals, records, count = store(), [], 0
    for object_id, row in latest.items():
        if row.kind != RegisterEntry.Kind.PUBLICATION:
            continue
        attachments = []
        for _ in range(per_page):
            count += 1
            sha256, size = originals.put(BytesIO(os.urandom(kilobytes * 1024)))
            attachments.append({"kind": "document", "id": 10_000_000 + count,
                                "filename": f"bench-{count}.pdf", "size": size,
                                "sha256": sha256, "title": f"压测附件{count}"})
        approval = {**row.entry["approval"], "attachments": attachments,
                    "nonce": secrets.token_hex(16)}
        records.append({
            "kind": RegisterEntry.Kind.PUBLICATION, "content_type": page_type,
            "object_id": object_id, "approval": approval,
            "signature": {"alg": "ed25519", "key_id": credential.key_id,
                          "value": base64.b64encode(private.sign(canonical_json(approval)))
                          .decode()},
            "published_by": row.entry["published_by"], "revision_id": row.revision_id,
            "content_sha256": row.content_sha256})
        if len(records) == BATCH:
            append_many(records)
            records = []
    if records:
        append_many(records)
    return count


def pad_register(count: int) -> None:
    """Synthetic publications signed by four leaders' Ed25519 keys, appended in bulk."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from django.contrib.auth import get_user_model
    from django.contrib.contenttypes.models import ContentType
    from wagtail.models import Page

    from review.canonical import canonical_json
    from review.keys import key_id
    from review.models import RegisterEntry, SigningCredential
    from review.register.entries import append_many

    leader = get_user_model().objects.create_user(username="bench_leader")
    signers = []
    for number in range(4):
        private = Ed25519PrivateKey.generate()
        der = private.public_key().public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
        credential = SigningCredential.objects.create(
            user=leader, kind=SigningCredential.Kind.PASSPHRASE, name=f"bench {number}",
            algorithm="ed25519", key_id=key_id(der), public_key_der=der, sealed_key={})
        signers.append((private, credential.key_id))
    page_type = ContentType.objects.get_for_model(Page)
    for start in range(0, count, BATCH):
        records = []
        for number in range(start, min(start + BATCH, count)):
            private, signer_id = signers[number % len(signers)]
            approval = {
                "model": "cms.articlepage", "object_id": str(10_000_000 + number),
                "page_id": 10_000_000 + number, "site": "bench.localhost",
                "title": f"压测登记第{number}条：关于开展2026年秋季学期教学检查的通知",
                "url": f"http://bench.localhost/news/a{number}/", "revision_id": number + 1,
                "content_sha256": secrets.token_hex(32), "attachments": [],
                "operator": "bench_teacher", "first_reviewer": "bench_admin",
                "approver": "bench_leader", "submitted_at": "2026-11-21T08:00:00Z",
                "approved_at": "2026-11-21T09:00:00Z", "go_live_at": None,
                "nonce": secrets.token_hex(16)}
            value = private.sign(canonical_json(approval))
            records.append({
                "kind": RegisterEntry.Kind.PUBLICATION, "content_type": page_type,
                "object_id": approval["object_id"], "approval": approval,
                "signature": {"alg": "ed25519", "key_id": signer_id,
                              "value": base64.b64encode(value).decode()},
                "published_by": "bench_leader", "content_sha256": approval["content_sha256"]})
        append_many(records)
        print(f"\r  appended {min(start + BATCH, count):,}/{count:,}", end="", file=sys.stderr,
              flush=True)
    print(file=sys.stderr)


if __name__ == "__main__":
    main()
