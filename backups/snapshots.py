"""Snapshots of a site's state: the database dump and every file under the state directory,
stored as content-addressed chunks so that an unchanged second run stores next to nothing.
Plain code over paths and byte streams, no Django (backups.database makes the dumps).

Repository layout (``CMS_DATA_DIR/backups/`` by default)::

    objects/ab/cd/<sha256>       chunks of up to CHUNK_SIZE bytes, write-once (ContentStore)
    snapshots/<id>.json          one manifest per snapshot: every part's size, SHA-256, chunks

A part is a file (``files/<relative path>``) or the database dump (``database``). Verifying
re-reads every chunk of every part and checks both the chunks' and the part's digests.

Crashes: a chunk is written under ``objects/tmp/`` and renamed into place, and a manifest is
written last, so a killed ``create`` leaves only temporary files and chunks no manifest names.
The next ``create`` that finds no other writer removes the temporary files (and the chunks it
stored already are not written again); ``prune``, which has the repository alone, removes the
chunks no manifest names. A restore writes into a staging directory beside its targets
(``.restore-<id>/``) and renames into place at the end, so a killed restore is resumed by
running it again.
"""

import contextlib
import datetime
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from backups.exceptions import SnapshotError
from backups.store import ContentStore

CHUNK_SIZE = 4 << 20
Progress = Callable[[int], None]  # bytes done since the last call
# Names a restore gives its staging directory and temporary files: never part of a snapshot.
RESTORE_PREFIX = ".restore-"
STAGED = ".staged"  # in a staging directory: every part is there and checked


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
    # The file changed while it was read (as tar's "file changed as we read it"): the part
    # holds its first ``size`` bytes as of the snapshot's start, and the next run reads it again.
    changed: bool = False

    def as_dict(self) -> dict:
        data = {"name": self.name, "size": self.size, "sha256": self.sha256,
                "chunks": self.chunks, "mode": self.mode, "mtime_ns": self.mtime_ns,
                "inode": self.inode}
        if self.changed:
            data["changed"] = True
        return data

    def unchanged(self, status: os.stat_result) -> bool:
        return (self.inode != 0 and self.size == status.st_size
                and self.mtime_ns == status.st_mtime_ns and self.inode == status.st_ino)


@dataclass
class Snapshot:
    id: str
    created_at: str
    engine: str
    parts: list[Part] = field(default_factory=list)
    # Files removed between the start of the snapshot and their reading (not in the manifest).
    removed: list[str] = field(default_factory=list)

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

    @property
    def changed(self) -> list[str]:
        """Files that changed while they were read."""
        return [part.name.removeprefix("files/") for part in self.parts if part.changed]


@dataclass
class Reclaimed:
    """What a prune removed (or would remove): snapshots, chunks no snapshot names, and
    temporary files left by killed runs."""
    snapshots: list[Snapshot] = field(default_factory=list)
    chunks: int = 0
    chunk_bytes: int = 0
    debris: int = 0
    debris_bytes: int = 0


