"""RSS 2.0 feeds of the newest articles: ``/feed.xml`` for a site (the portal's covers the
whole network, as its home page does) and ``/<column>/feed.xml`` for a column. Only live,
public articles; baked with the pages that list them (cms.baking)."""

import datetime

from django.contrib.syndication.views import Feed
from django.http import Http404
from django.utils import timezone
from django.utils.feedgenerator import Rss201rev2Feed
from django.utils.html import strip_tags
from django.utils.text import Truncator
from wagtail.models import Page, Site

from cms.models import ArticlePage, ColumnKind, ColumnPage, PortalPage, shown_articles
from review.register.livecheck import (
    SignedRevisionUnavailable,
    signed_object_for,
    signed_objects,
)

FEED_ITEMS = 20
SUMMARY_CHARACTERS = 200


class StableRssFeed(Rss201rev2Feed):
    """An empty feed is dated by its page's last publication, not by the time it is built:
    the same content gives the same bytes (a baked file changes only when its content does)."""

    def latest_post_date(self):
        if any(item.get("pubdate") or item.get("updateddate") for item in self.items):
            return super().latest_post_date()
        return self.feed.get("page_published_at") or super().latest_post_date()


class LatestArticlesFeed(Feed):
    feed_type = StableRssFeed

    def feed_extra_kwargs(self, page: Page) -> dict:
        return {"page_published_at": page.last_published_at or page.first_published_at}
    def get_object(self, request, folder: str = "") -> Page:
        site = Site.find_for_request(request)
        if site is None:
            raise Http404("No site here.")
        page = (Page.objects.live().public().filter(url_path=site.root_page.url_path + folder)
                .specific().first())
        is_column = isinstance(page, ColumnPage) and page.kind != ColumnKind.LINK
        if page is None or not (is_column or page.pk == site.root_page_id):
            raise Http404("No feed here.")
        try:
            signed = signed_object_for(page)  # its title as signed; none if never signed
        except SignedRevisionUnavailable:
            signed = None
        if signed is None:
            raise Http404("No feed here.")
        return signed

    def title(self, page: Page) -> str:
        if not isinstance(page, ColumnPage):
            return page.title
        return f"{page.title} - {page.get_site().root_page.title}"

    def link(self, page: Page) -> str:
        return page.get_full_url()

    def description(self, page: Page) -> str:
        return f"{page.title}最新文章"

    def items(self, page: Page):
        """Each as its leader signed it (cms.models.shown_articles)."""
        if isinstance(page, ColumnPage):
            return signed_objects(list(page.articles()[:FEED_ITEMS]))
        if isinstance(page, PortalPage):
            return shown_articles(ArticlePage.objects.all(), FEED_ITEMS)
        return shown_articles(ArticlePage.objects.descendant_of(page), FEED_ITEMS)

    def item_title(self, item: ArticlePage) -> str:
        return item.title

    def item_link(self, item: ArticlePage) -> str:
        return item.get_full_url()

    def item_description(self, item: ArticlePage) -> str:
        text = " ".join(strip_tags(part) for part in
                        item.body.stream_block.get_searchable_content(item.body))
        return Truncator(" ".join(text.split())).chars(SUMMARY_CHARACTERS)

    def item_pubdate(self, item: ArticlePage) -> datetime.datetime:
        """The date readers see, at the time of day it was first published when that is the
        same day (a back-dated article keeps its date)."""
        published = item.first_published_at
        if published is not None and timezone.localdate(published) == item.date:
            return published
        return datetime.datetime.combine(item.date, datetime.time(),
                                         tzinfo=timezone.get_current_timezone())

    def item_author_name(self, item: ArticlePage) -> str:
        return item.author or item.source
