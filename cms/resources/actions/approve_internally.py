"""Internal approval of a resource: the approved revision of an internal resource becomes its
approved content (counted by the quotas) without ever going live.

``Resource.publish`` runs this action for internal revisions, so Wagtail's finishing of the
internal workflow (``WAGTAIL_FINISH_WORKFLOW_ACTION``) lands here. It sits below
cms.resources.models: it takes the resource as an argument and imports none of its models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from wagtail.actions.base import BaseAction
from wagtail.log_actions import log

from cms.resources.approval import InternalApprovalRefused, first_review
from cms.resources.rules import Visibility
from cms.resources.signals import resource_approved_internally

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from wagtail.models import Revision

    from cms.resources.models import Resource

LOG_ACTION = "resources.approved_internally"


class ApproveInternallyAction(BaseAction):
    """Store ``revision`` as the approved content of the internal ``resource``.

    The pipeline's conditions are always checked: a first review by someone other than the
    submitter approved the latest finished workflow, the revision is internal, and the
    resource is not live (taking it offline would be a takedown). ``skip_permission_checks``
    (what Wagtail's finishing of a workflow passes) skips only the acting user's own rights:
    they may change the resource and did not upload it.
    """

    action_name = "approve_internally"
    permission_policy_action = "change"
    permission_error_class = InternalApprovalRefused

    def __init__(self, resource: Resource, *, revision: Revision,
                 user: AbstractBaseUser | None = None) -> None:
        super().__init__(resource, user=user)
        self.resource = resource
        self.revision = revision

    def check(self, skip_permission_checks: bool = False) -> None:
        if self.user is not None and not skip_permission_checks:
            if self.user.pk == self.resource.uploader_id:
                raise InternalApprovalRefused("不能审核通过本人上传的校内资源。")
            if not self.user_has_permission():
                raise InternalApprovalRefused("你没有审核通过这份校内资源的权限。")
        if first_review(resource=self.resource) is None:
            raise InternalApprovalRefused("校内资源须经网站管理员初审通过后才算审核通过。")
        if self.revision.as_object().visibility != Visibility.INTERNAL:
            raise InternalApprovalRefused("公开资源须经领导签名审批后发布。")
        if self.resource.live:
            # Taking public content offline is a takedown: logged in the register and reported
            # to the leader. An internal approval must not do it silently.
            raise InternalApprovalRefused("该资源已公开发布：须先紧急撤稿（记入发布登记），"
                                          "再作为校内资源审核。")

    def execute(self, skip_permission_checks: bool = False) -> Revision:
        self.check(skip_permission_checks=skip_permission_checks)
        reviewed = first_review(resource=self.resource)
        with transaction.atomic():
            approved = self.revision.as_object()
            approved.live = False
            approved.has_unpublished_changes = False
            approved.latest_revision = self.revision
            approved.approved_at = self.resource.approved_at or timezone.now()
            approved.save()  # a ClusterableModel: its files are saved with it
            log(instance=approved, action=LOG_ACTION, revision=self.revision, user=self.user,
                data={"registry_number": approved.registry_number, "title": approved.title,
                      "first_reviewer": reviewed.finished_by.get_username()})
        resource_approved_internally.send(sender=type(approved), instance=approved,
                                          revision=self.revision, user=self.user)
        return self.revision
