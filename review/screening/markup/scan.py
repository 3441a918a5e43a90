"""The markup scan: ``find_markup_problems`` walks the tags of the HTML once and reports
hidden content (CSS, ``hidden``, tiny marquees and iframes, ``<style>`` rules hiding a class)
and unsafe markup (scripts, event handlers, script URLs, frames, redirects), each with offsets
into the HTML given."""

from __future__ import annotations

import re

import tinycss2

from review.screening.markup.css import (
    _CSS_FAILURES,
    FAST_MARQUEE,
    TINY_BOX_PX,
    _at_most,
    _css_hiding_rule,
    _matches,
    _parse_declarations,
    _px,
    _resolve,
    _style_declarations,
    _style_hiding_rule,
    _stylesheet_rules,
    _tame,
)
from review.screening.markup.rules import (
    _REDIRECT,
    _URL_TEXT,
    HIDDEN_CONTENT,
    UNSAFE_MARKUP,
    MarkupFinding,
    _css_problem,
    _has_link,
    _has_text,
    _is_url_attribute,
    _mentions_url,
    _points_elsewhere,
    _url_rule,
)
from review.screening.markup.tokeniser import (
    _END,
    _NO_ATTRIBUTES,
    _RAW,
    _Attributes,
    _element_span,
    _iter_tags,
    _OpenElements,
    _parse_attributes,
    _Tag,
)

# --- prefilter --------------------------------------------------------------------------------
# Every rule needs one of these in the (lower-cased) source. Tag and attribute names cannot be
# written with character references; attribute values can, and URL parsing drops tab, LF and CR
# anywhere, so the words a URL rule needs are matched with those in between, and any character
# reference other than the five harmless common ones sends the input down the full path.


def _spaced(word: str) -> str:
    return "[\t\n\r]*".join(re.escape(char) for char in word)


_PREFILTER_WORDS = ("style", "hidden", "formaction")
# Separate patterns, each starting with a literal, are far faster than one alternation.
_PREFILTER_PATTERNS = tuple(re.compile(pattern) for pattern in (
    r"<(?:iframe|marquee|meta|object|embed|applet|frame|base|form|link|noscript|noembed"
    r"|noframes|template|dialog|details|svg|math)",
    _spaced("script"),
    _spaced("data:"),
    r"&(?!(?:amp|nbsp|lt|gt|quot);)",
))
_HANDLER_HINT = re.compile(r"on[a-z]+[\t\n\f\r ]*=")
_BEFORE_ATTRIBUTE = frozenset("\t\n\f\r /\"'")


def _may_have_problems(lowered: str) -> bool:
    """False only if no rule can fire on this (lower-cased) HTML."""
    if any(word in lowered for word in _PREFILTER_WORDS):
        return True
    if any(pattern.search(lowered) for pattern in _PREFILTER_PATTERNS):
        return True
    return any(m.start() and lowered[m.start() - 1] in _BEFORE_ATTRIBUTE
               for m in _HANDLER_HINT.finditer(lowered))


# --- the scan ---------------------------------------------------------------------------------

_HIDING_ELEMENTS = frozenset({"noscript", "noembed", "noframes", "template"})
_ELEMENT_RULES = {"script": "script", "iframe": "iframe", "object": "object", "embed": "embed",
                  "applet": "applet", "frame": "frame", "frameset": "frame"}
# Raw text in HTML but markup inside <svg>/<math>: the parse depends on context, the stuff of
# mutation XSS (<svg><style><img src=x onerror=...>).
_FOREIGN_RAW_TEXT = frozenset({"style", "xmp", "iframe", "noembed", "noframes", "noscript",
                               "textarea", "plaintext"})
# Elements checked even without attributes worth reading.
_SPECIAL_ELEMENTS = frozenset(_ELEMENT_RULES) | _HIDING_ELEMENTS | {"link", "dialog", "details",
                                                                     "style"}
# Elements whose attributes are read whatever their attribute text looks like.
_ATTRIBUTE_ELEMENTS = frozenset({"meta", "base", "form", "link", "marquee", "iframe", "dialog",
                                 "details"})


