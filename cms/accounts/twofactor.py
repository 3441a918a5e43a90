"""Two-factor login for the admin: the middleware that asks for the second factor, and the
views to enrol, verify and manage factors.

After the password, someone who needs a second factor (``requires_second_factor``) — or who
has enrolled one — reaches nothing in the admin until django-otp marks the session verified:
with no factor yet they are sent to enrolment (an authenticator app, shown as a QR code, then
ten recovery codes, once), otherwise to verification (a TOTP code, a recovery code, or a
leader's passkey). Outside the admin such a half-signed-in session is anonymous, so a password
alone opens no school's private documents or restricted pages either. API v3 authenticates
bearer tokens only (a session cookie never elevates a request there).

``second_factor_age(request)`` tells how long ago the session's second factor was verified,
for actions that want a fresh one (enrolling a signing credential).
"""

import base64
import json
import os
import time
from urllib.parse import urlencode

import django_otp
import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from cms.accounts.devices import (
    SecondFactorError,
    device_is_usable,
    enrol_totp,
    has_second_factor,
    passkey_credentials,
    passkey_options,
    recovery_device,
    regenerate_recovery_codes,
    remove_totp_device,
    totp_devices,
    verify_code,
    verify_passkey,
)
from cms.accounts.factors import (
    base32_secret,
    demo_totp_key,
    new_totp_key,
    requires_second_factor,
    second_factor_enforced,
)
from review.register.security import client_address

SETUP_KEY_SESSION_KEY = "accounts_totp_setup_key"
PASSKEY_CHALLENGE_SESSION_KEY = "accounts_passkey_login_challenge"
VERIFIED_AT_SESSION_KEY = "accounts_second_factor_at"

# Admin views reachable before the second factor: signing in and out, resetting a password,
# the admin's own assets, and the second-factor views themselves.
OPEN_VIEWS = frozenset({
    "wagtailadmin_login", "wagtailadmin_logout", "wagtailadmin_javascript_catalog",
    "wagtailadmin_sprite", "wagtailadmin_password_reset", "wagtailadmin_password_reset_done",
    "wagtailadmin_password_reset_confirm", "wagtailadmin_password_reset_complete",
    "accounts_2fa_setup", "accounts_2fa_verify", "accounts_2fa_passkey_options",
    "accounts_2fa_passkey_verify",
})


def needs_verification(request) -> bool:
    """Whether the request's user must verify a second factor before going on: not yet
    verified (or verified by a passkey since revoked), and either required to use one or
    holding one."""
    user = request.user
    if not user.is_authenticated:
        return False
    if user.is_verified():
        if device_is_usable(user.otp_device):
            return False
        request.session.pop(DEVICE_ID_SESSION_KEY, None)
        user.otp_device = None
    return requires_second_factor(user) or has_second_factor(user)


def _anonymous() -> AnonymousUser:
    user = AnonymousUser()
    user.otp_device = None  # as django-otp's middleware equips every request's user
    user.is_verified = lambda: False
    return user


class SecondFactorMiddleware:
    """Sends admin requests of users who must verify a second factor to enrolment or
    verification, and makes them anonymous everywhere else. After django-otp's OTPMiddleware
    (which follows AuthenticationMiddleware)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._admin_prefix = None

    def __call__(self, request):
        if second_factor_enforced() and not request.path_info.startswith(
                (self.admin_prefix(), settings.STATIC_URL)) and needs_verification(request):
            request.user = _anonymous()
        return self.get_response(request)

    def admin_prefix(self) -> str:
        if self._admin_prefix is None:
            self._admin_prefix = reverse("wagtailadmin_home")
        return self._admin_prefix

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not second_factor_enforced() or not request.path_info.startswith(self.admin_prefix()):
            return None
        match = request.resolver_match
        if match is not None and match.view_name in OPEN_VIEWS:
            return None
        if not needs_verification(request):
            return None
        target = "accounts_2fa_verify" if has_second_factor(request.user) else "accounts_2fa_setup"
        return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")


def _next_url(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return candidate
    return reverse("wagtailadmin_home")


def _with_next(name: str, next_url: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


def _verified(request, device) -> None:
    """The session is verified by ``device`` from now on, under a new session key."""
    django_otp.login(request, device)
    request.session[VERIFIED_AT_SESSION_KEY] = time.time()
    request.session.cycle_key()


def second_factor_age(request) -> float | None:
    """Seconds since this session's second factor was verified (None: not verified)."""
    at = request.session.get(VERIFIED_AT_SESSION_KEY)
    if at is None or not _is_verified(request):
        return None
    return max(0.0, time.time() - at)


def _is_verified(request) -> bool:
    return request.user.is_verified() and device_is_usable(request.user.otp_device)


class CodeForm(forms.Form):
    token = forms.CharField(
        label="验证码", max_length=32, strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True,
                                      "autocapitalize": "off", "spellcheck": "false"}))


class EnrolForm(CodeForm):
    name = forms.CharField(label="名称", max_length=64, required=False,
                           help_text="便于区分多个验证器，如“我的手机”。",
                           widget=forms.TextInput(attrs={"placeholder": "我的手机"}))

    field_order = ["token", "name"]


def _qr_svg(text: str) -> str:
    return segno.make(text, error="m").svg_inline(scale=5, title="扫码添加到身份验证器",
                                                   svgclass="accounts-qr", light="#fff")


