from django import template
from wagtail.models import Site

register = template.Library()


@register.simple_tag(takes_context=True)
def site_root(context):
    """The home page (portal or school) of the site the request is for, or None."""
    request = context.get("request")
    site = Site.find_for_request(request) if request is not None else None
    return site.root_page.specific if site else None
