"""The audience is signed: view restrictions of live content change only through the workflow
(loosening) or as a registered takedown (restricting) — through the admin's privacy dialog,
through code, and as check-live sees them (issue 17, finding 3)."""

import pytest
from django.db import connection, transaction
from wagtail.models import PageViewRestriction

from review.exceptions import PublicationRefused
from review.pipeline.records import Approval
from review.register.models import RegisterEntry, SecurityEvent
from tests.conftest import make_article, publish, sign
from tests.review.support.tamper import run_command


def privacy(client, page, **data):
    return client.post(f"/admin/pages/{page.pk}/privacy/", data)


@pytest.fixture
def news(network):
    return network.column(network.school_a, "news")


@pytest.fixture
def protected(news):
    """A live article approved while password-protected."""
    article = make_article(news, "内部通知", live=False)
    PageViewRestriction.objects.create(page=article, restriction_type="password",
                                       password="jia-2026")
    return publish(article)


def latest_entry(page) -> RegisterEntry:
    return RegisterEntry.objects.filter(object_id=str(page.pk)).order_by("-seq").first()


def test_the_approval_signs_the_audience(protected, news):
    approval = Approval.objects.filter(object_id=str(protected.pk)).latest("created_at")
    assert approval.payload["audience"] == [{"type": "password"}]
    assert "jia-2026" not in str(approval.payload)
    public = make_article(news, "公开通知")
    assert Approval.objects.filter(object_id=str(public.pk)).get().payload["audience"] == []


def test_the_privacy_dialog_refuses_to_make_a_live_protected_page_public(
        client, network, protected):
    client.force_login(network.users["a_administrator"])
    response = privacy(client, protected, restriction_type="none")
    assert response.status_code == 200
    assert "放宽访问范围须经审批" in response.json()["html"]
    assert PageViewRestriction.objects.filter(page=protected).exists()
    protected.refresh_from_db()
    assert protected.live
    assert run_command("publication_log", "check-live")[0] == 0


def test_the_privacy_dialog_restricting_a_live_page_takes_it_down_registered(
        client, network, news):
    article = make_article(news, "公开通知")
    client.force_login(network.users["a_administrator"])
    response = privacy(client, article, restriction_type="password", password="new-secret")
    assert response.json()["step"] == "set_privacy_done"
    article.refresh_from_db()
    assert not article.live
    entry = latest_entry(article)
    assert entry.kind == RegisterEntry.Kind.TAKEDOWN
    assert entry.entry["approval"]["reason"].startswith("限制访问")
    assert entry.entry["approval"]["operator"] == "a_administrator"
    event = SecurityEvent.objects.filter(event="audience_changed").latest("pk")
    assert event.subject == f"page:{article.pk}" and event.entry["data"]["kind"] == "narrower"
    assert "new-secret" not in str(event.entry)
    # Approved again with the narrower audience, it goes live protected.
    assert publish(article).live
    assert latest_entry(article).entry["approval"]["audience"] == [{"type": "password"}]


def test_code_cannot_remove_or_loosen_the_restriction_of_live_content(protected, network):
    with pytest.raises(PublicationRefused), transaction.atomic():
        PageViewRestriction.objects.filter(page=protected).delete()
    restriction = PageViewRestriction.objects.get(page=protected)
    restriction.restriction_type = "login"
    with pytest.raises(PublicationRefused), transaction.atomic():
        restriction.save()
    assert PageViewRestriction.objects.get(page=protected).restriction_type == "password"


def test_a_column_restriction_takes_down_every_live_page_under_it(news):
    articles = [make_article(news, f"通知{i}") for i in range(2)]
    draft = make_article(news, "草稿", live=False)
    PageViewRestriction.objects.create(page=news, restriction_type="login")
    for page in (news, *articles):
        page.refresh_from_db()
        assert not page.live
        assert latest_entry(page).kind == RegisterEntry.Kind.TAKEDOWN
    assert latest_entry(draft) is None
    # And lifting it again is free while nothing under it is live.
    PageViewRestriction.objects.filter(page=news).delete()


def test_an_ancestors_restriction_is_guarded_for_the_live_pages_below(news):
    article = make_article(news, "内部", live=False)
    restriction = PageViewRestriction.objects.create(page=news, restriction_type="groups")
    restriction.groups.add(_a_group())
    publish(article)
    assert Approval.objects.filter(object_id=str(article.pk)).latest(
        "created_at").payload["audience"][0]["type"] == "groups"
    with pytest.raises(PublicationRefused), transaction.atomic():
        restriction.groups.add(_a_group(name="家长"))
    with pytest.raises(PublicationRefused), transaction.atomic():
        restriction.delete()


def _a_group(name="教师"):
    from django.contrib.auth.models import Group

    return Group.objects.get_or_create(name=name)[0]


def test_an_approval_for_another_audience_does_not_publish(news):
    article = make_article(news, "签名时受保护", live=False)
    restriction = PageViewRestriction.objects.create(page=article, restriction_type="password",
                                                     password="x-1")
    approval = sign(article)
    restriction.delete()  # not live: allowed, but the signed audience no longer holds
    with pytest.raises(PublicationRefused, match="访问范围"):
        approval.revision.publish(skip_permission_checks=True)


def test_check_live_reports_an_audience_changed_behind_the_cms_and_takes_it_down(protected):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM wagtailcore_pageviewrestriction WHERE page_id = %s",
                       [protected.pk])
    code, out = run_command("publication_log", "check-live")
    assert code != 0 and "访问范围与签名批准的不符" in out
    code, out = run_command("publication_log", "check-live", "--restore")
    assert "已撤下（访问范围与签名不符）" in out
    protected.refresh_from_db()
    assert not protected.live
    assert run_command("publication_log", "check-live")[0] == 0


def test_moving_live_content_under_another_restriction_is_refused(network, news):
    article = make_article(news, "要移动的文章")
    other = network.column(network.school_a, "notices")
    PageViewRestriction.objects.create(page=other, restriction_type="login")  # other: down
    with pytest.raises(PublicationRefused, match="访问范围"), transaction.atomic():
        article.move(other, pos="last-child")
    assert article.get_parent().pk == news.pk


def test_the_privacy_dialog_refuses_more_groups_on_live_content(client, network, news):
    teachers, parents = _a_group(), _a_group(name="家长")
    article = make_article(news, "教师通知", live=False)
    restriction = PageViewRestriction.objects.create(page=article, restriction_type="groups")
    restriction.groups.add(teachers)
    publish(article)
    client.force_login(network.users["a_administrator"])
    response = privacy(client, article, restriction_type="groups",
                       groups=[teachers.pk, parents.pk])
    assert "放宽访问范围须经审批" in response.json()["html"]
    assert list(restriction.groups.values_list("name", flat=True)) == ["教师"]
    response = privacy(client, article, restriction_type="login")
    assert "放宽访问范围须经审批" in response.json()["html"]  # login admits more than 教师
