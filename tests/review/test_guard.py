"""No path takes content live without a valid signed approval of exactly that content.

Each test takes one path a person, a program or a script could use, and shows that it is
refused (nothing goes live, nothing is registered) — or, where the path is legitimate, that it
publishes only with the approval. The world is the lean one (tests/review/world.py): plain
pages on one site, editors and a leader."""

import datetime

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from wagtail.actions.move_page import MovePageAction
from wagtail.models import APIToken, Page, Site

from review.models import AppendOnlyError, Approval, RegisterEntry
from review.pipeline.guard import PublicationRefused
from tests.review.world import make_bulletin, publish, sign
from tests.testapp.models import BulletinPage


@pytest.fixture
def draft(world):
    return make_bulletin(world, "未经审批的通知", live=False, owner=world.users["author"],
                         slug="draft-notice")


@pytest.fixture
def live(world):
    return make_bulletin(world, "已发布的通知", owner=world.users["author"], slug="live-notice")


@pytest.fixture
def notices(world):
    """A second live section of the site, to move and copy into."""
    return make_bulletin(world, "通知栏", slug="notices")


@pytest.fixture
def other_site(world):
    """The home page of another site (a move there leaves what the leader signed for)."""
    home = Page.get_first_root_node().add_child(
        instance=BulletinPage(title="另一个网站", slug="elsewhere", live=False))
    Site.objects.create(hostname="elsewhere.test", port=80, root_page=home, site_name="另一个网站")
    return home


def registered() -> int:
    return RegisterEntry.objects.count()


def is_live(page) -> bool:
    return Page.objects.filter(pk=page.pk, live=True).exists()


def bearer(user) -> dict:
    _, token = APIToken.create_token(user=user, name="t")
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


# --- The admin ------------------------------------------------------------------------------

@pytest.mark.parametrize("user", ["reviewer", "root"])
def test_admin_publish_button(client, world, draft, user):
    before = registered()
    client.force_login(world.users[user])
    response = client.post(reverse("wagtailadmin_pages:edit", args=[draft.pk]),
                           {"title": draft.title, "slug": draft.slug,
                            "action-publish": "action-publish"}, follow=True)
    assert "发布被拒绝" in response.content.decode()
    assert not is_live(draft) and registered() == before


def test_admin_create_and_publish(client, world):
    client.force_login(world.users["reviewer"])
    news = world.home
    response = client.post(
        reverse("wagtailadmin_pages:add", args=["testapp", "bulletinpage", news.pk]),
        {"title": "直接发布的新文章", "slug": "direct", "action-publish": "action-publish"},
        follow=True)
    assert "发布被拒绝" in response.content.decode()
    assert not BulletinPage.objects.filter(slug="direct").exists()  # the request rolled back


def test_admin_bulk_publish(client, world, draft):
    client.force_login(world.users["reviewer"])
    url = reverse("wagtail_bulk_action", args=["wagtailcore", "page", "publish"])
    response = client.post(f"{url}?id={draft.pk}", {"include_descendants": ""}, follow=True)
    assert "发布被拒绝" in response.content.decode()
    assert not is_live(draft)


def test_publish_button_is_not_offered(client, world, draft):
    client.force_login(world.users["reviewer"])
    page = client.get(reverse("wagtailadmin_pages:edit", args=[draft.pk])).content.decode()
    assert 'name="action-publish"' not in page
    assert 'name="action-submit"' in page


def test_admin_move_of_a_live_page_into_another_site(client, world, live, other_site):
    client.force_login(world.users["root"])
    target = other_site
    response = client.post(reverse("wagtailadmin_pages:move_confirm", args=[live.pk, target.pk]),
                           follow=True)
    assert "发布被拒绝" in response.content.decode()
    assert Page.objects.get(pk=live.pk).get_parent().pk == world.home.pk


def test_move_within_the_site_keeps_the_approved_content_live(world, live, notices):
    MovePageAction(live, notices, pos="last-child",
                   user=None).execute(skip_permission_checks=True)
    assert is_live(live)


# --- Code and commands ----------------------------------------------------------------------

def test_revision_publish_from_code(draft):
    with pytest.raises(PublicationRefused):
        draft.get_latest_revision().publish()
    assert not is_live(draft)


