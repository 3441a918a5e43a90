"""The snapshot repository as plain code: files skipped when unchanged, re-read when changed,
multi-chunk parts, a one-pass restore that writes nothing from a damaged snapshot, and the
lock that keeps a prune from removing chunks under a running backup."""

import os
import threading

import pytest

from backups import snapshots
from backups.snapshots import Repository, SnapshotError


def no_database(out):
    out.write(b"dump")


def make_repository(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    return Repository(tmp_path / "backups"), source


def take(repository, source):
    files = [(p.name, p) for p in sorted(source.iterdir())]
    return repository.create(engine="sqlite", database=no_database, files=files)


def test_unchanged_files_are_taken_from_the_last_snapshot_changed_ones_are_read(tmp_path,
                                                                                 monkeypatch):
    repository, source = make_repository(tmp_path)
    (source / "same.pdf").write_bytes(b"unchanged" * 1000)
    (source / "edited.txt").write_bytes(b"version 1")
    first = take(repository, source)

    stat = (source / "edited.txt").stat()
    (source / "edited.txt").write_bytes(b"version 2")  # same size
    os.utime(source / "edited.txt", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    read = []
    original_store_stream = Repository.store_stream
    monkeypatch.setattr(Repository, "store_stream", lambda self, name, stream, **kw: (
        read.append(name), original_store_stream(self, name, stream, **kw))[1])
    second = take(repository, source)

    assert read == ["database", "files/edited.txt"]  # same.pdf was not read again
    parts = {p.name: p for p in second.parts}
    assert parts["files/same.pdf"].chunks == {p.name: p for p in first.parts}[
        "files/same.pdf"].chunks
    target = tmp_path / "restored.txt"
    repository.restore({"files/edited.txt": target}, second)
    assert target.read_bytes() == b"version 2"


def test_a_multi_chunk_part_restores_byte_for_byte(tmp_path, monkeypatch):
    monkeypatch.setattr(snapshots, "CHUNK_SIZE", 1000)
    repository, source = make_repository(tmp_path)
    data = os.urandom(4321)
    (source / "video.mp4").write_bytes(data)
    snapshot = take(repository, source)
    part = next(p for p in snapshot.parts if p.name == "files/video.mp4")
    assert len(part.chunks) == 5
    target = tmp_path / "out" / "video.mp4"
    repository.restore({part.name: target}, snapshot)
    assert target.read_bytes() == data


def test_a_damaged_snapshot_restores_nothing(tmp_path):
    repository, source = make_repository(tmp_path)
    (source / "a.txt").write_bytes(b"a" * 100)
    (source / "b.txt").write_bytes(b"b" * 100)
    snapshot = take(repository, source)
    damaged = repository.objects.path_for(
        next(p for p in snapshot.parts if p.name == "files/b.txt").chunks[0])
    os.chmod(damaged, 0o644)
    damaged.write_bytes(b"x" * 100)
    out = tmp_path / "out"
    with pytest.raises(SnapshotError, match="已损坏"):
        repository.restore({"files/a.txt": out / "a.txt", "files/b.txt": out / "b.txt"},
                           snapshot)
    assert list(out.iterdir()) == []  # a.txt checked out but was not put in place either


def test_prune_waits_for_a_running_backup(tmp_path):
    repository, source = make_repository(tmp_path)
    (source / "a.txt").write_bytes(b"a")
    pruned = threading.Event()
    with repository.locked():
        worker = threading.Thread(target=lambda: (
            repository.prune(older_than=snapshots.datetime.datetime.now(snapshots.datetime.UTC)),
            pruned.set()))
        worker.start()
        assert not pruned.wait(0.3)  # held off while the backup runs
    worker.join(5)
    assert pruned.is_set()
