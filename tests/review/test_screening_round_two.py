"""Screening, round two (issue 20), as plain code: block-level boundaries separate text for
every detector, injected spam is caught out of the box, a warning context downgrades a
blocking word to review, and serious expression errors and typos come with suggestions."""

import io

import docx
import openpyxl
import pytest

from review.exceptions import LexiconFileError
from review.screening import expression_io
from review.screening.expression import (
    CompiledExpressions,
    ProtectedName,
    TypoPair,
    WordingRule,
    name_variants,
)
from review.screening.matching import CompiledLexicon, Term
from review.screening.screener import screen_file, screen_html, screen_text
from tests.review.test_extract import make_pdf

ID = "230102201409246869"
MOBILE = "18600266862"
CARD = "6228482954233671722"
SEED_SPAM = ("亚洲国产日韩欧美在线a乱码,国产精品路线1路线2路线,亚洲视频一区,精品国产自,www狠狠,"
             "国产情侣激情在线视频免费看,亚洲成年网站在线观看")


def numbers(findings) -> list[tuple[str, str]]:
    return [(f.kind, f.match) for f in findings
            if f.kind in ("id_number", "phone_number", "bank_card")]


EMPTY = CompiledLexicon([])
EXPECTED = [("id_number", ID), ("phone_number", MOBILE), ("bank_card", CARD)]


# --- (1) block-level boundaries --------------------------------------------------------------

@pytest.mark.parametrize("html", [
    f"<table><tr><td>张伟</td><td>{ID}</td><td>{MOBILE}</td><td>{CARD}</td></tr></table>",
    f"<p>张伟</p><p>{ID}</p><p>{MOBILE}</p><p>{CARD}</p>",
    f"<ul><li>{ID}</li><li>{MOBILE}</li><li>{CARD}</li></ul>",
    f"<div>{ID}</div><div>{MOBILE}</div><h3>{CARD}</h3>",
    f"{ID}<br>{MOBILE}<br/>{CARD}",
    f"<table><tr><th>{ID}</th></tr><tr><td>{MOBILE}</td></tr><tr><td>{CARD}</td></tr></table>",
])
def test_numbers_in_neighbouring_cells_paragraphs_and_lines_are_found(html):
    assert numbers(screen_html(html, lexicon=EMPTY)) == EXPECTED


def test_the_same_numbers_with_spaces_between_them_are_found():
    assert numbers(screen_text(f"张伟 {ID} {MOBILE} {CARD}", lexicon=EMPTY)) == EXPECTED


@pytest.mark.parametrize("html", [
    "<p>1<b>3</b>8<span>1234</span>5678</p>",
    '<p>电话 <a href="tel:1">138</a>12345678</p>',
    "<p><strong>138</strong><em>1234</em><font>5678</font></p>",
])
def test_inline_tags_still_join_digits(html):
    found = numbers(screen_html(html, lexicon=EMPTY))
    assert [kind for kind, _ in found] == ["phone_number"]


def test_a_word_split_by_inline_tags_blocks_and_across_cells_only_warns():
    lexicon = CompiledLexicon([Term("百家乐", "gambling", "block")])
    inline = screen_html("<p>百<b>家</b>乐</p>", lexicon=lexicon)
    assert [(f.kind, f.severity) for f in inline] == [("sensitive_word", "block")]
    cells = screen_html("<table><tr><td>百</td><td>家乐</td></tr></table>", lexicon=lexicon)
    assert [(f.kind, f.severity) for f in cells] == [("sensitive_word", "warn")]


def test_a_name_split_by_a_cell_boundary_is_not_an_expression_error():
    lexicon = CompiledLexicon([], expressions=CompiledExpressions(typos=[
        TypoPair(wrong="按装", right="安装")]))
    assert [f.kind for f in screen_html("<p>按<b>装</b>空调</p>", lexicon=lexicon)] == ["typo"]
    assert screen_html("<td>按</td><td>装空调</td>", lexicon=lexicon) == []


