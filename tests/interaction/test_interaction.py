"""Public messages and reports, in one module so that the network is built once: the forms
on every site (footer links, 查询码, the status page), every kind of bad input refused with
nothing stored but a count; handling in the admin (confinement, contact details for
designated handlers only and each reading logged, exports without contacts), the reply
through the publishing pipeline, deadlines, the health line and statistics."""

import datetime
import io
import json
import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from wagtail.models import Page

from cms.baking.plan import Kind as Kind_
from cms.baking.plan import plan_events
from cms.interaction.actions import AssignAction, DesignateHandlerAction
from cms.interaction.escalation import check_deadlines
from cms.interaction.exceptions import NotAllowed
from cms.interaction.health import unanswered_over_three_months
from cms.interaction.models import (
    Kind,
    Message,
    MessageBoardPage,
    MessageReplyPage,
    RefusalCount,
    Status,
)
from cms.interaction.stats import monthly
from cms.models import Role
from review.pipeline.approvals import enrol_passphrase_credential
from review.register.models import SecurityEvent
from review.screening.models import LexiconEntry
from tests.conftest import act, make_user, task_state
from tests.interaction.conftest import make_message
from tests.shared import FAST_KDF, LEADER_PASSPHRASE

HOSTS = ("portal.test", "jia.test", "yi.test")
GOOD = {"title": "关于课后服务", "body": "请问学校的课后服务几点结束？", "name": "张三",
        "phone": "13800000000", "email": "zhang@example.cn", "website": ""}


def post(client, path, data, host="jia.test", **extra):
    return client.post(path, data, HTTP_HOST=host, **extra)


def refusals(reason=None):
    rows = RefusalCount.objects.all()
    if reason:
        rows = rows.filter(reason=reason)
    return rows.aggregate(n=Sum("count"))["n"] or 0


@pytest.mark.parametrize("host", HOSTS)
def test_every_site_footer_links_to_both_forms(client, network, host):
    home = client.get("/", HTTP_HOST=host)
    html = home.content.decode()
    assert '<a href="/interaction/message/">我要留言</a>' in html
    assert '<a href="/interaction/report/">我要举报</a>' in html
    for path in ("/interaction/message/", "/interaction/report/", "/interaction/status/"):
        assert client.get(path, HTTP_HOST=host).status_code == 200


def test_forms_are_plain_labelled_html(client, network):
    html = client.get("/interaction/message/", HTTP_HOST="jia.test").content.decode()
    assert "<script" not in html.split("<main", 1)[1]
    for name in ("title", "body", "name", "phone", "email"):
        assert f'<label for="id_{name}">' in html
        assert f'id="id_{name}"' in html
    assert 'href="/interaction/status/"' in html


def test_a_message_is_received_with_a_ticket_code_the_status_page_accepts(client, network):
    response = post(client, "/interaction/message/", GOOD)
    assert response.status_code == 200
    code = re.search(r"data-ticket-code>([0-9A-Z]+)<", response.content.decode()).group(1)
    assert len(code) >= 8
    message = Message.objects.get(code=code)
    assert (message.kind, message.status) == (Kind.MESSAGE, Status.NEW)
    assert message.organisation_id == network.school_a.home_page.pk
    # Contact details are not in the row in clear.
    assert b"13800000000" not in bytes(message.contact_sealed)
    assert "张三" not in str(Message.objects.filter(pk=message.pk).values().get())
    status = post(client, "/interaction/status/", {"code": code.lower()})
    assert status.status_code == 200
    assert "已收到，等待处理" in status.content.decode()
    assert post(client, "/interaction/status/", {"code": "ZZZZZZZZZZZZ"}).status_code == 404


def test_a_report_from_a_school_site_goes_to_the_bureau(client, network):
    response = post(client, "/interaction/report/",
                    {**GOOD, "url": "http://yi.test/news/", "title": "有害信息"}, host="yi.test")
    assert response.status_code == 200
    report = Message.objects.get(kind=Kind.REPORT)
    assert report.organisation_id == network.portal.home_page.pk
    assert report.sent_from_id == network.school_b.home_page.pk


