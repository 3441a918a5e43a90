"""The screening text of HTML: all markup blanked and character references decoded, of
exactly the same length, so a word found in it has offsets into the original source."""

from __future__ import annotations

import functools
import re

from review.screening.markup.tokeniser import _ATTRS, _BOGUS, _COMMENT, _WS, _raw_element, _unescape

# Two passes, markup then references: a pattern starting with a literal "<" (or "&") lets the
# regex engine skip text at C speed, which an alternation of both would not.
_SCREEN_MARKUP = re.compile(
    "<(?:" + "|".join([
        _COMMENT,
        _BOGUS,
        _raw_element("script|style", "raw"),
        rf"/?(?P<tag>[A-Za-z][^{_WS}/>]*){_ATTRS}>?",
    ]) + ")",
    re.DOTALL | re.IGNORECASE,
)
_REFERENCE = re.compile(r"&(?:#[xX][0-9A-Fa-f]+;?|#[0-9]+;?|[A-Za-z][A-Za-z0-9]*;?)")


@functools.lru_cache(maxsize=4096)
def _decoded_reference(reference: str) -> str:
    """One decoded character padded with spaces to the reference's length, else unchanged."""
    decoded = _unescape(reference)
    if len(decoded) != 1:
        return reference  # unknown name, or one that decodes to two characters
    return decoded + " " * (len(reference) - 1)


# Elements a browser lays out as blocks or lines of their own (and line breaks): what they
# separate is separate text for every detector (a table of names, ID and phone numbers is
# not one long number), so their tags read as a line break. Inline tags (b, span, a, font…)
# still join what they split: 138<b>1234</b>5678 is one number.
BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "br", "caption", "center", "dd", "details",
    "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form",
    "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "li", "main", "menu", "nav",
    "ol", "option", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th",
    "thead", "tr", "ul", "body", "html", "head", "select", "legend", "listing",
    "frameset", "frame", "marquee",
})


def _blank(match: re.Match) -> str:
    tag = match.group("tag")
    if tag is not None and tag.lower() in BLOCK_TAGS:
        return "\n" + " " * (len(match.group()) - 1)
    return " " * len(match.group())


def _decode(match: re.Match) -> str:
    return _decoded_reference(match.group())


def screening_text(html: str) -> str:
    """Return ``html`` with markup blanked, of exactly the same length.

    Tags, comments, doctypes and whole script/style elements become spaces; the tags of
    block-level elements and line breaks (``BLOCK_TAGS``) a line break and spaces. A character
    reference (``&amp;`` ``&#36172;`` ``&#x8d4c;`` ``&nbsp;``, with or without the semicolon as
    browsers accept) becomes its character followed by spaces. References that are unknown,
    or that decode to more than one character (``&NotEqualTilde;``, a legacy prefix such as
    ``&ampxyz``), are left as they are. So ``m.start()`` of a match in the result indexes the
    original HTML. A ``<`` that starts no tag (``a < b``) is text; an unterminated tag at the
    end of the input is blanked to the end.
    """
    if "<" in html:
        html = _SCREEN_MARKUP.sub(_blank, html)
    if "&" in html:  # references inside tags are gone already
        html = _REFERENCE.sub(_decode, html)
    return html
