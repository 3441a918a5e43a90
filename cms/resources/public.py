"""Public resources on the school sites: which column lists a resource and what a column
lists (below its articles: the ``column_listing_resources`` hook, cms.baking.listing).
cms.baking re-renders those listings when a resource goes live or is taken down.

A public resource is listed by the first live, public column of its school whose kind
matches (``Resource.column_kind``: 教学园地, 教研教改 or 教学资源), in tree order, so it appears
once. Only live, public resources are listed or downloadable: never a draft (the row holds
the live content; drafts are revisions) nor an internal resource.
"""

from django.db.models import QuerySet

from cms.models import ColumnPage, SchoolHomePage
from cms.resources.models import Resource
from cms.resources.rules import COLUMN_KIND_FOR, DEFAULT_COLUMN_KIND, ResourceKind, Visibility


def live_public_resources() -> QuerySet[Resource]:
    return Resource.objects.filter(live=True, visibility=Visibility.PUBLIC)


def listing_column(*, school: SchoolHomePage, column_kind: str) -> ColumnPage | None:
    """The school's column that lists its public resources of ``column_kind``."""
    return (ColumnPage.objects.live().public().descendant_of(school).filter(kind=column_kind)
            .order_by("path").first())


def resource_kinds_for(column_kind: str) -> list[str]:
    """The resource kinds (``ResourceKind``) listed in columns of ``column_kind``."""
    return [kind for kind in ResourceKind.values
            if COLUMN_KIND_FOR.get(kind, DEFAULT_COLUMN_KIND) == column_kind]


def resources_listed_by(*, column: ColumnPage) -> QuerySet[Resource]:
    """The live public resources ``column`` lists (none unless it is its school's listing
    column for its kind), newest first, with their files."""
    school = SchoolHomePage.objects.ancestor_of(column).first()
    kinds = resource_kinds_for(column.kind)
    if school is None or not kinds or listing_column(
            school=school, column_kind=column.kind) != column:
        return Resource.objects.none()
    return (live_public_resources().filter(school=school, kind__in=kinds)
            .order_by("-first_published_at", "-pk").prefetch_related("files__document"))


def listing_column_ids(*, resource: Resource) -> list[int]:
    column = listing_column(school=resource.school, column_kind=resource.column_kind)
    return [column.pk] if column is not None else []
