"""Per-request context: who is acting (the register's ``published_by``), and why a
publication was refused, so the person sees the reason rather than a bare "no permission"."""

import contextlib
import contextvars

from django.contrib import messages
from django.db import transaction
from django.dispatch import receiver

from review.exceptions import Refused, refused

__all__ = ["ActorMiddleware", "Refused", "acting_as", "current_actor", "note_refusal"]

_actor: contextvars.ContextVar[str | None] = contextvars.ContextVar("review_actor", default=None)
_request: contextvars.ContextVar[object | None] = contextvars.ContextVar("review_request",
                                                                         default=None)
_refusal: contextvars.ContextVar[str | None] = contextvars.ContextVar("review_refusal",
                                                                     default=None)


def current_actor() -> str:
    """The explicit actor, else the request's user as authenticated by now (API v3 checks
    bearer tokens inside the view, after middleware), else "system"."""
    if (actor := _actor.get()) is not None:
        return actor
    user = getattr(_request.get(), "user", None)
    return user.get_username() if user is not None and user.is_authenticated else "system"


def note_refusal(reason: str) -> None:
    _refusal.set(reason)


@receiver(refused, dispatch_uid="review_note_refusal")
def _note_refusal(sender, *, reason: str, **kwargs) -> None:
    note_refusal(reason)


@contextlib.contextmanager
def acting_as(user):
    token = _actor.set(user.get_username() if user is not None and user.is_authenticated
                       else "system")
    try:
        yield
    finally:
        _actor.reset(token)


class ActorMiddleware:
    """Must come after MessageMiddleware, so the refusal message is stored with the response.

    A refusal changes nothing: the admin and the API turn PermissionDenied into a redirect or
    a 403 answer *inside* the view, so ATOMIC_REQUESTS would commit whatever the view wrote
    before the refusal (a converted alias, a saved revision). Each request therefore runs in
    one more transaction here, rolled back whenever something was refused.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refusal_token = _refusal.set(None)
        request_token = _request.set(request)
        try:
            with transaction.atomic():
                response = self.get_response(request)
                if _refusal.get():
                    transaction.set_rollback(True)
            reason = _refusal.get()
            if reason and hasattr(request, "_messages"):
                messages.error(request, reason)
            return response
        finally:
            _request.reset(request_token)
            _refusal.reset(refusal_token)
