"""Sensitive-word matching: one Aho-Corasick pass (ahocorasick-rs, leftmost-longest) over the
folded text, matches mapped back to the original text.

The lexicon's terms are folded by the same function as the text (folding), so a term
matches however it is disguised. Folding also joins what ordinary writing keeps apart, so a
match must still hold in the original:

- English terms (ASCII letters or digits at an end) need a word boundary there, so that "bet"
  does not fire inside "alphabet";
- a term with a doubled character (时时彩) needs it doubled in the text too (同时彩排 is not
  时时彩, although both fold to 时彩);
- a match that runs across sentence punctuation or a line break (实验，班长) may be two
  words: it is reported, but only as a warning, unless the term is three characters or more
  and every gap between its characters was filled (百，家，乐): that is disguise, not prose.

Leftmost-longest matching reports no overlaps, so when a match does not hold, the text is
searched again from its second character (实时彩票: 时彩 does not hold, 彩票 may).

Allow-list entries suppress a banned match lying inside them (反赌博 holds 赌博); they are
matched only when something banned was found, so clean text pays for one pass. Plain
functions over plain data, no Django.
"""

import bisect
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

import ahocorasick_rs

from review.exceptions import TermError
from review.screening.folding import Folded, fold, fold_term, is_word_char

SEVERITIES = ("block", "review", "warn")
MIN_TERM_LENGTH = 2
# Where prose separates words: a match may not cross these (see the module docstring).
SENTENCE_BREAK = re.compile(r"[，。！？；：、\n\r]")


@dataclass(frozen=True)
class Term:
    word: str
    category: str
    severity: str


@dataclass(frozen=True)
class WordMatch:
    term: Term
    start: int  # in the original text
    end: int
    # Runs across sentence punctuation or a line break the way prose does (实验，班长): maybe
    # two words, maybe disguise; reported for people to look at, never blocking.
    across_sentences: bool = False


def check_term(word: str) -> str:
    """The folded term, or TermError saying why the word cannot be a term."""
    if len(word.strip()) < MIN_TERM_LENGTH:
        raise TermError(f"“{word}”：词条至少两个字符。")
    folded = fold_term(word)
    if len(folded) < MIN_TERM_LENGTH:
        raise TermError(f"“{word}”：去掉标点、空白和重复字符后不足两个字符（“{folded}”）。")
    return folded


def _severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


