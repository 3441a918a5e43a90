"""Originals over their life: kept in an object-locked bucket (production), put under legal
hold, pruned once expired, and captured from other websites with their address."""

import datetime
import http.server
import io
import json
import threading
import time

import pytest
from botocore.exceptions import ClientError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone
from wagtail.documents import get_document_model

from backups.fetch import FetchError, Limits, fetch
from backups.models import Original, Retained
from backups.objectstore import ObjectStoreError
from backups.originals import originals_of, prune_expired, store
from tests.backups.conftest import s3_client
from tests.backups.helpers import run
from tests.conftest import make_document

Document = get_document_model()


def stored_original(content: bytes, *, expired: bool, held: bool = False,
                    filename: str = "old.pdf") -> Original:
    now = timezone.now()
    sha256, size = store().put(io.BytesIO(content), retain_until=now)
    days = -1 if expired else 30
    return Original.objects.create(
        sha256=sha256, size=size, filename=filename, legal_hold=held,
        created_at=now - datetime.timedelta(days=200),
        retain_until=now + datetime.timedelta(days=days))


# --- Pruning ---------------------------------------------------------------------------------

def test_prune_removes_only_expired_originals_not_on_hold(db):
    gone = stored_original(b"expired alone", expired=True)
    shared_expired = stored_original(b"shared", expired=True, filename="copy.pdf")
    shared_live = stored_original(b"shared", expired=False)
    held = stored_original(b"held", expired=True, held=True)
    live = stored_original(b"live", expired=False)

    out = run("prune", "--dry-run", command="originals")[1]
    assert "将删除 2 条过期原件登记，1 个文件" in out
    assert Original.objects.count() == 5 and store().exists(gone.sha256)

    run("prune", command="originals")
    assert set(Original.objects.values_list("pk", flat=True)) == {
        shared_live.pk, held.pk, live.pk}
    assert not store().exists(gone.sha256)
    assert store().holds(shared_expired.sha256)  # still needed by a live row
    assert store().holds(held.sha256) and store().holds(live.sha256)


def test_hold_and_list_through_the_command(db):
    expired = stored_original(b"evidence", expired=True)
    assert [row["id"] for row in json.loads(
        run("list", "--expired", "--format", "json", command="originals")[1])] == [expired.pk]
    run("hold", str(expired.pk), command="originals")
    assert json.loads(run("list", "--expired", "--format", "json", command="originals")[1]) \
        == []
    run("prune", command="originals")
    assert Original.objects.filter(pk=expired.pk).exists()
    with pytest.raises(CommandError, match="没有这些原件：999999"):
        call_command("originals", "hold", str(expired.pk), "999999", stdout=io.StringIO())
    run("hold", str(expired.pk), "--release", command="originals")
    run("prune", command="originals")
    assert not Original.objects.filter(pk=expired.pk).exists()


# --- In an object-locked bucket --------------------------------------------------------------

def test_originals_in_an_object_locked_bucket(network, originals_bucket, s3_endpoint):
    document = make_document(network.school_a, "校历", content=b"%PDF-1.4 calendar")
    (original,) = originals_of(document)
    key = f"site/{original.sha256[:2]}/{original.sha256[2:4]}/{original.sha256}"
    client = s3_client(s3_endpoint)
    head = client.head_object(Bucket=originals_bucket, Key=key)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert abs(head["ObjectLockRetainUntilDate"] - original.retain_until) < \
        datetime.timedelta(seconds=1)
    assert store().holds(original.sha256)
    with store().open(original.sha256) as handle:
        assert handle.read() == b"%PDF-1.4 calendar"
    with pytest.raises(ClientError, match="AccessDenied"):
        client.delete_object(Bucket=originals_bucket, Key=key, VersionId=head["VersionId"])

    run("hold", str(original.pk), command="originals")  # the bucket holds it too
    assert client.head_object(Bucket=originals_bucket, Key=key)[
        "ObjectLockLegalHoldStatus"] == "ON"
    run("hold", str(original.pk), "--release", command="originals")
    assert client.head_object(Bucket=originals_bucket, Key=key)[
        "ObjectLockLegalHoldStatus"] == "OFF"

    later = original.retain_until + datetime.timedelta(days=30)
    Original.objects.filter(pk=original.pk).update(retain_until=later)  # extended: so is the lock
    assert abs(client.head_object(Bucket=originals_bucket, Key=key)[
        "ObjectLockRetainUntilDate"] - later) < datetime.timedelta(seconds=1)

    # The model refuses an early prune; and where a manifest row says "expired" while the
    # bucket's lock runs on (a row written wrongly), the bucket refuses and the row stays.
    with pytest.raises(Retained):
        prune_expired(now=later + datetime.timedelta(days=1))
    sha256, _ = store().put(io.BytesIO(b"locked"), retain_until=later)
    row = Original.objects.create(sha256=sha256, size=6, filename="w.pdf",
                                  retain_until=timezone.now() - datetime.timedelta(days=1))
    with pytest.raises(ObjectStoreError, match="删除"):
        prune_expired()
    assert Original.objects.filter(pk=row.pk).exists() and store().holds(sha256)
    assert store().holds(original.sha256)