@pytest.mark.parametrize(("data", "reason", "status", "field"), [
    ({**GOOD, "website": "http://spam.example"}, "honeypot", 400, ""),
    ({**GOOD, "body": "字" * 3001}, "too_long", 400, "body"),
    ({**GOOD, "body": "\x00\x01\x02PK\x03\x04"}, "binary", 400, "body"),
    ({**GOOD, "title": "<script>alert(1)</script>"}, "script", 400, "title"),
    ({**GOOD, "title": ""}, "empty", 400, "title"),
])
def test_bad_input_is_refused_clearly_and_only_counted(client, network, data, reason, status,
                                                        field):
    response = post(client, "/interaction/message/", data)
    assert response.status_code == status
    html = response.content.decode()
    assert "没有保存任何内容" in html
    if field:  # the error is tied to its field
        assert f'id="error_{field}"' in html and 'aria-invalid="true"' in html
        assert f'aria-describedby="error_{field}' in html
    assert Message.objects.count() == 0
    assert refusals(reason) == 1


def test_files_and_oversized_requests_are_refused(client, network):
    upload = SimpleUploadedFile("x.exe", b"MZ\x90\x00" * 100)
    response = post(client, "/interaction/message/", {**GOOD, "attachment": upload})
    assert response.status_code == 415
    big = client.generic("POST", "/interaction/message/", "title=" + "a" * 70000,
                         content_type="application/x-www-form-urlencoded", HTTP_HOST="jia.test")
    assert big.status_code == 413
    assert Message.objects.count() == 0
    assert refusals("binary") == 1 and refusals("too_large") == 1


def test_a_flood_from_one_address_is_refused_after_the_limit(client, network, settings):
    settings.CMS_INTERACTION_ADDRESS_LIMIT = 3
    codes = [post(client, "/interaction/message/", GOOD).status_code for _ in range(6)]
    assert codes == [200, 200, 200, 429, 429, 429]
    assert Message.objects.count() == 3
    assert refusals("rate_address") == 3
    # Another address is still served.
    assert post(client, "/interaction/message/", GOOD, REMOTE_ADDR="10.0.0.9").status_code == 200


def test_a_site_wide_limit_holds_across_addresses(client, network, settings):
    settings.CMS_INTERACTION_SITE_LIMIT = 2
    statuses = [post(client, "/interaction/message/", GOOD, REMOTE_ADDR=f"10.0.1.{i}")
                .status_code for i in range(4)]
    assert statuses == [200, 200, 429, 429]
    # Another site is not affected.
    assert post(client, "/interaction/message/", GOOD, host="yi.test",
                REMOTE_ADDR="10.0.2.1").status_code == 200
    assert refusals("rate_site") == 2


def test_blocked_text_is_quarantined_and_counted(client, network):
    LexiconEntry.objects.create(word="赌场代理", category="gambling", severity="block")
    response = post(client, "/interaction/message/", {**GOOD, "body": "招聘赌场代理，日结"})
    assert response.status_code == 200  # the sender is not told which filter caught them
    message = Message.objects.get()
    assert message.status == Status.QUARANTINED
    assert message.screening and message.screening[0]["severity"] == "block"


def test_rate_counts_hold_across_processes_without_a_shared_cache(network, settings):
    """With the per-process local-memory cache, the counts are in the database: what one
    process counted, another sees (here: a second cache instance, as another process has)."""
    from django.core.cache.backends.locmem import LocMemCache

    from cms.interaction.exceptions import Refused
    from cms.interaction.models import RateCounter
    from cms.interaction.submission import check_rates, prune_rate_counters, shared_cache

    assert not shared_cache()
    settings.CMS_INTERACTION_ADDRESS_LIMIT = 2
    site = network.school_a.home_page.pk
    check_rates(site_root_id=site, address="198.51.100.1")
    check_rates(site_root_id=site, address="198.51.100.1")
    LocMemCache("throttle", {}).clear()  # a fresh process's memory: nothing in it
    with pytest.raises(Refused):
        check_rates(site_root_id=site, address="198.51.100.1")
    assert RateCounter.objects.get(key__endswith="198.51.100.1").count == 3
    import time

    assert prune_rate_counters(now=time.time() + 3 * settings.CMS_INTERACTION_RATE_WINDOW) == 2


