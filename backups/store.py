"""A content-addressed, write-once file store: a file is kept under its SHA-256 and never
rewritten. Storing the same bytes twice stores them once. Plain code, no Django.

Layout: ``<root>/ab/cd/abcd…`` (the full hex digest), read-only once written. A file is
written to ``<root>/tmp/`` first, flushed to disk, then renamed into place, so a crash never
leaves a partial original under a digest.
"""

import datetime
import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TypeVar

from backups.exceptions import StoreError

CHUNK = 1 << 20
T = TypeVar("T")



def relative_path(sha256: str) -> str:
    """``ab/cd/abcd…``: where a digest's content lives in any of our content stores."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise StoreError(f"not a SHA-256 digest: {sha256!r}")
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


def copy_hashing(stream: BinaryIO, out: BinaryIO) -> tuple[str, int]:
    """Copy ``stream`` to ``out``; the SHA-256 (hex) and size of what was copied."""
    digest, size = hashlib.sha256(), 0
    for chunk in iter(lambda: stream.read(CHUNK), b""):
        digest.update(chunk)
        out.write(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def sha256_of(stream: BinaryIO) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(CHUNK), b""):
        digest.update(chunk)
    return digest.hexdigest()


class ContentStore:
    """On local disk. Files are read-only once written; the manifest's dates (backups.models)
    govern how long they are kept, and only pruning removes them."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.placed_in: set[Path] = set()

    def path_for(self, sha256: str) -> Path:
        return self.root / relative_path(sha256)

    def put(self, stream: BinaryIO, *,
            retain_until: datetime.datetime | None = None) -> tuple[str, int]:
        """Store what ``stream`` holds; its SHA-256 (hex) and size. (``retain_until`` is for
        stores that lock objects themselves; here the manifest keeps the date.)"""
        name, (sha256, size) = self._write_temporary(lambda out: copy_hashing(stream, out))
        self._keep(name, sha256)
        return sha256, size

    def put_bytes(self, data: bytes, sha256: str) -> bool:
        """Store ``data`` already in memory and hashed (``sha256``), unless it is there: a
        chunk seen before costs one stat, not a write and an fsync. True if written."""
        if self.path_for(sha256).exists():
            return False
        name, _ = self._write_temporary(lambda out: out.write(data))
        self._keep(name, sha256)
        return True

    def _write_temporary(self, write: Callable[[BinaryIO], T]) -> tuple[str, T]:
        """A new file under ``<root>/tmp/`` that ``write`` fills, flushed to disk: its path
        and what ``write`` returned. Nothing is left behind if writing fails."""
        temporary = self.root / "tmp"
        temporary.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=temporary)
        try:
            with os.fdopen(handle, "wb") as out:
                result = write(out)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            os.unlink(name)
            raise
        return name, result

    def _keep(self, name: str, sha256: str) -> None:
        """Move the temporary file ``name`` under its digest, or drop it if that content is
        already stored."""
        final = self.path_for(sha256)
        try:
            if final.exists():
                os.unlink(name)
            else:
                self._place(name, final)
        except BaseException:
            if os.path.exists(name):
                os.unlink(name)
            raise

    def _place(self, name: str, final: Path) -> None:
        final.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(name, 0o444)
        os.replace(name, final)
        self.placed_in.add(final.parent)

    def sync(self) -> None:
        """Make the renames durable: fsync each directory something was placed in (once,
        not per file) — before a manifest names the new objects."""
        for directory in sorted(self.placed_in):
            descriptor = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        self.placed_in.clear()

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def open(self, sha256: str) -> BinaryIO:
        return self.path_for(sha256).open("rb")

    def holds(self, sha256: str) -> bool:
        """Re-read every byte: the file is there and still has its digest."""
        if not self.exists(sha256):
            return False
        with self.open(sha256) as handle:
            return sha256_of(handle) == sha256

    def keep_until(self, sha256: str, retain_until: datetime.datetime) -> None:
        """Nothing to do on disk: the manifest's date keeps the file."""

    def set_legal_hold(self, sha256: str, *, on: bool) -> None:
        """Nothing to do on disk: the manifest's flag keeps the file."""

    def remove(self, sha256: str) -> None:
        """Only for pruning what has expired; the caller checks retention."""
        path = self.path_for(sha256)
        if path.exists():
            os.chmod(path, 0o644)
            path.unlink()
