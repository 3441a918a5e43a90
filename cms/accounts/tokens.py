"""API tokens act with their owner's identity: a token made for someone else would let its
maker act as them (a school administrator as the leader, a maintainer as anyone). Nobody
creates a token for another user, whatever view or API path they use."""

from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.utils import timezone
from wagtail.models import APIToken

from cms.sqlite import is_busy, without_waiting
from review.context import current_user


def refuse_tokens_for_others(sender, instance, *, raw=False, **kwargs) -> None:
    """``pre_save`` on ``wagtail.models.APIToken``."""
    if raw or not instance._state.adding:
        return
    actor = current_user()
    if actor is not None and actor.pk != instance.user_id:
        raise PermissionDenied("只能为自己创建 API 令牌：令牌代表持有人本人的身份。")


def token_use_is_due(*, last_used_at: datetime | None, now: datetime, interval: int) -> bool:
    """Whether a use at ``now`` is worth recording: the first one, or ``interval`` seconds
    after the one recorded."""
    return last_used_at is None or (now - last_used_at).total_seconds() >= interval


class TokenUsageMiddleware:
    """Records when an API v3 token was last used (shown in the admin's token list), after
    the answer, in a statement of its own.

    Wagtail's authentication would write it inside the request's transaction: on SQLite a
    reading request then has to become a writer, which a long write elsewhere (a large body
    being created) holds up for its whole length. Here the time is recorded at most once a
    minute (``CMS_API_TOKEN_LAST_USED_INTERVAL``), and skipped while the database is busy:
    the next use records it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        token = getattr(request, "auth", None)
        if isinstance(token, APIToken):
            record_token_use(token=token)
        return response


def record_token_use(*, token: APIToken) -> None:
    now = timezone.now()
    if not token_use_is_due(last_used_at=token.last_used_at, now=now,
                            interval=settings.CMS_API_TOKEN_LAST_USED_INTERVAL):
        return
    try:
        with without_waiting():
            APIToken.objects.filter(pk=token.pk).update(last_used_at=now)
    except OperationalError as error:
        if not is_busy(error):
            raise
