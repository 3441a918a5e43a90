"""The development demo's second factors: the demo accounts that need one share a TOTP
secret (``ACCOUNTS_DEMO_TOTP_SECRET``, set only in cms/settings/dev.py and used only while
DEBUG is on), so a newcomer signs in with ``manage.py totp_code <user>`` or one entry in an
authenticator app, without enrolling first."""

from django_otp.plugins.otp_totp.models import TOTPDevice

from cms.accounts.factors import demo_totp_key, requires_second_factor

DEMO_DEVICE_NAME = "演示验证器（仅开发环境）"


def give_demo_second_factors(*, users) -> int:
    """A TOTP device with the demo secret for each of ``users`` who needs a second factor and
    has none; how many were added. Nothing outside development (no DEBUG or no secret)."""
    key = demo_totp_key()
    if not key:
        return 0
    added = 0
    for user in users:
        if requires_second_factor(user) and not TOTPDevice.objects.filter(user=user).exists():
            TOTPDevice.objects.create(user=user, name=DEMO_DEVICE_NAME, key=key, confirmed=True)
            added += 1
    return added
