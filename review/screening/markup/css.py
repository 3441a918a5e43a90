"""CSS as the markup scan reads it: inline ``style`` declarations and ``<style>`` blocks
(tinycss2), cascaded in document order, and the declarations that hide text from readers."""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

import tinycss2

from review.screening.markup.tokeniser import _RAW, _Attributes, _iter_tags

# --- CSS ----------------------------------------------------------------------------------------

_IMPORTANT = re.compile(r"!\s*important$", re.IGNORECASE)
_SPACES = re.compile(r"\s+")

Declarations = tuple[tuple[str, str, bool], ...]  # (property, normalised value, important)


def _normalise_value(value: str) -> str:
    return _SPACES.sub(" ", value).strip().lower()


# tinycss2 turns numbers into ints (Python refuses more than 4300 digits) and recurses into
# nested blocks: absurd CSS is cut down first, and what still fails counts as unreadable.
_CSS_FAILURES = (ValueError, RecursionError)
_LONG_NUMBER = re.compile(r"[0-9]{1000,}")


def _tame(css: str) -> str:
    if len(css) < 1000:
        return css
    return _LONG_NUMBER.sub(lambda m: m[0][-999:], css)  # same order of magnitude, or zero


@functools.lru_cache(maxsize=2048)
def _parse_declarations(css: str) -> Declarations:
    """Declarations of a style attribute or rule body, in order.

    Plain ``name: value;`` lists are split directly; anything with escapes, comments, quotes
    or functions goes through tinycss2, which decodes ``dis\\70 lay`` and drops comments.
    """
    if any(char in css for char in "\\/\"'("):
        try:
            nodes = tinycss2.parse_blocks_contents(_tame(css), skip_comments=True)
            return _declarations_from_nodes(nodes)
        except _CSS_FAILURES:
            pass  # read it as plain declarations
    return _split_declarations(css)


def _split_declarations(css: str) -> Declarations:
    declarations = []
    for part in css.split(";"):
        name, colon, value = part.partition(":")
        if not colon:
            continue
        value = value.strip()
        important = _IMPORTANT.search(value)
        if important:
            value = value[:important.start()]
        declarations.append((name.strip().lower(), _normalise_value(value), bool(important)))
    return tuple(declarations)


def _declarations_from_nodes(nodes) -> Declarations:
    declarations = []
    for node in nodes:
        if node.type == "declaration":
            value = tinycss2.serialize(t for t in node.value if t.type != "comment")
            declarations.append((node.lower_name, _normalise_value(value), node.important))
    return tuple(declarations)


@functools.lru_cache(maxsize=2048)
def _style_declarations(style: str) -> dict[str, str]:
    """Resolved declarations of a style attribute (shared: do not modify)."""
    return _resolve(_parse_declarations(style)) if style else {}


@functools.lru_cache(maxsize=2048)
def _style_hiding_rule(style: str) -> str | None:
    return _css_hiding_rule(_style_declarations(style)) if style else None


def _resolve(*blocks: Declarations) -> dict[str, str]:
    """Cascade the blocks in order: later wins unless the earlier one is !important."""
    resolved: dict[str, tuple[str, bool]] = {}
    for block in blocks:
        for name, value, important in block:
            if important or not resolved.get(name, ("", False))[1]:
                resolved[name] = (value, important)
    return {name: value for name, (value, _) in resolved.items()}


_LENGTH = re.compile(r"([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)([a-z%]*)")
_PX_PER_UNIT = {"": 1.0, "px": 1.0, "pt": 4 / 3, "pc": 16.0, "in": 96.0, "cm": 37.8, "mm": 3.78,
                "q": 0.945, "em": 16.0, "rem": 16.0, "ex": 8.0, "ch": 8.0}


