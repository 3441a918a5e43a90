"""The markup rules: what is reported (hidden content, unsafe markup), the finding a rule
produces, and the checks of links, URLs, redirects and scripts the scan applies."""

from __future__ import annotations

import re
from dataclasses import dataclass

import tinycss2

from review.screening.markup.css import _CSS_FAILURES, _tame
from review.screening.markup.text import screening_text
from review.screening.markup.tokeniser import _START, _iter_html_tags, _parse_attributes

HIDDEN_CONTENT = "hidden_content"
UNSAFE_MARKUP = "unsafe_markup"

HIDDEN_RULES = frozenset({
    # CSS, inline or from a <style> block
    "display-none", "visibility-hidden", "opacity-0", "font-size-0", "offscreen-position",
    "negative-margin", "negative-text-indent", "zero-height-overflow", "zero-width-overflow",
    "clip-zero", "transparent-text",
    # markup
    "hidden-attribute", "tiny-marquee", "fast-marquee", "tiny-iframe", "noscript", "noembed",
    "noframes", "template", "closed-dialog", "closed-details",
})
UNSAFE_RULES = frozenset({
    "script", "script-redirect", "event-handler", "javascript-url", "data-html-url",
    "css-script", "css-import", "css-unreadable", "iframe", "object", "embed", "applet", "frame",
    "meta-refresh", "base-href", "link", "form-action", "foreign-raw-text", "foreign-breakout",
})


@dataclass(frozen=True)
class MarkupFinding:
    """One problem in the markup.

    ``start``/``end`` index the HTML given and ``match == html[start:end]``. For element rules
    the span is the whole element, from its start tag to the end of its end tag (an unclosed
    element runs to where its parent closes, or to the end of the input); for attribute rules
    it is the element's start tag. The span is not capped: callers showing it should cap it.
    ``has_link``: the hidden content (or, for unsafe markup, the match) holds an ``<a href>``
    or URL-looking text.
    """

    kind: str
    rule: str
    start: int
    end: int
    match: str
    has_link: bool


# --- content checks ---------------------------------------------------------------------------

_URL_TEXT = re.compile(
    r"https?:|www\.|(?<![a-z0-9-])[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\."
    r"(?:com|cn|net|org|cc|top|vip|xyz|info|me|tv|co|io|hk|tw|biz|club|app|bet|win|site|shop"
    r"|live|online|fun|icu|ink|pw|la|ws)(?![a-z0-9])",
    re.IGNORECASE,
)


def _has_link_tag(fragment: str) -> bool:
    if "href" not in fragment.lower():
        return False
    return any(tag.kind == _START and tag.name == "a" and "href" in _parse_attributes(
        tag.attrs).values for tag in _iter_html_tags(fragment, 0, False))


def _has_link(fragment: str) -> bool:
    """An ``<a href>`` in the fragment, or URL-looking text outside its tags."""
    return _has_link_tag(fragment) or bool(_URL_TEXT.search(screening_text(fragment)))


def _mentions_url(markup: str) -> bool:
    """An ``<a href>`` or a URL anywhere in the markup, attribute values included."""
    return bool(_URL_TEXT.search(markup)) or _has_link_tag(markup)


def _has_text(fragment: str) -> bool:
    return bool(screening_text(fragment).strip())


# --- unsafe URLs and scripts ------------------------------------------------------------------

_URL_ATTRIBUTES = frozenset({
    "href", "src", "action", "formaction", "data", "codebase", "background", "poster", "cite",
    "longdesc", "usemap", "lowsrc", "dynsrc", "ping", "manifest", "archive", "classid", "icon",
    "profile", "xlink:href", "xml:base", "to", "from", "values", "by",
})
_C0_AND_SPACE = "".join(chr(code) for code in range(0x21))
_TAB_NEWLINE = str.maketrans("", "", "\t\n\r")
_SCRIPT_SCHEMES = ("javascript:", "vbscript:", "livescript:")
_MARKUP_MEDIA_TYPES = frozenset({"text/html", "application/xhtml+xml", "image/svg+xml",
                                 "text/xml", "application/xml", "text/javascript",
                                 "application/javascript", "text/xsl"})


def _url_rule(url: str) -> str | None:
    """``javascript-url``/``data-html-url`` for a decoded attribute value, as browsers read it.

    Leading and trailing C0 controls and spaces are dropped and tab/LF/CR removed anywhere,
    as the URL parser does, before the scheme is compared case-insensitively.
    """
    url = url.strip(_C0_AND_SPACE).translate(_TAB_NEWLINE).lower()
    if url.startswith(_SCRIPT_SCHEMES):
        return "javascript-url"
    if url.startswith("data:"):
        media_type = url[5:].split(",", 1)[0].split(";", 1)[0].strip()
        if media_type in _MARKUP_MEDIA_TYPES:
            return "data-html-url"
    return None


def _is_url_attribute(name: str) -> bool:
    return name in _URL_ATTRIBUTES or name.endswith(("href", "src"))


_REDIRECT = re.compile(
    r"\blocation\s*(?:\.\s*href\s*)?=(?!=)"
    r"|\blocation\s*\.\s*(?:replace|assign)\s*\("
    r"|\blocation\s*\[\s*[\"']href"
    r"|\b(?:document|top|parent)\s*\.\s*location\b"
    r"|\bwindow\s*\.\s*navigate\s*\(",
    re.IGNORECASE,
)
_CSS_SCRIPT_HINT = re.compile(r"expression|url|behavior|binding|script|\\|[(\[{]{32}",
                              re.IGNORECASE)


def _css_problem(css: str) -> str | None:
    """``css-script`` for ``expression()``, ``behavior``/``-moz-binding`` or a script
    ``url()``; ``css-unreadable`` for CSS too absurd to parse (nesting a thousand deep)."""
    if not _CSS_SCRIPT_HINT.search(css):
        return None
    try:
        tokens = tinycss2.parse_component_value_list(_tame(css), skip_comments=True)
        return "css-script" if _tokens_run_script(tokens) else None
    except _CSS_FAILURES:
        return "css-unreadable"


def _tokens_run_script(tokens) -> bool:
    for token in tokens:
        if token.type == "url" and _url_rule(token.value):
            return True
        if token.type == "ident" and token.lower_value in ("behavior", "-moz-binding"):
            return True
        if token.type == "function":
            if token.lower_name == "expression":
                return True
            strings = [t.value for t in token.arguments if t.type == "string"]
            if token.lower_name == "url" and strings and _url_rule(strings[0]):
                return True
            if _tokens_run_script(token.arguments):
                return True
        if token.type in ("() block", "[] block", "{} block") and _tokens_run_script(
                token.content):
            return True
    return False


_ABSOLUTE_URL = re.compile(r"[a-z][a-z0-9+.-]*:|[/\\]{2}")


def _points_elsewhere(url: str | None) -> bool:
    """An absolute or protocol-relative URL: we cannot tell our own hosts here."""
    if not url:
        return False
    return bool(_ABSOLUTE_URL.match(url.strip(_C0_AND_SPACE).translate(_TAB_NEWLINE).lower()))
