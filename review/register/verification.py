"""Verifying a chained log as stored (``review.register.chain``): every entry's hash and chain
link, the indexed columns against the entry, and the Merkle tree against every signed
checkpoint; for the publication register also every leader's signature.

The work is split into ranges of entries checked in parallel processes (each with its own
database connection); the ranges are then joined in order: chain links across range
boundaries, and one pass of the Merkle accumulator that meets each checkpoint's size.
"""

import base64
import datetime
import hashlib
import multiprocessing
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import connection, connections
from django.utils.dateparse import parse_datetime
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError

from review.canonical import (
    GENESIS_HASH,
    canonical_bytes_without_floats,
    canonical_json,
    parse_canonical_source,
)
from review.pipeline.records import SigningCredential
from review.pipeline.signatures import webauthn_signature_holds
from review.register import merkle, signednote
from review.register.chain import REGISTER, SECURITY_LOG, ChainedLog
from review.register.checkpoints import checkpoint_root, checkpoint_signature_holds
from review.register.entries import iso_utc
from review.register.logkey import load_log_key
from review.register.models import CheckpointBase, RegisterEntry
from review.register.security import EVENTS

CHUNK = 20_000
WEBAUTHN_ALGORITHMS = ("webauthn-es256", "webauthn-eddsa")
ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


@dataclass(frozen=True)
class Problem:
    seq: int | None
    reason: str
    noun: str = REGISTER.noun

    def __str__(self) -> str:
        if self.seq is None:
            return self.reason
        return f"第 {self.seq} 条{self.noun} (entry #{self.seq}): {self.reason}"


@dataclass
class Report:
    entries: int = 0
    signatures: int = 0
    checkpoints: int = 0
    root: bytes | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


@dataclass
class _Range:
    lo: int
    hi: int
    first_prev_hash: str | None = None
    last_hash: str | None = None
    leaves: list[bytes] = field(default_factory=list)
    signatures: int = 0
    problems: list[Problem] = field(default_factory=list)


def verify_ed25519(public_key_der: bytes, signature: bytes, message: bytes) -> bool:
    """libsodium's verification: about twice as fast as OpenSSL's here, which a million
    entries need."""
    if len(public_key_der) != 44 or not public_key_der.startswith(ED25519_SPKI_PREFIX):
        return False
    try:
        crypto_sign_open(signature + message, public_key_der[12:])
    except (BadSignatureError, ValueError):
        return False
    return True


class KeyRing:
    """The leaders' public keys by key id, each checked against its id once."""

    def __init__(self, keys: dict[str, bytes]):
        self.keys = {key_id: der for key_id, der in keys.items()
                     if hashlib.sha256(der).hexdigest() == key_id}
        self.mismatched = set(keys) - set(self.keys)

    def get(self, key_id) -> bytes | None:
        return self.keys.get(key_id)


def signature_problem(entry: dict, keys: KeyRing, *, approval_bytes: bytes | None = None
                      ) -> str | None:
    """Why the entry's signature does not hold, or None."""
    signature, approval = entry.get("signature"), entry.get("approval")
    if entry.get("kind") not in RegisterEntry.Kind.values:
        return f"未知的登记类型 {entry.get('kind')}"
    if entry.get("kind") != RegisterEntry.Kind.PUBLICATION:  # takedowns, restorations
        return None if signature is None else "只有发布登记带签名"
    if not isinstance(signature, dict) or not isinstance(approval, dict):
        return "发布登记缺少签名或审批内容"
    if signature.get("key_id") in keys.mismatched:
        return "签名密钥与其标识不符"
    der = keys.get(signature.get("key_id"))
    if der is None:
        return f"未知的签名密钥 {signature.get('key_id')}"
    alg = signature.get("alg")
    try:
        if alg == "ed25519":
            holds = verify_ed25519(der, base64.b64decode(signature["value"]),
                                   approval_bytes or canonical_json(approval))
        elif alg in WEBAUTHN_ALGORITHMS:
            holds = webauthn_signature_holds(der, signature, approval)
        else:
            return f"未知的签名算法 {alg}"
    except (KeyError, ValueError, TypeError):
        return "签名格式不正确"
    return None if holds else "签名验证失败"


@dataclass(frozen=True)
class RegisterChecks:
    """What the publication register checks in each entry beyond the chain: the leader's
    signature of a publication."""

    keys: KeyRing

    def problem(self, entry: dict) -> str | None:
        approval = entry.get("approval")
        return signature_problem(
            entry, self.keys, approval_bytes=canonical_bytes_without_floats(approval)
            if isinstance(approval, dict) else None)

    @staticmethod
    def signatures(entry: dict) -> int:
        return entry.get("signature") is not None


@dataclass(frozen=True)
class SecurityLogChecks:
    """The security log's entries carry no signature: its chain and checkpoints are all."""

    known_events: frozenset[str]

    def problem(self, entry: dict) -> str | None:
        if entry.get("event") not in self.known_events:
            return f"未知的事件 {entry.get('event')}"
        return None

    @staticmethod
    def signatures(entry: dict) -> int:
        return 0


