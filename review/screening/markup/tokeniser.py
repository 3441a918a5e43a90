"""The hand-written HTML tokeniser shared by the screening text and the markup scan.

A set of compiled regular expressions that follow the HTML5 tokeniser where it matters for
security: attribute quoting, raw-text elements (script, style, iframe, noscript...), comments,
and SVG/MathML foreign content where none of those is raw text. So markup a browser would run
cannot hide in what we take for an attribute value or a style sheet. Malformed input never
raises, and every pattern and loop is linear (adversarial 50 KB inputs take milliseconds).
Kept apart from everything else on purpose: it is the one piece to change with care.
"""

from __future__ import annotations

import functools
import html as html_lib
import re
from typing import NamedTuple

_WS = r"\t\n\f\r "  # HTML whitespace; deliberately not \s, which includes U+3000 and friends
_ATTR_NAME = rf"[^{_WS}/>][^{_WS}/>=]*"
_ATTR_VALUE = rf"\"[^\"]*\"?|'[^']*'?|[^{_WS}>]*"
# Attributes as the HTML5 tokeniser reads them. The loop can only stop at ">" or the end of
# the input, and it is possessive, so it never backtracks.
_ATTRS = rf"(?:[{_WS}/]+|{_ATTR_NAME}(?:[{_WS}]*=[{_WS}]*(?:{_ATTR_VALUE}))?)*+"
_NAME_END = rf"(?=[{_WS}/>]|\Z)"
_COMMENT = r"!--(?:>|->|.*?(?:--!?>|\Z))"
_BOGUS = r"[!?][^>]*>?|/(?![A-Za-z])[^>]*>?"  # doctype, <?...>, </ 3>


def _raw_element(names: str, group: str) -> str:
    """Start tag, raw text and end tag of a raw-text element (or everything to the end)."""
    return (rf"(?P<{group}>{names}){_NAME_END}(?P<{group}_attrs>{_ATTRS})"
            rf"(?:>(?P<{group}_body>.*?)(?:</(?P={group}){_NAME_END}{_ATTRS}>?|\Z)|\Z)")


_RAW_TEXT_ELEMENTS = "script|style|xmp|iframe|noembed|noframes|noscript|textarea|title"
_TOKEN = re.compile(
    "<(?:" + "|".join([
        _COMMENT,
        _BOGUS,
        _raw_element(_RAW_TEXT_ELEMENTS, "raw"),
        rf"(?P<plaintext>plaintext){_NAME_END}(?P<plaintext_attrs>{_ATTRS}).*",
        rf"/(?P<end>[A-Za-z][^{_WS}/>]*){_ATTRS}>?",
        rf"(?P<start>[A-Za-z][^{_WS}/>]*)(?P<start_attrs>{_ATTRS})>?",
    ]) + ")",
    re.DOTALL | re.IGNORECASE,
)
_ATTRIBUTE = re.compile(rf"(?P<name>{_ATTR_NAME})(?:[{_WS}]*=[{_WS}]*(?P<value>{_ATTR_VALUE}))?")


_DECIMAL_REFERENCE = re.compile(r"&#([0-9]+)")


def _shorten_decimal(match: re.Match) -> str:
    digits = match[1].lstrip("0") or "0"
    return "&#" + (digits if len(digits) <= 7 else "65533")  # beyond U+10FFFF: U+FFFD


def _unescape(text: str) -> str:
    """``html.unescape``, safe from Python's 4300-digit limit on int() (``&#0000...106;``)."""
    if "&#" in text:
        text = _DECIMAL_REFERENCE.sub(_shorten_decimal, text)
    return html_lib.unescape(text)


class _Tag(NamedTuple):
    kind: int           # _START, _END or _RAW (a raw-text element, content and end tag)
    name: str           # lower case
    start: int
    end: int            # end of the start tag, or of the whole raw-text element
    attrs: str          # the attribute text of the start tag
    inner_start: int    # content span (raw-text elements only; else end, end)
    inner_end: int
    foreign: bool       # read as SVG/MathML content, where nothing is raw text
    state: tuple        # foreign-content frames open after this token, to resume from end


_START, _END, _RAW = 0, 1, 2
_MAX_DEPTH = 512

_VOID = frozenset({"area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr",
                   "img", "input", "keygen", "link", "meta", "param", "source", "track", "wbr"})
