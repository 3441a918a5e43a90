"""The account administrators' view of current login lockouts, with early unlock."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST
from wagtail.admin import messages

from cms.accounts.lockout import KINDS, NotLocked, cool_off, lockouts_now, unlock
from review.register.security import client_address

UNLOCK_PERMISSION = "accounts.unlock_account"


def may_unlock(user) -> bool:
    return user.has_perm(UNLOCK_PERMISSION)


def lockouts(request):
    if not may_unlock(request.user):
        raise PermissionDenied
    return TemplateResponse(request, "accounts/lockouts.html", {
        "lockouts": lockouts_now(), "minutes": int(cool_off().total_seconds() // 60)})


@require_POST
def unlock_view(request):
    if not may_unlock(request.user):
        raise PermissionDenied
    kind, value = request.POST.get("kind", ""), request.POST.get("value", "").strip()
    try:
        unlock(kind=kind, value=value, by=request.user, address=client_address(request))
    except NotLocked:
        messages.error(request, f"“{value}”当前没有被锁定（可能已到期或已被解锁），未做更改。")
    else:
        messages.success(request, f"已解除{KINDS[kind]}“{value}”的登录锁定。")
    return redirect("accounts_lockouts")
