"""Site health on the education network (review.health through cms.health's hooks): the
``site_health`` contract, the link check against the baked tree and the database, external
links against a local HTTP server (never the internet), mutated links and their one-click
takedown, availability, the dashboard's confinement, and the daily report."""

import datetime
import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from wagtail.models import Page

from cms.models import ArticlePage
from review.health import daily, linkcheck, report, sources
from review.health.availability import probe_sites
from review.health.models import AvailabilityProbe, HealthSnapshot, LinkCheck, LinkTarget
from review.models import LexiconEntry, RegisterEntry
from tests.conftest import publish

FAST = {"HEALTH_LINK_HOST_INTERVAL": 0, "HEALTH_LINK_TIMEOUT": 0.5,
        "HEALTH_LINK_CONCURRENCY": 8}


class Pages:
    """What the local server answers, per path: (status, body, headers); changeable."""

    def __init__(self):
        self.routes = {}


PAGES = Pages()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        route = PAGES.routes.get(self.path)
        if route is None:
            self.send_response(404)
            self.end_headers()
            return
        status, body, headers = route
        if body == "SLOW":
            time.sleep(1.5)
            body = "late"
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            data = body.encode()
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    port = httpd.server_address[1]
    PAGES.routes = {
        "/robots.txt": (200, "User-agent: *\nDisallow: /private\n", {}),
        "/ok": (200, "<title>合作学校</title>欢迎访问", {}),
        "/gone": (410, "gone", {}),
        "/forbidden": (403, "no", {}),
        "/error": (503, "busy", {}),
        "/slow": (200, "SLOW", {}),
        "/private": (200, "secret", {}),
        "/partner": (200, "<title>合作单位</title>教育合作", {}),
        "/moving": (200, "<title>旧址</title>", {}),
        "/parked": (200, "<title>partner</title>ok", {}),
    }
    yield f"http://127.0.0.1:{port}"
    httpd.shutdown()


def article_with(column, title: str, html: str, *, live: bool = True) -> ArticlePage:
    article = ArticlePage(title=title, slug=f"h-{ArticlePage.objects.count() + 1}", live=False,
                          body=[("paragraph", f'<p data-block-key="k0">{html}</p>')])
    column.add_child(instance=article)
    article.save_revision()
    if live:
        publish(article)
    return ArticlePage.objects.get(pk=article.pk)


def refused(response) -> bool:
    """Wagtail's admin answers a refusal (PermissionDenied) with a redirect to the dashboard
    and an error message; a 403 for requests that cannot follow one."""
    return response.status_code == 403 or (response.status_code == 302
                                            and response.url == reverse("wagtailadmin_home"))


def health_json(slug: str | None = None) -> dict:
    out, err = io.StringIO(), io.StringIO()
    args = ["site_health"] + (["--site", slug] if slug else [])
    call_command(*args, stdout=out, stderr=err)
    return json.loads(out.getvalue())


# --- The contract -----------------------------------------------------------------------------

def test_site_health_json_has_exactly_the_contract_shape(network):
    news = network.column(network.school_a, "news")
    article_with(news, "开学典礼", "全校师生参加。")
    data = health_json("jia")
    assert list(data) == ["sites"] and len(data["sites"]) == 1
    site = data["sites"][0]
    assert list(site) == ["site", "score", "homepage", "columns", "blank_columns", "links",
                          "availability", "veto", "warnings"]
    assert site["site"] == "jia" and isinstance(site["score"], int)
    assert set(site["homepage"]) == {"last_update", "days", "state"}
    assert site["homepage"]["state"] == "ok" and site["homepage"]["days"] == 0
    by_title = {column["title"]: column for column in site["columns"]}
    assert set(by_title["校园动态"]) == {"id", "title", "kind", "last_update", "interval_days",
                                       "days_left", "state"}
    assert by_title["校园动态"]["interval_days"] == 14 and by_title["校园动态"]["state"] == "ok"
    assert by_title["学校概况"]["interval_days"] is None
    assert set(site["links"]) == {"broken", "suspect", "mutated"}
    assert site["availability"] == {"failure_share_7d": None}
    # The skeleton's other columns hold nothing: blank (news has its article).
    blank = {column["title"] for column in site["blank_columns"]}
    assert "校园动态" not in blank and {"通知公告", "教学园地"} <= blank
    assert all(set(column) == {"id", "title"} for column in site["blank_columns"])