_P_CLOSERS = frozenset({
    "address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div",
    "dl", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
    "h6", "header", "hgroup", "hr", "main", "menu", "nav", "ol", "p", "pre", "section", "table",
    "ul", "xmp", "plaintext", "listing",
})
# Start tags that implicitly close an open element of the given name, and the elements that
# stop the search for it (an <li> in a nested list does not close the outer <li>).
_LIST_SCOPE = frozenset({"ul", "ol", "dl", "menu", "table", "select", "template", "object",
                         "applet", "marquee", "button"})
_IMPLICIT_CLOSERS = {
    "p": _P_CLOSERS,
    "li": frozenset({"li"}),
    "dt": frozenset({"dt", "dd"}),
    "dd": frozenset({"dt", "dd"}),
    "option": frozenset({"option", "optgroup"}),
}


def _closed_by() -> dict[str, tuple[str, ...]]:
    """Start tag -> the open elements it may close implicitly."""
    closed: dict[str, tuple[str, ...]] = {}
    for name, closers in _IMPLICIT_CLOSERS.items():
        for closer in closers:
            closed[closer] = (*closed.get(closer, ()), name)
    return closed


_CLOSED_BY = _closed_by()


def _iter_tags(html: str, pos: int = 0, *, ends: bool = True, foreign_content: bool = False,
               state: tuple = ()):
    """Start tags, end tags (unless ``ends`` is false) and raw-text elements from ``pos``.

    Comments and doctypes are skipped. ``foreign_content`` says the document has ``<svg`` or
    ``<math``, which needs the slower tokeniser that tracks them; ``state`` is the ``state`` of
    the token ending at ``pos`` when resuming there.
    """
    if foreign_content:
        return _iter_tags_with_foreign_content(html, pos, state, ends)
    return _iter_html_tags(html, pos, ends)


_NEW = tuple.__new__  # _Tag(...) without NamedTuple's Python-level __new__: hot loops


def _html_tag(m: re.Match, state: tuple) -> _Tag | None:
    """The tag a ``_TOKEN`` match is, or None for a comment or doctype."""
    group = m.lastgroup  # the group that closed last tells the alternatives apart
    start, end = m.span()
    if group == "start_attrs":
        return _NEW(_Tag, (_START, m["start"].lower(), start, end, m["start_attrs"], end, end,
                           False, state))
    if group == "end":
        return _NEW(_Tag, (_END, m["end"].lower(), start, end, "", end, end, False, state))
    if group in ("raw_attrs", "raw_body"):
        body_start, body_end = m.span("raw_body")
        if body_start < 0:  # "<script" at the very end
            body_start = body_end = end
        return _NEW(_Tag, (_RAW, m["raw"].lower(), start, end, m["raw_attrs"], body_start,
                           body_end, False, state))
    if group == "plaintext_attrs":
        body_start = min(m.end("plaintext_attrs") + 1, end)
        return _NEW(_Tag, (_RAW, "plaintext", start, end, m["plaintext_attrs"], body_start, end,
                           False, state))
    return None


def _iter_html_tags(html: str, pos: int, ends: bool):
    for m in _TOKEN.finditer(html, pos):
        if m.lastgroup == "end" and not ends:
            continue
        tag = _html_tag(m, ())
        if tag is not None:
            yield tag


# Foreign content. Inside <svg> and <math> nothing is raw text (so <svg><style><img onerror>
# runs the handler) and <![CDATA[...]]> is real; HTML "breakout" tags leave it, and SVG
# foreignObject/desc/title and MathML mi/mo/mn/ms/mtext/annotation-xml hold HTML again.
# Frames are (element name, namespace), namespace "html" for those integration points.
_FOREIGN_TOKEN = re.compile(
    "<(?:" + "|".join([
        _COMMENT,
        r"!\[CDATA\[.*?(?:\]\]>|\Z)",
        _BOGUS,
        rf"/(?P<end>[A-Za-z][^{_WS}/>]*){_ATTRS}>?",
        rf"(?P<start>[A-Za-z][^{_WS}/>]*)(?P<start_attrs>{_ATTRS})>?",
    ]) + ")",
    re.DOTALL | re.IGNORECASE,
)
_BREAKOUT = frozenset({
    "b", "big", "blockquote", "body", "br", "center", "code", "dd", "div", "dl", "dt", "em",
    "embed", "h1", "h2", "h3", "h4", "h5", "h6", "head", "hr", "i", "img", "li", "listing",
    "menu", "meta", "nobr", "ol", "p", "pre", "ruby", "s", "small", "span", "strong", "strike",
    "sub", "sup", "table", "tt", "u", "ul", "var",
})
_FONT_BREAKOUT = re.compile(rf"(?:^|[{_WS}/\"'])(?:color|face|size)[{_WS}]*(?:=|$|[{_WS}/])",
                            re.IGNORECASE)
