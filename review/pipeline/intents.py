"""What an action tells the guard about the save it is about to make, and what the guard
decided: plain frozen records, carried by the object being saved.

Wagtail's own actions (publish, unpublish) call ``save()``, whose signals carry nothing but the
instance. An action of ours that knows more — why content is taken down, who ordered it, which
register entry a restoration puts back — hands it to the guard on that instance
(``declare``), as an argument of the save rather than ambient state. The guard takes the
intent in ``pre_save``, decides, and hands one ``Decision`` to its ``post_save``.
"""

from dataclasses import dataclass

INTENT_ATTR = "_review_intent"
DECISION_ATTR = "_review_decision"


@dataclass(frozen=True, kw_only=True)
class Takedown:
    """Taking content down: why, by whom, and (for a takedown a signed publication ordered,
    such as a column's approved removal) that publication's register entry."""
    reason: str
    operator: str | None = None
    authorised_by_seq: int | None = None


@dataclass(frozen=True, kw_only=True)
class Restoration:
    """Putting back exactly the revision register entry ``seq`` says is live (check-live)."""
    seq: int
    reason: str
    operator: str | None = None


Intent = Takedown | Restoration


@dataclass(frozen=True, kw_only=True)
class Decision:
    """What ``guard_pre_save`` let through, for ``register_post_save`` to register.

    ``kind`` is a register entry kind; ``approval`` the signed approval a publication uses;
    ``restores`` the register entry a restoration puts back; ``revision_id`` the revision a
    takedown took offline (None for content put online by SQL, without a revision)."""
    kind: str
    intent: Intent | None = None
    approval: object | None = None
    restores: object | None = None
    revision_id: int | None = None


def declare(obj, intent: Intent) -> None:
    """Tell the guard what the next save of ``obj`` is (read once, by that save)."""
    setattr(obj, INTENT_ATTR, intent)


def take_intent(obj) -> Intent | None:
    return obj.__dict__.pop(INTENT_ATTR, None)


def hand_over(obj, decision: Decision) -> None:
    setattr(obj, DECISION_ATTR, decision)


def take_decision(obj) -> Decision | None:
    return obj.__dict__.pop(DECISION_ATTR, None)


def operator_of(intent: Intent | None) -> str | None:
    return getattr(intent, "operator", None)
