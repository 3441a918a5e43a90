"""Off-site copies in an S3-compatible bucket with Object Lock, against a real local S3 server
(moto in server mode): push, pull back and restore; locked versions cannot be deleted; a
copy "deleted" or overwritten with stolen credentials still comes back intact or is refused."""

import datetime
import shutil

import pytest
from botocore.exceptions import ClientError
from django.core.management import call_command
from django.core.management.base import CommandError

from backups.snapshots import Repository
from tests.backups.conftest import s3_client
from tests.backups.helpers import listing, run


def remote_keys(endpoint: str, bucket: str) -> list[str]:
    response = s3_client(endpoint).list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in response.get("Contents", []))


def test_push_copies_once_locks_and_pulls_back(state, transactional_db, offsite_bucket,
                                               s3_endpoint):
    code, out = run("create", "--push")
    assert code == 0 and "锁定至" in out
    snapshot_id = listing()[0]["id"]
    keys = remote_keys(s3_endpoint, offsite_bucket)
    assert f"site/snapshots/{snapshot_id}.json" in keys
    repository = Repository(state / "backups")
    chunks = {d for part in repository.load(snapshot_id).parts for d in part.chunks}
    assert {k for k in keys if "/objects/" in k} == {
        f"site/objects/{d[:2]}/{d[2:4]}/{d}" for d in chunks}

    # Every object is locked in compliance mode for the retention (180 days by default).
    head = s3_client(s3_endpoint).head_object(Bucket=offsite_bucket, Key=keys[0])
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] > (datetime.datetime.now(datetime.UTC)
                                                + datetime.timedelta(days=179))

    # An unchanged second snapshot uploads next to nothing.
    run("create")
    code, out = run("push")
    assert code == 0 and "已复制 1 个快照" in out
    assert listing("--offsite") == [s["id"] for s in listing()]
    assert len(remote_keys(s3_endpoint, offsite_bucket)) <= len(keys) + 2  # dump + manifest

    # The machine is lost: only the bucket is left. Pull into an empty repository, verify.
    shutil.rmtree(state / "backups")
    code, out = run("pull", snapshot_id)
    assert code == 0 and f"已取回 {snapshot_id}" in out
    assert run("verify", snapshot_id)[0] == 0
    part = next(p for p in repository.load(snapshot_id).parts if p.name.endswith("b.bin"))
    restored = state.parent / "restored.bin"
    repository.restore_file(part, restored)
    assert restored.read_bytes() == (state / "originals" / "b.bin").read_bytes()


def test_locked_versions_cannot_be_deleted_and_deletion_does_not_lose_a_snapshot(
        state, transactional_db, offsite_bucket, s3_endpoint):
    run("create", "--push")
    snapshot_id = listing()[0]["id"]
    client = s3_client(s3_endpoint)
    for key in remote_keys(s3_endpoint, offsite_bucket):
        version = client.head_object(Bucket=offsite_bucket, Key=key)["VersionId"]
        with pytest.raises(ClientError, match="AccessDenied"):
            client.delete_object(Bucket=offsite_bucket, Key=key, VersionId=version)
        client.delete_object(Bucket=offsite_bucket, Key=key)  # only a delete marker
    assert remote_keys(s3_endpoint, offsite_bucket) == []

    shutil.rmtree(state / "backups")
    assert run("pull", snapshot_id)[0] == 0  # read from the versions under the markers
    assert run("verify", snapshot_id)[0] == 0


def test_a_chunk_overwritten_off_site_is_refused_on_pull(state, transactional_db,
                                                         offsite_bucket, s3_endpoint):
    run("create", "--push")
    snapshot_id = listing()[0]["id"]
    client = s3_client(s3_endpoint)
    chunk = next(k for k in remote_keys(s3_endpoint, offsite_bucket) if "/objects/" in k)
    client.put_object(Bucket=offsite_bucket, Key=chunk, Body=b"ransomware")  # a new version
    shutil.rmtree(state / "backups")
    with pytest.raises(CommandError, match="已损坏") as raised:
        call_command("backup", "pull", snapshot_id)
    assert raised.value.returncode == 2
    assert not (state / "backups" / "snapshots" / f"{snapshot_id}.json").exists()


def test_a_bucket_without_object_lock_is_refused(state, transactional_db, settings,
                                                 s3_endpoint):
    from tests.backups.conftest import configure_bucket

    settings.BACKUPS_OFFSITE_STORAGE = "backups_offsite"
    bucket = configure_bucket(settings, s3_endpoint, alias="backups_offsite", lock=False)
    with pytest.raises(CommandError, match="未启用对象锁定"):
        call_command("backup", "create", "--push")
    assert listing() == []  # refused before anything was written
    assert remote_keys(s3_endpoint, bucket) == []


def test_off_site_commands_without_a_bucket_say_how_to_configure_one(state, transactional_db,
                                                                     settings):
    settings.BACKUPS_OFFSITE_STORAGE = None
    with pytest.raises(CommandError, match="BACKUPS_OFFSITE_STORAGE"):
        call_command("backup", "push")
    settings.BACKUPS_OFFSITE_STORAGE = "backups_offsite"
    settings.STORAGES = {**settings.STORAGES, "backups_offsite": {
        "BACKEND": "django.core.files.storage.InMemoryStorage"}}
    with pytest.raises(CommandError, match="不是 S3 存储"):
        call_command("backup", "push")


def test_pull_of_an_unknown_snapshot_changes_nothing(state, transactional_db, offsite_bucket):
    for name in ("20990101T000000000000Z", "../snapshots/x"):
        with pytest.raises(CommandError, match="没有"):
            call_command("backup", "pull", name)
    assert not (state / "backups" / "snapshots").exists()