_INTEGRATION_POINTS = {"svg": frozenset({"foreignobject", "desc", "title"}),
                       "math": frozenset({"mi", "mo", "mn", "ms", "mtext"})}
_HTML_ANNOTATION = re.compile(r"encoding[\t\n\f\r ]*=[\t\n\f\r ]*(?:[\"'][\t\n\f\r ]*)?"
                              r"(?:text/html|application/xhtml\+xml)", re.IGNORECASE)


def _foreign_namespace(state: tuple) -> str | None:
    """"svg" or "math" if the current insertion point is foreign content, else None."""
    if state and state[-1][1] != "html":
        return state[-1][1]
    return None


def _push_foreign(state: tuple, name: str, attrs: str, namespace: str) -> tuple:
    if len(state) >= _MAX_DEPTH:
        return state  # Blink's parser stops nesting here too
    if name in ("svg", "math"):
        namespace = name
    if name in _INTEGRATION_POINTS.get(namespace, ()) or (
            namespace == "math" and name == "annotation-xml" and _HTML_ANNOTATION.search(attrs)):
        return (*state, (name, "html"))
    return (*state, (name, namespace))


def _leave_foreign(state: tuple) -> tuple:
    """Pop foreign frames down to the nearest HTML integration point (or out entirely)."""
    while state and state[-1][1] != "html":
        state = state[:-1]
    return state


def _pop_to(state: tuple, name: str, *, html_frames: bool) -> tuple:
    """Pop to the frame named ``name``; only through foreign frames unless ``html_frames``."""
    for position in range(len(state) - 1, -1, -1):
        frame_name, namespace = state[position]
        if frame_name == name:
            return state[:position]
        if namespace == "html" and not html_frames:
            break
    return state


def _iter_tags_with_foreign_content(html: str, pos: int, state: tuple, ends: bool):
    breakout_at = -1  # where </p> or </br> left foreign content: that end tag is marked foreign
    while True:
        namespace = _foreign_namespace(state)
        m = (_FOREIGN_TOKEN if namespace else _TOKEN).search(html, pos)
        if m is None:
            return
        pos = m.end()
        if namespace is None:
            tag = _html_tag(m, state)
            if tag is None:
                continue
            if tag.kind == _START and tag.name in ("svg", "math") and not tag.attrs.endswith("/"):
                state = _push_foreign(state, tag.name, tag.attrs, tag.name)
            elif tag.kind == _START and tag.name in ("mglyph", "malignmark") and state and (
                    state[-1][0] in _INTEGRATION_POINTS["math"]):
                # MathML even in a text integration point
                state = (*state, (tag.name, "math"))
                yield tag._replace(state=state, foreign=True)
                continue
            elif tag.kind == _END and state:
                state = _pop_to(state, tag.name, html_frames=True)
            if ends or tag.kind != _END:
                yield tag._replace(state=state, foreign=tag.start == breakout_at)
            continue
        group = m.lastgroup
        if group == "start_attrs":
            name, attrs = m["start"].lower(), m["start_attrs"]
            if name in _BREAKOUT or (name == "font" and _FONT_BREAKOUT.search(attrs)):
                state, pos = _leave_foreign(state), m.start()  # read it again as HTML
                continue
            if not attrs.endswith("/"):
                state = _push_foreign(state, name, attrs, namespace)
            yield _NEW(_Tag, (_START, name, m.start(), pos, attrs, pos, pos, True, state))
        elif group == "end":
            name = m["end"].lower()
            if name in ("br", "p"):
                # Browsers since about 2021 leave foreign content here, older ones (and
                # html5lib) do not: the scan reports it.
                state, pos = _leave_foreign(state), m.start()
                breakout_at = pos
                continue
            state = _pop_to(state, name, html_frames=False)
            if ends:
                yield _NEW(_Tag, (_END, name, m.start(), pos, "", pos, pos, True, state))


