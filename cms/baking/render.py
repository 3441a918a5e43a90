"""Rendering a public URL exactly as a reader gets it: through Django's request handler with
the whole middleware chain and Wagtail's serve view, as an anonymous GET for the site's host,
so the baked bytes are the bytes the dynamic view returns."""

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.handlers.base import BaseHandler
from django.test import RequestFactory
from wagtail.models import Site

# Set on the baking request so the baked-file middleware renders instead of serving the old
# file back. A WSGI environ key without the HTTP_ prefix cannot come from a client's header.
BAKING_MARK = "cms.baking"

_handler_lock = threading.Lock()
_handler: BaseHandler | None = None


@dataclass(frozen=True)
class Rendered:
    status: int
    content: bytes


def _get_handler() -> BaseHandler:
    global _handler
    with _handler_lock:
        if _handler is None:
            handler = BaseHandler()
            handler.load_middleware()
            _handler = handler
    return _handler


def host_header(site: Site) -> str:
    return site.hostname if site.port in (80, 443) else f"{site.hostname}:{site.port}"


def render(*, site: Site, url_path: str, page_number: int = 1, page=None,
           serve_kwargs: Mapping[str, Any] | None = None) -> Rendered:
    """GET ``url_path`` (``?page=N`` for N ≥ 2) on ``site`` as an anonymous reader.

    ``page``, the specific page the baker knows is at ``url_path``, saves Wagtail routing to
    it (a query per level of the tree): the serve view takes the route cached on the request,
    as everything else takes the site (with its home page, read once per bake). The route's
    keyword arguments, ``serve_kwargs``, are what Wagtail's serve view hands to the page's
    ``serve`` and on to its ``get_context`` (a column's listing read once for all its pages).

    The response is not closed: closing sends ``request_finished``, which would close the
    database connection in the middle of the caller's transaction (the test client avoids
    it the same way)."""
    query = {"page": str(page_number)} if page_number > 1 else {}
    request = RequestFactory().get(url_path, query, headers={"host": host_header(site)},
                                   secure=site.port == 443)
    request.META[BAKING_MARK] = True
    request._wagtail_site = site
    if page is not None:
        request._wagtail_route_for_request = (page, [], dict(serve_kwargs or {}))
    response = _get_handler().get_response(request)
    content = (b"".join(response.streaming_content) if response.streaming
               else response.content)
    return Rendered(status=response.status_code, content=content)
