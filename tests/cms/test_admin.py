"""The admin works in Chinese, and every role of every organisation can use it."""

import pytest
from django.urls import reverse


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