def test_orm_edit_of_live_content(live):
    page = BulletinPage.objects.get(pk=live.pk)
    page.title = "被篡改的标题"
    with pytest.raises(PublicationRefused):
        page.save()
    assert BulletinPage.objects.get(pk=live.pk).title == "已发布的通知"


def test_orm_edit_through_the_base_page(live):
    page = Page.objects.get(pk=live.pk)
    page.title = "被篡改的标题"
    with pytest.raises(PublicationRefused):
        page.save()


def test_creating_a_live_page_directly(world):
    with pytest.raises(PublicationRefused):
        world.home.add_child(
            instance=BulletinPage(title="直接创建", slug="created-live"))
    assert not BulletinPage.objects.filter(slug="created-live").exists()


def test_an_edit_saved_after_approval_needs_a_new_approval(draft, world):
    sign(world, draft)  # the leader approves revision 1
    draft.title = "审批后又修改的标题"
    revision = draft.save_revision()
    with pytest.raises(PublicationRefused):
        revision.publish(skip_permission_checks=True)
    assert not is_live(draft)


def test_an_approval_publishes_once(live):
    live.unpublish()
    with pytest.raises(PublicationRefused):
        BulletinPage.objects.get(pk=live.pk).get_latest_revision().publish()


def test_tampered_approval_does_not_verify(draft, world):
    approval = sign(world, draft)
    Approval.objects.filter(pk=approval.pk).update(
        payload={**approval.payload, "approver": "someone_else"})
    with pytest.raises(PublicationRefused):
        approval.revision.publish(skip_permission_checks=True)


def test_approval_of_another_page_does_not_publish_this_one(world, draft):
    other = make_bulletin(world, "另一篇", live=False)
    approval = sign(world, other)
    Approval.objects.filter(pk=approval.pk).update(object_id=str(draft.pk))
    with pytest.raises(PublicationRefused):
        draft.get_latest_revision().publish()


def test_copy_with_keep_live(world, live, notices):
    with pytest.raises(PublicationRefused):
        live.copy(to=notices, keep_live=True,
                  update_attrs={"slug": "copied"})
    assert not BulletinPage.objects.filter(slug="copied").exists()


def test_create_alias(world, live, other_site):
    with pytest.raises(PublicationRefused):
        live.create_alias(parent=other_site,
                          update_slug="alias")


def test_scheduling_an_unapproved_revision(draft):
    revision = draft.get_latest_revision()
    revision.approved_go_live_at = timezone.now() - datetime.timedelta(minutes=1)
    with pytest.raises(PublicationRefused):
        revision.save(update_fields=["approved_go_live_at"])
    call_command("publish_scheduled")
    assert not is_live(draft)


def test_publish_scheduled_on_an_unapproved_revision_that_slipped_in(world, draft, capsys):
    from wagtail.models import Revision

    # Only a raw UPDATE gets past the schedule guard; publish_scheduled still cannot publish
    # it, and the approved revision due after it is published all the same.
    Revision.objects.filter(pk=draft.latest_revision_id).update(
        approved_go_live_at=timezone.now() - datetime.timedelta(minutes=2))
    approved = make_bulletin(world, "定时发布的通知", live=False)
    revision = sign(world, approved).revision
    revision.approved_go_live_at = timezone.now() - datetime.timedelta(minutes=1)
    revision.save(update_fields=["approved_go_live_at"])

    call_command("publish_scheduled")
    assert not is_live(draft)
    assert is_live(approved)
    assert "未发布《未经审批的通知》" in capsys.readouterr().err
    # Not retried every minute: the schedule is cancelled until a leader approves again.
    assert Revision.objects.get(pk=draft.latest_revision_id).approved_go_live_at is None


def test_a_revoked_credential_stops_its_scheduled_publications(world, draft):
    approval = sign(world, draft)
    approval.revision.approved_go_live_at = timezone.now() - datetime.timedelta(minutes=1)
    approval.revision.save(update_fields=["approved_go_live_at"])
    approval.credential.revoked_at = timezone.now()
    approval.credential.save(update_fields=["revoked_at"])
    call_command("publish_scheduled")
    assert not is_live(draft)


