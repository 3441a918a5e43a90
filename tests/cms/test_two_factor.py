"""Two-factor login (等保 8.1.4.1): who must present a second factor, enrolment at first login
(QR code, confirmation, recovery codes shown once and stored hashed), verification by a real
TOTP code, a recovery code or a passkey, the audit log's failures, the management page, and
the demo's development-only shortcut.

The test settings leave the requirement off (most of the suite logs in with force_login);
every test here switches it on. Codes are computed from the device's key with django-otp's
RFC 6238 implementation, as an authenticator app computes them."""

import base64
import io
import json
import re
from binascii import unhexlify

import pytest
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from cms.accounts.checks import no_demo_secret_in_production, second_factor_middleware
from cms.accounts.demo import give_demo_second_factors
from cms.accounts.factors import (
    base32_secret,
    current_totp_code,
    hash_recovery_code,
    new_recovery_codes,
    normalise_recovery_code,
    recovery_code_matches,
    requires_second_factor,
    role_needs_second_factor,
    totp_time_step,
)
from cms.accounts.models import PasskeyDevice, RecoveryCode, RecoveryCodeDevice
from cms.accounts.twofactor import SETUP_KEY_SESSION_KEY, second_factor_age
from review.pipeline.passkeys import enrol
from review.register.models import SecurityEvent
from tests.cms.test_settings import run_settings
from tests.conftest import make_document
from tests.review.support.softauthn import SoftAuthenticator

ADMIN = "/admin/"
SETUP = "/admin/2fa/setup/"
VERIFY = "/admin/2fa/verify/"
CODE_RE = re.compile(r"<code>([0-9a-z]{4}(?:-[0-9a-z]{4}){3})</code>")
DEMO_SECRET = "DEMOEDUCMSTOTPKEYFORDEVONLY23456"


def code_now(device: TOTPDevice, *, steps: int = 0) -> str:
    """What the authenticator app shows now (``steps`` time steps later)."""
    counter_start = device.t0 - steps * device.step
    return f"{totp(device.bin_key, device.step, counter_start, device.digits):06d}"


def failures(username: str):
    return SecurityEvent.objects.filter(event="second_factor_failed", outcome="failure",
                                        actor=username, subject=f"user:{username}")


@pytest.fixture(autouse=True)
def second_factor_required(settings):
    settings.ACCOUNTS_REQUIRE_SECOND_FACTOR = True


# Pure policy and code handling.

@pytest.mark.parametrize(("roles", "superuser", "all_staff", "needed"), [
    ({"administrator"}, False, False, True),
    ({"leader"}, False, False, True),
    ({"accounts"}, False, False, True),
    ({"teacher"}, False, False, False),
    (set(), True, False, True),
    ({"teacher"}, False, True, True),
    (set(), False, False, False),
])
def test_who_needs_a_second_factor(roles, superuser, all_staff, needed):
    assert role_needs_second_factor(roles=roles, is_superuser=superuser, all_staff=all_staff,
                                    reaches_admin=True) is needed


def test_recovery_codes_are_random_and_only_their_salted_digest_matches():
    codes = new_recovery_codes()
    assert len(codes) == len(set(codes)) == 10
    assert all(re.fullmatch(r"[0-9a-z]{4}(-[0-9a-z]{4}){3}", code) for code in codes)
    stored = hash_recovery_code(code=codes[0])
    assert normalise_recovery_code(codes[0]) not in stored
    assert stored != hash_recovery_code(code=codes[0])  # a fresh salt each time
    assert recovery_code_matches(code=codes[0], stored=stored)
    assert recovery_code_matches(code=codes[0].upper().replace("-", " "), stored=stored)
    assert not recovery_code_matches(code=codes[1], stored=stored)
    assert not recovery_code_matches(code="", stored=stored)
    assert normalise_recovery_code("O1Il-ab cd") == "0111abcd"


