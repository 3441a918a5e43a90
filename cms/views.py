"""Public views that are not pages: per-site search and attachment downloads."""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from wagtail.models import Page, Site

from cms.cjk import query_tokens
from cms.models import ArticleAttachment
from cms.resources.models import ResourceFile
from cms.resources.public import live_public_resources
from cms.signed_files import serve_signed_download

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
    """Serve an article's attachment to the public, but only while the article is live, and
    only the bytes and file name its leader signed (cms.signed_files): a file replaced since
    goes public with the next approval.

    Each organisation's document collection is restricted to its own staff, so Wagtail's
    document URLs never leak a draft's files; the public reaches a document only here.
    """
    item = get_object_or_404(
        ArticleAttachment.objects.select_related("document"), pk=attachment_id
    )
    page = Page.objects.live().public().filter(pk=item.page_id).first()
    if page is None:
        raise Http404("No such attachment.")
    return serve_signed_download(obj=page, document=item.document, requested_name=filename,
                                 what=f"页面 #{page.pk} 的附件 #{item.pk}")


def resource_file(request, file_id: int, filename: str):
    """Serve a file of a teacher's resource to the public, only while the resource is live
    and public: never a draft's file (drafts are revisions; the row's files are the live
    ones) nor an internal resource's, and only the bytes and name its leader signed."""
    item = get_object_or_404(ResourceFile.objects.select_related("document", "resource"),
                             pk=file_id, resource__in=live_public_resources())
    return serve_signed_download(obj=item.resource, document=item.document,
                                 requested_name=filename,
                                 what=f"资源 #{item.resource_id} 的文件 #{item.pk}")


def favicon(request):
    """Browsers ask every site for /favicon.ico: the static file (hashed name and all)."""
    return redirect(static("favicon.ico"), permanent=True)
