"""Second factors (等保 8.1.4.1): who must present one, and the pure pieces of checking them.

Policy: superusers and the members of an organisation's web-administrator, leader or account-
administrator group need a second factor at login; with ``ACCOUNTS_SECOND_FACTOR_FOR_ALL_STAFF``
every user who reaches the admin does. ``ACCOUNTS_REQUIRE_SECOND_FACTOR`` (on by default, off in
the test settings) switches the enforcement (cms.accounts.twofactor) as a whole.

Recovery codes are random, shown once and stored only as salted SHA-256 digests: 80 bits of
randomness each, so a digest cannot be reversed by trying codes.
"""

import base64
import hashlib
import hmac
import secrets
import time
from binascii import unhexlify

from django.conf import settings
from django.contrib.auth.models import Group
from django_otp.oath import TOTP

# OrganisationRole.role values whose members need a second factor (cms.models.Role; "accounts"
# is the bureau's account administrators).
SECOND_FACTOR_ROLES = frozenset({"administrator", "leader", "accounts"})

RECOVERY_CODE_COUNT = 10
# Crockford's base32 alphabet: no I, L, O or U to misread; 16 characters are 80 bits.
RECOVERY_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
RECOVERY_CODE_LENGTH = 16
_MISREAD = str.maketrans({"o": "0", "i": "1", "l": "1"})


def role_needs_second_factor(*, roles: set[str] | frozenset[str], is_superuser: bool,
                             reaches_admin: bool, all_staff: bool) -> bool:
    """Whether someone with these organisation roles (and flags) needs a second factor."""
    return (is_superuser or bool(SECOND_FACTOR_ROLES & set(roles))
            or (all_staff and reaches_admin))


def requires_second_factor(user) -> bool:
    """Whether ``user`` must verify a second factor before using the admin (by role; whether
    it is enforced at all is ``second_factor_enforced``)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    roles = set(Group.objects.filter(user=user, organisation_role__isnull=False)
                .values_list("organisation_role__role", flat=True))
    all_staff = getattr(settings, "ACCOUNTS_SECOND_FACTOR_FOR_ALL_STAFF", False)
    return role_needs_second_factor(
        roles=roles, is_superuser=user.is_superuser, all_staff=all_staff,
        reaches_admin=all_staff and (user.is_staff or user.has_perm("wagtailadmin.access_admin")))


def second_factor_enforced() -> bool:
    return getattr(settings, "ACCOUNTS_REQUIRE_SECOND_FACTOR", True)


# Recovery codes.

def new_recovery_codes(*, count: int = RECOVERY_CODE_COUNT) -> list[str]:
    """Fresh codes as shown to the user: ``abcd-efgh-jkmn-pqrs``."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        codes.append("-".join(raw[i:i + 4] for i in range(0, RECOVERY_CODE_LENGTH, 4)))
    return codes


def normalise_recovery_code(text: str) -> str:
    """What the user typed, without spaces, hyphens and case; O, I and L read as 0, 1, 1."""
    return "".join(text.split()).replace("-", "").lower().translate(_MISREAD)


def hash_recovery_code(*, code: str, salt: str | None = None) -> str:
    """``sha256$<salt>$<hex digest>`` of the normalised code, with a fresh salt per code."""
    salt = salt if salt is not None else secrets.token_hex(16)
    digest = hashlib.sha256(f"{salt}${normalise_recovery_code(code)}".encode()).hexdigest()
    return f"sha256${salt}${digest}"


def recovery_code_matches(*, code: str, stored: str) -> bool:
    algorithm, _, rest = stored.partition("$")
    salt, _, _digest = rest.partition("$")
    if algorithm != "sha256" or not salt:
        return False
    return hmac.compare_digest(hash_recovery_code(code=code, salt=salt), stored)


# TOTP (RFC 6238) for enrolment: the secret is only in the session until a code confirms it.

def new_totp_key() -> str:
    """A fresh 20-byte secret, hex-encoded as django-otp's TOTPDevice stores it."""
    return secrets.token_hex(20)


def totp_time_step(*, key_hex: str, token: str, at: float | None = None, step: int = 30,
                   digits: int = 6, tolerance: int = 1) -> int | None:
    """The time step at which ``token`` is the code of ``key_hex`` (within ``tolerance`` steps
    of ``at``), or None."""
    token = "".join(token.split())
    if not token.isdigit() or len(token) != digits:
        return None
    totp = TOTP(unhexlify(key_hex), step=step, digits=digits)
    totp.time = time.time() if at is None else at
    return totp.t() if totp.verify(int(token), tolerance=tolerance) else None


def current_totp_code(*, key_hex: str, at: float | None = None, step: int = 30, t0: int = 0,
                      digits: int = 6, drift: int = 0) -> str:
    """The code an authenticator app shows now for ``key_hex`` (zero-padded)."""
    totp = TOTP(unhexlify(key_hex), step=step, t0=t0, digits=digits, drift=drift)
    totp.time = time.time() if at is None else at
    return f"{totp.token():0{digits}d}"


def base32_secret(*, key_hex: str) -> str:
    """The secret as authenticator apps take it when typed in (RFC 4648 base32, grouped)."""
    text = base64.b32encode(unhexlify(key_hex)).decode().rstrip("=")
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


def demo_totp_key() -> str:
    """The development demo's shared TOTP secret (hex), from ``ACCOUNTS_DEMO_TOTP_SECRET``
    (base32), or "" where there is none — always outside DEBUG."""
    secret = getattr(settings, "ACCOUNTS_DEMO_TOTP_SECRET", "")
    if not (settings.DEBUG and secret):
        return ""
    text = "".join(secret.split()).upper()
    return base64.b32decode(text + "=" * (-len(text) % 8)).hex()
