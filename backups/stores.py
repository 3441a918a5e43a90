"""Where originals' bytes live: the store the settings name (below the models, which keep the
store's locks in step with the manifest)."""

from functools import cache
from pathlib import Path

from django.conf import settings

from backups.store import ContentStore


@cache
def _local_store(root: str) -> ContentStore:
    return ContentStore(root)


def _bucket_store(alias: str, mode: str):
    # Not cached here: Django caches the storage (and django-storages its connection), and a
    # settings change (tests) must reach a new bucket. Imported here so that boto3 loads only
    # where a bucket is configured.
    from backups.objectstore import BucketContentStore, LockedBucket

    return BucketContentStore(LockedBucket.from_alias(alias, mode=mode))


def store():
    """Where originals' bytes live: an S3 bucket with Object Lock when
    ``BACKUPS_ORIGINALS_STORAGE`` names one in ``settings.STORAGES`` (production), else
    ``BACKUPS_ORIGINALS_DIR`` (default ``CMS_DATA_DIR/originals``)."""
    alias = getattr(settings, "BACKUPS_ORIGINALS_STORAGE", None)
    if alias:
        return _bucket_store(alias, getattr(settings, "BACKUPS_OBJECT_LOCK_MODE", "COMPLIANCE"))
    return _local_store(str(getattr(settings, "BACKUPS_ORIGINALS_DIR", None)
                            or Path(settings.DATA_DIR) / "originals"))
