"""The teaching-group leader's decision on a second preparation (二次备课): accepted, the new
version replaces the shared lesson plan (the earlier version stays as it was); returned, the
teacher reads the leader's comment."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone
from wagtail.actions.base import BaseAction
from wagtail.log_actions import log

from cms.resources.exceptions import SecondPreparationRefused
from cms.resources.models import SecondPreparation
from cms.resources.signals import second_preparation_decided

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

ACCEPTED = "resources.second_preparation_accepted"
RETURNED = "resources.second_preparation_returned"


class DecideSecondPreparationAction(BaseAction):
    """The group leader ``user`` accepts or returns ``preparation``; returning needs a
    comment, accepting needs the new version to have passed the school's review.

    ``skip_permission_checks`` skips only the leader's rights (the subject's group leader,
    not deciding on their own version); the state of the preparation is always checked.
    """

    action_name = "decide_second_preparation"
    permission_error_class = SecondPreparationRefused

    def __init__(self, preparation: SecondPreparation, *, user: AbstractBaseUser,
                 accept: bool, comment: str = "") -> None:
        super().__init__(preparation, user=user)
        self.preparation = preparation
        self.accept = accept
        self.comment = comment.strip()

    def user_has_permission(self) -> bool:
        return self.preparation.group.leader_id == self.user.pk

    def check(self, skip_permission_checks: bool = False) -> None:
        preparation = self.preparation
        if not skip_permission_checks:
            if not self.user_has_permission():
                raise SecondPreparationRefused("只有本学科的教研组长可以审核二次备课。")
            if preparation.revised.uploader_id == self.user.pk:
                raise SecondPreparationRefused("教研组长不能审核本人的二次备课。")
        if preparation.status != SecondPreparation.Status.PENDING:
            raise SecondPreparationRefused("这份二次备课已经处理过。")
        if not self.accept and not self.comment:
            raise SecondPreparationRefused("退回须填写意见。")
        if self.accept and preparation.revised.approved_at is None:
            raise SecondPreparationRefused("新版本还未通过学校的审核，暂不能采用。")

    def execute(self, skip_permission_checks: bool = False) -> SecondPreparation:
        with transaction.atomic():
            # Checked on the locked row: of two decisions at once, the second sees the first.
            self.preparation = self.instance = (
                SecondPreparation.objects.select_for_update().get(pk=self.preparation.pk))
            self.check(skip_permission_checks=skip_permission_checks)
            preparation = self.preparation
            preparation.status = (SecondPreparation.Status.ACCEPTED if self.accept
                                  else SecondPreparation.Status.RETURNED)
            preparation.decided_by, preparation.decided_at = self.user, timezone.now()
            preparation.comment = self.comment
            try:
                with transaction.atomic():
                    preparation.save()
            except IntegrityError as error:
                # one_accepted_replacement_per_version: another version replaced it first.
                raise SecondPreparationRefused("该教案已被另一份二次备课替换。") from error
            original = preparation.original.registry_number
            if self.accept:
                log(instance=preparation.revised, action=ACCEPTED, user=self.user,
                    data={"replaces": original, "comment": self.comment})
            else:
                log(instance=preparation.revised, action=RETURNED, user=self.user,
                    data={"original": original, "comment": self.comment})
        second_preparation_decided.send(sender=SecondPreparation, instance=preparation,
                                        user=self.user, accepted=self.accept)
        return preparation
