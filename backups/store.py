"""A content-addressed, write-once file store: a file is kept under its SHA-256 and never
rewritten. Storing the same bytes twice stores them once. Plain code, no Django.

Layout: ``<root>/ab/cd/abcd…`` (the full hex digest), read-only once written. A file is
written to ``<root>/tmp/`` first, flushed to disk, then renamed into place, so a crash never
leaves a partial original under a digest.
"""

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20


class StoreError(Exception):
    pass


class ContentStore:
    def __init__(self, root: Path | str):
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise StoreError(f"not a SHA-256 digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, stream: BinaryIO) -> tuple[str, int]:
        """Store what ``stream`` holds; its SHA-256 (hex) and size."""
        temporary = self.root / "tmp"
        temporary.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        handle, name = tempfile.mkstemp(dir=temporary)
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in iter(lambda: stream.read(CHUNK), b""):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            final = self.path_for(digest.hexdigest())
            if final.exists():
                os.unlink(name)
            else:
                final.parent.mkdir(parents=True, exist_ok=True)
                os.chmod(name, 0o444)
                os.replace(name, final)
        except BaseException:
            if os.path.exists(name):
                os.unlink(name)
            raise
        return digest.hexdigest(), size

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def open(self, sha256: str) -> BinaryIO:
        return self.path_for(sha256).open("rb")

    def holds(self, sha256: str) -> bool:
        """Re-read every byte: the file is there and still has its digest."""
        if not self.exists(sha256):
            return False
        digest = hashlib.sha256()
        with self.open(sha256) as handle:
            for chunk in iter(lambda: handle.read(CHUNK), b""):
                digest.update(chunk)
        return digest.hexdigest() == sha256

    def remove(self, sha256: str) -> None:
        """Only for pruning what has expired; the caller checks retention."""
        path = self.path_for(sha256)
        if path.exists():
            os.chmod(path, 0o644)
            path.unlink()
