"""Protected names, wording rules and typos (issue 20) through what people touch: the import
and export commands, the admin with its history, the pipeline's findings with a suggestion
and the author's one-click replacement, rescans when a list changes, ``scan`` and
``scan_live``."""

import io
import json

import openpyxl
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from wagtail.models import Page, PageLogEntry, WorkflowState

from review.models import LexiconRescan, ProtectedName, TypoEntry, WordingRule
from tests.review.test_screening import latest_screening, submitted_draft
from tests.review.world import make_bulletin

STARTER = settings.BASE_DIR / "review" / "lexicon"


@pytest.fixture
def names(db):
    ProtectedName.objects.create(name="杜家毫", title="湖南省委书记")
    WordingRule.objects.create(wrong="一带一路战略", right="一带一路倡议", severity="block")
    TypoEntry.objects.create(wrong="按装", right="安装")


# --- import and export -------------------------------------------------------------------------

LISTS = [
    ("names", ProtectedName, "name,title,note\n杜家毫,湖南省委书记,\n教育部,,国家机关\n",
     "name,title,note\n教育部,,国家机关\n", ("name", "title")),
    ("wording", WordingRule, "wrong,right,severity,note\n一带一路战略,一带一路倡议,block,倡议\n"
     "两岸三地,海峡两岸及香港、澳门,,\n", "wrong,right,severity,note\n两岸三地,两岸,review,\n",
     ("wrong",)),
    ("typos", TypoEntry, "wrong,right\n按装,安装\n既使,即使\n", "wrong,right\n既使,即使\n",
     ("wrong",)),
]


@pytest.mark.parametrize(("which", "model", "first", "second", "key"), LISTS)
def test_import_replace_and_export_round_trip(tmp_path, db, which, model, first, second, key):
    path = tmp_path / "list.csv"
    path.write_text(first, encoding="utf-8")
    out = io.StringIO()
    call_command(f"import_{which}", str(path), stdout=out)
    assert "新增 2" in out.getvalue()
    assert model.objects.count() == 2
    assert LexiconRescan.objects.filter(status=LexiconRescan.Status.PENDING).count() == 1

    path.write_text(second, encoding="utf-8")
    call_command(f"import_{which}", str(path), "--replace", stdout=io.StringIO())
    assert model.objects.count() == 1
    assert model.history.filter(history_type="-").count() == 1  # the deletion is kept

    exported = io.StringIO()
    call_command(f"export_{which}", stdout=exported)
    assert exported.getvalue().replace("\r", "") == second.replace(",review,", ",review,")


@pytest.mark.parametrize(("which", "model", "bad"), [
    ("names", ProtectedName, "name,title,note\n杜家毫,,\n杜,,\n杜家毫,,\n"),
    ("wording", WordingRule, "wrong,right,severity,note\n一带一路战略,一带一路倡议,fatal,\n"),
    ("typos", TypoEntry, "wrong,right\n按装,安装\n按装,安装\n,x\n"),
])
def test_a_file_with_any_bad_row_imports_nothing(tmp_path, db, which, model, bad):
    path = tmp_path / "bad.csv"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(CommandError, match=r"第 [0-9]+ 行") as error:
        call_command(f"import_{which}", str(path), stdout=io.StringIO())
    assert "未导入" in str(error.value)
    assert model.objects.count() == 0
    assert not LexiconRescan.objects.exists()


def test_plain_text_names_one_a_line(tmp_path, db):
    path = tmp_path / "names.txt"
    path.write_text("中华人民共和国教育部\n青溪县实验小学\n", encoding="gb18030")
    call_command("import_names", str(path), stdout=io.StringIO())
    assert sorted(ProtectedName.objects.values_list("name", flat=True)) == [
        "中华人民共和国教育部", "青溪县实验小学"]