def test_a_totp_code_verifies_at_its_time_step_only():
    key = "3132333435363738393031323334353637383930"  # RFC 6238's test secret
    at = 1_111_111_109  # RFC 6238 appendix B: 081804 (6 digits of 07081804)
    assert current_totp_code(key_hex=key, at=at) == "081804"
    assert totp_time_step(key_hex=key, token="081804", at=at) == at // 30
    assert totp_time_step(key_hex=key, token="081 804", at=at + 30) == at // 30  # tolerance 1
    assert totp_time_step(key_hex=key, token="081804", at=at + 90) is None
    assert totp_time_step(key_hex=key, token="081805", at=at) is None
    assert totp_time_step(key_hex=key, token="abcdef", at=at) is None
    assert base32_secret(key_hex=key).replace(" ", "") == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


# Who is asked.

def test_administrators_leaders_and_superusers_need_it_teachers_do_not(network, settings):
    users = network.users
    assert requires_second_factor(users["a_administrator"])
    assert requires_second_factor(users["county_leader"])
    assert requires_second_factor(users["superuser"])
    assert not requires_second_factor(users["a_teacher"])
    settings.ACCOUNTS_SECOND_FACTOR_FOR_ALL_STAFF = True
    assert requires_second_factor(users["a_teacher"])


def test_a_leader_without_a_factor_is_sent_to_enrolment(client, network):
    client.force_login(network.users["a_leader"])
    response = client.get(ADMIN)
    assert response.status_code == 302
    assert response["Location"] == f"{SETUP}?next=%2Fadmin%2F"


def test_a_leader_not_yet_verified_is_sent_to_verification(client, network):
    leader = network.users["a_leader"]
    TOTPDevice.objects.create(user=leader, name="手机")
    client.force_login(leader)
    for path in (ADMIN, "/admin/pages/", reverse("review_credentials"),
                 reverse("accounts_2fa_manage")):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(f"{VERIFY}?next="), path
    assert client.post("/admin/pages/add/cms/articlepage/1/").status_code == 302
    # Signing out, the verification page itself and the admin's assets are reachable.
    assert client.get(VERIFY).status_code == 200
    assert client.get(reverse("wagtailadmin_javascript_catalog")).status_code == 200


def test_a_password_alone_opens_no_private_document(client, network):
    """Outside the admin a session not yet verified is anonymous: the school's documents,
    visible to its staff only, stay closed."""
    leader = network.users["a_leader"]
    device = TOTPDevice.objects.create(user=leader, name="手机")
    document = make_document(network.school_a, "甲校课表", filename="kebiao.pdf")
    client.force_login(leader)
    assert client.get(document.url).status_code != 200
    client.post(VERIFY, {"token": code_now(device)})
    assert client.get(document.url).status_code == 200


def test_a_teacher_is_not_asked(client, network):
    client.force_login(network.users["a_teacher"])
    assert client.get(ADMIN).status_code == 200


def test_nothing_is_asked_when_the_requirement_is_off(client, network, settings):
    settings.ACCOUNTS_REQUIRE_SECOND_FACTOR = False
    client.force_login(network.users["a_leader"])
    assert client.get(ADMIN).status_code == 200


# Verification.

def test_the_current_totp_code_verifies_the_session(client, network):
    leader = network.users["a_leader"]
    device = TOTPDevice.objects.create(user=leader, name="手机")
    client.force_login(leader)
    old_session = client.cookies["sessionid"].value
    response = client.post(VERIFY, {"token": code_now(device), "next": "/admin/pages/"})
    assert response.status_code == 302 and response["Location"] == "/admin/pages/"
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.cookies["sessionid"].value != old_session  # a new session key
    request = RequestFactory().get("/")
    request.session, request.user = client.session, leader
    request.user.is_verified, request.user.otp_device = (lambda: True), device
    assert 0 <= second_factor_age(request) < 60
    assert client.get(ADMIN).status_code == 200
    assert not failures("a_leader").exists()


def test_a_wrong_code_is_refused_and_recorded(client, network):
    leader = network.users["a_leader"]
    device = TOTPDevice.objects.create(user=leader, name="手机")
    client.force_login(leader)
    response = client.post(VERIFY, {"token": code_now(device, steps=5)})
    assert response.status_code == 200
    assert "验证码不正确" in response.content.decode()
    assert DEVICE_ID_SESSION_KEY not in client.session
    assert client.get(ADMIN).status_code == 302
    event = failures("a_leader").get()
    assert event.entry["data"] == {"method": "totp", "reason": "wrong_code"}
    # Right after a failure django-otp's throttling refuses even the right code, and says so.
    response = client.post(VERIFY, {"token": code_now(device)})
    assert "尝试过于频繁" in response.content.decode()
    assert failures("a_leader").count() == 2


