"""How resources pass the pipeline.

* **Public** resources take their school's workflow (screening, the web administrator's first
  review, the leader's signed approval) and go live like a page: the publication guard
  (review/guard.py) refuses them otherwise, and the register records them.
* **Internal** resources take a second workflow of the school made of the *same* screening
  and first-review tasks (``internal_workflow_for`` in cms.resources.models), without the
  leader's approval: nothing of them goes online, so there is nothing to sign. Wagtail
  finishes that workflow by "publishing" the approved revision
  (``WAGTAIL_FINISH_WORKFLOW_ACTION``); ``Resource.publish`` turns that into
  ``approve_internally``, which stores the revision as the resource's approved content
  without ever making it live, and only when a first review by someone other than the
  submitter approved it.

``approved_at`` is what quotas count: set when a public resource goes live (and cleared if it
is taken down) or when an internal one is approved.

This module sits below cms.resources.models (``Resource.publish`` calls
``approve_internally``): it takes resources as arguments and imports none of their models.
"""

from django.contrib.auth.models import Permission
from django.db import transaction
from django.utils import timezone
from wagtail.log_actions import log
from wagtail.models import TaskState, WorkflowState

from cms.models import Role
from cms.resources.rules import Visibility
from review.context import Refused
from review.models import FirstReviewTask


class InternalApprovalRefused(Refused):
    heading = "校内审核未完成"


def passed_first_review(*, resource) -> bool:
    """The resource's latest finished workflow was approved, with a first review by someone
    other than its submitter."""
    state = (WorkflowState.objects.for_instance(resource)
             .filter(status=WorkflowState.STATUS_APPROVED).order_by("-created_at").first())
    if state is None:
        return False
    first_reviews = FirstReviewTask.objects.values("pk")
    return (state.task_states.filter(status=TaskState.STATUS_APPROVED, task__in=first_reviews)
            .exclude(finished_by=None).exclude(finished_by=state.requested_by_id).exists())


@transaction.atomic
def approve_internally(*, resource, revision, user=None):
    """Store an internal resource's approved revision; it stays offline."""
    if not passed_first_review(resource=resource):
        raise InternalApprovalRefused("校内资源须经网站管理员初审通过后才算审核通过。")
    approved = revision.as_object()
    if approved.visibility != Visibility.INTERNAL:
        raise InternalApprovalRefused("公开资源须经领导签名审批后发布。")
    if resource.live:
        # Taking public content offline is a takedown: logged in the register and reported to
        # the leader. An internal approval must not do it silently.
        raise InternalApprovalRefused("该资源已公开发布：须先紧急撤稿（记入发布登记），"
                                      "再作为校内资源审核。")
    approved.live = False
    approved.has_unpublished_changes = False
    approved.latest_revision = revision
    approved.approved_at = resource.approved_at or timezone.now()
    approved.save()  # a ClusterableModel: its files are saved with it
    log(instance=approved, action="resources.approved_internally", revision=revision, user=user)
    return revision


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