class _OpenElements:
    """The open-element stack at increasing positions, computed only when asked for."""

    def __init__(self, html: str, *, foreign_content: bool) -> None:
        self._tags = _iter_tags(html, foreign_content=foreign_content)
        self._pending: _Tag | None = None
        self._stack = _Stack()

    def before(self, position: int) -> dict[str, int]:
        """Open element name -> count, just before ``position`` (increasing calls only).

        The dict is live: read it before the next call.
        """
        while True:
            tag = self._pending or next(self._tags, None)
            self._pending = None
            if tag is None or tag.start >= position:
                self._pending = tag
                return self._stack.counts
            if tag.kind == _END:
                self._stack.close(tag.name)
            elif tag.kind == _START:
                for closed in _CLOSED_BY.get(tag.name, ()):
                    self._stack.close(closed, scope=_LIST_SCOPE)
                if tag.name not in _VOID:
                    self._stack.push(tag.name)


class _Stack:
    """Element names with their counts, so that absent names cost nothing to look for."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.counts: dict[str, int] = {}

    def push(self, name: str) -> None:
        self.names.append(name)
        self.counts[name] = self.counts.get(name, 0) + 1

    def close(self, name: str, *, scope: frozenset[str] = frozenset()) -> bool:
        """Pop up to the innermost ``name`` unless a ``scope`` element comes first."""
        if not self.counts.get(name):
            return False
        # Browsers stop nesting at a depth of 512 or so; looking deeper only costs time.
        for position in range(len(self.names) - 1, max(len(self.names) - _MAX_DEPTH, 0) - 1, -1):
            current = self.names[position]
            if current == name:
                for popped in self.names[position:]:
                    self.counts[popped] -= 1
                del self.names[position:]
                return True
            if current in scope:
                return False
        return False


def _element_span(html: str, tag: _Tag, ancestors: dict[str, int], *,
                  foreign_content: bool) -> tuple[int, int, int]:
    """(content start, content end, element end) of the element ``tag`` starts.

    The element ends at its matching end tag (nesting counted), where a start tag closes it
    implicitly (``<p>`` by ``<div>``, ``<li>`` by ``<li>``), where one of its ``ancestors`` is
    closed, or at the end of the input. Stray end tags are ignored, as browsers do.
    """
    if tag.kind == _RAW:
        return tag.inner_start, tag.inner_end, tag.end
    if tag.name in _VOID:
        return tag.end, tag.end, tag.end
    closers = _IMPLICIT_CLOSERS.get(tag.name, frozenset())
    inside = _Stack()
    for other in _iter_tags(html, tag.end, foreign_content=foreign_content, state=tag.state):
        if other.kind == _START:
            if not inside.names and other.name in closers:
                return tag.end, other.start, other.start
            if other.name not in _VOID:
                inside.push(other.name)
        elif other.kind == _END and not inside.close(other.name):
            if other.name == tag.name:
                return tag.end, other.start, other.end
            if ancestors.get(other.name):
                return tag.end, other.start, other.start  # the parent closes
    return tag.end, len(html), len(html)


# --- attributes -------------------------------------------------------------------------------


class _Attributes(NamedTuple):
    values: dict[str, str]  # first occurrence wins, as in browsers; entities decoded
    handlers: list[str]     # values of on* attributes


_EVENT_HANDLER = re.compile(r"on[a-z]+")


@functools.lru_cache(maxsize=4096)
def _parse_attributes(text: str) -> _Attributes:
    """The attributes in a start tag's attribute text (shared: do not modify)."""
    values: dict[str, str] = {}
    handlers: list[str] = []
    for m in _ATTRIBUTE.finditer(text):
        name = m["name"].lower()
        value = m["value"] or ""
        if value[:1] in ("'", '"'):
            value = value[1:-1] if len(value) > 1 and value[-1] == value[0] else value[1:]
        if "&" in value:
            value = _unescape(value)
        if _EVENT_HANDLER.fullmatch(name) and m["value"] is not None:
            handlers.append(value)
        values.setdefault(name, value)
    return _Attributes(values, handlers)


_NO_ATTRIBUTES = _Attributes({}, [])
