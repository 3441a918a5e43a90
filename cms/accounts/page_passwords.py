"""Throttling the passwords of password-protected pages (Wagtail's
``/_util/authenticate_with_password/…`` form): these protect restricted school pages, and
django-axes does not see them (no ``authenticate()`` call). An address that gives
``CMS_PAGE_PASSWORD_FAILURE_LIMIT`` wrong passwords within
``CMS_PAGE_PASSWORD_FAILURE_WINDOW`` seconds is refused for the window; each wrong password
and each block is in the security log."""

import math
import time

from django.conf import settings
from django.http import HttpResponse

from cms.accounts.api_throttle import count_failure, seconds_blocked
from review.register.security import client_address, record_security_event

FORM_PREFIX = "/_util/authenticate_with_password/"
PREFIX = "cms:page-password"


def _blocked_for(address: str, *, now: float) -> int:
    return seconds_blocked(prefix=PREFIX, address=address, now=now)


def _note_failure(address: str, *, now: float) -> bool:
    """Count one wrong password; True when it reached the limit (the address is blocked)."""
    return count_failure(prefix=PREFIX, address=address, now=now,
                         limit=settings.CMS_PAGE_PASSWORD_FAILURE_LIMIT,
                         window=settings.CMS_PAGE_PASSWORD_FAILURE_WINDOW)


class PagePasswordThrottleMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method != "POST" or not request.path.startswith(FORM_PREFIX):
            return self.get_response(request)
        address = client_address(request)
        wait = _blocked_for(address, now=time.time())
        if wait:
            response = HttpResponse(f"页面密码错误次数过多，请 {math.ceil(wait / 60)} 分钟后重试。",
                                    status=429, content_type="text/plain; charset=utf-8")
            response["Retry-After"] = str(wait)
            return response
        response = self.get_response(request)
        # Wagtail's form redirects to the page on the right password and shows the form
        # again on a wrong one.
        if response.status_code == 200:
            subject = request.path[len(FORM_PREFIX):].strip("/")
            record_security_event(event="page_password_failed", outcome="failure",
                                  subject=f"restriction/page:{subject}", address=address)
            if _note_failure(address, now=time.time()):
                record_security_event(
                    event="page_password_blocked", outcome="failure",
                    subject=f"address:{address}", address=address,
                    data={"failures": settings.CMS_PAGE_PASSWORD_FAILURE_LIMIT,
                          "seconds": settings.CMS_PAGE_PASSWORD_FAILURE_WINDOW})
        return response
