"""Snapshots of a site's state: the database dump and every file under the state directory,
stored as content-addressed chunks so that an unchanged second run stores next to nothing.
Plain code over paths and byte streams, no Django (backups.database makes the dumps).

Repository layout (``CMS_DATA_DIR/backups/`` by default)::

    objects/ab/cd/<sha256>       chunks of up to CHUNK_SIZE bytes, write-once (ContentStore)
    snapshots/<id>.json          one manifest per snapshot: every part's size, SHA-256, chunks

A part is a file (``files/<relative path>``) or the database dump (``database``). Verifying
re-reads every chunk of every part and checks both the chunks' and the part's digests.
"""

import contextlib
import datetime
import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from backups.exceptions import SnapshotError
from backups.store import ContentStore

CHUNK_SIZE = 4 << 20
Progress = Callable[[int], None]  # bytes done since the last call



@dataclass
class Part:
    name: str
    size: int
    sha256: str
    chunks: list[str]
    mode: int = 0o644
    # The file's modification time and inode when it was read: a file with the same size,
    # time and inode in the next run is not read again (as restic does).
    mtime_ns: int = 0
    inode: int = 0

    def as_dict(self) -> dict:
        return {"name": self.name, "size": self.size, "sha256": self.sha256,
                "chunks": self.chunks, "mode": self.mode, "mtime_ns": self.mtime_ns,
                "inode": self.inode}

    def unchanged(self, status: os.stat_result) -> bool:
        return (self.inode != 0 and self.size == status.st_size
                and self.mtime_ns == status.st_mtime_ns and self.inode == status.st_ino)


@dataclass
class Snapshot:
    id: str
    created_at: str
    engine: str
    parts: list[Part] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(part.size for part in self.parts)

    @property
    def files(self) -> int:
        return sum(1 for part in self.parts if part.name.startswith("files/"))

    def as_dict(self) -> dict:
        return {"id": self.id, "created_at": self.created_at, "engine": self.engine,
                "size": self.size, "files": self.files,
                "parts": [part.as_dict() for part in self.parts]}

    @classmethod
    def from_dict(cls, data: dict) -> "Snapshot":
        return cls(data["id"], data["created_at"], data["engine"],
                   [Part(**part) for part in data["parts"]])

    def summary(self) -> dict:
        return {"id": self.id, "created_at": self.created_at, "size": self.size,
                "files": self.files}


