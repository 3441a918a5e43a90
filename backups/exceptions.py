"""The backups' exceptions: one tree under ``BackupError``.

Every exception backups/ raises on purpose derives from ``BackupError``, so a command or a
caller catches them in one place; each is also importable from the module that raises it.

``BackupError``
    ``StoreError``: the content-addressed store cannot write or read a chunk as asked, or a
    chunk does not match its hash (``backups.store``).

    ``SnapshotError``: a snapshot cannot be taken, verified, restored or pruned as asked
    (``backups.snapshots``); what is already stored stays as it was.

    ``DatabaseBackupError``: the database cannot be dumped or loaded (``backups.database``).

    ``ObjectStoreError``: the off-site bucket is missing, refuses, or holds no object lock
    (``backups.objectstore``, ``backups.offsite``).

    ``FetchError``: a URL cannot be captured as an original (``backups.fetch``).

    ``Retained`` (also Django's ``ProtectedError``): an original or edited version is within
    its retention period or on legal hold and must be kept (``backups.models``); a
    ``ProtectedError``, so that bulk deleters which skip protected objects (Wagtail's
    ``purge_revisions``) skip these too.
"""

from django.db.models import ProtectedError


class BackupError(Exception):
    """Something backups/ was asked to do cannot be done; the message says why."""


class StoreError(BackupError):
    pass


class SnapshotError(BackupError):
    pass


class DatabaseBackupError(BackupError):
    pass


class ObjectStoreError(BackupError):
    pass


class FetchError(BackupError):
    pass


class Retained(BackupError, ProtectedError):
    """Refused: the record must be kept."""

    def __init__(self, message: str, objects=()):
        super().__init__(message, set(objects))
        self.message = message

    def __str__(self):
        return self.message