def _px(value: str, *, percent_of: float) -> float | None:
    """A CSS length in px (unitless counts as px, as in quirks mode); None if not a length.

    Percentages and viewport units are taken of ``percent_of`` px.
    """
    m = _LENGTH.fullmatch(value.strip())
    if m is None:
        return None
    number, unit = float(m[1]), m[2]
    if unit in _PX_PER_UNIT:
        return number * _PX_PER_UNIT[unit]
    if unit in ("%", "vw", "vh", "vmin", "vmax"):
        return number * percent_of / 100
    return None


OFFSCREEN_PX = 500.0   # left/top/margin/text-indent at or beyond -500px moves text off-screen
TINY_FONT_PX = 2.0     # font-size below 2px is unreadable
TINY_BOX_PX = 2.0      # width/height at or below 2px (marquee, iframe) shows nothing
NEAR_ZERO_OPACITY = 0.1
FAST_MARQUEE = 200     # scrollamount in px per tick; the default is 6

_BODY_FONT_PX = 16.0
_VIEWPORT_PX = 1000.0


def _offscreen(value: str | None) -> bool:
    px = _px(value, percent_of=_VIEWPORT_PX) if value else None
    return px is not None and px <= -OFFSCREEN_PX


def _at_most(value: str | None, limit: float) -> bool:
    px = _px(value, percent_of=_VIEWPORT_PX) if value else None
    return px is not None and px <= limit


def _font_shorthand_size(value: str) -> str | None:
    """The size in a ``font`` shorthand such as ``bold 0/0 a`` or ``12px/1.5 宋体``."""
    for word in value.replace("/", " / ").split():
        if word == "/":
            return None  # the size comes before the line height
        length = _LENGTH.fullmatch(word)
        if word == "0" or (length is not None and length[2]):
            return word  # a weight such as 700 has no unit
    return None


def _tiny_font(declarations: dict[str, str]) -> bool:
    size = declarations.get("font-size")
    if size is None and "font" in declarations:
        size = _font_shorthand_size(declarations["font"])
    px = _px(size, percent_of=_BODY_FONT_PX) if size else None
    return px is not None and px < TINY_FONT_PX


def _margin_top_left(declarations: dict[str, str]) -> tuple[str | None, str | None]:
    parts = declarations.get("margin", "").split()
    top = left = None
    if parts:
        top = parts[0]
        left = parts[{1: 0, 2: 1, 3: 1}.get(len(parts), 3)]
    return declarations.get("margin-top", top), declarations.get("margin-left", left)


def _clipped_to_nothing(declarations: dict[str, str]) -> bool:
    clip = declarations.get("clip", "")
    if not clip.startswith("rect("):
        return False
    edges = [_px(part, percent_of=_VIEWPORT_PX) for part in
             clip[5:].rstrip(")").replace(",", " ").split()]
    if len(edges) != 4 or None in edges:
        return False
    top, right, bottom, left = edges
    return bottom <= top or right <= left


_ZERO_ALPHA = r"\s*0*(?:\.0*)?%?\s*\)"
_TRANSPARENT = re.compile(
    rf"transparent|(?:rgb|hsl)a?\((?:[^,)]*,){{3}}{_ZERO_ALPHA}|(?:rgb|hsl)a?\([^/)]*/{_ZERO_ALPHA}"
    r"|#(?:[0-9a-f]{3}0|[0-9a-f]{6}00)")


def _css_hiding_rule(declarations: dict[str, str]) -> str | None:
    """The rule by which these resolved declarations hide an element, if any."""
    get = declarations.get
    if get("display") == "none":
        return "display-none"
    if get("visibility") in ("hidden", "collapse"):
        return "visibility-hidden"
    opacity = get("opacity")
    if opacity is not None:
        level = _px(opacity, percent_of=1.0)
        if level is not None and level < NEAR_ZERO_OPACITY:
            return "opacity-0"
    if _tiny_font(declarations):
        return "font-size-0"
    if get("position") in ("absolute", "fixed", "relative") and (
            _offscreen(get("left")) or _offscreen(get("top"))):
        return "offscreen-position"
    if any(_offscreen(side) for side in _margin_top_left(declarations)):
        return "negative-margin"
    if _offscreen(get("text-indent")):
        return "negative-text-indent"
    overflow_hidden = any(get(name) in ("hidden", "clip")
                          for name in ("overflow", "overflow-x", "overflow-y"))
    if overflow_hidden and (_at_most(get("height"), 1) or _at_most(get("max-height"), 1)):
        return "zero-height-overflow"
    if overflow_hidden and (_at_most(get("width"), 1) or _at_most(get("max-width"), 1)):
        return "zero-width-overflow"
    if get("position") in ("absolute", "fixed") and _clipped_to_nothing(declarations):
        return "clip-zero"
    if _TRANSPARENT.fullmatch(get("color", "")):
        return "transparent-text"
    return None


