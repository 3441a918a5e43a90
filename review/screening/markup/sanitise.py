"""Sanitising rich text on save: bleach with an allow-list fitted to Wagtail's rich-text
*database* format for the Draftail features we enable (h2 h3 h4 bold italic ol ul link hr).
Script-like elements are removed together with their content, which bleach alone would keep
as text. Plain code, no Django, no database."""

from __future__ import annotations

import threading

from bleach import html5lib_shim
from bleach.sanitizer import Cleaner

from review.screening.markup.balance import balance

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


_CHARACTERS = html5lib_shim.TAG_TOKEN_TYPE_CHARACTERS
_SPACE_CHARACTERS = html5lib_shim.constants.tokenTypes["SpaceCharacters"]


class _MergingTokenizer(html5lib_shim.BleachHTMLTokenizer):
    """Bleach's tokeniser, with each run of text in one token.

    html5lib's tree builder appends every text token to the element's text with ``+=``, a
    copy of all the text so far: a paragraph of 400 KB with an entity every few characters
    took 1.6 s there alone, and time grew with the square of its length. The tokeniser splits
    text at every ``&``, ``<`` and space run; merged, each run is appended once. The first
    token of a run is passed on as it is, since the parser treats a leading space token
    specially in places (the newline after ``<pre>``).
    """

    def __iter__(self):
        run: list[str] = []
        for token in super().__iter__():
            kind = token["type"]
            if kind in (_CHARACTERS, _SPACE_CHARACTERS):
                if run:
                    run.append(token["data"])
                    continue
                yield token
                run.append("")  # the run has begun; later text collects here
                continue
            if len(run) > 1:
                yield {"type": _CHARACTERS, "data": "".join(run)}
            run = []
            yield token
        if len(run) > 1:
            yield {"type": _CHARACTERS, "data": "".join(run)}


class _LinearParser(html5lib_shim.BleachHTMLParser):
    """Bleach's parser with the text-merging tokeniser (the ``_parse`` of bleach 6.x, whose
    one change from html5lib's is the tokeniser it makes)."""

    def _parse(self, stream, innerHTML=False, container="div", scripting=True, **kwargs):
        self.innerHTMLMode = innerHTML
        self.container = container
        self.scripting = scripting
        self.tokenizer = _MergingTokenizer(
            stream=stream, consume_entities=self.consume_entities, parser=self, **kwargs)
        self.reset()
        try:
            self.mainLoop()
        except html5lib_shim.ReparseException:
            self.reset()
            self.mainLoop()


class _Ancestors(list):
    """The walker's stack of ancestor elements, with each one's index in its own parent."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: list = []


_EtreeWalker = html5lib_shim.getTreeWalker("etree")


class _LinearEtreeWalker(_EtreeWalker):
    """html5lib's etree walker, but going back up to a parent in constant time.

    html5lib's own finds the parent's index by scanning (and counting, in an assert) a copy of
    the grandparent's children each time it leaves an element: quadratic in the number of
    siblings (5,000 top-level paragraphs with a bold word each cost 25 million steps). Here
    the stack of ancestors remembers each one's index on the way down. The node tuples are
    html5lib's own: (element, index in parent, ancestors, "text"/"tail"/None).
    """

    def getFirstChild(self, node):
        if isinstance(node, tuple):
            element, key, parents, flag = node
        else:
            element, key, parents, flag = node, None, _Ancestors(), None
        if flag in ("text", "tail"):
            return None
        if element.text:
            return element, key, parents, "text"
        if len(element):
            parents.append(element)
            parents.keys.append(key)
            return element[0], 0, parents, None
        return None

    def getNextSibling(self, node):
        if not isinstance(node, tuple):
            return None
        element, key, parents, flag = node
        if flag == "text":
            if len(element):
                parents.append(element)
                parents.keys.append(key)
                return element[0], 0, parents, None
            return None
        if element.tail and flag != "tail":
            return element, key, parents, "tail"
        if key < len(parents[-1]) - 1:
            return parents[-1][key + 1], key + 1, parents, None
        return None

    def getParentNode(self, node):
        if not isinstance(node, tuple):
            return None
        element, key, parents, flag = node
        if flag == "text":
            if not parents:
                return element
            return element, key, parents, None
        parent = parents.pop()
        parent_key = parents.keys.pop()
        if not parents:
            return parent
        return parent, parent_key, parents, None


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
    cleaner.parser = _LinearParser(
        tags=ALLOWED_TAGS | _DROPPED_WITH_CONTENT,
        strip=True,
        consume_entities=False,
        namespaceHTMLElements=False,
    )
    cleaner.walker = lambda dom: _DropElementsFilter(_LinearEtreeWalker(dom))
    # Wagtail's database format writes void elements as <br/> and <hr/>.
    cleaner.serializer.use_trailing_solidus = True
    cleaner.serializer.space_before_trailing_solidus = False
    # Always quote with ": for a value holding " html5lib would switch to ', and bleach's
    # undoing of its &amp; escaping only handles "-quoted values, so a second pass would turn
    # &lt; into &amp;lt; (not idempotent).
    cleaner.serializer.use_best_quote_char = False
    return cleaner


_cleaners = threading.local()  # bleach's Cleaner is not thread-safe: one per thread


_KNOWN_CLEAN_CHARS = 8_000_000  # how much recent output each thread remembers (~16 MB)


def _known_clean() -> dict[str, None]:
    known = getattr(_cleaners, "known_clean", None)
    if known is None:
        known = _cleaners.known_clean = {}
    return known


def sanitise_rich_text(html: str) -> str:
    """Return ``html`` reduced to Wagtail's rich-text database format for our features.

    Disallowed tags are stripped (their text kept), script-like elements are removed with
    their content, comments are dropped, links keep only http/https/mailto/tel hrefs or a
    page/document ``linktype`` with a numeric ``id``. Clean database-format HTML comes back
    byte-identical; the function is idempotent.
    """
    # Saving a page sanitises the same body several times (the page, its revision, the form's
    # instance): a value this thread has just produced is clean already (idempotence), and
    # is returned without parsing it again.
    known = _known_clean()
    if html in known:
        return html
    cleaner = getattr(_cleaners, "cleaner", None)
    if cleaner is None:
        cleaner = _cleaners.cleaner = _make_cleaner()
    # Balanced first: html5lib's tree building is quadratic in misnested markup and recurses
    # per level of nesting; on balanced markup no deeper than MAX_DEPTH it is linear.
    clean = cleaner.clean(balance(html))
    if len(clean) > 1000:  # short values cost less to parse than to remember
        known[clean] = None
        while sum(map(len, known)) > _KNOWN_CLEAN_CHARS and len(known) > 1:
            del known[next(iter(known))]  # the oldest first
    return clean
