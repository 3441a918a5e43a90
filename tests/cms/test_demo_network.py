"""manage.py demo: the demo network (built once for this module, through --articles on an
empty database, which builds the network first) — everything a demo user relies on, its
refusal on a non-empty database, bulk articles, the teachers' resources, and its pages under
production's security headers (with the rest of those in test_security_headers.py: the demo is
built once, here)."""

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.http import HttpRequest
from django.test import override_settings
from wagtail.models import Page, Site

from cms.columns import ColumnKind
from cms.demo.content import ACCOUNTS, DEMO_PASSWORD
from cms.models import ArticleAttachment, ArticlePage, ColumnPage, PortalPage, SchoolHomePage
from cms.resources.models import Resource
from cms.security_headers import public_content_security_policy
from review.models import RegisterEntry
from tests.cms.test_security_headers import (
    HSTS,
    HTTPS,
    PRODUCTION,
    admin_headers_are_the_admins,
    directives,
    get,
    inline_code,
    public_urls,
)

User = get_user_model()


def test_the_demo_network(demo, client, capsys):
    assert SchoolHomePage.objects.count() == 2
    assert ArticlePage.objects.count() == 24 + 1 + 30  # one of them scheduled

    # A portal, two schools, their people, all able to sign in, straight into the admin (no
    # forced password change for accounts made by the demo command).
    assert PortalPage.objects.count() == 1 and SchoolHomePage.objects.count() == 2
    assert Site.objects.count() == 3
    assert Site.objects.get(is_default_site=True).root_page.specific_class is PortalPage
    for username, _name, _org, _role in ACCOUNTS:
        assert username in demo
        # Axes judges every login by its request (address, lockout): the test client's
        # login() has none of its own to give.
        assert client.login(request=HttpRequest(), username=username,
                            password=DEMO_PASSWORD), username
        assert client.get("/admin/").status_code == 200, username
    client.logout()
    for school in SchoolHomePage.objects.all():
        roles = {role: User.objects.filter(groups__organisation_role__home_page=school,
                                           groups__organisation_role__role=role).count()
                 for role in ("administrator", "leader", "teacher")}
        assert roles["administrator"] >= 1 and roles["leader"] >= 1 and roles["teacher"] >= 3
    assert User.objects.filter(groups__organisation_role__home_page__in=PortalPage.objects.all(),
                               groups__organisation_role__role="leader").exists()

    # Each school: ten live articles or more, over several columns.
    for school in SchoolHomePage.objects.all():
        live = ArticlePage.objects.live().descendant_of(school)
        assert live.count() >= 10
        assert len({article.get_parent().pk for article in live}) >= 4
        assert all(article.live_revision_id for article in live)

    # Articles' attachments are real PDF and Word files (the screener reads them).
    kinds = set()
    for attachment in ArticleAttachment.objects.select_related("document"):
        with attachment.document.file.open("rb") as handle:
            head = handle.read(4)
        kinds.add({b"%PDF": "pdf", b"PK\x03\x04": "docx"}[head])
    assert kinds == {"pdf", "docx"}

    # The sites are browsable.
    assert "城关县第一中学" in client.get("/", HTTP_HOST="localhost:8000").content.decode()
    school = client.get("/", HTTP_HOST="yizhong.localhost:8000").content.decode()
    assert "我校举行2026级新生开学典礼" in school

    # A second run refuses, and changes nothing; --if-empty skips quietly.
    pages = Page.objects.count()
    with pytest.raises(CommandError, match="已有内容"):
        call_command("demo")
    assert Page.objects.count() == pages
    call_command("demo", "--if-empty")
    assert "跳过" in capsys.readouterr().out

    # --articles adds N live articles in bulk, and the tree stays sound.
    before = ArticlePage.objects.count()
    call_command("demo", "--articles", "500")
    added = ArticlePage.objects.order_by("-pk")[:500]
    assert ArticlePage.objects.count() == before + 500
    assert all(a.live and a.live_revision_id for a in added)
    assert Page.find_problems() == ([], [], [], [], [])
    article = added[0]
    site = article.get_site()
    response = client.get(article.url, HTTP_HOST=f"{site.hostname}:{site.port}")
    assert response.status_code == 200 and article.title in response.content.decode()
    # The column listing (a tree query) sees them too: 500 spread over the listing columns.
    column = article.get_parent().specific
    listing_columns = ColumnPage.objects.exclude(kind__in=[ColumnKind.LINK, ColumnKind.STATIC])
    assert column.articles().count() >= 500 // listing_columns.count()


def test_demo_teachers_some_complete_some_not(demo):
    out = io.StringIO()
    call_command("semester_report", "--school", "yizhong", "--format", "json", stdout=out)
    rows = {row["teacher"]: row for row in json.loads(out.getvalue())}
    assert rows["yizhong_teacher1"]["complete"] is True
    assert rows["yizhong_teacher1"]["total"] == 50
    assert rows["yizhong_teacher2"]["complete"] is False
    assert rows["yizhong_teacher2"]["counts"]["论文"] == 1
    assert rows["yizhong_teacher3"]["total"] == 4
    # The public courseware went live through the leader's signature, and is registered.
    public = Resource.objects.get(school__slug="yizhong", live=True)
    assert RegisterEntry.objects.filter(content_type__app_label="resources",
                                        object_id=str(public.pk)).exists()
    # Unapproved ones are still with the web administrator.
    assert Resource.objects.filter(school__slug="yizhong", approved_at=None).count() == 3


