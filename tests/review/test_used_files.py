"""Issue 17: files that live content uses — the generic engine, on the lean world.

A document or image that a live page's signed approval names cannot be deleted (code, the
admin's views); its signed title and alt text are in the approval; check-live verifies the
bytes readers get and --restore repairs them or says what a person must do."""

import hashlib
import uuid
from io import BytesIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from django.db import transaction
from django.urls import reverse
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import ReferenceIndex

from review.exceptions import FileInUse, ReviewError
from review.pipeline.actions import TakedownAction
from review.pipeline.files import live_uses
from review.register.models import RegisterEntry
from tests.conftest import png_bytes
from tests.review.support.tamper import run_command
from tests.review.world import make_bulletin, publish

Document = get_document_model()
Image = get_image_model()


def unique(name: str) -> str:
    stem, extension = name.rsplit(".", 1)
    return f"{stem}-{uuid.uuid4().hex[:8]}.{extension}"


def make_file(*, title="名单", content=b"%PDF-1.4 list", name="list.pdf"):
    document = Document(title=title)
    document.file.save(unique(name), ContentFile(content), save=False)
    document._set_document_file_metadata()
    document.save()
    return document


def make_image(*, title="封面", description=""):
    image = Image(title=title, description=description)
    name = unique("cover.png")
    image.file.save(name, ImageFile(BytesIO(png_bytes()), name=name), save=False)
    image.save()
    return image


def bulletin_with(world, title, *, document=None, image=None, live=True):
    page = make_bulletin(world, title, live=False, owner=world.users["author"])
    page.document, page.image = document, image
    page.save_revision(user=world.users["author"])
    return publish(world, page) if live else page


# --- Deleting a file live content uses ----------------------------------------------------------

def test_code_cannot_delete_a_document_a_live_page_signed(world):
    document = make_file()
    page = bulletin_with(world, "招生简章", document=document)
    # (Each refusal inside a savepoint: it rolls back the deletion's transaction, as a
    # request's or a script's own would be.)
    with pytest.raises(FileInUse) as refused, transaction.atomic():
        Document.objects.get(pk=document.pk).delete()
    assert isinstance(refused.value, ReviewError)
    assert f"《{page.title}》" in str(refused.value) and "不能删除" in str(refused.value)
    assert [use.obj.pk for use in refused.value.uses] == [page.pk]
    # A queryset's delete too, and nothing of the batch is deleted.
    spare = make_file(title="无人使用")
    with pytest.raises(FileInUse), transaction.atomic():
        Document.objects.filter(pk__in=[spare.pk, document.pk]).delete()
    assert Document.objects.filter(pk__in=[spare.pk, document.pk]).count() == 2
    assert Document.objects.get(pk=document.pk).file.read() == b"%PDF-1.4 list"


def test_an_image_is_kept_while_used_and_the_register_finds_it_without_the_index(world):
    image = make_image()
    bulletin_with(world, "校园风光", image=image)
    ReferenceIndex.objects.all().delete()  # the index lags: the register still knows
    with pytest.raises(FileInUse), transaction.atomic():
        image.delete()
    assert Image.objects.filter(pk=image.pk).exists()


def test_files_of_drafts_and_of_content_taken_down_may_be_deleted(world):
    draft_file, gone_file = make_file(title="草稿附件"), make_file(title="撤下的附件")
    bulletin_with(world, "草稿", document=draft_file, live=False)
    page = bulletin_with(world, "已撤下", document=gone_file)
    assert live_uses(gone_file)
    TakedownAction(page, user=world.users["root"], reason="过期").execute(
        skip_permission_checks=True)
    assert live_uses(draft_file) == [] and live_uses(gone_file) == []
    draft_file.delete()
    gone_file.delete()
    assert not Document.objects.filter(pk__in=[draft_file.pk, gone_file.pk]).exists()


def test_a_file_referred_to_but_not_signed_does_not_count(world):
    """Attached behind the pipeline's back: readers never get it, so it keeps nothing."""
    page = bulletin_with(world, "通知")
    document = make_file(title="后加的")
    type(page).objects.filter(pk=page.pk).update(document=document)
    assert live_uses(document) == []


def test_the_admin_delete_view_refuses_and_names_the_page(client, world):
    document = make_file(title="课程表")
    page = bulletin_with(world, "课程安排", document=document)
    client.force_login(world.users["root"])
    response = client.post(reverse("wagtaildocs:delete", args=[document.pk]), follow=True)
    messages = [str(message) for message in response.context["messages"]]
    assert any("课程表" in text and f"《{page.title}》" in text and "不能删除" in text
               for text in messages), messages
    assert Document.objects.filter(pk=document.pk).exists()


def test_the_admin_bulk_delete_refuses_and_deletes_nothing(client, world):
    used, spare = make_image(title="用着的"), make_image(title="没用的")
    page = bulletin_with(world, "图片新闻", image=used)
    client.force_login(world.users["root"])
    url = (reverse("wagtail_bulk_action", args=("wagtailimages", "image", "delete"))
           + f"?id={used.pk}&id={spare.pk}")
    response = client.post(url, follow=True)
    messages = [str(message) for message in response.context["messages"]]
    assert any(f"《{page.title}》" in text for text in messages), messages
    assert Image.objects.filter(pk__in=[used.pk, spare.pk]).count() == 2


