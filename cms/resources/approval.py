"""How resources pass the pipeline.

* **Public** resources take their school's workflow (screening, the web administrator's first
  review, the leader's signed approval) and go live like a page: the publication guard
  (review/guard.py) refuses them otherwise, and the register records them.
* **Internal** resources take a second workflow of the school made of the *same* screening
  and first-review tasks (``internal_workflow_for`` in cms.resources.models), without the
  leader's approval: nothing of them goes online, so there is nothing to sign. Wagtail
  finishes that workflow by "publishing" the approved revision
  (``WAGTAIL_FINISH_WORKFLOW_ACTION``); ``Resource.publish`` turns that into
  ``ApproveInternallyAction`` (cms.resources.actions.approve_internally), which stores the
  revision as the resource's approved content without ever making it live, and only when a
  first review by someone other than the submitter approved it.

``approved_at`` is what quotas count: set when a public resource goes live (and cleared if it
is taken down) or when an internal one is approved.

This module sits below cms.resources.models (``Resource.publish`` calls the action, which
uses ``first_review``): it takes resources as arguments and imports none of their models.
"""

from django.contrib.auth.models import Permission
from django.utils import timezone
from wagtail.models import TaskState, WorkflowState

from cms.models import Role
from cms.resources.exceptions import InternalApprovalRefused
from cms.resources.rules import Visibility
from review.models import FirstReviewTask

__all__ = ["InternalApprovalRefused", "first_review", "grant_rights", "keep_public_approval"]


def first_review(*, resource) -> TaskState | None:
    """The approving first review of the resource's latest finished workflow, if that workflow
    was approved and the first review was made by someone other than its submitter."""
    state = (WorkflowState.objects.for_instance(resource)
             .filter(status=WorkflowState.STATUS_APPROVED).order_by("-created_at").first())
    if state is None:
        return None
    first_reviews = FirstReviewTask.objects.values("pk")
    return (state.task_states.filter(status=TaskState.STATUS_APPROVED, task__in=first_reviews)
            .exclude(finished_by=None).exclude(finished_by=state.requested_by_id)
            .select_related("finished_by").order_by("-finished_at").first())


def keep_public_approval(sender, instance, raw=False, **kwargs):
    """Receiver: a public resource counts while it is live (taken down, it stops counting)."""
    if raw or instance.visibility != Visibility.PUBLIC:
        return
    type(instance).objects.filter(pk=instance.pk, approved_at=None, live=True).update(
        approved_at=timezone.now())
    if not instance.live and instance.first_published_at is not None:
        type(instance).objects.filter(pk=instance.pk).exclude(approved_at=None).update(
            approved_at=None)


# --- Rights of the schools' role groups ----------------------------------------------------

# Model rights on resources; which resources is confined by cms.resources.permissions.
ROLE_RIGHTS: dict[str, tuple[str, ...]] = {
    Role.TEACHER: ("add_resource", "change_resource"),
    Role.ADMINISTRATOR: ("change_resource", "add_quotarule", "change_quotarule",
                         "add_teachinggroup", "change_teachinggroup", "delete_teachinggroup"),
    Role.LEADER: ("change_resource",),
}


def grant_rights(*, group, role: str) -> None:
    codenames = ROLE_RIGHTS.get(role, ())
    group.permissions.add(*Permission.objects.filter(content_type__app_label="resources",
                                                     codename__in=codenames))


def grant_rights_on_new_role(sender, instance, created=False, raw=False, **kwargs):
    """Receiver: a school's role group was provisioned."""
    if created and not raw:
        grant_rights(group=instance.group, role=instance.role)
