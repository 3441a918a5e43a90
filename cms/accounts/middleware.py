"""The account policies at the door of each request: session limits, then a password that
must be changed. Both look only at requests carrying a session cookie of an authenticated
user, so the public site stays anonymous and cacheable.

Place both after AuthenticationMiddleware and MessageMiddleware (they log out and explain
in messages), SessionLimitsMiddleware first, and after any middleware that verifies the
second factor (a password is changed by someone fully logged in).
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils.http import urlencode

from cms.accounts.passwords import reason_message, status_of
from cms.accounts.sessions import (
    GENERATION,
    LOGIN_AT,
    SEEN_AT,
    SEEN_RESOLUTION_SECONDS,
    current_generation,
    ended_message,
    session_end_reason,
)


def has_session(request) -> bool:
    return settings.SESSION_COOKIE_NAME in request.COOKIES and request.user.is_authenticated


def is_admin_request(request) -> bool:
    return request.path_info.startswith(reverse("wagtailadmin_home"))


def view_name(request) -> str:
    try:
        return resolve(request.path_info).view_name
    except Resolver404:
        return ""


class SessionLimitsMiddleware:
    """Ends a session that is idle too long, too old, or of an earlier generation: logs out,
    says why, and sends admin requests to the login page (others go on anonymous)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if has_session(request):
            response = self.enforce(request)
            if response is not None:
                return response
        return self.get_response(request)

    def enforce(self, request):
        session, now = request.session, time.time()
        reason = session_end_reason(
            now=now, login_at=session.get(LOGIN_AT), seen_at=session.get(SEEN_AT),
            generation=session.get(GENERATION),
            current_generation=current_generation(request.user.pk),
            idle_seconds=settings.ACCOUNTS_SESSION_IDLE_MINUTES * 60,
            absolute_seconds=settings.ACCOUNTS_SESSION_ABSOLUTE_HOURS * 3600)
        if reason:
            logout(request)
            messages.warning(request, ended_message(reason))
            if is_admin_request(request):
                login = reverse("wagtailadmin_login")
                return redirect(f"{login}?{urlencode({'next': request.get_full_path()})}")
            return None
        # Requests the admin sends by itself (an open editor pings every few seconds) are not
        # the person's activity: they keep nobody logged in.
        if (now - session[SEEN_AT] >= SEEN_RESOLUTION_SECONDS
                and view_name(request) not in settings.ACCOUNTS_SESSION_PASSIVE_VIEWS):
            session[SEEN_AT] = now
        return None


class PasswordChangeRequiredMiddleware:
    """Sends every admin request of someone whose password must be changed (set by an
    administrator, or expired) to Wagtail's account page, saying why, until they change it.
    The account page itself, logging out and the few views it needs stay open."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (has_session(request) and is_admin_request(request)
                and request.user.has_usable_password()
                and view_name(request) not in settings.ACCOUNTS_PASSWORD_CHANGE_OPEN_VIEWS):
            status = status_of(request.user)
            if status.must_change:
                messages.warning(request, reason_message(status.reason))
                return redirect(reverse("wagtailadmin_account"))
        return self.get_response(request)
