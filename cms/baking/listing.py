"""A column's listing, page by page: its articles and, below them, the resources other apps
list on it (teachers' public resources, through the ``column_listing_resources`` hook). Both
turn pages together (``?page=N``); the pagination bar counts the listing's pages, whichever
of the two fills them.

Serving a reader reads the listing for the request. Baking renders a column's listing pages
one after another from one listing read once (``Listing.read``), handed to the page's
``get_context`` as an argument (cms.baking.engine).

This module sits below the page models (cms.models builds its listing from it): it imports
no model of the project.
"""

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.core.paginator import Page as PaginatorPage
from django.core.paginator import Paginator
from django.db.models import QuerySet
from wagtail import hooks
from wagtail.models import Page

ARTICLES_PER_PAGE = 20
RESOURCES_PER_PAGE = 20  # below the articles, turning pages with them


class ArticlesInOrder:
    """Articles by id, in the order given, each slice (a listing page) fetched when asked for:
    what a Paginator needs, without sorting whole rows in the database for every page."""

    def __init__(self, *, ids: Sequence[int], queryset: QuerySet,
                 shown: Callable[[list], list] | None = None):
        self.ids = ids  # a list, or a values_list queryset (sliced in the database)
        self.queryset = queryset  # where the articles of a slice are loaded from
        # What readers are shown of a slice's articles (cms.models: each as signed).
        self.shown = shown

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index:index + 1][0]
        ids = self.ids[index]
        found = self.queryset.in_bulk(ids)
        articles = [found[pk] for pk in ids if pk in found]
        return self.shown(articles) if self.shown is not None else articles

    def read(self) -> "ArticlesInOrder":
        """The same articles with their ids read now (once, for every page of a bake)."""
        return ArticlesInOrder(ids=list(self.ids), queryset=self.queryset, shown=self.shown)


def column_listing_resources(*, column: Page) -> Sequence:
    """What the ``column_listing_resources`` hooks list on ``column`` below its articles
    (cms.resources registers its teachers' public resources): each hook takes the column
    and returns a sequence, empty if it lists nothing there."""
    listed = [listing(column=column) for listing in hooks.get_hooks("column_listing_resources")]
    return listed[0] if len(listed) == 1 else list(itertools.chain.from_iterable(listed))


@dataclass(frozen=True, kw_only=True)
class ListingPage:
    page_obj: PaginatorPage  # of the listing's pages (for the pagination bar)
    articles: Sequence
    resources: Sequence


@dataclass(frozen=True, kw_only=True)
class Listing:
    """What a column lists: its articles, the resources below them and its sub-columns."""

    articles: ArticlesInOrder
    resources: Sequence
    sub_columns: Sequence

    def read(self) -> "Listing":
        """This listing with its rows read now: baking renders all its pages from one read."""
        return Listing(articles=self.articles.read(), resources=list(self.resources),
                       sub_columns=list(self.sub_columns))

    def paginators(self) -> tuple[Paginator, Paginator]:
        return (Paginator(self.articles, ARTICLES_PER_PAGE),
                Paginator(self.resources, RESOURCES_PER_PAGE))

    @property
    def page_count(self) -> int:
        return max(paginator.num_pages for paginator in self.paginators())

    def page(self, *, number: int | str) -> ListingPage:
        """Page ``number`` (as ``?page=`` gives it: the last page when out of range)."""
        articles, resources = self.paginators()
        pages = max(articles.num_pages, resources.num_pages)
        page_obj = Paginator(range(pages), 1).get_page(number)
        return ListingPage(
            page_obj=page_obj,
            articles=(articles.page(page_obj.number).object_list
                      if page_obj.number <= articles.num_pages else []),
            resources=(resources.page(page_obj.number).object_list
                       if page_obj.number <= resources.num_pages else []))
