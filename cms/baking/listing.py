"""A column's listing, page by page: its articles and, below them, the resources other apps
list on it (teachers' public resources, through the ``column_listing_resources`` hook). Both
turn pages together (``?page=N``: the front page shows the newest of each, archive pages are
numbered from the oldest; ``Listing``).

Serving a reader reads the listing for the request. Baking renders a column's listing pages
one after another from one listing read once (``Listing.read``), handed to the page's
``get_context`` as an argument (cms.baking.engine).

This module sits below the page models (cms.models builds its listing from it): it imports
no model of the project.
"""

import hashlib
import itertools
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

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
class Position:
    """Where a listing page sits, for its pagination bar: the front page (``number`` 1) or
    archive page ``number`` (2 is the oldest, ``newest`` the newest). An archive page links
    only to its neighbours, the front and the oldest page, never to a count of all pages:
    its bytes stay the same while articles are added elsewhere."""

    number: int
    newest: int | None  # the newest archive page's number; None without archive pages
    # On the front: the archive page with the newest article the front does not show.
    after_front: int | None = None

    @property
    def is_front(self) -> bool:
        return self.number == 1

    @property
    def newer(self) -> int | None:
        """The next newer page (1: the front); None on the front."""
        if self.is_front:
            return None
        return self.number + 1 if self.number < self.newest else 1

    @property
    def older(self) -> int | None:
        if self.newest is None or self.number == OLDEST_ARCHIVE_PAGE:
            return None
        return (self.after_front or self.newest) if self.is_front else self.number - 1

    @property
    def oldest(self) -> int | None:
        return OLDEST_ARCHIVE_PAGE if self.newest is not None else None


OLDEST_ARCHIVE_PAGE = 2


def chunk(items: Sequence, *, per_page: int, number: int) -> Sequence:
    """Archive page ``number``'s share of ``items`` (newest first): counted from the oldest
    end, so that adding newer items never moves an older one to another page."""
    total = len(items)
    group = number - OLDEST_ARCHIVE_PAGE + 1  # 1: the oldest ``per_page`` items
    return items[max(0, total - group * per_page):max(0, total - (group - 1) * per_page)]


def page_number(value) -> int:
    """``?page=`` as given: a positive number, otherwise (absent, empty, junk) the front."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 1
    return number if number >= 1 else 1


@dataclass(frozen=True, kw_only=True)
class ListingPage:
    page_obj: Position  # for the pagination bar
    articles: Sequence
    resources: Sequence


@dataclass(frozen=True, kw_only=True)
class Listing:
    """What a column lists: its articles, the resources below them and its sub-columns.

    Pages (``?page=N``; cms.baking.paths has their files):

    * the front page (no ``page``, ``page=1``, or a value that is not a number): the newest
      ``ARTICLES_PER_PAGE`` articles and ``RESOURCES_PER_PAGE`` resources;
    * archive pages ``page=2`` … ``page=K+1``, numbered from the oldest: page 2 holds the
      oldest ``ARTICLES_PER_PAGE`` articles (and the oldest resources), page 3 the next, and
      page K+1 the newest, possibly fewer. A new article changes only the front and the
      newest archive page (and the one before when a new archive page opens), so a
      publication re-renders a bounded number of pages however long the column (before,
      pages were numbered from the newest and every page shifted). Only a takedown or a
      back-dated article moves the pages from its own to the newest.
    * A number beyond the newest archive page shows the newest; a listing that fits on its
      front page has no archive pages (any ``page`` shows the front).

    A bookmarked ``?page=N`` keeps answering with a page of the listing: what it shows was
    never fixed (it moved with every publication before); now, once full, it stays."""

    articles: ArticlesInOrder
    resources: Sequence
    sub_columns: Sequence

    def read(self) -> "Listing":
        """This listing with its rows read now: baking renders all its pages from one read."""
        return Listing(articles=self.articles.read(), resources=list(self.resources),
                       sub_columns=list(self.sub_columns))

    @property
    def newest_archive_page(self) -> int | None:
        """The number of the newest archive page; None when the front shows everything."""
        groups = max(math.ceil(len(self.articles) / ARTICLES_PER_PAGE),
                     math.ceil(len(self.resources) / RESOURCES_PER_PAGE))
        return groups + OLDEST_ARCHIVE_PAGE - 1 if groups > 1 else None

    @property
    def archive_pages(self) -> range:
        newest = self.newest_archive_page
        return range(OLDEST_ARCHIVE_PAGE, newest + 1) if newest is not None else range(0)

    def page(self, *, number: int | str | None) -> ListingPage:
        """Page ``number`` as ``?page=`` gives it (see the class)."""
        newest = self.newest_archive_page
        number = page_number(number)
        if newest is None or number == 1:
            # The newest archive page holding an article (or resource) older than the front's.
            after = [math.ceil((len(items) - per_page) / per_page) + OLDEST_ARCHIVE_PAGE - 1
                     for items, per_page in ((self.articles, ARTICLES_PER_PAGE),
                                             (self.resources, RESOURCES_PER_PAGE))
                     if len(items) > per_page]
            after_front = max(after) if newest is not None and after else None
            return ListingPage(page_obj=Position(number=1, newest=newest,
                                                 after_front=after_front),
                               articles=self.articles[:ARTICLES_PER_PAGE],
                               resources=self.resources[:RESOURCES_PER_PAGE])
        number = min(number, newest)
        return ListingPage(
            page_obj=Position(number=number, newest=newest),
            articles=chunk(self.articles, per_page=ARTICLES_PER_PAGE, number=number),
            resources=chunk(self.resources, per_page=RESOURCES_PER_PAGE, number=number))

    def archive_inputs(self, *, number: int, article_revisions: Mapping[int, int | None]
                       ) -> str:
        """A fingerprint of everything archive page ``number`` shows that a publication of an
        article or resource can change: which articles and resources (each with its live
        revision) and where its links lead. Equal fingerprints, equal pages, as long as
        nothing else of the site changed (any other publication rebuilds the whole site)."""
        position = Position(number=number, newest=self.newest_archive_page)
        ids = list(chunk(self.articles.ids, per_page=ARTICLES_PER_PAGE, number=number))
        resources = chunk(self.resources, per_page=RESOURCES_PER_PAGE, number=number)
        shown = {
            "links": [position.newer, position.older],
            "articles": [[pk, article_revisions.get(pk)] for pk in ids],
            "resources": [[type(item).__name__, getattr(item, "pk", None),
                           getattr(item, "live_revision_id", None),
                           str(getattr(item, "last_published_at", ""))] for item in resources],
        }
        return hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()