def test_docx_table_cells_are_separate_text():
    document = docx.Document()
    table = document.add_table(rows=1, cols=4)
    for cell, value in zip(table.rows[0].cells, ("张伟", ID, MOBILE, CARD), strict=True):
        cell.text = value
    out = io.BytesIO()
    document.save(out)
    assert numbers(screen_file(io.BytesIO(out.getvalue()), name="名单.docx",
                               lexicon=EMPTY)) == EXPECTED


def test_xlsx_cells_are_separate_text():
    book = openpyxl.Workbook()
    book.active.append(["张伟", ID, MOBILE, CARD])
    out = io.BytesIO()
    book.save(out)
    assert numbers(screen_file(io.BytesIO(out.getvalue()), name="名单.xlsx",
                               lexicon=EMPTY)) == EXPECTED


def test_pdf_table_rows_are_separate_text():
    pdf = make_pdf([[f"Zhang Wei {ID} {MOBILE} {CARD}", ID, MOBILE]])
    found = numbers(screen_file(io.BytesIO(pdf), name="名单.pdf", lexicon=EMPTY))
    assert found == [*EXPECTED, ("id_number", ID), ("phone_number", MOBILE)]


def test_html_files_get_block_boundaries_too():
    html = f"<html><body><table><tr><td>{ID}</td><td>{MOBILE}</td></tr></table></body></html>"
    found = numbers(screen_file(io.BytesIO(html.encode()), name="名单.html", lexicon=EMPTY))
    assert found == EXPECTED[:2]


# --- (2) spam out of the box, educational context ---------------------------------------------

def test_the_injected_seo_line_blocks_with_an_empty_lexicon():
    text = (SEED_SPAM + "\n\n教育信息化管理制度\n\n"
            "为充分发挥网络优势，结合实际需要，加强对市教育信息网的管理。")
    found = screen_text(text, lexicon=EMPTY)
    assert [(f.kind, f.severity) for f in found] == [("spam", "block")]
    assert found[0].match == SEED_SPAM


def test_spam_dressed_up_as_a_warning_is_still_reported():
    found = screen_text(SEED_SPAM + ",严禁未成年人观看", lexicon=EMPTY)
    assert [(f.kind, f.severity) for f in found] == [("spam", "review")]


@pytest.mark.parametrize("text", [
    "语文、数学、英语、科学、道德与法治、音乐、美术、体育",
    "亚洲、欧洲、非洲、北美洲、南美洲、大洋洲和南极洲",
    "精品课程，在线学习，免费观看，高清视频，国产教材",
    "同学们在老师的带领下认真学习，课堂气氛活跃，大家积极发言，互相讨论，收获很多。",
])
def test_ordinary_lists_are_not_spam(text):
    assert screen_text(text, lexicon=EMPTY) == []


def test_a_drug_lesson_listing_drugs_is_not_blocked():
    lexicon = CompiledLexicon([Term("冰毒", "drugs", "block"), Term("摇头丸", "drugs", "block"),
                               Term("k粉", "drugs", "block")])
    lesson = "禁毒课上，民警向同学们展示了冰毒、海洛因、摇头丸、K粉等常见毒品的仿真样品。"
    found = screen_text(lesson, lexicon=lexicon)
    assert {(f.kind, f.severity) for f in found} <= {("sensitive_word", "review"),
                                                     ("spam", "review")}
    assert [f.kind for f in found].count("sensitive_word") == 3
    trade = "出售冰毒、麻古、K粉，摇头丸，同城代购，货到付款"
    assert "spam" in {f.kind for f in screen_text(trade, lexicon=lexicon)}


def test_disguised_spam_words_start_runs_through_the_lexicon():
    lexicon = CompiledLexicon([Term("百家乐", "gambling", "block"), Term("娱乐城", "gambling",
                                                                     "block")])
    text = "百.家.乐,娱*乐*城,在线观看,真人视频,免费开户,官网入口"
    assert "spam" in {f.kind for f in screen_text(text, lexicon=lexicon)}


