"""``python tests/backups/killer.py MODE N manage.py-arguments…``: run a management command
that SIGKILLs itself at a chosen point, as a power cut or the OOM killer would (no cleanup
handler runs). MODE says where:

- ``chunk``: half-way through writing the Nth new chunk of ``backup create`` (a partial
  file under ``objects/tmp/``, the chunks before it stored, no manifest);
- ``stage``: after ``restore`` has staged N chunks;
- ``place``: after ``restore`` has moved N files into place;
- ``database``: when ``restore`` has copied the SQLite database beside its place, before the
  rename.
"""

import os
import signal
import sys
from pathlib import Path


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class KillingOs:
    """The os module, but ``replace`` dies after ``count`` renames that ``matches``."""

    def __init__(self, *, count: int, matches, before: bool):
        self.count, self.matches, self.before, self.calls = count, matches, before, 0

    def __getattr__(self, name):
        return getattr(os, name)

    def replace(self, source, target):
        hit = self.matches(Path(source))
        if hit:
            self.calls += 1
        if hit and self.before and self.calls == self.count:
            die()
        os.replace(source, target)
        if hit and not self.before and self.calls == self.count:
            die()


def arm(mode: str, count: int) -> None:
    if mode == "chunk":
        from backups.store import ContentStore

        put_bytes = ContentStore.put_bytes
        calls = 0

        def dying_put_bytes(self, data, sha256):
            nonlocal calls
            if not self.path_for(sha256).exists():
                calls += 1
                if calls == count:
                    def half(out):
                        out.write(data[:len(data) // 2])
                        out.flush()
                        os.fsync(out.fileno())
                        die()
                    self._write_temporary(half)
            return put_bytes(self, data, sha256)
        ContentStore.put_bytes = dying_put_bytes
    elif mode == "stage":
        from backups.snapshots import Repository

        read_part = Repository.read_part
        calls = 0

        def dying_read_part(self, part):
            nonlocal calls
            for chunk in read_part(self, part):
                yield chunk  # resumed once the chunk is written
                calls += 1
                if calls == count:
                    die()
        Repository.read_part = dying_read_part
    elif mode == "place":
        from backups import snapshots

        snapshots.os = KillingOs(count=count, before=False, matches=lambda source: (
            "files" in source.parts and not source.name.startswith(".restore-")))
    elif mode == "database":
        from backups import database

        database.os = KillingOs(count=count, before=True,
                                matches=lambda source: source.name.startswith(".restore-"))
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    mode, count, *arguments = sys.argv[1:]
    arm(mode, int(count))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["manage.py", *arguments])
