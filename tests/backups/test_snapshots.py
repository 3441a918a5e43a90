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


def test_a_file_growing_while_read_is_taken_as_of_the_start(tmp_path, monkeypatch):
    """A log written to while the backup reads it: the snapshot holds the bytes it had when
    the backup started and is marked changed (read again next time); the backup ends."""
    monkeypatch.setattr(snapshots, "CHUNK_SIZE", 64 * 1024)
    repository, source = make_repository(tmp_path)
    log = source / "app.log"
    log.write_bytes(b"line\n" * 200_000)  # 1 MB: 16 chunks at this size
    at_start = log.read_bytes()
    appended, stop = threading.Event(), threading.Event()

    def append():
        with log.open("ab") as out:
            while not stop.is_set():
                out.write(b"more\n" * 20_000)
                out.flush()
                appended.set()

    def progress(size):  # the writer runs between the backup's reads
        appended.clear()
        appended.wait(1)

    writer = threading.Thread(target=append, daemon=True)

    def dump(out):  # the snapshot has started: the log starts growing
        writer.start()
        appended.wait(1)
        out.write(b"dump")

    result = []
    backup = threading.Thread(target=lambda: result.append(repository.create(
        engine="sqlite", database=dump, files=[("app.log", log)], progress=progress)))
    backup.start()
    backup.join(60)
    stop.set()  # (else a backup reading for ever would never end)
    writer.join(5)
    backup.join(60)
    assert log.stat().st_size > len(at_start)  # it did grow while read
    (snapshot,) = result
    part = next(p for p in snapshot.parts if p.name == "files/app.log")
    assert part.size == len(at_start) and part.changed and snapshot.changed == ["app.log"]
    assert part.inode == 0  # the next run reads it again
    target = tmp_path / "restored.log"
    repository.restore({part.name: target}, snapshot)
    assert target.read_bytes() == at_start


def test_a_backup_removes_debris_only_when_no_other_writer_runs(tmp_path):
    repository, source = make_repository(tmp_path)
    (source / "a.txt").write_bytes(b"a")
    take(repository, source)
    debris = repository.objects.root / "tmp" / "tmpkilled"
    debris.write_bytes(b"half a chunk")
    with repository.locked():  # another backup is running: its temporary files look alike
        take(repository, source)
        assert debris.exists()
    take(repository, source)
    assert not debris.exists()


def test_prune_reclaims_orphans_but_waits_for_a_backup_in_progress(tmp_path):
    """A backup half-way has stored chunks no manifest names yet: prune must not take them
    for orphans."""
    repository, source = make_repository(tmp_path)
    (source / "a.txt").write_bytes(os.urandom(1000))
    (source / "b.txt").write_bytes(os.urandom(1000))
    repository.objects.put_bytes(b"orphan", snapshots.hashlib.sha256(b"orphan").hexdigest())
    paused, go = threading.Event(), threading.Event()

    def progress(size):
        if not paused.is_set():  # after the dump: chunks stored, no manifest yet
            paused.set()
            go.wait(10)

    backup = threading.Thread(target=lambda: repository.create(
        engine="sqlite", database=no_database, progress=progress,
        files=[(p.name, p) for p in sorted(source.iterdir())]))
    backup.start()
    assert paused.wait(10)
    result = []
    prune = threading.Thread(target=lambda: result.append(repository.prune(
        older_than=snapshots.datetime.datetime(2000, 1, 1, tzinfo=snapshots.datetime.UTC))))
    prune.start()
    prune.join(0.5)
    assert not result  # waiting for the backup
    go.set()
    backup.join(10)
    prune.join(10)
    (reclaimed,) = result
    assert (reclaimed.snapshots, reclaimed.chunks) == ([], 1)  # only the orphan
    (snapshot,) = repository.snapshots()
    assert repository.verify(snapshot) == []
