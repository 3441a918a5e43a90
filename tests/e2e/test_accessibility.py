"""axe-core in Chromium on the main admin pages, as each role (issue 18): no critical or
serious violation of WCAG 2 A/AA."""

from django.urls import reverse

from tests.conftest import make_article
from tests.e2e.test_passkey_browser import log_in
from tests.shared import engine_independent

# Markup and layout do not depend on the database engine: checked once, in the SQLite suite
# (Chromium is most of the time these tests take).
pytestmark = engine_independent

WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
        "resultTypes": ["violations"]}
# The editor's pages are the administrator's too (the school's article is theirs to edit); the
# superuser's are the administrator's and the account administrator's together.
ROLES = ["a_administrator", "a_leader", "a_teacher", "county_accounts"]


def admin_pages(network, article) -> list[str]:
    home = network.school_a.home_page
    return [reverse("wagtailadmin_home"),
            reverse("wagtailadmin_explore", args=[home.pk]),
            reverse("wagtailadmin_pages:edit", args=[article.pk]),
            reverse("wagtailadmin_pages:add_subpage", args=[article.get_parent().pk]),
            reverse("wagtaildocs:index"),
            reverse("wagtailimages:index"),
            reverse("resources_mine"),
            reverse("review_register"),
            reverse("interaction_queue"),
            reverse("review_health_index"),
            reverse("wagtailusers_users:index")]


def serious_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=WCAG).response
    return [f"{violation['id']} ({violation['impact']}): "
            + "; ".join(node["target"][0] if isinstance(node["target"][0], str)
                        else str(node["target"]) for node in violation["nodes"][:3])
            for violation in results["violations"]
            if violation["impact"] in ("critical", "serious")]


def test_the_main_admin_pages_have_no_serious_accessibility_violations(
        chromium, live_server, client, network):
    # Every role in one test: one network build and one browser instead of one per role (a
    # live server's test builds its own network, four seconds each).
    context, page = chromium
    article = make_article(network.column(network.school_a, "news"), "开学典礼", live=False,
                           owner=network.users["a_editor"])
    found, checked = {}, 0
    for role in ROLES:
        log_in(context, client, network.users[role], live_server.url)
        for path in admin_pages(network, article):
            response = page.goto(live_server.url + path)
            if response is None or response.status >= 400 or "/admin/login/" in page.url:
                continue
            page.wait_for_load_state("networkidle")
            checked += 1
            violations = serious_violations(page)
            if violations:
                found[f"{role} {page.url.removeprefix(live_server.url)}"] = violations
    assert not found, found
    assert checked >= 3 * len(ROLES)  # each role reached most of its pages
