"""The content screener over plain text, HTML and files: sensitive words (matching),
students' personal information (pii), hidden content and unsafe markup
(markup), keyword-stuffed spam (spam), serious expression errors and typos (expression),
and the text inside attachments (extract).

Findings are ``review.screening.findings.Finding`` records. Plain functions, no Django.
"""

import dataclasses
import functools
import re
import unicodedata

import numpy as np

from review.screening import pii
from review.screening.expression import CompiledExpressions
from review.screening.extract import Limits, extract
from review.screening.findings import BLOCK, REVIEW, WARN, Finding
from review.screening.folding import fold
from review.screening.markup.scan import find_markup_problems
from review.screening.markup.text import screening_text
from review.screening.matching import CompiledLexicon
from review.screening.spam import find_spam_runs

CONTEXT_CHARS = 20
PERSONAL_INFORMATION = "personal_information"
PII_SEVERITY = {
    "id_number": BLOCK,
    "bank_card": BLOCK,
    # Schools publish teachers' and offices' mobile numbers on purpose; a reviewer decides.
    "phone_number": REVIEW,
}
KINDS = ("sensitive_word", "id_number", "phone_number", "bank_card", "hidden_content",
         "unsafe_markup", "spam", "expression", "typo")
# A blocking word inside a warning (an anti-drug lesson on 迷幻药的危害, a notice that 严禁
# 赌博) is not spam: a reviewer decides, it is never ignored.
EDUCATIONAL_CONTEXT = re.compile(
    "禁毒|防范|严禁|危害|远离|拒绝|警惕|抵制|预防|谨防|打击|防止|警示|识别|法治教育|安全教育"
    "|主题教育|宣传教育|知识讲座|禁止|举报|不得|杜绝|反诈|防骗|识破")
SENTENCE_END = re.compile(r"[。！？!?\n\r]")
EDUCATIONAL_REACH = 40
WHITESPACE = re.compile(r"\s+")
# Unsafe-markup rules that are usually innocent in a whole HTML file (a stylesheet link, a
# search form): a reviewer decides. Every other unsafe rule blocks.
UNSAFE_FOR_REVIEW = frozenset({"link", "form-action", "css-unreadable"})
# Every decimal digit (full-width １, Arabic-Indic…) as its ASCII digit: numbers written
# in other digits are still numbers. One character for one, so offsets do not move.
ASCII_DIGITS = {cp: str(unicodedata.digit(chr(cp))) for cp in range(0x80, 0x30000)
                if unicodedata.category(chr(cp)) == "Nd"}
OTHER_DIGIT = re.compile(r"[^\D0-9]")  # translating is slow: only when there is one


def context_around(text: str, start: int, end: int, *, chars: int = CONTEXT_CHARS) -> str:
    """The match with up to ``chars`` characters either side, whitespace runs as one space."""
    return WHITESPACE.sub(" ", text[max(0, start - chars):end + chars]).strip()


def screen_text(text: str, *, lexicon: CompiledLexicon, field: str = "",
                context_text: str | None = None, source: str | None = None,
                numbers_text: str | None = None,
                numbers_index: np.ndarray | None = None) -> list[Finding]:
    """Sensitive words and personal information in ``text``.

    ``source`` is what offsets and matches refer to when ``text`` stands in for it (an HTML
    source whose markup ``text`` blanks out); ``context_text`` is what contexts are cut from;
    personal numbers are looked for in ``numbers_text`` (default ``text``), whose character
    ``i`` stands at ``numbers_index[i]`` of ``source``.
    """
    source = text if source is None else source
    context_text = text if context_text is None else context_text
    folded = fold(text)
    findings = []
    for hit in lexicon.find(text, folded=folded):
        severity, rule = hit.term.severity, hit.term.word
        if hit.across_sentences:
            severity, rule = WARN, f"{hit.term.word}（跨标点）"
        elif severity == BLOCK and _educational(text, hit.start, hit.end):
            severity, rule = REVIEW, f"{hit.term.word}（警示教育语境）"
        findings.append(Finding(
            kind="sensitive_word", severity=severity, category=hit.term.category, rule=rule,
            start=hit.start, end=hit.end, match=source[hit.start:hit.end],
            context=context_around(context_text, hit.start, hit.end), field=field))
    numbers_text = text if numbers_text is None else numbers_text
    expressions = getattr(lexicon, "expressions", None) or default_expressions()
    spam_words: list[int] = []
    for found in expressions.find(numbers_text, spam=spam_words):
        start, end = found.start, found.end
        if numbers_index is not None:
            start, end = int(numbers_index[start]), int(numbers_index[end - 1]) + 1
        findings.append(Finding(
            kind=found.kind, severity=found.severity, category=found.category,
            rule=found.rule, start=start, end=end, match=source[start:end],
            context=context_around(context_text, start, end), field=field,
            suggestion=found.suggestion))
    if numbers_index is not None:
        spam_words = [int(numbers_index[p]) for p in spam_words]
    # Lexicon words start spam runs too (disguised ones: the expression pass reads the text
    # as it is).
    spam_words += [f.start for f in findings if f.kind == "sensitive_word"]
    for run in find_spam_runs(text, folded, triggers=spam_words):
        rule = "关键词堆砌：" + "、".join(run.words[:5])
        severity = BLOCK
        if _educational(text, run.start, run.end):
            # A lesson listing drugs by name, or spam dressed up with a 严禁: people decide.
            severity, rule = REVIEW, rule + "（警示教育语境）"
        findings.append(Finding(
            kind="spam", severity=severity, category="spam", rule=rule, start=run.start,
            end=run.end, match=source[run.start:run.end],
            context=context_around(context_text, run.start, run.end), field=field))
    if OTHER_DIGIT.search(numbers_text):
        numbers_text = numbers_text.translate(ASCII_DIGITS)
    for number in pii.find_personal_information(numbers_text):
        start, end = number.start, number.end
        if numbers_index is not None:
            start, end = int(numbers_index[start]), int(numbers_index[end - 1]) + 1
        findings.append(Finding(
            kind=number.kind, severity=PII_SEVERITY[number.kind], category=PERSONAL_INFORMATION,
            rule=number.rule, start=start, end=end, match=source[start:end],
            context=context_around(context_text, start, end), field=field))
    return sorted(findings, key=lambda f: (f.start, f.end))


