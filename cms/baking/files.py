"""Writing and removing baked files: plain functions, no Django.

Files are replaced atomically: written to a temporary file in the same directory, then
renamed over the old one, so a reader (the middleware, nginx) gets the old file or the new
one, never half of either.
"""

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

# Readable by a web server running as another user (nginx), like any published file.
FILE_MODE = 0o644
TEMP_PREFIX = ".bake-"
TEMP_SUFFIX = ".tmp"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_atomically(*, path: Path, data: bytes, fsync: bool = False,
                     before_replace: Callable[[], None] | None = None) -> bool:
    """Put ``data`` at ``path`` atomically; False (and the file untouched, so its mtime
    still tells when the content last changed) when it already holds exactly ``data``.
    ``fsync`` makes the bytes durable before the rename (a configuration file); baked
    pages need only atomicity: after a crash `bake` rewrites what differs.
    ``before_replace`` runs once the new bytes are in the temporary file, just before the
    rename (the baker records the file as pending there: record before rename)."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(temp_name, FILE_MODE)
        if before_replace is not None:
            before_replace()
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    return True


def remove_file(*, path: Path, stop_at: Path) -> bool:
    """Remove ``path`` if it exists, then the directories it leaves empty up to (not
    including) ``stop_at``; True if a file was removed."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    remove_empty_directories(start=path.parent, stop_at=stop_at)
    return True


def remove_empty_directories(*, start: Path, stop_at: Path) -> None:
    directory = start
    while directory != stop_at and stop_at in directory.parents:
        try:
            directory.rmdir()
        except OSError:  # not empty (or gone): stop climbing
            return
        directory = directory.parent


def files_under(root: Path) -> list[Path]:
    """Every regular file under ``root`` (none if it does not exist)."""
    if not root.is_dir():
        return []
    return [Path(folder) / name for folder, _, names in os.walk(root) for name in names]
