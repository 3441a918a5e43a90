"""Screening in the pipeline and the admin: blocking findings return the submission, findings
left to people need a recorded reason, authors mask numbers with one click, HTML is sanitised
on every path, attachments are read, and lexicon changes rescan live content."""

import json

import pytest
from django.core.management import call_command
from django.urls import reverse
from wagtail.models import ModelLogEntry, Page, PageLogEntry, WorkflowState

from cms.publishing import submit
from review.models import LexiconEntry, LexiconRescan, ScreeningTaskState
from review.screening.pii import mask
from tests.conftest import act, task_state
from tests.review.test_guard import bearer
from tests.review.test_pii import with_check
from tests.review.world import make_bulletin
from tests.testapp.models import BulletinPage

STUDENT_ID = with_check("11010520100307123")
MOBILE = "13812345678"


@pytest.fixture
def lexicon(db):
    LexiconEntry.objects.create(word="百家乐", category="gambling", severity="block")
    LexiconEntry.objects.create(word="有偿补课", category="education", severity="review")


def draft(world, body: str, *, attachment=None) -> BulletinPage:
    page = make_bulletin(world, "班级通知", live=False, owner=world.users["author"])
    page.body = f"<p>{body}</p>"
    page.document = attachment
    page.save_revision(user=world.users["author"])
    return page


def submitted_draft(world, body: str, **kwargs) -> BulletinPage:
    page = draft(world, body, **kwargs)
    submit(page, user=world.users["author"])
    return page


def make_document(title: str, *, content: bytes = b"%PDF-1.4 blank", filename: str = "a.pdf"):
    from django.core.files.base import ContentFile
    from wagtail.documents import get_document_model

    document = get_document_model()(title=title)
    document.file.save(filename, ContentFile(content), save=False)
    document._set_document_file_metadata()
    document.save()
    return document


def latest_screening(page) -> ScreeningTaskState:
    return ScreeningTaskState.objects.filter(
        workflow_state__object_id=str(page.pk)).order_by("-pk").first()


def test_a_blocking_word_returns_the_submission_to_its_author(client, world, lexicon):
    article = submitted_draft(world, "欢迎加入百 家 乐俱乐部")
    state = WorkflowState.objects.get(object_id=str(article.pk))
    assert state.status == WorkflowState.STATUS_NEEDS_CHANGES
    finding = latest_screening(article).findings[0]
    assert (finding["kind"], finding["severity"], finding["rule"]) == (
        "sensitive_word", "block", "百家乐")
    assert finding["match"] == "百 家 乐"
    assert finding["field"] == "body"

    client.force_login(world.users["author"])
    page = client.get(reverse("wagtailadmin_pages:edit", args=[article.pk])).content.decode()
    assert "自动内容检查发现 1 处问题" in page
    assert "<mark>百 家 乐</mark>" in page


def test_a_clean_submission_goes_to_first_review(world, lexicon):
    article = submitted_draft(world, "本周五下午召开家长会，请各位家长准时参加。")
    assert task_state(article).task.specific_class.__name__ == "FirstReviewTask"
    assert latest_screening(article).findings == []


def test_a_finding_left_to_people_needs_a_recorded_reason(client, world, lexicon):
    article = submitted_draft(world, "严禁教师有偿补课，举报电话 " + MOBILE)
    findings = latest_screening(article).findings
    assert {(f["kind"], f["severity"]) for f in findings} == {
        ("sensitive_word", "review"), ("phone_number", "review")}
    administrator = world.users["reviewer"]
    client.force_login(administrator)
    edit = client.get(reverse("wagtailadmin_pages:edit", args=[article.pk])).content.decode()
    assert "说明理由后通过" in edit

    act(client, administrator, article, "approve", {"comment": ""})
    assert task_state(article).task.specific_class.__name__ == "FirstReviewTask"

    act(client, administrator, article, "approve_with_reason", {"comment": ""})
    assert task_state(article).task.specific_class.__name__ == "FirstReviewTask"
    act(client, administrator, article, "approve_with_reason",
        {"comment": "禁止有偿补课的通知，举报电话为教育局公开号码"})
    assert task_state(article).task.specific_class.__name__ == "LeaderApprovalTask"
    override = PageLogEntry.objects.get(page=article, action="review.screening_overridden")
    assert override.data["reason"] == "禁止有偿补课的通知，举报电话为教育局公开号码"
    assert {f["kind"] for f in override.data["findings"]} == {"sensitive_word", "phone_number"}
    assert MOBILE not in json.dumps(override.data) and mask(MOBILE) in json.dumps(
        override.data, ensure_ascii=False)