def test_publishing_with_a_future_go_live_time_is_not_a_way_around(draft):
    from wagtail.models import Revision

    page = BulletinPage.objects.get(pk=draft.pk)
    page.go_live_at = timezone.now() + datetime.timedelta(days=1)
    revision = page.save_revision()
    with pytest.raises(PublicationRefused):
        revision.publish(skip_permission_checks=True)
    assert not Revision.objects.filter(object_id=str(draft.pk),
                                       approved_go_live_at__isnull=False).exists()


def test_scheduled_publication_of_an_approved_revision(draft, world):
    approval = sign(world, draft)
    revision = approval.revision
    revision.approved_go_live_at = timezone.now() - datetime.timedelta(minutes=1)
    revision.save(update_fields=["approved_go_live_at"])
    call_command("publish_scheduled")
    assert is_live(draft)


@pytest.mark.parametrize("how", ["deactivated", "disabled"])
def test_without_a_workflow_publishing_is_still_refused(client, world, draft, how):
    if how == "deactivated":
        world.workflow.deactivate()
        context = override_settings()
    else:
        context = override_settings(WAGTAIL_WORKFLOW_ENABLED=False)
    with context:
        with pytest.raises(PublicationRefused):
            draft.get_latest_revision().publish()
        client.force_login(world.users["reviewer"])
        response = client.post(reverse("wagtailadmin_pages:edit", args=[draft.pk]),
                               {"title": draft.title, "slug": draft.slug,
                                "action-publish": "action-publish"}, follow=True)
        assert "发布被拒绝" in response.content.decode()
    assert not is_live(draft)


# --- API v3 -----------------------------------------------------------------------------------

def test_api_publish_action(client, world, draft):
    response = client.post(f"/api/v3/pages/{draft.pk}/actions/publish/", {},
                           content_type="application/json",
                           **bearer(world.users["reviewer"]))
    assert response.status_code == 403
    assert not is_live(draft)


def test_api_patch_with_publish_action(client, world, draft):
    response = client.patch(f"/api/v3/pages/{draft.pk}/",
                            {"title": "经API修改并发布", "meta": {"action": "publish"}},
                            content_type="application/json",
                            **bearer(world.users["reviewer"]))
    assert response.status_code == 403
    assert BulletinPage.objects.get(pk=draft.pk).title == "未经审批的通知"
    assert not is_live(draft)


def test_api_create_with_publish_action(client, world):
    news = world.home
    response = client.post("/api/v3/pages/", {
        "meta": {"type": "testapp.BulletinPage", "parent_id": news.pk, "action": "publish"},
        "title": "经API创建并发布", "slug": "api-created"},
        content_type="application/json", **bearer(world.users["reviewer"]))
    assert response.status_code == 403
    assert not BulletinPage.objects.filter(slug="api-created").exists()


def test_api_create_draft_is_allowed(client, world):
    news = world.home
    response = client.post("/api/v3/pages/", {
        "meta": {"type": "testapp.BulletinPage", "parent_id": news.pk},
        "title": "经API创建的草稿", "slug": "api-draft"},
        content_type="application/json", **bearer(world.users["reviewer"]))
    assert response.status_code == 201
    assert not BulletinPage.objects.get(slug="api-draft").live


def test_api_copy_keep_live(client, world, live, notices):
    response = client.post(f"/api/v3/pages/{live.pk}/actions/copy/",
                           {"destination_id": notices.pk,
                            "keep_live": True, "slug": "api-copy"},
                           content_type="application/json",
                           **bearer(world.users["reviewer"]))
    assert response.status_code == 403
    assert not BulletinPage.objects.filter(slug="api-copy").exists()


def test_api_create_alias(client, world, live, notices):
    response = client.post(f"/api/v3/pages/{live.pk}/actions/create_alias/",
                           {"destination_id": notices.pk,
                            "slug": "api-alias"},
                           content_type="application/json",
                           **bearer(world.users["reviewer"]))
    assert response.status_code == 403
    assert not Page.objects.filter(slug="api-alias").exists()


@override_settings(WAGTAIL_I18N_ENABLED=True,
                   WAGTAIL_CONTENT_LANGUAGES=[("zh-hans", "简体中文"), ("en", "English")])
def test_api_copy_for_translation_as_an_alias(client, world, live):
    from wagtail.models import Locale

    english = Locale.objects.create(language_code="en")
    response = client.post(f"/api/v3/pages/{live.pk}/actions/copy_for_translation/",
                           {"locale": "en", "copy_parents": True, "alias": True},
                           content_type="application/json",
                           **bearer(world.users["root"]))
    assert response.status_code == 403
    assert not Page.objects.filter(locale=english).exists()


