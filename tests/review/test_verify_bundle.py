"""The standalone audit-bundle verifier (review/register/bundle/verify_bundle.py), run as an auditor
would: a subprocess on a bundle directory, with only the standard library and openssl.

Bundles are built here from scratch — leaders' Ed25519 keys, WebAuthn ES256 and EdDSA
authenticators, a log key, chained entries, Merkle proofs and signed checkpoints — so these
tests need no database and pin the bundle format the exporter must write."""

import base64
import hashlib
import itertools
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from review.canonical import GENESIS_HASH, canonical_json
from review.register import merkle, signednote
from tests.review.support.softauthn import SoftAuthenticator

REPO = Path(__file__).resolve().parents[2]
VERIFIER_FILES = [REPO / "review" / "register" / "bundle" / "verify_bundle.py",
                  REPO / "review" / "register" / "merkle.py",
                  REPO / "review" / "register" / "signednote.py"]
ORIGIN = "cms.example.edu.cn/publication-log"
N = 12
CHECKPOINT_SIZES = (5, 9, 12)
# Who signs each seq: two passphrase (Ed25519) keys, two WebAuthn authenticators, a takedown.
SIGNERS = {1: "ed0", 2: "ed1", 3: "es256", 4: "ed0", 5: "eddsa", 6: "ed1", 7: None,
           8: "es256", 9: "ed0", 10: "ed1", 11: "ed0", 12: "es256"}
FILTERED_SEQS = (2, 3, 7, 11)


@dataclass
class Keys:
    log: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    ed0: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    ed1: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    es256: SoftAuthenticator = field(default_factory=lambda: SoftAuthenticator(alg=-7))
    eddsa: SoftAuthenticator = field(default_factory=lambda: SoftAuthenticator(alg=-8))

    def public(self, signer: str):
        key = getattr(self, signer)
        return (key.key if isinstance(key, SoftAuthenticator) else key).public_key()


def spki_der(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)


def spki_pem(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)


def key_id_of(public_key) -> str:
    return hashlib.sha256(spki_der(public_key)).hexdigest()


def b64url_to_b64(text: str) -> str:
    return base64.b64encode(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))).decode()


def approval_for(seq: int) -> dict:
    return {"model": "cms.articlepage", "object_id": str(100 + seq), "page_id": 100 + seq,
            "site": "yizhong.example", "title": f"关于第{seq}期校报的通知", "revision_id": seq * 10,
            "content_sha256": hashlib.sha256(f"content {seq}".encode()).hexdigest(),
            "attachments": [], "operator": "editor", "first_reviewer": "reviewer",
            "approver": "leader", "submitted_at": "2026-03-01T08:00:00Z",
            "approved_at": f"2026-03-01T09:{seq:02d}:00Z", "go_live_at": None,
            "nonce": f"{seq:032x}"}


def takedown_for(seq: int) -> dict:
    return {"action": "takedown", "model": "cms.articlepage", "object_id": "101",
            "page_id": 101, "site": "yizhong.example", "title": "关于第1期校报的通知",
            "revision_id": 10, "reason": "内容有误", "operator": "admin",
            "taken_down_at": f"2026-03-02T10:{seq:02d}:00Z"}


def sign(keys: Keys, signer: str, approval: dict) -> dict:
    """The entry's signature field, as the CMS stores it."""
    message = canonical_json(approval)
    key_id = key_id_of(keys.public(signer))
    if signer.startswith("ed") and signer != "eddsa":
        return {"alg": "ed25519", "key_id": key_id,
                "value": base64.b64encode(getattr(keys, signer).sign(message)).decode()}
    response = getattr(keys, signer).get(hashlib.sha256(message).digest())["response"]
    return {"alg": "webauthn-es256" if signer == "es256" else "webauthn-eddsa",
            "key_id": key_id, "value": b64url_to_b64(response["signature"]),
            "authenticator_data": b64url_to_b64(response["authenticatorData"]),
            "client_data_json": b64url_to_b64(response["clientDataJSON"])}


def signed_note(log_key: Ed25519PrivateKey, size: int, root: bytes) -> str:
    body = signednote.checkpoint_body(origin=ORIGIN, size=size, root=root)
    key_hash = signednote.ed25519_key_hash(ORIGIN, log_key.public_key().public_bytes_raw())
    return signednote.signed_note(body, name=ORIGIN, key_hash=key_hash,
                                  signature=log_key.sign(body.encode()))


