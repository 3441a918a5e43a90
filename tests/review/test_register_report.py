"""The publication register (发布登记) report, its exports and the printable approval form."""

import csv
import datetime
import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from review.models import RegisterEntry
from review.reports import LOCAL_TZ, group_fingerprint
from tests.conftest import PASSWORD, make_article, make_document

REGISTER = "review_register"


def register_url() -> str:
    return reverse(REGISTER)


def form_url(entry: RegisterEntry) -> str:
    return reverse("review_register_form", args=[entry.seq])


def entry_for(page) -> RegisterEntry:
    return RegisterEntry.objects.filter(object_id=str(page.pk)).latest("seq")


def today() -> datetime.date:
    return timezone.now().astimezone(LOCAL_TZ).date()


def outsider():
    """An admin user without any page permission."""
    user = get_user_model().objects.create_user(username="outsider", password=PASSWORD)
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    return user


@pytest.fixture
def articles(network):
    """A teacher's article in school A, and one in school B."""
    a = make_article(network.column(network.school_a, "teaching"), "甲校教学反思",
                     owner=network.users["a_teacher"])
    b = make_article(network.column(network.school_b, "news"), "乙校新闻",
                     owner=network.users["b_administrator"])
    return a, b


def test_list_shows_entries_with_people_and_signature(client, network, articles):
    a, _ = articles
    client.force_login(network.users["a_administrator"])
    response = client.get(register_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "发布登记" in html
    entry = entry_for(a)
    assert a.title in html and f'href="{a.full_url}"' in html
    assert reverse("wagtailadmin_pages:edit", args=[a.pk]) in html
    approval = entry.entry["approval"]
    assert (approval["operator"], approval["first_reviewer"], approval["approver"]) == (
        "a_teacher", "a_administrator", "a_leader")
    for text in ("a_teacher", "a_administrator", "a_leader", "口令密钥", "签名有效", "发布",
                 form_url(entry), timezone.localtime(entry.published_at, LOCAL_TZ)
                 .strftime("%Y-%m-%d %H:%M")):
        assert text in html
    # Newest first.
    assert html.index(a.title) < html.index(network.school_a.home_page.title + "</a>")


def test_filters_by_site_leader_date_kind_and_column(client, network, articles):
    a, b = articles
    client.force_login(network.users["superuser"])

    def titles(**params) -> tuple[bool, bool]:
        html = client.get(register_url(), params).content.decode()
        return a.title in html, b.title in html

    assert titles() == (True, True)
    assert titles(site="jia.test") == (True, False)
    assert titles(site="yi.test") == (False, True)
    assert titles(approver="b_leader") == (False, True)
    assert titles(approver="a_leader") == (True, False)
    assert titles(operator="a_teacher") == (True, False)
    day = today()
    assert titles(date_from=day.isoformat(), date_to=day.isoformat()) == (True, True)
    assert titles(date_to=(day - datetime.timedelta(days=1)).isoformat()) == (False, False)
    assert titles(date_from=(day + datetime.timedelta(days=1)).isoformat()) == (False, False)
    assert titles(kind="takedown") == (False, False)
    teaching = network.column(network.school_a, "teaching")
    assert titles(column=str(teaching.pk)) == (True, False)
    assert titles(column=str(network.column(network.school_a, "news").pk)) == (False, False)
    # The filters' own refresh (Wagtail's listing JS) gets the results fragment.
    fragment = client.get(register_url(), {"site": "yi.test"},
                          headers={"x-requested-with": "XMLHttpRequest"}).content.decode()
    assert b.title in fragment and "<html" not in fragment


def test_other_schools_entries_are_invisible(client, network, articles):
    a, b = articles
    client.force_login(network.users["b_administrator"])
    html = client.get(register_url()).content.decode()
    assert b.title in html and a.title not in html
    assert "jia.test" not in html  # not even among the site filter's choices
    assert network.school_a.home_page.title not in html  # nor among the column choices
    assert client.get(form_url(entry_for(a))).status_code == 404
    assert client.get(form_url(entry_for(b))).status_code == 200
    # A site filter naming another school is refused, not obeyed.
    assert a.title not in client.get(register_url(), {"site": "jia.test"}).content.decode()
    # Superusers see both.
    client.force_login(network.users["superuser"])
    assert client.get(form_url(entry_for(a))).status_code == 200


def test_users_without_page_permissions_are_refused(client, network, articles):
    client.force_login(outsider())
    assert client.get(register_url()).status_code == 403
    assert client.get(form_url(entry_for(articles[0]))).status_code == 403


def test_reports_menu_offers_the_register(client, network):
    client.force_login(network.users["a_teacher"])
    html = client.get(reverse("wagtailadmin_home")).content.decode()
    assert "publication-register" in html and register_url() in html
    client.force_login(outsider())
    assert "publication-register" not in client.get(reverse("wagtailadmin_home")).content.decode()


def test_csv_export(client, network, articles):
    a, b = articles
    client.force_login(network.users["a_administrator"])
    response = client.get(register_url(), {"export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    assert header[:3] == ["序号", "信息内容", "访问地址"]
    assert "登记哈希" in header and "密钥指纹" in header and "签名状态" in header
    entry = entry_for(a)
    row = dict(zip(header, next(r for r in rows[1:] if r[0] == str(entry.seq)), strict=True))
    assert row["信息内容"] == a.title
    assert row["主管领导"] == "a_leader" and row["操作者"] == "a_teacher"
    assert row["初审人"] == "a_administrator"
    assert row["签名方式"] == "口令密钥" and row["签名状态"] == "签名有效"
    assert row["登记哈希"] == entry.entry_hash
    assert row["密钥指纹"] == entry.entry["signature"]["key_id"]
    assert row["发布时间"].startswith(today().isoformat())
    assert b.title not in text
    # Filters apply to the export too.
    filtered = client.get(register_url(), {"export": "csv", "operator": "nobody"})
    assert len(b"".join(filtered.streaming_content).decode("utf-8-sig").splitlines()) == 1


def test_xlsx_export(client, network, articles):
    from openpyxl import load_workbook

    a, _ = articles
    client.force_login(network.users["superuser"])
    response = client.get(register_url(), {"export": "xlsx", "site": "jia.test"})
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = list(workbook.active.iter_rows(values_only=True))
    header = list(rows[0])
    assert header[0] == "序号" and "登记哈希" in header
    entry = entry_for(a)
    row = dict(zip(header, next(r for r in rows[1:] if r[0] == entry.seq), strict=True))
    assert row["信息内容"] == a.title
    assert row["主管领导"] == "a_leader"
    assert row["签名状态"] == "签名有效"
    assert row["登记哈希"] == entry.entry_hash
    assert row["密钥指纹"] == entry.entry["signature"]["key_id"]
    local = entry.published_at.astimezone(LOCAL_TZ).replace(tzinfo=None)
    assert abs(row["发布时间"] - local) < datetime.timedelta(seconds=1)  # Beijing time
    assert all(r[3] == "jia.test" for r in rows[1:])


def test_approval_form_shows_key_fingerprint_and_checkpoint(client, network, articles):
    document = make_document(network.school_a, "招生简章", content=b"%PDF-1.4 admissions",
                             filename="admissions.pdf")
    a = make_article(network.column(network.school_a, "notices"), "招生简章发布",
                     owner=network.users["a_teacher"], attachments=[document])
    entry = entry_for(a)
    attachment = entry.entry["approval"]["attachments"][0]
    client.force_login(network.users["a_leader"])
    html = client.get(form_url(entry)).content.decode()
    key_id = entry.entry["signature"]["key_id"]
    fingerprint = group_fingerprint(key_id=key_id)
    assert fingerprint.split()[:2] == [key_id[:4], key_id[4:8]]
    blocks = fingerprint.split()
    assert " ".join(blocks[:8]) in html and " ".join(blocks[8:]) in html  # two lines of 8
    for text in ("信息发布审批单", a.title, "甲中学", entry.entry_hash,
                 entry.entry["prev_hash"], entry.entry["approval"]["content_sha256"],
                 "a_teacher", "a_administrator", "a_leader", "口令密钥", "window.print()",
                 "尚未纳入检查点", "@page", attachment["filename"], attachment["sha256"]):
        assert text in html, text
    assert entry.entry["signature"]["value"][:40] in html
    assert "wagtail" not in html.lower().split("<body", 1)[1]  # no admin chrome

    try:
        from review.register.checkpoints import make_checkpoint
    except ImportError as error:  # pragma: no cover - depends on the log key setup
        pytest.skip(f"review.register.checkpoints.make_checkpoint could not be imported: {error}")
    checkpoint = make_checkpoint()
    html = client.get(form_url(entry)).content.decode()
    assert "尚未纳入检查点" not in html
    assert checkpoint.root_hash in html and f"树大小：{checkpoint.size}" in html
    assert checkpoint.note.splitlines()[0] in html


def test_takedown_shows_its_reason(client, network, articles):
    from review.pipeline.actions import TakedownAction

    a, _ = articles
    TakedownAction(a, user=network.users["a_administrator"],
                   reason="照片未经家长同意，先行撤下。").execute()
    entry = entry_for(a)
    assert entry.kind == "takedown"
    client.force_login(network.users["a_administrator"])
    html = client.get(register_url(), {"kind": "takedown"}).content.decode()
    assert a.title in html and "撤稿" in html
    html = client.get(form_url(entry)).content.decode()
    assert "照片未经家长同意，先行撤下。" in html and "撤稿原因" in html and "撤稿时间" in html
    assert "a_administrator" in html and "签名值" not in html


def test_revoked_credential_is_shown(client, network, articles):
    a, _ = articles
    credential = entry_for(a).approval_record.credential
    credential.revoked_at = timezone.now()
    credential.save()
    client.force_login(network.users["a_administrator"])
    html = client.get(register_url(), {"site": "jia.test"}).content.decode()
    assert "凭证已吊销" in html and "签名有效" not in html
    assert "凭证已吊销" in client.get(form_url(entry_for(a))).content.decode()


def test_list_queries_are_bounded(client, network, django_assert_max_num_queries):
    column = network.column(network.school_a, "news")
    for number in range(12):
        make_article(column, f"新闻{number}", owner=network.users["a_teacher"])
    assert RegisterEntry.objects.count() >= 20
    client.force_login(network.users["a_administrator"])
    client.get(register_url())  # warm the caches that outlive a request (content types)
    # Independent of the number of entries; per request, the account policies read the
    # account's state and the menu asks whether the user administers accounts; the people
    # the page names are looked up at once (their names, and who else has the same name);
    # the menu asks once each whether the user sees public messages, administers their
    # handlers and sees a site's health.
    with django_assert_max_num_queries(36):
        response = client.get(register_url())
    assert response.status_code == 200
    assert "新闻11" in response.content.decode()
