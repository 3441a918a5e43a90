"""Issue 17: readers get the signed bytes of every file, and images of content that is not
live are not public (finding 1's file replacement, finding 7)."""

import hashlib
import re
import uuid
from io import BytesIO

import pytest
from django.core.files.images import ImageFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from PIL import Image as PILImage
from wagtail.images import get_image_model

from backups.originals import originals_of
from backups.stores import store
from cms.signed_files import UNAVAILABLE_MESSAGE
from review.register.signed import signed_file
from tests.conftest import make_article, make_document, png_bytes, publish

A_HOST = {"HTTP_HOST": "jia.test"}


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def make_image(network, *, title="封面", name="cover.png", width=4, height=3):
    image = get_image_model()(title=title, collection=network.school_a.collection)
    image.file.save(name, ImageFile(BytesIO(png_bytes(width, height)), name=name), save=False)
    image.save()
    return image


def image_urls(html: str) -> list[str]:
    return re.findall(r'src="(/media/images/[^"]+)"', html)


def size_of(data: bytes) -> tuple[int, int]:
    return PILImage.open(BytesIO(data)).size


def replace_document(client, user, document, *, name: str, content: bytes):
    client.force_login(user)
    response = client.post(reverse("wagtaildocs:edit", args=[document.pk]), {
        "title": document.title, "collection": document.collection_id,
        "file": SimpleUploadedFile(name, content)})
    assert response.status_code == 302, response.content.decode()[:2000]
    client.logout()
    document.refresh_from_db()


# --- Pure lookups --------------------------------------------------------------------------------

def test_signed_file_finds_the_named_file_of_an_approval_only():
    approval = {"attachments": [{"kind": "document", "id": 3, "sha256": "a" * 64},
                                {"kind": "image", "id": 3, "sha256": "b" * 64}]}
    assert signed_file(approval, kind="image", file_id=3)["sha256"] == "b" * 64
    assert signed_file(approval, kind="document", file_id=4) is None
    assert signed_file(None, kind="document", file_id=3) is None
    assert signed_file({}, kind="document", file_id=3) is None


def unique_name(name: str) -> str:
    """A file name no earlier test on this worker stored (the media directory outlives each
    test's rolled-back rows), so that storage keeps it as it is."""
    stem, extension = name.rsplit(".", 1)
    return f"{stem}-{uuid.uuid4().hex[:8]}.{extension}"


# --- Attachments ---------------------------------------------------------------------------------

def test_a_replaced_attachment_goes_public_only_with_the_next_approval(client, network):
    document = make_document(network.school_a, "校历", content=b"%PDF-1.4 signed calendar",
                             filename=unique_name("xiaoli.pdf"))
    signed_name = document.filename
    article = make_article(network.column(network.school_a, "notices"), "校历",
                           attachments=[document])
    attachment = article.attachments.get()
    signed_link = reverse("attachment", args=[attachment.pk, signed_name])

    replace_document(client, network.users["a_administrator"], document,
                     name="xiaoli-v2.pdf", content=b"%PDF-1.4 unsigned replacement")
    assert document.filename != signed_name
    # The page links to the document's current name; both names give the signed bytes and
    # name, never the replacement.
    for link in (signed_link, reverse("attachment", args=[attachment.pk, document.filename])):
        download = client.get(link, **A_HOST)
        assert download.status_code == 200, link
        assert body(download) == b"%PDF-1.4 signed calendar"
        assert signed_name in download["Content-Disposition"]
    assert client.get(reverse("attachment", args=[attachment.pk, "other.pdf"]),
                      **A_HOST).status_code == 404
    # The page offers the signed file, by its signed name and size.
    page = client.get(article.url, **A_HOST).content.decode()
    assert f'href="{signed_link}"' in page and document.filename not in page
    assert filesizeformat(len(b"%PDF-1.4 signed calendar")) in page

    # The leader approves the article again: the new bytes are signed, and served.
    article.save_revision()
    publish(article)
    download = client.get(reverse("attachment", args=[attachment.pk, document.filename]),
                          **A_HOST)
    assert body(download) == b"%PDF-1.4 unsigned replacement"
    assert document.filename in download["Content-Disposition"]
    page = client.get(article.url, **A_HOST).content.decode()
    assert document.filename in page and f'href="{signed_link}"' not in page


