"""CJK search tokens: plain functions, no database."""

from cms.cjk import index_tokens, query_tokens


def test_index_tokens_hold_unigrams_and_bigrams():
    assert index_tokens("草稿通知").split() == ["草", "稿", "通", "知", "草稿", "稿通", "通知"]


def test_every_chinese_substring_is_found():
    text = "城关县第一中学举行新生开学典礼"
    indexed = set(index_tokens(text).split())
    for start in range(len(text)):
        for end in range(start + 1, len(text) + 1):
            needle = text[start:end]
            assert set(query_tokens(needle).split()) <= indexed, needle


def test_unrelated_text_does_not_share_all_bigrams():
    indexed = set(index_tokens("甲校草稿通知").split())
    assert not set(query_tokens("开学典礼").split()) <= indexed


def test_latin_words_and_digits_are_kept_whole_and_lower_cased():
    assert index_tokens("WebAuthn 2026年") == "webauthn 2026 年"
    assert query_tokens("PDF 附件") == "pdf 附件"


def test_punctuation_splits_runs_and_query_tokens_are_unique():
    assert query_tokens("通知，通知") == "通知"
    assert index_tokens("学校·概况").split() == ["学", "校", "学校", "概", "况", "概况"]
    assert query_tokens("") == ""
