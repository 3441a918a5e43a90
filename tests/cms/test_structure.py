"""Creating, removing and moving a column go through the workflow (regulation Art. 5–6)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from wagtail.models import Page

from cms.columns import ColumnKind, StructuralChange
from cms.models import ColumnPage
from review.context import Refused
from review.models import RegisterEntry
from review.pipeline.takedown import unacknowledged_for
from tests.conftest import make_article, publish_via_workflow


def add_column(parent, title, slug, *, live=True, owner=None):
    column = ColumnPage(title=title, slug=slug, kind=ColumnKind.NEWS, live=False, owner=owner)
    parent.add_child(instance=column)
    column.save_revision(user=owner)
    if live:
        publish_via_workflow(column, submitter=owner)
    return ColumnPage.objects.get(pk=column.pk)


def request_change(column, change, *, move_to=None, user):
    column.structural_change = change
    column.move_to = move_to
    column.full_clean()
    column.save_revision(user=user)
    return publish_via_workflow(column, submitter=user)


def test_a_new_column_goes_live_only_through_the_workflow(network):
    admin = network.users["a_administrator"]
    column = add_column(network.school_a.home_page, "心理健康", "xinli", live=False, owner=admin)
    assert not column.live
    publish_via_workflow(column, submitter=admin)
    assert Page.objects.get(pk=column.pk).live
    assert RegisterEntry.objects.filter(object_id=str(column.pk), kind="publication").exists()


def test_an_approved_removal_takes_the_column_and_its_pages_down(network, mailoutbox,
                                                                 django_capture_on_commit_callbacks):
    admin = network.users["a_administrator"]
    column = add_column(network.school_a.home_page, "旧栏目", "old", owner=admin)
    article = make_article(column, "旧栏目里的文章", owner=network.users["a_editor"])
    with django_capture_on_commit_callbacks(execute=True):
        request_change(column, StructuralChange.REMOVE, user=admin)

    assert not Page.objects.get(pk=column.pk).live
    assert not Page.objects.get(pk=article.pk).live
    publication = RegisterEntry.objects.filter(object_id=str(column.pk),
                                               kind="publication").latest("seq")
    takedowns = RegisterEntry.objects.filter(kind="takedown", seq__gt=publication.seq)
    assert {e.object_id for e in takedowns} == {str(column.pk), str(article.pk)}
    for entry in takedowns:
        record = entry.entry["approval"]
        assert record["authorised_by_seq"] == publication.seq
        assert f"第 {publication.seq} 条" in record["reason"]
    # Signed by a leader beforehand: no emergency-takedown alarm, nothing to acknowledge.
    assert not any("紧急撤稿" in mail.subject for mail in mailoutbox)
    assert unacknowledged_for(network.users["a_leader"]) == []


def test_an_approved_move_moves_the_column(network):
    admin = network.users["a_administrator"]
    news = network.column(network.school_a, "news")
    sub = add_column(news, "班级风采", "banji", owner=admin)
    request_change(sub, StructuralChange.MOVE, move_to=network.school_a.home_page, user=admin)
    moved = Page.objects.get(pk=sub.pk)
    assert moved.get_parent().pk == network.school_a.home_page.pk
    assert moved.live and moved.url_path.endswith("/banji/")


def test_a_live_column_cannot_be_moved_directly(client, network):
    admin = network.users["a_administrator"]
    news = network.column(network.school_a, "news")
    sub = add_column(news, "班级风采", "banji", owner=admin)
    notices = network.column(network.school_a, "notices")

    client.force_login(network.users["superuser"])
    response = client.post(reverse("wagtailadmin_pages:move_confirm", args=[sub.pk, notices.pk]),
                           follow=True)
    assert "已公开的栏目不能直接移动" in response.content.decode()
    with pytest.raises(Refused):
        Page.objects.get(pk=sub.pk).specific.move(notices, pos="last-child")
    assert Page.objects.get(pk=sub.pk).get_parent().pk == news.pk


def test_draft_columns_move_freely(network):
    news = network.column(network.school_a, "news")
    draft = add_column(news, "筹备中的栏目", "draft", live=False)
    draft.move(network.column(network.school_a, "notices"), pos="last-child")
    assert Page.objects.get(pk=draft.pk).get_parent().pk == network.column(
        network.school_a, "notices").pk


@pytest.mark.parametrize("target", ["other_school", "itself", "article", "none"])
def test_a_move_request_is_checked(network, target):
    column = network.column(network.school_a, "news")
    column.structural_change = StructuralChange.MOVE
    column.move_to = {
        "other_school": network.school_b.home_page,
        "itself": column,
        "article": make_article(column, "一篇文章"),
        "none": None,
    }[target]
    with pytest.raises(ValidationError) as error:
        column.full_clean()
    assert "move_to" in error.value.message_dict
