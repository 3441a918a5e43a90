"""The sitemap of a site: ``/sitemap.xml`` is a sitemap index naming its parts,
``/sitemap-N.xml``, each listing the site's live public pages whose ids fall in part N's range
(cms.baking.paths.SITEMAP_PART_IDS): a part never reaches the protocol's 50,000 URLs, however
large the site, and a new page (the highest id) changes only the newest part, so a publication
re-renders the index and one part (cms.baking). The address search engines and robots know,
``/sitemap.xml``, stays: crawlers read an index there as they read a list of URLs.
"""

from django.contrib.sitemaps import views as sitemap_views
from django.http import Http404, HttpResponse
from django.utils.xmlutils import SimplerXMLGenerator
from wagtail.contrib.sitemaps.sitemap_generator import Sitemap
from wagtail.models import Page

from cms.baking import paths
from review.register.signed import published_as_live


class PartSitemap(Sitemap):
    """Wagtail's sitemap of the request's site, restricted to part ``number``'s ids."""

    def __init__(self, request, *, number: int):
        super().__init__(request)
        self.number = number

    def items(self):
        start = (self.number - 1) * paths.SITEMAP_PART_IDS
        pages = (super().items().filter(pk__gte=start, pk__lt=start + paths.SITEMAP_PART_IDS)
                 .order_by("pk"))
        # Only pages put online by a publication in the register (not by SQL).
        rows = Page.objects.filter(pk__in=pages.values("pk")).only("id", "live_revision_id")
        return pages.filter(pk__in=[page.pk for page in published_as_live(list(rows))])


def part_numbers(request) -> list[int]:
    """The parts that list at least one page of the request's site."""
    pages = Sitemap(request).items().order_by().values_list("pk", flat=True)
    return sorted({paths.sitemap_part_of(pk) for pk in pages.iterator()})


def index(request):
    response = HttpResponse(content_type="application/xml")
    xml = SimplerXMLGenerator(response, "utf-8")
    xml.startDocument()
    xml.startElement("sitemapindex", {"xmlns": "http://www.sitemaps.org/schemas/sitemap/0.9"})
    for number in part_numbers(request):
        xml.startElement("sitemap", {})
        xml.addQuickElement("loc", request.build_absolute_uri(paths.sitemap_part_path(number)))
        xml.endElement("sitemap")
    xml.endElement("sitemapindex")
    xml.endDocument()
    return response


def part(request, number: int):
    sitemap = PartSitemap(request, number=number)
    if number < 1 or not sitemap.items().exists():
        raise Http404("没有这一部分网站地图")
    return sitemap_views.sitemap(request, {"wagtail": sitemap})