# --- Handling in the admin ---------------------------------------------------------------

CONTACT = {"name": "李四", "phone": "13912345678", "email": "lisi@example.cn"}


def detail_url(message):
    return reverse("interaction_detail", args=[message.pk])


def test_a_schools_people_see_only_their_own_queue_and_nothing_of_another(client, network,
                                                                          handlers):
    mine = make_message(network.school_a, title="甲校的留言")
    theirs = make_message(network.school_b, title="乙校的留言", contact=CONTACT)
    report = make_message(network.portal, title="举报某网站", kind=Kind.REPORT)
    for user in (network.users["a_administrator"], network.users["a_leader"], handlers["a"]):
        client.force_login(user)
        listing = client.get(reverse("interaction_queue")).content.decode()
        assert "甲校的留言" in listing
        assert "乙校的留言" not in listing and "举报某网站" not in listing
        # By URL: B's message and the bureau's report are not there for A's people.
        assert client.get(detail_url(theirs)).status_code == 404
        assert client.get(detail_url(report)).status_code == 404
        for action in ({"action": "note", "text": "越权"}, {"action": "contact"},
                       {"action": "status", "status": "closed"}):
            assert client.post(detail_url(theirs), action).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Status.NEW and not theirs.notes.exists()
    # Teachers who are not handlers see no queue at all.
    client.force_login(network.users["b_teacher"])  # b's teacher is B's handler
    assert "乙校的留言" in client.get(reverse("interaction_queue")).content.decode()
    client.force_login(network.users["a_editor"])
    assert client.get(detail_url(mine)).status_code == 200
    # The bureau gets the reports.
    client.force_login(network.users["county_administrator"])
    assert "举报某网站" in client.get(reverse("interaction_queue")).content.decode()
    # A's handler cannot be assigned B's message, nor B's handler A's.
    with pytest.raises(NotAllowed):
        AssignAction(mine, user=network.users["a_administrator"],
                     assignee=handlers["b"]).execute()


def test_contacts_only_for_designated_handlers_and_every_view_logged(client, network,
                                                                     handlers):
    message = make_message(network.school_a, contact=CONTACT)
    # A superuser is nobody's handler: the queue is not theirs at all.
    client.force_login(network.users["superuser"])
    assert client.get(detail_url(message)).status_code == 404
    assert client.post(detail_url(message), {"action": "contact"}).status_code == 404
    for user in (network.users["a_administrator"], network.users["a_leader"]):
        client.force_login(user)
        page = client.get(detail_url(message)).content.decode()
        assert "13912345678" not in page and "李四" not in page
        refused = client.post(detail_url(message), {"action": "contact"}, follow=True)
        assert "13912345678" not in refused.content.decode()
        assert "只有本单位指定的留言处理人可以查看联系方式" in refused.content.decode()
    assert not SecurityEvent.objects.filter(event="interaction_contact_viewed").exists()
    client.force_login(handlers["a"])
    assert "13912345678" not in client.get(detail_url(message)).content.decode()
    for _ in range(2):
        shown = client.post(detail_url(message), {"action": "contact"}).content.decode()
        assert "13912345678" in shown and "李四" in shown
    events = SecurityEvent.objects.filter(event="interaction_contact_viewed")
    assert events.count() == 2
    assert {e.actor for e in events} == {handlers["a"].get_username()}
    assert events.first().subject == f"message:{message.pk}"
    # Removing the designation removes the access.
    DesignateHandlerAction(network.school_a.home_page, user=network.users["a_administrator"],
                           handler_user=handlers["a"], remove=True).execute()
    assert "13912345678" not in client.post(detail_url(message), {"action": "contact"},
                                            follow=True).content.decode()
    assert SecurityEvent.objects.filter(event="interaction_handler_removed").count() == 1