def test_api_convert_alias_does_not_publish_a_fresh_revision(client, world, live, notices):
    # An alias that exists already (made before the guard, or imported): converting it would
    # make a new, unapproved revision its live one.
    other = make_bulletin(world, "另一篇已发布的通知", parent=notices)
    Page.objects.filter(pk=live.pk).update(alias_of=other)
    live_revision = Page.objects.get(pk=live.pk).live_revision_id
    response = client.post(f"/api/v3/pages/{live.pk}/actions/convert_alias/", {},
                           content_type="application/json",
                           **bearer(world.users["root"]))
    assert response.status_code == 403
    page = Page.objects.get(pk=live.pk)
    assert page.alias_of_id == other.pk and page.live_revision_id == live_revision


def test_api_move_into_another_site(client, world, live, other_site):
    response = client.post(f"/api/v3/pages/{live.pk}/actions/move/",
                           {"destination_id": other_site.pk},
                           content_type="application/json",
                           **bearer(world.users["root"]))
    assert response.status_code in (403, 404)
    assert Page.objects.get(pk=live.pk).get_parent().pk == world.home.pk


# --- The register itself --------------------------------------------------------------------

def test_register_entries_cannot_be_changed_or_removed(live):
    entry = RegisterEntry.objects.get(object_id=str(live.pk))
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        RegisterEntry.objects.filter(pk=entry.pk).update(published_by="x")
    with pytest.raises(AppendOnlyError):
        RegisterEntry.objects.all().delete()


def test_every_live_page_has_one_entry_chained_to_the_last(world, live):
    from review.canonical import GENESIS_HASH, entry_hash

    previous = GENESIS_HASH
    for entry in RegisterEntry.objects.order_by("seq"):
        assert entry.entry["prev_hash"] == previous
        assert entry_hash(entry.entry) == entry.entry_hash
        previous = entry.entry_hash
    for page in Page.objects.live().descendant_of(world.home, inclusive=True):
        assert RegisterEntry.objects.filter(object_id=str(page.pk),
                                            revision_id=page.live_revision_id).count() == 1


def test_publishing_with_the_approval_works_and_registers(draft, world):
    before = registered()
    publish(world, draft)
    assert is_live(draft) and registered() == before + 1


# --- Deleting ---------------------------------------------------------------------------------

def test_published_content_is_never_deleted(client, world, live):
    from django.db.models import ProtectedError

    with pytest.raises((PublicationRefused, ProtectedError)):
        Page.objects.get(pk=live.pk).delete()
    client.force_login(world.users["reviewer"])
    response = client.post(reverse("wagtailadmin_pages:delete", args=[live.pk]), follow=True)
    assert "不能删除" in response.content.decode()
    response = client.delete(f"/api/v3/pages/{live.pk}/",
                             **bearer(world.users["reviewer"]))
    assert response.status_code == 409 and "紧急撤稿" in response.json()["detail"]
    assert is_live(live)


def test_a_section_with_published_pages_is_not_deleted(client, world, notices):
    live = make_bulletin(world, "栏目里的通知", parent=notices)
    column = notices
    client.force_login(world.users["root"])
    response = client.post(reverse("wagtailadmin_pages:delete", args=[column.pk]), follow=True)
    assert "不能删除" in response.content.decode()
    assert is_live(live) and Page.objects.filter(pk=column.pk).exists()


def test_taken_down_content_is_kept_with_its_register_entries(client, world, live):
    from review.pipeline.actions import TakedownAction

    TakedownAction(BulletinPage.objects.get(pk=live.pk), user=world.users["reviewer"],
                   reason="过期").execute()
    client.force_login(world.users["reviewer"])
    client.post(reverse("wagtailadmin_pages:delete", args=[live.pk]))
    assert Page.objects.filter(pk=live.pk, live=False).exists()
    assert RegisterEntry.objects.filter(object_id=str(live.pk)).count() == 2


def test_drafts_that_never_went_live_can_be_deleted(client, world, draft):
    client.force_login(world.users["reviewer"])
    client.post(reverse("wagtailadmin_pages:delete", args=[draft.pk]))
    assert not Page.objects.filter(pk=draft.pk).exists()
