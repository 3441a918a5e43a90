"""A user's second factors: enrolling, verifying and removing them, each change and each
failure recorded in the security audit log in the same transaction.

The factors are django-otp devices: TOTP (django-otp's ``TOTPDevice``), hashed one-time
recovery codes (``RecoveryCodeDevice``) and a leader's WebAuthn signing credential
(``PasskeyDevice``). A user "has a second factor" with a confirmed TOTP device or an active
WebAuthn credential; recovery codes only stand in for those.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice

from cms.accounts.factors import new_recovery_codes, requires_second_factor, totp_time_step
from cms.accounts.models import PasskeyDevice, RecoveryCodeDevice
from cms.exceptions import CmsError
from review.exceptions import ApprovalError
from review.pipeline.passkeys import (
    authentication_options,
    credential_for_assertion,
    verify_assertion,
)
from review.pipeline.records import SigningCredential
from review.register.models import SecurityEvent
from review.register.security import record_security_event

TOTP_DIGITS = 6


class SecondFactorError(CmsError):
    """A second factor did not verify, or the change asked for is not allowed; nothing was
    changed (but the failure is in the security audit log)."""


def _subject(user) -> str:
    return f"user:{user.get_username()}"


def totp_devices(user):
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("pk")


def passkey_credentials(user):
    return SigningCredential.objects.filter(user=user, kind=SigningCredential.Kind.WEBAUTHN,
                                            revoked_at=None).order_by("pk")


def recovery_device(user) -> RecoveryCodeDevice | None:
    return RecoveryCodeDevice.objects.filter(user=user).first()


def has_second_factor(user) -> bool:
    """Whether ``user`` has enrolled a factor that can verify a login."""
    return totp_devices(user).exists() or passkey_credentials(user).exists()


def device_is_usable(device: Device | None) -> bool:
    """A verified session's device still counts (a passkey's credential may be revoked)."""
    if isinstance(device, PasskeyDevice):
        return device.usable
    return device is not None


@dataclass
class Enrolment:
    device: TOTPDevice
    recovery_codes: list[str]  # shown once; empty when the user already had codes


@transaction.atomic
def enrol_totp(*, user, key_hex: str, token: str, name: str, address: str = "") -> Enrolment:
    """Add an authenticator app whose secret is ``key_hex``, confirmed by its current code.
    The first factor a user enrols comes with a fresh set of recovery codes."""
    step = totp_time_step(key_hex=key_hex, token=token, digits=TOTP_DIGITS)
    if step is None:
        raise SecondFactorError("验证码不正确：请输入身份验证器应用当前显示的 6 位数字"
                                "（并确认手机时间准确）。")
    device = TOTPDevice.objects.create(user=user, name=name or "身份验证器", key=key_hex,
                                       digits=TOTP_DIGITS, confirmed=True, last_t=step,
                                       last_used_at=timezone.now())
    existing = recovery_device(user)
    codes = [] if existing is not None and existing.remaining() else new_recovery_codes()
    if codes:
        _store_recovery_codes(user=user, codes=codes)
    record_security_event(event="second_factor_enrolled", actor=user, subject=_subject(user),
                          address=address,
                          data={"kind": "totp", "device": device.persistent_id,
                                "name": device.name, "recovery_codes": len(codes)})
    return Enrolment(device=device, recovery_codes=codes)


def _store_recovery_codes(*, user, codes: list[str]) -> RecoveryCodeDevice:
    device = recovery_device(user) or RecoveryCodeDevice.objects.create(user=user, name="恢复码")
    device.replace_codes(codes=codes)
    device.throttle_reset()
    return device


@transaction.atomic
def regenerate_recovery_codes(*, user, address: str = "") -> list[str]:
    """A new set of recovery codes replaces the old (used or not)."""
    if not has_second_factor(user):
        raise SecondFactorError("请先添加身份验证器，再生成恢复码。")
    codes = new_recovery_codes()
    device = _store_recovery_codes(user=user, codes=codes)
    record_security_event(event="second_factor_enrolled", actor=user, subject=_subject(user),
                          address=address,
                          data={"kind": "recovery_codes", "device": device.persistent_id,
                                "recovery_codes": len(codes)})
    return codes


def _looks_like_totp(token: str) -> bool:
    token = "".join(token.split())
    return token.isdigit() and len(token) == TOTP_DIGITS


def _failed(*, user, address: str, method: str, reason: str) -> None:
    record_security_event(event="second_factor_failed", outcome=SecurityEvent.Outcome.FAILURE,
                          actor=user, subject=_subject(user), address=address,
                          data={"method": method, "reason": reason})


def verify_code(*, user, token: str, address: str = "") -> Device:
    """The device that accepts ``token``: a current TOTP code or an unused recovery code
    (which is used up). A failure is recorded and raises ``SecondFactorError``; a device
    answering too soon after failures (django-otp's throttling) refuses to check."""
    token = (token or "").strip()
    totp = _looks_like_totp(token)
    method = "totp" if totp else "recovery_code"
    with transaction.atomic():
        if totp:
            candidates = list(totp_devices(user).select_for_update())
        else:
            candidates = list(RecoveryCodeDevice.objects.filter(user=user).select_for_update())
        allowed = [device for device in candidates if device.verify_is_allowed()[0]]
        for device in allowed:
            if device.verify_token("".join(token.split()) if totp else token):
                return device
    if candidates and not allowed:
        _failed(user=user, address=address, method=method, reason="throttled")
        raise SecondFactorError("尝试过于频繁，请稍等片刻再输入。")
    _failed(user=user, address=address, method=method,
            reason="no_device" if not candidates else "wrong_code")
    raise SecondFactorError("验证码不正确。" if totp else "恢复码不正确或已经用过。")


def passkey_options(*, user, challenge: bytes) -> str | None:
    """WebAuthn request options for logging in with one of the user's passkeys (None when
    they have none)."""
    credentials = list(passkey_credentials(user))
    if not credentials:
        return None
    return authentication_options(credentials=credentials, challenge=challenge)


def verify_passkey(*, user, assertion, challenge: bytes, address: str = "") -> PasskeyDevice:
    """The passkey device of the user's active WebAuthn credential that answered
    ``challenge`` with ``assertion``."""
    try:
        with transaction.atomic():
            credential = credential_for_assertion(user=user, assertion=assertion)
            verify_assertion(credential=credential, assertion=assertion, challenge=challenge)
            device, _ = PasskeyDevice.objects.get_or_create(
                credential=credential,
                defaults={"user": user, "name": credential.name or "安全密钥",
                          "confirmed": True})
    except ApprovalError as error:
        # Recorded outside the rolled-back block: the failure stays in the log.
        _failed(user=user, address=address, method="passkey", reason="assertion")
        raise SecondFactorError(str(error)) from error
    return device


def remove_totp_device(*, user, device_id: int, token: str, address: str = "") -> Device:
    """Remove one of the user's authenticators, confirmed with a current code (of any of
    their factors). Someone who must use a second factor keeps at least one. Returns the
    device that accepted the code."""
    device = totp_devices(user).filter(pk=device_id).first()
    if device is None:
        raise SecondFactorError("没有找到这个身份验证器。")
    others = totp_devices(user).exclude(pk=device.pk).exists() or \
        passkey_credentials(user).exists()
    if not others and requires_second_factor(user):
        raise SecondFactorError("您的账号必须使用第二因子登录，不能移除唯一的身份验证器："
                                "请先添加新的身份验证器，再移除这个。")
    verified = verify_code(user=user, token=token, address=address)
    with transaction.atomic():
        name, persistent_id = device.name, device.persistent_id
        device.delete()
        if not others:
            RecoveryCodeDevice.objects.filter(user=user).delete()
        record_security_event(event="second_factor_removed", actor=user, subject=_subject(user),
                              address=address,
                              data={"kind": "totp", "device": persistent_id, "name": name,
                                    "recovery_codes_removed": not others})
    return verified


@transaction.atomic
def reset_second_factors(*, user, actor=None, actor_name: str = "", address: str = "") -> int:
    """Remove all of a user's authenticators and recovery codes (a lost phone and lost
    codes): they enrol again at their next login. Passkeys are signing credentials, revoked
    on their own page. How many devices were removed."""
    removed = 0
    for model in (TOTPDevice, RecoveryCodeDevice, PasskeyDevice):
        removed += model.objects.filter(user=user).delete()[1].get(model._meta.label, 0)
    record_security_event(event="second_factor_removed", actor=actor, actor_name=actor_name,
                          subject=_subject(user), address=address,
                          data={"kind": "all", "devices": removed})
    return removed

