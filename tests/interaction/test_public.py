"""The public forms on every site: footer links, submission, 查询码 and the status page, and
every kind of bad input refused with nothing stored but a count."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum

from cms.interaction.models import Kind, Message, RefusalCount, Status
from review.screening.models import LexiconEntry

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