def test_content_edited_after_screening_is_screened_again_before_approval(client, world,
                                                                          lexicon):
    article = submitted_draft(world, "本周五下午召开家长会。")
    administrator = world.users["reviewer"]
    edited = Page.objects.get(pk=article.pk).specific
    edited.body = "<p>百家乐开业啦</p>"
    edited.save_revision(user=administrator)
    act(client, administrator, article, "approve", {"comment": "看过了"})
    assert not Page.objects.get(pk=article.pk).live
    assert task_state(article).task.specific_class.__name__ == "FirstReviewTask"


def test_the_author_masks_a_students_id_number_with_one_click(client, world, lexicon):
    article = submitted_draft(world, f"资助名单：张三 身份证号 {STUDENT_ID}")
    assert latest_screening(article).findings[0]["kind"] == "id_number"
    teacher = world.users["author"]
    client.force_login(teacher)
    url = reverse("review_mask", args=[article.content_type_id, article.pk])
    edit = client.get(reverse("wagtailadmin_pages:edit", args=[article.pk])).content.decode()
    assert f'formaction="{url}"' in edit
    assert f"一键打码为 {mask(STUDENT_ID)}" in edit

    response = client.post(url, {"mask_match": STUDENT_ID})
    assert response.status_code == 302
    masked = Page.objects.get(pk=article.pk).specific.get_latest_revision_as_object()
    body = masked.body
    assert STUDENT_ID not in body
    assert mask(STUDENT_ID) in body
    # The findings panel shows the content as it is now: the number is gone from it too.
    edit = client.get(reverse("wagtailadmin_pages:edit", args=[article.pk])).content.decode()
    assert STUDENT_ID not in edit and "一键打码为" not in edit

    submit(masked, user=teacher)
    assert task_state(article).task.specific_class.__name__ == "FirstReviewTask"


def test_only_numbers_the_screener_found_can_be_masked(client, world, other_world, lexicon):
    article = submitted_draft(world, f"身份证号 {STUDENT_ID}，准考证 202312345678")
    client.force_login(world.users["author"])
    revisions = article.revisions.count()
    # Text that is not there, and a number that is there but no finding: neither is touched
    # (the one-click mask changes only what the screener found).
    for not_found in ("本周五", "202312345678"):
        client.post(reverse("review_mask", args=[article.content_type_id, article.pk]),
                    {"mask_match": not_found})
        assert article.revisions.count() == revisions, not_found
    client.force_login(other_world.users["author"])  # another site's author
    response = client.post(reverse("review_mask", args=[article.content_type_id, article.pk]),
                           {"mask_match": STUDENT_ID})
    assert response.status_code in (302, 403)
    assert article.revisions.count() == revisions


def test_attachments_are_screened(world, lexicon):
    document = make_document("资助名单",
                             content=f"姓名,身份证号\n张三,{STUDENT_ID}\n".encode("gb18030"),
                             filename="list.csv")
    article = submitted_draft(world, "附件为资助名单。", attachment=document)
    finding = latest_screening(article).findings[0]
    assert (finding["kind"], finding["field"], finding["match"]) == (
        "id_number", "附件：list.csv", STUDENT_ID)
    assert WorkflowState.objects.get(object_id=str(article.pk)).status == "needs_changes"


def test_an_unreadable_attachment_is_left_to_people(world, lexicon):
    document = make_document("坏文件", content=b"%PDF-1.4 broken",
                             filename="broken.pdf")
    article = submitted_draft(world, "附件。", attachment=document)
    finding = latest_screening(article).findings[0]
    assert (finding["kind"], finding["severity"]) == ("attachment_error", "review")
    assert "broken.pdf" in finding["context"]