def test_hidden_content_with_lexicon_words_blocks():
    lexicon = CompiledLexicon([Term("百家乐", "gambling", "review")])
    hidden = screen_html('<div style="display:none">百家乐 真人娱乐</div><p>正文</p>',
                         lexicon=lexicon)
    assert ("hidden_content", "block") in {(f.kind, f.severity) for f in hidden}
    plain = screen_html('<div style="display:none">运动会通知</div><p>正文</p>', lexicon=lexicon)
    assert [(f.kind, f.severity) for f in plain] == [("hidden_content", "review")]


def test_a_blocking_word_in_an_educational_warning_is_downgraded_to_review():
    lexicon = CompiledLexicon([Term("迷幻药", "drugs", "block")])
    lesson = screen_text("禁毒教育主题班会上，民警讲解了迷幻药的危害。", lexicon=lexicon)
    assert [(f.kind, f.severity) for f in lesson] == [("sensitive_word", "review")]
    assert "警示教育" in lesson[0].rule
    trade = screen_text("出售迷幻药，货到付款。", lexicon=lexicon)
    assert [(f.kind, f.severity) for f in trade] == [("sensitive_word", "block")]
    # The warning must be in the same sentence: a later sentence does not excuse it.
    other = screen_text("出售迷幻药，货到付款。禁毒教育很重要。", lexicon=lexicon)
    assert [f.severity for f in other] == ["block"]


# --- (3) typos ---------------------------------------------------------------------------------

TYPOS = [TypoPair(wrong="按装", right="安装"), TypoPair(wrong="既使", right="即使"),
         TypoPair(wrong="再接再励", right="再接再厉"), TypoPair(wrong="渡假", right="度假"),
         TypoPair(wrong="竟争", right="竞争")]


@pytest.mark.parametrize(("text", "expected"), [
    ("学校为每个教室按装了空调。", [("按装", "安装")]),
    ("既使下雨，运动会也照常进行。", [("既使", "即使")]),
    ("希望同学们再接再励，取得更好成绩。", [("再接再励", "再接再厉")]),
    ("暑假里全家去海南渡假。", [("渡假", "度假")]),
    ("学校为每个教室安装了空调。", []),
    ("即使下雨，运动会也照常进行。", []),
    ("他既使用了新方法，又总结了经验。", []),  # 既 + 使用
    ("过渡假期要注意安全。", []),  # 过渡 + 假期
    ("他们究竟争论什么？", []),  # 究竟 + 争论
])
def test_typos_are_word_boundary_aware(text, expected):
    lexicon = CompiledLexicon([], expressions=CompiledExpressions(typos=TYPOS))
    found = screen_text(text, lexicon=lexicon)
    assert [(f.match, f.suggestion) for f in found] == expected
    assert all(f.kind == "typo" and f.severity == "warn" for f in found)


# --- (4) expression ----------------------------------------------------------------------------

NAMES = [ProtectedName(name="杜家毫", title="湖南省委书记"),
         ProtectedName(name="李明", title="青溪县教育局局长"),
         ProtectedName(name="王强", title="青溪县实验小学校长"),
         ProtectedName(name="中华人民共和国教育部"), ProtectedName(name="青溪县实验小学")]
RULES = [WordingRule(wrong="一带一路战略", right="一带一路倡议", severity="block", note="倡议"),
         WordingRule(wrong="两岸三地", right="海峡两岸及香港、澳门", severity="block")]


@pytest.fixture(scope="module")
def expressions():
    return CompiledLexicon([], expressions=CompiledExpressions(names=NAMES, rules=RULES))