def test_a_code_is_accepted_once(client, network):
    leader = network.users["a_leader"]
    device = TOTPDevice.objects.create(user=leader, name="手机")
    code = code_now(device)
    client.force_login(leader)
    assert client.post(VERIFY, {"token": code}).status_code == 302
    client.logout()
    client.force_login(leader)
    response = client.post(VERIFY, {"token": code})
    assert response.status_code == 200 and "验证码不正确" in response.content.decode()


def test_a_foreign_next_url_is_not_followed(client, network):
    leader = network.users["a_leader"]
    device = TOTPDevice.objects.create(user=leader, name="手机")
    client.force_login(leader)
    response = client.post(VERIFY, {"token": code_now(device), "next": "https://evil.example/"})
    assert response["Location"] == ADMIN


# Enrolment at first login.

def test_enrolment_shows_a_qr_code_confirms_and_shows_recovery_codes_once(client, network):
    leader = network.users["a_leader"]
    client.force_login(leader)
    page = client.get(f"{SETUP}?next=/admin/pages/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html and 'class="accounts-qr"' in html
    key = client.session[SETUP_KEY_SESSION_KEY]
    assert base32_secret(key_hex=key) in html
    # The same secret until it is confirmed.
    assert client.get(SETUP).content.decode().count(base32_secret(key_hex=key)) == 1
    assert client.session[SETUP_KEY_SESSION_KEY] == key

    wrong = f"{totp(unhexlify(key), t0=-300):06d}"
    response = client.post(SETUP, {"token": wrong, "name": "我的手机"})
    assert "验证码不正确" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=leader).exists()

    response = client.post(SETUP, {"token": f"{totp(unhexlify(key)):06d}", "name": "我的手机",
                                   "next": "/admin/pages/"})
    assert response.status_code == 200
    codes = CODE_RE.findall(response.content.decode())
    assert len(codes) == 10
    assert "no-store" in response["Cache-Control"]
    device = TOTPDevice.objects.get(user=leader)
    assert (device.name, device.key, device.confirmed) == ("我的手机", key, True)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get(ADMIN).status_code == 200
    event = SecurityEvent.objects.get(event="second_factor_enrolled", actor="a_leader")
    assert event.entry["data"]["kind"] == "totp" and event.entry["data"]["recovery_codes"] == 10

    # Stored hashed: no code appears in the database.
    digests = list(RecoveryCode.objects.filter(device__user=leader)
                   .values_list("digest", flat=True))
    assert len(digests) == 10
    for code in codes:
        assert not any(normalise_recovery_code(code) in digest or code in digest
                       for digest in digests)
    # Shown once: neither the management page nor the setup page shows them again.
    for path in (reverse("accounts_2fa_manage"), SETUP):
        assert not set(CODE_RE.findall(client.get(path).content.decode())) & set(codes)

    # A recovery code works once, in a new session.
    client.logout()
    client.force_login(leader)
    response = client.post(VERIFY, {"token": codes[3].upper(), "next": "/admin/pages/"})
    assert response.status_code == 302 and response["Location"] == "/admin/pages/"
    assert client.get(ADMIN).status_code == 200
    client.logout()
    client.force_login(leader)
    response = client.post(VERIFY, {"token": codes[3]})
    assert "恢复码不正确或已经用过" in response.content.decode()
    assert failures("a_leader").get().entry["data"]["method"] == "recovery_code"


def test_a_user_with_a_factor_cannot_enrol_another_before_verifying(client, network):
    leader = network.users["a_leader"]
    TOTPDevice.objects.create(user=leader, name="手机")
    client.force_login(leader)
    response = client.get(SETUP)
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    assert client.post(SETUP, {"token": "123456"}).status_code == 302
    assert TOTPDevice.objects.filter(user=leader).count() == 1


# Passkeys (the leaders' WebAuthn signing credentials) as the second factor.

