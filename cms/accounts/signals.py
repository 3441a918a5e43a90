"""Security events (安全审计日志) for logins and API tokens, from Django's and axes' signals
and API tokens' saves, wherever they happen (the admin's login, another login form, the
``api_tokens`` command, the admin's API token views). Passwords and tokens never reach the
log: only the attempted name, and a token's display prefix."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete, post_save, pre_save

from review.context import current_actor, current_request
from review.register.models import SecurityEvent
from review.register.security import client_address, record_security_event

FAILURE = SecurityEvent.Outcome.FAILURE


def logged_in(sender, *, request, user, **kwargs) -> None:
    record_security_event(event="login", actor=user, subject=f"user:{user.get_username()}",
                          address=client_address(request))


def logged_out(sender, *, request, user, **kwargs) -> None:
    if user is None:  # nobody was logged in
        return
    record_security_event(event="logout", actor=user, subject=f"user:{user.get_username()}",
                          address=client_address(request))


def login_failed(sender, *, credentials, request=None, **kwargs) -> None:
    """A wrong password, an unknown name, or a login refused because of a lockout (axes'
    backend refused it before any password was checked: it set ``axes_locked_out`` without
    counting the attempt)."""
    username = str(credentials.get(get_user_model().USERNAME_FIELD)
                   or credentials.get("username") or "")[:150]
    refused = (getattr(request, "axes_locked_out", False)
               and getattr(request, "axes_failures_since_start", None) is None)
    record_security_event(event="login_failed", outcome=FAILURE, actor_name=username,
                          subject=f"user:{username}", address=client_address(request),
                          data={"locked_out": True} if refused else None)


def locked_out(sender, *, request, username=None, **kwargs) -> None:
    """Axes says so both when a failure reaches the limit and when it refuses an attempt on
    a lock already in force; only the first is a lockout (axes counted this failure)."""
    if getattr(request, "axes_failures_since_start", None) is None:
        return
    from cms.accounts.lockout import record_lockout

    record_lockout(request=request, username=username)


def _token_subject(token) -> str:
    return f"token:{token.prefix}"


def _token_data(token) -> dict:
    User = get_user_model()
    owner = User._default_manager.filter(pk=token.user_id).values_list(
        User.USERNAME_FIELD, flat=True).first()
    return {"id": token.pk, "name": token.name, "owner": owner or ""}


def token_saving(sender, *, instance, **kwargs) -> None:
    instance._accounts_was_revoked = instance.pk is not None and sender.objects.filter(
        pk=instance.pk, revoked_at__isnull=False).exists()


def token_saved(sender, *, instance, created, **kwargs) -> None:
    if created:
        event = "token_created"
    elif instance.revoked_at is not None and not instance._accounts_was_revoked:
        event = "token_revoked"
    else:  # renamed, or used (last_used_at)
        return
    record_security_event(event=event, actor_name=current_actor(),
                          subject=_token_subject(instance),
                          address=client_address(current_request()),
                          data=_token_data(instance))


def token_deleted(sender, *, instance, **kwargs) -> None:
    """A token deleted with its row (with its owner's account, say) stops working too."""
    if instance.revoked_at is not None:
        return
    record_security_event(event="token_revoked", actor_name=current_actor(),
                          subject=_token_subject(instance),
                          address=client_address(current_request()),
                          data={**_token_data(instance), "deleted": True})


def connect() -> None:
    """Before axes' own receivers (its signals module connects them when imported), so a
    failure is logged before the lockout it causes."""
    from wagtail.models import APIToken

    user_logged_in.connect(logged_in, dispatch_uid="accounts_login")
    user_logged_out.connect(logged_out, dispatch_uid="accounts_logout")
    user_login_failed.connect(login_failed, dispatch_uid="accounts_login_failed")
    pre_save.connect(token_saving, sender=APIToken, dispatch_uid="accounts_token_saving")
    post_save.connect(token_saved, sender=APIToken, dispatch_uid="accounts_token_saved")
    post_delete.connect(token_deleted, sender=APIToken, dispatch_uid="accounts_token_deleted")

    from axes.signals import user_locked_out

    user_locked_out.connect(locked_out, dispatch_uid="accounts_lockout")