def test_only_an_organisations_administrator_designates_its_own_staff(network):
    with pytest.raises(NotAllowed):
        DesignateHandlerAction(network.school_b.home_page, user=network.users["a_administrator"],
                               handler_user=network.users["b_teacher"]).execute()
    with pytest.raises(NotAllowed):
        DesignateHandlerAction(network.school_a.home_page, user=network.users["a_administrator"],
                               handler_user=network.users["b_teacher"]).execute()


def xlsx_text(content: bytes) -> str:
    book = load_workbook(io.BytesIO(content), read_only=True)
    return "\n".join(str(value) for sheet in book.worksheets
                     for row in sheet.iter_rows(values_only=True) for value in row
                     if value is not None)


def test_exports_leave_contacts_out(client, network, handlers):
    make_message(network.school_a, title="导出测试", contact=CONTACT)
    client.force_login(handlers["a"])
    texts = []
    for url in (reverse("interaction_queue") + "?format=xlsx",
                reverse("interaction_stats") + "?format=xlsx"):
        response = client.get(url)
        assert response.status_code == 200
        texts.append(xlsx_text(response.content))
        assert "13912345678" not in texts[-1] and "李四" not in texts[-1]
        assert "lisi@" not in texts[-1]
    assert "导出测试" in texts[0] and "甲中学" in texts[1]


def test_quarantined_messages_are_hidden_by_default_and_counted(client, network, handlers):
    make_message(network.school_a, title="正常留言")
    make_message(network.school_a, title="被拦截的留言", status=Status.QUARANTINED)
    client.force_login(handlers["a"])
    listing = client.get(reverse("interaction_queue")).content.decode()
    assert "正常留言" in listing and "被拦截的留言" not in listing
    assert "1 条已隔离" in listing
    shown = client.get(reverse("interaction_queue") + "?status=quarantined").content.decode()
    assert "被拦截的留言" in shown


def test_the_reply_goes_live_only_when_the_leader_signs_and_not_by_one_person(client, network,
                                                                            handlers):
    message = make_message(network.school_a, title="食堂菜价", body="我是张三，电话13800000000，"
                           "请问食堂菜价如何确定？", contact=CONTACT)
    client.force_login(handlers["a"])
    response = client.post(detail_url(message), {
        "action": "draft_reply", "title": "关于食堂菜价的答复",
        "question": "请问食堂菜价如何确定？",
        "reply": "食堂菜价由膳食委员会审议确定。"}, follow=True)
    assert "已提交审批" in response.content.decode()
    message.refresh_from_db()
    assert message.status == Status.REPLYING
    reply = MessageReplyPage.objects.get(pk=message.reply_page_id)
    board = MessageBoardPage.objects.get()
    assert board.get_parent().pk == network.school_a.home_page.pk
    assert not reply.live and not board.live
    assert "13800000000" not in reply.question and "张三" not in reply.question

    # One person holding both roles cannot carry it through both stages (the existing
    # pipeline's rule, not ours).
    both = make_user("jia_principal", network.school_a.groups[Role.ADMINISTRATOR],
                     network.school_a.groups[Role.LEADER])
    enrol_passphrase_credential(user=both, passphrase=LEADER_PASSPHRASE, kdf=FAST_KDF)
    for page in (board, reply):
        act(client, both, page, "approve")
        assert task_state(page).task.specific_class.__name__ == "LeaderApprovalTask"
        act(client, both, page, "approve", {"passphrase": LEADER_PASSPHRASE})
        assert not Page.objects.get(pk=page.pk).live
    message.refresh_from_db()
    assert message.status == Status.REPLYING and message.answered_at is None
    # The leader signs: live, and the message answered.
    for page in (board, reply):
        act(client, network.users["a_leader"], page, "approve",
            {"passphrase": LEADER_PASSPHRASE})
        assert Page.objects.get(pk=page.pk).live
    message.refresh_from_db()
    assert message.status == Status.ANSWERED and message.answered_at is not None
    client.logout()
    public = client.get(f"/liuyan/m-{message.pk}/", HTTP_HOST="jia.test")
    assert public.status_code == 200
    text = public.content.decode()
    assert "食堂菜价由膳食委员会审议确定" in text and "13800000000" not in text
    assert "关于食堂菜价的答复" in client.get("/liuyan/", HTTP_HOST="jia.test").content.decode()
    status = client.post("/interaction/status/", {"code": message.code}, HTTP_HOST="jia.test")
    assert "查看公开答复" in status.content.decode()
    # Baked like an article: the reply, its board and the sitemap, not the whole site.
    plan = plan_events(page_ids=[reply.pk])
    assert not plan.full_sites
    assert {(t.kind, t.page_id) for t in plan.targets} >= {
        (Kind_.PAGE, reply.pk), (Kind_.PAGE, board.pk), (Kind_.SITEMAP, reply.pk)}


