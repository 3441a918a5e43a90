from django import template
from django.urls import reverse
from django.utils.html import escape, format_html, strip_tags

from review.people import display_name, display_names
from review.register.provenance import provenance_lines
from review.screening.findings import KIND_LABELS, SEVERITY_LABELS, Finding
from review.screening.screener import WHITESPACE

register = template.Library()


@register.simple_tag
def signing_credential_kinds(user) -> set[str]:
    """The kinds of active signing credential ``user`` holds ("passphrase", "webauthn")."""
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(user.signing_credentials.filter(revoked_at=None).values_list("kind", flat=True))


@register.simple_tag
def signer_provenance(user) -> list[str]:
    """Who granted ``user`` their roles and when their signing keys were enrolled."""
    if not getattr(user, "is_authenticated", False):
        return []
    return provenance_lines(username=user.get_username())


@register.filter
def severity_label(finding: Finding) -> str:
    return SEVERITY_LABELS.get(finding.severity, finding.severity)


@register.filter
def kind_label(finding: Finding) -> str:
    return KIND_LABELS.get(finding.kind, finding.kind)


@register.filter
def highlighted(finding: Finding) -> str:
    """The finding's context with what was found marked (<mark>), escaped."""
    context = finding.context
    needle = WHITESPACE.sub(" ", strip_tags(finding.match)).strip()
    position = context.find(needle) if needle else -1
    if position < 0:
        return escape(context)
    return format_html("{}<mark>{}</mark>{}", context[:position], needle,
                       context[position + len(needle):])


@register.simple_tag(takes_context=True)
def takedown_button(context, page) -> str:
    """紧急撤稿 as a button of its own, for a live page its viewer may take down."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if page is None or not getattr(page, "live", False) or user is None \
            or not page.permissions_for_user(user).can_unpublish():
        return ""
    return format_html(
        '<a href="{}" class="button button-small button-secondary no w-ml-2" '
        'data-review-takedown title="立即撤下已发布的内容，须填写原因，记入发布登记并通知领导">'
        '紧急撤稿</a>', reverse("review_takedown", args=[page.pk]))


@register.filter
def person(user) -> str:
    """A user's name for people to read (review.people.display_name)."""
    return display_name(user)


@register.filter
def named(username: str) -> str:
    """A login name (as records keep it) as people read it: the person's name."""
    return display_names(usernames=[username]).get(username, username) if username else ""
