"""Records people can read (issue 18, finding 6): the register, its spreadsheet, the approval
form (审批单) and the takedown e-mail name people by name (with the login name where two
share one), give Beijing time to the second, files by the name they were uploaded under and
addresses decoded — while what was signed keeps login names, storage names and encoded
addresses."""

import io

import pytest
from django.core import mail
from django.urls import reverse

from review.models import RegisterEntry
from review.people import display_names
from review.pipeline.notifications import local_time
from review.reports import LOCAL_TZ, readable_url, uploaded_name
from tests.conftest import make_article, make_document


def entry_for(page) -> RegisterEntry:
    return RegisterEntry.objects.filter(object_id=str(page.pk)).latest("seq")


def name(user, first_name: str) -> None:
    user.first_name = first_name
    user.save(update_fields=["first_name"])


@pytest.fixture
def signed(network):
    """An article with an attachment whose stored name storage had to make unique, under a
    Chinese slug, by a teacher with a name, approved by a leader with one."""
    name(network.users["a_teacher"], "王晓燕")
    name(network.users["a_leader"], "李校长")
    make_document(network.school_a, "读书活动安排", filename="dushu-anpai.pdf")
    document = make_document(network.school_a, "读书活动安排（修订）",
                             filename="dushu-anpai.pdf")
    assert document.file.name != "documents/dushu-anpai.pdf"  # a suffix was added
    article = make_article(network.column(network.school_a, "teaching"), "七年级读书活动",
                           owner=network.users["a_teacher"], slug="七年级读书活动",
                           attachments=[document])
    return article, entry_for(article)


def test_the_register_table_reads_as_people_write(client, network, signed):
    _, entry = signed
    client.force_login(network.users["a_administrator"])
    html = client.get(reverse("review_register")).content.decode()
    assert "操作：王晓燕" in html and "审批：李校长" in html
    assert "附件：dushu-anpai.pdf" in html
    local = entry.published_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S")
    assert local in html


def test_the_spreadsheet_reads_as_people_write(client, network, signed):
    from openpyxl import load_workbook

    _, entry = signed
    client.force_login(network.users["a_administrator"])
    response = client.get(reverse("review_register"), {"export": "xlsx"})
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = list(workbook.active.iter_rows(values_only=True))
    row = dict(zip(rows[0], next(r for r in rows[1:] if r[0] == entry.seq), strict=True))
    assert row["操作者"] == "王晓燕" and row["主管领导"] == "李校长"
    assert row["附件"] == "dushu-anpai.pdf"
    assert row["访问地址"].endswith("/七年级读书活动/")


def test_the_approval_form_reads_as_people_write_and_signs_what_it_signed(client, network,
                                                                          signed):
    _, entry = signed
    approval = entry.entry["approval"]
    # What is signed is unchanged: login names, the storage name, the encoded address.
    assert (approval["operator"], approval["approver"]) == ("a_teacher", "a_leader")
    assert "%E4%B8%83" in approval["url"]
    client.force_login(network.users["a_leader"])
    html = client.get(reverse("review_register_form", args=[entry.seq])).content.decode()
    assert "王晓燕（a_teacher）" in html and "李校长（a_leader）" in html
    assert "/七年级读书活动/" in html and "%E4%B8%83" not in html
    assert ">dushu-anpai.pdf<" in html
    assert approval["attachments"][0]["filename"] in html  # the storage name, as signed


def test_a_name_two_people_share_comes_with_their_login_names(network):
    name(network.users["a_teacher"], "张伟")
    name(network.users["b_teacher"], "张伟")
    name(network.users["a_leader"], "李校长")
    assert display_names(usernames=["a_teacher", "a_leader", "gone"]) == {
        "a_teacher": "张伟（a_teacher）", "a_leader": "李校长", "gone": "gone"}


def test_the_takedown_email_gives_beijing_time(client, network, signed,
                                             django_capture_on_commit_callbacks):
    article, _ = signed
    name(network.users["a_administrator"], "赵老师")
    network.users["a_leader"].email = "leader@jia.test"
    network.users["a_leader"].save(update_fields=["email"])
    client.force_login(network.users["a_administrator"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("review_takedown", args=[article.pk]), {"reason": "日期有误"})
    entry = RegisterEntry.objects.filter(kind="takedown").latest("seq")
    taken_down = entry.entry["approval"]["taken_down_at"]
    assert taken_down.endswith("Z")  # the register keeps UTC
    [message] = [m for m in mail.outbox if "leader@jia.test" in m.to]
    assert f"赵老师 于 {local_time(taken_down)}（北京时间）" in message.body
    assert taken_down not in message.body
    assert local_time("2026-12-02T02:22:44.154883Z") == "2026-12-02 10:22:44"


def test_readable_pieces():
    assert readable_url("/teaching/%E4%B8%83%E5%B9%B4%E7%BA%A7/") == "/teaching/七年级/"
    assert uploaded_name("documents/dushu-anpai_33TkO3X.pdf") == "dushu-anpai.pdf"
    assert uploaded_name("documents/report.pdf") == "report.pdf"
    assert uploaded_name("documents/notes_2026.pdf") == "notes_2026.pdf"