class Repository:
    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.objects = ContentStore(self.root / "objects")
        self.manifests = self.root / "snapshots"

    # --- Writing ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self, *, exclusive: bool = False):
        """Writers share the repository; pruning has it alone (else a prune could remove a
        chunk a running backup has just found present and is about to name)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def store_stream(self, name: str, stream: BinaryIO, *, mode: int = 0o644,
                     progress: Progress | None = None) -> Part:
        chunks, size, first, whole = [], 0, b"", None
        while chunk := stream.read(CHUNK_SIZE):
            digest = hashlib.sha256(chunk).hexdigest()
            if not chunks:
                first = chunk
            elif whole is None:  # a second chunk: now the part needs a digest of its own
                whole = hashlib.sha256(first)
            if whole is not None:
                whole.update(chunk)
            self.objects.put_bytes(chunk, digest)
            chunks.append(digest)
            size += len(chunk)
            if progress:
                progress(len(chunk))
        if whole is not None:
            part_digest = whole.hexdigest()
        else:  # one chunk (most files): the part's digest is the chunk's
            part_digest = chunks[0] if chunks else hashlib.sha256(b"").hexdigest()
        return Part(name, size, part_digest, chunks, mode)

    def create(self, *, engine: str, database: Callable[[BinaryIO], None],
               files: Iterable[tuple[str, Path]], progress: Progress | None = None,
               now: datetime.datetime | None = None) -> Snapshot:
        """``database`` writes the dump into the file object it is given; ``files`` are
        (relative name, path) pairs. Files unchanged since the latest snapshot (same size,
        modification time and inode, chunks present) are taken from it without reading."""
        now = now or datetime.datetime.now(datetime.UTC)
        snapshot = Snapshot(now.strftime("%Y%m%dT%H%M%S%fZ"), now.isoformat(), engine)
        with self.locked():
            previous = self.snapshots()
            known = {part.name: part for part in previous[-1].parts} if previous else {}
            with tempfile.TemporaryFile(dir=self._tmp()) as dump:
                database(dump)
                dump.seek(0)
                snapshot.parts.append(self.store_stream("database", dump, progress=progress))
            for name, path in files:
                status = path.stat()
                seen = known.get(f"files/{name}")
                if seen is not None and seen.unchanged(status) and all(
                        self.objects.exists(digest) for digest in seen.chunks):
                    part = Part(**{**seen.as_dict(), "mode": status.st_mode & 0o777})
                    if progress:
                        progress(part.size)
                else:
                    with path.open("rb") as handle:
                        part = self.store_stream(f"files/{name}", handle,
                                                 mode=status.st_mode & 0o777,
                                                 progress=progress)
                    part.mtime_ns, part.inode = status.st_mtime_ns, status.st_ino
                snapshot.parts.append(part)
            self.objects.sync()
            self.save_manifest(snapshot)
        return snapshot

    def _tmp(self) -> Path:
        path = self.root / "tmp"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def save_manifest(self, snapshot: Snapshot) -> None:
        self.manifests.mkdir(parents=True, exist_ok=True)
        data = json.dumps(snapshot.as_dict(), ensure_ascii=False, separators=(",", ":")).encode()
        handle, name = tempfile.mkstemp(dir=self._tmp())
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(name, self.manifests / f"{snapshot.id}.json")
        self.objects.placed_in.add(self.manifests)
        self.objects.sync()

    # --- Reading ---------------------------------------------------------------------------

    def snapshots(self) -> list[Snapshot]:
        """Oldest first."""
        if not self.manifests.is_dir():
            return []
        return [self.load(path.stem) for path in sorted(self.manifests.glob("*.json"))]

    def load(self, snapshot_id: str) -> Snapshot:
        path = self.manifests / f"{snapshot_id}.json"
        if not path.is_file() or "/" in snapshot_id:
            raise SnapshotError(f"没有这个备份：{snapshot_id}")
        try:
            return Snapshot.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, KeyError, TypeError) as error:
            raise SnapshotError(f"备份 {snapshot_id} 的清单已损坏：{error}") from error

    def read_part(self, part: Part) -> Iterator[bytes]:
        """The part's bytes, chunk by chunk, each checked against its digest."""
        whole = hashlib.sha256()
        for index, digest in enumerate(part.chunks):
            try:
                with self.objects.open(digest) as handle:
                    chunk = handle.read()
            except OSError as error:
                raise SnapshotError(f"{part.name}：第 {index + 1} 块缺失（{digest[:12]}…）") \
                    from error
            if hashlib.sha256(chunk).hexdigest() != digest:
                raise SnapshotError(f"{part.name}：第 {index + 1} 块已损坏（{digest[:12]}…）")
            whole.update(chunk)
            yield chunk
        if whole.hexdigest() != part.sha256:
            raise SnapshotError(f"{part.name}：内容与清单不符")

    def verify(self, snapshot: Snapshot, *, progress: Progress | None = None) -> list[str]:
        """Re-read every byte; the damaged parts, described."""
        problems = []
        for part in snapshot.parts:
            try:
                for chunk in self.read_part(part):
                    if progress:
                        progress(len(chunk))
            except SnapshotError as error:
                problems.append(str(error))
        return problems

    def restore_file(self, part: Part, target: Path) -> None:
        """Write the part to ``target`` (via a temporary file and a rename)."""
        self.restore({part.name: target}, self._snapshot_of(part))

    def restore(self, targets: dict[str, Path], snapshot: Snapshot, *,
                progress: Progress | None = None) -> None:
        """Write each part named in ``targets`` to its path, in one pass: every part goes to
        a temporary file beside its target, checked chunk by chunk as it is written; only
        when all have checked out are they renamed into place. A damaged snapshot writes
        nothing."""
        parts = {part.name: part for part in snapshot.parts}
        written: list[tuple[str, Path]] = []
        try:
            with self.locked():
                for name, target in targets.items():
                    part = parts[name]
                    target.parent.mkdir(parents=True, exist_ok=True)
                    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".restore-")
                    written.append((temporary, target))
                    with os.fdopen(handle, "wb") as out:
                        for chunk in self.read_part(part):
                            out.write(chunk)
                            if progress:
                                progress(len(chunk))
                    os.chmod(temporary, part.mode)
        except BaseException:
            for temporary, _ in written:
                if os.path.exists(temporary):
                    os.unlink(temporary)
            raise
        for temporary, target in written:
            os.replace(temporary, target)

    @staticmethod
    def _snapshot_of(part: Part) -> Snapshot:
        return Snapshot("", "", "", [part])

    # --- Pruning ---------------------------------------------------------------------------

    def prune(self, *, older_than: datetime.datetime, dry_run: bool = False) -> list[Snapshot]:
        """Remove snapshots created before ``older_than`` and chunks nothing else uses."""
        with self.locked(exclusive=not dry_run):
            return self._prune(older_than=older_than, dry_run=dry_run)

    def _prune(self, *, older_than: datetime.datetime, dry_run: bool) -> list[Snapshot]:
        removed = [s for s in self.snapshots()
                   if datetime.datetime.fromisoformat(s.created_at) < older_than]
        if dry_run or not removed:
            return removed
        for snapshot in removed:
            (self.manifests / f"{snapshot.id}.json").unlink()
        used = {digest for snapshot in self.snapshots() for part in snapshot.parts
                for digest in part.chunks}
        for snapshot in removed:
            for part in snapshot.parts:
                for digest in part.chunks:
                    if digest not in used:
                        self.objects.remove(digest)
                        used.add(digest)  # removed once
        return removed


class _BytesReader:
    """A one-shot reader over bytes already in memory (ContentStore.put reads a stream)."""

    def __init__(self, data: bytes):
        self.data = data

    def read(self, size: int = -1) -> bytes:
        data, self.data = self.data, b""
        return data


def walk_files(root: Path, *, exclude: Iterable[Path]) -> list[tuple[str, Path]]:
    """Every regular file under ``root`` but those under ``exclude``, as (relative name,
    path), sorted."""
    excluded = [Path(p).resolve() for p in exclude]
    found = []
    for directory, subdirectories, names in os.walk(root):
        here = Path(directory).resolve()
        subdirectories[:] = sorted(d for d in subdirectories
                                   if (here / d).resolve() not in excluded)
        for name in sorted(names):
            path = here / name
            if path.resolve() in excluded or not path.is_file() or path.is_symlink():
                continue
            found.append((path.relative_to(Path(root).resolve()).as_posix(), path))
    return found