def test_reports_are_answered_privately(client, network, handlers):
    report = make_message(network.portal, title="某网站有赌博广告", kind=Kind.REPORT)
    client.force_login(handlers["county"])
    refused = client.post(detail_url(report), {"action": "draft_reply", "title": "x",
                                               "question": "y", "reply": "z"}, follow=True)
    assert "举报不公开答复" in refused.content.decode()
    assert not MessageReplyPage.objects.exists()
    client.post(detail_url(report), {"action": "answer", "text": "已核实并删除，感谢举报。"})
    report.refresh_from_db()
    assert report.status == Status.ANSWERED
    status = client.post("/interaction/status/", {"code": report.code}, HTTP_HOST="yi.test")
    assert "已核实并删除" in status.content.decode()


def test_deadlines_warn_then_escalate_once_and_feed_the_health_line(
        network, handlers, django_capture_on_commit_callbacks):
    for key in ("a_leader", "county_administrator", "a_teacher"):
        network.users[key].email = f"{key}@example.cn"
        network.users[key].save()
    now = timezone.now()
    old = make_message(network.school_a, title="旧留言",
                       received_at=now - datetime.timedelta(days=120))
    make_message(network.school_a, title="新留言")
    answered = make_message(network.school_b, title="已答复",
                            received_at=now - datetime.timedelta(days=100),
                            status=Status.ANSWERED)
    answered.answered_at = answered.received_at + datetime.timedelta(days=2)
    answered.save()
    due_soon = make_message(network.school_a, title="快到期")
    Message.objects.filter(pk=due_soon.pk).update(due_on=timezone.localdate())
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        first = check_deadlines()
    assert (first.warned, first.escalated) == (1, 1)
    escalation = next(m for m in mail.outbox if "逾期" in m.subject)
    assert {"a_leader@example.cn", "county_administrator@example.cn"} <= set(escalation.to)
    assert "13912345678" not in escalation.body
    out = io.StringIO()
    call_command("interaction_deadlines", stdout=out)  # safe to run twice: nothing new
    assert "提醒 0 条，上报逾期 0 条" in out.getvalue()
    old.refresh_from_db()
    assert old.escalated_at is not None
    health = {b.home_page_id: b for b in unanswered_over_three_months()}
    assert health[network.school_a.home_page.pk].unanswered_over_3_months == 1
    assert health[network.school_a.home_page.pk].to_json()["failing"] is True
    assert health[network.school_b.home_page.pk].unanswered_over_3_months == 0
    # The site-health verdict: school A fails on the three-month line, school B does not.
    out = io.StringIO()
    call_command("site_health", stdout=out, stderr=io.StringIO())
    verdicts = {site["site"]: site for site in json.loads(out.getvalue())["sites"]}
    school_a, school_b = (verdicts[school.home_page.slug]
                          for school in (network.school_a, network.school_b))
    assert "MESSAGES_UNANSWERED" in school_a["veto"] and school_a["score"] <= 59
    assert "MESSAGES_UNANSWERED" not in school_b["veto"]
    assert "MESSAGES_OVERDUE" not in school_b["warnings"]
    rows = monthly(organisation_ids=[network.school_b.home_page.pk])
    assert sum(r.answered for r in rows) == 1
    assert [r.average_reply_days for r in rows if r.answered] == [2.0]