def test_signed_bytes_that_are_gone_are_never_replaced_by_unsigned_ones(client, network,
                                                                       caplog, settings,
                                                                       tmp_path):
    document = make_document(network.school_a, "作息表", content=b"%PDF-1.4 signed timetable",
                             filename="zuoxi.pdf")
    article = make_article(network.column(network.school_a, "notices"), "作息表",
                           attachments=[document])
    attachment = article.attachments.get()
    replace_document(client, network.users["a_administrator"], document,
                     name="zuoxi-v2.pdf", content=b"%PDF-1.4 unsigned timetable")
    # The originals store loses the signed bytes (another, empty store).
    settings.BACKUPS_ORIGINALS_DIR = tmp_path / "empty-originals"
    download = client.get(reverse("attachment", args=[attachment.pk, "zuoxi.pdf"]), **A_HOST)
    assert download.status_code == 503
    assert download.content.decode() == UNAVAILABLE_MESSAGE
    assert b"unsigned" not in download.content
    assert any("签名批准的文件无法提供" in record.getMessage() for record in caplog.records)


def test_an_attachment_the_approval_does_not_name_is_not_served(client, network):
    """A document attached to the live page's rows behind the pipeline's back."""
    article = make_article(network.column(network.school_a, "notices"), "通知")
    document = make_document(network.school_a, "内部文件", content=b"%PDF-1.4 internal",
                             filename="neibu.pdf")
    from cms.models import ArticleAttachment

    attachment = ArticleAttachment.objects.create(page=article, document=document)
    assert client.get(reverse("attachment", args=[attachment.pk, "neibu.pdf"]),
                      **A_HOST).status_code == 404


def test_a_replacement_that_reuses_an_earlier_files_name_is_kept_too(client, network):
    """Storage reuses the name of the file a replacement deleted: the bytes are kept as an
    original all the same, so that they can be served once signed."""
    first_name = unique_name("kebiao.pdf")
    document = make_document(network.school_a, "课表", content=b"%PDF-1.4 one",
                             filename=first_name)
    administrator = network.users["a_administrator"]
    replace_document(client, administrator, document, name="kebiao-2.pdf",
                     content=b"%PDF-1.4 two")
    replace_document(client, administrator, document, name=first_name,
                     content=b"%PDF-1.4 three")
    assert document.file.name == f"documents/{first_name}"  # the first file's name again
    digests = {original.sha256 for original in originals_of(document)}
    assert digests == {hashlib.sha256(content).hexdigest()
                       for content in (b"%PDF-1.4 one", b"%PDF-1.4 two", b"%PDF-1.4 three")}
    assert all(store().holds(digest) for digest in digests)
    # A title edit still stores nothing new.
    document.title = "课表（修订）"
    document.save()
    assert len(originals_of(document)) == 3


# --- Images --------------------------------------------------------------------------------------

def test_images_of_drafts_and_every_original_stay_private(client, network):
    image = make_image(network, title="草稿配图", name="draft-only.png")
    draft = make_article(network.column(network.school_a, "news"), "草稿", live=False)
    draft.cover_image = image
    draft.save_revision()
    rendition = image.get_rendition("width-800")
    original_url = f"/media/original_images/{image.file.name.split('/')[-1]}"
    assert original_url == image.file.url
    # Anonymous readers: neither the original nor a rendition.
    assert client.get(original_url, **A_HOST).status_code == 404
    assert client.get(rendition.url, **A_HOST).status_code == 404
    # Staff who may use the image see both (their previews and the image listing).
    client.force_login(network.users["a_administrator"])
    assert body(client.get(original_url, **A_HOST)) == png_bytes(4, 3)
    assert client.get(rendition.url, **A_HOST).status_code == 200
    # Another school's staff do not.
    client.force_login(network.users["b_administrator"])
    assert client.get(original_url, **A_HOST).status_code == 404
    assert client.get(rendition.url, **A_HOST).status_code == 404


