"""Handling a message: each state change an action in the style of wagtail/actions/
(check → change → ``log()`` with a registered action → ``message_handled``), callable from
the admin views, commands and tests alike. Refusals raise ``NotAllowed`` with a Chinese
message saying why; nothing changes then.
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from wagtail.actions.base import BaseAction
from wagtail.log_actions import log

from cms.interaction import crypto, scope
from cms.interaction.exceptions import NotAllowed, Refused
from cms.interaction.intake import check_text
from cms.interaction.models import OPEN_STATUSES, Handler, Kind, Message, Note, Status
from cms.interaction.signals import message_handled
from review.register.security import record_security_event

LOG_ACTIONS = {
    "interaction.assign": "分派留言",
    "interaction.status": "更改留言状态",
    "interaction.note": "添加内部备注",
    "interaction.draft_reply": "起草公开答复并提交审批",
    "interaction.answer_privately": "私下答复",
    "interaction.contact_viewed": "查看联系方式",
}
# Statuses a handler sets by hand; "replying" and "answered" follow the reply's pipeline
# (a public reply) or the private answer (a report).
MANUAL_STATUSES = (Status.NEW, Status.IN_PROGRESS, Status.CLOSED)


class MessageAction(BaseAction):
    action_name = ""
    log_action = ""
    permission_error_class = NotAllowed

    def __init__(self, message: Message, *, user):
        super().__init__(message, user=user)
        self.message = message

    def user_has_permission(self) -> bool:
        return scope.may_act(self.user, self.message)

    def check(self, skip_permission_checks: bool = False) -> None:
        if not skip_permission_checks and not self.user_has_permission():
            raise NotAllowed("您不能处理本单位以外的留言。")

    def finish(self, data: dict) -> None:
        log(instance=self.message, action=self.log_action, user=self.user, data=data)
        message_handled.send(sender=Message, instance=self.message, action=self.log_action,
                             user=self.user)


class AssignAction(MessageAction):
    action_name = "assign"
    log_action = "interaction.assign"

    def __init__(self, message: Message, *, user, assignee):
        super().__init__(message, user=user)
        self.assignee = assignee

    def check(self, skip_permission_checks: bool = False) -> None:
        super().check(skip_permission_checks)
        if self.assignee is not None and not Handler.objects.filter(
                organisation_id=self.message.organisation_id, user=self.assignee).exists():
            raise NotAllowed("只能分派给本单位指定的留言处理人。")

    @transaction.atomic
    def execute(self, skip_permission_checks: bool = False) -> Message:
        self.check(skip_permission_checks)
        self.message.assignee = self.assignee
        fields = ["assignee"]
        if self.message.status == Status.NEW and self.assignee is not None:
            self.message.status = Status.IN_PROGRESS
            fields.append("status")
        self.message.save(update_fields=fields)
        self.finish({"assignee": self.assignee.get_username() if self.assignee else ""})
        return self.message


class SetStatusAction(MessageAction):
    action_name = "set_status"
    log_action = "interaction.status"

    def __init__(self, message: Message, *, user, status: str):
        super().__init__(message, user=user)
        self.status = status

    def check(self, skip_permission_checks: bool = False) -> None:
        super().check(skip_permission_checks)
        if self.status not in MANUAL_STATUSES and not (
                self.status == Status.QUARANTINED and self.message.status == Status.NEW):
            raise NotAllowed("这个状态不能手工设置：公开答复经领导签名发布后自动变为“已答复”。")
        if self.message.status == Status.ANSWERED:
            raise NotAllowed("已答复的留言不能再更改状态。")

    @transaction.atomic
    def execute(self, skip_permission_checks: bool = False) -> Message:
        self.check(skip_permission_checks)
        before = self.message.status
        self.message.status = self.status
        self.message.save(update_fields=["status"])
        self.finish({"from": before, "to": self.status})
        return self.message


class AddNoteAction(MessageAction):
    action_name = "add_note"
    log_action = "interaction.note"

    def __init__(self, message: Message, *, user, text: str):
        super().__init__(message, user=user)
        self.text = text

    @transaction.atomic
    def execute(self, skip_permission_checks: bool = False) -> Note:
        self.check(skip_permission_checks)
        try:
            text = check_text(self.text, field="text", label="备注", max_chars=2000)
        except Refused as refusal:
            raise NotAllowed(refusal.message) from refusal
        note = Note.objects.create(message=self.message, author=self.user, text=text)
        self.finish({"note": note.pk})
        return note


class AnswerPrivatelyAction(MessageAction):
    """A report (or a message that should not be public) answered to the sender only: the
    answer shows on the status page for the ticket code."""

    action_name = "answer_privately"
    log_action = "interaction.answer_privately"

    def __init__(self, message: Message, *, user, text: str):
        super().__init__(message, user=user)
        self.text = text

    def check(self, skip_permission_checks: bool = False) -> None:
        super().check(skip_permission_checks)
        if self.message.status not in OPEN_STATUSES:
            raise NotAllowed("这条留言已经处理完毕。")
        if self.message.kind != Kind.REPORT:
            raise NotAllowed("留言/咨询的答复须公开发布：请“起草公开答复”，"
                             "经初审和领导签名后发布。")

    @transaction.atomic
    def execute(self, skip_permission_checks: bool = False) -> Message:
        self.check(skip_permission_checks)
        try:
            text = check_text(self.text, field="text", label="答复", max_chars=5000)
        except Refused as refusal:
            raise NotAllowed(refusal.message) from refusal
        self.message.private_answer = text
        self.message.status = Status.ANSWERED
        self.message.answered_at = timezone.now()
        self.message.save(update_fields=["private_answer", "status", "answered_at"])
        self.finish({})
        return self.message


class ViewContactAction(MessageAction):
    """Reading the sender's contact details: designated handlers only, every reading in the
    security audit log (in the same transaction: no reading without its record)."""

    action_name = "view_contact"
    log_action = "interaction.contact_viewed"

    def user_has_permission(self) -> bool:
        return scope.may_read_contact(self.user, self.message)

    def check(self, skip_permission_checks: bool = False) -> None:
        if not self.user_has_permission():  # never skipped
            raise NotAllowed("只有本单位指定的留言处理人可以查看联系方式。")

    @transaction.atomic
    def execute(self, *, address: str = "") -> dict:
        self.check()
        contact = crypto.open_sealed(self.message.contact_sealed, code=self.message.code)
        record_security_event(event="interaction_contact_viewed", actor=self.user,
                              subject=f"message:{self.message.pk}", address=address,
                              data={"kind": self.message.kind,
                                    "organisation": self.message.organisation_id})
        self.finish({})
        return contact


class DesignateHandlerAction(BaseAction):
    """An organisation's web administrator designates (or removes) a handler among its own
    staff; recorded in the security audit log like any grant of access to personal data."""

    action_name = "designate_handler"
    permission_error_class = NotAllowed

    def __init__(self, organisation, *, user, handler_user, remove: bool = False,
                 address: str = ""):
        super().__init__(organisation, user=user)
        self.organisation = organisation
        self.handler_user = handler_user
        self.remove = remove
        self.address = address

    def check(self, skip_permission_checks: bool = False) -> None:
        if not skip_permission_checks and \
                self.organisation.pk not in scope.administered_orgs(self.user):
            raise NotAllowed("只有本单位的网站管理员可以指定留言处理人。")
        if not self.remove and self.organisation.pk not in scope.staff_orgs(self.handler_user):
            raise NotAllowed("留言处理人须是本单位的工作人员。")

    @transaction.atomic
    def execute(self, skip_permission_checks: bool = False):
        self.check(skip_permission_checks)
        if self.remove:
            deleted, _ = Handler.objects.filter(organisation=self.organisation,
                                                user=self.handler_user).delete()
            if not deleted:
                return None
            event = "interaction_handler_removed"
        else:
            _, created = Handler.objects.get_or_create(
                organisation=self.organisation, user=self.handler_user,
                defaults={"designated_by": self.user if self.user and self.user.pk else None})
            if not created:
                return None
            event = "interaction_handler_designated"
        record_security_event(event=event, actor=self.user, address=self.address,
                              subject=f"user:{self.handler_user.get_username()}",
                              data={"organisation": self.organisation.pk})
        return True


def handlers_of(organisation_id: int):
    return get_user_model().objects.filter(
        interaction_handler_of__organisation_id=organisation_id, is_active=True).distinct()
