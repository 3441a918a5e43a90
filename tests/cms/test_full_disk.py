"""A full disk: an upload through the admin or the API answers a clear Chinese error and
leaves neither a partial file nor a row; ``bake --all`` stops with a message, not a
traceback, and leaves no partial file. The disk is simulated: writes to files under a
directory fail with ENOSPC once a few bytes have gone in, as a filling disk does."""

import errno
import io
import json
import os
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from wagtail.documents import get_document_model

from backups.models import Original
from cms.full_disk import MESSAGE, MediaStorage
from tests.cms.test_confinement import bearer

Document = get_document_model()
BIG = 3 * 1024 * 1024  # past Django's in-memory limit: the upload comes as a temporary file


def full_disk(monkeypatch, root: Path, *, room: int) -> None:
    """Files under ``root`` take ``room`` bytes in all, then every write fails with ENOSPC
    (whether written with os.write or through a file object)."""
    root, left = str(Path(root).resolve()), [room]
    real_write, real_fdopen = os.write, os.fdopen

    def under(fd) -> bool:
        try:
            return os.readlink(f"/proc/self/fd/{fd}").startswith(root)
        except OSError:
            return False

    def take(data) -> int:
        if left[0] <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        size = min(len(data), left[0])
        left[0] -= size
        return size

    def write(fd, data):
        if not under(fd):
            return real_write(fd, data)
        return real_write(fd, memoryview(data)[:take(data)])

    class Filling:
        def __init__(self, handle):
            self.handle = handle

        def write(self, data):
            size = take(data)
            self.handle.write(data[:size])
            if size < len(data):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return size

        def __getattr__(self, name):
            return getattr(self.handle, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

    def fdopen(fd, *args, **kwargs):
        handle = real_fdopen(fd, *args, **kwargs)
        return Filling(handle) if under(fd) else handle

    monkeypatch.setattr(os, "write", write)
    monkeypatch.setattr(os, "fdopen", fdopen)


def files_under(root: Path) -> list[Path]:
    return [p for p in Path(root).rglob("*") if p.is_file()]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


def test_an_admin_upload_on_a_full_disk_is_refused_cleanly(client, network, media, monkeypatch):
    client.force_login(network.users["a_administrator"])
    documents, originals = Document.objects.count(), Original.objects.count()
    full_disk(monkeypatch, media, room=BIG // 2)
    url = reverse("wagtaildocs:add")
    response = client.post(url, {
        "title": "大文件", "collection": network.school_a.collection.pk,
        "file": SimpleUploadedFile("lecture.pdf", b"%PDF-1.4" + b"x" * BIG)})
    assert response.status_code == 303 and response["Location"] == url
    page = client.get(url).content.decode()
    assert "服务器磁盘空间不足，文件没有保存" in page
    assert files_under(media) == []  # no partial file, no staged file
    assert (Document.objects.count(), Original.objects.count()) == (documents, originals)


def test_a_multiple_upload_on_a_full_disk_answers_507(client, network, media, monkeypatch):
    client.force_login(network.users["a_administrator"])
    documents = Document.objects.count()
    full_disk(monkeypatch, media, room=1000)
    response = client.post(reverse("wagtaildocs:add_multiple"), {
        "files[]": SimpleUploadedFile("plan.pdf", b"%PDF-1.4" + b"z" * 100_000),
        "collection": network.school_a.collection.pk}, HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert response.status_code == 507
    assert response.json() == {"success": False, "error_message": MESSAGE}
    assert files_under(media) == []
    assert Document.objects.count() == documents


def test_an_api_upload_on_a_full_disk_answers_507(client, network, media, monkeypatch):
    documents = Document.objects.count()
    full_disk(monkeypatch, media, room=1000)
    response = client.post("/api/v3/documents/", {
        "title": "API 大文件", "collection": network.school_a.collection.pk,
        "file": SimpleUploadedFile("api.pdf", b"%PDF-1.4" + b"y" * 100_000)},
        **bearer(network.users["a_administrator"]))
    assert response.status_code == 507
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 507 and "磁盘空间不足" in problem["detail"]
    assert files_under(media) == []
    assert Document.objects.count() == documents


def test_an_api_upload_whose_original_finds_the_disk_full_leaves_no_row(
        client, network, media, settings, monkeypatch):
    """The document's row is inserted before its original is kept: answering 507 must not
    commit that row without its original."""
    documents, originals = Document.objects.count(), Original.objects.count()
    full_disk(monkeypatch, settings.BACKUPS_ORIGINALS_DIR, room=10)
    response = client.post("/api/v3/documents/", {
        "title": "无原件", "collection": network.school_a.collection.pk,
        "file": SimpleUploadedFile("kept.pdf", b"%PDF-1.4" + b"k" * 10_000)},
        **bearer(network.users["a_administrator"]))
    assert response.status_code == 507, response.content[:300]
    assert (Document.objects.count(), Original.objects.count()) == (documents, originals)
    store = Path(settings.BACKUPS_ORIGINALS_DIR)
    assert [p for p in files_under(store) if "tmp" in p.relative_to(store).parts] == []


def test_an_upload_with_room_is_stored_whole(client, network, media):
    client.force_login(network.users["a_administrator"])
    content = b"%PDF-1.4" + os.urandom(BIG)
    response = client.post(reverse("wagtaildocs:add"), {
        "title": "有空间", "collection": network.school_a.collection.pk,
        "file": SimpleUploadedFile("room.pdf", content)})
    assert response.status_code == 302
    document = Document.objects.get(title="有空间")
    assert Path(document.file.path).read_bytes() == content
    assert oct(Path(document.file.path).stat().st_mode & 0o777) == "0o644"
    assert [p.name for p in files_under(media)] == [Path(document.file.path).name]


def test_the_storage_keeps_names_unique(tmp_path):
    storage = MediaStorage(location=tmp_path)
    from django.core.files.base import ContentFile

    first = storage.save("a/b.txt", ContentFile(b"one"))
    second = storage.save("a/b.txt", ContentFile(b"two"))
    assert first != second
    assert (storage.open(first).read(), storage.open(second).read()) == (b"one", b"two")
    assert sorted(p.name for p in files_under(tmp_path)) == sorted(
        Path(n).name for n in (first, second))


def test_bake_on_a_full_disk_stops_with_a_message(network, settings, tmp_path, monkeypatch):
    settings.BAKE_DIR = tmp_path / "public"
    full_disk(monkeypatch, tmp_path / "public", room=20_000)
    with pytest.raises(CommandError, match="磁盘空间不足") as raised:
        call_command("bake", "--all", "--jobs", "1", stdout=io.StringIO(),
                     stderr=io.StringIO())
    assert "Traceback" not in str(raised.value)
    left = files_under(tmp_path / "public")
    assert [p for p in left if p.name.startswith(".bake-") and p.name.endswith(".tmp")] == []
    for path in left:  # every file there is whole (the bake state a readable JSON)
        if path.suffix == ".json":
            json.loads(path.read_text())


def test_a_full_database_disk_is_recognised():
    import sqlite3

    from django.db import OperationalError

    from cms.full_disk import is_full_disk

    error = OperationalError("database or disk is full")
    error.__cause__ = sqlite3.OperationalError("database or disk is full")
    assert is_full_disk(error)
    assert is_full_disk(OSError(errno.EDQUOT, "quota"))
    assert not is_full_disk(OperationalError("no such table: x"))
    assert not is_full_disk(OSError(errno.EACCES, "denied"))
