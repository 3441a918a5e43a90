"""Security response headers the application sends, and nginx sends the same for the baked
public files (`manage.py nginx_config` renders them from these settings).

- Content-Security-Policy (django-csp): ``CONTENT_SECURITY_POLICY`` is the public site's
  policy (no inline script at all); under the prefixes of ``CMS_ADMIN_CONTENT_SECURITY_POLICY``
  (the Wagtail admin, the API's Swagger docs) that policy replaces it, because Wagtail 8's
  admin still writes inline scripts and style attributes.
- Permissions-Policy (``PERMISSIONS_POLICY``): browser features nobody here needs are off;
  WebAuthn stays allowed for the site's own pages (leaders sign with passkeys in the admin).
"""

from collections.abc import Mapping, Sequence

from csp.middleware import CSPMiddleware, PolicyParts
from csp.utils import build_policy, default_config
from django.conf import settings

PERMISSIONS_POLICY_HEADER = "Permissions-Policy"


def permissions_policy(*, features: Mapping[str, Sequence[str]]) -> str:
    """The Permissions-Policy header value: ``{"camera": [], "publickey-credentials-get":
    ["self"]}`` → ``camera=(), publickey-credentials-get=(self)``. "self" and "*" are
    keywords; any other allowed origin is quoted, as the structured-header syntax wants."""
    parts = []
    for feature, allowed in features.items():
        if isinstance(allowed, str):
            raise TypeError(f"PERMISSIONS_POLICY[{feature!r}] must be a list of origins")
        members = [origin if origin in ("self", "*") else f'"{origin}"' for origin in allowed]
        parts.append(f"{feature}=({' '.join(members)})")
    return ", ".join(parts)


def public_content_security_policy() -> str:
    """The public site's policy as a header value (what nginx sends with baked files), its
    directives in the settings' order (django-csp's own order varies from run to run)."""
    directives = _directives("CONTENT_SECURITY_POLICY")
    if not directives:
        return ""
    parts = {part.split(" ", 1)[0]: part
             for part in build_policy(config=default_config(directives)).split("; ")}
    return "; ".join(parts.pop(name) for name in [*directives, *sorted(parts)] if name in parts)


def _directives(name: str) -> dict | None:
    policy = getattr(settings, name, None)
    return dict(policy["DIRECTIVES"]) if policy else None


def is_admin_path(*, path: str) -> bool:
    policy = getattr(settings, "CMS_ADMIN_CONTENT_SECURITY_POLICY", None) or {}
    return path.startswith(tuple(policy.get("PREFIXES", ())))


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the admin's policy under the admin's prefixes (as its
    documentation suggests: by extending get_policy_parts). A view's own @csp decorator
    still wins over either.

    Wagtail renders a page's preview by passing a dummy request for the page's public URL
    through the middleware (``request.is_dummy``): that response is the admin's preview view's
    and gets the admin's policy on its way out, not the public one (whose frame-ancestors
    'none' would keep it out of the preview panel)."""

    def process_response(self, request, response):
        if getattr(request, "is_dummy", False):
            return response
        return super().process_response(request, response)

    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only=report_only)
        if (not report_only and parts.config is None
                and is_admin_path(path=request.path_info)):
            parts.config = default_config(_directives("CMS_ADMIN_CONTENT_SECURITY_POLICY"))
        return parts


class PermissionsPolicyMiddleware:
    """Adds ``PERMISSIONS_POLICY`` as the Permissions-Policy header of every response that
    has none (Django 5.2 has no setting for it)."""

    def __init__(self, get_response):
        self.get_response = get_response
        features = getattr(settings, "PERMISSIONS_POLICY", None) or {}
        self.value = permissions_policy(features=features) if features else ""

    def __call__(self, request):
        response = self.get_response(request)
        if self.value and PERMISSIONS_POLICY_HEADER not in response:
            response[PERMISSIONS_POLICY_HEADER] = self.value
        return response
