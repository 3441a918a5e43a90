"""Public views that are not pages: per-site search and attachment downloads."""

import mimetypes

from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from wagtail.models import Page, Site

from cms.cjk import query_tokens
from cms.models import ArticleAttachment
from cms.resources.models import ResourceFile
from cms.resources.public import live_public_resources

RESULTS_PER_PAGE = 20
MAX_QUERY_LENGTH = 100


def search(request):
    """Search the live, public pages of the site the request is for — never drafts."""
    site = Site.find_for_request(request)
    query = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
    page_obj = None
    if query and site is not None:
        # Chinese is matched by bigrams (cms.cjk); every bigram of the query must be present.
        results = (Page.objects.live().public().in_site(site).specific()
                   .search(query_tokens(query), operator="and"))
        page_obj = Paginator(results, RESULTS_PER_PAGE).get_page(request.GET.get("page"))
    site_root = site.root_page.specific if site else None
    return render(
        request, "cms/search.html", {"query": query, "page_obj": page_obj, "site_root": site_root}
    )


def attachment(request, attachment_id: int, filename: str):
    """Serve an article's attachment to the public, but only while the article is live.

    Each organisation's document collection is restricted to its own staff, so Wagtail's
    document URLs never leak a draft's files; the public reaches a document only here.
    """
    item = get_object_or_404(
        ArticleAttachment.objects.select_related("document"), pk=attachment_id
    )
    document = item.document
    if document.filename != filename:
        raise Http404("No such attachment.")
    if not Page.objects.live().public().filter(pk=item.page_id).exists():
        raise Http404("No such attachment.")
    content_type = mimetypes.guess_type(document.filename)[0] or "application/octet-stream"
    return FileResponse(document.file.open("rb"), content_type=content_type,
                        as_attachment=True, filename=document.filename)


def resource_file(request, file_id: int, filename: str):
    """Serve a file of a teacher's resource to the public, only while the resource is live
    and public: never a draft's file (drafts are revisions; the row's files are the live
    ones) nor an internal resource's."""
    item = get_object_or_404(ResourceFile.objects.select_related("document"), pk=file_id,
                             resource__in=live_public_resources())
    document = item.document
    if document.filename != filename:
        raise Http404("No such file.")
    content_type = mimetypes.guess_type(document.filename)[0] or "application/octet-stream"
    return FileResponse(document.file.open("rb"), content_type=content_type,
                        as_attachment=True, filename=document.filename)