@dataclass
class Bundle:
    path: Path
    keys: Keys
    lines: list[bytes]  # every entry of the log, canonical, without newlines
    tree: merkle.MerkleTree

    def run(self, *args: str, verifier_dir: Path | None = None) -> subprocess.CompletedProcess:
        script = (verifier_dir or self.path) / "verify_bundle.py"
        return subprocess.run([sys.executable, str(script), str(self.path), *args],
                              capture_output=True, text=True, timeout=60)

    def entries(self) -> list[bytes]:
        return (self.path / "entries.jsonl").read_bytes().splitlines(keepends=True)

    def write_entries(self, lines: list[bytes]) -> None:
        (self.path / "entries.jsonl").write_bytes(b"".join(lines))

    def edit_entry(self, line: int, change: Callable[[dict], None], *,
                   canonical: bool = True) -> None:
        lines = self.entries()
        entry = json.loads(lines[line - 1])
        change(entry)
        lines[line - 1] = (canonical_json(entry) if canonical
                           else json.dumps(entry, ensure_ascii=False).encode()) + b"\n"
        self.write_entries(lines)


def build_bundle(path: Path, keys: Keys, *, seqs: tuple[int, ...] | None = None,
                 signed_approval: Callable[[int, dict], dict] = lambda seq, a: a,
                 edit: Callable[[int, dict], None] = lambda seq, e: None) -> Bundle:
    """A bundle of the log of N entries (or of ``seqs`` only: a filtered export).
    ``signed_approval`` picks what the leader actually signed; ``edit`` changes an entry
    before it is chained (so only the intended check can fail)."""
    lines, previous = [], GENESIS_HASH
    for seq in range(1, N + 1):
        signer = SIGNERS[seq]
        approval = approval_for(seq) if signer else takedown_for(seq)
        entry = {"seq": seq, "kind": "publication" if signer else "takedown",
                 "approval": approval,
                 "signature": sign(keys, signer, signed_approval(seq, approval)) if signer
                 else None,
                 "published_at": f"2026-03-01T10:{seq:02d}:00Z", "published_by": "leader",
                 "prev_hash": previous}
        edit(seq, entry)
        lines.append(canonical_json(entry))
        previous = hashlib.sha256(lines[-1]).hexdigest()
    tree = merkle.MerkleTree([merkle.leaf_hash(line) for line in lines])
    chosen = seqs or tuple(range(1, N + 1))

    path.mkdir(parents=True)
    (path / "entries.jsonl").write_bytes(b"".join(lines[seq - 1] + b"\n" for seq in chosen))
    (path / "proofs.jsonl").write_text("".join(
        json.dumps({"seq": seq, "leaf_index": seq - 1, "tree_size": N,
                    "inclusion": [node.hex() for node in tree.inclusion_proof(seq - 1)]}) + "\n"
        for seq in chosen))
    (path / "keys").mkdir()
    for signer in {SIGNERS[seq] for seq in chosen} - {None}:
        public = keys.public(signer)
        (path / "keys" / f"{key_id_of(public)}.pem").write_bytes(spki_pem(public))
    checkpoints = path / "checkpoints"
    checkpoints.mkdir()
    (checkpoints / "log-key.pem").write_bytes(spki_pem(keys.log.public_key()))
    for size in CHECKPOINT_SIZES:
        (checkpoints / f"{size}.txt").write_text(signed_note(keys.log, size, tree.root(size)))
    (checkpoints / "consistency.jsonl").write_text("".join(
        json.dumps({"old_size": old, "new_size": new,
                    "proof": [node.hex() for node in tree.consistency_proof(old, new)]}) + "\n"
        for old, new in itertools.pairwise(CHECKPOINT_SIZES)))
    (path / "manifest.json").write_text(json.dumps({
        "origin": ORIGIN, "log_key_name": ORIGIN, "exported_at": "2026-03-03T00:00:00+08:00",
        "filters": {"site": "yizhong" if seqs else None, "from": None, "to": None},
        "complete": seqs is None, "entries": len(chosen), "tree_size": N,
        "latest_checkpoint": f"checkpoints/{N}.txt"}, ensure_ascii=False, indent=2))
    for source in VERIFIER_FILES:
        shutil.copy(source, path / source.name)
    return Bundle(path=path, keys=keys, lines=lines, tree=tree)


def first_problem(result: subprocess.CompletedProcess) -> str:
    return next(line for line in result.stdout.splitlines() if line.startswith("TAMPERED: "))