def test_site_health_exits_zero_for_an_unknown_site_and_writes_text_and_xlsx(network, tmp_path):
    err = io.StringIO()
    out = io.StringIO()
    call_command("site_health", "--site", "nowhere", stdout=out, stderr=err)
    assert json.loads(out.getvalue()) == {"sites": []}
    assert "没有标识为“nowhere”的网站" in err.getvalue()
    target = tmp_path / "health.xlsx"
    call_command("site_health", "--format", "xlsx", "--output", str(target),
                 stdout=io.StringIO(), stderr=io.StringIO())
    assert target.read_bytes()[:2] == b"PK"
    text = io.StringIO()
    call_command("site_health", "--site", "yi", "--format", "text", stdout=text)
    assert "乙中学（yi）" in text.getvalue() and "栏目更新" in text.getvalue()


def test_the_ledger_warns_then_fails_as_time_passes(network):
    news = network.column(network.school_a, "news")
    article_with(news, "新闻", "内容")
    ref = sources.sites(slug="jia")
    later = {days: report.site_health(ref, now=timezone.now() + datetime.timedelta(days=days))[0]
             for days in (5, 11, 15)}
    assert later[5].homepage.state == "ok"
    assert "HOMEPAGE_NOT_UPDATED" not in later[5].verdict.veto
    news_clock = {entry.column.id: entry.clock for entry in later[11].columns}[news.pk]
    assert news_clock.state == "warning" and news_clock.days_left == 2
    assert later[11].homepage.state == "warning"
    assert "HOMEPAGE_UPDATE_DUE" in later[11].verdict.warnings
    assert "COLUMNS_DUE_SOON" in later[11].verdict.warnings
    assert later[15].homepage.state == "overdue"
    assert "HOMEPAGE_NOT_UPDATED" in later[15].verdict.veto and later[15].verdict.score <= 59


@override_settings(HEALTH_BLANK_COLUMNS_VETO_AT=3)
def test_blank_columns_veto_line_is_a_setting(network):
    site = health_json("yi")["sites"][0]
    assert len(site["blank_columns"]) >= 3 and "BLANK_COLUMNS" in site["veto"]


# --- Internal links -----------------------------------------------------------------------

def test_internal_links_are_checked_against_the_database_without_a_bake(network):
    news = network.column(network.school_a, "news")
    good = article_with(news, "好文章", "正文")
    article_with(news, "引用", f'<a href="http://jia.test{good.url_path[len("/jia"):]}">好</a>'
                 '<a href="http://jia.test/news/no-such-page/">坏</a>'
                 '<a href="http://yi.test/nothing-here/">别校</a>')
    call_command("check_links", "--site", "jia", stdout=io.StringIO())
    broken = {problem["url"] for problem in health_json("jia")["sites"][0]["links"]["broken"]}
    assert broken == {"http://jia.test/news/no-such-page/", "http://yi.test/nothing-here/"}
    target = LinkTarget.objects.get(url="http://jia.test/news/no-such-page/")
    assert target.external is False and target.checks.count() == 1


