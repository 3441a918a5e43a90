"""Two-factor login in a real browser (Debian's headless Chromium, driven by Playwright): the
password on Wagtail's sign-in page, then the second-factor page asks for the code, the code
an authenticator app would show now is typed in, and the dashboard opens. A first login
enrols: the secret read off the page, confirmed, the recovery codes shown, the dashboard. A
passkey (a CDP virtual authenticator) serves as the second factor too."""

import base64
import re
from binascii import unhexlify

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from cms.accounts.models import PasskeyDevice, RecoveryCode
from review.models import SigningCredential
from review.register.models import SecurityEvent
from tests.conftest import make_user
from tests.shared import PASSWORD


@pytest.fixture
def browser(chromium, settings):
    settings.ACCOUNTS_REQUIRE_SECOND_FACTOR = True
    _, page = chromium
    return page


def sign_in_with_password(page, base_url: str, username: str) -> None:
    page.goto(base_url + "/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("form.login-form button[type=submit]")


def test_password_then_the_current_code_opens_the_dashboard(browser, live_server):
    page = browser
    superuser = make_user("root", superuser=True)
    device = TOTPDevice.objects.create(user=superuser, name="手机")

    sign_in_with_password(page, live_server.url, "root")
    assert "/admin/2fa/verify/" in page.url
    assert page.locator("h1").inner_text() == "第二因子验证"

    page.fill("input[name=token]", f"{totp(device.bin_key):06d}")
    with page.expect_navigation():
        page.click("form.login-form button[type=submit]")
    assert page.url == live_server.url + "/admin/"
    assert page.locator(".w-dashboard").count() == 1
    cookie = next(c["value"] for c in page.context.cookies() if c["name"] == "sessionid")
    assert SessionStore(session_key=cookie)[DEVICE_ID_SESSION_KEY] == device.persistent_id


def test_a_first_login_enrols_an_authenticator(browser, live_server):
    page = browser
    superuser = make_user("root", superuser=True)

    sign_in_with_password(page, live_server.url, "root")
    assert "/admin/2fa/setup/" in page.url
    assert page.locator("[data-accounts-qr] svg").count() == 1
    secret = page.locator("[data-accounts-secret]").inner_text().replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.fill("input[name=token]", f"{totp(key):06d}")
    page.fill("input[name=name]", "浏览器测试手机")
    with page.expect_navigation():
        page.click("form.login-form button[type=submit]")
    codes = page.locator("[data-accounts-recovery-codes] code").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[0-9a-z-]{19}", c) for c in codes)
    with page.expect_navigation():
        page.click("text=我已保存，继续")
    assert page.url == live_server.url + "/admin/"
    assert page.locator(".w-dashboard").count() == 1

    device = TOTPDevice.objects.get(user=superuser)
    assert unhexlify(device.key) == key and device.name == "浏览器测试手机"
    assert RecoveryCode.objects.filter(device__user=superuser).count() == 10
    assert SecurityEvent.objects.filter(event="second_factor_enrolled", actor="root").exists()


def test_a_passkey_serves_as_the_second_factor(browser, live_server):
    """The security key a leader enrols on 签名凭证 answers the second-factor page's
    challenge (passkeys.js, the server's WebAuthn verification, django-otp's session)."""
    page = browser
    superuser = make_user("root", superuser=True)
    device = TOTPDevice.objects.create(user=superuser, name="手机")
    sign_in_with_password(page, live_server.url, "root")
    page.fill("input[name=token]", f"{totp(device.bin_key):06d}")
    with page.expect_navigation():
        page.click("form.login-form button[type=submit]")
    page.goto(live_server.url + reverse("review_credentials"))
    page.fill("[data-review-passkey-name]", "办公室电脑")
    with page.expect_navigation():
        page.click("[data-review-passkey-enrol]")
    credential = SigningCredential.objects.get(user=superuser, kind="webauthn")

    page.context.clear_cookies()
    sign_in_with_password(page, live_server.url, "root")
    assert "/admin/2fa/verify/" in page.url
    with page.expect_navigation():
        page.click("[data-review-passkey-login]")
    assert page.url == live_server.url + "/admin/"
    assert page.locator(".w-dashboard").count() == 1
    passkey = PasskeyDevice.objects.get(credential=credential)
    cookie = next(c["value"] for c in page.context.cookies() if c["name"] == "sessionid")
    assert SessionStore(session_key=cookie)[DEVICE_ID_SESSION_KEY] == passkey.persistent_id
