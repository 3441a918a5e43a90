"""Issue 17 on the network: a document or image that live content uses cannot be deleted
(admin delete views and bulk actions, API v3, code), and readers get the signed titles and
alt text of files (pages and the API) until the next approval."""

import json
import uuid
from io import BytesIO

import pytest
from django.core.files.images import ImageFile
from django.db import transaction
from django.db.models import ProtectedError
from django.urls import reverse
from django.utils import timezone
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import APIToken

from cms.models import ArticlePage
from review.exceptions import FileInUse
from review.pipeline.approvals import build_approval, sign_with_passphrase
from review.pipeline.files import in_use_message, live_uses
from review.register.models import RegisterEntry
from tests.conftest import (
    LEADER_PASSPHRASE,
    make_article,
    make_document,
    png_bytes,
    publish,
    role_member,
)

A_HOST = {"HTTP_HOST": "jia.test"}
Document = get_document_model()
Image = get_image_model()


def unique(name: str) -> str:
    stem, extension = name.rsplit(".", 1)
    return f"{stem}-{uuid.uuid4().hex[:8]}.{extension}"


def make_image(network, *, title="封面", description=""):
    image = Image(title=title, description=description, collection=network.school_a.collection)
    name = unique("cover.png")
    image.file.save(name, ImageFile(BytesIO(png_bytes()), name=name), save=False)
    image.save()
    return image


