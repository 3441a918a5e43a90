from django import template
from django.conf import settings
from wagtail.models import Site
from wagtail.rich_text import RichText
from wagtail.templatetags.wagtailcore_tags import richtext

from review.screening.markup.sanitise import sanitise_rich_text

register = template.Library()


@register.simple_tag(takes_context=True)
def site_root(context):
    """The home page (portal or school) of the site the request is for, or None."""
    request = context.get("request")
    site = Site.find_for_request(request) if request is not None else None
    return site.root_page.specific if site else None


@register.simple_tag
def network_name() -> str:
    """The education network's name (WAGTAIL_SITE_NAME), for the admin's title."""
    return settings.WAGTAIL_SITE_NAME


@register.filter
def clean_richtext(value) -> str:
    """Rich text as the public templates print it: sanitised again with the rules that
    sanitise it on save (review.screening.markup.sanitise), then expanded like Wagtail's
    ``richtext`` filter. Defence in depth: markup written to the database past ``save()``
    (an ``update()``, SQL) is not printed as it was written. Takes a ``RichText`` block
    value or a rich-text field's string."""
    source = value.source if isinstance(value, RichText) else value
    return richtext(sanitise_rich_text(source or ""))