def _rows(lo: int, hi: int, *, log: ChainedLog):
    """(seq, entry_hash, entry as stored text, time column, *mirrored columns) in order,
    without the ORM's decoding."""
    column = "entry::text" if connection.vendor == "postgresql" else "entry"
    table = log.entries._meta.db_table
    others = "".join(f", {name}" for name in (log.time_column, *log.mirrored_columns))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT seq, entry_hash, {column}{others} FROM {table} "
                       f"WHERE seq BETWEEN %s AND %s ORDER BY seq", [lo, hi])
        while batch := cursor.fetchmany(5000):
            yield from batch


def _as_iso_utc(value) -> str | None:
    """A time column as the entry writes it (SQLite returns naive UTC text)."""
    moment = parse_datetime(value) if isinstance(value, str) else value
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return iso_utc(moment)


def columns_problem(entry: dict, *, log: ChainedLog, time_value, mirrored: tuple) -> str | None:
    """Why the indexed columns (which the admin shows and filters on) say something else than
    the hashed entry, or None."""
    for name, value in zip(log.mirrored_columns, mirrored, strict=True):
        length = getattr(log.entries._meta.get_field(name), "max_length", None)
        expected = entry.get(name)
        expected = str(expected)[:length] if length and expected is not None else expected
        if value != expected:
            return f"{log.noun}内容与其序号或类型不符（{name}）"
    if _as_iso_utc(time_value) != entry.get(log.time_column):
        return f"{log.noun}内容与其时间不符"
    return None


def _check_range(lo: int, hi: int, log: ChainedLog, checks) -> _Range:
    result = _Range(lo, hi)
    expected_seq, previous_hash = lo, None
    noun = log.noun
    for seq, stored_hash, text, time_value, *mirrored in _rows(lo, hi, log=log):
        if seq != expected_seq:
            result.problems.append(Problem(expected_seq, f"{noun}缺失（已被删除）", noun))
            return result
        reason = None
        try:
            entry, data = parse_canonical_source(text)
        except ValueError as error:
            entry, data, reason = None, b"", f"{noun}内容不是合规的 JSON：{error}"
        digest = hashlib.sha256(data).hexdigest()
        if reason:
            pass
        elif not isinstance(entry, dict) or entry.get("seq") != seq:
            reason = f"{noun}内容与其序号或类型不符"
        elif digest != stored_hash:
            reason = f"{noun}内容已被改动（哈希不符）"
        elif previous_hash is not None and entry.get("prev_hash") != previous_hash:
            reason = "链接断开：prev_hash 与上一条不符"
        else:
            reason = (columns_problem(entry, log=log, time_value=time_value,
                                      mirrored=tuple(mirrored))
                      or checks.problem(entry))
            result.signatures += checks.signatures(entry)
        if reason:
            result.problems.append(Problem(seq, reason, noun))
            return result
        if previous_hash is None:
            result.first_prev_hash = entry.get("prev_hash")
        previous_hash = digest
        result.leaves.append(merkle.leaf_hash(data))
        expected_seq += 1
    if expected_seq != hi + 1:
        result.problems.append(Problem(expected_seq, f"{noun}缺失（已被删除）", noun))
    result.last_hash = previous_hash
    return result


def _check_range_in_worker(args) -> _Range:
    return _check_range(*args)


def _ranges(size: int, log: ChainedLog, checks) -> list[tuple[int, int, ChainedLog, object]]:
    return [(lo, min(lo + CHUNK - 1, size), log, checks) for lo in range(1, size + 1, CHUNK)]


def default_jobs() -> int:
    # An in-memory SQLite database (the tests') lives only in this process.
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        return 1
    return os.cpu_count() or 1


def verify_register(*, jobs: int | None = None,
                    progress: Callable[[int, int], None] | None = None) -> Report:
    keys = KeyRing({c.key_id: bytes(c.public_key_der) for c in SigningCredential.objects.all()})
    return verify_log(log=REGISTER, checks=RegisterChecks(keys), jobs=jobs, progress=progress)


def verify_security_log(*, jobs: int | None = None,
                        progress: Callable[[int, int], None] | None = None) -> Report:
    return verify_log(log=SECURITY_LOG, checks=SecurityLogChecks(frozenset(EVENTS)), jobs=jobs,
                      progress=progress)


def verify_log(*, log: ChainedLog, checks, jobs: int | None = None,
               progress: Callable[[int, int], None] | None = None) -> Report:
    """``checks`` adds the log's own checks of each entry (``problem``, ``signatures``)."""
    report = Report()
    size = log.head_seq()
    if log.entries.objects.filter(seq__gt=size).exists():
        report.problems.append(Problem(
            None, f"{log.noun}头 #{size} 之后还有{log.noun}：{log.noun}头被改动"))
        return report
    checkpoints = list(log.checkpoints.objects.order_by("size", "pk"))
    jobs = jobs or default_jobs()
    ranges = _ranges(size, log, checks)
    if jobs > 1 and len(ranges) > 1:
        connections.close_all()  # each worker opens its own connection
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            _join(pool.imap(_check_range_in_worker, ranges), report, size, checkpoints,
                  progress, log=log)
    else:
        _join(map(_check_range_in_worker, ranges), report, size, checkpoints, progress,
              log=log)
    if report.intact:
        _check_checkpoint_signatures(checkpoints, report)
    return report