def setup(request):
    """Enrol an authenticator app: the secret as a QR code and as text, confirmed with the
    code the app shows. The first factor comes with ten recovery codes, shown once."""
    user = request.user
    next_url = _next_url(request)
    if has_second_factor(user) and not _is_verified(request):
        return redirect(_with_next("accounts_2fa_verify", next_url))
    key_hex = request.session.get(SETUP_KEY_SESSION_KEY)
    if not key_hex:
        key_hex = request.session[SETUP_KEY_SESSION_KEY] = new_totp_key()
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            enrolment = enrol_totp(user=user, key_hex=key_hex, token=form.cleaned_data["token"],
                                   name=form.cleaned_data["name"],
                                   address=client_address(request))
        except SecondFactorError as error:
            form.add_error("token", str(error))
        else:
            del request.session[SETUP_KEY_SESSION_KEY]
            _verified(request, enrolment.device)
            if enrolment.recovery_codes:
                return _show_codes(request, codes=enrolment.recovery_codes, next_url=next_url)
            messages.success(request, f"已添加身份验证器“{enrolment.device.name}”。")
            return redirect(next_url)
    config = TOTPDevice(user=user, key=key_hex).config_url
    return render(request, "accounts/twofactor_setup.html", {
        "form": form, "next": next_url, "qr_svg": _qr_svg(config),
        "secret": base32_secret(key_hex=key_hex), "first": not has_second_factor(user),
        "required": requires_second_factor(user)})


def _show_codes(request, *, codes: list[str], next_url: str):
    """The recovery codes, in this response only: they are stored hashed."""
    response = render(request, "accounts/twofactor_codes.html",
                      {"codes": codes, "next": next_url})
    response["Cache-Control"] = "no-store"
    return response


def verify(request):
    """Ask for the second factor: a TOTP code, a recovery code or a passkey."""
    user = request.user
    next_url = _next_url(request)
    if _is_verified(request):
        return redirect(next_url)
    if not has_second_factor(user):
        return redirect(_with_next("accounts_2fa_setup", next_url))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = verify_code(user=user, token=form.cleaned_data["token"],
                                 address=client_address(request))
        except SecondFactorError as error:
            form.add_error("token", str(error))
        else:
            _verified(request, device)
            if device == recovery_device(user):
                messages.warning(request, f"您用了一个恢复码，还剩 {device.remaining()} 个。"
                                 "恢复码不多时请在“管理第二因子”中重新生成。")
            return redirect(next_url)
    return render(request, "accounts/twofactor_verify.html", {
        "form": form, "next": next_url,
        "has_passkey": passkey_credentials(user).exists(),
        "demo_hint": bool(demo_totp_key()), "username": user.get_username()})


def _json_error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@require_POST
def passkey_login_options(request):
    challenge = os.urandom(32)
    options = passkey_options(user=request.user, challenge=challenge)
    if options is None:
        return _json_error("您还没有登记安全密钥。")
    request.session[PASSKEY_CHALLENGE_SESSION_KEY] = base64.b64encode(challenge).decode()
    return JsonResponse({"options": json.loads(options)})


@require_POST
def passkey_login_verify(request):
    stored = request.session.pop(PASSKEY_CHALLENGE_SESSION_KEY, None)
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = {}
    assertion = body.get("credential") if isinstance(body, dict) else None
    if stored is None or not isinstance(assertion, dict):
        return _json_error("验证请求已失效，请重新点击“使用安全密钥验证”。")
    try:
        device = verify_passkey(user=request.user, assertion=assertion,
                                challenge=base64.b64decode(stored),
                                address=client_address(request))
    except SecondFactorError as error:
        return _json_error(str(error))
    _verified(request, device)
    return JsonResponse({"redirect": _next_url(request)})


def manage(request):
    """管理第二因子: the user's authenticators, recovery codes and passkeys."""
    user = request.user
    if has_second_factor(user) and not _is_verified(request):
        return redirect(_with_next("accounts_2fa_verify", request.get_full_path()))
    recovery = recovery_device(user)
    return render(request, "accounts/twofactor_manage.html", {
        "devices": totp_devices(user), "recovery_remaining": recovery.remaining()
        if recovery else 0, "passkeys": passkey_credentials(user),
        "required": requires_second_factor(user), "enforced": second_factor_enforced(),
        "has_factor": has_second_factor(user), "remove_form": CodeForm(auto_id=False)})


@require_POST
def regenerate_codes(request):
    user = request.user
    if not _is_verified(request):
        return redirect(_with_next("accounts_2fa_verify", reverse("accounts_2fa_manage")))
    try:
        codes = regenerate_recovery_codes(user=user, address=client_address(request))
    except SecondFactorError as error:
        messages.error(request, str(error))
        return redirect("accounts_2fa_manage")
    return _show_codes(request, codes=codes, next_url=reverse("accounts_2fa_manage"))


@require_POST
def remove(request, device_id: int):
    """Remove an authenticator, confirmed with a current code."""
    user = request.user
    if not _is_verified(request):
        return redirect(_with_next("accounts_2fa_verify", reverse("accounts_2fa_manage")))
    removed_current = request.session.get(DEVICE_ID_SESSION_KEY) == \
        f"{TOTPDevice.model_label()}/{device_id}"
    form = CodeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请输入当前验证码以确认移除。")
        return redirect("accounts_2fa_manage")
    try:
        verified_by = remove_totp_device(user=user, device_id=device_id,
                                         token=form.cleaned_data["token"],
                                         address=client_address(request))
    except SecondFactorError as error:
        messages.error(request, str(error))
        return redirect("accounts_2fa_manage")
    if removed_current and verified_by.pk is not None and \
            verified_by.persistent_id != f"{TOTPDevice.model_label()}/{device_id}":
        _verified(request, verified_by)
    messages.success(request, "已移除身份验证器。")
    return redirect("accounts_2fa_manage")
