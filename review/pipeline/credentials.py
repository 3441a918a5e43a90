"""Signing credentials follow their owner's password: a password someone else set (an
account administrator's reset, a maintainer's script, a reset link) revokes them."""

from django.contrib.auth import get_user_model

from review.context import current_address, current_user
from review.pipeline.actions import RevokeAfterPasswordResetAction


def password_set_by_other(*, owner_pk: int | None, actor_pk: int | None) -> bool:
    return actor_pk is None or actor_pk != owner_pk


def revoke_on_password_reset(sender, instance, *, update_fields=None, raw=False, **kwargs):
    """``pre_save`` on the user model: thin, calls the action when the password changes."""
    if raw or instance.pk is None or instance._state.adding:
        return
    # Django re-hashes a password with newer parameters as its owner logs in, saving only
    # that field from check_password's setter: the same password, nothing to revoke.
    if update_fields is not None and frozenset(update_fields) == {"password"}:
        return
    stored = (get_user_model()._default_manager.filter(pk=instance.pk)
              .values_list("password", flat=True).first())
    if stored is None or stored == instance.password:
        return
    actor = current_user()
    if password_set_by_other(owner_pk=instance.pk, actor_pk=getattr(actor, "pk", None)):
        RevokeAfterPasswordResetAction(instance, user=actor,
                                       address=current_address()).execute()
