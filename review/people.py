"""People as records show them: their name, with the login name where the name alone is
ambiguous (two accounts share it) or missing. What is signed keeps login names; only what
people read changes."""

from collections.abc import Iterable

from django.contrib.auth import get_user_model


def full_name(*, first_name: str, last_name: str) -> str:
    # Chinese order: family name first, no space.
    return f"{last_name or ''}{first_name or ''}".strip()


def display_name(user, *, nobody: str = "系统") -> str:
    """``user``'s name for people to read, or ``nobody`` for no user (the system)."""
    if user is None:
        return nobody
    return display_names(usernames=[user.get_username()]).get(user.get_username(),
                                                               user.get_username())


def display_names(*, usernames: Iterable[str | None]) -> dict[str, str]:
    """``username → name`` for the accounts that exist: "张老师", or "张老师（zhang2）" when
    another account has the same name; the username itself when the account has no name or
    no longer exists."""
    wanted = {name for name in usernames if name}
    User = get_user_model()
    field = User.USERNAME_FIELD
    people = {name: name for name in wanted}
    rows = list(User.objects.filter(**{f"{field}__in": wanted})
                .values_list(field, "first_name", "last_name"))
    names = {username: full_name(first_name=first, last_name=last)
             for username, first, last in rows}
    shared = _names_in_use_twice({name for name in names.values() if name})
    for username, name in names.items():
        if name:
            people[username] = f"{name}（{username}）" if name in shared else name
    return people


def _names_in_use_twice(names: set[str]) -> set[str]:
    if not names:
        return set()
    User = get_user_model()
    seen: dict[str, int] = {}
    for first, last in User.objects.filter(first_name__in=_first_names(names)) \
            .values_list("first_name", "last_name"):
        name = full_name(first_name=first, last_name=last)
        seen[name] = seen.get(name, 0) + 1
    return {name for name, count in seen.items() if count > 1 and name in names}


def _first_names(names: set[str]) -> set[str]:
    # A name is stored whole in first_name (the demo, most schools) or split in two; both
    # candidates are looked up, the comparison is on the joined name.
    candidates = set(names)
    for name in names:
        candidates.update(name[i:] for i in range(1, len(name)))
    return candidates
