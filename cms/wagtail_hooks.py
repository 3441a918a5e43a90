from django.http import Http404, HttpResponse
from django.views.defaults import page_not_found
from wagtail import hooks

from cms.baking.livecheck import check_files
from review.register.livecheck import SignedRevisionUnavailable, signed_object_for
from review.register.security import client_address


@hooks.register("review_live_checks")
def check_baked_files(*, progress=None):
    """publication_log check-live also checks the baked public files (static publishing)."""
    return check_files(progress=progress)


@hooks.register("on_serve_page", order=100)
def serve_signed_content(next_serve):
    """Readers (and the baker, which renders through the same view) get a page exactly as
    its latest register entry signed it: a write that skipped the guard (``update()``, SQL)
    is not shown — the signed revision is, and the staff are alarmed — and a page put
    online without a publication entry answers 404 (so its file is not baked). Ordered after
    Wagtail's view restrictions (order 0), which keep answering first. Previews do not come
    this way."""
    def inner(page, request, args, kwargs):
        try:
            chosen = signed_object_for(page, address=client_address(request))
        except SignedRevisionUnavailable:
            # Signed, but not even the signed revision can be shown: a server error, so
            # the bake keeps the file readers have (cms.baking.engine keeps it on 5xx).
            return HttpResponse("内容暂时无法显示，网站管理员已收到通知。", status=503,
                                content_type="text/plain; charset=utf-8")
        if chosen is None:
            # A response, not Http404: the alarm recorded in this request's transaction
            # must not be rolled back with it.
            return page_not_found(request, Http404())
        return next_serve(chosen, request, args, kwargs)
    return inner
