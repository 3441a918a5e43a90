"""Rich-text markup checks for content screening.

Why: education-bureau sites are a favourite target of SEO spammers. Whoever gets hold of an
editor account (or pastes from a compromised page) injects gambling and porn links hidden from
human readers with CSS, or scripts that redirect visitors. A reviewer looking at the rendered
page cannot see hidden text, so the screener has to look at the markup itself.

Three plain functions, no Django, no database:

* ``sanitise_rich_text`` -- bleach with an allow-list fitted to Wagtail's rich-text *database*
  format for the Draftail features we enable (h2 h3 h4 bold italic ol ul link hr). Script-like
  elements are removed together with their content, which bleach alone would keep as text.
* ``screening_text`` -- the HTML with all markup blanked and character references decoded, of
  exactly the same length, so a word found in it has offsets into the original source.
* ``find_markup_problems`` -- hidden content (CSS, ``hidden``, tiny marquees and iframes,
  ``<style>`` rules hiding a class) and unsafe markup (scripts, event handlers, script URLs,
  frames, redirects), each with offsets into the HTML given.

The tokeniser is a set of compiled regular expressions that follow the HTML5 tokeniser where it
matters for security: attribute quoting, raw-text elements (script, style, iframe, noscript...),
comments, and SVG/MathML foreign content where none of those is raw text. So markup a browser
would run cannot hide in what we take for an attribute value or a style sheet. Malformed input
never raises, and every pattern and loop is linear (adversarial 50 KB inputs take milliseconds).
"""

from __future__ import annotations

import functools
import html as html_lib
import re
import threading
from dataclasses import dataclass
from typing import NamedTuple

import tinycss2
from bleach import html5lib_shim
from bleach.sanitizer import Cleaner

__all__ = [
    "HIDDEN_CONTENT",
    "HIDDEN_RULES",
    "UNSAFE_MARKUP",
    "UNSAFE_RULES",
    "MarkupFinding",
    "find_markup_problems",
    "sanitise_rich_text",
    "screening_text",
]

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

# ---------------------------------------------------------------------------------------------
# Sanitising
# ---------------------------------------------------------------------------------------------

# Wagtail's contentstate converter (wagtail/admin/rich_text/converters/contentstate.py) writes
# every block element with data-block-key; lists are <ul>/<ol> of <li>; links are
# <a href="..."> (external), <a linktype="page" id="3"> or <a linktype="document" id="1">;
# hr and br are written as <hr/> and <br/>.
ALLOWED_TAGS = frozenset({"p", "h2", "h3", "h4", "b", "i", "strong", "em", "ol", "ul", "li", "a",
                          "br", "hr"})
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto", "tel"})
LINK_TYPES = frozenset({"page", "document"})
_BLOCK_KEY_TAGS = frozenset({"p", "h2", "h3", "h4", "li"})

# Removed with everything inside them. Most are raw-text elements whose content bleach would
# otherwise keep as escaped text; svg and math are foreign content we never allow.
_DROPPED_WITH_CONTENT = frozenset({
    "script", "style", "template", "iframe", "frame", "frameset", "object", "embed", "applet",
    "noscript", "noembed", "noframes", "svg", "math", "xmp", "plaintext", "textarea", "title",
})


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if name == "data-block-key":
        return tag in _BLOCK_KEY_TAGS
    if tag == "a":
        if name == "href":
            return True  # bleach then checks the protocol against ALLOWED_PROTOCOLS
        if name == "linktype":
            return value in LINK_TYPES
        if name == "id":
            return value.isdigit()  # page or document primary key
    return False


class _DropElementsFilter(html5lib_shim.Filter):
    """Drop the dropped-with-content elements and every token inside them.

    The tree walker yields balanced start/end tokens, so a depth counter is exact.
    """

    def __iter__(self):
        depth = 0
        for token in super().__iter__():
            kind = token["type"]
            if kind in ("StartTag", "EndTag", "EmptyTag") and (
                    token["name"].lower() in _DROPPED_WITH_CONTENT):
                if kind == "StartTag":
                    depth += 1
                elif kind == "EndTag":
                    depth -= 1
                continue
            if not depth:
                yield token


