"""What reviewers compare (issue 18, finding 3): new content against nothing, so all of it
shows as added; edited content against the live version. Through the admin, on the lean
world (tests/review/world.py)."""

from django.urls import reverse

from cms.publishing import submit
from tests.review.world import make_bulletin


def compare(client, user, page, a="live", b="latest") -> str:
    client.force_login(user)
    url = reverse("wagtailadmin_pages:revisions_compare", args=[page.pk, a, b])
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_a_new_page_is_compared_with_nothing(client, world):
    author = world.users["author"]
    page = make_bulletin(world, "新学期开学安排", live=False, owner=author)
    page.body = "<p>九月一日开学，八点到校。</p>"
    page.save_revision(user=author)  # a second draft, as authors save before submitting
    submit(page, user=author)
    html = compare(client, world.users["reviewer"], page)
    # Everything is shown as added: the title and the body.
    assert '<span class="addition">新学期开学安排</span>' in html
    assert '<span class="addition">九月一日开学，八点到校。</span>' in html


def test_the_dashboard_offers_new_content_in_full(client, world, pending):
    client.force_login(world.users["reviewer"])
    html = client.get(reverse("wagtailadmin_home")).content.decode()
    link = reverse("wagtailadmin_pages:revisions_compare",
                   args=[pending.pk, "live", pending.get_latest_revision().pk])
    assert link in html and "查看全部内容（新内容，尚未发布）" in html
    assert "与上一个版本进行比较" not in html


def test_an_edited_page_is_compared_with_the_live_version(client, world):
    editor = world.users["author"]
    page = make_bulletin(world, "运动会通知", owner=editor).specific
    page.title = "运动会延期通知"
    page.save_revision(user=editor)
    submit(page, user=editor)
    html = compare(client, world.users["reviewer"], page)
    assert '<span class="deletion">运动会通知</span>' in html
    assert '<span class="addition">运动会延期通知</span>' in html