# --- Signed titles and alt text -----------------------------------------------------------------

def test_the_approval_signs_titles_and_alt_text(world):
    document = make_file(title="学生名单")
    image = make_image(title="操场", description="新修的操场")
    page = bulletin_with(world, "开学", document=document, image=image)
    entry = RegisterEntry.objects.filter(object_id=str(page.pk)).latest("seq")
    files = {item["kind"]: item for item in entry.entry["approval"]["attachments"]}
    assert files["document"]["title"] == "学生名单"
    assert (files["image"]["title"], files["image"]["alt"]) == ("操场", "新修的操场")
    assert files["document"]["sha256"] == hashlib.sha256(b"%PDF-1.4 list").hexdigest()


# --- check-live: the bytes readers get ----------------------------------------------------------

@pytest.fixture
def own_store(world, settings, tmp_path):
    """An originals store of this test's own, which it may damage; and a world check-live
    passes on (Wagtail's welcome page, live unregistered, is taken down first)."""
    settings.BACKUPS_ORIGINALS_DIR = tmp_path / "originals"
    run("check-live", "--restore")
    assert run("check-live")[0] == 0
    return settings.BACKUPS_ORIGINALS_DIR


def run(*args) -> tuple[int, str]:
    return run_command("publication_log", *args)


def replace_file(file, content: bytes):
    file.file.save(unique("v2.pdf"), ContentFile(content), save=False)
    file._set_document_file_metadata()
    file.save()


def damage(own_store, sha256: str, content: bytes):
    path = own_store / sha256[:2] / sha256[2:4] / sha256
    path.chmod(0o644)
    path.write_bytes(content)


def test_check_live_hashes_what_is_served_not_a_new_version_waiting(world, own_store):
    content = f"%PDF-1.4 {uuid.uuid4()}".encode()
    document = make_file(content=content)
    bulletin_with(world, "通知", document=document)
    assert run("check-live")[0] == 0
    # A new version, not yet approved: readers still get the signed bytes (the original).
    replace_file(document, b"%PDF-1.4 new version")
    assert run("check-live") == (0, "线上内容与签名批准的内容一致。\n")
    assert run("check-live", "--restore")[0] == 0
    assert Document.objects.get(pk=document.pk).file.read() == b"%PDF-1.4 new version"


def test_a_damaged_original_is_reported_and_put_back_from_the_current_file(world, own_store):
    content = f"%PDF-1.4 {uuid.uuid4()}".encode()
    document = make_file(content=content)
    page = bulletin_with(world, "招生", document=document)
    sha256 = hashlib.sha256(content).hexdigest()
    damage(own_store, sha256, b"not what was signed")
    code, out = run("check-live")
    assert code == 1
    assert f"文档 #{document.pk}《名单》" in out and f"《{page.title}》" in out
    assert "原件库中签名批准的原件已被改动" in out
    code, out = run("check-live", "--restore")
    assert code == 1 and "把签名批准的原件放回原件库" in out
    path = own_store / sha256[:2] / sha256[2:4] / sha256
    assert path.read_bytes() == content
    assert run("check-live")[0] == 0


def test_signed_bytes_found_nowhere_are_left_to_a_person_without_a_traceback(world,
                                                                            own_store):
    content = f"%PDF-1.4 {uuid.uuid4()}".encode()
    document = make_file(content=content)
    bulletin_with(world, "作息", document=document)
    replace_file(document, b"%PDF-1.4 other")
    sha256 = hashlib.sha256(content).hexdigest()
    path = own_store / sha256[:2] / sha256[2:4] / sha256
    path.chmod(0o644)
    path.unlink()
    code, out = run("check-live", "--restore")
    assert code == 1
    assert "原件库中缺少签名批准的原件，当前文件也已不同" in out
    assert "须人工处理：" in out and sha256 in out
    assert run("check-live")[0] == 1  # nothing was pretended


def test_a_deleted_file_restores_to_a_clear_instruction_not_a_traceback(world, own_store):
    """A document deleted before deletion was guarded (or by SQL): the live page no longer
    shows what was signed, and its signed revision refers to a file that is gone."""
    from django.db.models.signals import pre_delete

    from review.pipeline.files import refuse_deleting_used

    document = make_file(title="旧文件")
    page = bulletin_with(world, "旧通知", document=document)
    pre_delete.disconnect(refuse_deleting_used, sender=Document,
                          dispatch_uid="review_keep_used_wagtaildocs.document")
    try:
        Document.objects.get(pk=document.pk).delete()
    finally:
        pre_delete.connect(refuse_deleting_used, sender=Document,
                           dispatch_uid="review_keep_used_wagtaildocs.document")
    code, out = run("check-live")
    assert code == 1 and f"《{page.title}》：线上内容与签名批准的内容不符" in out
    code, out = run("check-live", "--restore")
    assert code == 1
    assert f"须人工处理：testapp.bulletinpage #{page.pk}《{page.title}》签名批准的版本所用的文档 " \
           f"#{document.pk}《旧文件》" in out
    assert "已被删除" in out and "请从备份恢复" in out
