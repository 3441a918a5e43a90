from django import template
from django.conf import settings
from wagtail.models import Site

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


@register.simple_tag(takes_context=True)
def signed_image(context, image, spec: str, **attributes):
    """``{% signed_image image "width-800" alt=… %}``: on a live page, the rendition of the
    image bytes the page's approval signed (cms.signed_files); in previews, Wagtail's."""
    from cms.signed_files import signed_image_tag  # loads cms.models: not at import

    return signed_image_tag(request=context.get("request"), page=context.get("page"),
                            image=image, spec=spec, attributes=attributes)


@register.simple_tag(takes_context=True)
def signed_attachment(context, item):
    """``{% signed_attachment item as file %}``: an attachment's link, file name, size and
    title as its approval signed them (cms.signed_files); None if the approval does not
    name it."""
    from cms.signed_files import shown_attachment

    return shown_attachment(request=context.get("request"), page=context.get("page"),
                            item=item)
