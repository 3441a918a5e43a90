"""The off-site copy of the snapshot repository: the same layout (``objects/ab/cd/<sha256>``,
``snapshots/<id>.json``) in an S3-compatible bucket with Object Lock. Each object is locked
until its newest snapshot's date plus the retention, so no snapshot younger than that can
be deleted off-site, whoever holds the credentials.

Pushing uploads only the chunks the bucket lacks (checked by the server against their
SHA-256) and extends the lock of those it reuses; the manifest goes last, so a snapshot
listed off-site is complete. Pulling fetches a snapshot's missing chunks into the local
repository, checking each digest, and its manifest last.
"""

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass

from backups.objectstore import LockedBucket, ObjectStoreError
from backups.snapshots import CHUNK_SIZE, Repository, Snapshot, SnapshotError
from backups.store import relative_path

Progress = Callable[[int], None]


@dataclass
class Transfer:
    snapshot: Snapshot
    sent: int = 0  # chunks uploaded or downloaded
    reused: int = 0  # chunks already there
    bytes: int = 0


def manifest_name(snapshot_id: str) -> str:
    return f"snapshots/{snapshot_id}.json"


def chunk_name(digest: str) -> str:
    return f"objects/{relative_path(digest)}"


def lock_until(snapshot: Snapshot, *, days: int) -> datetime.datetime:
    return datetime.datetime.fromisoformat(snapshot.created_at) + datetime.timedelta(days=days)


def remote_snapshots(bucket: LockedBucket) -> list[str]:
    """Ids of the snapshots off-site, oldest first."""
    return sorted(name.removeprefix("snapshots/").removesuffix(".json")
                  for name in bucket.names("snapshots/") if name.endswith(".json"))


def push(*, repository: Repository, bucket: LockedBucket, snapshot: Snapshot, lock_days: int,
         progress: Progress | None = None) -> Transfer:
    with repository.locked():  # a prune must not remove chunks while they are being sent
        return _push(repository=repository, bucket=bucket, snapshot=snapshot,
                     until=lock_until(snapshot, days=lock_days), progress=progress)


def _push(*, repository: Repository, bucket: LockedBucket, snapshot: Snapshot,
          until: datetime.datetime, progress: Progress | None) -> Transfer:
    present = set(bucket.names("objects/"))
    transfer = Transfer(snapshot)
    for digest, size in _chunk_sizes(snapshot).items():
        name = chunk_name(digest)
        if name in present:
            bucket.keep_until(name, until)
            transfer.reused += 1
        else:
            with repository.objects.open(digest) as handle:
                bucket.put(name, handle, retain_until=until, sha256=digest)
            transfer.sent += 1
            transfer.bytes += size
        if progress:
            progress(size)
    manifest = json.dumps(snapshot.as_dict(), ensure_ascii=False, indent=1).encode()
    bucket.put(manifest_name(snapshot.id), manifest, retain_until=until)
    return transfer


def pull(*, repository: Repository, bucket: LockedBucket, snapshot_id: str,
         progress: Progress | None = None) -> Transfer:
    if "/" in snapshot_id:
        raise SnapshotError(f"没有这个备份：{snapshot_id}")
    try:
        snapshot = Snapshot.from_dict(json.loads(bucket.read(manifest_name(snapshot_id)).read()))
    except ObjectStoreError as error:
        raise SnapshotError(f"异地备份中没有 {snapshot_id}：{error}") from error
    except (ValueError, KeyError, TypeError) as error:
        raise SnapshotError(f"异地备份 {snapshot_id} 的清单已损坏：{error}") from error
    with repository.locked():  # a prune must not remove chunks fetched but not yet named
        return _pull(repository=repository, bucket=bucket, snapshot=snapshot,
                     progress=progress)


def _pull(*, repository: Repository, bucket: LockedBucket, snapshot: Snapshot,
          progress: Progress | None) -> Transfer:
    transfer = Transfer(snapshot)
    for digest, size in _chunk_sizes(snapshot).items():
        if repository.objects.holds(digest):
            transfer.reused += 1
        else:
            stored, _ = repository.objects.put(bucket.read(chunk_name(digest)))
            if stored != digest:
                repository.objects.remove(stored)
                raise SnapshotError(f"异地备份的数据块 {digest[:12]}… 已损坏，未取回。")
            transfer.sent += 1
            transfer.bytes += size
        if progress:
            progress(size)
    repository.save_manifest(snapshot)
    return transfer


def _chunk_sizes(snapshot: Snapshot) -> dict[str, int]:
    """Each distinct chunk of the snapshot with its size (parts are split at CHUNK_SIZE)."""
    sizes = {}
    for part in snapshot.parts:
        for index, digest in enumerate(part.chunks):
            last = index == len(part.chunks) - 1
            sizes[digest] = part.size - CHUNK_SIZE * index if last else CHUNK_SIZE
    return sizes
