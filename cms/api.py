"""API v3 wiring: answer refusals that Wagtail's API does not map with RFC 7807 problems, and
serve anonymous readers live pages only as signed."""

from functools import wraps

from django.db import DatabaseError
from django.db.models import ProtectedError
from django.http import Http404
from ninja.errors import HttpError
from wagtail.api.v3.api import api
from wagtail.api.v3.errors import problem_response
from wagtail.api.v3.routers.pages import router as pages_router
from wagtail.models import Page, RevisionMixin

from cms.full_disk import full_disk_problem
from cms.resources.api import router as resources_router
from review.exceptions import FileInUse
from review.register.livecheck import SignedRevisionUnavailable, signed_object_for, signed_objects


def protected_content(request, exc: ProtectedError):
    # Published content is kept for tracing: its approvals and register entries protect it.
    return problem_response(status=409, detail="该内容曾经发布并已登记，不能删除；请改为紧急撤稿。")


def file_in_use(request, exc: FileInUse):
    # Live content's signed approval names the file: it stays while that content is live.
    return problem_response(status=409, title="文件正在使用", detail=str(exc))


def register_api_error_handlers() -> None:
    api.add_exception_handler(ProtectedError, protected_content)
    api.add_exception_handler(FileInUse, file_in_use)
    # A full disk: 507 with a Chinese problem, not a 500 (other errors stay errors).
    api.add_exception_handler(OSError, full_disk_problem)
    api.add_exception_handler(DatabaseError, full_disk_problem)
    pages_router.add_decorator(signed_for_anonymous_readers)
    resources_router.add_decorator(signed_for_anonymous_readers)


def _specific_in_order(pages: list) -> list:
    """The specific pages of ``pages``, in their order (a query per page type)."""
    if all(type(page) is not Page for page in pages):
        return pages
    specific = Page.objects.filter(pk__in=[page.pk for page in pages]).specific().in_bulk()
    return [specific[page.pk] for page in pages if page.pk in specific]


def _as_signed(obj, *, address: str):
    """``obj`` as its leader signed it; 404 when nothing live was signed for it, 503 when
    neither it nor its signed revision is what was signed."""
    try:
        signed = signed_object_for(obj.specific if isinstance(obj, Page) else obj,
                                   address=address)
    except SignedRevisionUnavailable:
        raise HttpError(503, "该内容正在核查，暂不提供。") from None
    if signed is None:
        raise Http404("没有这项内容。")
    return signed


def signed_for_anonymous_readers(view_func):
    """API reads as anonymous readers are shown them: each live page or snippet (a
    teacher's public resource) as its leader signed it (review.register.livecheck), like the
    public site. A title or body written past ``save()`` (an ``update()``, SQL) is not
    served; an object put online without a publication answers 404 and is left out of lists.
    Staff and token readers (the editing tier) see the database as Wagtail does."""

    @wraps(view_func)
    def view(request, *args, **kwargs):
        result = view_func(request, *args, **kwargs)
        if request.method != "GET" or request.user.is_authenticated:
            return result
        if isinstance(result, RevisionMixin):
            return _as_signed(result, address=request.path)
        if isinstance(result, dict) and isinstance(result.get("items"), list):
            items = result["items"]
            if items and all(isinstance(item, Page) for item in items):
                result["items"] = signed_objects(_specific_in_order(items))
            elif items and all(isinstance(item, RevisionMixin) for item in items):
                result["items"] = signed_objects(items)
        return result

    return view