class Repository:
    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.objects = ContentStore(self.root / "objects")
        self.manifests = self.root / "snapshots"

    # --- Writing ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self, *, exclusive: bool = False, wait: bool = True):
        """Writers share the repository; pruning has it alone (else a prune could remove a
        chunk a running backup has just found present and is about to name). Yields whether
        the lock was taken (always, unless ``wait`` is false). The kernel drops the lock of a
        killed process, so a crash never leaves the repository locked."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "lock", "a+b") as handle:
            flags = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
            try:
                fcntl.flock(handle, flags if wait else flags | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def remove_debris(self) -> tuple[int, int]:
        """Remove the temporary files killed runs left (partial chunks, manifests, dumps):
        (files, bytes). Only while holding the repository alone: a running writer's
        temporary files look the same."""
        count = size = 0
        for directory in (self.objects.root / "tmp", self.root / "tmp",
                          *self.root.glob("tmp?*")):  # tmpXXXX: dumps of earlier restores
            if not directory.is_dir():
                continue
            for path in [p for p in directory.rglob("*") if p.is_file() or p.is_symlink()]:
                count += 1
                size += path.lstat().st_size
                path.unlink()
            if directory.name != "tmp":
                shutil.rmtree(directory, ignore_errors=True)
        return count, size

    def store_stream(self, name: str, stream: BinaryIO, *, mode: int = 0o644,
                     progress: Progress | None = None, limit: int | None = None) -> Part:
        """Store what ``stream`` holds, or its first ``limit`` bytes: a file that grows while
        it is read (a log) must not keep a backup reading for ever."""
        chunks, size, first, whole = [], 0, b"", None
        while chunk := stream.read(CHUNK_SIZE if limit is None
                                   else min(CHUNK_SIZE, limit - size)):
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
        with self.locked(exclusive=True, wait=False) as alone:
            if alone:  # no other writer: what lies in the temporary directories is debris
                self.remove_debris()
        with self.locked():
            previous = self.snapshots()
            known = {part.name: part for part in previous[-1].parts} if previous else {}
            # Each file as it is when the snapshot starts: a file growing meanwhile (a log)
            # is read up to this size, so the backup ends.
            started = []
            for name, path in files:
                try:
                    started.append((name, path, path.stat()))
                except FileNotFoundError:  # removed since it was listed: not in the snapshot
                    continue
            with tempfile.TemporaryFile(dir=self._tmp()) as dump:
                database(dump)
                dump.seek(0)
                snapshot.parts.append(self.store_stream("database", dump, progress=progress))
            for name, path, status in started:
                seen = known.get(f"files/{name}")
                if seen is not None and seen.unchanged(status) and all(
                        self.objects.exists(digest) for digest in seen.chunks):
                    part = Part(**{**seen.as_dict(), "mode": status.st_mode & 0o777})
                    if progress:
                        progress(part.size)
                else:
                    try:
                        part = self._store_file(name, path, status, progress=progress)
                    except FileNotFoundError:  # removed since the start: as tar, go on
                        snapshot.removed.append(name)
                        continue
                snapshot.parts.append(part)
            self.objects.sync()
            self.save_manifest(snapshot)
        return snapshot

    def _store_file(self, name: str, path: Path, status: os.stat_result, *,
                    progress: Progress | None) -> Part:
        """The file as of ``status`` (its size when the snapshot started): bytes appended
        while it is read are left for the next run, and a file that changed meanwhile is
        marked so (and read again next time, its time and inode not recorded)."""
        with path.open("rb") as handle:
            part = self.store_stream(f"files/{name}", handle, mode=status.st_mode & 0o777,
                                     progress=progress, limit=status.st_size)
            after = os.fstat(handle.fileno())
        if (part.size, after.st_size, after.st_mtime_ns, after.st_ino) != (
                status.st_size, status.st_size, status.st_mtime_ns, status.st_ino):
            part.changed = True
        else:
            part.mtime_ns, part.inode = status.st_mtime_ns, status.st_ino
        return part

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

    def stage(self, snapshot: Snapshot, *, staging: Path,
              progress: Progress | None = None) -> None:
        """Write every part of ``snapshot`` under ``staging`` (``files/…`` and ``database``),
        each checked chunk by chunk, then mark the directory complete. Resumable: a part is
        renamed to its name only once written whole, so a run killed half-way is continued
        by the next, which keeps the parts already there. A damaged snapshot raises
        SnapshotError and nothing is put in place (the caller renames only a complete
        staging directory)."""
        if (staging / STAGED).exists():
            return
        with self.locked():
            for part in snapshot.parts:
                target = staging / part.name
                if not target.resolve().is_relative_to(staging.resolve()):
                    raise SnapshotError(f"备份清单中有状态目录以外的路径：{part.name}")
                if target.is_file():  # staged by an interrupted run
                    if progress:
                        progress(part.size)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                partial = target.with_name(RESTORE_PREFIX + target.name)
                with open(partial, "wb") as out:
                    for chunk in self.read_part(part):
                        out.write(chunk)
                        if progress:
                            progress(len(chunk))
                    out.flush()
                    os.fsync(out.fileno())
                os.chmod(partial, part.mode)
                os.replace(partial, target)
        (staging / STAGED).touch()

    # --- Pruning ---------------------------------------------------------------------------

    def prune(self, *, older_than: datetime.datetime, dry_run: bool = False) -> Reclaimed:
        """Remove snapshots created before ``older_than``, chunks no remaining snapshot names
        (also those a killed backup stored and never named) and temporary files of killed
        runs. With the repository alone: every backup, push, pull and restore holds it
        shared while it runs, so no chunk removed here can be one a run is about to name."""
        with self.locked(exclusive=True):
            return self._prune(older_than=older_than, dry_run=dry_run)

    def _prune(self, *, older_than: datetime.datetime, dry_run: bool) -> Reclaimed:
        snapshots = self.snapshots()
        result = Reclaimed(snapshots=[
            s for s in snapshots if datetime.datetime.fromisoformat(s.created_at) < older_than])
        removed = {s.id for s in result.snapshots}
        used = {digest for snapshot in snapshots if snapshot.id not in removed
                for part in snapshot.parts for digest in part.chunks}
        unused = [path for path in self._chunk_files() if path.name not in used]
        result.chunks = len(unused)
        result.chunk_bytes = sum(path.stat().st_size for path in unused)
        if dry_run:
            for directory in (self.objects.root / "tmp", self.root / "tmp",
                              *self.root.glob("tmp?*")):
                files = [p for p in directory.rglob("*") if p.is_file()] \
                    if directory.is_dir() else []
                result.debris += len(files)
                result.debris_bytes += sum(p.stat().st_size for p in files)
            return result
        # Manifests first: a crash half-way leaves chunks no manifest names (removed by the
        # next prune), never a manifest naming a removed chunk.
        for snapshot_id in removed:
            (self.manifests / f"{snapshot_id}.json").unlink()
        for path in unused:
            self.objects.remove(path.name)
        result.debris, result.debris_bytes = self.remove_debris()
        return result

    def _chunk_files(self) -> Iterator[Path]:
        """Every stored chunk (``objects/ab/cd/<sha256>``), not the temporary files."""
        if not self.objects.root.is_dir():
            return
        for first in sorted(self.objects.root.iterdir()):
            if len(first.name) != 2 or not first.is_dir():
                continue
            for path in sorted(first.glob("??/*")):
                if len(path.name) == 64 and path.is_file():
                    yield path


def staging_dir(root: Path, snapshot_id: str) -> Path:
    """Where ``restore`` writes a snapshot before putting it in place."""
    return Path(root) / f"{RESTORE_PREFIX}{snapshot_id}"


def put_in_place(staging: Path, root: Path) -> int:
    """Move every staged file (``staging/files/…``) to its place under ``root``: renames on
    one file system, so a file is there whole or not at all; a run killed half-way is
    finished by the next (the files already moved are gone from the staging directory).
    How many were moved."""
    files = staging / "files"
    moved = 0
    if not files.is_dir():
        return moved
    for path in sorted(p for p in files.rglob("*") if p.is_file()):
        if path.name.startswith(RESTORE_PREFIX):  # a part an interrupted run was writing
            continue
        target = root / path.relative_to(files)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
        moved += 1
    return moved


def restore_debris(root: Path, *, keep: Path | None = None,
                   skip: Iterable[Path] = ()) -> list[Path]:
    """What interrupted restores left under ``root`` (not looking under ``skip``: the
    repository's many chunks): staging directories (but ``keep``) and temporary
    ``.restore-*`` files (earlier versions wrote them beside each target)."""
    skipped = {Path(p).resolve() for p in skip}
    found = []
    for directory, subdirectories, names in os.walk(root):
        here = Path(directory)
        subdirectories[:] = [d for d in subdirectories if (here / d).resolve() not in skipped]
        for name in list(subdirectories):
            if name.startswith(RESTORE_PREFIX):
                subdirectories.remove(name)
                if keep is None or here / name != keep:
                    found.append(here / name)
        found += [here / name for name in names if name.startswith(RESTORE_PREFIX)]
    return found


class _BytesReader:
    """A one-shot reader over bytes already in memory (ContentStore.put reads a stream)."""

    def __init__(self, data: bytes):
        self.data = data

    def read(self, size: int = -1) -> bytes:
        data, self.data = self.data, b""
        return data


def walk_files(root: Path, *, exclude: Iterable[Path]) -> list[tuple[str, Path]]:
    """Every regular file under ``root`` but those under ``exclude`` and a restore's
    debris, as (relative name, path), sorted."""
    excluded = [Path(p).resolve() for p in exclude]
    found = []
    for directory, subdirectories, names in os.walk(root):
        here = Path(directory).resolve()
        # A restore's staging directory and temporary files are its debris, not the site's.
        subdirectories[:] = sorted(d for d in subdirectories
                                   if (here / d).resolve() not in excluded
                                   and not d.startswith(RESTORE_PREFIX))
        for name in sorted(names):
            path = here / name
            if (path.resolve() in excluded or name.startswith(RESTORE_PREFIX)
                    or not path.is_file() or path.is_symlink()):
                continue
            found.append((path.relative_to(Path(root).resolve()).as_posix(), path))
    return found
