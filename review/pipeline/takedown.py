"""Emergency takedown (紧急撤稿): any administrator may take content down at once, with a
reason; it is registered as a takedown, the leaders are told, and a leader acknowledges it.
The state changes themselves are actions (review.pipeline.actions); this module holds what
they and the guard share."""

from django.contrib.auth import get_user_model
from django.utils import timezone

from review.pipeline.intents import Takedown
from review.pipeline.tasks import LeaderApprovalTask
from review.register.entries import describe_object, iso_utc, object_of
from review.register.models import RegisterEntry

User = get_user_model()
NO_REASON = "（未经紧急撤稿表单，未填写原因）"


def takedown_record(obj, *, revision_id, operator: str, takedown: Takedown | None) -> dict:
    """The register's ``approval`` field of a takedown entry: what was taken down and why
    (``takedown`` is what the action that took it down declared; None for any other path,
    such as the API's unpublish)."""
    record = {
        "action": "takedown",
        **describe_object(obj),
        "revision_id": revision_id,
        "reason": takedown.reason if takedown is not None else NO_REASON,
        "operator": operator,
        "taken_down_at": iso_utc(timezone.now()),
    }
    if takedown is not None and takedown.authorised_by_seq is not None:
        record["authorised_by_seq"] = takedown.authorised_by_seq
    return record


def needs_acknowledgement(entry: RegisterEntry) -> bool:
    return (entry.kind == RegisterEntry.Kind.TAKEDOWN
            and "authorised_by_seq" not in (entry.entry.get("approval") or {}))


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


