"""Messages tell what each workflow step led to (issue 18, findings 2 and 4): a submission the
screening returned says so and e-mails its author the findings; the first review says it went
on to the leader; the signature says it was published and under which register number. On
the lean world (tests/review/world.py), through the admin's views."""

import json

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse

from review.models import LexiconEntry, RegisterEntry
from review.screening.findings import readable_location
from tests.conftest import act
from tests.review.test_approval_binding import draftail
from tests.review.world import PASSPHRASE, make_bulletin


@pytest.fixture
def lexicon(db):
    LexiconEntry.objects.create(word="百家乐", category="gambling", severity="block")


def shown(response) -> list[str]:
    """The messages the next page shows (what the request left in the message storage)."""
    assert response.status_code in (200, 302), response.status_code
    follow = response.client.get(reverse("wagtailadmin_home"))
    return [str(message) for message in get_messages(follow.wsgi_request)]


def submit_in_editor(client, user, page, body: str):
    client.force_login(user)
    user.email = f"{user.username}@school.test"
    user.save(update_fields=["email"])
    return client.post(reverse("wagtailadmin_pages:edit", args=[page.pk]), {
        "title": page.title, "slug": page.slug, "body": draftail(body), "action-submit": "1"})


def test_a_submission_the_screening_returned_says_so_and_mails_the_findings(
        client, world, lexicon, django_capture_on_commit_callbacks):
    author = world.users["author"]
    page = make_bulletin(world, "班级通知", live=False, owner=author)
    with django_capture_on_commit_callbacks(execute=True):
        response = submit_in_editor(client, author, page, "欢迎加入百家乐俱乐部")
    messages = shown(response)
    assert not any("提交进行审核" in text or "submitted" in text for text in messages), messages
    assert any("未通过自动内容检查" in text and "百家乐" in text for text in messages), messages
    returned = [m for m in mail.outbox if author.email in m.to]
    assert len(returned) == 1, [m.subject for m in mail.outbox]
    assert "未通过自动检查" in returned[0].subject
    assert "百家乐" in returned[0].body and "位置：" in returned[0].body


def test_a_clean_submission_says_where_it_went(client, world, lexicon):
    page = make_bulletin(world, "运动会通知", live=False, owner=world.users["author"])
    messages = shown(submit_in_editor(client, world.users["author"], page, "运动会延期"))
    assert any("已提交网站管理员初审" in text for text in messages), messages


def test_approvals_confirm_what_happened_next(client, world, pending):
    messages = shown(act(client, world.users["reviewer"], pending, "approve",
                         {"comment": "内容属实"}))
    assert any("已通过初审，已提交领导审批" in text for text in messages), messages
    messages = shown(act(client, world.users["leader"], pending, "approve",
                         {"comment": "", "passphrase": PASSPHRASE}))
    entry = RegisterEntry.objects.filter(object_id=str(pending.pk)).latest("seq")
    assert any(f"已签名发布，登记第 {entry.seq} 号" in text for text in messages), messages


def test_a_refused_signature_claims_nothing(client, world, pending):
    act(client, world.users["reviewer"], pending, "approve")
    messages = shown(act(client, world.users["leader"], pending, "approve",
                         {"passphrase": "wrong passphrase"}))
    assert not any("已签名发布" in text for text in messages), messages


def test_a_workflow_action_in_the_editor_is_not_just_an_update(client, world, pending):
    """The editor's workflow buttons say where the content is now, not "已被更新"."""
    client.force_login(world.users["reviewer"])
    response = client.post(reverse("wagtailadmin_pages:edit", args=[pending.pk]), {
        "title": pending.title, "slug": pending.slug, "body": draftail(pending.title),
        "action-workflow-action": "1", "workflow-action-name": "approve",
        "workflow-action-extra-data": json.dumps({"comment": ""})})
    messages = shown(response)
    assert not any("已被更新" in text or "has been updated" in text for text in messages)
    # (The reviewer's form changed the body: re-approval on edit sends it back to the start.)
    assert any(f"《{pending.title}》已通过" in text for text in messages), messages


def test_the_takedown_is_its_own_button_not_in_the_more_menu(client, world):
    page = make_bulletin(world, "停课通知", owner=world.users["author"])
    client.force_login(world.users["reviewer"])
    html = client.get(reverse("wagtailadmin_pages:edit", args=[page.pk])).content.decode()
    takedown = reverse("review_takedown", args=[page.pk])
    assert html.count(takedown) == 1
    button = html[html.rindex("<a", 0, html.index(takedown)):]
    assert "data-review-takedown" in button[:400]
    # Not inside the header's "…" dropdown (Wagtail's w-dropdown), where 删除 is.
    dropdown = html.find('data-controller="w-dropdown"')
    assert dropdown == -1 or html.index(takedown) < dropdown

def test_finding_locations_read_as_words():
    assert readable_location("body[0]", labels={"body": "正文"}) == "正文 第 1 块"
    assert readable_location("body[2].caption", labels={"body": "正文"}) == "正文 第 3 块 标题"
    assert readable_location("附件：通知.pdf（title）") == "附件：通知.pdf（标题）"


def test_a_page_created_and_submitted_says_the_screening_returned_it(client, world, lexicon):
    client.force_login(world.users["author"])
    url = reverse("wagtailadmin_pages:add", args=["testapp", "bulletinpage", world.home.pk])
    response = client.post(url, {"title": "新建通知", "slug": "new-notice",
                                 "body": draftail("欢迎加入百家乐俱乐部"), "action-submit": "1"})
    messages = shown(response)
    assert not any("提交审核" in text and "已创建" in text for text in messages), messages
    assert not any("created and submitted" in text for text in messages)
    assert any("《新建通知》未通过自动内容检查" in text for text in messages), messages