class CompiledLexicon:
    """The banned terms and allow-list entries, folded and compiled into automata."""

    def __init__(self, terms: Iterable[Term], allowed: Iterable[str] = (), *,
                 expressions=None):
        # Protected names, wording rules and typos (review.screening.expression), looked for
        # by the screener alongside the words; None when there are none.
        self.expressions = expressions
        by_folded: dict[str, tuple[Term, list[int]]] = {}
        for term in terms:
            folded = fold(term.word)
            if len(term.word.strip()) < MIN_TERM_LENGTH or len(folded.text) < MIN_TERM_LENGTH:
                continue  # check_term refuses these where terms are entered
            known = by_folded.get(folded.text)
            # Two words folding alike (賭博, 赌博): the stricter one speaks for both.
            if known is None or _severity_rank(term.severity) < _severity_rank(
                    known[0].severity):
                by_folded[folded.text] = (term, folded.counts.tolist())
        self.patterns = list(by_folded)
        self.longest = max(map(len, self.patterns), default=0)
        self.terms = [by_folded[p][0] for p in self.patterns]
        self.english_start = [p[0].isascii() and p[0].isalnum() for p in self.patterns]
        self.english_end = [p[-1].isascii() and p[-1].isalnum() for p in self.patterns]
        # Run lengths of terms with a doubled character, which the text must match.
        self.doubled = {index: by_folded[p][1] for index, p in enumerate(self.patterns)
                        if max(by_folded[p][1]) > 1}
        # A DFA: a third faster to scan than the default NFA (20,000 terms: 23 instead of
        # 36 ms for 2 MB of school text), for half a second more to build once per change;
        # the screener runs more detectors since issue 20 and must keep its throughput.
        self.automaton = (ahocorasick_rs.AhoCorasick(
            self.patterns, matchkind=ahocorasick_rs.MATCHKIND_LEFTMOST_LONGEST,
            implementation=ahocorasick_rs.Implementation.DFA)
            if self.patterns else None)
        allow_patterns = sorted({f for f in (fold_term(w) for w in allowed) if f})
        self.allow_automaton = (ahocorasick_rs.AhoCorasick(allow_patterns)
                                if allow_patterns else None)

    def __len__(self) -> int:
        return len(self.patterns)

    def find(self, text: str, *, folded: Folded | None = None) -> list[WordMatch]:
        if self.automaton is None or not text:
            return []
        folded = folded or fold(text)
        hits = self.automaton.find_matches_as_indexes(folded.text)
        if not hits:
            return []
        allowed = self._allowed_spans(folded.text)
        matches = []
        while hits:
            rejected = []
            for index, start, end in hits:
                held = None if allowed.covers(start, end) else self._original_span(
                    index, start, end, text, folded)
                if held is None:
                    rejected.append((start, end))
                    continue
                original_start, original_end, crosses = held
                matches.append(WordMatch(self.terms[index], original_start, original_end,
                                         crosses))
            # Leftmost-longest matching skipped whatever overlapped a match that does not
            # hold: look again from its second character (实时彩票: 时彩 fails, 彩票 may not).
            hits = self._overlapping(folded.text, rejected)
        return sorted(matches, key=lambda m: (m.start, m.end))

    def _overlapping(self, folded_text: str,
                     rejected: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
        """Matches starting inside each rejected match after its first character: one search
        over the windows joined by a character folded text never holds."""
        if not rejected:
            return []
        windows = [(start + 1, min(len(folded_text), end + self.longest), end)
                   for start, end in rejected]
        offsets, position = [], 0
        for window_start, window_end, _ in windows:
            offsets.append(position)
            position += window_end - window_start + 1
        joined = "\x00".join(folded_text[a:b] for a, b, _ in windows)
        found = []
        for index, start, end in self.automaton.find_matches_as_indexes(joined):
            which = bisect.bisect_right(offsets, start) - 1
            window_start, _, rejected_end = windows[which]
            absolute = window_start + start - offsets[which]
            if absolute < rejected_end:
                found.append((index, absolute, absolute + end - start))
        return found

    def _original_span(self, index: int, start: int, end: int, text: str,
                       folded: Folded) -> tuple[int, int, bool] | None:
        """The match's span in the original text and whether it runs across sentence
        punctuation as prose does, or None when it does not hold there."""
        runs = self.doubled.get(index)
        if runs is not None and any(
                int(folded.counts[start + k]) < need for k, need in enumerate(runs)):
            return None
        # A run of repeats at either end may belong to the neighbouring word ("viagra and"):
        # try the run's outer character first, then its inner one.
        starts = dict.fromkeys((int(folded.first[start]), int(folded.last[start])))
        ends = dict.fromkeys((int(folded.last[end - 1]) + 1, int(folded.first[end - 1]) + 1))
        for original_start in starts:
            if self.english_start[index] and original_start > 0 and is_word_char(
                    text[original_start - 1]):
                continue
            for original_end in ends:
                if original_end <= original_start or (
                        self.english_end[index] and original_end < len(text)
                        and is_word_char(text[original_end])):
                    continue
                crosses = bool(SENTENCE_BREAK.search(text, original_start, original_end)) and not (
                    end - start >= 3 and folded.noise_between_all(start, end))
                return original_start, original_end, crosses
        return None

    def _allowed_spans(self, folded_text: str) -> "Spans":
        if self.allow_automaton is None:
            return Spans([])
        return Spans([(start, end) for _, start, end in
                      self.allow_automaton.find_matches_as_indexes(folded_text,
                                                                   overlapping=True)])


class Spans:
    """Intervals, asked whether any of them covers a given one (in logarithmic time)."""

    def __init__(self, spans: list[tuple[int, int]]):
        spans.sort()
        self.starts = [start for start, _ in spans]
        self.reach = list(itertools.accumulate((end for _, end in spans), max))

    def covers(self, start: int, end: int) -> bool:
        position = bisect.bisect_right(self.starts, start) - 1
        return position >= 0 and self.reach[position] >= end