def bearer(user) -> dict[str, str]:
    _, token = APIToken.create_token(user=user, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def used(network):
    """A live notice with an attached document and a cover image."""
    document = make_document(network.school_a, "校历", content=b"%PDF-1.4 calendar",
                             filename=unique("xiaoli.pdf"))
    image = make_image(network, title="校门", description="学校正门")
    article = make_article(network.column(network.school_a, "notices"), "新学期校历",
                           live=False, attachments=[document])
    article.cover_image = image
    article.save_revision()
    article = publish(article)
    return {"document": document, "image": image, "article": article}


# --- Deleting ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["document", "image"])
def test_the_admin_delete_view_refuses_naming_the_page_and_changes_nothing(client, network,
                                                                          used, kind):
    file = used[kind]
    url_name = "wagtaildocs:delete" if kind == "document" else "wagtailimages:delete"
    client.force_login(network.users["a_administrator"])
    response = client.post(reverse(url_name, args=[file.pk]), follow=True)
    messages = messages_of(response)
    assert any("《新学期校历》（jia.test）" in text and "不能删除" in text for text in messages), \
        messages
    reloaded = type(file).objects.get(pk=file.pk)
    with reloaded.file.open("rb") as handle:
        assert handle.read()  # the file is still there
    assert not RegisterEntry.objects.filter(kind=RegisterEntry.Kind.TAKEDOWN).exists()


def test_the_bulk_delete_of_documents_refuses_and_deletes_none(client, network, used):
    spare = make_document(network.school_a, "旧通知", filename=unique("old.pdf"))
    client.force_login(network.users["a_administrator"])
    url = (reverse("wagtail_bulk_action", args=("wagtaildocs", "document", "delete"))
           + f"?id={spare.pk}&id={used['document'].pk}")
    response = client.post(url, follow=True)
    assert any("《新学期校历》" in text for text in messages_of(response))
    assert Document.objects.filter(pk__in=[spare.pk, used["document"].pk]).count() == 2
    # Alone, the unused one goes.
    url = (reverse("wagtail_bulk_action", args=("wagtaildocs", "document", "delete"))
           + f"?id={spare.pk}")
    client.post(url)
    assert not Document.objects.filter(pk=spare.pk).exists()


@pytest.mark.parametrize("kind", ["documents", "images"])
def test_the_api_answers_409_with_a_chinese_problem(client, network, used, kind):
    file = used["document" if kind == "documents" else "image"]
    headers = bearer(network.users["a_administrator"])
    response = client.delete(f"/api/v3/{kind}/{file.pk}/", **headers)
    assert response.status_code == 409, response.content.decode()
    assert response["Content-Type"] == "application/problem+json"
    problem = json.loads(response.content)
    assert problem["status"] == 409 and "《新学期校历》" in problem["detail"]
    assert "不能删除" in problem["detail"]
    assert type(file).objects.filter(pk=file.pk).exists()
    # A file no live content uses is deleted as before.
    spare = (make_document(network.school_a, "草稿附件", filename=unique("draft.pdf"))
             if kind == "documents" else make_image(network, title="草稿图"))
    assert client.delete(f"/api/v3/{kind}/{spare.pk}/", **headers).status_code == 204


def test_a_live_resources_file_cannot_be_deleted(client, network):
    import datetime

    from django.core.files.uploadedfile import SimpleUploadedFile

    from cms.publishing import act
    from cms.resources.models import Resource, Semester
    from tests.conftest import blank_pdf

    today = timezone.localdate()
    semester = Semester.objects.create(start_year=today.year, term=1,
                                       start_date=today - datetime.timedelta(days=30),
                                       end_date=today + datetime.timedelta(days=60))
    client.force_login(network.users["a_teacher"])
    client.post(reverse("resources_mine"), {
        "semester": semester.pk, "kind": "courseware", "subject": "物理", "grade": "初二",
        "source_channel": "made", "visibility": "public", "description": "",
        "files": [SimpleUploadedFile("课件.pdf", blank_pdf(), "application/pdf")]})
    resource = Resource.objects.get()
    act(resource, user=network.users["a_administrator"], action="approve", comment="")
    act(resource, user=network.users["a_leader"], action="approve", comment="",
        passphrase=LEADER_PASSPHRASE)
    resource.refresh_from_db()
    assert resource.live
    document = resource.files.get().document
    # The engine counts it (its signed approval names the file)…
    assert [use.obj.pk for use in live_uses(document)] == [resource.pk]
    assert f"《{resource.title}》" in in_use_message(document, live_uses(document))
    # … and a resource's files are protected by their foreign key besides.
    with pytest.raises((FileInUse, ProtectedError)), transaction.atomic():
        Document.objects.get(pk=document.pk).delete()
    response = client.delete(f"/api/v3/documents/{document.pk}/",
                             **bearer(network.users["a_administrator"]))
    assert response.status_code == 409
    assert Document.objects.filter(pk=document.pk).exists()


# --- Signed titles and alt text ----------------------------------------------------------------

def attachment_titles(client, article) -> list[str]:
    data = client.get(f"/api/v3/pages/{article.pk}/", **A_HOST).json()
    return [item["display_title"] for item in data["attachments"]]


def test_an_edited_title_reaches_readers_only_with_the_next_approval(client, network, used):
    article, document = used["article"], used["document"]
    client.force_login(network.users["a_administrator"])
    response = client.post(reverse("wagtaildocs:edit", args=[document.pk]), {
        "title": "未经审批的标题", "collection": document.collection_id})
    assert response.status_code == 302, response.content.decode()[:2000]
    headers = bearer(network.users["a_administrator"])
    response = client.patch(f"/api/v3/documents/{document.pk}/", data={"title": "又改了"},
                            content_type="application/json", **headers)
    assert response.status_code == 200, response.content.decode()
    client.logout()
    assert Document.objects.get(pk=document.pk).title == "又改了"

    page = client.get(article.url, **A_HOST).content.decode()
    assert ">校历</a>" in page and "又改了" not in page and "未经审批" not in page
    assert attachment_titles(client, article) == ["校历"]

    article.save_revision()
    publish(article)
    assert ">又改了</a>" in client.get(article.url, **A_HOST).content.decode()
    assert attachment_titles(client, article) == ["又改了"]


def test_an_edited_description_leaves_the_cover_with_its_signed_alt_text(client, network,
                                                                         used):
    article, image = used["article"], used["image"]
    client.force_login(network.users["a_administrator"])
    response = client.post(reverse("wagtailimages:edit", args=[image.pk]), {
        "title": image.title, "collection": image.collection_id,
        "description": "未经审批的说明"})
    assert response.status_code == 302, response.content.decode()[:2000]
    client.logout()
    page = client.get(article.url, **A_HOST).content.decode()
    assert 'alt="学校正门"' in page and "未经审批的说明" not in page


def test_an_approval_signed_before_titles_were_gives_the_current_title(client, network):
    """Approvals in the register from before this change name no title: readers get the
    document's title."""
    document = make_document(network.school_a, "作息时间", filename=unique("zuoxi.pdf"))
    article = make_article(network.column(network.school_a, "notices"), "作息", live=False,
                           attachments=[document])
    article = ArticlePage.objects.get(pk=article.pk)
    revision = article.get_latest_revision()
    leader = role_member(article, "leader")
    payload = build_approval(revision=revision, operator=None,
                             first_reviewer=role_member(article, "administrator"),
                             approver=leader, submitted_at=timezone.now())
    for item in payload["attachments"]:
        item.pop("title"), item.pop("alt", None)
    approval = sign_with_passphrase(credential=leader.signing_credentials.get(revoked_at=None),
                                    passphrase=LEADER_PASSPHRASE, payload=payload,
                                    revision=revision)
    approval.revision.publish(skip_permission_checks=True)
    Document.objects.filter(pk=document.pk).update(title="作息时间（新）")
    assert attachment_titles(client, article) == ["作息时间（新）"]
    assert ">作息时间（新）</a>" in client.get(article.url, **A_HOST).content.decode()


# --- check-live after a deletion that skipped the guard ----------------------------------------

def test_check_live_restore_after_a_document_deletion_says_what_to_do(network, used, capsys):
    """The issue's case: a document a live article used was deleted (``DELETE
    /api/v3/documents/3/`` answered 204 before deletion was guarded; SQL still can), the
    attachment went with it, and ``check-live --restore`` ended in a traceback
    (PublicationRefused). Now it says what a person must do, and exits 1."""
    from django.db.models.signals import pre_delete

    from review.pipeline.files import refuse_deleting_used
    from tests.review.support.tamper import run_command

    run_command("publication_log", "check-live", "--restore")  # the demo-free network's pages
    article, document = used["article"], used["document"]
    uid = f"review_keep_used_{Document._meta.label_lower}"
    pre_delete.disconnect(refuse_deleting_used, sender=Document, dispatch_uid=uid)
    try:
        Document.objects.get(pk=document.pk).delete()
    finally:
        pre_delete.connect(refuse_deleting_used, sender=Document, dispatch_uid=uid)
    assert not article.attachments.exists()
    code, out = run_command("publication_log", "check-live", "--restore")
    assert code == 1
    line = next(line for line in out.splitlines() if f"#{article.pk}" in line)
    assert "线上内容与签名批准的内容不符" in line
    assert f"须人工处理：cms.articlepage #{article.pk}《新学期校历》签名批准的版本所用的文档 " \
           f"#{document.pk}《校历》" in line
    assert "PublicationRefused" not in out and "Traceback" not in out
    # Nothing was half-done: the article is as it was, still without its attachment.
    assert not ArticlePage.objects.get(pk=article.pk).attachments.exists()


def test_a_resource_listing_offers_the_signed_file_name_and_size(client, network):
    """A teacher's live public resource whose document was replaced since: the column lists
    the signed name and size, and the link gives the signed bytes."""
    import datetime

    from django.core.files.base import ContentFile
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cms.resources.models import Semester
    from cms.resources.rules import ResourceKind, Visibility
    from cms.resources.services import BatchFields, upload_batch
    from tests.conftest import blank_pdf
    from tests.resources.test_public_listing import approve

    today = timezone.localdate()
    semester = Semester.objects.create(start_year=today.year, term=1,
                                       start_date=today - datetime.timedelta(days=30),
                                       end_date=today + datetime.timedelta(days=60))
    signed_bytes = blank_pdf()  # readable: screening reads it
    [resource] = upload_batch(
        teacher=network.users["a_teacher"], school=network.school_a.home_page,
        fields=BatchFields(semester=semester, kind=ResourceKind.COURSEWARE, subject="物理",
                           grade="初二", source_channel="made", visibility=Visibility.PUBLIC),
        files=[SimpleUploadedFile(unique("kejian.pdf"), signed_bytes)],
        one_resource_title="电路课件")
    resource = approve(network, resource)
    assert resource.live
    document = resource.files.get().document
    signed_name = document.filename
    document.file.save(unique("kejian-v2.pdf"), ContentFile(b"%PDF-1.4 unsigned, longer one"),
                       save=False)
    document._set_document_file_metadata()
    document.save()

    column = network.column(network.school_a, "resources")
    page = client.get(column.url, **A_HOST).content.decode()
    assert signed_name in page and document.filename not in page
    link = reverse("resource_file", args=[resource.files.get().pk, signed_name])
    assert f'href="{link}" download' in page
    download = client.get(link, **A_HOST)
    assert b"".join(download.streaming_content) == signed_bytes
