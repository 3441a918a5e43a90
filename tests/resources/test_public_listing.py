"""Public resources on the school sites: a live public resource is listed by its school's
column of the matching kind and its files download; drafts, internal and taken-down resources
are neither listed nor downloadable; the baked column file follows approval and takedown."""

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from cms.publishing import act
from cms.resources.models import Resource
from cms.resources.rules import ResourceKind, Visibility
from cms.resources.services import BatchFields, upload_batch
from tests.baking.conftest import baked, url_of
from tests.conftest import LEADER_PASSPHRASE, blank_pdf

TITLE = "欧姆定律分层练习"


def file_resource(network, semester, *, kind=ResourceKind.COURSEWARE,
                  visibility=Visibility.PUBLIC, title=TITLE) -> Resource:
    [resource] = upload_batch(
        teacher=network.users["a_teacher"], school=network.school_a.home_page,
        fields=BatchFields(semester=semester, kind=kind, subject="物理", grade="初二",
                           source_channel="made", visibility=visibility),
        files=[SimpleUploadedFile("欧姆定律.pdf", blank_pdf())], one_resource_title=title)
    return resource


def approve(network, resource) -> Resource:
    act(resource, user=network.users["a_administrator"], action="approve", comment="")
    if resource.visibility == Visibility.PUBLIC:
        act(resource, user=network.users["a_leader"], action="approve", comment="",
            passphrase=LEADER_PASSPHRASE)
    resource.refresh_from_db()
    return resource


def public_get(client, network, url):
    """An anonymous reader of school A's site."""
    client.logout()
    return client.get(url, HTTP_HOST=network.school_a.site.hostname)


def download_url(resource) -> str:
    item = resource.files.select_related("document").get()
    return reverse("resource_file", args=[item.pk, item.document.filename])


@pytest.mark.parametrize(("kind", "column_slug", "other_slugs"), [
    (ResourceKind.COURSEWARE, "resources", ("teaching", "research")),
    (ResourceKind.PAPER, "teaching", ("resources", "research")),
    (ResourceKind.REFLECTION, "research", ("teaching", "resources")),
])
def test_a_live_public_resource_is_listed_in_its_matching_column_with_a_download(
        client, network, semester, kind, column_slug, other_slugs):
    resource = approve(network, file_resource(network, semester, kind=kind))
    assert resource.live
    column = network.column(network.school_a, column_slug)
    response = public_get(client, network, url_of(column))
    text = response.content.decode()
    assert response.status_code == 200
    assert TITLE in text and resource.get_kind_display() in text
    assert "物理" in text and "初二" in text
    # The reader sees the local (Asia/Shanghai) date, a day ahead of UTC from 16:00 UTC.
    assert timezone.localtime(resource.first_published_at).strftime("%Y-%m-%d") in text
    assert download_url(resource) in text
    for slug in other_slugs:
        assert TITLE not in public_get(client, network,
                                       url_of(network.column(network.school_a, slug))
                                       ).content.decode()
    # Another school's column of the same kind does not list it.
    other = network.column(network.school_b, column_slug)
    assert TITLE not in client.get(url_of(other),
                                   HTTP_HOST=network.school_b.site.hostname).content.decode()
    download = public_get(client, network, download_url(resource))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == blank_pdf()
    assert "attachment" in download["Content-Disposition"]


def test_a_resource_registered_in_the_first_millisecond_of_a_second_is_published(
        network, semester):
    """The signed hash is of the object the revision gives back: a time stored with
    milliseconds (…:03.000) comes back without them, and the approval must still match."""
    with freeze_time(timezone.now().replace(microsecond=500)):
        resource = file_resource(network, semester)
    assert resource.created_at.microsecond == 500
    assert approve(network, resource).live


def test_drafts_and_internal_resources_are_neither_listed_nor_downloadable(
        client, network, semester):
    draft = file_resource(network, semester, title="还在审核的课件")
    internal = approve(network, file_resource(network, semester, visibility=Visibility.INTERNAL,
                                              title="校内课件"))
    assert internal.approved_at is not None and not internal.live
    first_reviewed = file_resource(network, semester, title="只过了初审的课件")
    act(first_reviewed, user=network.users["a_administrator"], action="approve", comment="")
    text = public_get(client, network,
                      url_of(network.column(network.school_a, "resources"))).content.decode()
    for resource in (draft, internal, first_reviewed):
        assert resource.title not in text
        assert public_get(client, network, download_url(resource)).status_code == 404


def test_the_download_needs_the_right_file_name_and_stops_after_takedown(
        client, network, semester):
    resource = approve(network, file_resource(network, semester))
    item = resource.files.select_related("document").get()
    wrong = reverse("resource_file", args=[item.pk, "other.pdf"])
    assert public_get(client, network, wrong).status_code == 404
    assert public_get(client, network, download_url(resource)).status_code == 200
    Resource.objects.get(pk=resource.pk).unpublish()
    assert public_get(client, network, download_url(resource)).status_code == 404
    text = public_get(client, network,
                      url_of(network.column(network.school_a, "resources"))).content.decode()
    assert TITLE not in text


def test_an_unapproved_edit_of_a_live_resource_does_not_reach_the_public(
        client, network, semester):
    resource = approve(network, file_resource(network, semester))
    draft = Resource.objects.get(pk=resource.pk)
    draft.title = "未经审批的新标题"
    draft.save_revision(user=network.users["a_teacher"])
    text = public_get(client, network,
                      url_of(network.column(network.school_a, "resources"))).content.decode()
    assert TITLE in text and "未经审批的新标题" not in text


