"""Sanitising rich text on save: bleach with an allow-list fitted to Wagtail's rich-text
*database* format for the Draftail features we enable (h2 h3 h4 bold italic ol ul link hr).
Script-like elements are removed together with their content, which bleach alone would keep
as text. Plain code, no Django, no database."""

from __future__ import annotations

import threading

from bleach import html5lib_shim
from bleach.sanitizer import Cleaner

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
