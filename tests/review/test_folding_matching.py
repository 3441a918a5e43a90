"""Evasion folding, sensitive-word matching and lexicon files. Plain functions, no database."""

import pytest

from review.screening.folding import fold, fold_term
from review.screening.lexicon_io import LexiconFileError, decode, parse, write_csv
from review.screening.matching import CompiledLexicon, Term, TermError, check_term


def lexicon(*words: str, allowed: tuple[str, ...] = ()) -> CompiledLexicon:
    return CompiledLexicon([Term(w, "gambling", "block") for w in words], allowed)


def found(text: str, *words: str, allowed: tuple[str, ...] = ()) -> list[str]:
    return [text[m.start:m.end] for m in lexicon(*words, allowed=allowed).find(text)]


@pytest.mark.parametrize(("text", "folded"), [
    ("澳門賭場", "澳门赌场"),  # traditional → simplified
    ("ｂａｃｃａｒａｔ", "bacarat"),  # full-width, then the repeated c
    ("𝐁𝐄𝐓 Ⓑⓔⓣ", "betbet"),  # styled letters, case, the space as noise
    ("①②", "12"),  # circled digits
    ("赌\u200b博\u200d\ufeff", "赌博"),  # zero-width and format characters
    ("赌 . * 博", "赌博"),  # punctuation, symbols, spaces
    ("s̶e̶x̶", "sex"),  # combining overlays
    ("赌赌赌博博", "赌博"),  # repeats
    ("⑩", "10"),  # one character folding to two
    ("", ""),
    ("。，、 ", ""),
])
def test_folding(text, folded):
    assert fold(text).text == folded


def test_folded_spans_map_back_to_the_original():
    text = "看看 赌 . 博博 吧"
    result = fold(text)
    start = result.text.index("赌博")
    assert result.span(start, start + 2) == (3, 9)
    assert text[3:9] == "赌 . 博博"


@pytest.mark.parametrize(("text", "expected"), [
    ("欢迎来到澳門賭場玩", ["澳門賭場"]),
    ("这里有赌 博游戏", ["赌 博"]),
    ("网上赌\u200b博", ["赌\u200b博"]),
    ("赌赌博博", ["赌赌博博"]),
    ("Play ＢＡＣＣＡＲＡＴ now", ["ＢＡＣＣＡＲＡＴ"]),
    ("b-a-c-c-a-r-a-t!", ["b-a-c-c-a-r-a-t"]),
])
def test_disguised_words_are_found_with_their_original_span(text, expected):
    assert found(text, "赌博", "澳门赌场", "baccarat") == expected


def test_leftmost_longest():
    assert found("澳门赌场开业", "赌场", "澳门赌场") == ["澳门赌场"]


@pytest.mark.parametrize(("text", "expected"), [
    ("online casino here", ["casino"]),
    ("casinos", []),  # a longer English word
    ("xcasino", []),
    ("赌场casino赌场", ["casino"]),  # Han characters are boundaries
    ("(casino)", ["casino"]),
    ("ｘcasino", []),  # a full-width letter is still a letter
])
def test_english_terms_need_word_boundaries(text, expected):
    assert found(text, "casino") == expected


def test_allow_list_suppresses_matches_inside_it_only():
    words = ("赌博",)
    assert found("开展反赌博宣传", *words, allowed=("反赌博",)) == []
    assert found("开展反 赌 博宣传", *words, allowed=("反赌博",)) == []
    assert found("反赌博之后又去赌博", *words, allowed=("反赌博",)) == ["赌博"]
    assert found("开展反赌宣传", "反赌宣传", allowed=("反赌",)) == ["反赌宣传"]


def test_the_stricter_of_two_words_folding_alike_wins():
    compiled = CompiledLexicon([Term("賭博", "gambling", "warn"),
                                Term("赌博", "gambling", "block")])
    assert [m.term.severity for m in compiled.find("赌博")] == ["block"]


@pytest.mark.parametrize("word", ["赌", "a", "  x ", "哈哈", "x.x", "！！"])
def test_single_character_terms_are_refused(word):
    with pytest.raises(TermError):
        check_term(word)


def test_fold_term_is_fold():
    assert fold_term("賭 博") == "赌博"


# --- Lexicon files -------------------------------------------------------------------------

def test_csv_with_header():
    rows = parse("word,category,severity,note\n赌博,gambling,block,\n"
                 "有偿补课,education,review,说明\n")
    assert [(r.line, r.word, r.category, r.severity, r.note) for r in rows] == [
        (2, "赌博", "gambling", "block", ""), (3, "有偿补课", "education", "review", "说明")]