def test_statistics_are_confined_and_the_bureau_sees_every_school(client, network, handlers):
    make_message(network.school_a, title="甲")
    make_message(network.school_b, title="乙")
    from cms.interaction.submission import count_refusal

    count_refusal(site_root_id=network.school_a.home_page.pk, reason="honeypot")
    count_refusal(site_root_id=network.school_b.home_page.pk, reason="script")
    client.force_login(handlers["a"])
    mine = client.get(reverse("interaction_stats")).content.decode()
    assert "甲中学" in mine and "乙中学" not in mine and "<svg" in mine
    assert "机器人（隐藏字段被填写）" in mine and "网页脚本或代码" not in mine
    client.force_login(network.users["county_leader"])
    bureau = client.get(reverse("interaction_stats")).content.decode()
    assert "甲中学" in bureau and "乙中学" in bureau and "全部单位" in bureau
    client.force_login(network.users["b_editor"])  # an administrator of B, no handler
    assert "甲中学" not in client.get(reverse("interaction_stats")).content.decode()
    client.force_login(network.users["a_teacher"])
    DesignateHandlerAction(network.school_a.home_page, user=network.users["a_administrator"],
                           handler_user=network.users["a_teacher"], remove=True).execute()
    assert client.get(reverse("interaction_stats")).status_code == 404  # no longer a handler


def test_overdue_counts_late_answers_and_open_messages_past_due():
    from cms.interaction.stats import MonthRow, totals

    rows = [MonthRow(organisation_id=1, organisation="甲", month="2026-11", received=4,
                     answered=2, overdue=1, quarantined=0, average_reply_days=2.0),
            MonthRow(organisation_id=2, organisation="乙", month="2026-11", received=2,
                     answered=2, overdue=0, quarantined=1, average_reply_days=4.0)]
    [total] = totals(rows)
    assert (total.received, total.answered, total.overdue, total.quarantined) == (6, 4, 1, 1)
    assert total.average_reply_days == 3.0


def test_administrators_designate_handlers_in_the_admin(client, network):
    client.force_login(network.users["a_administrator"])
    url = reverse("interaction_handlers")
    assert client.get(url).status_code == 200
    org = network.school_a.home_page.pk
    done = client.post(url, {"organisation": org, "username": "a_teacher"}, follow=True)
    assert "已指定了 a_teacher" in done.content.decode()
    refused = client.post(url, {"organisation": org, "username": "b_teacher"}, follow=True)
    assert "留言处理人须是本单位的工作人员" in refused.content.decode()
    # Another school's organisation cannot be named.
    client.post(url, {"organisation": network.school_b.home_page.pk, "username": "b_leader"})
    from cms.interaction.models import Handler

    assert list(Handler.objects.values_list("user__username", flat=True)) == ["a_teacher"]
    assert SecurityEvent.objects.filter(event="interaction_handler_designated").count() == 1
    client.force_login(network.users["a_teacher"])
    assert client.get(url).status_code == 404  # handlers do not designate


def test_queue_search_and_status_rules(client, network, handlers):
    hit = make_message(network.school_a, title="校车接送时间", body="请问校车几点到？")
    make_message(network.school_a, title="食堂", body="饭菜")
    client.force_login(handlers["a"])
    found = client.get(reverse("interaction_queue") + "?q=校车").content.decode()
    assert "校车接送时间" in found and ">食堂<" not in found
    by_code = client.get(reverse("interaction_queue") + f"?q={hit.code}").content.decode()
    assert "校车接送时间" in by_code
    refused = client.post(detail_url(hit), {"action": "status", "status": "answered"},
                          follow=True)
    assert "这个状态不能手工设置" in refused.content.decode()
    hit.refresh_from_db()
    assert hit.status == Status.NEW
    client.post(detail_url(hit), {"action": "assign", "assignee": handlers["a"].pk})
    client.post(detail_url(hit), {"action": "note", "text": "已联系后勤处"})
    hit.refresh_from_db()
    assert hit.assignee == handlers["a"] and hit.status == Status.IN_PROGRESS
    assert hit.notes.get().text == "已联系后勤处"
    page = client.get(detail_url(hit)).content.decode()
    assert "已联系后勤处" in page
