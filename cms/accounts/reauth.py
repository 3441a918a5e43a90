"""Re-authentication before sensitive account actions (enrolling a signing credential):
a login with the second factor, or the password and a current second-factor code given
again, within the last few minutes.

Whoever finds a leader's session open (or an administrator who has set the leader's
password) could otherwise enrol a key of their own and sign as the leader.
"""

import time

import django_otp
from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from cms.accounts.twofactor import second_factor_age
from review.register.security import client_address, record_security_event

SESSION_KEY = "accounts_reauthenticated_at"


def fresh_for_seconds() -> int:
    return 60 * int(settings.ACCOUNTS_REAUTHENTICATION_MINUTES)


def is_fresh(*, reauthenticated_at: float | None, now: float, window_seconds: int) -> bool:
    return reauthenticated_at is not None and 0 <= now - reauthenticated_at <= window_seconds


def request_is_fresh(request) -> bool:
    """A login with the second factor, or a re-authentication, within the window."""
    window = fresh_for_seconds()
    age = second_factor_age(request)
    if age is not None and age <= window:
        return True
    return is_fresh(reauthenticated_at=request.session.get(SESSION_KEY), now=time.time(),
                    window_seconds=window)


def second_factor_setup_url() -> str:
    return getattr(settings, "ACCOUNTS_SECOND_FACTOR_SETUP_URL", "/admin/2fa/setup/")


class ReauthenticationForm(forms.Form):
    password = forms.CharField(label="登录密码", widget=forms.PasswordInput,
                               strip=False)
    code = forms.CharField(label="动态验证码", max_length=16,
                           help_text="身份验证器 App 中显示的 6 位数字，或一个备用恢复码。",
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code",
                                                         "inputmode": "numeric"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.device = None

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        password_ok = self.user.check_password(data["password"])
        self.device = django_otp.match_token(self.user, data["code"].strip())
        if not password_ok or self.device is None:
            raise forms.ValidationError("密码或动态验证码不正确。")
        return data


def _safe_next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return reverse("wagtailadmin_home")


def reauthenticate(request):
    user = request.user
    has_device = django_otp.user_has_device(user)
    form = ReauthenticationForm(request.POST or None, user=user)
    if request.method == "POST" and has_device:
        if form.is_valid():
            request.session[SESSION_KEY] = time.time()
            django_otp.login(request, form.device)
            record_security_event(event="reauthenticated", actor=user,
                                  subject=f"user:{user.get_username()}",
                                  address=client_address(request))
            minutes = fresh_for_seconds() // 60
            messages.success(request, f"身份已验证，{minutes} 分钟内可以进行登记签名凭证等操作。")
            return redirect(_safe_next(request))
        record_security_event(event="reauthenticated", outcome="failure", actor=user,
                              subject=f"user:{user.get_username()}",
                              address=client_address(request))
    return render(request, "accounts/reauthenticate.html", {
        "form": form, "has_device": has_device, "next": _safe_next(request),
        "setup_url": second_factor_setup_url(),
    })


def require_fresh_authentication(request):
    """The ``before_enrol_signing_credential`` hook: go on only with a fresh login."""
    if request_is_fresh(request):
        return None
    messages.warning(request, "登记签名凭证前，请再次输入密码和动态验证码确认是您本人。")
    return redirect(f"{reverse('accounts_reauthenticate')}?next="
                    f"{reverse('review_credentials')}")
