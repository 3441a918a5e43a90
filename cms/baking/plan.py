"""What a publication event affects: the targets to re-render, most urgent first.

An article's event touches the article, every column listing it (its column and the parent
column: a column lists all articles beneath it), the school home, the portal home and the
sitemap (a column's and a home's feed go with its page); the listings' later pagination pages
come after the first pages readers see. Any other page (a column, a home page) shows up in the
navigation, breadcrumbs or footer of every page of its site, so its event re-renders the whole
site.
"""

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from wagtail.models import Page, Site

from cms.models import ArticlePage, ColumnPage, PortalPage


class Kind(enum.StrEnum):
    PAGE = "page"  # the page's URL (a column's first listing page)
    LISTING_REST = "listing_rest"  # a column's pagination pages 2..N; stale ones removed
    SITEMAP = "sitemap"  # the index and the part of page_id (every part: page_id None)


@dataclass(frozen=True)
class Target:
    kind: Kind
    site_id: int
    page_id: int | None = None


@dataclass(frozen=True)
class Plan:
    """Targets in the order to bake them, and the sites rebuilt whole (whose stale files are
    pruned afterwards)."""

    targets: list[Target]
    full_sites: frozenset[int]


# Lower first: what the reader who just got the approval looks at comes first.
ARTICLE, LISTING, HOMES, REST, SITEMAP = range(5)


class _Collector:
    def __init__(self):
        self.urgency: dict[Target, int] = {}

    def add(self, target: Target, urgency: int) -> None:
        if target not in self.urgency or urgency < self.urgency[target]:
            self.urgency[target] = urgency

    def ordered(self) -> list[Target]:
        # Stable: equal urgencies keep the order they were added in.
        return sorted(self.urgency, key=self.urgency.__getitem__)


def page_site_id(page: Page) -> int | None:
    site_id, _, _ = page.get_url_parts() or (None, None, None)
    return site_id


def portal_home() -> Page | None:
    return PortalPage.objects.first()


def plan_events(*, page_ids: Iterable[int] = (), site_ids: Iterable[int] = ()) -> Plan:
    """The plan for publication events of these pages (any state: live, taken down,
    scheduled) and for these sites as a whole."""
    collector = _Collector()
    full_sites = set(site_ids)
    pages = Page.objects.filter(pk__in=set(page_ids)).specific().order_by("path")
    articles = []
    for page in pages:
        site_id = page_site_id(page)
        if site_id is None:
            continue
        if isinstance(page, ArticlePage):
            articles.append((page, site_id))
        elif getattr(page, "baked_with_parent", False):
            # A page only its parent lists (a public reply on its site's 留言回复 board):
            # itself, that listing and its sitemap part.
            collector.add(Target(Kind.PAGE, site_id, page.pk), ARTICLE)
            collector.add(Target(Kind.PAGE, site_id, page.get_parent().pk), LISTING)
            collector.add(Target(Kind.SITEMAP, site_id, page.pk), SITEMAP)
        else:
            full_sites.add(site_id)
    portal = portal_home()
    for page, site_id in articles:
        if site_id in full_sites:
            continue
        collector.add(Target(Kind.PAGE, site_id, page.pk), ARTICLE)
        for column in ColumnPage.objects.ancestor_of(page).order_by("-depth"):
            collector.add(Target(Kind.PAGE, site_id, column.pk), LISTING)
            collector.add(Target(Kind.LISTING_REST, site_id, column.pk), REST)
        site = Site.objects.get(pk=site_id)
        collector.add(Target(Kind.PAGE, site_id, site.root_page_id), HOMES)
        collector.add(Target(Kind.SITEMAP, site_id, page.pk), SITEMAP)  # its part
    if portal is not None and (articles or full_sites):
        portal_site_id = page_site_id(portal)
        if portal_site_id is not None:  # it lists the network's latest articles and schools
            collector.add(Target(Kind.PAGE, portal_site_id, portal.pk), HOMES)
    for site_id in sorted(full_sites):
        for target, urgency in site_targets(site_id=site_id):
            collector.add(target, urgency)
    return Plan(targets=collector.ordered(), full_sites=frozenset(full_sites))


def site_targets(*, site_id: int) -> list[tuple[Target, int]]:
    """Every public page of a site, its listings' pagination and its sitemap."""
    site = Site.objects.get(pk=site_id)
    pages = (Page.objects.live().public().descendant_of(site.root_page, inclusive=True)
             .order_by("path").values_list("pk", "content_type_id"))
    column_type = ContentType.objects.get_for_model(ColumnPage).pk
    targets = []
    for pk, content_type_id in pages:
        is_column = content_type_id == column_type
        targets.append((Target(Kind.PAGE, site_id, pk), HOMES))  # in tree order
        if is_column:
            targets.append((Target(Kind.LISTING_REST, site_id, pk), REST))
    targets.append((Target(Kind.SITEMAP, site_id), SITEMAP))
    return targets


def plan_listings(*, column_ids: Iterable[int]) -> Plan:
    """The plan for content listed on columns without a page of its own (a teacher's public
    resource going live or taken down): only those columns' listing pages."""
    collector = _Collector()
    for column in ColumnPage.objects.filter(pk__in=set(column_ids)).order_by("path"):
        site_id = page_site_id(column)
        if site_id is None:
            continue
        collector.add(Target(Kind.PAGE, site_id, column.pk), LISTING)
        collector.add(Target(Kind.LISTING_REST, site_id, column.pk), REST)
    return Plan(targets=collector.ordered(), full_sites=frozenset())