@pytest.mark.parametrize(("text", "expected"), [
    ("杜家豪同志在座谈会上讲话。", [("杜家豪", "杜家毫")]),  # homophone
    ("杜家亳同志在座谈会上讲话。", [("杜家亳", "杜家毫")]),  # similar shape
    ("青溪县教育局局长李铭出席。", [("青溪县教育局局长李铭", "青溪县教育局局长李明")]),
    ("青溪县实验小学校长李明出席。", [("青溪县实验小学校长李明", "青溪县教育局局长李明")]),
    ("中华人民共和国教肓部印发通知。", [("中华人民共和国教肓部", "中华人民共和国教育部")]),
    ("青溪县实验小雪举行升旗仪式。", [("青溪县实验小雪", "青溪县实验小学")]),
    ("积极参与一带一路战略。", [("一带一路战略", "一带一路倡议")]),
    ("两岸三地的青少年交流活动。", [("两岸三地", "海峡两岸及香港、澳门")]),
    ("学生来自日本、台湾和韩国。", [("台湾", "中国台湾")]),
    ("来自美国、香港的教师。", [("香港", "中国香港")]),
])
def test_serious_expression_errors_come_with_the_right_form(expressions, text, expected):
    found = screen_text(text, lexicon=expressions)
    assert [(f.match, f.suggestion) for f in found] == expected
    assert all(f.kind == "expression" and f.severity == "block" for f in found)


@pytest.mark.parametrize("text", [
    "杜家毫同志在座谈会上讲话。",
    "湖南省委书记杜家毫出席。",
    "青溪县教育局局长李明出席。",
    "李明同学获得一等奖。",  # a two-character name alone: not looked for
    "李铭同学获得一等奖。",
    "中华人民共和国教育部印发通知。",
    "教育部门高度重视。",
    "青溪县实验小学举行升旗仪式。",
    "学生来自中国台湾、中国香港。",
    "台湾是中国领土不可分割的一部分。",
    "推进一带一路倡议。",
    "大家都豪情满怀。",
])
def test_the_exact_names_and_ordinary_words_are_not_reported(expressions, text):
    assert screen_text(text, lexicon=expressions) == []


def test_variants_are_homophones_and_similar_shapes_not_words():
    variants = name_variants("杜家毫")
    assert {"杜家豪", "杜家亳", "杜佳毫"} <= variants
    assert "杜家毫" not in variants
    assert "国家" not in name_variants("国家")  # two characters: 国家 itself is never one


def test_findings_serialise_their_suggestion(expressions):
    finding = screen_text("杜家豪讲话", lexicon=expressions)[0]
    data = finding.to_json()
    assert data["suggestion"] == "杜家毫"
    assert type(finding).from_json(data) == finding
    assert type(finding).from_json({k: v for k, v in data.items() if k != "suggestion"}
                                   ).suggestion == ""


# --- (5) file formats --------------------------------------------------------------------------

def test_name_files_are_csv_or_plain_text():
    rows = expression_io.parse("name,title,note\n杜家毫,湖南省委书记,\n教育部,,\n",
                               expression_io.NAMES)
    assert [(r["name"], r["title"], r["line"]) for r in rows] == [
        ("杜家毫", "湖南省委书记", 2), ("教育部", "", 3)]
    rows = expression_io.parse("教育部\n青溪县实验小学\n", expression_io.NAMES)
    assert [r["name"] for r in rows] == ["教育部", "青溪县实验小学"]


def test_a_file_with_bad_rows_reports_each_line():
    with pytest.raises(LexiconFileError) as error:
        expression_io.parse("wrong,right,severity,note\n一带一路战略,一带一路倡议,block,\n"
                            "两岸,x,fatal,\n一带一路战略,y,,\n", expression_io.WORDING)
    assert [e.split("：")[0] for e in error.value.errors] == ["第 3 行", "第 3 行", "第 4 行",
                                                           "第 4 行"]
    assert "重复" in error.value.errors[-1]
    with pytest.raises(LexiconFileError, match="表头"):
        expression_io.parse("按装,安装\n", expression_io.TYPOS)
