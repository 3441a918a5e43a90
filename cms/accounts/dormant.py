"""Dormant accounts (等保 8.1.4.2): accounts nobody has logged into for 90 days are
deactivated, with a report. Safe to run twice: only active accounts are looked at."""

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from cms.accounts.sessions import note_activation_change
from review.register.security import record_security_event


@dataclass(frozen=True)
class DormantAccount:
    user_id: int
    username: str
    name: str
    groups: tuple[str, ...]
    last_login: datetime | None
    days: int


def dormant_since(*, last_login: datetime | None, date_joined: datetime,
                  reactivated_at: datetime | None) -> datetime:
    """Since when an account has not been used: its last login (its creation if it never
    logged in), or its reactivation if that came later (a reactivated account gets a new
    period of grace)."""
    since = last_login or date_joined
    return max(since, reactivated_at) if reactivated_at else since


def idle_days(*, since: datetime, now: datetime) -> int:
    return (now - since).days


def find_dormant(*, days: int, now: datetime) -> list[DormantAccount]:
    """Active accounts without a login for at least ``days`` days, longest idle first."""
    User = get_user_model()
    found = []
    users = (User._default_manager.filter(is_active=True)
             .select_related("account_state").prefetch_related("groups").order_by("username"))
    for user in users:
        state = getattr(user, "account_state", None)
        since = dormant_since(last_login=user.last_login, date_joined=user.date_joined,
                              reactivated_at=state.reactivated_at if state else None)
        idle = idle_days(since=since, now=now)
        if idle >= days:
            found.append(DormantAccount(
                user_id=user.pk, username=user.get_username(),
                name=user.get_full_name().strip(),
                groups=tuple(sorted(group.name for group in user.groups.all())),
                last_login=user.last_login, days=idle))
    return sorted(found, key=lambda account: (-account.days, account.username))


@transaction.atomic
def deactivate(account: DormantAccount, *, days: int) -> bool:
    """Deactivate one dormant account (ending its sessions) and log it; False if it was no
    longer active."""
    User = get_user_model()
    user = User._default_manager.select_for_update().filter(pk=account.user_id,
                                                            is_active=True).first()
    if user is None:
        return False
    # An update, not a save: this event, with the reason, is the one the log keeps (a save
    # would add cms.accounts.audit's plain one).
    User._default_manager.filter(pk=user.pk).update(is_active=False)
    note_activation_change(user_ids=[user.pk], active=False)
    record_security_event(
        event="account_deactivated", actor_name="system", subject=f"user:{account.username}",
        data={"reason": "dormant", "idle_days": account.days, "threshold_days": days,
              "last_login": account.last_login.isoformat() if account.last_login else None})
    return True


def deactivate_dormant(*, days: int, dry_run: bool = False,
                       now: datetime | None = None) -> list[DormantAccount]:
    """Find the dormant accounts and (unless ``dry_run``) deactivate them; returns those
    found (in a dry run) or deactivated."""
    found = find_dormant(days=days, now=now or timezone.now())
    if dry_run:
        return found
    return [account for account in found if deactivate(account, days=days)]


# The report -------------------------------------------------------------------------------


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain-text table whose columns line up with Chinese text too."""
    widths = [max(display_width(cell) for cell in column)
              for column in zip(headers, *rows, strict=True)]

    def line(cells):
        return "  ".join(cell + " " * (width - display_width(cell))
                         for cell, width in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(headers), line(["-" * width for width in widths]),
                      *(line(row) for row in rows)])


REPORT_HEADERS = ["用户名", "姓名", "所属组", "最后登录", "未登录天数"]


def report_rows(accounts: list[DormantAccount]) -> list[list[str]]:
    return [[account.username, account.name or "-", "、".join(account.groups) or "-",
             timezone.localtime(account.last_login).strftime("%Y-%m-%d %H:%M")
             if account.last_login else "从未登录", str(account.days)]
            for account in accounts]