# --- Captured from another website -----------------------------------------------------------

PAGE = "<html><body><h1>转载的通知</h1></body></html>".encode()


class Site(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/notice":
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)
        elif self.path == "/file":
            self.send_response(200)
            self.send_header("Content-Type", "application/pdf")
            self.send_header("Content-Disposition", 'attachment; filename="plan.pdf"')
            self.end_headers()
            self.wfile.write(b"%PDF-1.4 plan")
        elif self.path == "/huge":  # no declared length: counted while reading
            self.send_response(200)
            self.end_headers()
            try:
                for _ in range(64):
                    self.wfile.write(b"x" * 65536)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped reading at its limit, as it should
        elif self.path == "/slow":
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"a")
            self.wfile.flush()
            time.sleep(2)
        elif self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/notice")
            self.end_headers()
        else:
            self.send_error(404)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def website():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


LOCAL = Limits(allow_private=True, timeout=1, max_bytes=1 << 20)


def test_fetch_keeps_the_bytes_type_and_name(website):
    fetched = fetch(f"{website}/file", limits=LOCAL)
    assert (fetched.file.read(), fetched.content_type, fetched.filename) == (
        b"%PDF-1.4 plan", "application/pdf", "plan.pdf")
    page = fetch(f"{website}/moved", limits=LOCAL)
    assert page.file.read() == PAGE and page.filename == "notice.html"
    assert page.url == f"{website}/notice"


def test_fetch_limits(website):
    with pytest.raises(FetchError, match="过大"):
        fetch(f"{website}/huge", limits=Limits(allow_private=True, max_bytes=1 << 20))
    with pytest.raises(FetchError, match="超时"):
        fetch(f"{website}/slow", limits=Limits(allow_private=True, timeout=0.5))
    with pytest.raises(FetchError, match="404"):
        fetch(f"{website}/missing", limits=LOCAL)
    with pytest.raises(FetchError, match="http"):
        fetch("file:///etc/passwd", limits=LOCAL)
    with pytest.raises(FetchError, match="内部地址"):  # the server must not read its own network
        fetch(f"{website}/notice", limits=Limits())


def test_capture_command_keeps_the_page_with_its_address(network, website, settings):
    settings.BACKUPS_FETCH_ALLOW_PRIVATE = True
    settings.BACKUPS_FETCH_MAX_BYTES = 1 << 20
    collection = network.school_a.collection
    run("capture", f"{website}/notice", "--title", "转载：通知", "--collection",
        str(collection.pk), "--user", "a_administrator", command="originals")
    document = Document.objects.get(title="转载：通知")
    (original,) = originals_of(document)
    assert (original.source, original.source_url, original.operator) == (
        Original.Source.URL, f"{website}/notice", "a_administrator")
    with store().open(original.sha256) as handle:
        assert handle.read() == PAGE

    before = (Document.objects.count(), Original.objects.count())
    with pytest.raises(CommandError, match="过大"):
        call_command("originals", "capture", f"{website}/huge", "--title", "大文件",
                     "--collection", str(collection.pk))
    assert (Document.objects.count(), Original.objects.count()) == before


def test_capture_in_the_admin_from_a_saved_file(client, network, website):
    administrator = network.users["a_administrator"]
    client.force_login(administrator)
    page = client.get(reverse("backups_capture"))
    assert page.status_code == 200
    offered = list(page.context["form"].fields["collection"].queryset)
    assert network.school_a.collection in offered
    assert network.school_b.collection not in offered

    response = client.post(reverse("backups_capture"), {
        "url": "https://example.edu.cn/notice/1", "title": "转载：招生简章",
        "collection": network.school_a.collection.pk,
        "file": SimpleUploadedFile("saved.html", PAGE)})
    document = Document.objects.get(title="转载：招生简章")
    assert response.status_code == 302
    assert response.url == reverse("wagtaildocs:edit", args=[document.pk])
    (original,) = originals_of(document)
    assert (original.source, original.source_url) == (Original.Source.URL,
                                                       "https://example.edu.cn/notice/1")

    refused = client.post(reverse("backups_capture"), {
        "url": f"{website}/notice", "title": "乙校的",
        "collection": network.school_b.collection.pk})
    assert refused.status_code == 200 and not Document.objects.filter(title="乙校的").exists()
    fetched_inside = client.post(reverse("backups_capture"), {
        "url": f"{website}/notice", "title": "内网", "collection": network.school_a.collection.pk})
    assert "内部地址" in fetched_inside.content.decode()
    assert not Document.objects.filter(title="内网").exists()
