"""Password rules (等保 8.1.4.1): complexity, not like the username, no reuse of the last
five, expiry of staff passwords, and a change forced when someone else set the password.

The rules are plain functions; Django's password validators (AUTH_PASSWORD_VALIDATORS) wrap
them, so every form that sets a password (Wagtail's account page and user forms, Django's
password reset) applies them. Django calls each validator's ``password_changed`` after a
``set_password()`` has been saved: that is where the history is kept, whoever changed it.
Who changed it is known only to the view that did it, which says so by calling
``password_set_by_self`` or ``password_set_by_administrator``.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from review.register.security import client_address, record_security_event

# The character classes, with the Chinese name used in messages.
LOWER, UPPER, DIGIT, SYMBOL = "lower", "upper", "digit", "symbol"
CLASS_NAMES = {LOWER: "小写字母", UPPER: "大写字母", DIGIT: "数字", SYMBOL: "符号"}


def character_class(char: str) -> str:
    if char.isdigit():
        return DIGIT
    if char.isupper():
        return UPPER
    if char.islower():
        return LOWER
    return SYMBOL  # punctuation, spaces and letters without case (汉字) alike


def character_classes(password: str) -> set[str]:
    return {character_class(char) for char in password}


def complexity_errors(password: str, *, min_length: int, min_classes: int) -> list[str]:
    """What ``password`` lacks, in Chinese (empty when it is complex enough)."""
    errors = []
    if len(password) < min_length:
        errors.append(f"密码太短：至少 {min_length} 个字符（现在 {len(password)} 个）。")
    classes = character_classes(password)
    if len(classes) < min_classes:
        missing = "、".join(name for key, name in CLASS_NAMES.items() if key not in classes)
        errors.append(f"密码须包含小写字母、大写字母、数字、符号中的至少 {min_classes} 类"
                      f"（现在 {len(classes)} 类，可以加上{missing}）。")
    return errors


def contains_username(*, password: str, username: str, min_length: int = 3) -> bool:
    """Whether the password contains the username (or it backwards), ignoring case; names
    shorter than ``min_length`` are too common a substring to judge by."""
    name = username.casefold().strip()
    if len(name) < min_length:
        return False
    folded = password.casefold()
    return name in folded or name[::-1] in folded


def days_until_expiry(*, changed_at: datetime, now: datetime, max_age_days: int) -> int:
    """Days left, rounded up, before a password set at ``changed_at`` expires (0 or less:
    it has expired)."""
    left = changed_at + timedelta(days=max_age_days) - now
    return math.ceil(left / timedelta(days=1))


@dataclass(frozen=True)
class PasswordStatus:
    """Where a user's password stands: must it be changed now (and why), or soon."""

    must_change: bool
    reason: str  # "", "set_by_other", "expired"
    days_left: int | None  # None: passwords of this user do not expire

    @property
    def warn(self) -> bool:
        return (not self.must_change and self.days_left is not None
                and self.days_left <= settings.ACCOUNTS_PASSWORD_WARN_DAYS)


def password_status(*, must_change_password: bool, changed_at: datetime | None,
                    joined_at: datetime, now: datetime, max_age_days: int | None) -> PasswordStatus:
    """The policy, decided from the account's state: a password someone else set must be
    changed; a password older than ``max_age_days`` (counted from the account's creation when
    no change was recorded) has expired."""
    days_left = None
    if max_age_days:
        days_left = days_until_expiry(changed_at=changed_at or joined_at, now=now,
                                      max_age_days=max_age_days)
    if must_change_password:
        return PasswordStatus(must_change=True, reason="set_by_other", days_left=days_left)
    if days_left is not None and days_left <= 0:
        return PasswordStatus(must_change=True, reason="expired", days_left=days_left)
    return PasswordStatus(must_change=False, reason="", days_left=days_left)


REASON_MESSAGES = {
    "set_by_other": "您的密码是由管理员设置的（新建账号或重置密码）。为了账号安全，请先修改为只有"
                    "您自己知道的新密码，再继续使用管理后台。",
    "expired": "您的密码已超过 {days} 天未修改，已经过期。请先修改密码，再继续使用管理后台。",
}


def reason_message(reason: str) -> str:
    return REASON_MESSAGES[reason].format(days=settings.ACCOUNTS_PASSWORD_MAX_AGE_DAYS)


# Django's password validators -------------------------------------------------------------