def test_the_starter_lists_import(db):
    for which, name in (("names", "names.csv"), ("wording", "wording.csv"),
                        ("typos", "typos.csv")):
        call_command(f"import_{which}", str(STARTER / name), stdout=io.StringIO())
    assert WordingRule.objects.filter(wrong="一带一路战略", right="一带一路倡议").exists()
    assert TypoEntry.objects.filter(wrong="再接再励", right="再接再厉").exists()
    assert TypoEntry.objects.count() >= 150
    assert ProtectedName.objects.filter(name="中华人民共和国").exists()


# --- the admin ---------------------------------------------------------------------------------

def test_the_lists_are_kept_in_the_admin_with_history(client, world,
                                                      django_capture_on_commit_callbacks):
    client.force_login(world.users["root"])
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("wagtailsnippets_review_protectedname:add"),
                               {"name": "杜家毫", "title": "湖南省委书记", "note": ""})
    assert response.status_code == 302
    entry = ProtectedName.objects.get()
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("wagtailsnippets_review_protectedname:edit", args=[entry.pk]),
                    {"name": "杜家毫", "title": "湖南省委原书记", "note": "改任"})
    assert LexiconRescan.objects.filter(status=LexiconRescan.Status.PENDING).count() == 1
    history = client.get(reverse("review_lexicon_history") + "?which=names").content.decode()
    assert "湖南省委书记杜家毫" in history and "湖南省委原书记杜家毫" in history
    assert "新增" in history and "修改" in history
    for model in ("wordingrule", "typoentry", "protectedname"):
        listing = client.get(reverse(f"wagtailsnippets_review_{model}:list"))
        assert listing.status_code == 200
    for which in ("wording", "typos"):
        assert client.get(reverse("review_lexicon_history") + f"?which={which}"
                          ).status_code == 200


def test_authors_cannot_change_the_lists(client, world):
    client.force_login(world.users["author"])
    response = client.post(reverse("wagtailsnippets_review_wordingrule:add"),
                           {"wrong": "两岸三地", "right": "两岸", "severity": "block"})
    assert response.status_code in (302, 403)
    assert not WordingRule.objects.exists()
    assert client.get(reverse("review_lexicon_history") + "?which=names").status_code in (
        302, 403)


def test_bad_entries_are_refused_in_the_admin(client, world):
    client.force_login(world.users["root"])
    response = client.post(reverse("wagtailsnippets_review_protectedname:add"),
                           {"name": "杜", "title": "", "note": ""})
    assert response.status_code == 200 and "至少两个字符" in response.content.decode()
    assert not ProtectedName.objects.exists()
    response = client.post(reverse("wagtailsnippets_review_typoentry:add"),
                           {"wrong": "安装", "right": "安装"})
    assert response.status_code == 200 and "不能与错误写法相同" in response.content.decode()
    assert not TypoEntry.objects.exists()


# --- the pipeline and the editor ---------------------------------------------------------------

def test_an_expression_error_blocks_and_the_author_replaces_it_with_one_click(client, world,
                                                                             names):
    article = submitted_draft(world, "湖南省委书记杜家豪到校调研，学校按装了新空调。")
    assert WorkflowState.objects.get(object_id=str(article.pk)).status == "needs_changes"
    findings = {f["kind"]: f for f in latest_screening(article).findings}
    assert findings["expression"]["suggestion"] == "湖南省委书记杜家毫"
    assert findings["typo"]["suggestion"] == "安装"
    assert findings["typo"]["severity"] == "warn"
    assert "（应为“湖南省委书记杜家毫”）" in latest_screening(article).comment

    client.force_login(world.users["author"])
    url = reverse("review_apply_suggestion", args=[article.content_type_id, article.pk])
    edit = client.get(reverse("wagtailadmin_pages:edit", args=[article.pk])).content.decode()
    assert f'formaction="{url}"' in edit
    assert "一键替换为“湖南省委书记杜家毫”" in edit and "应为“安装”" in edit

    revisions = article.revisions.count()
    response = client.post(url, {"replace_match": "湖南省委书记杜家豪"})
    assert response.status_code == 302
    body = Page.objects.get(pk=article.pk).specific.get_latest_revision_as_object().body
    assert "杜家豪" not in body and "湖南省委书记杜家毫" in body
    assert article.revisions.count() == revisions + 1
    entry = PageLogEntry.objects.get(page=article, action="review.suggestion_applied")
    assert entry.data == {"old": "湖南省委书记杜家豪", "new": "湖南省委书记杜家毫"}


