"""Atomic replacement and removal of baked files: plain functions, no database."""

import os
import stat

import pytest

from cms.baking import files


def test_write_creates_directories_and_a_world_readable_file(tmp_path):
    target = tmp_path / "site" / "news" / "index.html"
    assert files.write_atomically(path=target, data=b"<p>one</p>") is True
    assert target.read_bytes() == b"<p>one</p>"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # nginx reads as another user
    assert os.listdir(target.parent) == ["index.html"]  # no temporary file left


def test_unchanged_content_is_not_rewritten_so_last_modified_holds(tmp_path):
    target = tmp_path / "index.html"
    files.write_atomically(path=target, data=b"same")
    os.utime(target, (1_000_000, 1_000_000))
    assert files.write_atomically(path=target, data=b"same") is False
    assert target.stat().st_mtime == 1_000_000
    assert files.write_atomically(path=target, data=b"changed") is True
    assert target.stat().st_mtime > 1_000_000


def test_a_reader_of_the_old_file_keeps_reading_it_whole(tmp_path):
    # Replacement is a rename: an open reader still has the complete old file.
    target = tmp_path / "index.html"
    files.write_atomically(path=target, data=b"old " * 1000)
    with open(target, "rb") as reader:
        files.write_atomically(path=target, data=b"new " * 10)
        assert reader.read() == b"old " * 1000
    assert target.read_bytes() == b"new " * 10


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "index.html"
    files.write_atomically(path=target, data=b"old")

    def broken_replace(source, destination):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        files.write_atomically(path=target, data=b"new")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["index.html"]


def test_removing_a_file_removes_the_directories_it_empties_up_to_the_site(tmp_path):
    site = tmp_path / "jia.test"
    page = site / "news" / "a-1" / "index.html"
    sibling = site / "news" / "index.html"
    files.write_atomically(path=page, data=b"x")
    files.write_atomically(path=sibling, data=b"y")
    assert files.remove_file(path=page, stop_at=site) is True
    assert not (site / "news" / "a-1").exists()
    assert sibling.exists()
    assert files.remove_file(path=sibling, stop_at=site) is True
    assert site.is_dir() and not (site / "news").exists()  # the site directory stays
    assert files.remove_file(path=sibling, stop_at=site) is False


def test_sha256_of_bytes():
    assert files.sha256_bytes(b"abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
