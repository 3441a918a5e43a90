from django import template
from django.conf import settings
from wagtail.models import Page, Site
from wagtail.rich_text import RichText
from wagtail.templatetags.wagtailcore_tags import richtext

from review.register.livecheck import (
    SignedRevisionUnavailable,
    signed_object_for,
    signed_objects,
)
from review.screening.markup.sanitise import sanitise_rich_text

register = template.Library()


@register.simple_tag(takes_context=True)
def site_root(context):
    """The home page (portal or school) of the site the request is for, as its leader signed
    it (its title, address and navigation are on every page), or None."""
    request = context.get("request")
    site = Site.find_for_request(request) if request is not None else None
    return signed_home(site.root_page.specific) if site else None


def signed_home(root):
    """``signed_object_for`` of a site's home page, once per instance: once per request when
    serving, once per site when baking (which renders a site's pages with one home page,
    as it reads its navigation once: OrganisationHomePage.menu_columns)."""
    if not hasattr(root, "_signed_for_readers"):
        try:
            root._signed_for_readers = signed_object_for(root)
        except SignedRevisionUnavailable:
            root._signed_for_readers = None  # no header, navigation nor footer
    return root._signed_for_readers


@register.simple_tag
def breadcrumbs(page, root) -> list:
    """``page``'s ancestors from its site's home page down, as readers are shown them: the
    home and its navigation's columns already checked, any deeper column checked here;
    one that was never signed left out."""
    known = {} if root is None else {root.pk: root, **{c.pk: c for c in root.menu_columns}}
    ancestors = list(page.get_ancestors().filter(depth__gt=1))
    unknown = [a.pk for a in ancestors if a.pk not in known]
    if unknown:
        fresh = Page.objects.filter(pk__in=unknown).specific()
        known.update({obj.pk: obj for obj in signed_objects(list(fresh))})
    return [known[a.pk] for a in ancestors if a.pk in known]


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


@register.simple_tag(takes_context=True)
def signed_resource_file(context, resource, item):
    """``{% signed_resource_file resource item as file %}``: a live resource's file link,
    name and size as its approval signed them; None if the approval does not name it."""
    from cms.signed_files import shown_resource_file

    return shown_resource_file(request=context.get("request"), resource=resource, item=item)