class _Scan:
    """State for one call of ``find_markup_problems``."""

    def __init__(self, html: str, *, lowered: str) -> None:
        self.html = html
        self.foreign_content = "<svg" in lowered or "<math" in lowered
        self.stylesheet = _stylesheet_rules(
            html, foreign_content=self.foreign_content) if "<style" in lowered else []
        self.open_elements = _OpenElements(html, foreign_content=self.foreign_content)
        self.findings: list[MarkupFinding] = []
        self.hidden_until = -1  # nested hidden elements are part of the outer finding
        self.element_until: dict[str, int] = {}  # the same for element rules (<object>...)

    def run(self) -> list[MarkupFinding]:
        foreign = self.foreign_content
        for tag in _iter_tags(self.html, ends=foreign, foreign_content=foreign):
            if tag.kind == _END:
                if tag.foreign and tag.name in ("p", "br"):  # inside <svg>/<math>
                    self._add(UNSAFE_MARKUP, "foreign-breakout", tag.start, tag.end)
                continue
            attributes = self._attributes(tag)
            if not (attributes.values or self.stylesheet or tag.name in _SPECIAL_ELEMENTS
                    or tag.foreign):
                continue
            self._check_unsafe(tag, attributes)
            if tag.start >= self.hidden_until and tag.name not in ("script", "style"):
                self._check_hidden(tag, attributes)
        unique = {(f.start, f.kind, f.rule, f.end): f for f in self.findings}
        return [unique[key] for key in sorted(unique)]

    def _attributes(self, tag: _Tag) -> _Attributes:
        if not tag.attrs:
            return _NO_ATTRIBUTES
        if self.stylesheet or tag.name in _ATTRIBUTE_ELEMENTS or _may_have_problems(
                tag.attrs.lower()):
            return _parse_attributes(tag.attrs)
        return _NO_ATTRIBUTES

    def _span(self, tag: _Tag) -> tuple[int, int, int]:
        ancestors = self.open_elements.before(tag.start)
        return _element_span(self.html, tag, ancestors, foreign_content=self.foreign_content)

    def _add(self, kind: str, rule: str, start: int, end: int, *,
             has_link: bool | None = None) -> MarkupFinding:
        match = self.html[start:end]
        if has_link is None:
            has_link = _mentions_url(match)
        finding = MarkupFinding(kind, rule, start, end, match, has_link)
        self.findings.append(finding)
        return finding

    # unsafe markup -------------------------------------------------------------------------------

    def _check_unsafe(self, tag: _Tag, attributes: _Attributes) -> None:
        element_rule = _ELEMENT_RULES.get(tag.name)
        if element_rule is not None and tag.start >= self.element_until.get(element_rule, -1):
            inner_start, inner_end, end = self._span(tag)
            self.element_until[element_rule] = end
            self._add(UNSAFE_MARKUP, element_rule, tag.start, end)
            if tag.name == "script" and _REDIRECT.search(self.html[inner_start:inner_end]):
                self._add(UNSAFE_MARKUP, "script-redirect", tag.start, end)
        if tag.name == "style" and tag.kind == _RAW:
            for rule in _unsafe_stylesheet_rules(self.html[tag.inner_start:tag.inner_end]):
                self._add(UNSAFE_MARKUP, rule, tag.start, tag.end)
        start_tag_end = tag.inner_start if tag.kind == _RAW else tag.end
        if tag.foreign and tag.name in _FOREIGN_RAW_TEXT:
            self._add(UNSAFE_MARKUP, "foreign-raw-text", tag.start, start_tag_end)
        for rule in _unsafe_tag_rules(tag.name, attributes):
            self._add(UNSAFE_MARKUP, rule, tag.start, start_tag_end)

    # hidden content ------------------------------------------------------------------------------

    def _check_hidden(self, tag: _Tag, attributes: _Attributes) -> None:
        rule = self._hiding_rule(tag.name, attributes)
        if rule is None:
            return
        inner_start, inner_end, end = self._span(tag)
        if tag.name == "iframe":
            source = attributes.values.get("src", "")
            holds = bool(source or "srcdoc" in attributes.values)
            has_link = bool(_URL_TEXT.search(source))
        else:
            inner = self.html[inner_start:inner_end]
            has_link = _has_link(inner)
            holds = has_link or _has_text(inner)
        if holds:
            self._add(HIDDEN_CONTENT, rule, tag.start, end, has_link=has_link)
            self.hidden_until = end

    def _hiding_rule(self, name: str, attributes: _Attributes) -> str | None:
        values = attributes.values
        if name in _HIDING_ELEMENTS:
            return name
        if name in ("dialog", "details") and "open" not in values:
            return f"closed-{name}"
        style = values.get("style", "")
        matched = [declarations for selector, declarations in self.stylesheet
                   if _matches(selector, name, attributes)]
        if matched:
            declarations = _resolve(*matched, _parse_declarations(style) if style else ())
            rule = _css_hiding_rule(declarations)
        else:  # the common case, cached by style text
            declarations = _style_declarations(style)
            rule = _style_hiding_rule(style)
        if rule is not None:
            return rule
        if "hidden" in values and "display" not in declarations:
            return "hidden-attribute"
        if name in ("marquee", "iframe"):
            return _tiny_box_rule(name, values, declarations)
        return None