def test_plain_text_takes_category_and_severity_from_flags():
    rows = parse("赌博\n\n# comment\n六合彩\n", category="gambling", severity="warn")
    assert [(r.line, r.word, r.category, r.severity) for r in rows] == [
        (1, "赌博", "gambling", "warn"), (4, "六合彩", "gambling", "warn")]


def test_bad_rows_are_reported_with_line_numbers():
    text = "word,category,severity\n赌博,gambling,block\n赌,gambling,block\n六合彩,,block\n" \
           "百家乐,gambling,maybe\n赌博,gambling,warn\n"
    with pytest.raises(LexiconFileError) as raised:
        parse(text)
    errors = raised.value.errors
    assert [e.split("：")[0] for e in errors] == ["第 3 行", "第 4 行", "第 5 行", "第 6 行"]


def test_unknown_columns_are_refused():
    with pytest.raises(LexiconFileError, match="不认识的列"):
        parse("word,level\n赌博,1\n")


def test_gb18030_files_are_read():
    assert decode("赌博".encode("gb18030")) == "赌博"


def test_written_csv_parses_back():
    rows = parse("word,category,severity,note\n赌博,gambling,block,\"a, b\"\n")
    assert parse(write_csv(rows)) == rows


# --- What folding joins must still hold in the original ------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("时时彩开奖", ["时时彩"]),
    ("时 时 时彩", ["时 时 时彩"]),
    ("同时彩排节目", []),  # folds to 时彩 too, but the term's 时 is doubled
])
def test_a_doubled_character_must_be_doubled_in_the_text(text, expected):
    assert found(text, "时时彩") == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("实验，班长发言", [("实验，班", True)]),  # prose, maybe: a comma between two words
    ("实验\n班级", [("实验\n班", True)]),
    ("实验班名单", [("实验班", False)]),
    ("实·验·班", [("实·验·班", False)]),  # disguise: noise in every gap
    ("实，验，班", [("实，验，班", False)]),
    ("百家，乐", []),
])
def test_matches_across_sentence_punctuation_are_marked(text, expected):
    assert [(text[m.start:m.end], m.across_sentences)
            for m in lexicon("实验班").find(text)] == expected


def test_a_match_across_a_comma_is_still_reported():
    assert [(m.across_sentences) for m in lexicon("百家乐").find("百家，乐")] == [True]


@pytest.mark.parametrize(("text", "words", "allowed", "expected"), [
    ("实时彩票平台", ("时时彩", "彩票平台"), (), ["彩票平台"]),
    ("反赌博彩平台", ("赌博", "博彩平台"), ("反赌博",), ["博彩平台"]),
    ("远离赌博彩网站", ("赌博", "博彩网站"), ("远离赌博",), ["博彩网站"]),
])
def test_a_match_that_does_not_hold_does_not_hide_an_overlapping_one(text, words, allowed,
                                                                   expected):
    assert found(text, *words, allowed=allowed) == expected


def test_a_repeat_shared_with_the_next_word_does_not_break_the_boundary():
    assert found("Cheap viagra and more", "viagra") == ["viagra"]


# --- Personal numbers through markup and other digits --------------------------------------

@pytest.mark.parametrize(("html", "kind", "match"), [
    ("<p>电话 138<b>1234</b>5678</p>", "phone_number", "138<b>1234</b>5678"),
    ("<p>&#49;3812345678</p>", "phone_number", "&#49;3812345678"),
    ("<p>身份证 110105<span>19491231002X</span></p>", "id_number",
     "110105<span>19491231002X"),
])
def test_numbers_split_by_markup_are_found(html, kind, match):
    from review.screening.screener import screen_html

    findings = screen_html(html, lexicon=lexicon("赌博"))
    assert [(f.kind, f.match, html[f.start:f.end]) for f in findings] == [(kind, match, match)]


def test_numbers_in_full_width_digits_are_found():
    from review.screening.screener import screen_text

    text = "电话１３８１２３４５６７８"
    assert [(f.kind, f.match) for f in screen_text(text, lexicon=lexicon("赌博"))] == [
        ("phone_number", "１３８１２３４５６７８")]


def test_a_word_ending_in_a_character_reference_ends_with_it():
    from review.screening.screener import screen_html

    html = "<p>&#36172;&#21338;</p>"
    (finding,) = screen_html(html, lexicon=lexicon("赌博"))
    assert finding.match == html[finding.start:finding.end] == "&#36172;&#21338;"


def test_lone_surrogates_fold_away():
    assert fold("a\ud800b").text == "ab"