def test_a_leaders_passkey_verifies_the_session(client, network):
    leader = network.users["a_leader"]
    authenticator = SoftAuthenticator(rp_id="localhost", origin="http://localhost:8000")
    credential = enrol(user=leader, response=authenticator.create(b"c" * 32), challenge=b"c" * 32,
                       name="U盾")
    client.force_login(leader)
    assert client.get(ADMIN)["Location"].startswith(VERIFY)  # a passkey is a factor
    assert "使用安全密钥验证" in client.get(VERIFY).content.decode()

    client.post(reverse("accounts_2fa_passkey_options"))
    wrong = client.post(reverse("accounts_2fa_passkey_verify"),
                        {"credential": authenticator.get(b"x" * 32)},
                        content_type="application/json")
    assert wrong.status_code == 400 and failures("a_leader").get().entry["data"]["method"] \
        == "passkey"

    options = client.post(reverse("accounts_2fa_passkey_options")).json()["options"]
    challenge = base64.urlsafe_b64decode(options["challenge"] + "==")
    response = client.post(reverse("accounts_2fa_passkey_verify") + "?next=/admin/pages/",
                           {"credential": authenticator.get(challenge)},
                           content_type="application/json")
    assert response.status_code == 200 and response.json() == {"redirect": "/admin/pages/"}
    device = PasskeyDevice.objects.get(credential=credential)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get(ADMIN).status_code == 200

    # Revoking the credential ends what it verified.
    credential.revoked_at = credential.created_at
    credential.save(update_fields=["revoked_at"])
    assert client.get(ADMIN)["Location"].startswith(SETUP)


# Managing one's factors.

def verified_client(client, user, device):
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def test_removing_an_authenticator_needs_a_current_code(client, network):
    leader = network.users["a_leader"]
    phone = TOTPDevice.objects.create(user=leader, name="旧手机")
    spare = TOTPDevice.objects.create(user=leader, name="新手机")
    verified_client(client, leader, spare)
    page = client.get(reverse("accounts_2fa_manage")).content.decode()
    assert "旧手机" in page and "新手机" in page
    remove = reverse("accounts_2fa_remove", args=[phone.pk])

    client.post(remove, {"token": code_now(spare, steps=7)})
    assert TOTPDevice.objects.filter(pk=phone.pk).exists()
    assert failures("a_leader").count() == 1

    spare.throttle_reset()
    client.post(remove, {"token": code_now(spare)})
    assert not TOTPDevice.objects.filter(pk=phone.pk).exists()
    event = SecurityEvent.objects.get(event="second_factor_removed", actor="a_leader")
    assert event.entry["data"]["name"] == "旧手机"
    assert client.get(ADMIN).status_code == 200

    # A leader keeps at least one factor.
    response = client.post(reverse("accounts_2fa_remove", args=[spare.pk]),
                           {"token": code_now(spare, steps=1)}, follow=True)
    assert "不能移除唯一的身份验证器" in response.content.decode()
    assert TOTPDevice.objects.filter(pk=spare.pk).exists()


def test_recovery_codes_can_be_regenerated(client, network):
    leader = network.users["a_leader"]
    device = TOTPDevice.objects.create(user=leader, name="手机")
    verified_client(client, leader, device)
    response = client.post(reverse("accounts_2fa_recovery_codes"))
    codes = CODE_RE.findall(response.content.decode())
    assert len(codes) == 10
    assert RecoveryCodeDevice.objects.get(user=leader).remaining() == 10
    again = CODE_RE.findall(client.post(reverse("accounts_2fa_recovery_codes")).content.decode())
    assert not set(codes) & set(again)
    recovery = RecoveryCodeDevice.objects.get(user=leader)
    assert not recovery.verify_token(codes[0])
    recovery.throttle_reset()
    assert recovery.verify_token(again[0])
    assert SecurityEvent.objects.filter(event="second_factor_enrolled", actor="a_leader",
                                        entry__data__kind="recovery_codes").count() == 2


def test_the_account_page_links_to_the_management_page(client, network):
    teacher = network.users["a_teacher"]
    client.force_login(teacher)
    assert reverse("accounts_2fa_manage") in client.get(reverse("wagtailadmin_account")) \
        .content.decode()
    assert "管理第二因子" in client.get(reverse("accounts_2fa_manage")).content.decode()


# The demo's development-only shortcut.