def test_internal_links_are_checked_against_the_baked_tree(network, tmp_path):
    site_dir = tmp_path / "jia.test"
    (site_dir / "news").mkdir(parents=True)
    (site_dir / "index.html").write_text(
        '<a href="/news/">新闻</a><a href="/news/gone/">旧文</a>'
        '<img src="/media/images/missing.png"><a href="/attachments/99999/x.pdf">附件</a>'
        '<a href="/news/?page=2">更早</a>')
    (site_dir / "news" / "index.html").write_text('<a href="/">首页</a>')
    (site_dir / "news" / "index-page2.html").write_text("<p>旧</p>")
    with override_settings(BAKE_DIR=tmp_path):
        call_command("check_links", "--site", "jia", stdout=io.StringIO())
    site = health_json("jia")["sites"][0]
    broken = {problem["url"]: problem for problem in site["links"]["broken"]}
    assert set(broken) == {"http://jia.test/news/gone/", "http://jia.test/media/images/missing.png",
                           "http://jia.test/attachments/99999/x.pdf"}
    home = network.school_a.home_page.pk
    assert broken["http://jia.test/news/gone/"]["pages"] == [home]
    assert "BROKEN_LINKS" in site["warnings"]
    # Fixed in the tree: the next check marks it fixed and keeps the history.
    (site_dir / "index.html").write_text('<a href="/news/">新闻</a>')
    with override_settings(BAKE_DIR=tmp_path):
        call_command("check_links", "--site", "jia", stdout=io.StringIO())
    assert health_json("jia")["sites"][0]["links"]["broken"] == []
    fixed = LinkTarget.objects.get(url="http://jia.test/news/gone/")
    assert fixed.state == "ok" and list(fixed.checks.values_list("state", flat=True)) == [
        "ok", "broken"]


# --- External links -------------------------------------------------------------------------

@override_settings(**FAST)
def test_external_links_broken_suspect_robots_and_confirmation_over_a_day(network, server):
    news = network.column(network.school_a, "news")
    article = article_with(news, "友情链接", "".join(
        f'<a href="{server}{path}">{path}</a>'
        for path in ("/ok", "/gone", "/forbidden", "/missing", "/error", "/slow", "/private")))
    call_command("check_links", "--site", "jia", "--external", stdout=io.StringIO())
    states = dict(LinkTarget.objects.filter(external=True).values_list("url", "state"))
    assert states == {f"{server}/ok": "ok", f"{server}/gone": "broken",
                      f"{server}/forbidden": "broken", f"{server}/missing": "broken",
                      f"{server}/error": "suspect", f"{server}/slow": "suspect",
                      f"{server}/private": "skipped"}
    site = health_json("jia")["sites"][0]
    assert {p["url"]: p["status"] for p in site["links"]["broken"]} == {
        f"{server}/gone": 410, f"{server}/forbidden": 403, f"{server}/missing": 404}
    assert site["links"]["broken"][0]["pages"] == [article.pk]
    assert {p["url"] for p in site["links"]["suspect"]} == {f"{server}/error", f"{server}/slow"}
    # Three failures, but within hours: still suspect; the third a day after the first: broken.
    start = timezone.now()
    linkcheck.check_external(site_slug="jia", now=start + datetime.timedelta(hours=3))
    assert LinkTarget.objects.get(url=f"{server}/error").state == "suspect"
    linkcheck.check_external(site_slug="jia", now=start + datetime.timedelta(hours=25))
    error = LinkTarget.objects.get(url=f"{server}/error")
    assert error.state == "broken" and error.failures == 3
    assert LinkCheck.objects.filter(target=error).count() == 3


