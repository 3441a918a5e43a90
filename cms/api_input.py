"""Limits on what API v3 takes in, checked before the request's transaction opens.

Why here: Wagtail's API binds the body inside the view, which ATOMIC_REQUESTS runs in a write
transaction (on SQLite, with the database's one write lock). A body too large, nested too
deeply, or that is no JSON object made it fail there — with a 500 (``[]``, ``null``, rich text
nested 300 levels: RecursionError in Wagtail's HTML cleaning) or after holding the lock for
as long as the work took. Refusing such bodies first, in linear time and without the database,
keeps every other writer going. Query parameters naming a number too large for the database
are refused here too.

The limits (README, *Headless API*):

- strings (rich text, titles…) of at most ``CMS_API_MAX_BODY_BYTES`` (2 MB) in all, as UTF-8,
  in a request body of at most three times that (JSON escapes: most encoders write a Chinese
  character as ``\\uXXXX``, six bytes for three) → 413;
- a JSON object, nested at most ``MAX_JSON_DEPTH`` (32) levels → 422;
- each string of markup nested at most ``MAX_DEPTH`` (100) elements → 422 naming the field,
  at most ``MAX_TAGS`` (200,000) tags and at most ``MAX_MISNESTED`` (1,000) misnested end tags
  in all the body's strings → 422.

Why these markup limits (bench/sanitise.py): sanitising is linear, and what it costs follows
the bytes for ordinary markup — 1.9 MB of article paragraphs with tables (67,000 tags) take
2.6 s, 1.9 MB of a pasted web page (162,000 tags) 4.7 s — so the 2 MB body bounds it. Only
formatting closed in the wrong order (``<i><b></i>``) costs several times more per tag (0.5 MB:
4.2 s, 2 MB: 24 s): no editor writes it, a pasted page has a handful, so more than 1,000 such
end tags is refused. The tag limit bounds what the 2 MB may hold (2 MB of ``<b>`` is 700,000).
The admin's editor (cms/forms.py) applies the same limits to the HTML it makes.
"""

from __future__ import annotations

import json
import re

from django.conf import settings
from wagtail.api.v3.errors import problem_response

from review.screening.markup.balance import MAX_DEPTH, nesting_depth

API_PREFIX = "/api/v3/"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})
MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_JSON_DEPTH = 32
MAX_TAGS = 200_000
MAX_MISNESTED = 1_000
RAW_FACTOR = 3
# Query parameters holding a row id or a count: databases store them in 64 bits.
INTEGER_PARAMETERS = frozenset({"offset", "limit", "user_id", "ancestor_of", "child_of",
                                "descendant_of", "translation_of", "id", "parent_id",
                                "collection_id"})
MAX_INTEGER = 2**63 - 1
_TAG = re.compile(r"<[A-Za-z/!?]")
_ELEMENT = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)[^>]*>")
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                   "param", "source", "track", "wbr"})
# Elements whose end tag HTML lets one leave out: closing past them is ordinary (pasted office
# markup does it all the time), closing past anything else is misnesting.
_IMPLIED_END = frozenset({"p", "li", "td", "th", "tr", "tbody", "thead", "tfoot", "option",
                          "dt", "dd", "colgroup", "caption", "rb", "rt", "rp", "optgroup"})
# Copying or aliasing the tree's root (which has no parent to hold the copy): Wagtail's API
# looks for a free slug under the root's parent, None, before any check.
_ROOT_ACTIONS = re.compile(r"^/api/v3/pages/(?P<page_id>[0-9]{1,18})/actions/"
                           r"(?:copy|create_alias)/$")


def max_body_bytes() -> int:
    """The most UTF-8 bytes a body's strings may hold together (the admin: its rich text)."""
    return int(getattr(settings, "CMS_API_MAX_BODY_BYTES", MAX_BODY_BYTES))


def max_request_bytes() -> int:
    """The most bytes of a request's JSON: room for the strings escaped."""
    return RAW_FACTOR * max_body_bytes()


