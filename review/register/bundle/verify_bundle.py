#!/usr/bin/env python3
"""Verify an audit bundle of the publication register (发布登记审计包核验工具).

    python3 verify_bundle.py BUNDLE_DIR [--signatures all|none|sample:N] [--jobs N]
                             [--keep-going] [--log-key PEM] [--openssl PATH] [--quiet]

Needs only Python 3.11's standard library and the ``openssl`` command (OpenSSL 3); it sits in
the bundle beside ``merkle.py`` (RFC 9162 Merkle trees) and ``signednote.py`` (C2SP signed
notes), which it imports. Nothing is fetched from the network. The bundle's own files are all
that is checked, so two things must be compared by other means (see VERIFY.md): the log key's
fingerprint and the latest checkpoint, both printed at the end.

What is checked, in this order:
  1. the bundle: manifest.json and the files it needs, and an openssl that verifies known
     Ed25519 and ECDSA P-256 signatures correctly (and refuses altered ones);
  2. checkpoints: every signed note parses, names the manifest's origin, has the size of its
     file name, and carries a valid Ed25519 signature by the log key (checkpoints/log-key.pem);
     in a filtered bundle, each checkpoint is consistent with the one before (RFC 9162
     consistency proofs: the log only grew);
  3. entries.jsonl, line by line: canonical JSON (RFC 8785), exactly the expected keys and
     types, and the hash chain (each prev_hash is the SHA-256 of the entry before). A complete
     bundle must hold seqs 1..N without a gap, and every checkpoint's root is recomputed from
     the entries; a filtered bundle holds increasing seqs, each proven to be in the latest
     checkpoint's tree by its inclusion proof (proofs.jsonl);
  4. leaders' signatures: each key file's SHA-256 is its key id; a WebAuthn signature's client
     data binds exactly the approval (the challenge is SHA-256 of its canonical JSON) with user
     presence and verification; and openssl verifies the signature (all of them, none, or an
     evenly spread sample).

Exit status: 0 intact; 1 tampered (the first bad item is printed, every one with
--keep-going); 2 usage error, missing or unreadable bundle files, or no usable openssl.
"""

import argparse
import base64
import binascii
import collections
import contextlib
import hashlib
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # merkle.py, signednote.py beside us
try:
    import merkle
    import signednote
except ImportError as missing:
    print(f"ERROR 无法核验: {missing.name}.py must sit beside verify_bundle.py, as it does in "
          "every audit bundle", file=sys.stderr)
    sys.exit(2)  # exit status 2: the bundle is incomplete (1 would mean tampered)

EXIT_INTACT, EXIT_TAMPERED, EXIT_ERROR = 0, 1, 2

GENESIS_HASH = "0" * 64  # the prev_hash of entry seq 1
ENTRY_KEYS = frozenset({"seq", "kind", "approval", "signature", "published_at", "published_by",
                        "prev_hash"})
SIGNED_KINDS = frozenset({"publication"})
# Takedowns (and restorations of signed content, which the CMS also registers) carry no
# signature of their own.
UNSIGNED_KINDS = frozenset({"takedown", "restoration"})
# Signature algorithm -> the kind of public key it needs.
KEY_KIND_FOR_ALGORITHM = {"ed25519": "ed25519", "webauthn-es256": "p256",
                          "webauthn-eddsa": "ed25519"}
WEBAUTHN_ALGORITHMS = frozenset({"webauthn-es256", "webauthn-eddsa"})
USER_PRESENT, USER_VERIFIED = 0x01, 0x04

# SubjectPublicKeyInfo DER of an Ed25519 key is this prefix + the raw 32-byte key; of an
# uncompressed P-256 key, this prefix + 0x04 ‖ X ‖ Y.
ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")
P256_SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200")
SPKI_LENGTH = {"ed25519": 44, "p256": 91}

HEX64 = re.compile(r"[0-9a-f]{64}")
SIZE_NAME = re.compile(r"0|[1-9][0-9]*")
PEM_BLOCK = re.compile(r"\s*-----BEGIN PUBLIC KEY-----\s*\n([A-Za-z0-9+/=\s]+?)\s*"
                       r"-----END PUBLIC KEY-----\s*")
PROGRESS_EVERY = 10_000

# Known-answer tests for openssl: RFC 8032 section 7.1, test 2 (Ed25519) ...
KAT_ED25519_KEY = ED25519_SPKI_PREFIX + bytes.fromhex(
    "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")
KAT_ED25519_MESSAGE = bytes.fromhex("72")
KAT_ED25519_SIGNATURE = bytes.fromhex(
    "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
    "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00")
# ... and an ECDSA P-256 / SHA-256 signature made once for this file.
KAT_P256_KEY = P256_SPKI_PREFIX + bytes.fromhex(
    "04833c870b0019816bf869ef7de55f6445fabfdd4b5c6ff17b6e21e581a1e6b591"
    "b7f7fbe556f8f5337677b378c5a4114e6c37464bacaa47c53282eff656d052ac")
KAT_P256_MESSAGE = b"verify_bundle known-answer test"
KAT_P256_SIGNATURE = bytes.fromhex(
    "3046022100b14a097672e177a01e55cb35f0127071ee324a6d1fe3adcbf120f73e35857217"
    "02210095b6101ed8579314556151547164a4a3ffae3e04b40e58282c905171b7cc04e4")


class BundleError(Exception):
    """The bundle cannot be verified at all (exit 2): missing or unreadable files, no openssl."""


class Refused(Exception):
    """One item does not hold; the message says why."""


# --- Findings ------------------------------------------------------------------------------

# Problems are reported in this order: checkpoints first (everything is anchored to them),
# then entries by line, then checkpoint roots recomputed from the entries, then the totals.
STAGE_CHECKPOINTS, STAGE_ENTRIES, STAGE_ROOTS, STAGE_TOTALS = range(4)


