"""A page's audience (who may read it): part of what the leader signs.

Wagtail restricts a page with view restrictions on it and on its ancestors; a reader must pass
every one. The audience is those restrictions as a canonical list, for the signed approval:
``[]`` is public; ``{"type": "password"}``, ``{"type": "login"}`` and
``{"type": "groups", "groups": [names…]}`` are restrictions. The shared password is not part
of it, nor a hash of it: a short shared password hashed into a register that auditors read
would be found by trying words, and a keyed hash nobody outside could check. Changing the
password of a protected page changes no signed audience (it is recorded in the security log).

Plain functions without a database: how restrictions compare, which apply at a tree path.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

PASSWORD = "password"
LOGIN = "login"
GROUPS = "groups"
STEPLEN = 4  # Wagtail's treebeard path step

SAME = "same"
NARROWER = "narrower"
LOOSER = "looser"  # or not comparable: someone may read who could not before


@dataclass(frozen=True, order=True, kw_only=True)
class Rule:
    """One restriction: its type and, for ``groups``, the names of the groups let in."""
    kind: str
    groups: tuple[str, ...] = ()

    @classmethod
    def of(cls, *, kind: str, groups: Iterable[str] = ()) -> "Rule":
        return cls(kind=kind, groups=tuple(sorted(set(groups))) if kind == GROUPS else ())


def describe(rules: Iterable[Rule]) -> list[dict]:
    """The canonical audience of a set of restrictions (``[]``: public)."""
    return [{"type": rule.kind, **({"groups": list(rule.groups)} if rule.kind == GROUPS else {})}
            for rule in sorted(set(rules))]


def rules_of(audience: Iterable[Mapping]) -> list[Rule]:
    """The rules of a described audience (as signed)."""
    return [Rule.of(kind=item["type"], groups=item.get("groups", ())) for item in audience]


def implies(new: Rule, old: Rule) -> bool:
    """Whoever passes ``new`` also passes ``old``."""
    if old.kind == PASSWORD:
        return new.kind == PASSWORD
    if old.kind == LOGIN:
        return new.kind in (LOGIN, GROUPS)  # groups admit logged-in users only
    if old.kind == GROUPS:
        return new.kind == GROUPS and set(new.groups) <= set(old.groups)
    return True


def narrower_or_equal(*, new: Iterable[Rule], old: Iterable[Rule]) -> bool:
    """Every reader the ``new`` restrictions admit was admitted by the ``old`` ones."""
    new = list(new)
    return all(any(implies(rule, required) for rule in new) for required in old)


def change(*, old: Iterable[Rule], new: Iterable[Rule]) -> str:
    """``SAME``, ``NARROWER`` (fewer readers) or ``LOOSER`` (anyone new may read)."""
    old, new = list(old), list(new)
    if describe(old) == describe(new):
        return SAME
    return NARROWER if narrower_or_equal(new=new, old=old) else LOOSER


def ancestor_paths(path: str, *, steplen: int = STEPLEN) -> list[str]:
    """The tree paths of a page and its ancestors."""
    return [path[:end] for end in range(steplen, len(path) + 1, steplen)]


def effective_rules(path: str, rules_by_path: Mapping[str, Iterable[Rule]]) -> list[Rule]:
    """The restrictions that apply at tree ``path``: on the page and every ancestor."""
    return [rule for prefix in ancestor_paths(path) for rule in rules_by_path.get(prefix, ())]