# --- <style> blocks -------------------------------------------------------------------------


class _Selector(NamedTuple):
    tag: str | None
    classes: frozenset[str]
    id: str | None


def _compound_selector(tokens) -> _Selector | None:
    """The rightmost compound of a selector (``div .a1`` -> ``.a1``) if it is simple."""
    tokens = list(tokens)
    while tokens and tokens[0].type in ("whitespace", "comment"):
        tokens.pop(0)
    while tokens and tokens[-1].type in ("whitespace", "comment"):
        tokens.pop()
    tag = element_id = None
    classes = set()
    previous = None
    for token in tokens:
        if token.type in ("whitespace", "comment") or (
                token.type == "literal" and token.value in (">", "+", "~")):
            tag, element_id, classes, previous = None, None, set(), None
            continue
        if token.type == "ident" and previous is not None and previous.type == "literal" and (
                previous.value == "."):
            classes.add(token.value.lower())
        elif token.type == "ident":
            tag = token.lower_value
        elif token.type == "hash":
            element_id = token.value.lower()
        elif not (token.type == "literal" and token.value in (".", "*")):
            return None  # pseudo-classes, attribute selectors...: not supported
        previous = token
    if previous is None or (previous.type == "literal" and previous.value == "."):
        return None
    return _Selector(tag, frozenset(classes), element_id)


def _split_selector_list(prelude) -> list[list]:
    selectors: list[list] = [[]]
    for token in prelude:
        if token.type == "literal" and token.value == ",":
            selectors.append([])
        else:
            selectors[-1].append(token)
    return selectors


def _rules_from_nodes(nodes, rules: list[tuple[_Selector, Declarations]]) -> None:
    for node in nodes:
        if node.type == "qualified-rule":
            declarations = _declarations_from_nodes(
                tinycss2.parse_blocks_contents(node.content, skip_comments=True))
            for tokens in _split_selector_list(node.prelude):
                selector = _compound_selector(tokens)
                if selector is not None and declarations:
                    rules.append((selector, declarations))
        elif node.type == "at-rule" and node.content is not None and node.lower_at_keyword in (
                "media", "supports", "layer", "container", "document", "-moz-document"):
            _rules_from_nodes(tinycss2.parse_rule_list(node.content, skip_comments=True), rules)


def _stylesheet_rules(html: str, *,
                      foreign_content: bool) -> list[tuple[_Selector, Declarations]]:
    rules: list[tuple[_Selector, Declarations]] = []
    for tag in _iter_tags(html, ends=False, foreign_content=foreign_content):
        if tag.kind == _RAW and tag.name == "style":
            css = _tame(html[tag.inner_start:tag.inner_end])
            try:
                _rules_from_nodes(tinycss2.parse_stylesheet(css, skip_comments=True), rules)
            except _CSS_FAILURES:
                continue  # reported as css-unreadable
    return rules


def _matches(selector: _Selector, name: str, attributes: _Attributes) -> bool:
    if selector.tag is not None and selector.tag != name:
        return False
    if selector.id is not None and attributes.values.get("id", "").lower() != selector.id:
        return False
    if selector.classes:
        classes = attributes.values.get("class", "").lower().split()
        return selector.classes.issubset(classes)
    return True