def _make_cleaner() -> Cleaner:
    cleaner = Cleaner(
        tags=ALLOWED_TAGS,
        attributes=_allowed_attribute,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
    )
    # Bleach's tokeniser turns disallowed tags into text before the tree is built, so the
    # content of <script> would be parsed as ordinary markup and kept. Letting the parser see
    # the dropped elements makes it parse them as a browser does (raw text for script, style,
    # iframe...), and the walker filter then removes them, content and all, before bleach's
    # sanitiser sees the stream. (Cleaner.parser/.walker are set in Cleaner.__init__ and used
    # by clean() in bleach 6.x; the tests pin the behaviour.)
    cleaner.parser = html5lib_shim.BleachHTMLParser(
        tags=ALLOWED_TAGS | _DROPPED_WITH_CONTENT,
        strip=True,
        consume_entities=False,
        namespaceHTMLElements=False,
    )
    walker = html5lib_shim.getTreeWalker("etree")
    cleaner.walker = lambda dom: _DropElementsFilter(walker(dom))
    # Wagtail's database format writes void elements as <br/> and <hr/>.
    cleaner.serializer.use_trailing_solidus = True
    cleaner.serializer.space_before_trailing_solidus = False
    # Always quote with ": for a value holding " html5lib would switch to ', and bleach's
    # undoing of its &amp; escaping only handles "-quoted values, so a second pass would turn
    # &lt; into &amp;lt; (not idempotent).
    cleaner.serializer.use_best_quote_char = False
    return cleaner


_cleaners = threading.local()  # bleach's Cleaner is not thread-safe: one per thread


def sanitise_rich_text(html: str) -> str:
    """Return ``html`` reduced to Wagtail's rich-text database format for our features.

    Disallowed tags are stripped (their text kept), script-like elements are removed with
    their content, comments are dropped, links keep only http/https/mailto/tel hrefs or a
    page/document ``linktype`` with a numeric ``id``. Clean database-format HTML comes back
    byte-identical; the function is idempotent.
    """
    cleaner = getattr(_cleaners, "cleaner", None)
    if cleaner is None:
        cleaner = _cleaners.cleaner = _make_cleaner()
    return cleaner.clean(html)


# ---------------------------------------------------------------------------------------------
# Tokenising (shared by screening_text and find_markup_problems)
# ---------------------------------------------------------------------------------------------

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

# ---------------------------------------------------------------------------------------------
# Screening text
# ---------------------------------------------------------------------------------------------

# Two passes, markup then references: a pattern starting with a literal "<" (or "&") lets the
# regex engine skip text at C speed, which an alternation of both would not.
_SCREEN_MARKUP = re.compile(
    "<(?:" + "|".join([
        _COMMENT,
        _BOGUS,
        _raw_element("script|style", "raw"),
        rf"/?[A-Za-z][^{_WS}/>]*{_ATTRS}>?",
    ]) + ")",
    re.DOTALL | re.IGNORECASE,
)
_REFERENCE = re.compile(r"&(?:#[xX][0-9A-Fa-f]+;?|#[0-9]+;?|[A-Za-z][A-Za-z0-9]*;?)")


_DECIMAL_REFERENCE = re.compile(r"&#([0-9]+)")


def _shorten_decimal(match: re.Match) -> str:
    digits = match[1].lstrip("0") or "0"
    return "&#" + (digits if len(digits) <= 7 else "65533")  # beyond U+10FFFF: U+FFFD


def _unescape(text: str) -> str:
    """``html.unescape``, safe from Python's 4300-digit limit on int() (``&#0000...106;``)."""
    if "&#" in text:
        text = _DECIMAL_REFERENCE.sub(_shorten_decimal, text)
    return html_lib.unescape(text)


@functools.lru_cache(maxsize=4096)
def _decoded_reference(reference: str) -> str:
    """One decoded character padded with spaces to the reference's length, else unchanged."""
    decoded = _unescape(reference)
    if len(decoded) != 1:
        return reference  # unknown name, or one that decodes to two characters
    return decoded + " " * (len(reference) - 1)


def _blank(match: re.Match) -> str:
    return " " * len(match.group())


def _decode(match: re.Match) -> str:
    return _decoded_reference(match.group())


def screening_text(html: str) -> str:
    """Return ``html`` with markup blanked, of exactly the same length.

    Tags, comments, doctypes and whole script/style elements become spaces. A character
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


# ---------------------------------------------------------------------------------------------
# Findings
# ---------------------------------------------------------------------------------------------


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
