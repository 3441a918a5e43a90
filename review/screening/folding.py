"""Evasion folding: the text a sensitive-word matcher reads, with a map back to the original.

Spammers disguise words so that a plain substring search misses them: full-width or styled
letters (ｂａｃｃａｒａｔ, 𝐛𝐞𝐭, Ⓑ), circled digits (①), traditional characters (賭博), noise
between the characters (赌 . 博, 赌\u200b博), repeated characters (赌赌博博). Folding undoes
all of these at once:

1. every character is mapped through one table: NFKC, lower case, traditional → simplified
   (single characters, from OpenCC's t2s), and noise (punctuation, symbols, separators,
   control, format and combining characters) to nothing;
2. runs of the same folded character collapse to one.

The lexicon goes through the same function, so a term matches however it is disguised.
``Folded.span`` maps a match in the folded text back to the original text: from the first
original character of its first folded character to the last original character of its last
(a run of repeats counts whole). The table is a NumPy array indexed by code point, so folding
a 50 KB page is a handful of vectorised operations rather than a Python loop per character.
Plain functions, no Django.
"""

import functools
import unicodedata
from dataclasses import dataclass

import numpy as np
import opencc

UNICODE_SIZE = 0x110000
NOISE = 0
# Table values at or above this are indexes into the expansions (one character folding to
# several, e.g. ⑩ → "10", ﬁ → "fi"), handled by a slower path that only such texts take.
EXPANSION_BASE = UNICODE_SIZE
NOISE_CATEGORIES = frozenset({
    "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po",  # punctuation
    "Sm", "Sc", "Sk", "So",  # symbols
    "Zs", "Zl", "Zp",  # separators
    "Cc", "Cf",  # control and format (zero-width space and joiners, BOM, bidi, tags)
    "Mn", "Me",  # combining marks (strike-through and "zalgo" overlays)
})
# Han blocks OpenCC's single-character table covers.
HAN_RANGES = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00), (0x20000, 0x2FA20))
# Code points above this are looked at only where they are known to matter (the tag and
# variation-selector block, which hides text); the rest of the planes fold to themselves.
EXAMINED_UP_TO = 0x30000
INVISIBLE_HIGH_RANGES = ((0xE0000, 0xE1000),)


@functools.cache
def traditional_to_simplified() -> dict[str, str]:
    """Single-character traditional → simplified mappings from OpenCC's ``t2s``."""
    converter = opencc.OpenCC("t2s")
    chars = [chr(cp) for start, end in HAN_RANGES for cp in range(start, end)]
    # A separator keeps OpenCC's phrase dictionary from joining neighbours.
    converted = converter.convert("\n".join(chars)).split("\n")
    if len(converted) != len(chars):  # pragma: no cover - a changed OpenCC would show here
        raise RuntimeError("OpenCC t2s changed the number of characters")
    return {t: s for t, s in zip(chars, converted, strict=True) if t != s and len(s) == 1}


def _is_noise(char: str) -> bool:
    return unicodedata.category(char) in NOISE_CATEGORIES


def fold_char(char: str, t2s: dict[str, str]) -> str:
    """What one character folds to: "" for noise, usually one character, sometimes more."""
    if char.isascii():
        return "" if _is_noise(char) else char.lower()
    folded = unicodedata.normalize("NFKC", char).lower()
    return "".join(t2s.get(c, c) for c in folded if not _is_noise(c))


@dataclass(frozen=True)
class FoldingTable:
    table: np.ndarray  # uint32 per code point: folded code point, NOISE, or expansion index
    expansions: tuple[str, ...]

    @functools.cached_property
    def expansion_lengths(self) -> np.ndarray:
        return np.array([len(e) for e in self.expansions], dtype=np.int64)

    @functools.cached_property
    def expansion_chars(self) -> np.ndarray:
        """One row per expansion, its code points padded with zeros."""
        chars = np.zeros((len(self.expansions), int(self.expansion_lengths.max())),
                         dtype=np.uint32)
        for row, expansion in enumerate(self.expansions):
            chars[row, :len(expansion)] = [ord(c) for c in expansion]
        return chars


@functools.cache
def folding_table() -> FoldingTable:
    """Built once per process (about a quarter of a second)."""
    t2s = traditional_to_simplified()
    table = np.arange(UNICODE_SIZE, dtype=np.uint32)
    expansions: list[str] = []
    candidates = [*range(EXAMINED_UP_TO),
                  *(cp for start, end in INVISIBLE_HIGH_RANGES for cp in range(start, end))]
    for cp in candidates:
        char = chr(cp)
        if (char.isalnum() and unicodedata.is_normalized("NFKC", char)
                and char not in t2s and char.lower() == char):
            continue  # the common case: a letter or Han character that folds to itself
        folded = fold_char(char, t2s)
        if len(folded) == 1:
            table[cp] = ord(folded)
        elif not folded:
            table[cp] = NOISE
        else:
            table[cp] = EXPANSION_BASE + len(expansions)
            expansions.append(folded)
    table[0xD800:0xE000] = NOISE  # lone surrogates: never text
    return FoldingTable(table=table, expansions=tuple(expansions))


@dataclass(frozen=True)
class Folded:
    """Folded text; ``first[i]``/``last[i]`` are the first and last original indexes behind
    folded character ``i``."""

    text: str
    first: np.ndarray
    last: np.ndarray
    counts: np.ndarray  # how many folded characters each collapsed run held

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span behind folded ``[start, end)`` (``end > start``)."""
        return int(self.first[start]), int(self.last[end - 1]) + 1

    def noise_between_all(self, start: int, end: int) -> bool:
        """Whether something was folded away between every two characters of the span."""
        return bool(np.all(self.last[start:end - 1] + 1 < self.first[start + 1:end]))


def fold(text: str) -> Folded:
    folding = folding_table()
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    mapped = folding.table[codes]
    kept = np.flatnonzero(mapped != NOISE)
    values = mapped[kept]
    if values.size and values.max() >= EXPANSION_BASE:
        values, kept = _expand(values, kept, folding)
    if not values.size:
        empty = np.empty(0, dtype=np.int64)
        return Folded("", empty, empty, empty)
    run_starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
    next_starts = np.concatenate((run_starts[1:], [values.size]))
    folded = values[run_starts].astype(np.uint32).tobytes().decode("utf-32-le")
    return Folded(folded, kept[run_starts], kept[next_starts - 1], next_starts - run_starts)


def fold_term(term: str) -> str:
    """A lexicon term, folded as text is."""
    return fold(term).text


def _expand(values: np.ndarray, kept: np.ndarray,
            folding: FoldingTable) -> tuple[np.ndarray, np.ndarray]:
    """Characters folding to several characters (⑩ → 10), spread out, vectorised: each output
    position knows its source character and its place within that character's expansion."""
    expanding = values >= EXPANSION_BASE
    expansion = np.where(expanding, values - EXPANSION_BASE, 0).astype(np.int64)
    lengths = np.where(expanding, folding.expansion_lengths[expansion], 1)
    source = np.repeat(np.arange(values.size), lengths)
    place = np.arange(source.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    spread = folding.expansion_chars[expansion[source], np.minimum(
        place, folding.expansion_chars.shape[1] - 1)]
    out = np.where(expanding[source], spread, values[source]).astype(np.uint32)
    return out, kept[source]


def is_word_char(char: str) -> bool:
    """ASCII letters and digits after folding: what an English term's boundary may not touch."""
    folded = fold_char(char, traditional_to_simplified()) if not char.isascii() else char
    return len(folded) >= 1 and folded[0].isascii() and folded[0].isalnum()
