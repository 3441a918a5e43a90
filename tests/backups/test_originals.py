"""Originals: every upload is kept write-once with a manifest row; replacing or deleting a
document keeps it; nobody removes or alters one before its retention expires."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection, transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from wagtail.documents import get_document_model

from backups.models import Original, Retained
from backups.originals import originals_of, store
from backups.retention import check_settings
from tests.conftest import make_article, make_document

Document = get_document_model()


def upload(client, user, network, *, name="notice.pdf", content=b"%PDF-1.4 first"):
    client.force_login(user)
    response = client.post(reverse("wagtaildocs:add"), {
        "title": "通知", "collection": network.school_a.collection.pk,
        "file": SimpleUploadedFile(name, content)})
    assert response.status_code == 302, response.content.decode()[:500]
    return Document.objects.get(title="通知")


def test_an_upload_is_kept_as_an_original(client, network):
    document = upload(client, network.users["a_administrator"], network)
    (original,) = originals_of(document)
    assert original.size == len(b"%PDF-1.4 first")
    assert original.operator == "a_administrator"
    assert original.source == Original.Source.UPLOAD
    with store().open(original.sha256) as handle:
        assert handle.read() == b"%PDF-1.4 first"
    assert original.retain_until - original.created_at == datetime.timedelta(days=180)


def test_replacing_and_deleting_a_document_keeps_its_originals(client, network):
    administrator = network.users["a_administrator"]
    document = upload(client, administrator, network)
    client.post(reverse("wagtaildocs:edit", args=[document.pk]), {
        "title": "通知", "collection": network.school_a.collection.pk,
        "file": SimpleUploadedFile("notice-v2.pdf", b"%PDF-1.4 second")})
    assert sorted(o.size for o in originals_of(document)) == [14, 15]
    client.post(reverse("wagtaildocs:delete", args=[document.pk]))
    assert not Document.objects.filter(pk=document.pk).exists()
    kept = Original.objects.filter(object_id=str(document.pk))
    assert kept.count() == 2
    for original in kept:
        assert store().holds(original.sha256)


def test_a_title_edit_stores_nothing_new(network):
    document = make_document(network.school_a, "校历")
    document.title = "校历（修订）"
    document.save()
    assert len(originals_of(document)) == 1


def test_nobody_removes_or_alters_an_original_before_it_expires(network):
    (original,) = originals_of(make_document(network.school_a, "校历"))
    with pytest.raises(Retained):
        original.delete()
    with pytest.raises(Retained):
        Original.objects.filter(pk=original.pk).delete()
    with pytest.raises(Retained):
        Original.objects.filter(pk=original.pk).update(filename="x.pdf")
    original.filename = "x.pdf"
    with pytest.raises(Retained):
        original.save()
    original.refresh_from_db()
    with pytest.raises(Retained, match="延长"):
        Original.objects.filter(pk=original.pk).update(
            retain_until=original.retain_until - datetime.timedelta(days=1))
    assert Original.objects.filter(pk=original.pk).exists()


def test_an_expired_original_may_go_unless_held(db):
    past = timezone.now() - datetime.timedelta(days=1)
    expired = Original.objects.create(sha256="a" * 64, size=1, filename="old.pdf",
                                      created_at=past - datetime.timedelta(days=200),
                                      retain_until=past, legal_hold=True)
    with pytest.raises(Retained, match="司法保全"):
        expired.delete()
    Original.objects.filter(pk=expired.pk).update(legal_hold=False)
    expired.refresh_from_db()
    expired.delete()
    assert not Original.objects.filter(filename="old.pdf").exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL trigger")
def test_the_database_refuses_too(network):
    from django.db import DatabaseError

    (original,) = originals_of(make_document(network.school_a, "校历"))
    for statement in ("DELETE FROM backups_original WHERE id = %s",
                      "UPDATE backups_original SET filename = 'x' WHERE id = %s"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [original.pk])
    assert Original.objects.get(pk=original.pk).filename == original.filename


def test_published_revisions_outlive_purge_revisions(network):
    from django.db.models.deletion import ProtectedError

    article = make_article(network.column(network.school_a, "news"), "运动会")
    published = article.live_revision
    article.title = "运动会（草稿）"
    article.save_revision()
    article.save_revision()
    call_command("purge_revisions", stdout=io.StringIO())
    assert article.revisions.filter(pk=published.pk).exists()
    with pytest.raises(ProtectedError):
        published.delete()


def test_a_revision_wagtail_logged_as_published_is_kept(network):
    from wagtail.log_actions import log

    article = make_article(network.column(network.school_a, "news"), "草稿", live=False)
    revision = article.save_revision()
    log(instance=article, action="wagtail.publish", revision=revision)
    with pytest.raises(Retained, match="180"), transaction.atomic():
        revision.delete()
    unpublished = article.save_revision()
    article.save_revision()
    unpublished.delete()  # an edited version never published: Wagtail may purge it


@override_settings(BACKUPS_RETENTION_DAYS=90,
                   BACKUPS_RETENTION_DAYS_BY_CATEGORY={"exam": 30, "court": 3650})
def test_retention_below_six_months_is_refused():
    assert [error.id for error in check_settings()] == ["backups.E001", "backups.E002"]


def kept_bytes(obj) -> list[bytes]:
    result = []
    for original in originals_of(obj):
        with store().open(original.sha256) as handle:
            result.append(handle.read())
    return result


def test_every_upload_path_keeps_an_original(client, network):
    """Admin multiple upload (documents and images) and API v3 all save the model: each keeps
    its original, with who uploaded it."""
    from wagtail.images import get_image_model

    from tests.cms.test_confinement import bearer
    from tests.conftest import png_bytes

    administrator = network.users["a_administrator"]
    client.force_login(administrator)
    collection = network.school_a.collection.pk
    response = client.post(reverse("wagtaildocs:add_multiple"), {
        "files[]": SimpleUploadedFile("plan.pdf", b"%PDF-1.4 multiple"),
        "collection": collection}, HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert response.status_code == 200, response.content[:300]
    assert kept_bytes(Document.objects.get(pk=response.json()["doc_id"])) == [
        b"%PDF-1.4 multiple"]

    image = png_bytes()
    response = client.post(reverse("wagtailimages:add_multiple"), {
        "files[]": SimpleUploadedFile("campus.png", image, content_type="image/png"),
        "collection": collection}, HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert response.status_code == 200, response.content[:300]
    uploaded = get_image_model().objects.get(pk=response.json()["image_id"])
    assert kept_bytes(uploaded) == [image]
    assert originals_of(uploaded)[0].operator == "a_administrator"

    client.logout()
    response = client.post("/api/v3/documents/", {
        "title": "API 上传", "collection": collection,
        "file": SimpleUploadedFile("api.pdf", b"%PDF-1.4 api")}, **bearer(administrator))
    assert response.status_code == 201, response.content[:300]
    assert kept_bytes(Document.objects.get(title="API 上传")) == [b"%PDF-1.4 api"]
