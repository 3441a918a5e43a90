"""The write-once, content-addressed store. Plain code, no database."""

import hashlib
import io
import os

import pytest

from backups.store import ContentStore, StoreError


def test_a_file_is_kept_under_its_digest_read_only(tmp_path):
    store = ContentStore(tmp_path)
    sha, size = store.put(io.BytesIO(b"original bytes"))
    assert (sha, size) == (hashlib.sha256(b"original bytes").hexdigest(), 14)
    path = store.path_for(sha)
    assert path.read_bytes() == b"original bytes"
    assert not os.access(path, os.W_OK) or os.geteuid() == 0
    assert oct(path.stat().st_mode & 0o777) == "0o444"
    assert store.holds(sha)


def test_storing_the_same_bytes_twice_stores_them_once(tmp_path):
    store = ContentStore(tmp_path)
    first = store.put(io.BytesIO(b"x" * 3_000_000))
    second = store.put(io.BytesIO(b"x" * 3_000_000))
    assert first == second
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 1


def test_damage_is_detected(tmp_path):
    store = ContentStore(tmp_path)
    sha, _ = store.put(io.BytesIO(b"kept"))
    path = store.path_for(sha)
    os.chmod(path, 0o644)
    path.write_bytes(b"changed")
    assert not store.holds(sha)
    assert not store.holds("0" * 64)


def test_a_failed_write_leaves_nothing(tmp_path):
    class Broken(io.BytesIO):
        def read(self, size=-1):
            raise OSError("disk gone")

    store = ContentStore(tmp_path)
    with pytest.raises(OSError):
        store.put(Broken())
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_digests_are_checked():
    with pytest.raises(StoreError):
        ContentStore("/tmp").path_for("../../etc/passwd")
