"""The pipeline is generic: a snippet with drafts, revisions and a workflow (tests/testapp)
goes live only through its site's workflow and the leader's signature, like a page."""

import pytest
from django.urls import reverse

from cms.publishing import publish_through_pipeline, submit
from review.models import RegisterEntry
from review.pipeline.guard import PublicationRefused
from tests.review.world import PASSPHRASE
from tests.testapp.models import Notice


@pytest.fixture
def notice(world):
    notice = Notice.objects.create(home=world.home, title="校园开放日安排",
                                   text="本周六上午九点开放。", live=False)
    notice.save_revision(user=world.users["author"])
    return notice


def is_live(notice) -> bool:
    return Notice.objects.get(pk=notice.pk).live


def entries(notice):
    return RegisterEntry.objects.filter(content_type__app_label="testapp",
                                        object_id=str(notice.pk)).order_by("seq")


def test_a_snippet_cannot_be_published_directly(notice):
    with pytest.raises(PublicationRefused):
        notice.get_latest_revision().publish(skip_permission_checks=True)
    assert not is_live(notice)
    assert not entries(notice).exists()


def test_the_snippet_takes_its_sites_workflow(world, notice):
    state = submit(notice, user=world.users["author"])
    assert state.workflow == world.workflow


def test_a_snippet_goes_live_through_the_pipeline_and_is_registered(world, notice):
    users = world.users
    publish_through_pipeline(notice, submitter=users["author"], reviewer=users["reviewer"],
                             leader=users["leader"], passphrase=PASSPHRASE)
    assert is_live(notice)
    entry = entries(notice).get().entry
    approval = entry["approval"]
    assert approval["model"] == "testapp.notice" and approval["page_id"] is None
    assert approval["site"] == world.site.hostname
    assert (approval["operator"], approval["first_reviewer"], approval["approver"]) == (
        "author", "reviewer", "leader")


def test_the_snippet_admin_publish_action_is_refused(client, world, notice):
    client.force_login(world.users["root"])
    url = reverse("wagtailsnippets_testapp_notice:edit", args=[notice.pk])
    assert 'name="action-publish"' not in client.get(url).content.decode()
    response = client.post(url, {"home": world.home.pk, "title": "改过的标题",
                                 "text": "", "action-publish": "action-publish"}, follow=True)
    assert "发布被拒绝" in response.content.decode()
    assert not is_live(notice)


def test_taking_a_snippet_down_is_registered(world, notice):
    users = world.users
    publish_through_pipeline(notice, submitter=users["author"], reviewer=users["reviewer"],
                             leader=users["leader"], passphrase=PASSPHRASE)
    Notice.objects.get(pk=notice.pk).unpublish()
    assert not is_live(notice)
    kinds = list(entries(notice).values_list("kind", flat=True))
    assert kinds == ["publication", "takedown"]
