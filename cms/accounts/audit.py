"""Account changes into the security audit log: creation, deactivation, deletion, and every
grant or revocation of a role (group) or of superuser status — whichever path made it (the
user views, bulk actions, the group's member list, the shell). Receivers are thin: each
records one event with the acting user Wagtail's log context names."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from review.context import current_address, current_user
from review.register.security import record_security_event

IDENTITY_FIELDS = ("username", "email", "first_name", "last_name")


def _record(event: str, *, subject_user, data: dict | None = None) -> None:
    record_security_event(event=event, actor=current_user(), actor_name="system",
                          subject=f"user:{subject_user.get_username()}",
                          address=current_address(), data=data)


def _role_data(group: Group) -> dict:
    role = getattr(group, "organisation_role", None)
    return {"group": group.name, "role": role.role if role else "",
            "organisation_id": role.home_page_id if role else None}


def on_user_pre_save(sender, instance, *, raw=False, update_fields=None, **kwargs) -> None:
    if raw or instance.pk is None or instance._state.adding:
        return
    if update_fields is not None and not set(update_fields) & {"is_active", "is_superuser",
                                                               *IDENTITY_FIELDS}:
        return  # e.g. last_login, saved at every login
    before = (sender._default_manager.filter(pk=instance.pk)
              .values("is_active", "is_superuser", *IDENTITY_FIELDS).first())
    if before is None:
        return
    # A changed e-mail address decides where the next password-reset link goes.
    changed = sorted(f for f in IDENTITY_FIELDS if before[f] != getattr(instance, f))
    if changed:
        _record("account_changed", subject_user=instance,
                data={f: {"from": before[f], "to": getattr(instance, f)} for f in changed})
    if before["is_active"] and not instance.is_active:
        _record("account_deactivated", subject_user=instance)
    if before["is_superuser"] != instance.is_superuser:
        _record("role_granted" if instance.is_superuser else "role_revoked",
                subject_user=instance, data={"role": "superuser"})


def on_user_post_save(sender, instance, *, created=False, raw=False, **kwargs) -> None:
    if created and not raw:
        _record("account_created", subject_user=instance,
                data={"superuser": instance.is_superuser})


def on_user_post_delete(sender, instance, **kwargs) -> None:
    _record("account_deleted", subject_user=instance)


def on_groups_changed(sender, instance, *, action: str, reverse: bool, pk_set, **kwargs) -> None:
    """``m2m_changed`` on ``User.groups``, from either side (``user.groups.add`` or, as the
    bulk "assign role" action does, ``group.user_set.add``)."""
    if action not in ("post_add", "post_remove") or not pk_set:
        return
    event = "role_granted" if action == "post_add" else "role_revoked"
    User = get_user_model()
    if reverse:  # instance is a Group, pk_set users
        pairs = [(user, instance) for user in User._default_manager.filter(pk__in=pk_set)]
    else:
        pairs = [(instance, group) for group in Group.objects.filter(pk__in=pk_set)]
    for user, group in pairs:
        _record(event, subject_user=user, data=_role_data(group))


def after_bulk_action(request, action_type, objects, action) -> None:
    """Wagtail's bulk "set active state" updates the rows without saving each user."""
    if action_type != "set_active_state" or not hasattr(action, "cleaned_form"):
        return
    if not action.cleaned_form.cleaned_data["mark_as_active"]:
        for user in objects:
            _record("account_deactivated", subject_user=user)