# --- Sanitising ----------------------------------------------------------------------------

NASTY = ('<p data-block-key="k0">通知<script>alert(1)</script>'
         '<a href="javascript:alert(1)" onclick="x()">链接</a></p>')


def test_html_from_the_api_is_sanitised(client, world):
    response = client.post("/api/v3/pages/", {
        "meta": {"type": "testapp.BulletinPage", "parent_id": world.home.pk},
        "title": "API 草稿", "slug": "api-nasty", "body": NASTY},
        content_type="application/json", **bearer(world.users["reviewer"]))
    assert response.status_code == 201, response.content
    page = BulletinPage.objects.get(slug="api-nasty")
    for stored in (page.body, page.get_latest_revision_as_object().body):
        assert "<script" not in stored and "javascript:" not in stored
        assert "onclick" not in stored
        assert "通知" in stored and "链接" in stored


def test_html_saved_from_code_is_sanitised(world):
    page = make_bulletin(world, "栏目", live=False)
    page.body = '<p data-block-key="i">栏目<img src=x onerror="alert(1)"></p>'
    page.save_revision()
    assert "onerror" not in page.get_latest_revision_as_object().body
    assert "栏目" in page.get_latest_revision_as_object().body


def test_clean_rich_text_is_stored_unchanged(world):
    body = ('<h2 data-block-key="a">标题</h2><p data-block-key="b">正文<b>加粗</b>'
            '<a linktype="page" id="3">内链</a><a href="https://www.moe.gov.cn">外链</a></p>'
            '<ul><li data-block-key="c">一</li></ul>')
    article = draft(world, "x")
    article.body = body
    revision = article.save_revision()
    assert revision.as_object().body == body


# --- The lexicon: import, export, history, rescans -------------------------------------------

def test_import_and_export(tmp_path, db, capsys):
    csv = tmp_path / "words.csv"
    csv.write_text("word,category,severity,note\n百家乐,gambling,block,\n有偿补课,education,"
                   "review,须复核\n", encoding="utf-8")
    call_command("import_lexicon", str(csv))
    assert "新增 2，更新 0，未变 0，删除 0" in capsys.readouterr().out
    csv.write_text("word,category,severity\n百家乐,gambling,warn\n有偿补课,education,review\n"
                   "六合彩,gambling,block\n", encoding="utf-8")
    call_command("import_lexicon", str(csv), "--replace")
    assert "新增 1，更新 2，未变 0，删除 0" in capsys.readouterr().out
    assert LexiconEntry.objects.get(word="百家乐").severity == "warn"
    assert LexiconEntry.history.filter(word="百家乐").count() == 2

    plain = tmp_path / "plain.txt"
    plain.write_text("网上赌场\n六合彩\n", encoding="gb18030")
    call_command("import_lexicon", str(plain), "--category", "gambling", "--severity", "block",
                 "--replace")
    assert "新增 1，更新 0，未变 1，删除 2" in capsys.readouterr().out
    assert set(LexiconEntry.objects.values_list("word", flat=True)) == {"网上赌场", "六合彩"}

    call_command("export_lexicon")
    assert capsys.readouterr().out == ("word,category,severity,note\n六合彩,gambling,block,\n"
                                       "网上赌场,gambling,block,\n")


def test_a_bad_file_imports_nothing(tmp_path, db):
    from django.core.management.base import CommandError

    csv = tmp_path / "words.csv"
    csv.write_text("word,category,severity\n百家乐,gambling,block\n赌,gambling,block\n"
                   "六合彩,gambling,sometimes\n", encoding="utf-8")
    with pytest.raises(CommandError) as raised:
        call_command("import_lexicon", str(csv))
    assert "第 3 行" in str(raised.value) and "第 4 行" in str(raised.value)
    assert not LexiconEntry.objects.exists()
    with pytest.raises(CommandError, match="无法读取"):
        call_command("import_lexicon", str(tmp_path / "missing.csv"))