@dataclass(frozen=True, order=True)
class Problem:
    order: tuple[int, int]
    where: str = field(compare=False)
    reason: str = field(compare=False)

    def __str__(self) -> str:
        return f"TAMPERED: {self.where}: {self.reason}"


@dataclass
class Findings:
    keep_going: bool
    problems: list[Problem] = field(default_factory=list)

    def add(self, order: tuple[int, int], where: str, reason: str) -> None:
        self.problems.append(Problem(order, where, reason))

    @property
    def stop(self) -> bool:
        """Stop checking: something is bad and --keep-going was not given."""
        return bool(self.problems) and not self.keep_going


@dataclass
class Counts:
    entries: int = 0
    signatures_verified: int = 0
    publications: int = 0


# --- Canonical JSON (RFC 8785) ---------------------------------------------------------------

def canonical_json(value: object) -> bytes:
    """RFC 8785 bytes of JSON data without floats: keys sorted by UTF-16 code units, no
    whitespace, UTF-8, only the escapes JSON requires (lowercase \\u00xx for control
    characters). For keys within the Basic Multilingual Plane, Python's key order is the same."""
    data = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    if beyond_basic_plane(data):  # then a key may sort differently by UTF-16 code units
        data = json.dumps(_utf16_key_order(value), ensure_ascii=False,
                          separators=(",", ":")).encode()
    return data


def beyond_basic_plane(data: bytes) -> bool:
    """UTF-8 holding a character beyond U+FFFF (its lead byte is 0xF0..0xF4)."""
    return (b"\xf0" in data or b"\xf1" in data or b"\xf2" in data or b"\xf3" in data
            or b"\xf4" in data)


def _utf16_key_order(value: object) -> object:
    if isinstance(value, dict):
        return {key: _utf16_key_order(value[key])
                for key in sorted(value, key=lambda k: k.encode("utf-16-be"))}
    if isinstance(value, list):
        return [_utf16_key_order(item) for item in value]
    return value


def _refuse_float(text: str) -> object:
    raise Refused(f"holds the number {text}: the register never holds floating-point numbers, "
                  "so this line is not one the register wrote")


def parse_canonical_line(data: bytes) -> object:
    """The JSON value of one line (without its newline), which must be canonical."""
    try:
        value = json.loads(data.decode("utf-8"), parse_float=_refuse_float,
                           parse_constant=_refuse_float)
    except UnicodeDecodeError as error:
        raise Refused("is not UTF-8") from error
    except json.JSONDecodeError as error:
        raise Refused(f"is not JSON ({error.msg} at column {error.colno})") from error
    try:
        canonical = canonical_json(value)
    except UnicodeEncodeError as error:  # a lone surrogate escape such as "\ud800"
        raise Refused("is not canonical JSON (RFC 8785): it holds an invalid string") from error
    if canonical != data:
        raise Refused("is not canonical JSON (RFC 8785): it was edited or re-serialised")
    return value


# --- Small decoders --------------------------------------------------------------------------

def is_int(value: object) -> bool:
    return type(value) is int  # bool is a subclass of int, and is not one here


def b64decode(text: object, what: str) -> bytes:
    """Standard base64 with padding, nothing else."""
    if not isinstance(text, str):
        raise Refused(f"{what} is not a base64 string")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise Refused(f"{what} is not valid base64") from error


