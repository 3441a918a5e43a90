"""Per-request context: who is acting (the register's ``published_by``), and why a
publication was refused, so the person sees the reason rather than a bare "no permission".

Who acts is read where Wagtail itself keeps it, its log context. Two context variables of our
own remain, both set only by ``ActorMiddleware`` for the length of one request: the request
(API v3 authenticates a bearer token inside the view, after Wagtail's log context is set, and
publishes and unpublishes through signals that carry no user), and
the refusal (Wagtail's views turn a refusal into a redirect or a 403 inside the view, so the
middleware learns of it only this way, to roll the request back and say why). Parameters of
our own actions travel as arguments (review.pipeline.intents), not through these."""

import contextvars

from django.contrib import messages
from django.db import transaction
from django.dispatch import receiver
from wagtail.log_actions import get_active_log_context

from review.exceptions import Refused, refused

__all__ = ["ActorMiddleware", "Refused", "current_actor", "current_address", "current_request",
           "current_user", "note_refusal"]

_request: contextvars.ContextVar[object | None] = contextvars.ContextVar("review_request",
                                                                         default=None)
_refusal: contextvars.ContextVar[str | None] = contextvars.ContextVar("review_refusal",
                                                                     default=None)


def current_user():
    """Who is acting: the user of Wagtail's active log context (its admin views, and the
    workflow's finishing action, name the acting user there), else the request's user as
    authenticated by now (API v3 checks bearer tokens inside the view, after middleware),
    else None (the system: commands, scripts, the scheduler)."""
    for user in (get_active_log_context().user, getattr(_request.get(), "user", None)):
        if user is not None and user.is_authenticated:
            return user
    return None


def current_address() -> str:
    request = _request.get()
    return (request.META.get("REMOTE_ADDR") or "")[:64] if request is not None else ""


def current_actor() -> str:
    """The acting user's name (``current_user``), or "system"."""
    user = current_user()
    return user.get_username() if user is not None else "system"


def current_request():
    """The request being served (set by ``ActorMiddleware``), or None outside one: for the
    client's address where only a signal tells what happened (API tokens' saves)."""
    return _request.get()


def note_refusal(reason: str) -> None:
    _refusal.set(reason)


@receiver(refused, dispatch_uid="review_note_refusal")
def _note_refusal(sender, *, reason: str, **kwargs) -> None:
    note_refusal(reason)


def _record_refusal(request, *, reason: str) -> None:
    """A refused attempt goes into the security log (等保: failed operations are audited),
    after the rollback of what it tried, so the record itself is kept."""
    from review.register.security import record_security_event  # models: not at import

    user = getattr(request, "user", None)
    record_security_event(
        event="action_refused", outcome="failure",
        actor=user if user is not None and user.is_authenticated else None,
        address=current_address(), subject=request.path[:255],
        data={"method": request.method, "reason": reason})


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
            if reason:
                _record_refusal(request, reason=reason)
                if hasattr(request, "_messages"):
                    messages.error(request, reason)
            return response
        finally:
            _request.reset(request_token)
            _refusal.reset(refusal_token)
