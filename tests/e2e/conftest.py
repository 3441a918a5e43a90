"""Debian's headless Chromium, driven by Playwright, with a CDP virtual authenticator (a
platform key with user verification), against the live server."""

import os
import shutil

import pytest
from django.core.servers.basehttp import WSGIServer
from django.test.testcases import LiveServerThread


class SerialLiveServer(WSGIServer):
    """The live server answering one request at a time. Under SQLite's in-memory test
    database, Django shares the test's one connection with the server's threads: a page and
    its sprite, answered at once in two threads, interleaved their savepoints on it ("no
    such savepoint", a 500 in Chromium). Django closes each response's connection when the
    server is not threaded, so the browser waits its turn instead."""

    def __init__(self, *args, connections_override=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.connections_override = connections_override


LiveServerThread.server_class = SerialLiveServer

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