def _join(results, report: Report, size: int, checkpoints: list[CheckpointBase], progress, *,
          log: ChainedLog) -> None:
    accumulator = merkle.RootAccumulator()
    pending = [c for c in checkpoints if c.size <= size]
    for checkpoint in checkpoints:
        if checkpoint.size > size:
            report.problems.append(Problem(
                None, f"检查点 {checkpoint.size} 超出{log.noun}总数 {size}：{log.noun}被截短"))
            return
    previous_hash = GENESIS_HASH
    for result in results:
        if result.first_prev_hash is not None and result.first_prev_hash != previous_hash:
            report.problems.append(Problem(result.lo, "链接断开：prev_hash 与上一条不符",
                                           log.noun))
            return
        for leaf in result.leaves:
            accumulator.add(leaf)
            while pending and pending[0].size == accumulator.size:
                _compare_root(pending.pop(0), accumulator.root(), report, log=log)
        if result.problems:
            report.problems.append(result.problems[0])
            return
        if report.problems:
            return
        previous_hash = result.last_hash or previous_hash
        report.entries += len(result.leaves)
        report.signatures += result.signatures
        if progress:
            progress(report.entries, size)
    while pending and pending[0].size == 0:
        _compare_root(pending.pop(0), merkle.EMPTY_ROOT, report, log=log)
    report.root = accumulator.root()
    report.checkpoints = len(checkpoints)


def _compare_root(checkpoint: CheckpointBase, root: bytes, report: Report, *,
                  log: ChainedLog) -> None:
    if checkpoint_root(checkpoint) != root or checkpoint.root_hash != root.hex():
        report.problems.append(Problem(
            None, f"检查点 {checkpoint.size} 的根哈希与{log.noun}不符：其中的{log.noun}被改写"))


def _check_checkpoint_signatures(checkpoints: list[CheckpointBase], report: Report) -> None:
    public_raw = load_log_key().public_key().public_bytes_raw()
    for checkpoint in checkpoints:
        if not checkpoint_signature_holds(checkpoint.note, public_key_raw=public_raw):
            report.problems.append(Problem(None, f"检查点 {checkpoint.size} 的签名无效"))
            return


def verify_entry_lines(lines: Iterable[bytes], *, noun: str = SECURITY_LOG.noun,
                       checkpoint: str | None = None,
                       public_key_raw: bytes | None = None) -> Report:
    """Verify an export of a chained log's entries, one canonical JSON entry a line
    (``security_log export --format jsonl``), without the database: each line canonical, seqs
    consecutive, each ``prev_hash`` the SHA-256 of the line before (the genesis hash before
    seq 1). With a ``checkpoint`` (a signed note) and the log key: the note's signature, and
    its root against the Merkle root of the file's first lines, which must be entries 1 to
    the checkpoint's size."""
    report = Report()
    size = root = None
    if checkpoint is not None:
        if public_key_raw is None or not checkpoint_signature_holds(
                checkpoint, public_key_raw=public_key_raw):
            report.problems.append(Problem(None, "检查点的签名无效"))
            return report
        body, _ = signednote.parse_signed_note(checkpoint)
        _, size, root = signednote.parse_checkpoint_body(body)
    accumulator = merkle.RootAccumulator()
    expected_seq, previous_hash = None, None
    for number, line in enumerate(lines, start=1):
        data = line.rstrip(b"\n")
        try:
            entry, canonical = parse_canonical_source(data.decode())
        except (UnicodeDecodeError, ValueError) as error:
            report.problems.append(Problem(None, f"第 {number} 行不是合规的 JSON：{error}"))
            return report
        seq = entry.get("seq") if isinstance(entry, dict) else None
        if canonical != data or not isinstance(seq, int):
            report.problems.append(Problem(None, f"第 {number} 行不是规范的{noun}"))
            return report
        if expected_seq is not None and seq != expected_seq:
            report.problems.append(Problem(expected_seq, f"{noun}缺失或顺序被打乱", noun))
            return report
        if previous_hash is None and seq == 1:
            previous_hash = GENESIS_HASH
        if previous_hash is not None and entry.get("prev_hash") != previous_hash:
            report.problems.append(Problem(seq, "链接断开：prev_hash 与上一条不符", noun))
            return report
        previous_hash, expected_seq = hashlib.sha256(data).hexdigest(), seq + 1
        accumulator.add(merkle.leaf_hash(data))
        report.entries += 1
        if size is not None and seq == size:
            report.checkpoints = 1
            if accumulator.size != size or accumulator.root() != root:
                report.problems.append(Problem(None, f"检查点 {size} 的根哈希与文件的前 "
                                                     f"{size} 条{noun}不符"))
                return report
    if size is not None and not report.checkpoints and size:
        report.problems.append(Problem(None, f"文件不含检查点 {size} 的全部 {size} 条{noun}"))
    report.root = accumulator.root()
    return report