def test_only_what_the_screener_found_can_be_replaced(client, world, other_world, names):
    article = submitted_draft(world, "杜家豪到校调研。")
    url = reverse("review_apply_suggestion", args=[article.content_type_id, article.pk])
    revisions = article.revisions.count()
    client.force_login(world.users["author"])
    client.post(url, {"replace_match": "到校"})  # there, but not a finding
    assert article.revisions.count() == revisions
    client.force_login(other_world.users["author"])  # another site's author
    response = client.post(url, {"replace_match": "杜家豪"})
    assert response.status_code in (302, 403)
    assert article.revisions.count() == revisions


def test_a_change_of_the_names_rescans_live_content(world, django_capture_on_commit_callbacks):
    live = make_bulletin(world, "杜家豪同志到校调研")
    with django_capture_on_commit_callbacks(execute=False):
        ProtectedName.objects.create(name="杜家毫", title="湖南省委书记")
    assert LexiconRescan.objects.get().status == LexiconRescan.Status.PENDING
    call_command("rescan_live", stdout=io.StringIO())
    rescan = LexiconRescan.objects.get()
    assert [m["object_id"] for m in rescan.matches] == [str(live.pk)]
    assert rescan.matches[0]["findings"][0]["suggestion"] == "杜家毫"


def test_a_sites_own_name_is_protected(world):
    from review.screening.objects import screen_findings

    page = make_bulletin(world, "公告拦通知")  # the site is called 公告栏
    found = [f for f in screen_findings(page) if f.kind == "expression"]
    assert [(f.field, f.match, f.suggestion) for f in found] == [
        ("title", "公告拦", "公告栏"), ("body", "公告拦", "公告栏")]


# --- scan and scan_live ------------------------------------------------------------------------

def test_scan_json_carries_suggestions(tmp_path, names):
    path = tmp_path / "news.html"
    path.write_text("<p>推进一带一路战略，学校按装了空调。</p>", encoding="utf-8")
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_code:
        call_command("scan", str(path), stdout=out)
    assert exit_code.value.code == 1
    findings = json.loads(out.getvalue())["files"][0]["findings"]
    assert [(f["kind"], f["match"], f["suggestion"]) for f in findings] == [
        ("expression", "一带一路战略", "一带一路倡议"), ("typo", "按装", "安装")]


def test_scan_live_checks_every_live_page_of_a_site(tmp_path, world, other_world, names):
    bad = make_bulletin(world, "杜家豪到校调研")
    make_bulletin(world, "运动会通知")
    make_bulletin(other_world, "学校按装了空调", parent=other_world.home)
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("scan_live", "--site", "board", stdout=out, stderr=io.StringIO())
    report = json.loads(out.getvalue())
    assert report["site"] == "board"
    assert [o["object_id"] for o in report["objects"]] == [str(bad.pk)]
    assert report["objects"][0]["findings"][0]["suggestion"] == "杜家毫"
    assert report["checked"] == Page.objects.live().descendant_of(
        world.home, inclusive=True).count()

    xlsx = tmp_path / "report.xlsx"
    call_command("scan_live", "--site", "elsewhere.test", "--format", "xlsx", "--output",
                 str(xlsx), stderr=io.StringIO())
    rows = list(openpyxl.load_workbook(xlsx).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("页面", "地址", "级别")
    assert [(r[0], r[3], r[5], r[6], r[7]) for r in rows[1:]] == [
        ("学校按装了空调", "错别字", "按装", "安装", "标题"),
        ("学校按装了空调", "错别字", "按装", "安装", "body")]

    with pytest.raises(CommandError, match="没有站点"):
        call_command("scan_live", "--site", "nowhere")