def b64url_nopad(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hex_hashes(items: object, what: str) -> list[bytes]:
    if not isinstance(items, list) or not all(
            isinstance(item, str) and HEX64.fullmatch(item) for item in items):
        raise Refused(f"{what} is not a list of 64-digit lowercase hex hashes")
    return [bytes.fromhex(item) for item in items]


def read_json_lines(path: Path) -> Iterator[tuple[int, object]]:
    """(line number, value) of a JSON Lines file; a line that is not JSON gives Refused."""
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                yield number, json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                yield number, Refused("is not a JSON line")


def count_lines(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


# --- Public keys -----------------------------------------------------------------------------

def read_pem_public_key(path: Path) -> bytes:
    """The DER of a file holding exactly one "PUBLIC KEY" PEM block (SubjectPublicKeyInfo)."""
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise Refused(f"{path.name} cannot be read as a PEM file") from error
    match = PEM_BLOCK.fullmatch(text)
    if match is None:
        raise Refused(f"{path.name} is not exactly one PEM public key (SubjectPublicKeyInfo)")
    try:
        return base64.b64decode("".join(match.group(1).split()), validate=True)
    except (binascii.Error, ValueError) as error:
        raise Refused(f"{path.name} holds invalid base64") from error


def pem_text(der: bytes) -> str:
    body = base64.b64encode(der).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n"


def key_kind(der: bytes) -> str:
    """"ed25519", "p256", or "other", from the SubjectPublicKeyInfo DER."""
    if len(der) == SPKI_LENGTH["ed25519"] and der.startswith(ED25519_SPKI_PREFIX):
        return "ed25519"
    if len(der) == SPKI_LENGTH["p256"] and der.startswith(P256_SPKI_PREFIX + b"\x04"):
        return "p256"
    return "other"


@dataclass(frozen=True)
class PublicKey:
    key_id: str
    der: bytes
    kind: str
    pem: Path  # rebuilt from exactly the DER that was hashed; this is what openssl reads


@dataclass(frozen=True)
class SignatureCheck:
    """One signature for openssl to verify: over ``signed_data``, or if that is None (an
    Ed25519 approval signature) over the canonical JSON of ``approval``, built only when
    the signature is actually verified."""

    alg: str  # "ed25519", "webauthn-es256" or "webauthn-eddsa"
    key: PublicKey
    value: bytes
    approval: dict | None = None
    signed_data: bytes | None = None

    def message(self) -> bytes:
        return self.signed_data if self.signed_data is not None else \
            canonical_json(self.approval)


class KeyRing:
    """The bundle's keys/KEY_ID.pem files, each read and checked once."""

    def __init__(self, directory: Path, workdir: Path):
        self.directory = directory
        self.workdir = workdir
        self._keys: dict[str, PublicKey | Refused] = {}

    def get(self, key_id: str) -> PublicKey:
        if key_id not in self._keys:
            try:
                self._keys[key_id] = self._load(key_id)
            except Refused as refusal:
                self._keys[key_id] = refusal
        key = self._keys[key_id]
        if isinstance(key, Refused):
            raise Refused(str(key))  # a fresh one: re-raising one instance grows its traceback
        return key

    def _load(self, key_id: str) -> PublicKey:
        path = self.directory / f"{key_id}.pem"  # key_id is 64 hex digits: no path tricks
        if not path.is_file():
            raise Refused(f"its public key keys/{key_id}.pem is not in the bundle")
        der = read_pem_public_key(path)
        actual = hashlib.sha256(der).hexdigest()
        if actual != key_id:
            raise Refused(f"the public key file keys/{key_id}.pem does not match its key id "
                          f"(SHA-256 of its DER is {actual}): the key was swapped")
        pem = self.workdir / f"key-{key_id}.pem"
        pem.write_text(pem_text(der), encoding="ascii")
        return PublicKey(key_id=key_id, der=der, kind=key_kind(der), pem=pem)

    @property
    def used(self) -> int:
        return sum(isinstance(key, PublicKey) for key in self._keys.values())


# --- openssl ---------------------------------------------------------------------------------

class OpenSSL:
    """The openssl command, run on files in a private work directory (safe from threads)."""

    def __init__(self, binary: str, workdir: Path):
        self.binary = binary
        self.workdir = workdir
        self._names = itertools.count()

    def version(self) -> str:
        try:
            completed = subprocess.run([self.binary, "version"], capture_output=True,
                                       text=True, stdin=subprocess.DEVNULL, timeout=60)
        except (OSError, subprocess.SubprocessError) as error:
            raise BundleError(f"cannot run openssl ({self.binary}): {error}. Install OpenSSL 3 "
                              "or name it with --openssl PATH.") from error
        if completed.returncode != 0:
            raise BundleError(f"`{self.binary} version` failed: {completed.stderr.strip()}")
        return completed.stdout.strip()

    def verify(self, check: SignatureCheck) -> bool:
        if check.alg == "webauthn-es256":
            return self.verify_ecdsa_sha256(check.key.pem, check.message(), check.value)
        return self.verify_eddsa(check.key.pem, check.message(), check.value)

    def verify_eddsa(self, pem: Path, message: bytes, signature: bytes) -> bool:
        """Ed25519 over the raw message:
        openssl pkeyutl -verify -pubin -inkey PEM -rawin -in MSG -sigfile SIG"""
        with self._files(message, signature) as (msg, sig):
            return self._succeeds(["pkeyutl", "-verify", "-pubin", "-inkey", str(pem), "-rawin",
                                   "-in", str(msg), "-sigfile", str(sig)])

    def verify_ecdsa_sha256(self, pem: Path, message: bytes, signature: bytes) -> bool:
        """ECDSA with SHA-256, DER signature: openssl dgst -sha256 -verify PEM -signature SIG MSG"""
        with self._files(message, signature) as (msg, sig):
            return self._succeeds(["dgst", "-sha256", "-verify", str(pem), "-signature",
                                   str(sig), str(msg)])

    def self_test(self) -> None:
        """Refuse an openssl that cannot tell good signatures from bad ones (LibreSSL, 1.0)."""
        ed_pem = self.workdir / "kat-ed25519.pem"
        ec_pem = self.workdir / "kat-p256.pem"
        ed_pem.write_text(pem_text(KAT_ED25519_KEY), encoding="ascii")
        ec_pem.write_text(pem_text(KAT_P256_KEY), encoding="ascii")
        bad_ed = KAT_ED25519_SIGNATURE[:-1] + bytes([KAT_ED25519_SIGNATURE[-1] ^ 1])
        results = [
            self.verify_eddsa(ed_pem, KAT_ED25519_MESSAGE, KAT_ED25519_SIGNATURE),
            not self.verify_eddsa(ed_pem, KAT_ED25519_MESSAGE, bad_ed),
            self.verify_ecdsa_sha256(ec_pem, KAT_P256_MESSAGE, KAT_P256_SIGNATURE),
            not self.verify_ecdsa_sha256(ec_pem, KAT_P256_MESSAGE + b".", KAT_P256_SIGNATURE),
        ]
        if not all(results):
            raise BundleError(
                f"{self.binary} does not verify Ed25519 and ECDSA P-256 test signatures "
                "correctly; OpenSSL 3 is needed (on macOS the system's LibreSSL will not do: "
                "install openssl@3 and pass --openssl /path/to/openssl).")

    def _succeeds(self, arguments: list[str]) -> bool:
        try:
            completed = subprocess.run([self.binary, *arguments], capture_output=True,
                                       stdin=subprocess.DEVNULL, timeout=300)
        except (OSError, subprocess.SubprocessError) as error:
            raise BundleError(f"openssl failed to run: {error}") from error
        return completed.returncode == 0

    @contextlib.contextmanager
    def _files(self, message: bytes, signature: bytes) -> Iterator[tuple[Path, Path]]:
        """A message file and a signature file for one openssl call, deleted afterwards."""
        name = f"job-{next(self._names)}"
        msg, sig = self.workdir / f"{name}.msg", self.workdir / f"{name}.sig"
        try:
            msg.write_bytes(message)
            sig.write_bytes(signature)
            yield msg, sig
        finally:
            msg.unlink(missing_ok=True)
            sig.unlink(missing_ok=True)


class OrderedJobs:
    """openssl verifications run in a thread pool; their outcomes are taken in the order they
    were submitted, at most ``window`` waiting at a time (bounded memory on huge logs)."""

    def __init__(self, pool: ThreadPoolExecutor, openssl: OpenSSL, window: int):
        self.pool = pool
        self.openssl = openssl
        self.window = window
        self._pending: collections.deque[tuple[Callable[[bool], None], Future[bool]]] = \
            collections.deque()

    def submit(self, check: SignatureCheck, on_result: Callable[[bool], None]) -> None:
        """Verify ``check``; ``on_result(verified)`` is called later, in submission order."""
        self._pending.append((on_result, self.pool.submit(self.openssl.verify, check)))
        while len(self._pending) > self.window:
            self._finish_oldest()

    def drain(self) -> None:
        while self._pending:
            self._finish_oldest()

    def _finish_oldest(self) -> None:
        on_result, future = self._pending.popleft()
        on_result(future.result())  # re-raises BundleError from the worker


# --- The bundle ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Manifest:
    origin: str
    log_key_name: str
    complete: bool
    entries: int
    tree_size: int
    latest_checkpoint: str
    exported_at: str
    filters: dict


def read_manifest(bundle: Path) -> Manifest:
    path = bundle / "manifest.json"
    if not path.is_file():
        raise BundleError(f"{path} is missing: is {bundle} an audit bundle?")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BundleError(f"{path} cannot be read as JSON: {error}") from error
    expected = {"origin": str, "log_key_name": str, "complete": bool, "entries": int,
                "tree_size": int, "latest_checkpoint": str}
    if not isinstance(data, dict):
        raise BundleError(f"{path} is not a JSON object")
    for name, kind in expected.items():
        value = data.get(name)
        if type(value) is not kind or (kind is int and value < 0) or value == "":
            raise BundleError(f"{path}: {name!r} is missing or not a {kind.__name__}")
    filters = data.get("filters")
    return Manifest(origin=data["origin"], log_key_name=data["log_key_name"],
                    complete=data["complete"], entries=data["entries"],
                    tree_size=data["tree_size"], latest_checkpoint=data["latest_checkpoint"],
                    exported_at=str(data.get("exported_at", "")),
                    filters=filters if isinstance(filters, dict) else {})


def require_files(bundle: Path, manifest: Manifest, log_key: Path) -> None:
    needed = [bundle / "entries.jsonl", log_key,
              bundle / "checkpoints" / f"{manifest.tree_size}.txt"]
    if not manifest.complete:
        needed += [bundle / "proofs.jsonl", bundle / "checkpoints" / "consistency.jsonl"]
    missing = [str(path) for path in needed if not path.is_file()]
    missing += [str(bundle / name) + "/" for name in ("keys", "checkpoints")
                if not (bundle / name).is_dir()]
    if missing:
        raise BundleError("missing from the bundle: " + ", ".join(missing))


@dataclass(frozen=True)
class Checkpoint:
    label: str  # e.g. "checkpoints/40.txt"
    size: int
    root: bytes


@dataclass
class Options:
    bundle: Path
    signatures: str  # "all", "none" or "sample:N"
    jobs: int
    keep_going: bool
    log_key: Path
    openssl: str
    quiet: bool


class Verifier:
    def __init__(self, options: Options, manifest: Manifest, jobs: OrderedJobs, keys: KeyRing):
        self.options = options
        self.bundle = options.bundle
        self.manifest = manifest
        self.jobs = jobs
        self.keys = keys
        self.findings = Findings(keep_going=options.keep_going)
        self.counts = Counts()
        self.checkpoints: dict[int, Checkpoint] = {}
        self.log_key_id = ""

    # -- progress --

    def say(self, text: str) -> None:
        if not self.options.quiet:
            print(text, file=sys.stderr, flush=True)

    # -- 2. checkpoints --

    def check_checkpoints(self) -> None:
        try:
            log_key = self._log_key()
        except Refused as refusal:
            self.findings.add((STAGE_CHECKPOINTS, -1), f"log key {self.options.log_key}",
                              str(refusal))
            return
        for path in sorted((self.bundle / "checkpoints").glob("*.txt"),
                           key=lambda p: (len(p.stem), p.stem)):
            self._check_checkpoint(path, log_key)
        self.jobs.drain()
        self._check_checkpoint_set()
        self.say(f"checkpoints: {len(self.checkpoints)} read, signatures checked")

    def _log_key(self) -> PublicKey:
        der = read_pem_public_key(self.options.log_key)
        if key_kind(der) != "ed25519":
            raise Refused("is not an Ed25519 public key")
        self.log_key_id = hashlib.sha256(der).hexdigest()
        pem = self.keys.workdir / "log-key.pem"
        pem.write_text(pem_text(der), encoding="ascii")
        return PublicKey(key_id=self.log_key_id, der=der, kind="ed25519", pem=pem)

    def _check_checkpoint(self, path: Path, log_key: PublicKey) -> None:
        label = f"checkpoints/{path.name}"
        where = f"checkpoint {label}"
        order = (STAGE_CHECKPOINTS, int(path.stem) if SIZE_NAME.fullmatch(path.stem) else -1)
        try:
            body, signatures = self._read_note(path, log_key)
        except Refused as refusal:
            self.findings.add(order, where, str(refusal))
            return
        origin, size, root = signednote.parse_checkpoint_body(body)
        if origin != self.manifest.origin:
            self.findings.add(order, where, f"names the log {origin!r}, not the manifest's "
                                            f"origin {self.manifest.origin!r}")
        elif not SIZE_NAME.fullmatch(path.stem) or int(path.stem) != size:
            self.findings.add(order, where, f"its tree size is {size}, not its file name's")
        elif not signatures:
            self.findings.add(order, where, f"carries no signature by the log key "
                                            f"{self.manifest.log_key_name!r} (key hash "
                                            f"{self._log_key_hash(log_key).hex()})")
        else:
            self.checkpoints[size] = Checkpoint(label=label, size=size, root=root)
            for signature in signatures:
                self.jobs.submit(SignatureCheck("ed25519", log_key, signature,
                                                signed_data=body.encode()),
                                 self._checkpoint_signature_result(order, where))

    def _read_note(self, path: Path, log_key: PublicKey) -> tuple[str, list[bytes]]:
        """The checkpoint body and the log key's signatures on it (other cosigners' lines are
        allowed and ignored)."""
        try:
            text = path.read_bytes().decode("utf-8")
        except OSError as error:
            raise BundleError(f"cannot read {path}: {error}") from error
        except UnicodeDecodeError as error:
            raise Refused("is not UTF-8 text") from error
        try:
            body, signatures = signednote.parse_signed_note(text)
            signednote.parse_checkpoint_body(body)
        except signednote.NoteError as error:
            raise Refused(f"is not a well-formed signed checkpoint: {error}") from error
        expected_hash = self._log_key_hash(log_key)
        ours = [signature for name, key_hash, signature in signatures
                if name == self.manifest.log_key_name and key_hash == expected_hash]
        for signature in ours:
            if len(signature) != 64:
                raise Refused("its log signature is not 64 bytes long")
        return body, ours

    def _log_key_hash(self, log_key: PublicKey) -> bytes:
        raw = log_key.der[len(ED25519_SPKI_PREFIX):]
        return signednote.ed25519_key_hash(self.manifest.log_key_name, raw)

    def _checkpoint_signature_result(self, order: tuple[int, int],
                                     where: str) -> Callable[[bool], None]:
        def record(verified: bool) -> None:
            if not verified:
                self.findings.add(order, where, "its signature does not verify with the log key "
                                                "(forged or altered checkpoint)")
        return record

    def _check_checkpoint_set(self) -> None:
        size = self.manifest.tree_size
        latest = f"checkpoints/{size}.txt"
        if self.manifest.latest_checkpoint != latest:
            self.findings.add((STAGE_CHECKPOINTS, size), "manifest.json",
                              f"latest_checkpoint is {self.manifest.latest_checkpoint!r}, "
                              f"not {latest!r} (tree_size {size})")
        for other in self.checkpoints.values():
            if other.size > size:
                self.findings.add((STAGE_CHECKPOINTS, other.size), f"checkpoint {other.label}",
                                  f"is beyond the latest checkpoint's size {size}")
        empty = self.checkpoints.get(0)
        if empty is not None and empty.root != merkle.EMPTY_ROOT:
            self.findings.add((STAGE_CHECKPOINTS, 0), f"checkpoint {empty.label}",
                              "an empty tree's root must be SHA-256 of nothing")

    def check_consistency(self) -> None:
        """Filtered bundles: each checkpoint extends the one before (RFC 9162 2.1.4)."""
        sizes = sorted(size for size in self.checkpoints if 0 < size <= self.manifest.tree_size)
        expected = list(itertools.pairwise(sizes))
        path = self.bundle / "checkpoints" / "consistency.jsonl"
        seen = 0
        for number, line in read_json_lines(path):
            seen = number
            where = f"checkpoints/consistency.jsonl line {number}"
            if number > len(expected):
                self.findings.add((STAGE_CHECKPOINTS, sizes[-1] if sizes else 0), where,
                                  "is one line too many (one per pair of checkpoints)")
                return
            old, new = expected[number - 1]
            try:
                self._check_consistency_line(line, old, new)
            except Refused as refusal:
                self.findings.add((STAGE_CHECKPOINTS, new), f"checkpoint checkpoints/{new}.txt",
                                  f"{refusal} ({where})")
                if self.findings.stop:
                    return
        for old, new in expected[seen:]:
            self.findings.add((STAGE_CHECKPOINTS, new), f"checkpoint checkpoints/{new}.txt",
                              f"no consistency proof from checkpoints/{old}.txt in "
                              "checkpoints/consistency.jsonl")

    def _check_consistency_line(self, line: object, old: int, new: int) -> None:
        if isinstance(line, Refused):
            raise line
        if not isinstance(line, dict) or (line.get("old_size"), line.get("new_size")) != \
                (old, new):
            raise Refused(f"expected the consistency proof from size {old} to {new}")
        proof = hex_hashes(line.get("proof"), "the proof")
        if not merkle.verify_consistency(old, new, self.checkpoints[old].root,
                                         self.checkpoints[new].root, proof):
            raise Refused(f"is not consistent with checkpoints/{old}.txt: the consistency "
                          "proof does not verify, so one of them signs a rewritten history")

    # -- 3 and 4. entries --

    def check_entries(self) -> None:
        entries_path = self.bundle / "entries.jsonl"
        total = count_lines(entries_path)
        stream = EntryStream(self, total)
        with open(entries_path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                stream.check_line(number, raw)
                if number % PROGRESS_EVERY == 0:
                    self.say(f"entries: {number}/{total} ({number * 100 // max(total, 1)}%)")
                if self.findings.stop:
                    break
            else:
                stream.finish()
        self.jobs.drain()
        self.counts.entries = stream.lines


class EntryStream:
    """entries.jsonl, one line at a time: the checks that need the entries before it (seq
    order, chain, Merkle tree) are done here; openssl signature checks go to the pool."""

    def __init__(self, verifier: Verifier, total_lines: int):
        self.v = verifier
        self.manifest = verifier.manifest
        self.complete = verifier.manifest.complete
        self.lines = 0
        self.previous_seq = 0
        self.previous_hash: str | None = GENESIS_HASH  # None: the previous line was unusable
        self.sampler = Sampler(verifier.options.signatures, total_lines)
        self.tree = merkle.RootAccumulator()
        # Complete bundles: checkpoint sizes whose roots are still to be recomputed.
        self.roots_due = collections.deque(sorted(verifier.checkpoints) if self.complete else ())
        self.proofs = None if self.complete else (
            value for _, value in read_json_lines(verifier.bundle / "proofs.jsonl"))
        self._compare_roots()  # a checkpoint of size 0

    def check_line(self, number: int, raw: bytes) -> None:
        self.lines = number
        data = raw[:-1] if raw.endswith(b"\n") else raw
        if self.complete:
            self.tree.add(merkle.leaf_hash(data))
            self._compare_roots()
        proof = next(self.proofs, None) if self.proofs is not None else None
        seq = None
        try:
            if not raw.endswith(b"\n"):
                raise Refused("does not end with a newline")
            entry = parse_canonical_line(data)
            check_shape(entry)
            seq = entry["seq"]
            self._check_position(number, seq)
            self._check_chain(entry)
            if not self.complete:
                self._check_inclusion(data, seq, proof)
            self._check_signature(number, seq, entry)
        except Refused as refusal:
            seq = seq if seq is not None else seq_of(data)
            self.v.findings.add((STAGE_ENTRIES, number), entry_label(number, seq), str(refusal))
        except MissingEntries as missing:
            self.v.findings.add((STAGE_ENTRIES, number), entry_label(number, missing.seq),
                                str(missing))
        self._advance(seq, data)

    def _advance(self, seq: int | None, data: bytes) -> None:
        """Remember this line for the next one's chain link."""
        if seq is None:  # unreadable: expect the next seq, but its link cannot be checked
            self.previous_seq += 1
            self.previous_hash = None
        else:
            self.previous_seq = seq
            self.previous_hash = hashlib.sha256(data).hexdigest()

    def _check_position(self, number: int, seq: int) -> None:
        expected = self.previous_seq + 1
        if self.complete and seq > expected:
            raise MissingEntries(expected, f"missing: line {number} holds seq {seq} instead "
                                           f"(entries were deleted or reordered)")
        if self.complete and seq < expected:
            raise Refused(f"is out of order or repeated: line {number} should hold seq "
                          f"{expected}")
        if seq <= self.previous_seq:
            raise Refused(f"seqs must increase, but the line before holds seq "
                          f"{self.previous_seq}")
        if seq > self.manifest.tree_size:
            raise Refused(f"is beyond the latest checkpoint, which covers seqs 1.."
                          f"{self.manifest.tree_size}")

    def _check_chain(self, entry: dict) -> None:
        """prev_hash = SHA-256 of the previous entry's line; checked only when that entry is in
        the bundle (always in a complete bundle)."""
        if entry["seq"] != self.previous_seq + 1 or self.previous_hash is None:
            return
        if entry["prev_hash"] != self.previous_hash:
            before = ("the genesis value (64 zeros)" if entry["seq"] == 1
                      else f"SHA-256 of entry seq {self.previous_seq} (the line before)")
            raise Refused(f"chain broken: prev_hash is not {before}; this entry or the one "
                          "before was altered")

    def _check_inclusion(self, data: bytes, seq: int, proof: object) -> None:
        if proof is None:
            raise Refused("has no line in proofs.jsonl")
        if isinstance(proof, Refused):
            raise Refused("its line in proofs.jsonl is not JSON")
        size = self.manifest.tree_size
        if not isinstance(proof, dict) or (proof.get("seq"), proof.get("leaf_index"),
                                           proof.get("tree_size")) != (seq, seq - 1, size):
            raise Refused(f"its line in proofs.jsonl is not for seq {seq}, leaf_index {seq - 1}, "
                          f"tree_size {size}")
        path = hex_hashes(proof.get("inclusion"), "its inclusion proof")
        latest = self.v.checkpoints.get(size)
        if latest is None or not merkle.verify_inclusion(merkle.leaf_hash(data), seq - 1, size,
                                                         path, latest.root):
            raise Refused(f"is not in the tree of the latest checkpoint checkpoints/{size}.txt: "
                          "its inclusion proof does not verify")

    def _check_signature(self, number: int, seq: int, entry: dict) -> None:
        """Everything but the signature arithmetic here; that goes to openssl, if sampled."""
        check = signature_check(entry, self.v.keys)
        if check is None:
            return
        self.v.counts.publications += 1
        if self.sampler.wants(number - 1):
            where = entry_label(number, seq)

            def record(verified: bool) -> None:
                if verified:
                    self.v.counts.signatures_verified += 1
                else:
                    self.v.findings.add((STAGE_ENTRIES, number), where,
                                        f"signature does not verify ({entry['signature']['alg']}"
                                        f", key {entry['signature']['key_id'][:16]}…)")
            self.v.jobs.submit(check, record)

    def _compare_roots(self) -> None:
        """Complete bundles: a checkpoint's root must be the root of that many first entries."""
        if not self.complete:
            return
        while self.roots_due and self.roots_due[0] <= self.tree.size:
            size = self.roots_due.popleft()
            checkpoint = self.v.checkpoints[size]
            if size == self.tree.size and checkpoint.root != self.tree.root():
                self.v.findings.add((STAGE_ROOTS, size), f"checkpoint {checkpoint.label}",
                                    f"its root does not match the root of entries 1..{size} "
                                    "in entries.jsonl: the log was rewritten")

    def finish(self) -> None:
        """After the last line: nothing missing at the end, nothing left over."""
        size = self.manifest.tree_size
        for unreached in self.roots_due:  # complete bundles with too few lines
            self.v.findings.add((STAGE_ROOTS, unreached), f"checkpoint checkpoints/{unreached}.txt",
                                f"covers {unreached} entries, but entries.jsonl has only "
                                f"{self.lines} lines")
        if self.complete and self.previous_seq < size:
            self.v.findings.add((STAGE_ENTRIES, self.lines + 1),
                                entry_label(self.lines + 1, self.previous_seq + 1),
                                f"missing: entries.jsonl ends at seq {self.previous_seq}, but "
                                f"the latest checkpoint covers {size} entries")
        if self.proofs is not None and next(self.proofs, None) is not None:
            self.v.findings.add((STAGE_TOTALS, 0), "proofs.jsonl",
                                "has more lines than entries.jsonl")
        if self.lines != self.manifest.entries:
            self.v.findings.add((STAGE_TOTALS, 1), "manifest.json",
                                f"says {self.manifest.entries} entries, but entries.jsonl has "
                                f"{self.lines}")


class MissingEntries(Exception):
    """An entry that should be on this line is not in the bundle."""

    def __init__(self, seq: int, reason: str):
        super().__init__(reason)
        self.seq = seq


def seq_of(data: bytes) -> int | None:
    """The seq a line claims, read leniently: only to name it in messages and to follow the
    sequence past a bad line (with --keep-going)."""
    try:
        value = json.loads(data)
    except ValueError:
        return None
    seq = value.get("seq") if isinstance(value, dict) else None
    return seq if is_int(seq) else None


def entry_label(line: int, seq: int | None) -> str:
    return f"entry seq {seq} (line {line})" if seq is not None else f"entry on line {line}"


def check_shape(entry: object) -> None:
    """Exactly the register's keys, each of the right type."""
    if not isinstance(entry, dict):
        raise Refused("is not a JSON object")
    if set(entry) != ENTRY_KEYS:
        extra, missing = sorted(set(entry) - ENTRY_KEYS), sorted(ENTRY_KEYS - set(entry))
        raise Refused(f"does not have the register's keys (extra: {extra}, missing: {missing})")
    if not is_int(entry["seq"]) or entry["seq"] < 1:
        raise Refused("seq is not a positive integer")
    if entry["kind"] not in SIGNED_KINDS | UNSIGNED_KINDS:
        raise Refused(f"kind {entry['kind']!r} is not a register kind")
    if not isinstance(entry["approval"], dict):
        raise Refused("approval is not an object")
    if not (entry["signature"] is None or isinstance(entry["signature"], dict)):
        raise Refused("signature is neither an object nor null")
    for name in ("published_at", "published_by"):
        if not isinstance(entry[name], str):
            raise Refused(f"{name} is not a string")
    if not (isinstance(entry["prev_hash"], str) and HEX64.fullmatch(entry["prev_hash"])):
        raise Refused("prev_hash is not 64 lowercase hex digits")


def signature_check(entry: dict, keys: KeyRing) -> SignatureCheck | None:
    """The openssl verification an entry's signature needs, once every check that needs no
    cryptography has passed; None for unsigned kinds (takedowns)."""
    signature = entry["signature"]
    if entry["kind"] in UNSIGNED_KINDS:
        if signature is not None:
            raise Refused(f"a {entry['kind']} carries no signature, but this one has one")
        return None
    if signature is None:
        raise Refused("a publication must carry a leader's signature, and this one has none")
    alg = signature.get("alg")
    if alg not in KEY_KIND_FOR_ALGORITHM:
        raise Refused(f"signature algorithm {alg!r} is not one the register uses")
    key_id = signature.get("key_id")
    if not (isinstance(key_id, str) and HEX64.fullmatch(key_id)):
        raise Refused("signature key_id is not 64 lowercase hex digits")
    key = keys.get(key_id)
    if key.kind != KEY_KIND_FOR_ALGORITHM[alg]:
        raise Refused(f"keys/{key_id}.pem is a {key.kind} key, not one for {alg}")
    value = b64decode(signature.get("value"), "signature value")
    if alg == "ed25519":
        if len(value) != 64:
            raise Refused("an Ed25519 signature is 64 bytes; this one is not")
        return SignatureCheck(alg, key, value, approval=entry["approval"])
    return SignatureCheck(alg, key, value,
                          signed_data=webauthn_signed_data(signature, entry["approval"]))


def webauthn_signed_data(signature: dict, approval: dict) -> bytes:
    """authenticatorData ‖ SHA-256(clientDataJSON), after checking that the client data asked
    for exactly this approval and that the leader was present and verified."""
    authenticator_data = b64decode(signature.get("authenticator_data"), "authenticator_data")
    client_data_json = b64decode(signature.get("client_data_json"), "client_data_json")
    try:
        client_data = json.loads(client_data_json.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise Refused("WebAuthn client_data_json is not JSON") from error
    if not isinstance(client_data, dict) or client_data.get("type") != "webauthn.get":
        raise Refused("WebAuthn client data is not of type webauthn.get")
    challenge = b64url_nopad(hashlib.sha256(canonical_json(approval)).digest())
    if client_data.get("challenge") != challenge:
        raise Refused("WebAuthn challenge is not SHA-256 of the approval's canonical JSON: the "
                      "leader's key signed a different approval")
    if len(authenticator_data) < 37:
        raise Refused("WebAuthn authenticator_data is shorter than 37 bytes")
    if authenticator_data[32] & (USER_PRESENT | USER_VERIFIED) != USER_PRESENT | USER_VERIFIED:
        raise Refused("WebAuthn flags do not show the leader present and verified (UP and UV)")
    return authenticator_data + hashlib.sha256(client_data_json).digest()


class Sampler:
    """Which publications get their signature verified with openssl.

    "all" and "none" say it; "sample:N" spreads N targets evenly over the lines and verifies
    the first publication at or after each target — deterministic, so a re-run checks the
    same ones."""

    def __init__(self, mode: str, total_lines: int):
        self.mode = mode
        self.targets: collections.deque[int] = collections.deque()
        self.owed = 0
        if mode.startswith("sample:"):
            n = int(mode.split(":", 1)[1])
            if n >= total_lines:
                self.mode = "all"
            else:
                self.targets.extend(sorted({i * total_lines // n for i in range(n)}))

    def wants(self, line_index: int) -> bool:
        """Called for each publication, in order; line_index counts from 0."""
        if self.mode in ("all", "none"):
            return self.mode == "all"
        while self.targets and self.targets[0] <= line_index:
            self.targets.popleft()
            self.owed += 1
        if self.owed:
            self.owed -= 1
            return True
        return False


# --- Running ---------------------------------------------------------------------------------

def signatures_mode(text: str) -> str:
    if text in ("all", "none"):
        return text
    if text.startswith("sample:") and text[7:].isdigit() and int(text[7:]) > 0:
        return f"sample:{int(text[7:])}"
    raise argparse.ArgumentTypeError("use all, none or sample:N (N > 0)")


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError("use a whole number of at least 1")
    return int(text)


def parse_arguments(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="verify_bundle.py",
        description="离线核验发布登记的审计包，只用 Python 标准库和 openssl。"
                    "退出码：0 完好，1 被篡改，2 出错。")
    parser.add_argument("bundle", type=Path, help="审计包目录（内有 manifest.json）")
    parser.add_argument("--signatures", type=signatures_mode, default="all",
                        metavar="all|none|sample:N",
                        help="用 openssl 核验领导签名：all 全部（默认）、none 不核验、"
                             "sample:N 在整个登记中均匀抽取 N 个；其余各项检查总是进行")
    parser.add_argument("--jobs", type=positive_int, default=os.cpu_count() or 1,
                        help="同时运行的 openssl 进程数（默认为处理器核数）")
    parser.add_argument("--keep-going", action="store_true",
                        help="报告所有问题，而不只是第一个")
    parser.add_argument("--log-key", type=Path, default=None, metavar="PEM",
                        help="另行获得的日志公钥（默认用审计包中的 checkpoints/log-key.pem）")
    parser.add_argument("--openssl", default="openssl", metavar="PATH",
                        help="所用的 openssl 命令（默认为 PATH 中的 openssl）")
    parser.add_argument("-q", "--quiet", action="store_true", help="不在标准错误输出上显示进度")
    args = parser.parse_args(argv)
    return Options(bundle=args.bundle, signatures=args.signatures, jobs=args.jobs,
                   keep_going=args.keep_going, openssl=args.openssl, quiet=args.quiet,
                   log_key=args.log_key or args.bundle / "checkpoints" / "log-key.pem")


def find_openssl(name: str, workdir: Path) -> OpenSSL:
    binary = shutil.which(name)
    if binary is None:
        raise BundleError(f"openssl not found ({name!r}). Install OpenSSL 3 "
                          "(Debian/Ubuntu: apt install openssl; macOS: brew install openssl@3; "
                          "Windows: it comes with Git for Windows) or pass --openssl PATH.")
    return OpenSSL(binary, workdir)


def verify(options: Options) -> int:
    if not options.bundle.is_dir():
        raise BundleError(f"{options.bundle} is not a directory")
    manifest = read_manifest(options.bundle)
    require_files(options.bundle, manifest, options.log_key)
    with tempfile.TemporaryDirectory(prefix="verify_bundle-") as work, \
            ThreadPoolExecutor(max_workers=options.jobs) as pool:
        workdir = Path(work)
        openssl = find_openssl(options.openssl, workdir)
        version = openssl.version()
        openssl.self_test()
        jobs = OrderedJobs(pool, openssl, window=options.jobs * 32)
        verifier = Verifier(options, manifest, jobs, KeyRing(options.bundle / "keys", workdir))
        verifier.say(f"verify_bundle: {options.bundle} with {version}")
        verifier.check_checkpoints()
        if not verifier.findings.stop and not manifest.complete:
            verifier.check_consistency()
        if not verifier.findings.stop:
            verifier.check_entries()
        return report(verifier, version)


def report(verifier: Verifier, openssl_version: str) -> int:
    problems = sorted(verifier.findings.problems)
    if problems:
        shown = problems if verifier.options.keep_going else problems[:1]
        for problem in shown:
            print(problem)
        print(f"审计包未通过核验（已被篡改）: the bundle does not verify "
              f"({len(shown)} problem{'s' if len(shown) != 1 else ''} shown"
              f"{'' if verifier.options.keep_going else '; --keep-going lists all'}).")
        return EXIT_TAMPERED
    print_summary(verifier, openssl_version)
    return EXIT_INTACT


def print_summary(v: Verifier, openssl_version: str) -> None:
    manifest, counts = v.manifest, v.counts
    latest = v.checkpoints[manifest.tree_size]
    mode = v.options.signatures
    filters = ", ".join(f"{k}={val}" for k, val in manifest.filters.items() if val is not None)
    scope = ("complete: every entry of the log" if manifest.complete
             else f"filtered ({filters or 'no filters named'}): entries proven to be in the log;"
                  " entries outside the filter are not in this bundle")
    print("INTACT 审计包完好: every check passed.")
    rows = [
        ("origin", manifest.origin),
        ("exported at", manifest.exported_at),
        ("bundle", scope),
        ("entries", f"{counts.entries} ({counts.publications} signed publications)"),
        ("signatures", f"{counts.signatures_verified} verified with openssl (--signatures "
                       f"{mode})"),
        ("keys", f"{v.keys.used} leaders' public keys, each matching its key id"),
        ("checkpoints", f"{len(v.checkpoints)} (sizes "
                        f"{', '.join(str(s) for s in sorted(v.checkpoints))})"),
        ("latest checkpoint", latest.label),
        ("  tree size", str(latest.size)),
        ("  root (base64)", base64.b64encode(latest.root).decode()),
        ("  root (hex)", latest.root.hex()),
        ("log key SHA-256", f"{v.log_key_id} ({v.options.log_key})"),
        ("openssl", openssl_version),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name.ljust(width)}  {value}")
    print("Compare the latest checkpoint and the log key's SHA-256 with copies you hold from "
          "elsewhere (e.g. the checkpoint e-mailed to leaders): see VERIFY.md.\n"
          "请将最新检查点的根哈希和日志公钥的 SHA-256 与您另行获得的副本核对（见 VERIFY.md）。")


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    options = parse_arguments(argv)
    try:
        return verify(options)
    except BundleError as error:
        print(f"ERROR 无法核验: {error}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
