"""Limits on what API v3 takes in, checked before the request's transaction opens.

Why here: Wagtail's API binds the body inside the view, which ATOMIC_REQUESTS runs in a write
transaction (on SQLite, with the database's one write lock). A body too large, nested too
deeply, or that is no JSON object made it fail there — with a 500 (``[]``, ``null``, rich text
nested 300 levels: RecursionError in Wagtail's HTML cleaning) or after holding the lock for
as long as the work took. Refusing such bodies first, in linear time and without the database,
keeps every other writer going. Query parameters naming a number too large for the database
are refused here too.

The limits (README, *Headless API*):

- a body of at most ``CMS_API_MAX_BODY_BYTES`` (2 MB) → 413;
- a JSON object, nested at most ``MAX_JSON_DEPTH`` (32) levels → 422;
- each string of markup nested at most ``MAX_DEPTH`` (100) elements → 422 naming the field,
  and at most ``MAX_TAGS`` (20,000) tags in all the body's strings → 422.
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
MAX_TAGS = 20_000
# Query parameters holding a row id or a count: databases store them in 64 bits.
INTEGER_PARAMETERS = frozenset({"offset", "limit", "user_id", "ancestor_of", "child_of",
                                "descendant_of", "translation_of", "id", "parent_id",
                                "collection_id"})
MAX_INTEGER = 2**63 - 1
_TAG = re.compile(r"<[A-Za-z/!?]")
# Copying or aliasing the tree's root (which has no parent to hold the copy): Wagtail's API
# looks for a free slug under the root's parent, None, before any check.
_ROOT_ACTIONS = re.compile(r"^/api/v3/pages/(?P<page_id>[0-9]{1,18})/actions/"
                           r"(?:copy|create_alias)/$")


def max_body_bytes() -> int:
    return int(getattr(settings, "CMS_API_MAX_BODY_BYTES", MAX_BODY_BYTES))


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


def markup_errors(value, *, loc: list | None = None, max_depth: int = MAX_DEPTH,
                  max_tags: int = MAX_TAGS) -> list[dict]:
    """Errors for the strings in ``value`` (a parsed JSON body) holding markup nested deeper
    than ``max_depth``, each with its place, and for more than ``max_tags`` tags in all (what
    sanitising costs grows with the tags: 20,000 take about a second)."""
    errors = []
    tags = 0
    pending = [(value, loc or ["body"])]
    while pending:
        item, where = pending.pop()
        if isinstance(item, dict):
            pending.extend((child, [*where, key]) for key, child in item.items())
        elif isinstance(item, list):
            pending.extend((child, [*where, index]) for index, child in enumerate(item))
        elif isinstance(item, str) and "<" in item:
            tags += len(_TAG.findall(item))
            if nesting_depth(item, stop_at=max_depth + 1) > max_depth:
                errors.append(_error(where, f"富文本嵌套过深（超过 {max_depth} 层）。",
                                     "markup_too_deep"))
    if tags > max_tags:
        message = f"富文本的标签过多（共 {tags} 个，最多 {max_tags} 个）。"
        errors.append(_error(loc or ["body"], message, "markup_too_large"))
    return sorted(errors, key=lambda error: [str(part) for part in error["loc"]])


def body_errors(body: bytes) -> tuple[int, list[dict]] | None:
    """(status, errors) refusing a JSON request ``body``, or None when it may go on. A body
    that is no JSON at all is left to the API, which says so."""
    if len(body) > max_body_bytes():
        limit = max_body_bytes() // (1024 * 1024)
        return 413, [_error(["body"], f"请求正文过大（最多 {limit} MB）。", "body_too_large")]
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
            if length.isdigit() and int(length) > max_body_bytes():
                limit = max_body_bytes() // (1024 * 1024)
                return refusal(413, [_error(["body"], f"请求正文过大（最多 {limit} MB）。",
                                            "body_too_large")])
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
