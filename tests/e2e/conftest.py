"""Debian's headless Chromium, driven by Playwright, with a CDP virtual authenticator (a
platform key with user verification), against the live server."""

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


@pytest.fixture
def chromium(live_server, settings, monkeypatch):
    """``(context, page)`` of a fresh browser whose WebAuthn origin is the live server."""
    if not os.path.exists(CHROMIUM) and not os.environ.get("REQUIRE_BROWSER"):
        pytest.skip("Chromium is not installed (./dev.sh test installs it where it can)")
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API keeps an event loop in this thread; the ORM calls the test makes
    # between browser steps are synchronous and safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.REVIEW_WEBAUTHN_RP_ID = "localhost"
    settings.REVIEW_WEBAUTHN_ORIGINS = [live_server.url]
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        context = browser.new_context(locale="zh-CN")
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable")
        cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
            "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
            "hasUserVerification": True, "isUserVerified": True,
            "automaticPresenceSimulation": True}})
        page.set_default_timeout(20_000)
        yield context, page
        browser.close()
