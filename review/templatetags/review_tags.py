from django import template
from django.utils.html import escape, format_html, strip_tags

from review.register.provenance import provenance_lines
from review.screening.findings import Finding
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


SEVERITY_LABELS = {"block": "拦截", "review": "须复核", "warn": "提示"}
KIND_LABELS = {
    "sensitive_word": "敏感词", "id_number": "身份证号", "phone_number": "手机号",
    "bank_card": "银行卡号", "hidden_content": "隐藏内容", "unsafe_markup": "不安全代码",
    "attachment_error": "附件无法读取",
}


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
