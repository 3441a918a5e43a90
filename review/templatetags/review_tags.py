from django import template

register = template.Library()


@register.simple_tag
def signing_credential_kinds(user) -> set[str]:
    """The kinds of active signing credential ``user`` holds ("passphrase", "webauthn")."""
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(user.signing_credentials.filter(revoked_at=None).values_list("kind", flat=True))