@pytest.fixture
def bake_dir(settings, tmp_path):
    settings.BAKE_DIR = tmp_path / "public"
    settings.BAKE_ON_PUBLICATION = True
    settings.BAKE_SERVE = True
    cache.clear()
    return settings.BAKE_DIR


def test_the_baked_column_lists_the_resource_after_approval_and_not_after_takedown(
        client, network, semester, bake_dir, django_capture_on_commit_callbacks):
    from django.core.management import call_command

    call_command("bake", "--all", stdout=None, stderr=None)
    column = network.column(network.school_a, "resources")
    column_file = baked(bake_dir, "jia.test", url_of(column))
    assert column_file.exists() and TITLE.encode() not in column_file.read_bytes()
    resource = file_resource(network, semester)
    with django_capture_on_commit_callbacks(execute=True):
        approve(network, resource)
    assert TITLE.encode() in column_file.read_bytes()
    # The anonymous reader is served the baked file, which lists it.
    response = public_get(client, network, url_of(column))
    assert response.has_header("ETag") and TITLE in response.content.decode()
    # Other columns' files are not touched by a resource event.
    teaching_file = baked(bake_dir, "jia.test", url_of(network.column(network.school_a,
                                                                       "teaching")))
    before = teaching_file.stat().st_mtime_ns
    with django_capture_on_commit_callbacks(execute=True):
        Resource.objects.get(pk=resource.pk).unpublish()
    assert TITLE.encode() not in column_file.read_bytes()
    assert teaching_file.stat().st_mtime_ns == before


def test_resources_turn_pages_with_the_column_and_every_page_is_baked(
        client, network, semester, bake_dir, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr("cms.baking.listing.RESOURCES_PER_PAGE", 2)
    titles = ["最早的课件", "第二个课件", "最新的课件"]
    for title in titles:
        with django_capture_on_commit_callbacks(execute=True):
            approve(network, file_resource(network, semester, title=title))
    column = network.column(network.school_a, "resources")
    first = public_get(client, network, url_of(column)).content.decode()
    second = public_get(client, network, url_of(column) + "?page=2").content.decode()
    assert "最新的课件" in first and "第二个课件" in first and "最早的课件" not in first
    assert "最早的课件" in second and "最新的课件" not in second
    # The archive page numbered from the oldest (cms.baking.listing) holds the older two.
    assert "第二个课件" in second and 'href="?page=2" rel="next"' in first
    # Approvals re-baked every listing page; the reader gets the baked files.
    assert "最早的课件" in baked(bake_dir, "jia.test", url_of(column), 2).read_text()
    assert "最早的课件" not in baked(bake_dir, "jia.test", url_of(column)).read_text()


def test_the_headless_api_lists_live_public_resources_of_the_site(client, network, semester):
    live = approve(network, file_resource(network, semester, title="公开课件"))
    approve(network, file_resource(network, semester, title="校内试题",
                                   visibility=Visibility.INTERNAL))
    file_resource(network, semester, title="未审草稿")
    client.logout()
    school_a = network.school_a.site.hostname
    listing = client.get("/api/v3/resources/", HTTP_HOST=school_a).json()
    assert [item["title"] for item in listing["items"]] == ["公开课件"]
    assert listing["count"] == 1
    item = listing["items"][0]
    assert (item["registry_number"], item["kind_label"], item["school"]) == (
        live.registry_number, "课件", "jia")
    assert item["files"][0]["sha256"] == live.files.get().sha256
    assert item["files"][0]["url"].endswith(download_url(live))
    assert client.get(f"/api/v3/resources/{live.pk}/", HTTP_HOST=school_a).json()["title"] \
        == "公开课件"
    # Another school's site does not list it; hidden ones are 404 by id.
    assert client.get("/api/v3/resources/",
                      HTTP_HOST=network.school_b.site.hostname).json()["items"] == []
    for hidden in Resource.objects.exclude(pk=live.pk):
        assert client.get(f"/api/v3/resources/{hidden.pk}/",
                          HTTP_HOST=school_a).status_code == 404
    # Taken down: gone from the API (the cached answer is invalidated with the register).
    Resource.objects.get(pk=live.pk).unpublish()
    assert client.get("/api/v3/resources/", HTTP_HOST=school_a).json()["items"] == []
    assert client.get(f"/api/v3/resources/{live.pk}/", HTTP_HOST=school_a).status_code == 404


def test_resources_changed_past_save_reach_neither_the_listing_nor_the_api(
        client, settings, network, semester):
    """Defence in depth (issue 17, invariant 7): a title written by ``update()`` is not
    shown; a resource put online by ``update()`` is listed nowhere."""
    settings.BAKE_SERVE = False
    live = approve(network, file_resource(network, semester, title="公开课件"))
    draft = file_resource(network, semester, title="未审草稿")
    Resource.objects.filter(pk=live.pk).update(title="篡改的标题")
    Resource.objects.filter(pk=draft.pk).update(live=True)
    cache.clear()
    school_a = network.school_a.site.hostname
    client.logout()
    listing = client.get("/api/v3/resources/", HTTP_HOST=school_a).json()["items"]
    assert [item["title"] for item in listing] == ["公开课件"]
    assert client.get(f"/api/v3/resources/{live.pk}/", HTTP_HOST=school_a).json()["title"] \
        == "公开课件"
    assert client.get(f"/api/v3/resources/{draft.pk}/", HTTP_HOST=school_a).status_code == 404
    column = public_get(client, network, url_of(network.column(network.school_a, "resources")))
    text = column.content.decode()
    assert "公开课件" in text and "篡改的标题" not in text and "未审草稿" not in text
