"""Snapshots of a site's state: the database dump and every file under the state directory,
stored as content-addressed chunks so that an unchanged second run stores next to nothing.
Plain code over paths and byte streams, no Django (backups.database makes the dumps).

Repository layout (``CMS_DATA_DIR/backups/`` by default)::

    objects/ab/cd/<sha256>       chunks of up to CHUNK_SIZE bytes, write-once (ContentStore)
    snapshots/<id>.json          one manifest per snapshot: every part's size, SHA-256, chunks

A part is a file (``files/<relative path>``) or the database dump (``database``). Verifying
re-reads every chunk of every part and checks both the chunks' and the part's digests.
"""

import datetime
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from backups.store import ContentStore

CHUNK_SIZE = 4 << 20
Progress = Callable[[int], None]  # bytes done since the last call


class SnapshotError(Exception):
    pass


@dataclass
class Part:
    name: str
    size: int
    sha256: str
    chunks: list[str]
    mode: int = 0o644

    def as_dict(self) -> dict:
        return {"name": self.name, "size": self.size, "sha256": self.sha256,
                "chunks": self.chunks, "mode": self.mode}


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

    def store_stream(self, name: str, stream: BinaryIO, *, mode: int = 0o644,
                     progress: Progress | None = None) -> Part:
        whole = hashlib.sha256()
        chunks, size = [], 0
        while chunk := stream.read(CHUNK_SIZE):
            whole.update(chunk)
            digest, _ = self.objects.put(_BytesReader(chunk))
            chunks.append(digest)
            size += len(chunk)
            if progress:
                progress(len(chunk))
        return Part(name, size, whole.hexdigest(), chunks, mode)

    def create(self, *, engine: str, database: Callable[[BinaryIO], None],
               files: Iterable[tuple[str, Path]], progress: Progress | None = None,
               now: datetime.datetime | None = None) -> Snapshot:
        """``database`` writes the dump into the file object it is given; ``files`` are
        (relative name, path) pairs."""
        now = now or datetime.datetime.now(datetime.UTC)
        snapshot = Snapshot(now.strftime("%Y%m%dT%H%M%S%fZ"), now.isoformat(), engine)
        with tempfile.TemporaryFile(dir=self._tmp()) as dump:
            database(dump)
            dump.seek(0)
            snapshot.parts.append(self.store_stream("database", dump, progress=progress))
        for name, path in files:
            with path.open("rb") as handle:
                snapshot.parts.append(self.store_stream(
                    f"files/{name}", handle, mode=path.stat().st_mode & 0o777,
                    progress=progress))
        self.save_manifest(snapshot)
        return snapshot

    def _tmp(self) -> Path:
        path = self.root / "tmp"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def save_manifest(self, snapshot: Snapshot) -> None:
        self.manifests.mkdir(parents=True, exist_ok=True)
        data = json.dumps(snapshot.as_dict(), ensure_ascii=False, indent=1).encode()
        handle, name = tempfile.mkstemp(dir=self._tmp())
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(name, self.manifests / f"{snapshot.id}.json")

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
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=target.parent, prefix=".restore-")
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in self.read_part(part):
                    out.write(chunk)
            os.chmod(name, part.mode)
            os.replace(name, target)
        except BaseException:
            if os.path.exists(name):
                os.unlink(name)
            raise

    # --- Pruning ---------------------------------------------------------------------------

    def prune(self, *, older_than: datetime.datetime, dry_run: bool = False) -> list[Snapshot]:
        """Remove snapshots created before ``older_than`` and chunks nothing else uses."""
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