@override_settings(**FAST, HEALTH_FINGERPRINT_ON_PUBLISH=True)
def test_mutated_links_fingerprinted_at_approval_flagged_later_and_taken_down(
        network, server, client, django_capture_on_commit_callbacks):
    LexiconEntry.objects.create(word="网上赌场", category="gambling", severity="block")
    for key in ("a_administrator", "b_administrator"):
        network.users[key].email = f"{key}@example.cn"
        network.users[key].save()
    news = network.column(network.school_a, "news")
    with django_capture_on_commit_callbacks(execute=True):
        page = article_with(news, "合作单位", f'<a href="{server}/partner">合作单位</a>'
                            f'<a href="{server}/moving">搬迁</a><a href="{server}/parked">停放</a>')
    partner = LinkTarget.objects.get(url=f"{server}/partner")
    assert partner.approved_fingerprint["title"] == "合作单位"
    assert partner.approved_fingerprint["harmful"] == []
    # Later the partner's domain is resold: gambling; another now parked for sale.
    PAGES.routes["/partner"] = (200, "<title>欢迎</title>网上赌场 立即注册", {})
    PAGES.routes["/parked"] = (200, "<title>partner</title>This domain is for sale", {})
    # And one now sends its readers to another host.
    PAGES.routes["/moving"] = (302, "", {"Location": server.replace("127.0.0.1", "localhost")
                                         + "/ok"})
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("check_links", "--site", "jia", "--external", stdout=io.StringIO())
    site = health_json("jia")["sites"][0]
    mutated = {problem["url"] for problem in site["links"]["mutated"]}
    assert mutated == {f"{server}/partner", f"{server}/moving", f"{server}/parked"}
    assert "HARMFUL_LINK" in site["veto"] and "MUTATED_LINKS" in site["warnings"]
    reasons = dict(LinkTarget.objects.filter(url__in=mutated).values_list("url", "mutations"))
    assert reasons == {f"{server}/partner": ["harmful_content"],
                       f"{server}/moving": ["redirected_to_other_host"],
                       f"{server}/parked": ["parked_or_for_sale"]}
    alert = [m for m in mail.outbox if "外部链接变异" in m.subject]
    assert len(alert) == 1 and alert[0].to == ["a_administrator@example.cn"]
    assert "合作单位" in alert[0].body and "页面出现色情、赌博等有害内容" in alert[0].body
    # The block-level alert and the one-click takedown on the dashboard.
    client.force_login(network.users["a_administrator"])
    dashboard = client.get(reverse("review_health_site", args=["jia"]))
    assert dashboard.status_code == 200
    assert "链接到色情、赌博等有害内容" in dashboard.content.decode()
    url = reverse("review_health_takedown", args=[partner.pk, page.pk])
    assert url in dashboard.content.decode()
    # School B's administrator cannot take school A's page down.
    client.force_login(network.users["b_administrator"])
    assert refused(client.post(url))
    assert Page.objects.get(pk=page.pk).live
    client.force_login(network.users["a_administrator"])
    response = client.post(url)
    assert response.status_code == 302
    assert not Page.objects.get(pk=page.pk).live
    entry = RegisterEntry.objects.filter(kind="takedown", object_id=str(page.pk)).get()
    assert entry.entry["approval"]["reason"].startswith(f"外链变异：{server}/partner")
    PAGES.routes["/partner"] = (200, "<title>合作单位</title>教育合作", {})
    PAGES.routes["/parked"] = (200, "<title>partner</title>ok", {})
    PAGES.routes["/moving"] = (200, "<title>旧址</title>", {})


# --- Availability ---------------------------------------------------------------------------

def test_availability_probes_the_homepage_and_counts_failures_over_seven_days(network, server):
    site = network.school_b.site
    host, port = server.removeprefix("http://").split(":")
    # Pointed at the local server (an update: the site-change guard watches save()).
    type(site).objects.filter(pk=site.pk).update(hostname=host, port=int(port))
    PAGES.routes["/"] = (200, "<title>乙中学</title>", {})
    with override_settings(HEALTH_PROBE_TIMEOUT=1.0):
        assert [probe.ok for probe in probe_sites(site_slug="yi")] == [True]
        PAGES.routes["/"] = (200, "SLOW", {})  # longer than the limit
        failed = probe_sites(site_slug="yi")[0]
        assert not failed.ok and failed.error
    del PAGES.routes["/"]
    now = timezone.now()
    AvailabilityProbe.objects.bulk_create(
        [AvailabilityProbe(site=site, at=now - datetime.timedelta(hours=i), ok=True)
         for i in range(1, 19)]
        + [AvailabilityProbe(site=site, at=now - datetime.timedelta(days=9), ok=False)])
    data = health_json("yi")["sites"][0]
    assert data["availability"]["failure_share_7d"] == 0.05  # 1 of 20; the old one not counted
    assert "SITE_UNREACHABLE" in data["veto"]


