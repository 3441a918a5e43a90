"""Passwords of password-protected pages (Wagtail's form, which django-axes does not see)
are throttled per address and every wrong one is in the security log."""

from django.urls import reverse
from wagtail.models import PageViewRestriction

from review.register.models import SecurityEvent
from tests.conftest import make_article


def test_wrong_page_passwords_are_logged_and_an_address_is_stopped(client, settings, network):
    settings.CMS_PAGE_PASSWORD_FAILURE_LIMIT = 3
    draft = make_article(network.column(network.school_a, "news"), "家长会通知", live=False)
    restriction = PageViewRestriction.objects.create(page=draft, restriction_type="password",
                                                     password="jiazhang-2026")
    url = reverse("wagtailcore_authenticate_with_password", args=[restriction.pk, draft.pk])
    host = {"HTTP_HOST": "jia.test"}
    before = SecurityEvent.objects.count()
    for _ in range(3):
        assert client.post(url, {"password": "guess", "return_url": "/"}, **host).status_code \
            == 200
    failed = SecurityEvent.objects.filter(event="page_password_failed")
    assert failed.count() == 3 and failed.first().outcome == "failure"
    assert SecurityEvent.objects.filter(event="page_password_blocked").count() == 1
    # Blocked now: even the right password waits, and nothing else is logged meanwhile.
    blocked = client.post(url, {"password": "jiazhang-2026", "return_url": "/"}, **host)
    assert blocked.status_code == 429 and "页面密码错误次数过多" in blocked.content.decode()
    assert SecurityEvent.objects.count() == before + 4
    # Another address is not affected, and the right password opens the page.
    right = client.post(url, {"password": "jiazhang-2026", "return_url": "/"},
                        REMOTE_ADDR="198.51.100.8", **host)
    assert right.status_code == 302
