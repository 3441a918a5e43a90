"""Which documents and images a page or resource of an organisation may use.

The rule: content of an organisation uses only files of its own collection or the
collections below it (Wagtail collections are a tree; ``Collection.path`` of a descendant
starts with its ancestor's path). Every organisation's collection is a sibling under the
root collection (cms.organisations), so no organisation reaches another's files, the bureau
included both ways:

* a school does not use the bureau's files. The bureau's collection is internal to the
  bureau's staff (a collection view restriction), and a file goes public only under the
  approval of the organisation that owns it: a school's leader cannot vouch for a bureau file,
  and the bureau's leader never signs the school's page. A bureau document schools need is
  published by the bureau on the portal, and schools link to that page (or upload their own
  copy, which then passes their own screening and approval);
* the bureau's portal does not use a school's files, for the same reason.

The rule itself is plain (``may_use``); the rest reads the database: the organisation of a
page or resource, and the documents and images an object refers to.
"""

from collections.abc import Iterable, Iterator

from django.db.models import Model
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel, get_all_child_relations
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import Collection, Page

# The message for a file the content may not use. It is the same whether the file belongs to
# another organisation or does not exist, and names nothing about it.
NOT_OWN_FILE = "只能使用本单位文档库中的文档或图片。"


def may_use(*, file_collection_path: str, organisation_collection_path: str | None) -> bool:
    """A file in the collection at ``file_collection_path`` may be used by content of the
    organisation whose collection is at ``organisation_collection_path``: its own collection
    or one below it. Content of no organisation uses no file."""
    if not organisation_collection_path or not file_collection_path:
        return False
    return file_collection_path.startswith(organisation_collection_path)


def file_models() -> tuple[type[Model], ...]:
    return (get_document_model(), get_image_model())


def is_file_model(model) -> bool:
    return isinstance(model, type) and issubclass(model, file_models())


# --- The organisation content belongs to ---------------------------------------------------

def organisation_home(page: Page, *, parent: Page | None = None):
    """The organisation home page (portal or school) ``page`` is in, or None for a page of
    no organisation. ``parent`` places a page not yet in the tree."""
    from cms.models import OrganisationHomePage

    if parent is not None and (page.pk is None or not page.path):
        if parent.depth <= 1:
            return page if isinstance(page, OrganisationHomePage) else None
        page = parent
    if page.depth is None or page.depth < 2:
        return None
    home = page if page.depth == 2 else (
        Page.objects.filter(depth=2).ancestor_of(page).first())
    home = home.specific if home is not None else None
    return home if isinstance(home, OrganisationHomePage) else None


def organisation_collection(obj, *, parent: Page | None = None) -> Collection | None:
    """The collection whose files ``obj`` (a page, or anything with a ``school``) may use;
    None when it is no organisation's content (the rule then allows nothing)."""
    if isinstance(obj, Page):
        home = organisation_home(obj, parent=parent)
    else:
        home = getattr(obj, "school", None)
    return getattr(home, "collection", None)


def is_organisation_content(obj, *, parent: Page | None = None) -> bool:
    """Pages of an organisation's site and resources of a school: the content this rule
    governs (other models, such as review/'s test pages, are not the education network's)."""
    from cms.models import OrganisationHomePage

    if isinstance(obj, Page):
        return organisation_home(obj, parent=parent) is not None
    return isinstance(getattr(obj, "school", None), OrganisationHomePage)


def allowed_files(model: type[Model], collection: Collection | None):
    """The documents or images (``model``) content of ``collection``'s organisation may use."""
    if collection is None:
        return model.objects.none()
    return model.objects.filter(collection__path__startswith=collection.path)


def foreign_files(files: Iterable, *, collection: Collection | None) -> list:
    """Those of ``files`` the content of ``collection``'s organisation may not use."""
    path = collection.path if collection is not None else None
    return [file for file in files
            if not may_use(file_collection_path=_collection_path(file),
                           organisation_collection_path=path)]


def _collection_path(file) -> str:
    if file.collection_id is None:
        return ""
    return Collection.objects.filter(pk=file.collection_id).values_list(
        "path", flat=True).first() or ""


# --- The files an object refers to ----------------------------------------------------------

def referenced_file_keys(obj) -> Iterator[tuple[type[Model], str]]:
    """(model, pk) of every document and image ``obj`` refers to: foreign keys, StreamField
    blocks (image blocks, choosers), rich text (document links, image embeds) and the same in
    its child objects (an article's attachments), as Wagtail's reference index finds them."""
    for field in obj._meta.get_fields():
        if (field.is_relation and field.many_to_one and field.concrete
                and not isinstance(field, ParentalKey) and is_file_model(field.related_model)):
            value = field.value_from_object(obj)
            if value is not None:
                yield field.related_model, str(value)
        if hasattr(field, "extract_references") and getattr(field, "concrete", False):
            value = field.value_from_object(obj)
            if value is not None:
                yield from value_file_keys(field, value)
    if isinstance(obj, ClusterableModel):
        for relation in get_all_child_relations(obj):
            for child in getattr(obj, relation.get_accessor_name()).all():
                yield from referenced_file_keys(child)


def value_file_keys(field_or_block, value) -> Iterator[tuple[type[Model], str]]:
    """(model, pk) of the documents and images a field's or block's value refers to."""
    for model, object_id, _model_path, _content_path in field_or_block.extract_references(value):
        if is_file_model(model) and object_id not in (None, "", "None"):
            yield model, str(object_id)


def load_files(keys: Iterable[tuple[type[Model], str]]) -> list:
    """The files named by ``keys``, once each, in order; keys naming nothing are left out."""
    wanted: dict[type[Model], list[str]] = {}
    order: list[tuple[type[Model], str]] = []
    for model, pk in keys:
        base = next(m for m in file_models() if issubclass(model, m))
        if (base, pk) not in order:
            order.append((base, pk))
            wanted.setdefault(base, []).append(pk)
    found = {(model, str(file.pk)): file
             for model, pks in wanted.items()
             for file in model.objects.filter(pk__in=[pk for pk in pks if pk.isdigit()])}
    return [found[key] for key in order if key in found]


def referenced_files(obj) -> list:
    """Every document and image ``obj`` refers to, once each."""
    return load_files(referenced_file_keys(obj))



def same_file(one, other) -> bool:
    base = next((m for m in file_models() if isinstance(one, m)), None)
    return base is not None and isinstance(other, base) and one.pk == other.pk
