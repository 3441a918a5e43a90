"""School A's staff can neither see nor act on school B's drafts, documents or users,
in the admin and in API v3 (DESIGN invariant 5)."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from wagtail.models import APIToken, Page

from cms.models import ArticlePage
from cms.publishing import submit
from review.models import RegisterEntry
from tests.conftest import act, make_article, make_document, make_user, task_state

User = get_user_model()


@pytest.fixture
def drafts(network):
    a_news = network.column(network.school_a, "news")
    b_news = network.column(network.school_b, "news")
    a_admin, b_admin = network.users["a_administrator"], network.users["b_administrator"]
    return {
        "a": make_article(a_news, "甲校草稿通知", live=False, owner=a_admin),
        "b": make_article(b_news, "乙校草稿通知", live=False, owner=b_admin),
        "b_doc": make_document(network.school_b, "乙校学生资助名单", filename="zizhu.pdf"),
        "a_doc": make_document(network.school_a, "甲校课表", filename="kebiao.pdf"),
    }


def login(client, user):
    client.force_login(user)
    return client


def bearer(user) -> dict[str, str]:
    _, token = APIToken.create_token(user=user, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.mark.parametrize("role", ["administrator", "leader", "teacher"])
def test_admin_pages_of_another_school_are_out_of_reach(client, network, drafts, role):
    login(client, network.users[f"a_{role}"])
    b_draft = drafts["b"]
    for url in (reverse("wagtailadmin_pages:edit", args=[b_draft.pk]),
                reverse("wagtailadmin_explore", args=[network.school_b.home_page.pk]),
                reverse("wagtailadmin_pages:revisions_index", args=[b_draft.pk])):
        response = client.get(url)
        assert response.status_code in (302, 403, 404), url
        assert "乙校草稿通知" not in response.content.decode()
    search = client.get(reverse("wagtailadmin_pages:search"), {"q": "乙校草稿通知"})
    assert reverse("wagtailadmin_pages:edit", args=[b_draft.pk]) not in search.content.decode()


def test_admin_sees_and_edits_own_schools_draft(client, network, drafts):
    login(client, network.users["a_administrator"])
    response = client.get(reverse("wagtailadmin_pages:edit", args=[drafts["a"].pk]))
    assert response.status_code == 200
    assert "甲校草稿通知" in response.content.decode()
    search = client.get(reverse("wagtailadmin_pages:search"), {"q": "甲校草稿通知"})
    assert reverse("wagtailadmin_pages:edit", args=[drafts["a"].pk]) in search.content.decode()


def test_cannot_act_on_another_schools_page(client, network, drafts):
    login(client, network.users["a_administrator"])
    b_draft = drafts["b"]
    client.post(reverse("wagtailadmin_pages:delete", args=[b_draft.pk]))
    client.post(reverse("wagtailadmin_pages:edit", args=[b_draft.pk]),
                {"title": "被篡改", "slug": b_draft.slug})
    b_draft.refresh_from_db()
    assert b_draft.title == "乙校草稿通知"
    assert ArticlePage.objects.filter(pk=b_draft.pk).exists()


def test_other_schools_people_cannot_act_in_the_pipeline(client, network, submitted):
    act(client, network.users["b_administrator"], submitted, "approve")
    assert task_state(submitted).task.specific_class.__name__ == "FirstReviewTask"


def test_another_schools_leader_cannot_prepare_an_approval(client, network, submitted):
    act(client, network.users["a_administrator"], submitted, "approve")
    client.force_login(network.users["b_leader"])
    response = client.post(reverse("review_prepare_approval", args=[task_state(submitted).pk]))
    assert response.status_code == 403


def test_other_schools_cannot_take_down_or_acknowledge(client, network):
    article = make_article(network.column(network.school_a, "news"), "甲校新闻")
    client.force_login(network.users["b_administrator"])
    response = client.post(reverse("review_takedown", args=[article.pk]), {"reason": "恶意撤稿"})
    assert response.status_code in (302, 403)
    assert Page.objects.get(pk=article.pk).live
    article.unpublish()
    entry = RegisterEntry.objects.filter(object_id=str(article.pk)).latest("seq")
    client.force_login(network.users["b_leader"])
    client.post(reverse("review_acknowledge_takedown", args=[entry.pk]))
    assert not hasattr(RegisterEntry.objects.get(pk=entry.pk), "acknowledgement") or \
        RegisterEntry.objects.get(pk=entry.pk).acknowledgement is None


def test_another_schools_leader_does_not_see_what_changed(client, network):
    editor = network.users["a_editor"]
    article = make_article(network.column(network.school_a, "news"), "运动会通知",
                           owner=editor)
    article.title = "运动会延期通知"
    article.save_revision(user=editor)
    submit(article, user=editor)
    client.force_login(network.users["b_leader"])
    response = client.get(reverse("wagtailadmin_pages:revisions_compare",
                                  args=[article.pk, "live", "latest"]))
    assert "运动会延期通知" not in response.content.decode()


def test_documents_of_another_school_are_out_of_reach(client, network, drafts):
    login(client, network.users["a_administrator"])
    listing = client.get(reverse("wagtaildocs:index")).content.decode()
    assert "甲校课表" in listing
    assert "乙校学生资助名单" not in listing
    response = client.get(reverse("wagtaildocs:edit", args=[drafts["b_doc"].pk]))
    assert response.status_code in (302, 403)
    served = client.get(drafts["b_doc"].url)
    assert served.status_code != 200


def test_wagtail_document_urls_are_closed_to_the_public(client, drafts):
    response = client.get(drafts["a_doc"].url)
    assert response.status_code == 302 and "login" in response["Location"]


def test_users_of_another_school_are_out_of_reach(client, network):
    admin_a = network.users["a_administrator"]
    login(client, admin_a)
    listing = client.get(reverse("wagtailusers_users:index")).content.decode()
    assert "a_teacher" in listing
    assert "b_teacher" not in listing and "county_leader" not in listing
    for name in ("edit", "history"):
        url = reverse(f"wagtailusers_users:{name}", args=[network.users["b_teacher"].pk])
        assert client.get(url).status_code == 404
    assert client.post(
        reverse("wagtailusers_users:edit", args=[network.users["b_teacher"].pk]),
        {"username": "hijacked", "groups": [network.school_a.groups["administrator"].pk]},
    ).status_code == 404
    assert User.objects.filter(username="b_teacher").exists()


def test_administrator_grants_only_own_schools_roles_and_never_superuser(client, network):
    login(client, network.users["a_administrator"])
    form = {
        "username": "new_teacher", "email": "t@example.cn", "first_name": "新", "last_name": "师",
        "password1": "a-long-password-2026", "password2": "a-long-password-2026",
        "is_superuser": "on",
    }
    # Another school's group is not a valid choice.
    response = client.post(reverse("wagtailusers_users:add"),
                           {**form, "groups": [network.school_b.groups["administrator"].pk]})
    assert response.status_code == 200
    assert not User.objects.filter(username="new_teacher").exists()
    # Own school's group works; the superuser box is ignored.
    client.post(reverse("wagtailusers_users:add"),
                {**form, "groups": [network.school_a.groups["teacher"].pk]})
    created = User.objects.get(username="new_teacher")
    assert not created.is_superuser
    assert list(created.groups.all()) == [network.school_a.groups["teacher"]]


def test_editing_keeps_roles_the_editor_cannot_grant(client, network):
    # A maintainer corrects a leader's e-mail: the leader's role, which only the account
    # administrators grant, is neither offered nor lost.
    leader = network.users["b_leader"]
    login(client, network.users["superuser"])
    response = client.post(reverse("wagtailusers_users:edit", args=[leader.pk]), {
        "username": "b_leader", "email": "leader@example.cn",
        "first_name": "乙", "last_name": "领导", "is_active": "on",
    })
    assert response.status_code == 302
    assert list(leader.groups.all()) == [network.school_b.groups["leader"]]
    assert User.objects.get(pk=leader.pk).email == "leader@example.cn"


def test_a_teacher_of_two_schools_is_the_account_administrators(client, network):
    both = make_user("shared_teacher", network.school_a.groups["teacher"],
                     network.school_b.groups["teacher"])
    login(client, network.users["a_administrator"])
    assert client.get(reverse("wagtailusers_users:edit", args=[both.pk])).status_code == 404


def test_bulk_assign_role_cannot_reach_other_schools(client, network):
    admin_a = network.users["a_administrator"]
    login(client, admin_a)
    url = reverse("wagtail_bulk_action", args=["auth", "user", "assign_role"])
    # Promote oneself into school B's administrators: refused (the admin turns the
    # PermissionDenied into a redirect with a message).
    response = client.post(f"{url}?id={admin_a.pk}",
                           {"role": network.school_b.groups["administrator"].pk})
    assert response.status_code in (302, 403)
    assert not admin_a.groups.filter(pk=network.school_b.groups["administrator"].pk).exists()
    # Pull school B's teacher into school A: refused.
    client.post(f"{url}?id={network.users['b_teacher'].pk}",
                {"role": network.school_a.groups["teacher"].pk})
    assert not network.users["b_teacher"].groups.filter(
        pk=network.school_a.groups["teacher"].pk).exists()
    # Within one's own school, only the teacher role: a leader is the account administrators'.
    client.post(f"{url}?id={network.users['a_teacher'].pk}",
                {"role": network.school_a.groups["leader"].pk})
    assert not network.users["a_teacher"].groups.filter(
        pk=network.school_a.groups["leader"].pk).exists()
    login(client, network.users["county_accounts"])
    client.post(f"{url}?id={network.users['a_teacher'].pk}",
                {"role": network.school_a.groups["leader"].pk})
    assert network.users["a_teacher"].groups.filter(
        pk=network.school_a.groups["leader"].pk).exists()


def test_api_token_reads_only_own_schools_drafts(client, network, drafts):
    headers = bearer(network.users["a_administrator"])
    own = client.get(f"/api/v3/pages/{drafts['a'].pk}/?version=draft", **headers)
    assert own.status_code == 200 and own.json()["title"] == "甲校草稿通知"
    other = client.get(f"/api/v3/pages/{drafts['b'].pk}/?version=draft", **headers)
    assert other.status_code == 404
    listing = client.get("/api/v3/pages/?limit=100", **headers).json()
    ids = {item["id"] for item in listing["items"]}
    assert drafts["a"].pk in ids and drafts["b"].pk not in ids
    assert network.school_b.home_page.pk not in ids


def test_api_token_cannot_change_another_schools_page(client, network, drafts):
    headers = bearer(network.users["a_administrator"])
    response = client.patch(f"/api/v3/pages/{drafts['b'].pk}/", {"title": "被篡改"},
                            content_type="application/json", **headers)
    assert response.status_code in (403, 404)
    drafts["b"].refresh_from_db()
    assert drafts["b"].title == "乙校草稿通知"


def test_api_documents_are_confined_to_own_school(client, network, drafts):
    own = client.get("/api/v3/documents/", **bearer(network.users["a_teacher"])).json()
    titles = {item["title"] for item in own["items"]}
    assert "甲校课表" in titles and "乙校学生资助名单" not in titles
    anonymous = client.get("/api/v3/documents/").json()
    assert anonymous["count"] == 0
    assert client.get(f"/api/v3/documents/{drafts['b_doc'].pk}/").status_code == 404


def test_api_anonymous_never_sees_drafts(client, network, drafts):
    assert client.get(f"/api/v3/pages/{drafts['a'].pk}/", HTTP_HOST="jia.test").status_code == 404
    assert client.get(f"/api/v3/pages/{drafts['a'].pk}/?version=draft",
                      HTTP_HOST="jia.test").status_code == 404
    listing = client.get("/api/v3/pages/?limit=100", HTTP_HOST="jia.test").json()
    assert drafts["a"].pk not in {item["id"] for item in listing["items"]}
