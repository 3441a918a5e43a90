"""Session limits (等保 8.1.4.1): an idle timeout, an absolute limit, and the end of all of a
user's sessions when their role or status changes.

A session records when its user logged in, when it was last used, and the user's *session
generation* at login. The generation (``AccountState.session_generation``) goes up when the
user's groups change or the account is deactivated, which ends every session begun before,
whichever backend keeps the sessions (database, cache, signed cookies). A password change
needs no generation: Django's session auth hash already ends the other sessions (and
``update_session_auth_hash`` keeps the one that changed it).

Only requests carrying a session cookie of an authenticated user are looked at: the public
site stays anonymous and cacheable.
"""

import time

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

LOGIN_AT = "accounts_login_at"
SEEN_AT = "accounts_seen_at"
GENERATION = "accounts_generation"
# A session's last use is written at most this often (a write per request would cost more).
SEEN_RESOLUTION_SECONDS = 60

# Why a session was ended, and what the person is told.
ENDED_MESSAGES = {
    "generation": "您的账号角色或状态已经变更，此前的登录已经失效，请重新登录。",
    "absolute": "您已连续登录超过 {hours} 小时，为了账号安全，请重新登录。",
    "idle": "您已超过 {minutes} 分钟没有操作，为了账号安全已自动退出，请重新登录。",
    "unknown": "您的登录已经失效，请重新登录。",
}


def session_end_reason(*, now: float, login_at: float | None, seen_at: float | None,
                       generation: int | None, current_generation: int, idle_seconds: float,
                       absolute_seconds: float) -> str:
    """Why a session must end now ("" if it may go on). Times are Unix timestamps."""
    if login_at is None or seen_at is None or generation is None:
        return "unknown"  # not begun by a login of this application (or from before it)
    if generation != current_generation:
        return "generation"
    if now - login_at >= absolute_seconds:
        return "absolute"
    if now - seen_at >= idle_seconds:
        return "idle"
    return ""


def ended_message(reason: str) -> str:
    return ENDED_MESSAGES[reason].format(hours=settings.ACCOUNTS_SESSION_ABSOLUTE_HOURS,
                                         minutes=settings.ACCOUNTS_SESSION_IDLE_MINUTES)


def current_generation(user_id: int) -> int:
    from cms.accounts.models import AccountState

    return AccountState.objects.filter(user_id=user_id).values_list(
        "session_generation", flat=True).first() or 0


@transaction.atomic
def end_sessions(*, user_ids) -> None:
    """End every session of these users (a new generation; the sessions find out at their next
    request)."""
    from cms.accounts.models import AccountState

    user_ids = sorted(set(user_ids))
    if not user_ids:
        return
    existing = set(AccountState.objects.filter(user_id__in=user_ids)
                   .values_list("user_id", flat=True))
    AccountState.objects.bulk_create([AccountState(user_id=pk) for pk in user_ids
                                      if pk not in existing], ignore_conflicts=True)
    AccountState.objects.filter(user_id__in=user_ids).update(
        session_generation=F("session_generation") + 1)


def note_activation_change(*, user_ids, active: bool) -> None:
    """A deactivated account's sessions end (they would revive on reactivation otherwise);
    a reactivated one starts its dormancy count afresh."""
    from cms.accounts.models import AccountState

    if not active:
        end_sessions(user_ids=user_ids)
        return
    for user_id in set(user_ids):
        AccountState.objects.update_or_create(user_id=user_id,
                                              defaults={"reactivated_at": timezone.now()})


# Signal receivers (thin: each calls one function above) -----------------------------------


def on_login(sender, request, user, **kwargs) -> None:
    session = getattr(request, "session", None)
    if session is None:
        return
    now = time.time()
    session[LOGIN_AT] = now
    session[SEEN_AT] = now
    session[GENERATION] = current_generation(user.pk)


def on_groups_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    if action in ("post_add", "post_remove"):
        if pk_set:
            end_sessions(user_ids=pk_set if reverse else [instance.pk])
    elif action == "pre_clear":
        if reverse:  # group.user_set.clear()
            end_sessions(user_ids=instance.user_set.values_list("pk", flat=True))
        elif instance.groups.exists():
            end_sessions(user_ids=[instance.pk])


def on_user_saving(sender, instance, raw, update_fields, **kwargs) -> None:
    if raw or instance.pk is None or (update_fields is not None
                                      and "is_active" not in update_fields):
        return
    was_active = sender._default_manager.filter(pk=instance.pk).values_list(
        "is_active", flat=True).first()
    if was_active is not None and was_active != instance.is_active:
        note_activation_change(user_ids=[instance.pk], active=instance.is_active)


def after_bulk_action(request, action_type, objects, action) -> None:
    """Wagtail's bulk "set active state" updates the rows without saving each user."""
    if action_type == "set_active_state" and hasattr(action, "cleaned_form"):
        note_activation_change(user_ids=[user.pk for user in objects],
                               active=bool(action.cleaned_form.cleaned_data["mark_as_active"]))