def assert_tampered(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    problem = first_problem(result)
    for fragment in fragments:
        assert fragment in problem, problem


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


@pytest.fixture(scope="module")
def templates(tmp_path_factory, keys) -> dict[str, Bundle]:
    root = tmp_path_factory.mktemp("templates")
    return {"complete": build_bundle(root / "complete", keys),
            "filtered": build_bundle(root / "filtered", keys, seqs=FILTERED_SEQS)}


def copy_of(template: Bundle, tmp_path: Path) -> Bundle:
    path = tmp_path / "bundle"
    shutil.copytree(template.path, path)
    return Bundle(path=path, keys=template.keys, lines=template.lines, tree=template.tree)


@pytest.fixture
def bundle(templates, tmp_path) -> Bundle:
    return copy_of(templates["complete"], tmp_path)


@pytest.fixture
def filtered(templates, tmp_path) -> Bundle:
    return copy_of(templates["filtered"], tmp_path)


# --- intact bundles ---------------------------------------------------------------------------

def test_an_intact_complete_bundle_verifies(bundle):
    result = bundle.run()
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("INTACT")
    root = bundle.tree.root()
    assert root.hex() in result.stdout and base64.b64encode(root).decode() in result.stdout
    assert "11 verified with openssl" in result.stdout  # 12 entries, one a takedown
    assert "3 (sizes 5, 9, 12)" in result.stdout
    assert hashlib.sha256(spki_der(bundle.keys.log.public_key())).hexdigest() in result.stdout


def test_an_intact_filtered_bundle_verifies(filtered):
    result = filtered.run()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "filtered" in result.stdout and "3 verified with openssl" in result.stdout


def test_the_verifier_runs_from_outside_the_bundle(bundle, tmp_path):
    """As `publication_log verify --bundle` runs its own copy, with the bundle as data."""
    tools = tmp_path / "tools"
    tools.mkdir()
    for source in VERIFIER_FILES:
        shutil.copy(source, tools / source.name)
    (bundle.path / "merkle.py").write_text("raise SystemExit('the bundle copy was imported')")
    assert bundle.run(verifier_dir=tools).returncode == 0


def test_a_sample_of_signatures_and_none(bundle):
    sampled = bundle.run("--signatures", "sample:3", "--jobs", "2")
    assert sampled.returncode == 0 and "3 verified with openssl" in sampled.stdout
    unsigned = bundle.run("--signatures", "none")
    assert unsigned.returncode == 0 and "0 verified with openssl" in unsigned.stdout


# --- tampering --------------------------------------------------------------------------------

def edit_title(entry: dict) -> None:
    entry["approval"]["title"] = "被改过的标题"


def test_an_edited_approval_is_reported_at_that_entry(bundle):
    bundle.edit_entry(6, edit_title)
    assert_tampered(bundle.run(), "entry seq 6 (line 6)", "signature does not verify")


def test_keep_going_lists_every_consequence(bundle):
    bundle.edit_entry(6, edit_title)
    result = bundle.run("--keep-going")
    problems = [line for line in result.stdout.splitlines() if line.startswith("TAMPERED")]
    assert result.returncode == 1
    assert "entry seq 6 (line 6)" in problems[0]
    assert "entry seq 7 (line 7)" in problems[1] and "chain broken" in problems[1]
    assert any("checkpoints/9.txt" in p and "root does not match" in p for p in problems)


def test_without_signatures_the_chain_still_catches_an_edit(bundle):
    bundle.edit_entry(6, edit_title)
    assert_tampered(bundle.run("--signatures", "none"), "entry seq 7 (line 7)", "chain broken",
                    "seq 6")


def test_without_signatures_the_merkle_root_catches_an_edited_last_entry(bundle):
    """published_by is not signed, and no entry after the last one chains to it."""
    bundle.edit_entry(N, lambda entry: entry.update(published_by="someone-else"))
    assert_tampered(bundle.run("--signatures", "none"), f"checkpoint checkpoints/{N}.txt",
                    "root does not match")


def test_a_non_canonical_line_is_reported(bundle):
    bundle.edit_entry(3, lambda entry: None, canonical=False)
    assert_tampered(bundle.run(), "entry seq 3 (line 3)", "not canonical JSON")


def test_a_deleted_middle_line_is_reported_as_missing(bundle):
    lines = bundle.entries()
    del lines[5]  # seq 6
    bundle.write_entries(lines)
    assert_tampered(bundle.run(), "entry seq 6 (line 6)", "missing", "holds seq 7")


def test_a_deleted_last_line_is_reported_as_missing(bundle):
    bundle.write_entries(bundle.entries()[:-1])
    assert_tampered(bundle.run(), f"entry seq {N}", "missing")


def test_a_forged_checkpoint_signature_is_reported(bundle):
    note = bundle.path / "checkpoints" / "9.txt"
    body, [(name, key_hash, _)] = signednote.parse_signed_note(note.read_text())
    forger = Ed25519PrivateKey.generate()
    note.write_text(signednote.signed_note(body, name=name, key_hash=key_hash,
                                           signature=forger.sign(body.encode())))
    assert_tampered(bundle.run(), "checkpoint checkpoints/9.txt", "signature does not verify")


def test_a_checkpoint_root_that_does_not_match_the_entries(bundle):
    (bundle.path / "checkpoints" / "9.txt").write_text(
        signed_note(bundle.keys.log, 9, bundle.tree.root(8)))
    assert_tampered(bundle.run(), "checkpoint checkpoints/9.txt", "root does not match")


def test_a_rewritten_checkpoint_breaks_consistency_in_a_filtered_bundle(filtered):
    (filtered.path / "checkpoints" / "9.txt").write_text(
        signed_note(filtered.keys.log, 9, filtered.tree.root(8)))
    assert_tampered(filtered.run(), "checkpoint checkpoints/9.txt", "not consistent")


def test_an_edited_entry_of_a_filtered_bundle_fails_its_inclusion_proof(filtered):
    filtered.edit_entry(2, edit_title)  # seq 3
    assert_tampered(filtered.run(), "entry seq 3 (line 2)", "inclusion proof")


def test_a_swapped_key_file_is_reported_at_the_first_entry_using_it(bundle):
    ed0 = key_id_of(bundle.keys.ed0.public_key())
    (bundle.path / "keys" / f"{ed0}.pem").write_bytes(spki_pem(bundle.keys.ed1.public_key()))
    assert_tampered(bundle.run(), "entry seq 1 (line 1)", "does not match its key id")


def test_a_missing_key_file_is_reported(bundle):
    (bundle.path / "keys" / f"{key_id_of(bundle.keys.es256.key.public_key())}.pem").unlink()
    assert_tampered(bundle.run(), "entry seq 3 (line 3)", "not in the bundle")


def test_another_log_key_does_not_verify_the_checkpoints(bundle, tmp_path):
    other = tmp_path / "other.pem"
    other.write_bytes(spki_pem(Ed25519PrivateKey.generate().public_key()))
    assert_tampered(bundle.run("--log-key", str(other)), "checkpoint checkpoints/5.txt",
                    "no signature by the log key")


def other_approval(seq: int, approval: dict) -> dict:
    return {**approval, "title": "另一份审批"}


def flip_signature_bit(entry: dict) -> None:
    value = bytearray(base64.b64decode(entry["signature"]["value"]))
    value[-1] ^= 1
    entry["signature"]["value"] = base64.b64encode(value).decode()


def without_user_verification(entry: dict) -> None:
    data = bytearray(base64.b64decode(entry["signature"]["authenticator_data"]))
    data[32] &= ~0x04
    entry["signature"]["authenticator_data"] = base64.b64encode(data).decode()


@pytest.mark.parametrize(("seq", "signed", "edit", "fragment"), [
    (3, other_approval, None, "WebAuthn challenge is not SHA-256 of the approval"),
    (4, other_approval, None, "signature does not verify"),
    (3, None, flip_signature_bit, "signature does not verify (webauthn-es256"),
    (5, None, flip_signature_bit, "signature does not verify (webauthn-eddsa"),
    (8, None, without_user_verification, "present and verified"),
    (4, None, lambda e: e["approval"].update(score=1.5), "floating-point"),
    (6, None, lambda e: e.update(signature=None), "has none"),
    (7, None, lambda e: e.update(signature={"alg": "ed25519"}), "carries no signature"),
    (8, None, lambda e: e.update(kind="publicaton"), "not a register kind"),
    (9, None, lambda e: e.update(extra=1), "extra: ['extra']"),
])
def test_entries_built_wrong_are_reported(tmp_path, keys, seq, signed, edit, fragment):
    """Entries chained and in the tree as they are, so only the entry check itself fails."""
    bundle = build_bundle(
        tmp_path / "bundle", keys,
        signed_approval=lambda s, a: signed(s, a) if signed and s == seq else a,
        edit=lambda s, e: edit(e) if edit and s == seq else None)
    assert_tampered(bundle.run(), f"entry seq {seq} (line {seq})", fragment)


# --- errors (exit 2) --------------------------------------------------------------------------

def test_a_missing_manifest_is_an_error(bundle):
    (bundle.path / "manifest.json").unlink()
    result = bundle.run()
    assert result.returncode == 2 and "manifest.json" in result.stderr


def test_a_missing_entries_file_is_an_error(bundle):
    (bundle.path / "entries.jsonl").unlink()
    result = bundle.run()
    assert result.returncode == 2 and "entries.jsonl" in result.stderr


def test_a_bundle_without_its_modules_is_an_error(bundle):
    (bundle.path / "merkle.py").unlink()
    result = bundle.run()
    assert result.returncode == 2 and "merkle.py" in result.stderr


def test_no_openssl_is_an_error(bundle):
    result = bundle.run("--openssl", str(bundle.path / "no-such-openssl"))
    assert result.returncode == 2 and "openssl" in result.stderr


def test_usage(bundle):
    assert bundle.run("--signatures", "some").returncode == 2
    help_ = bundle.run("--help")
    assert help_.returncode == 0 and "--signatures" in help_.stdout
