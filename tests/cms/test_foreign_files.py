"""Issue 17, finding 2: one organisation's content uses only its own documents and images —
in the admin, in API v3 and at the publication guard — and answers say nothing about another
organisation's files."""

import json
from io import BytesIO

import pytest
from django.core.files.images import ImageFile
from django.urls import reverse
from wagtail.images import get_image_model
from wagtail.models import APIToken, Page

from cms.file_scope import may_use
from cms.models import ArticleAttachment, ArticlePage
from review.exceptions import PublicationRefused
from tests.conftest import make_article, make_document, png_bytes, sign

A_HOST = {"HTTP_HOST": "jia.test"}
REFUSAL = "只能使用本单位文档库中的文档或图片。"


def shows_refusal(page: str) -> bool:
    """The refusal, as text or inside a StreamField's JSON state (JSON-escaped)."""
    return REFUSAL in page or json.dumps(REFUSAL)[1:-1] in page


def make_image(organisation, title: str):
    image = get_image_model()(title=title, collection=organisation.collection)
    image.file.save("secret-photo.png", ImageFile(BytesIO(png_bytes()), name="p.png"),
                    save=False)
    image.save()
    return image


def bearer(user) -> dict[str, str]:
    _, token = APIToken.create_token(user=user, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def files(network):
    return {
        "b_doc": make_document(network.school_b, "乙校内部资助名单", filename="zizhu-mingdan.pdf"),
        "b_image": make_image(network.school_b, "乙校内部照片"),
        "a_doc": make_document(network.school_a, "甲校课表", filename="kebiao.pdf"),
        "a_image": make_image(network.school_a, "甲校照片"),
        "county_doc": make_document(network.portal, "教育局内部文件", filename="neibu.pdf"),
    }


# --- The rule (plain) -----------------------------------------------------------------------

@pytest.mark.parametrize(("file_path", "own_path", "allowed"), [
    ("00010002", "00010002", True),        # its own collection
    ("000100020001", "00010002", True),    # a collection below its own
    ("00010003", "00010002", False),       # a sibling: another school, or the bureau
    ("0001", "00010002", False),           # the root collection above it
    ("00010002", None, False),             # content of no organisation uses no file
    ("", "00010002", False),               # a file of no collection
])
def test_the_rule_is_the_own_collection_subtree(file_path, own_path, allowed):
    assert may_use(file_collection_path=file_path,
                   organisation_collection_path=own_path) is allowed


# --- Admin ----------------------------------------------------------------------------------

def article_form(**extra) -> dict:
    return {"title": "后台新建的文章", "slug": "admin-article", "date": "2026-11-20",
            "source": "校办", "author": "", "body-count": "0",
            "attachments-TOTAL_FORMS": "0", "attachments-INITIAL_FORMS": "0",
            "attachments-MIN_NUM_FORMS": "0", "attachments-MAX_NUM_FORMS": "1000", **extra}


def with_attachment(document_id) -> dict:
    return {"attachments-TOTAL_FORMS": "1", "attachments-0-document": str(document_id),
            "attachments-0-title": "", "attachments-0-ORDER": "1",
            "attachments-0-id": "", "attachments-0-DELETE": ""}


def with_body_image(image_id) -> dict:
    return {"body-count": "1", "body-0-type": "image", "body-0-deleted": "",
            "body-0-order": "0", "body-0-id": "", "body-0-value-image": str(image_id),
            "body-0-value-alt_text": "照片", "body-0-value-decorative": ""}


def post_article(client, network, data):
    client.force_login(network.users["a_administrator"])
    news = network.column(network.school_a, "news")
    return client.post(reverse("wagtailadmin_pages:add", args=["cms", "articlepage", news.pk]),
                       data)


@pytest.mark.parametrize("extra", ["attachment", "cover", "body_image"])
def test_admin_refuses_another_schools_file(client, network, files, extra):
    data = {"attachment": with_attachment(files["b_doc"].pk),
            "cover": {"cover_image": str(files["b_image"].pk)},
            "body_image": with_body_image(files["b_image"].pk)}[extra]
    response = post_article(client, network, article_form(**data))
    assert response.status_code == 200
    page = response.content.decode()
    assert shows_refusal(page)
    assert "乙校内部" not in page and "zizhu-mingdan" not in page
    assert not ArticlePage.objects.filter(slug="admin-article").exists()


def test_admin_refuses_the_bureaus_internal_file_too(client, network, files):
    response = post_article(client, network,
                            article_form(**with_attachment(files["county_doc"].pk)))
    assert response.status_code == 200
    assert shows_refusal(response.content.decode())
    assert not ArticlePage.objects.filter(slug="admin-article").exists()


def test_admin_accepts_the_schools_own_files(client, network, files):
    response = post_article(client, network, article_form(
        cover_image=str(files["a_image"].pk), **with_attachment(files["a_doc"].pk),
        **{key: value for key, value in with_body_image(files["a_image"].pk).items()}))
    assert response.status_code == 302, response.content.decode()[:3000]
    article = ArticlePage.objects.get(slug="admin-article").get_latest_revision_as_object()
    assert [a.document_id for a in article.attachments.all()] == [files["a_doc"].pk]
    assert article.cover_image_id == files["a_image"].pk


def test_admin_refuses_an_edit_that_adds_another_schools_file(client, network, files):
    article = make_article(network.column(network.school_a, "news"), "甲校新闻", live=False)
    client.force_login(network.users["a_administrator"])
    response = client.post(reverse("wagtailadmin_pages:edit", args=[article.pk]),
                           article_form(title="甲校新闻", slug=article.slug,
                                        cover_image=str(files["b_image"].pk)))
    assert response.status_code == 200
    latest = ArticlePage.objects.get(pk=article.pk).get_latest_revision_as_object()
    assert latest.cover_image_id is None


@pytest.mark.parametrize(("url", "own", "other"), [
    ("wagtaildocs_chooser:choose", "甲校课表", "乙校内部资助名单"),
    ("wagtailimages_chooser:choose", "甲校照片", "乙校内部照片"),
])
def test_choosers_offer_only_own_files(client, network, files, url, own, other):
    client.force_login(network.users["a_administrator"])
    response = client.get(reverse(url))
    assert response.status_code == 200
    listing = json.loads(response.content)["html"] if response["Content-Type"].startswith(
        "application/json") else response.content.decode()
    assert own in listing and other not in listing
    assert "教育局内部文件" not in listing


# --- API v3 ---------------------------------------------------------------------------------

def api_create(client, network, user="a_administrator", **fields):
    return client.post("/api/v3/pages/", {
        "meta": {"type": "cms.ArticlePage",
                 "parent_id": network.column(network.school_a, "news").pk},
        "title": "API 文章", "slug": "api-article", **fields},
        content_type="application/json", **bearer(network.users[user]))


@pytest.mark.parametrize("field", ["attachment", "cover", "body_image"])
def test_api_refuses_another_schools_file_and_says_nothing_about_it(client, network, files,
                                                                     field):
    def payload(document_id, image_id):
        return {"attachment": {"attachments": [{"document_id": document_id}]},
                "cover": {"cover_image_id": image_id},
                "body_image": {"body": [{"type": "image", "value": {
                    "image": image_id, "alt_text": "照片", "decorative": False}}]}}[field]

    foreign = api_create(client, network, **payload(files["b_doc"].pk, files["b_image"].pk))
    assert 400 <= foreign.status_code < 500, foreign.content
    text = foreign.content.decode()
    for secret in ("zizhu-mingdan", "乙校内部", "secret-photo", str(files["b_doc"].file.size)):
        assert secret not in text
    assert not ArticlePage.objects.filter(slug="api-article").exists()
    assert "只能使用本单位文档库中的文档或图片。" in foreign.json()["errors"][0]["msg"]
    if field != "body_image":
        # A chosen file of another school gets the answer a file that does not exist gets.
        # (API v3 drops a body image block's unknown id before the form sees it; ids are
        # sequential, so that an id exists tells nothing anyway.)
        missing = api_create(client, network, **payload(999999, 999999))
        assert missing.status_code == foreign.status_code
        assert missing.json()["errors"] == foreign.json()["errors"]


def test_api_accepts_own_files(client, network, files):
    response = api_create(client, network, attachments=[{"document_id": files["a_doc"].pk}],
                          cover_image_id=files["a_image"].pk)
    assert response.status_code == 201, response.content
    assert response.json()["attachments"][0]["filename"].startswith("kebiao")


def test_api_refuses_the_update_too(client, network, files):
    article = make_article(network.column(network.school_a, "news"), "甲校新闻", live=False)
    response = client.patch(f"/api/v3/pages/{article.pk}/", {
        "meta": {"type": "cms.ArticlePage"},
        "attachments": [{"document_id": files["b_doc"].pk}]},
        content_type="application/json", **bearer(network.users["a_administrator"]))
    assert 400 <= response.status_code < 500, response.content
    assert "zizhu-mingdan" not in response.content.decode()
    assert not ArticlePage.objects.get(pk=article.pk).get_latest_revision_as_object() \
        .attachments.exists()


# --- The guard (code, whatever path saved it) ----------------------------------------------

def test_guard_refuses_publishing_another_schools_attachment(client, network, files):
    """Saved from code, past every form; school A's own pipeline signs it: still refused,
    and the file is not served."""
    article = make_article(network.column(network.school_a, "news"), "甲校通知", live=False,
                           attachments=[files["b_doc"]])
    approval = sign(article)
    with pytest.raises(PublicationRefused, match="不属于本单位"):
        approval.revision.publish(skip_permission_checks=True)
    assert not Page.objects.get(pk=article.pk).live
    attachment = ArticleAttachment.objects.get(page=article)
    response = client.get(reverse("attachment", args=[attachment.pk, "zizhu-mingdan.pdf"]),
                          **A_HOST)
    assert response.status_code == 404


@pytest.mark.parametrize("where", ["cover", "body_image", "rich_text_link"])
def test_guard_refuses_another_schools_image_or_linked_document(network, files, where):
    article = make_article(network.column(network.school_a, "news"), "甲校通知", live=False)
    if where == "cover":
        article.cover_image = files["b_image"]
    elif where == "body_image":
        article.body = [("image", {"image": files["b_image"], "alt_text": "照片",
                                   "decorative": False})]
    else:
        article.body = [("paragraph", '<p data-block-key="k">见<a linktype="document" '
                                      f'id="{files["b_doc"].pk}">附件</a></p>')]
    article.save_revision()
    approval = sign(article)
    with pytest.raises(PublicationRefused, match="不属于本单位"):
        approval.revision.publish(skip_permission_checks=True)
    assert not Page.objects.get(pk=article.pk).live


def test_guard_publishes_own_files(network, files):
    article = make_article(network.column(network.school_a, "news"), "甲校通知",
                           attachments=[files["a_doc"]])
    assert article.live
    assert article.review_attachments() == [files["a_doc"]]


# --- A school's resource (snippet) ---------------------------------------------------------

def test_resource_form_refuses_another_schools_document(client, network, files):
    import datetime

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from cms.resources.models import Resource, Semester
    from tests.conftest import blank_pdf

    today = timezone.localdate()
    semester = Semester.objects.create(start_year=today.year, term=1,
                                       start_date=today - datetime.timedelta(days=30),
                                       end_date=today + datetime.timedelta(days=60))
    client.force_login(network.users["a_teacher"])
    client.post(reverse("resources_mine"), {
        "semester": semester.pk, "kind": "paper", "subject": "语文", "grade": "初一",
        "source_channel": "made", "visibility": "public",
        "files": [SimpleUploadedFile("论文.pdf", blank_pdf())]})
    resource = Resource.objects.get()
    own = resource.files.get()
    client.force_login(network.users["a_administrator"])
    response = client.post(
        reverse("wagtailsnippets_resources_resource:edit", args=[resource.pk]), {
            "title": resource.title, "kind": "paper", "subject": "语文", "grade": "初一",
            "semester": semester.pk, "source_channel": "made", "visibility": "public",
            "description": "",
            "files-TOTAL_FORMS": "2", "files-INITIAL_FORMS": "1", "files-MIN_NUM_FORMS": "0",
            "files-MAX_NUM_FORMS": "1000",
            "files-0-id": str(own.pk), "files-0-document": str(own.document_id),
            "files-0-ORDER": "1", "files-0-DELETE": "",
            "files-1-id": "", "files-1-document": str(files["b_doc"].pk),
            "files-1-ORDER": "2", "files-1-DELETE": ""})
    assert response.status_code == 200
    page = response.content.decode()
    assert shows_refusal(page) and "乙校内部" not in page
    latest = Resource.objects.get(pk=resource.pk).get_latest_revision_as_object()
    assert [item.document_id for item in latest.files.all()] == [own.document_id]
