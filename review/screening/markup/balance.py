"""Balancing markup before bleach's parser (html5lib) sees it, and measuring its nesting.

Why: html5lib builds the tree as a browser does, and on misnested or unclosed markup that
costs time quadratic in the input (every unclosed ``<b>`` is reconstructed at every piece of
text: 50 KB of ``<b>x`` took 1.5 s, 200 KB 25 s) and recursion proportional to the nesting
(RecursionError past a few hundred levels). One linear pass over the hand-written tokeniser's
tags closes every element explicitly and in order, and drops start tags nested deeper than
``MAX_DEPTH`` (their text is kept). Every end tag html5lib then sees closes its current node,
so its open elements and its active formatting elements stay within the limit and it runs in
time linear in the input.

Markup that is already balanced (everything Wagtail's editor writes) comes back unchanged,
byte for byte. Plain code, no Django, no database.
"""

from __future__ import annotations

from review.screening.markup.tokeniser import (
    _CLOSED_BY,
    _END,
    _LIST_SCOPE,
    _RAW,
    _VOID,
    _iter_tags,
)

#: Elements nested deeper than this are not kept as elements (their text is). The editor's
#: content nests four or five levels (a list in a list item, bold inside a link); pasted
#: office and web pages rarely pass thirty. Wagtail's own HTML cleaning recurses per level
#: and fails at about three hundred.
MAX_DEPTH = 100

_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# A start tag of one of these closes an open element of the same name first (html5lib runs
# its adoption agency for <a> and <nobr>, and closes an open <button>).
_NOT_NESTED = frozenset({"a", "nobr", "button"})


def _has_foreign_content(html: str) -> bool:
    lowered = html.lower()
    return "<svg" in lowered or "<math" in lowered


class _Balancer:
    """The open elements as the balancing pass models them, writing the end tags it implies
    (when ``write``)."""

    def __init__(self, *, write: bool) -> None:
        self.write = write
        self.stack: list[str] = []
        self.open: dict[str, int] = {}
        self.out: list[str] = []

    def push(self, name: str) -> None:
        self.stack.append(name)
        self.open[name] = self.open.get(name, 0) + 1

    def close(self, name: str, *, scope: frozenset[str] = frozenset(),
              own_end_tag: bool = True) -> None:
        """Pop to the innermost open ``name`` (unless a ``scope`` element comes first),
        writing an end tag for every element popped; ``own_end_tag`` false leaves out
        ``name``'s own (the input's end tag follows)."""
        if not self.open.get(name):
            return
        for position in range(len(self.stack) - 1, -1, -1):
            current = self.stack[position]
            if current == name:
                break
            if current in scope:
                return
        popped = self.stack[position:]
        del self.stack[position:]
        for element in popped:
            self.open[element] -= 1
        if self.write:
            self.out.extend(f"</{element}>" for element in reversed(popped[1:]))
            if own_end_tag:
                self.out.append(f"</{name}>")

    def start(self, name: str) -> None:
        """Close what a start tag ``name`` closes implicitly."""
        for closed in _CLOSED_BY.get(name, ()):  # <div> closes an open <p>, <li> an <li>
            self.close(closed, scope=_LIST_SCOPE)
        if name in _HEADINGS and self.stack and self.stack[-1] in _HEADINGS:
            self.close(self.stack[-1])
        if name in _NOT_NESTED:
            self.close(name)


def _is_leaf(tag) -> bool:
    self_closing = tag.attrs.endswith("/") and (tag.foreign or tag.name in ("svg", "math"))
    return tag.name in _VOID or self_closing


def balance(html: str, *, max_depth: int = MAX_DEPTH) -> str:
    """``html`` with every element closed explicitly and in order, and start tags nested
    deeper than ``max_depth`` left out (their content kept). Linear in the input; balanced
    markup comes back unchanged."""
    if "<" not in html:
        return html
    b = _Balancer(write=True)
    out = b.out
    dropped: dict[str, int] = {}  # start tags left out, by name: their end tags go too
    pos = 0
    for tag in _iter_tags(html, foreign_content=_has_foreign_content(html)):
        out.append(html[pos:tag.start])  # text, comments and doctypes as they are
        pos = tag.end
        source = html[tag.start:tag.end]
        if tag.kind == _RAW:  # script, style... with their raw text: no children
            out.append(source)
        elif tag.kind == _END:
            if dropped.get(tag.name):
                # The innermost element of that name is one left out (it was deeper than
                # anything kept): its end tag goes with it.
                dropped[tag.name] -= 1
                continue
            b.close(tag.name, own_end_tag=False)
            # Stray end tags go through too: html5lib ignores them (</p> and </br> make an
            # empty element, as they always did).
            out.append(source)
        else:
            b.start(tag.name)
            if _is_leaf(tag):
                out.append(source)
            elif len(b.stack) < max_depth:
                out.append(source)
                b.push(tag.name)
            else:  # too deep: the element goes, its content stays
                dropped[tag.name] = dropped.get(tag.name, 0) + 1
    out.append(html[pos:])
    return "".join(out)


def nesting_depth(html: str, *, stop_at: int | None = None) -> int:
    """How deeply elements nest in ``html`` (unclosed ones count as open) as the balancing
    pass models it; linear. Counting stops once ``stop_at`` is reached."""
    if "<" not in html:
        return 0
    b = _Balancer(write=False)
    deepest = 0
    for tag in _iter_tags(html, foreign_content=_has_foreign_content(html)):
        if tag.kind == _END:
            b.close(tag.name)
            continue
        if tag.kind == _RAW or _is_leaf(tag):
            deepest = max(deepest, len(b.stack) + 1)
            continue
        b.start(tag.name)
        b.push(tag.name)
        deepest = max(deepest, len(b.stack))
        if stop_at is not None and deepest >= stop_at:
            break
    return deepest
