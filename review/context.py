"""Who is acting, for the register's ``published_by``: the request's user, or a command's."""

import contextlib
import contextvars

_actor: contextvars.ContextVar[str] = contextvars.ContextVar("review_actor", default="system")


def current_actor() -> str:
    return _actor.get()


@contextlib.contextmanager
def acting_as(user):
    token = _actor.set(user.get_username() if user is not None and user.is_authenticated
                       else "system")
    try:
        yield
    finally:
        _actor.reset(token)


class ActorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with acting_as(getattr(request, "user", None)):
            return self.get_response(request)