class ComplexityValidator:
    """At least ``min_length`` characters of at least ``min_classes`` of the four classes."""

    def __init__(self, min_length: int = 10, min_classes: int = 3):
        self.min_length, self.min_classes = min_length, min_classes

    def validate(self, password, user=None):
        errors = complexity_errors(password, min_length=self.min_length,
                                   min_classes=self.min_classes)
        if errors:
            raise ValidationError(errors, code="password_not_complex")

    def get_help_text(self):
        return (f"密码至少 {self.min_length} 个字符，包含小写字母、大写字母、数字、符号中的"
                f"至少 {self.min_classes} 类。")


class UsernameValidator:
    """The password does not contain the username (Django's UserAttributeSimilarityValidator
    catches passwords merely like it)."""

    def validate(self, password, user=None):
        username = user.get_username() if user is not None else ""
        if username and contains_username(password=password, username=username):
            raise ValidationError("密码不能包含用户名。", code="password_contains_username")

    def get_help_text(self):
        return "密码不能包含用户名。"


class HistoryValidator:
    """No reuse of the last ``count`` passwords; keeps their hashes when a password changes."""

    def __init__(self, count: int | None = None):
        self.count = count or settings.ACCOUNTS_PASSWORD_HISTORY_COUNT

    def validate(self, password, user=None):
        if user is None or not user.pk:
            return
        from cms.accounts.models import PasswordHistory

        hashes = list(PasswordHistory.objects.filter(user=user)
                      .values_list("password", flat=True)[:self.count])
        # The current one too: a password set without set_password() has no history row.
        if user.has_usable_password():
            hashes.append(user.password)
        if any(check_password(password, encoded) for encoded in hashes):
            raise ValidationError(f"新密码不能与最近 {self.count} 次使用过的密码相同。",
                                  code="password_reused")

    def password_changed(self, password, user=None):
        if user is not None and user.pk:
            remember_password(user=user, keep=self.count)

    def get_help_text(self):
        return f"不能使用最近 {self.count} 次用过的密码。"


# Recording changes -------------------------------------------------------------------------


@transaction.atomic
def remember_password(*, user, keep: int) -> None:
    """A password was saved for ``user``: keep its hash (and only the last ``keep``), note
    when, and lift a forced change (a view that set it for someone else marks it again)."""
    from cms.accounts.models import AccountState, PasswordHistory

    history = PasswordHistory.objects.filter(user=user)
    if history.values_list("password", flat=True).first() != user.password:
        PasswordHistory.objects.create(user=user, password=user.password)
    PasswordHistory.objects.filter(pk__in=list(history.values_list("pk", flat=True)[keep:])) \
        .delete()
    AccountState.objects.update_or_create(user=user, defaults={
        "password_changed_at": timezone.now(), "must_change_password": False})


def on_user_created(sender, instance, created, raw, **kwargs) -> None:
    """A new account's first password (``create_user`` assigns the hash without the
    ``set_password`` that would tell the validators) is the first of its history."""
    if created and not raw and instance.has_usable_password():
        remember_password(user=instance, keep=settings.ACCOUNTS_PASSWORD_HISTORY_COUNT)


def password_set_by_self(*, user, request, via: str) -> None:
    """``user`` changed their own password (in the request, ``via`` the account page, the
    user form or an e-mailed link): nothing more to force."""
    from cms.accounts.models import AccountState

    AccountState.objects.update_or_create(user=user, defaults={"must_change_password": False})
    record_security_event(event="password_changed", actor=user,
                          subject=f"user:{user.get_username()}", address=client_address(request),
                          data={"via": via})


def password_set_by_administrator(*, user, actor, request, created: bool) -> None:
    """``actor`` set ``user``'s password (a new account, or a reset): only its holder should
    know it, so the holder must change it at their next request to the admin."""
    if actor.pk == user.pk:
        password_set_by_self(user=user, request=request, via="user_form")
        return
    from cms.accounts.models import AccountState

    AccountState.objects.update_or_create(user=user, defaults={"must_change_password": True})
    record_security_event(event="password_reset", actor=actor,
                          subject=f"user:{user.get_username()}", address=client_address(request),
                          data={"new_account": created})


def status_of(user, *, now: datetime | None = None) -> PasswordStatus:
    from cms.accounts.models import AccountState

    state = AccountState.objects.filter(user=user).first()
    return password_status(
        must_change_password=bool(state and state.must_change_password),
        changed_at=state.password_changed_at if state else None, joined_at=user.date_joined,
        now=now or timezone.now(), max_age_days=settings.ACCOUNTS_PASSWORD_MAX_AGE_DAYS)
