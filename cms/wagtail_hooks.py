from django.db.models import Q
from django.http import Http404, HttpResponse
from django.templatetags.static import static
from django.utils.html import format_html
from django.views.defaults import page_not_found
from wagtail import hooks

from cms import health  # noqa: F401  (registers the site-health hooks)
from cms.baking.livecheck import check_files
from cms.file_scope import is_organisation_content, may_use, organisation_collection
from cms.organisations import organisations_of
from review.register.livecheck import SignedRevisionUnavailable, signed_object_for
from review.register.security import client_address


@hooks.register("review_live_checks")
def check_baked_files(*, progress=None):
    """publication_log check-live also checks the baked public files (static publishing)."""
    return check_files(progress=progress)


@hooks.register("review_signed_file")
def signed_file_bytes(*, kind, file_id, signed):
    """check-live verifies the bytes readers get of signed files where cms serves them from:
    the originals store, by the signed SHA-256 (cms.signed_files)."""
    from cms.signed_files import signed_original  # loads models: not at import

    return signed_original(kind=kind, file_id=file_id, signed=signed)


@hooks.register("review_attachment_allowed")
def own_files_only(*, obj, file) -> bool:
    """The publication guard lets an organisation's content go live only with the
    organisation's own documents and images (cms.file_scope), whatever path saved it."""
    if not is_organisation_content(obj):
        return True  # not the education network's content: no rule of ours
    collection = organisation_collection(obj)
    return may_use(file_collection_path=file.collection.path if file.collection_id else "",
                   organisation_collection_path=collection.path if collection else None)


def _own_collections(files, request):
    """Choosers offer a member of staff the files of their own organisations' collections
    (and those below). People of no organisation (maintainers) see what their permissions
    give; the page form still refuses a file the page's organisation may not use."""
    homes = organisations_of(request.user)
    if not homes:
        return files
    paths = [home.collection.path for home in homes if home.collection_id]
    query = Q(pk__in=[])
    for path in paths:
        query |= Q(collection__path__startswith=path)
    return files.filter(query)


@hooks.register("construct_document_chooser_queryset")
def own_documents(documents, request):
    return _own_collections(documents, request)


@hooks.register("construct_image_chooser_queryset")
def own_images(images, request):
    return _own_collections(images, request)


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


@hooks.register("register_actions")
def register_page_actions(registry) -> None:
    from wagtail.models import Page

    from cms.actions import MovePageAction

    registry.register(Page, MovePageAction)


@hooks.register("review_protected_names")
def organisation_names():
    """The bureau's and each school's own names and their leaders' names must be written
    exactly (issue 20): the screener reports a near miss with the right form."""
    from django.contrib.auth import get_user_model
    from wagtail.models import Page, get_page_models

    from cms.models import OrganisationHomePage
    from cms.organisations import Role

    homes = [model for model in get_page_models() if issubclass(model, OrganisationHomePage)]
    names = [(title, "") for title in Page.objects.type(*homes).values_list("title", flat=True)]
    leaders = get_user_model().objects.filter(
        groups__name__endswith=f" {Role.LEADER.label}", is_active=True).distinct()
    for user in leaders.only("first_name", "last_name"):
        # Chinese names are kept surname first (last_name + first_name), or whole in either.
        full = f"{user.last_name}{user.first_name}".strip()
        if full:
            names.append((full, ""))
    return names


def _announce_moved_slug(request, page) -> None:
    """Tells the author that the page took another address because stray autosaved drafts
    held the one asked for (cms/stray_drafts.py), with a link to the older draft. Not for an
    autosave (a background request that shows no messages)."""
    moved = getattr(page, "_slug_moved", None)
    if moved is None or not request.accepts("text/html"):
        return
    from django.urls import reverse
    from wagtail.admin import messages

    asked, given, strays = moved
    older = strays[0]
    messages.warning(
        request,
        f"地址“{asked}”已被同一栏目下未提交过的草稿《{older.title}》占用（多半是自动保存留下的），"
        f"本页的地址改为“{given}”。如不再需要原草稿，可打开后删除。",
        buttons=[messages.button(reverse("wagtailadmin_pages:edit", args=[older.pk]),
                                 "打开原草稿", new_window=False)],
    )


@hooks.register("after_create_page")
def announce_moved_slug_after_create(request, page):
    _announce_moved_slug(request, page)


@hooks.register("after_edit_page")
def announce_moved_slug_after_edit(request, page):
    _announce_moved_slug(request, page)


@hooks.register("insert_editor_js")
def name_rich_text_editors():
    """Rich-text editors get an accessible name (cms/static/cms/editor-a11y.js)."""
    return format_html('<script src="{}" defer></script>', static("cms/editor-a11y.js"))