@functools.cache
def default_expressions() -> CompiledExpressions:
    """With no lists: Taiwan, Hong Kong or Macau beside countries, and spam's strong words."""
    return CompiledExpressions()


def _educational(text: str, start: int, end: int) -> bool:
    """Whether the sentence around ``[start, end)`` (within ``EDUCATIONAL_REACH``) warns."""
    low = max(0, start - EDUCATIONAL_REACH)
    before = [m.end() for m in SENTENCE_END.finditer(text, low, start)]
    low = before[-1] if before else low
    after = SENTENCE_END.search(text, end, end + EDUCATIONAL_REACH)
    high = after.start() if after else min(len(text), end + EDUCATIONAL_REACH)
    return bool(EDUCATIONAL_CONTEXT.search(text, low, high))


def _without_markup(html: str, text: str) -> tuple[str, np.ndarray]:
    """``text`` (the screening text of ``html``) without the blanks that stand for markup, and
    where each remaining character stands in ``html``: 138<b>1234</b>5678 reads as one
    number."""
    if not html:
        return "", np.empty(0, dtype=np.int64)
    source = np.frombuffer(html.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    blanked = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    index = np.flatnonzero((blanked != ord(" ")) | (source == ord(" ")))
    return blanked[index].tobytes().decode("utf-32-le", "surrogatepass"), index


def _through_references(html: str, text: str, end: int) -> int:
    """A match ending in a character reference (&#36172;) ends where the reference does."""
    last = end - 1
    if 0 <= last < len(html) and html[last] == "&" and text[last] != "&":
        semicolon = html.find(";", last, last + 40)
        if semicolon != -1:
            return semicolon + 1
    return end


def screen_html(html: str, *, lexicon: CompiledLexicon, field: str = "") -> list[Finding]:
    """Markup problems in the source, and words and numbers in its text; offsets index the
    source."""
    text = screening_text(html)
    numbers_text, numbers_index = _without_markup(html, text)
    findings = []
    for finding in screen_text(text, lexicon=lexicon, field=field, source=html,
                               numbers_text=numbers_text, numbers_index=numbers_index):
        end = _through_references(html, text, finding.end)
        if end != finding.end:
            finding = dataclasses.replace(finding, end=end, match=html[finding.start:end])
        findings.append(finding)
    for problem in find_markup_problems(html):
        if problem.kind == "unsafe_markup":
            severity = REVIEW if problem.rule in UNSAFE_FOR_REVIEW else BLOCK
        else:
            # Hidden words of the lexicon or spam are what hacked pages hide: block.
            severity = BLOCK if problem.has_link or any(
                f.kind in ("sensitive_word", "spam") and problem.start <= f.start
                and f.end <= problem.end for f in findings) else REVIEW
        findings.append(Finding(
            kind=problem.kind, severity=severity, category=problem.kind, rule=problem.rule,
            start=problem.start, end=problem.end, match=problem.match,
            context=context_around(text, problem.start, problem.end), field=field))
    return sorted(findings, key=lambda f: (f.start, f.end))


def screen_file(data, *, name: str, lexicon: CompiledLexicon,
                limits: Limits | None = None) -> list[Finding]:
    """A file's text screened as text or HTML; ExtractionError when it cannot be read."""
    extracted = extract(data, name=name, limits=limits or Limits())
    screen = screen_html if extracted.is_html else screen_text
    return screen(extracted.text, lexicon=lexicon, field=name)