def test_totp_code_is_refused_outside_development(network, settings):
    settings.DEBUG = False
    TOTPDevice.objects.create(user=network.users["a_leader"], name="手机")
    with pytest.raises(CommandError, match="开发环境"):
        call_command("totp_code", "a_leader", stdout=io.StringIO(), stderr=io.StringIO())


def test_the_demo_secret_and_totp_code_log_a_demo_user_in(client, network, settings):
    users = list(network.users.values())
    settings.ACCOUNTS_DEMO_TOTP_SECRET = DEMO_SECRET
    settings.DEBUG = False
    assert give_demo_second_factors(users=users) == 0  # never outside DEBUG
    settings.DEBUG = True
    added = give_demo_second_factors(users=users)
    assert added == sum(requires_second_factor(user) for user in users)
    assert not TOTPDevice.objects.filter(user=network.users["a_teacher"]).exists()
    device = TOTPDevice.objects.get(user=network.users["a_administrator"])
    assert base64.b32encode(device.bin_key).decode() == DEMO_SECRET

    out = io.StringIO()
    call_command("totp_code", "a_administrator", stdout=out, stderr=io.StringIO())
    code = out.getvalue().strip()
    assert re.fullmatch(r"\d{6}", code)
    client.force_login(network.users["a_administrator"])
    assert "manage.py totp_code a_administrator" in client.get(VERIFY).content.decode()
    # (A code stays valid into the next time step: tolerance 1, as authenticator apps expect.)
    assert client.post(VERIFY, {"token": code}).status_code == 302
    assert client.get(ADMIN).status_code == 200
    with pytest.raises(CommandError, match="没有用户"):
        call_command("totp_code", "nobody", stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(CommandError, match="没有身份验证器"):
        call_command("totp_code", "a_teacher", stdout=io.StringIO(), stderr=io.StringIO())


def test_an_operator_resets_a_users_second_factors(client, network):
    leader = network.users["a_leader"]
    device = TOTPDevice.objects.create(user=leader, name="丢失的手机")
    RecoveryCodeDevice.objects.create(user=leader, name="恢复码").replace_codes(
        codes=new_recovery_codes())
    verified_client(client, leader, device)
    out = io.StringIO()
    call_command("reset_second_factor", "a_leader", stdout=out)
    assert "已移除 a_leader 的 2 个第二因子" in out.getvalue()
    assert not TOTPDevice.objects.filter(user=leader).exists()
    assert not RecoveryCode.objects.filter(device__user=leader).exists()
    assert client.get(ADMIN)["Location"].startswith(SETUP)  # enrol again
    event = SecurityEvent.objects.get(event="second_factor_removed", subject="user:a_leader")
    assert event.actor == "manage.py reset_second_factor"
    with pytest.raises(CommandError, match="没有用户"):
        call_command("reset_second_factor", "nobody", stdout=io.StringIO())


def test_production_requires_second_factors_and_has_no_demo_secret(tmp_path):
    result = run_settings(
        "cms.settings.production",
        {"CMS_DATA_DIR": str(tmp_path), "DJANGO_SECRET_KEY": "x" * 50,
         "DJANGO_ALLOWED_HOSTS": "edu.example"},
        "[settings.ACCOUNTS_REQUIRE_SECOND_FACTOR, "
        "getattr(settings, 'ACCOUNTS_DEMO_TOTP_SECRET', ''), settings.MIDDLEWARE]")
    assert result.returncode == 0, result.stderr
    required, secret, middleware = json.loads(result.stdout)
    assert (required, secret) == (True, "")
    assert middleware.index("django_otp.middleware.OTPMiddleware") \
        < middleware.index("cms.accounts.twofactor.SecondFactorMiddleware")


def test_the_checks_refuse_a_misplaced_middleware_and_a_demo_secret_in_production(settings):
    assert second_factor_middleware(None) == []
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE
                           if m != "django_otp.middleware.OTPMiddleware"]
    assert [e.id for e in second_factor_middleware(None)] == ["accounts.E001"]
    settings.DEBUG, settings.ACCOUNTS_DEMO_TOTP_SECRET = False, DEMO_SECRET
    assert [w.id for w in no_demo_secret_in_production(None)] == ["accounts.W001"]
