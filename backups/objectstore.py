"""Write-once objects in an S3-compatible bucket with Object Lock: the off-site copy of the
backups and the production store of originals.

The connection (endpoint, bucket, prefix, credentials) is a django-storages ``S3Storage``
configured under ``settings.STORAGES``; Object Lock needs calls the Storage API does not
have (a retain-until date per object, retention extension, legal hold, object versions), so
this class makes those through the storage's own boto3 client.

Every object is written in ``COMPLIANCE`` mode (nobody, the account's root included, deletes
a locked version before its date) unless the bucket is configured for ``GOVERNANCE``. A
deletion while locked only adds a delete marker; ``read`` falls back to the newest version
under it, so a copy "deleted" with stolen credentials still restores.
"""

import base64
import datetime
import tempfile
from collections.abc import Iterator
from typing import BinaryIO

from botocore.exceptions import ClientError
from django.core.files.storage import InvalidStorageError, storages

from backups.exceptions import ObjectStoreError
from backups.store import copy_hashing, relative_path, sha256_of

LOCK_MODES = ("COMPLIANCE", "GOVERNANCE")



class LockedBucket:
    def __init__(self, storage, *, mode: str = "COMPLIANCE"):
        if mode not in LOCK_MODES:
            raise ObjectStoreError(f"对象锁定模式只能是 {' 或 '.join(LOCK_MODES)}：{mode!r}")
        if not hasattr(storage, "bucket_name"):
            raise ObjectStoreError(f"{type(storage).__name__} 不是 S3 存储：异地备份与原件存储桶"
                                   "须配置为 storages.backends.s3.S3Storage。")
        self.storage = storage
        self.client = storage.connection.meta.client
        self.bucket = storage.bucket_name
        self.prefix = (storage.location or "").strip("/")
        self.mode = mode

    @classmethod
    def from_alias(cls, alias: str, *, mode: str = "COMPLIANCE") -> "LockedBucket":
        try:
            storage = storages[alias]
        except InvalidStorageError as error:
            raise ObjectStoreError(f"settings.STORAGES 中没有配置“{alias}”。") from error
        return cls(storage, mode=mode)

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def check_lock_enabled(self) -> None:
        """Refuse a bucket without Object Lock: its copies could be deleted."""
        try:
            configuration = self.client.get_object_lock_configuration(Bucket=self.bucket)
        except ClientError as error:
            raise ObjectStoreError(f"存储桶 {self.bucket} 未启用对象锁定（Object Lock）："
                                   f"{_message(error)}") from error
        if configuration.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") != \
                "Enabled":
            raise ObjectStoreError(f"存储桶 {self.bucket} 未启用对象锁定（Object Lock）。")

    # --- Writing ---------------------------------------------------------------------------

    def put(self, name: str, body: BinaryIO | bytes, *, retain_until: datetime.datetime,
            sha256: str | None = None) -> None:
        """Write ``name`` locked until ``retain_until``. With ``sha256`` (hex) the server
        checks the bytes it received against it."""
        # Object Lock requires a checksum header; ours is the SHA-256 we already know.
        extra = {"ChecksumAlgorithm": "SHA256"}
        if sha256:
            extra["ChecksumSHA256"] = base64.b64encode(bytes.fromhex(sha256)).decode()
        try:
            self.client.put_object(Bucket=self.bucket, Key=self.key(name), Body=body,
                                   ObjectLockMode=self.mode,
                                   ObjectLockRetainUntilDate=retain_until, **extra)
        except ClientError as error:
            raise ObjectStoreError(f"写入 {name} 失败：{_message(error)}") from error

    def keep_until(self, name: str, retain_until: datetime.datetime) -> None:
        """Extend the lock of ``name`` to ``retain_until`` (a lock is never shortened)."""
        head = self._head(name)
        current = head.get("ObjectLockRetainUntilDate")
        if current is not None and current >= retain_until:
            return
        try:
            self.client.put_object_retention(
                Bucket=self.bucket, Key=self.key(name), VersionId=head["VersionId"],
                Retention={"Mode": self.mode, "RetainUntilDate": retain_until})
        except ClientError as error:
            raise ObjectStoreError(f"延长 {name} 的锁定失败：{_message(error)}") from error

    def set_legal_hold(self, name: str, *, on: bool) -> None:
        try:
            self.client.put_object_legal_hold(
                Bucket=self.bucket, Key=self.key(name), VersionId=self._head(name)["VersionId"],
                LegalHold={"Status": "ON" if on else "OFF"})
        except ClientError as error:
            raise ObjectStoreError(f"设置 {name} 的司法保全失败：{_message(error)}") from error

    def remove(self, name: str) -> None:
        """Delete every version of ``name``: only once its lock has passed (pruning)."""
        key = self.key(name)
        try:
            for version in self._versions(key):
                self.client.delete_object(Bucket=self.bucket, Key=key,
                                          VersionId=version["VersionId"])
        except ClientError as error:
            raise ObjectStoreError(f"删除 {name} 被拒绝：{_message(error)}") from error

    # --- Reading ---------------------------------------------------------------------------

    def exists(self, name: str) -> bool:
        try:
            self._head(name)
        except ObjectStoreError:
            return False
        return True

    def read(self, name: str) -> BinaryIO:
        """A stream of the newest version of ``name`` holding data (under any delete marker)."""
        key = self.key(name)
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except ClientError as error:
            if _code(error) not in ("NoSuchKey", "404"):
                raise ObjectStoreError(f"读取 {name} 失败：{_message(error)}") from error
        versions = self._versions(key, with_markers=False)
        if not versions:
            raise ObjectStoreError(f"异地备份中没有 {name}")
        newest = max(versions, key=lambda version: version["LastModified"])
        return self.client.get_object(Bucket=self.bucket, Key=key,
                                      VersionId=newest["VersionId"])["Body"]

    def names(self, prefix: str) -> Iterator[str]:
        """Names under ``prefix`` (latest versions only), relative to the bucket's prefix."""
        start = len(self.key(""))
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.key(prefix))
        for page in pages:
            for item in page.get("Contents", []):
                yield item["Key"][start:]

    def lock_of(self, name: str) -> tuple[str | None, datetime.datetime | None, bool]:
        """(mode, retain-until, legal hold) of the newest version of ``name``."""
        head = self._head(name)
        return (head.get("ObjectLockMode"), head.get("ObjectLockRetainUntilDate"),
                head.get("ObjectLockLegalHoldStatus") == "ON")

    def _head(self, name: str) -> dict:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self.key(name))
        except ClientError as error:
            raise ObjectStoreError(f"对象 {name} 不存在或无法读取：{_message(error)}") from error

    def _versions(self, key: str, *, with_markers: bool = True) -> list[dict]:
        found = []
        pages = self.client.get_paginator("list_object_versions").paginate(
            Bucket=self.bucket, Prefix=key)
        for page in pages:
            kinds = ["Versions", "DeleteMarkers"] if with_markers else ["Versions"]
            found += [v for kind in kinds for v in page.get(kind, []) if v["Key"] == key]
        return found


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _message(error: ClientError) -> str:
    details = error.response.get("Error", {})
    return f"{details.get('Code', '')} {details.get('Message', '')}".strip() or str(error)


