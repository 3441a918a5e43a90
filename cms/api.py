"""API v3 wiring: answer refusals that Wagtail's API does not map with RFC 7807 problems, and
serve anonymous readers live pages only as signed."""

from functools import wraps

from django.db.models import ProtectedError
from django.http import Http404
from ninja.errors import HttpError
from wagtail.api.v3.api import api
from wagtail.api.v3.errors import problem_response
from wagtail.api.v3.routers.pages import router as pages_router
from wagtail.models import Page


def protected_content(request, exc: ProtectedError):
    # Published content is kept for tracing: its approvals and register entries protect it.
    return problem_response(status=409, detail="该内容曾经发布并已登记，不能删除；请改为紧急撤稿。")


def register_api_error_handlers() -> None:
    api.add_exception_handler(ProtectedError, protected_content)
    pages_router.add_decorator(signed_for_anonymous_readers)


def _specific_in_order(pages: list) -> list:
    """The specific pages of ``pages``, in their order (a query per page type)."""
    if all(type(page) is not Page for page in pages):
        return pages
    specific = Page.objects.filter(pk__in=[page.pk for page in pages]).specific().in_bulk()
    return [specific[page.pk] for page in pages if page.pk in specific]


def signed_for_anonymous_readers(view_func):
    """API v3's page reads as anonymous readers are shown them: each live page as its
    leader signed it (review.register.livecheck), like the public site. A title or body
    written past ``save()`` (an ``update()``, SQL) is not served; a page put online without
    a publication answers 404 and is left out of lists. Staff and token readers (the
    editing tier) see the database as Wagtail does."""
    from review.register.livecheck import (
        SignedRevisionUnavailable,
        signed_object_for,
        signed_objects,
    )

    @wraps(view_func)
    def view(request, *args, **kwargs):
        result = view_func(request, *args, **kwargs)
        if request.method != "GET" or request.user.is_authenticated:
            return result
        if isinstance(result, Page):
            try:
                signed = signed_object_for(result.specific, address=request.path)
            except SignedRevisionUnavailable:
                raise HttpError(503, "该页面正在核查，暂不提供。") from None
            if signed is None:
                raise Http404("没有这个页面。")
            return signed
        if isinstance(result, dict) and isinstance(result.get("items"), list):
            pages = [item for item in result["items"] if isinstance(item, Page)]
            if len(pages) == len(result["items"]):
                result["items"] = signed_objects(_specific_in_order(pages))
        return result

    return view
