"""The leader's WebAuthn approval in a real browser: Debian's headless Chromium, driven by
Playwright, with a CDP virtual authenticator (a platform key with user verification).

The leader enrols the key on the 签名凭证 page, then signs the approval from the page editor's
workflow menu; the page goes live and the register entry carries the browser's signature."""

import pytest
from django.urls import reverse
from wagtail.models import Page

from review.models import RegisterEntry, SigningCredential
from tests.conftest import act, task_state
from tests.shared import PASSWORD, current_code, totp_device


@pytest.fixture
def browser_page(chromium):
    return chromium


def log_in(context, client, user, base_url):
    client.force_login(user)
    context.clear_cookies()
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                          "url": base_url}])


def test_the_leader_enrols_a_key_and_signs_the_approval_in_chromium(
        browser_page, live_server, client, network, submitted):
    context, page = browser_page
    leader = network.users["a_leader"]
    log_in(context, client, leader, live_server.url)

    # Enrolling a key asks again for the password and a current code (a fresh login).
    authenticator = totp_device(leader)
    page.goto(live_server.url + reverse("review_credentials"))
    assert reverse("accounts_reauthenticate") in page.url
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=code]", current_code(authenticator))
    with page.expect_navigation():
        page.click("[data-accounts-reauthenticate] button[type=submit]")
    page.fill("[data-review-passkey-name]", "办公室电脑")
    with page.expect_navigation():
        page.click("[data-review-passkey-enrol]")
    assert page.locator("td", has_text="办公室电脑").count() == 1
    credential = SigningCredential.objects.get(user=leader, kind="webauthn")
    assert credential.algorithm == "webauthn-es256"

    act(client, network.users["a_administrator"], submitted, "approve", {"comment": "初审通过"})
    assert task_state(submitted).task.specific_class.__name__ == "LeaderApprovalTask"
    log_in(context, client, leader, live_server.url)

    page.goto(live_server.url + reverse("wagtailadmin_pages:edit", args=[submitted.pk]))
    page.locator("[data-workflow-action-name=approve]").first.evaluate("button => button.click()")
    page.wait_for_selector("[data-review-passkey-sign]")
    page.fill("textarea[name=comment]", "同意发布")
    with page.expect_navigation():
        page.click("[data-review-passkey-sign]")

    live = Page.objects.get(pk=submitted.pk)
    assert live.live, page.locator(".messages").inner_text()
    entry = RegisterEntry.objects.get(object_id=str(submitted.pk)).entry
    assert entry["signature"]["alg"] == "webauthn-es256"
    assert entry["signature"]["key_id"] == credential.key_id
    assert entry["approval"]["approver"] == "a_leader"
    assert entry["approval"]["first_reviewer"] == "a_administrator"
    assert entry["published_by"] == "a_leader"
