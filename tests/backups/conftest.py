"""A local S3-compatible server (moto in server mode: real HTTP, Object Lock enforced) and a
fresh object-locked bucket per test, configured as a django-storages S3Storage."""

import os
import uuid

import boto3
import pytest
from moto.server import ThreadedMotoServer

CREDENTIALS = {"access_key": "testing", "secret_key": "testing", "region_name": "us-east-1"}


@pytest.fixture(scope="session")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def s3_client(endpoint: str):
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing",
                        aws_secret_access_key="testing", region_name="us-east-1")


def configure_bucket(settings, endpoint: str, *, alias: str, lock: bool = True) -> str:
    name = f"cms-{alias.replace('_', '-')}-{uuid.uuid4().hex[:12]}"
    s3_client(endpoint).create_bucket(Bucket=name, ObjectLockEnabledForBucket=lock)
    settings.STORAGES = {**settings.STORAGES, alias: {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {"bucket_name": name, "endpoint_url": endpoint, "location": "site",
                    **CREDENTIALS}}}
    return name


@pytest.fixture
def offsite_bucket(settings, s3_endpoint) -> str:
    settings.BACKUPS_OFFSITE_STORAGE = "backups_offsite"
    return configure_bucket(settings, s3_endpoint, alias="backups_offsite")


@pytest.fixture
def originals_bucket(settings, s3_endpoint) -> str:
    settings.BACKUPS_ORIGINALS_STORAGE = "originals"
    return configure_bucket(settings, s3_endpoint, alias="originals")


# Snapshots read the database with SQLite's online backup, which waits for a test's open
# transaction: these tests use transactional_db (no wrapping transaction), as the command
# runs in production.
@pytest.fixture
def state(tmp_path, settings):
    settings.BACKUPS_STATE_DIR = tmp_path / "state"
    (tmp_path / "state" / "media" / "documents").mkdir(parents=True)
    (tmp_path / "state" / "media" / "documents" / "a.pdf").write_bytes(b"%PDF-1.4 a" * 1000)
    (tmp_path / "state" / "originals").mkdir()
    (tmp_path / "state" / "originals" / "b.bin").write_bytes(os.urandom(5_000_000))
    return tmp_path / "state"