def string_bytes(value) -> int:
    """The UTF-8 bytes of all the strings in ``value`` (a parsed JSON body); iterative."""
    total, pending = 0, [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            total += len(item.encode())
        elif isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return total


def too_large(limit: int) -> dict:
    return _error(["body"], f"请求正文过大（最多 {limit // (1024 * 1024)} MB）。", "body_too_large")


def _error(loc: list, msg: str, kind: str) -> dict:
    return {"type": kind, "loc": loc, "msg": msg}


def json_depth(value, *, stop_at: int) -> int:
    """How deeply arrays and objects nest in ``value`` (a scalar: 0), counting no further
    than ``stop_at``; iterative, so any depth is safe."""
    deepest = 0
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest >= stop_at:
            return deepest
        pending.extend((child, depth + 1) for child in children)
    return deepest


def misnested_end_tags(html: str, *, stop_at: int) -> int:
    """How many end tags in ``html`` close an element other than the innermost open one, past
    an element whose end tag is not optional (``<i><b></i>``), counting no further than
    ``stop_at``. One pass over the tags; comments and script bodies are not told apart (a
    ``</b>`` in a comment counts: such markup is refused a little early, never let through)."""
    stack: list[str] = []
    open_count: dict[str, int] = {}
    found = 0
    for match in _ELEMENT.finditer(html):
        name = match[2].lower()
        if name in _VOID:
            continue
        if not match[1]:
            if not match[0].endswith("/>"):
                stack.append(name)
                open_count[name] = open_count.get(name, 0) + 1
            continue
        if not open_count.get(name):
            continue  # a stray end tag: ignored by the parser, cheap
        # Pop to the innermost open ``name``: every element is popped once, so this stays
        # linear however deep the stack.
        crossed = False
        while True:
            element = stack.pop()
            open_count[element] -= 1
            if element == name:
                break
            crossed = crossed or element not in _IMPLIED_END
        if crossed:
            found += 1
            if found >= stop_at:
                return found
    return found


def markup_errors(value, *, loc: list | None = None, max_depth: int = MAX_DEPTH,
                  max_tags: int = MAX_TAGS, max_misnested: int = MAX_MISNESTED) -> list[dict]:
    """Errors for the strings in ``value`` (a parsed JSON body) holding markup nested deeper
    than ``max_depth``, each with its place, and for more than ``max_tags`` tags or
    ``max_misnested`` misnested end tags in all (what sanitising costs: module docstring)."""
    errors = []
    tags = misnested = 0
    pending = [(value, loc or ["body"])]
    while pending:
        item, where = pending.pop()
        if isinstance(item, dict):
            pending.extend((child, [*where, key]) for key, child in item.items())
        elif isinstance(item, list):
            pending.extend((child, [*where, index]) for index, child in enumerate(item))
        elif isinstance(item, str) and "<" in item:
            tags += len(_TAG.findall(item))
            if misnested <= max_misnested:
                misnested += misnested_end_tags(item, stop_at=max_misnested + 1 - misnested)
            if nesting_depth(item, stop_at=max_depth + 1) > max_depth:
                errors.append(_error(where, f"富文本嵌套过深（超过 {max_depth} 层）。",
                                     "markup_too_deep"))
    if tags > max_tags:
        message = f"富文本的标签过多（共 {tags} 个，最多 {max_tags} 个）。"
        errors.append(_error(loc or ["body"], message, "markup_too_large"))
    if misnested > max_misnested:
        message = (f"富文本中顺序错乱的结束标签过多（超过 {max_misnested} 个，"
                   "如 <i><b></i>），请先整理格式。")
        errors.append(_error(loc or ["body"], message, "markup_misnested"))
    return sorted(errors, key=lambda error: [str(part) for part in error["loc"]])


def body_errors(body: bytes) -> tuple[int, list[dict]] | None:
    """(status, errors) refusing a JSON request ``body``, or None when it may go on. A body
    that is no JSON at all is left to the API, which says so."""
    if len(body) > max_request_bytes():
        return 413, [too_large(max_body_bytes())]
    try:
        data = json.loads(body) if body.strip() else {}
    except RecursionError:  # nested past Python's own limit
        return 422, [_error(["body"], f"JSON 嵌套过深（最多 {MAX_JSON_DEPTH} 层）。",
                            "json_too_deep")]
    except ValueError:
        return None  # not JSON: the API answers that itself
    if not isinstance(data, dict):
        return 422, [_error(["body"], "请求正文须为 JSON 对象（{…}）。", "object_expected")]
    if json_depth(data, stop_at=MAX_JSON_DEPTH + 1) > MAX_JSON_DEPTH:
        return 422, [_error(["body"], f"JSON 嵌套过深（最多 {MAX_JSON_DEPTH} 层）。",
                            "json_too_deep")]
    if string_bytes(data) > max_body_bytes():
        return 413, [too_large(max_body_bytes())]
    errors = markup_errors(data)
    return (422, errors) if errors else None


def query_errors(query) -> list[dict]:
    """Errors for integer query parameters that are not numbers a database can hold."""
    errors = []
    for name in sorted(INTEGER_PARAMETERS & set(query.keys())):
        for value in query.getlist(name):
            text = value.strip()
            if name in ("child_of", "descendant_of", "translation_of") and text == "root":
                continue
            if not text.lstrip("-").isdigit():
                errors.append(_error(["query", name], f"{name} 须为整数。", "int_parsing"))
            elif len(text) > 19 or abs(int(text)) > MAX_INTEGER:
                errors.append(_error(["query", name], f"{name} 超出范围（最大 {MAX_INTEGER}）。",
                                     "int_too_large"))
    return errors


class ApiInputMiddleware:
    """Refuses API v3 requests over the limits above with a problem, before any view, any
    transaction and any database access."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        errors = query_errors(request.GET)
        if errors:
            return refusal(422, errors)
        if request.method in WRITE_METHODS and "json" in request.content_type:
            length = request.META.get("CONTENT_LENGTH") or "0"
            if length.isdigit() and int(length) > max_request_bytes():
                return refusal(413, [too_large(max_body_bytes())])
            refused = body_errors(request.body)
            if refused is not None:
                return refusal(*refused)
        if request.method == "POST" and (match := _ROOT_ACTIONS.match(request.path)):
            from wagtail.models import Page

            if Page.objects.filter(pk=match["page_id"], depth=1).exists():
                return refusal(422, [_error(["path", "page_id"], "根页面不能复制，也不能建立别名。",
                                            "root_page")])
        return self.get_response(request)


def refusal(status: int, errors: list[dict]):
    from cms.api import TITLES

    detail = "；".join(f"{'.'.join(str(part) for part in error['loc'])}：{error['msg']}"
                      for error in errors[:5])
    return problem_response(status=status, title=TITLES.get(status), detail=detail,
                            errors=errors)