def _unsafe_tag_rules(name: str, attributes: _Attributes) -> list[str]:
    """Rules a start tag breaks through its name and attributes."""
    values = attributes.values
    rules = []
    if attributes.handlers:
        rules.append("event-handler")
    scripts = list(attributes.handlers)
    for attribute, value in values.items():
        if not _is_url_attribute(attribute):
            continue
        for url in value.split(";") if attribute == "values" else (value,):
            rule = _url_rule(url)
            if rule is not None:
                rules.append(rule)
                scripts.append(url)
    if any(_REDIRECT.search(script) for script in scripts):
        rules.append("script-redirect")
    css_rule = _css_problem(values["style"]) if "style" in values else None
    if css_rule is not None:
        rules.append(css_rule)
    if name == "meta" and values.get("http-equiv", "").strip().lower() == "refresh":
        rules.append("meta-refresh")
    if name == "base" and "href" in values:
        rules.append("base-href")
    if name == "link":
        rules.append("link")
    if (name == "form" and _points_elsewhere(values.get("action"))) or (
            _points_elsewhere(values.get("formaction"))):
        rules.append("form-action")
    return rules


def _unsafe_stylesheet_rules(css: str) -> list[str]:
    """``css-import`` for an ``@import``, and the rule of ``_css_problem``."""
    rules = []
    try:
        if "@" in css and any(
                node.type == "at-rule" and node.lower_at_keyword == "import"
                for node in tinycss2.parse_stylesheet(_tame(css), skip_comments=True)):
            rules.append("css-import")
    except _CSS_FAILURES:
        rules.append("css-unreadable")
    problem = _css_problem(css)
    if problem is not None and problem not in rules:
        rules.append(problem)
    return rules


def _tiny_box_rule(name: str, values: dict[str, str],
                   declarations: dict[str, str]) -> str | None:
    """``tiny-marquee``/``tiny-iframe`` (2px or less) or ``fast-marquee``."""
    if any(_at_most(declarations.get(side) or values.get(side), TINY_BOX_PX)
           for side in ("width", "height")):
        return f"tiny-{name}"
    speed = _px(values.get("scrollamount", ""), percent_of=0)
    if name == "marquee" and speed is not None and speed >= FAST_MARQUEE:
        return "fast-marquee"
    return None


def find_markup_problems(html: str) -> list[MarkupFinding]:
    """Hidden content and unsafe markup in ``html``, ordered by position.

    Hidden content (kind ``hidden_content``, rules in ``HIDDEN_RULES``) is reported only when
    the hidden element holds text or a link, and only the outermost of nested hidden elements.
    Inline styles and simple ``<style>`` rules (``.class``, ``#id``, ``tag`` and compounds of
    them, the rightmost compound of a longer selector, inside @media/@supports too) are
    cascaded in document order with ``!important`` honoured; specificity is not computed.

    Unsafe markup (kind ``unsafe_markup``, rules in ``UNSAFE_RULES``) covers scripts, event
    handlers, script and markup ``data:`` URLs (character references and tab/newline
    obfuscation decoded as browsers do), CSS that runs script, frames and plug-ins,
    refresh/redirects, ``<base href>``, ``<link>``, forms posting to absolute URLs (we cannot
    tell our own hosts here) and SVG/MathML parsed differently from HTML (mutation XSS).
    Element rules (``script``, ``object``...) report the outermost of nested elements.

    Input with none of the markers any rule needs (``style``, ``hidden``, ``on...=``,
    ``script``, ``data:``, a character reference other than ``&amp; &nbsp; &lt; &gt; &quot;``,
    or tags such as ``<iframe``) returns ``[]`` without being parsed.
    """
    if not html:
        return []
    lowered = html.lower()
    if not _may_have_problems(lowered):
        return []
    return _Scan(html, lowered=lowered).run()