def test_a_live_pages_images_are_public_as_renditions_only(client, network):
    image = make_image(network, title="开学典礼", name="opening.png")
    article = make_article(network.column(network.school_a, "news"), "开学典礼", live=False)
    article.cover_image = image
    article.save_revision()
    article = publish(article)
    page = client.get(article.url, **A_HOST).content.decode()
    (url,) = image_urls(page)
    response = client.get(url, **A_HOST)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert size_of(body(response)) == (4, 3)
    assert url.startswith(f"/media/images/signed/{image.pk}/")
    # Another size than the templates' is not made for the public.
    assert client.get(url.replace("width-800", "width-801"), **A_HOST).status_code == 404
    # The original is never public, live or not.
    assert client.get(image.file.url, **A_HOST).status_code == 404
    # Another site does not serve this school's image.
    assert client.get(url, HTTP_HOST="yi.test").status_code == 404
    # Taken offline: the image goes with it.
    article.unpublish()
    assert client.get(url, **A_HOST).status_code == 404


def test_a_replaced_image_shows_the_signed_one_until_approved_again(client, network):
    image = make_image(network, title="校园", name="campus.png", width=4, height=3)
    article = make_article(network.column(network.school_a, "news"), "校园", live=False)
    article.body = [("image", {"image": image, "alt_text": "校园", "decorative": False})]
    article.save_revision()
    publish(article)
    (signed_url,) = image_urls(client.get(article.url, **A_HOST).content.decode())
    assert f"/{hashlib.sha256(png_bytes(4, 3)).hexdigest()}/" in signed_url

    client.force_login(network.users["a_administrator"])
    response = client.post(reverse("wagtailimages:edit", args=[image.pk]), {
        "title": image.title, "collection": image.collection_id,
        "file": SimpleUploadedFile("campus-new.png", png_bytes(8, 6), "image/png")})
    assert response.status_code == 302, response.content.decode()[:2000]
    client.logout()

    page = client.get(article.url, **A_HOST).content.decode()
    (url,) = image_urls(page)
    # The address names the signed bytes: a page baked before the replacement still shows
    # the signed image (the address did not change), and so does a fresh rendering.
    assert url == signed_url and 'width="4" height="3"' in page
    assert size_of(body(client.get(url, **A_HOST))) == (4, 3)
    # Wagtail's rendition of the new file, by its name, gives the signed image too.
    new_rendition = get_image_model().objects.get(pk=image.pk).get_rendition("width-800")
    assert size_of(body(client.get(new_rendition.url, **A_HOST))) == (4, 3)

    article.save_revision()
    publish(article)
    page = client.get(article.url, **A_HOST).content.decode()
    (url,) = image_urls(page)
    assert url != signed_url
    assert size_of(body(client.get(url, **A_HOST))) == (8, 6)
    # The bytes no live page signs any more are not public.
    assert client.get(signed_url, **A_HOST).status_code == 404


def test_a_body_image_is_found_through_the_register_if_the_reference_index_lags(client,
                                                                                 network):
    """The reference index is updated by a background task, which a dying process may
    lose: the register still says which bytes the page signed."""
    from wagtail.models import ReferenceIndex

    image = make_image(network, title="实验室", name="lab.png")
    article = make_article(network.column(network.school_a, "news"), "实验室", live=False)
    article.body = [("image", {"image": image, "alt_text": "实验室", "decorative": False})]
    article.save_revision()
    publish(article)
    (url,) = image_urls(client.get(article.url, **A_HOST).content.decode())
    ReferenceIndex.objects.all().delete()
    assert size_of(body(client.get(url, **A_HOST))) == (4, 3)
    # An address with a hash nobody signed for this image is not served.
    other = url.replace(f"/{hashlib.sha256(png_bytes(4, 3)).hexdigest()}/", f"/{'0' * 64}/")
    assert client.get(other, **A_HOST).status_code == 404


@pytest.mark.parametrize("path", ["/media/documents/x.pdf", "/media/other/x.png",
                                  "/media/images/nothing.png"])
def test_nothing_else_under_media_is_served(client, network, path):
    assert client.get(path, **A_HOST).status_code == 404
