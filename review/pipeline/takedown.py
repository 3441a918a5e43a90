"""Emergency takedown (紧急撤稿): any administrator may take content down at once, with a
reason; it is registered as a takedown, the leaders are told, and a leader acknowledges it."""

import contextlib
import contextvars

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from review.context import acting_as
from review.pipeline.records import TakedownAcknowledgement
from review.pipeline.tasks import LeaderApprovalTask
from review.register.entries import describe_object, iso_utc, object_of
from review.register.models import RegisterEntry

User = get_user_model()
NO_REASON = "（未经紧急撤稿表单，未填写原因）"
_reason: contextvars.ContextVar[str | None] = contextvars.ContextVar("takedown_reason",
                                                                     default=None)
_authorised_by: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "takedown_authorised_by", default=None)


@contextlib.contextmanager
def takedown_reason(reason: str):
    token = _reason.set(reason)
    try:
        yield
    finally:
        _reason.reset(token)


@contextlib.contextmanager
def authorised_takedown(*, reason: str, publication_seq: int):
    """Takedowns ordered by a signed publication (a column's approved removal): they name
    that register entry and need no leader's acknowledgement afterwards."""
    token = _authorised_by.set(publication_seq)
    try:
        with takedown_reason(reason):
            yield
    finally:
        _authorised_by.reset(token)


def takedown_record(obj, *, revision_id, operator: str) -> dict:
    """The register's ``approval`` field of a takedown entry: what was taken down and why."""
    record = {
        "action": "takedown",
        **describe_object(obj),
        "revision_id": revision_id,
        "reason": _reason.get() or NO_REASON,
        "operator": operator,
        "taken_down_at": iso_utc(timezone.now()),
    }
    if (seq := _authorised_by.get()) is not None:
        record["authorised_by_seq"] = seq
    return record


def needs_acknowledgement(entry: RegisterEntry) -> bool:
    return (entry.kind == RegisterEntry.Kind.TAKEDOWN
            and "authorised_by_seq" not in (entry.entry.get("approval") or {}))


@transaction.atomic
def take_down(obj, *, user, reason: str) -> None:
    reason = reason.strip()
    if not reason:
        raise ValueError("紧急撤稿必须填写原因。")
    with takedown_reason(reason), acting_as(user):
        obj.unpublish(user=user)


def leaders_of(obj):
    """The members of the leader-approval groups of the object's workflow."""
    workflow = obj.get_workflow() if hasattr(obj, "get_workflow") else None
    if workflow is None:
        return User.objects.none()
    tasks = LeaderApprovalTask.objects.filter(workflow_tasks__workflow=workflow)
    return User.objects.filter(groups__leaderapprovaltask__in=tasks, is_active=True).distinct()


def unacknowledged_for(user) -> list[RegisterEntry]:
    """Takedowns in workflows where ``user`` is a leader that no leader has acknowledged."""
    entries = (RegisterEntry.objects.filter(kind=RegisterEntry.Kind.TAKEDOWN,
                                            acknowledgement__isnull=True)
               .select_related("content_type").order_by("-seq"))
    mine = []
    for entry in entries[:200]:
        if needs_acknowledgement(entry) and leaders_of(object_of(entry)).filter(
                pk=user.pk).exists():
            mine.append(entry)
    return mine


def acknowledge(entry: RegisterEntry, *, user, note: str = "") -> TakedownAcknowledgement:
    if entry.kind != RegisterEntry.Kind.TAKEDOWN or not leaders_of(object_of(entry)).filter(
            pk=user.pk).exists():
        raise PermissionError("只有该网站的领导可以确认撤稿。")
    return TakedownAcknowledgement.objects.create(entry=entry, leader=user, note=note)
