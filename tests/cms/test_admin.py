"""The admin works in Chinese, and every role of every organisation can use it."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from wagtail.models import Page, Revision, WorkflowState

from cms.models import ArticlePage
from cms.stray_drafts import next_free_slug
from tests.conftest import make_article


def test_admin_login_is_in_chinese(client, db):
    page = client.get(reverse("wagtailadmin_login")).content.decode()
    assert 'lang="zh-hans"' in page and "登录" in page


@pytest.mark.parametrize("user", ["a_administrator", "a_leader", "a_teacher", "county_leader"])
def test_every_role_reaches_the_dashboard(client, network, user):
    client.force_login(network.users[user])
    response = client.get(reverse("wagtailadmin_home"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "控制面板" in page and "<title>控制面板 - 教育网站群</title>" in page


def test_teacher_may_add_articles_only_in_teaching_columns(client, network):
    client.force_login(network.users["a_teacher"])
    teaching = network.column(network.school_a, "teaching")
    news = network.column(network.school_a, "news")
    add = "wagtailadmin_pages:add"
    assert client.get(reverse(add, args=["cms", "articlepage", teaching.pk])).status_code == 200
    assert client.get(reverse(add, args=["cms", "articlepage", news.pk])).status_code in (302, 403)


def test_administrator_creates_a_draft_article_in_the_admin(client, network):
    client.force_login(network.users["a_administrator"])
    news = network.column(network.school_a, "news")
    url = reverse("wagtailadmin_pages:add", args=["cms", "articlepage", news.pk])
    response = client.post(url, {
        "title": "后台新建的文章", "slug": "admin-article", "date": "2026-11-20",
        "source": "校办", "author": "", "body-count": "0",
        "attachments-TOTAL_FORMS": "0", "attachments-INITIAL_FORMS": "0",
        "attachments-MIN_NUM_FORMS": "0", "attachments-MAX_NUM_FORMS": "1000",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    from cms.models import ArticlePage

    article = ArticlePage.objects.get(slug="admin-article")
    assert not article.live and article.get_parent().pk == news.pk


# --- Stray drafts autosave leaves (issue 18, finding 8) -------------------------------------

TITLE = "开学典礼安排"


def article_form(**extra) -> dict:
    return {"title": TITLE, "slug": TITLE, "date": "2026-11-20",
            "source": "校办", "author": "", "body-count": "0",
            "attachments-TOTAL_FORMS": "0", "attachments-INITIAL_FORMS": "0",
            "attachments-MIN_NUM_FORMS": "0", "attachments-MAX_NUM_FORMS": "1000", **extra}


def add_url(column) -> str:
    return reverse("wagtailadmin_pages:add", args=["cms", "articlepage", column.pk])


def autosave(client, column, **extra):
    """What the create view's autosave sends: a background save that wants JSON."""
    return client.post(add_url(column), article_form(**extra), HTTP_ACCEPT="application/json")



def test_the_next_free_slug_is_readable():
    assert next_free_slug(slug="开学典礼", taken=frozenset()) == "开学典礼-2"
    assert next_free_slug(slug="开学典礼", taken=frozenset({"开学典礼-2"})) == "开学典礼-3"
    assert next_free_slug(slug="开学典礼-2", taken=frozenset({"开学典礼-3"})) == "开学典礼-4"
    assert len(next_free_slug(slug="x" * 255, taken=frozenset(), max_length=255)) == 255


def test_starting_again_after_an_abandoned_autosave_works(client, network):
    """The author typed, autosave created a draft, the author left; the same title again is
    saved under the next free address, told so, and the old draft stays as it was."""
    client.force_login(network.users["a_editor"])
    news = network.column(network.school_a, "news")
    response = autosave(client, news)
    assert response.status_code == 200 and response.json()["success"], response.content[:500]
    stray = Page.objects.get(pk=response.json()["pk"])
    assert stray.slug == TITLE

    # Starting again: autosave of the new editor, then 保存草稿.
    response = autosave(client, news)
    assert response.json()["success"], response.content[:500]
    retry = Page.objects.get(pk=response.json()["pk"])
    assert retry.slug == f"{TITLE}-2"
    assert ["slug", f"{TITLE}-2"] in response.json()["field_updates"].items() or \
        response.json()["field_updates"].get("slug") == f"{TITLE}-2"
    # The open editor's next autosave goes to the edit view, still with the old slug.
    edit = reverse("wagtailadmin_pages:edit", args=[retry.pk])
    response = client.post(edit, article_form(), HTTP_ACCEPT="application/json")
    assert response.json()["success"], response.content[:500]
    assert Page.objects.get(pk=retry.pk).slug == f"{TITLE}-2"

    # A third start, saved as a draft with the button: the author is told.
    response = client.post(add_url(news), article_form())
    assert response.status_code == 302, response.content.decode()[:3000]
    third = ArticlePage.objects.exclude(pk__in=[stray.pk, retry.pk]).get(title=TITLE)
    assert third.slug == f"{TITLE}-3"
    shown = [str(message) for message in get_messages(response.wsgi_request)]
    assert any("本页的地址改为" in message and f"{TITLE}-3" in message for message in shown)

    # Nothing of the older drafts was changed or deleted.
    stray.refresh_from_db()
    assert stray.slug == TITLE and not stray.live
    assert Revision.page_revisions.filter(object_id=str(stray.pk)).count() == 1


@pytest.mark.parametrize("held_by", ["published", "submitted"])
def test_an_address_held_by_content_that_entered_the_workflow_still_refuses(
        client, network, held_by):
    """A page that was published or submitted keeps its claim on its address: the editor
    must choose another one (it is or was public, and the register records it)."""
    news = network.column(network.school_a, "news")
    holder = make_article(news, "已有的文章", live=held_by == "published", slug="held-address",
                          owner=network.users["a_editor"])
    if held_by == "submitted":
        holder.get_workflow().start(holder, network.users["a_editor"])
        assert WorkflowState.objects.filter(object_id=str(holder.pk)).exists()
    client.force_login(network.users["a_editor"])
    before = Page.objects.count()
    response = client.post(add_url(news), article_form(slug="held-address"))
    assert response.status_code == 200
    assert response.context["form"].errors.get("slug") == [
        "网址别名“held-address”已被同一上级页面下的其他页面使用。"], \
        response.context["form"].errors
    assert Page.objects.count() == before
    response = autosave(client, news, slug="held-address")
    assert response.json()["success"] is False
    assert Page.objects.count() == before