# --- The dashboard: confinement, XLSX, monthly report ----------------------------------------

def test_a_school_sees_only_its_own_dashboard(network, client):
    client.force_login(network.users["a_administrator"])
    assert client.get(reverse("review_health_index")).url == reverse("review_health_site",
                                                                     args=["jia"])
    assert client.get(reverse("review_health_site", args=["jia"])).status_code == 200
    assert refused(client.get(reverse("review_health_site", args=["yi"])))
    assert refused(client.get(reverse("review_health_site_xlsx", args=["yi"])))
    assert refused(client.get(reverse("review_health_monthly", args=["yi", "2026-01"])))
    xlsx = client.get(reverse("review_health_xlsx"))
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.content))["总览"]
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["jia"]
    client.force_login(network.users["a_teacher"])
    assert refused(client.get(reverse("review_health_index")))
    assert refused(client.get(reverse("review_health_site", args=["jia"])))


def test_the_bureau_sees_every_school_and_the_monthly_report(network, client):
    client.force_login(network.users["county_administrator"])
    page = client.get(reverse("review_health_index")).content.decode()
    assert "甲中学" in page and "乙中学" in page
    HealthSnapshot.objects.create(site=network.school_a.site, day=timezone.localdate(),
                                  taken_at=timezone.now(), score=80,
                                  report={"veto": [], "warnings": [], "availability": {}})
    month = timezone.localdate().strftime("%Y-%m")
    monthly = client.get(reverse("review_health_monthly", args=["jia", month]))
    assert monthly.status_code == 200 and "<svg" in monthly.content.decode()
    assert "window.print()" in monthly.content.decode()
    bad = client.get(reverse("review_health_monthly", args=["jia", "2026-13"]))
    assert bad.status_code == 302


# --- The daily report ---------------------------------------------------------------------

def test_daily_report_goes_out_only_when_something_changed(network):
    for key in ("a_administrator", "a_leader", "county_administrator", "b_leader"):
        user = network.users[key]
        user.email = f"{key}@example.cn"
        user.save()
    today = timezone.now()
    mail.outbox.clear()
    daily.send_daily(now=today)
    to = {address for message in mail.outbox for address in message.to}
    assert {"a_administrator@example.cn", "a_leader@example.cn",
            "county_administrator@example.cn"} <= to
    school_mail = next(m for m in mail.outbox if "甲中学" in m.subject)
    assert "b_leader@example.cn" not in school_mail.to
    assert "【需要处理】" in school_mail.body and "空白栏目" in school_mail.body
    mail.outbox.clear()
    daily.send_daily(now=today)  # the same day again: already reported
    assert mail.outbox == []
    tomorrow = today + datetime.timedelta(days=1)
    daily.send_daily(now=tomorrow)  # nothing changed
    assert mail.outbox == []
    article_with(network.column(network.school_a, "notices"), "放假通知", "内容")
    daily.send_daily(now=tomorrow + datetime.timedelta(days=1))
    subjects = [message.subject for message in mail.outbox]
    assert any("甲中学" in subject for subject in subjects)
    assert not any("乙中学" in subject for subject in subjects)
    body = next(m for m in mail.outbox if "甲中学" in m.subject).body
    assert "【已解决】" in body and "通知公告" in body


def test_health_jobs_are_in_the_schedule():
    from cms.jobs.schedule import all_jobs

    jobs = all_jobs()
    assert jobs["probe_sites"].every == datetime.timedelta(minutes=5)
    assert jobs["check_links"].argv() == ("check_links", "--external")
    assert jobs["health_daily"].argv() == ("health_daily",)