class BucketContentStore:
    """The originals' content-addressed store in a locked bucket, with ContentStore's
    interface: each object is locked until the latest ``retain_until`` of the originals that
    share its content, and held while any of them is under legal hold."""

    def __init__(self, bucket: LockedBucket):
        self.bucket = bucket

    def put(self, stream: BinaryIO, *,
            retain_until: datetime.datetime | None = None) -> tuple[str, int]:
        if retain_until is None:
            raise ObjectStoreError("写入锁定存储桶须给出保存期限。")
        # The name is the digest, known only after reading: spool to a temporary file first.
        with tempfile.TemporaryFile() as spool:
            sha256, size = copy_hashing(stream, spool)
            name = relative_path(sha256)
            if self.bucket.exists(name):
                self.bucket.keep_until(name, retain_until)
            else:
                spool.seek(0)
                self.bucket.put(name, spool, retain_until=retain_until, sha256=sha256)
        return sha256, size

    def exists(self, sha256: str) -> bool:
        return self.bucket.exists(relative_path(sha256))

    def open(self, sha256: str) -> BinaryIO:
        return self.bucket.read(relative_path(sha256))

    def holds(self, sha256: str) -> bool:
        if not self.exists(sha256):
            return False
        return sha256_of(self.open(sha256)) == sha256

    def keep_until(self, sha256: str, retain_until: datetime.datetime) -> None:
        self.bucket.keep_until(relative_path(sha256), retain_until)

    def set_legal_hold(self, sha256: str, *, on: bool) -> None:
        self.bucket.set_legal_hold(relative_path(sha256), on=on)

    def remove(self, sha256: str) -> None:
        self.bucket.remove(relative_path(sha256))