def test_the_starter_lexicon_imports(db, capsys):
    from django.conf import settings

    call_command("import_lexicon", str(settings.BASE_DIR / "review/lexicon/starter.csv"))
    call_command("import_lexicon", str(settings.BASE_DIR / "review/lexicon/allow.csv"), "--allow")
    assert LexiconEntry.objects.count() > 300
    assert not LexiconEntry.objects.filter(category="political").exists()


def test_lexicon_admin_refuses_single_characters_and_keeps_history(client, world):
    root = world.users["root"]
    client.force_login(root)
    add = reverse("wagtailsnippets_review_lexiconentry:add")
    response = client.post(add, {"word": "赌", "category": "gambling", "severity": "block"})
    assert response.status_code == 200
    assert not LexiconEntry.objects.exists()
    client.post(add, {"word": "百家乐", "category": "gambling", "severity": "block"})
    entry = LexiconEntry.objects.get(word="百家乐")
    client.post(reverse("wagtailsnippets_review_lexiconentry:edit", args=[entry.pk]),
                {"word": "百家乐", "category": "gambling", "severity": "review"})
    history = client.get(reverse("review_lexicon_history")).content.decode()
    assert "百家乐" in history and "block → review" in history and "root" in history


def test_a_lexicon_change_rescans_live_content(client, world,
                                               django_capture_on_commit_callbacks):
    live = make_bulletin(world, "百家乐俱乐部开业")
    make_bulletin(world, "运动会通知")
    client.force_login(world.users["root"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("wagtailsnippets_review_lexiconentry:add"),
                    {"word": "百家乐", "category": "gambling", "severity": "block"})
    assert LexiconRescan.objects.get().status == LexiconRescan.Status.PENDING
    call_command("rescan_live")
    rescan = LexiconRescan.objects.get()
    assert rescan.status == LexiconRescan.Status.DONE
    assert rescan.checked == Page.objects.live().count()
    assert [m["object_id"] for m in rescan.matches] == [str(live.pk)]
    report = client.get(reverse("review_lexicon_rescans")).content.decode()
    assert "百家乐俱乐部开业" in report and "<mark>百家乐</mark>" in report


def test_an_import_queues_one_rescan(tmp_path, db, django_capture_on_commit_callbacks):
    for n in range(20):
        LexiconEntry.objects.create(word=f"旧词{n:02}", category="spam", severity="block")
    csv = tmp_path / "words.csv"
    csv.write_text("word,category,severity\n新词条,spam,block\n", encoding="utf-8")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        call_command("import_lexicon", str(csv), "--replace")  # 20 deletions, one by one
    assert len(callbacks) <= 1  # at most one task enqueued (none: rescans not in background)
    assert LexiconRescan.objects.count() == 1


def test_a_leader_cannot_sign_what_became_blocked(world, lexicon):
    from cms.publishing import act as take_action
    from review.context import Refused
    from review.models import Approval
    from tests.review.world import PASSPHRASE as LEADER_PASSPHRASE

    article = submitted_draft(world, "欢迎参加六合彩抽奖活动")
    take_action(article, user=world.users["reviewer"], action="approve", comment="")
    LexiconEntry.objects.create(word="六合彩", category="gambling", severity="block")
    with pytest.raises(Refused, match="六合彩"):
        take_action(article, user=world.users["leader"], action="approve", comment="",
                    passphrase=LEADER_PASSPHRASE)
    assert not Approval.objects.filter(object_id=str(article.pk)).exists()
    assert not Page.objects.get(pk=article.pk).live


def test_attachments_of_other_kinds_are_left_to_people(world, lexicon):
    document = make_document("课件", content=b"PK\x03\x04 slides",
                             filename="slides.pptx")
    article = submitted_draft(world, "附件为课件。", attachment=document)
    finding = latest_screening(article).findings[0]
    assert (finding["kind"], finding["severity"], finding["rule"]) == (
        "attachment_error", "review", "unsupported")


def test_document_titles_are_screened(world, lexicon):
    document = make_document("百家乐官网下载")
    article = submitted_draft(world, "附件。", attachment=document)
    finding = latest_screening(article).findings[0]
    assert (finding["kind"], finding["match"]) == ("sensitive_word", "百家乐")
    assert finding["field"].startswith("附件：")


# --- The scan command ------------------------------------------------------------------------

def run_scan(*args) -> tuple[int, dict]:
    import io

    out = io.StringIO()
    try:
        call_command("scan", *args, stdout=out, stderr=io.StringIO())
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, json.loads(out.getvalue())


def test_scan_reports_findings_as_json(tmp_path, lexicon):
    clean = tmp_path / "clean.txt"
    clean.write_text("本周五召开家长会。", encoding="utf-8")
    page = tmp_path / "page.html"
    page.write_text('<p>百<b>家</b>乐</p><div style="display:none"><a href="http://x.cn">'
                    "彩票</a></div>", encoding="utf-8")
    code, report = run_scan(str(clean), str(page))
    assert code == 1
    assert report["files"][0] == {"path": str(clean), "findings": []}
    findings = report["files"][1]["findings"]
    assert set(findings[0]) == {"kind", "severity", "category", "rule", "start", "end",
                                "match", "context", "suggestion"}  # suggestion: issue 20
    kinds = {f["kind"] for f in findings}
    assert kinds == {"sensitive_word", "hidden_content"}
    word = next(f for f in findings if f["kind"] == "sensitive_word")
    html = page.read_text(encoding="utf-8")
    assert html[word["start"]:word["end"]] == word["match"] == "百<b>家</b>乐"


def test_scan_exit_codes(tmp_path, lexicon):
    clean = tmp_path / "clean.md"
    clean.write_text("# 通知\n请按时到校。", encoding="utf-8")
    assert run_scan(str(clean))[0] == 0
    warned = tmp_path / "warned.txt"
    warned.write_text("严禁有偿补课", encoding="utf-8")
    assert run_scan(str(warned))[0] == 0  # review findings do not block
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 not really")
    blocked = tmp_path / "ids.csv"
    blocked.write_text(f"张三,{STUDENT_ID}\n", encoding="utf-8")
    code, report = run_scan(str(broken), str(blocked))
    assert code == 2
    assert "broken.pdf" in report["files"][0]["error"]
    assert report["files"][1]["findings"][0]["kind"] == "id_number"


def test_scan_with_a_lexicon_file_needs_no_database_entries(tmp_path, db):
    words = tmp_path / "words.txt"
    words.write_text("百家乐\n", encoding="utf-8")
    text = tmp_path / "a.txt"
    text.write_text("百家乐", encoding="utf-8")
    assert run_scan("--lexicon", str(words), str(text))[0] == 1
    assert run_scan(str(text))[0] == 0


def test_screening_is_logged(world, lexicon):
    article = submitted_draft(world, "百家乐")
    entry = PageLogEntry.objects.get(page=article, action="review.screened")
    assert entry.data == {"findings": 1, "blocked": 1}
    assert not ModelLogEntry.objects.filter(action="review.screening_overridden").exists()


def test_the_lexicon_lists_filters_and_exports(client, world, lexicon):
    client.force_login(world.users["root"])
    listing = client.get(reverse("wagtailsnippets_review_lexiconentry:list"),
                         {"severity": "review"}).content.decode()
    assert "有偿补课" in listing and "百家乐" not in listing
    export = client.get(reverse("wagtailsnippets_review_lexiconentry:list"),
                        {"export": "csv"})
    assert "百家乐" in b"".join(export.streaming_content).decode("utf-8-sig")
    client.force_login(world.users["author"])
    assert client.get(reverse("review_lexicon_history")).status_code in (302, 403)


def test_scan_errors_exit_2(tmp_path, db, monkeypatch):
    from django.db import connections

    # run_from_argv closes every connection when it ends, as a process would: on PostgreSQL
    # that would end the test's transaction, and the kept build around it, under the tests
    # that follow on this worker.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    bad = tmp_path / "bad.csv"
    bad.write_text("word,category,severity\n赌,gambling,block\n", encoding="utf-8")
    text = tmp_path / "a.txt"
    text.write_text("x", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_:
        from django.core.management import execute_from_command_line

        execute_from_command_line(["manage.py", "scan", "--lexicon", str(bad), str(text)])
    assert exit_.value.code == 2
