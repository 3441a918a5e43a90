"""Per-request context: who is acting (the register's ``published_by``), and why a
publication was refused, so the person sees the reason rather than a bare "no permission"."""

import contextlib
import contextvars

from django.contrib import messages

_actor: contextvars.ContextVar[str] = contextvars.ContextVar("review_actor", default="system")
_refusal: contextvars.ContextVar[str | None] = contextvars.ContextVar("review_refusal",
                                                                     default=None)


def current_actor() -> str:
    return _actor.get()


def note_refusal(reason: str) -> None:
    _refusal.set(reason)


@contextlib.contextmanager
def acting_as(user):
    token = _actor.set(user.get_username() if user is not None and user.is_authenticated
                       else "system")
    try:
        yield
    finally:
        _actor.reset(token)


class ActorMiddleware:
    """Must come after MessageMiddleware, so the refusal message is stored with the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refusal_token = _refusal.set(None)
        try:
            with acting_as(getattr(request, "user", None)):
                response = self.get_response(request)
            reason = _refusal.get()
            if reason and hasattr(request, "_messages"):
                messages.error(request, f"发布被拒绝：{reason}")
            return response
        finally:
            _refusal.reset(refusal_token)
