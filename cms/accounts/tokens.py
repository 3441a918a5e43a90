"""API tokens act with their owner's identity: a token made for someone else would let its
maker act as them (a school administrator as the leader, a maintainer as anyone). Nobody
creates a token for another user, whatever view or API path they use."""

from django.core.exceptions import PermissionDenied

from review.context import current_user


def refuse_tokens_for_others(sender, instance, *, raw=False, **kwargs) -> None:
    """``pre_save`` on ``wagtail.models.APIToken``."""
    if raw or not instance._state.adding:
        return
    actor = current_user()
    if actor is not None and actor.pk != instance.user_id:
        raise PermissionDenied("只能为自己创建 API 令牌：令牌代表持有人本人的身份。")
