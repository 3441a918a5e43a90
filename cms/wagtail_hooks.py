from django.db.models import Q
from wagtail import hooks

from cms.baking.livecheck import check_files
from cms.file_scope import is_organisation_content, may_use, organisation_collection
from cms.organisations import organisations_of


@hooks.register("review_live_checks")
def check_baked_files(*, progress=None):
    """publication_log check-live also checks the baked public files (static publishing)."""
    return check_files(progress=progress)


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