def test_the_demos_scheduled_notice_goes_live_on_time_through_the_schedule(demo):
    """Signed with a go-live time a few minutes after the build: not live before, published
    by the schedule's every-minute job once it is due."""
    import datetime
    from unittest import mock

    from cms.jobs import scheduler
    from cms.jobs.models import JobRun
    from cms.jobs.schedule import all_jobs

    notice = ArticlePage.objects.get(slug="scheduled-notice")
    assert not notice.live and "定时发布示例" in notice.title
    due = notice.latest_revision.approved_go_live_at
    assert due is not None and "自动上线" in demo
    every_minute = [all_jobs()["publish_scheduled"]]
    early = due - datetime.timedelta(minutes=1)
    with mock.patch("django.utils.timezone.now", return_value=early):
        scheduler.tick(now=early, jobs=every_minute)
    notice.refresh_from_db()
    assert not notice.live
    on_time = due + datetime.timedelta(seconds=5)
    with mock.patch("django.utils.timezone.now", return_value=on_time):
        scheduler.tick(now=on_time, jobs=every_minute)
    notice.refresh_from_db()
    assert notice.live
    assert list(JobRun.objects.values_list("status", flat=True)) == ["succeeded"] * 2


def test_the_demo_has_handlers_and_messages_received_through_the_forms_checks(demo):
    from cms.interaction.models import Handler, Kind, Message

    assert sorted(Handler.objects.values_list("user__username", flat=True)) == [
        "county_admin", "shiyan_admin", "yizhong_admin"]
    question = Message.objects.get(kind=Kind.MESSAGE)
    report = Message.objects.get(kind=Kind.REPORT)
    assert question.organisation.specific_class is SchoolHomePage
    assert report.organisation.specific_class is PortalPage  # reports go to the bureau
    assert question.contact_sealed and b"13800000000" not in bytes(question.contact_sealed)
    assert len(question.code) >= 8 and question.due_on


# --- the demo's pages under production's security headers (tests/cms/test_security_headers.py
# has the rest; these share this module's build of the demo) ---------------------------------

@override_settings(**PRODUCTION)
def test_public_pages_carry_the_headers_and_no_inline_code(demo, client):
    urls = public_urls()
    assert len(urls) > 40
    expected = directives(public_content_security_policy())
    assert expected["script-src"] == ["'self'"] and "'unsafe-inline'" not in str(expected)
    for url in urls:
        response = get(client, url)
        assert response.status_code in (200, 404), (url, response.status_code)
        assert directives(response["Content-Security-Policy"]) == expected, url
        assert response["Strict-Transport-Security"] == HSTS, url
        assert "publickey-credentials-get=(self)" in response["Permissions-Policy"], url
        assert "camera=()" in response["Permissions-Policy"], url
        assert response["X-Content-Type-Options"] == "nosniff", url
        assert response["Referrer-Policy"] == "same-origin", url
        assert response["X-Frame-Options"] == "DENY", url
        assert inline_code(response.content.decode()) == [], url


@override_settings(**PRODUCTION)
def test_plain_http_is_redirected_to_https(demo, client):
    response = client.get("/", HTTP_HOST="yizhong.localhost:8000")
    assert response.status_code == 301
    assert response["Location"] == "https://yizhong.localhost:8000/"
    assert "Strict-Transport-Security" not in response  # only over https


@override_settings(**PRODUCTION)
def test_the_admin_its_login_and_the_api_docs_get_the_admins_policy(demo, client):
    host = {"HTTP_HOST": "localhost:8000", **HTTPS}
    login = client.get("/admin/login/", **host)
    assert login.status_code == 200
    admin_headers_are_the_admins(login)
    assert "Secure" in str(login.cookies["csrftoken"])
    docs = client.get("/api/v3/docs", **host, follow=True)
    assert docs.status_code == 200
    admin_headers_are_the_admins(docs)
    # The API itself is the public site's.
    api = client.get("/api/v3/pages/", **host)
    assert api.status_code == 200
    assert directives(api["Content-Security-Policy"]) == directives(
        public_content_security_policy())

    client.force_login(get_user_model().objects.get(username="yizhong_admin"))
    for path in ("/admin/", "/admin/pages/", "/admin/signing-credentials/"):
        response = client.get(path, **host, follow=True)
        assert response.status_code == 200, path
        admin_headers_are_the_admins(response)


@override_settings(**PRODUCTION)
def test_a_pages_preview_in_the_admin_gets_the_admins_policy(demo, client):
    # Wagtail renders a preview through the middleware with a dummy request for the page's
    # public URL: the public policy's frame-ancestors 'none' would keep it out of the
    # admin's preview panel.
    article = ArticlePage.objects.live().descendant_of(
        Page.objects.get(url_path="/yizhong/")).first()
    client.force_login(get_user_model().objects.get(username="yizhong_admin"))
    response = client.get(f"/admin/pages/{article.pk}/view_draft/",
                          HTTP_HOST="localhost:8000", **HTTPS)
    assert response.status_code == 200
    assert article.title in response.content.decode()
    admin_headers_are_the_admins(response)
