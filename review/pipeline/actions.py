"""The compliance engine's state changes, as actions in the style of ``wagtail/actions/``:
each checks permissions, makes its change in one transaction, ``log()``s a registered action
whose formatter shows the logged data (review.wagtail_hooks), and sends a signal
(review.pipeline.signals). Views, the API, commands and tasks call these, never the change
itself. The leader's signature is ``review.pipeline.workflow.SignApprovalAction``, beside the
signing it drives (the workflow task calls it).

An action that saves content through Wagtail's own actions (unpublish, publish a revision)
declares what it knows — the reason, the operator, the entry put back — on the object it
saves (review.pipeline.intents), where the publication guard reads it.
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from wagtail.actions.publish_page_revision import PublishPageRevisionAction
from wagtail.actions.publish_revision import PublishRevisionAction
from wagtail.log_actions import log
from wagtail.models import Page

from review.context import current_address
from review.exceptions import CannotMask, Refused
from review.pipeline import signals
from review.pipeline.binding import approval_binding_refusal
from review.pipeline.intents import Restoration, Takedown, declare
from review.pipeline.panels import latest_screening
from review.pipeline.records import Approval, SigningCredential, TakedownAcknowledgement
from review.pipeline.takedown import leaders_of
from review.register.entries import latest_entry_for, object_of
from review.register.models import RegisterEntry
from review.register.security import record_security_event
from review.screening.objects import replace_text
from review.screening.pii import mask


def _username(user) -> str | None:
    return user.get_username() if user is not None and user.is_authenticated else None


def _may(user, obj, *, page_check: str, model_permission: str) -> bool:
    """Whether ``user`` holds a right on ``obj``: the page permission for pages, the model
    permission (``publish``, ``change``) for snippets."""
    if user is None:
        return False
    if isinstance(obj, Page):
        return getattr(obj.permissions_for_user(user), page_check)()
    meta = obj._meta
    return user.has_perm(f"{meta.app_label}.{model_permission}_{meta.model_name}")


def may_take_down(obj, *, user) -> bool:
    """Whether ``user`` may take ``obj`` down: it is live and they may unpublish it."""
    return obj.live and _may(user, obj, page_check="can_unpublish", model_permission="publish")


class TakedownAction:
    """紧急撤稿: take live content down at once, with a reason. A takedown ordered by a signed
    publication (a column's approved removal) names that register entry and needs no leader's
    acknowledgement; any other is announced to the leaders."""

    def __init__(self, obj, *, user, reason: str, authorised_by_seq: int | None = None,
                 set_expired: bool = False, log_action: str | bool = True) -> None:
        self.obj = obj
        self.user = user
        self.reason = (reason or "").strip()
        self.authorised_by_seq = authorised_by_seq
        self.set_expired = set_expired
        self.log_action = log_action

    def check(self, *, skip_permission_checks: bool = False) -> None:
        if not self.reason:
            raise Refused("紧急撤稿必须填写原因。")
        if not self.obj.live:
            raise Refused(f"《{self.obj}》没有公开，无需撤稿。")
        if not skip_permission_checks and not may_take_down(self.obj, user=self.user):
            raise Refused(f"您没有撤下《{self.obj}》的权限。")

    def execute(self, *, skip_permission_checks: bool = False) -> RegisterEntry:
        self.check(skip_permission_checks=skip_permission_checks)
        with transaction.atomic():
            declare(self.obj, Takedown(reason=self.reason, operator=_username(self.user),
                                       authorised_by_seq=self.authorised_by_seq))
            self.obj.unpublish(set_expired=self.set_expired, user=self.user,
                               log_action=self.log_action)
            entry = latest_entry_for(self.obj)
            log(instance=self.obj, action="review.taken_down", user=self.user,
                data={"reason": self.reason, "seq": entry.seq,
                      "authorised_by_seq": self.authorised_by_seq})
        signals.taken_down.send(sender=type(self.obj), instance=self.obj, entry=entry,
                                user=self.user)
        return entry


class AcknowledgeTakedownAction:
    """A leader of the site confirms having seen an emergency takedown."""

    def __init__(self, entry: RegisterEntry, *, user, note: str = "") -> None:
        self.entry = entry
        self.user = user
        self.note = note

    def check(self) -> None:
        if self.entry.kind != RegisterEntry.Kind.TAKEDOWN:
            raise Refused("这条登记不是撤稿，无需确认。")
        if TakedownAcknowledgement.objects.filter(entry=self.entry).exists():
            raise Refused(f"撤稿 #{self.entry.seq} 已经确认过。")
        if not leaders_of(object_of(self.entry)).filter(pk=self.user.pk).exists():
            raise Refused("只有该网站的领导可以确认撤稿。")

    def execute(self) -> TakedownAcknowledgement:
        self.check()
        obj = object_of(self.entry)
        with transaction.atomic():
            acknowledgement = TakedownAcknowledgement.objects.create(
                entry=self.entry, leader=self.user, note=self.note)
            if obj is not None:
                log(instance=obj, action="review.takedown_acknowledged", user=self.user,
                    data={"seq": self.entry.seq, "note": self.note})
        signals.takedown_acknowledged.send(sender=TakedownAcknowledgement,
                                           instance=acknowledgement, user=self.user)
        return acknowledgement


class RestoreRegisteredAction:
    """check-live --restore: put back exactly the revision the register's latest entry for
    the object says is live (its signed hash is checked by the guard)."""

    def __init__(self, obj, *, entry: RegisterEntry, reason: str, user=None) -> None:
        self.obj = obj
        self.entry = entry
        self.reason = reason
        self.user = user

    def check(self) -> None:
        if self.entry.kind == RegisterEntry.Kind.TAKEDOWN or self.entry.revision_id is None:
            raise Refused(f"登记第 {self.entry.seq} 条没有可恢复的签名版本。")

    def execute(self) -> None:
        self.check()
        action_class = (PublishPageRevisionAction if isinstance(self.obj, Page)
                        else PublishRevisionAction)
        with transaction.atomic():
            publish = action_class(self.entry.revision, user=self.user)
            declare(publish.object, Restoration(seq=self.entry.seq, reason=self.reason,
                                                operator=_username(self.user)))
            # The signed register entry is the authority here; the guard checks the hash.
            publish.execute(skip_permission_checks=True)
            log(instance=publish.object, action="review.restored", user=self.user,
                data={"seq": self.entry.seq, "reason": self.reason})
        signals.restored.send(sender=type(publish.object), instance=publish.object,
                              entry=self.entry, user=self.user)


class VoidApprovalsAction:
    """The leader's unused approvals given in ``workflow_state`` whose workflow will not
    finish with them — it was rejected, cancelled, or sent back to an earlier step — are
    void: marked so once, with the reason, in the content's history and the security log.
    (The guard refuses them in any case: review.pipeline.binding.) Run by the system when the
    workflow changes (``void_after_workflow_change``); ``user`` is who changed it."""

    def __init__(self, workflow_state, *, user=None) -> None:
        self.workflow_state = workflow_state
        self.user = user

    def execute(self) -> list[Approval]:
        voided = []
        with transaction.atomic():
            approvals = (Approval.objects.select_for_update(of=("self",))
                         .select_related("credential", "task_state__workflow_state")
                         .filter(task_state__workflow_state=self.workflow_state,
                                 register_entry__isnull=True, voided_at=None))
            for approval in approvals:
                if (reason := approval_binding_refusal(approval)) is None:
                    continue
                _void(approval, reason=reason, user=self.user)
                voided.append(approval)
        for approval in voided:
            signals.approval_voided.send(sender=Approval, instance=approval, user=self.user)
        return voided


def _void(approval: Approval, *, reason: str, user) -> None:
    approval.voided_at = timezone.now()
    approval.void_reason = reason
    approval.save(update_fields=["voided_at", "void_reason"])
    obj = approval.task_state.workflow_state.content_object
    obj = obj.specific if isinstance(obj, Page) else obj
    data = {"approval_id": approval.pk, "revision_id": approval.revision_id,
            "key_id": approval.credential.key_id, "approver": approval.approver.get_username(),
            "reason": reason}
    log(instance=obj, action="review.approval_voided", revision=approval.revision, user=user,
        data=data)
    record_security_event(event="approval_voided", actor=user, address=current_address(),
                          subject=f"{obj._meta.label_lower}:{approval.object_id}", data=data)


def void_after_workflow_change(sender, instance, user=None, **kwargs):
    """Receiver of ``workflow_rejected`` and ``workflow_cancelled`` (``instance`` the
    WorkflowState) and of ``task_submitted`` (``instance`` the TaskState that started: a step
    starting after the leader signed means the workflow went back instead of finishing)."""
    workflow_state = getattr(instance, "workflow_state", instance)
    VoidApprovalsAction(workflow_state, user=user).execute()


def _credential_event(*, event: str, credential: SigningCredential, actor, address: str,
                      reason: str = "") -> None:
    record_security_event(
        event=event, actor=actor, subject=f"user:{credential.user.get_username()}",
        address=address, data={"key_id": credential.key_id, "kind": credential.kind,
                               "name": credential.name, **({"reason": reason} if reason else {})})


class EnrolCredentialAction:
    """A leader enrols a signing credential (passphrase key or security key).

    Whoever holds the leader's session could enrol a key and sign as them, so the view asks
    ``before_enrol_signing_credential`` hooks first (the project requires a fresh login with
    the second factor there), and the enrolment is in the security audit log and announced
    (``credential_enrolled``: the leader and the account administrators are e-mailed)."""

    def __init__(self, *, user, make_credential, address: str = "") -> None:
        self.user = user
        self.make_credential = make_credential  # () -> unsaved-or-saved SigningCredential
        self.address = address

    def check(self) -> None:
        if self.user is None or not self.user.is_authenticated or not self.user.is_active:
            raise Refused("只有已登录的用户才能登记签名凭证。")

    def execute(self) -> SigningCredential:
        self.check()
        with transaction.atomic():
            credential = self.make_credential()
            log(instance=credential, action="review.credential_enrolled", user=self.user,
                data={"key_id": credential.key_id, "kind": credential.kind})
            _credential_event(event="credential_enrolled", credential=credential,
                              actor=self.user, address=self.address)
            signals.credential_enrolled.send(sender=SigningCredential, instance=credential,
                                             user=self.user)
        return credential


class RevokeCredentialAction:
    """A leader revokes one of their own signing credentials: it signs nothing more, and the
    scheduled publications it approved are no longer published."""

    def __init__(self, credential: SigningCredential, *, user, address: str = "") -> None:
        self.credential = credential
        self.user = user
        self.address = address

    def check(self) -> None:
        if self.credential.user_id != getattr(self.user, "pk", None):
            raise Refused("只能吊销自己的签名凭证。")
        if self.credential.revoked_at is not None:
            raise Refused("这个签名凭证已经吊销。")

    def execute(self) -> SigningCredential:
        self.check()
        with transaction.atomic():
            _revoke(self.credential, user=self.user, address=self.address, reason="")
        signals.credential_revoked.send(sender=SigningCredential, instance=self.credential,
                                        user=self.user)
        return self.credential


def _revoke(credential: SigningCredential, *, user, address: str, reason: str) -> None:
    credential.revoked_at = timezone.now()
    credential.save(update_fields=["revoked_at"])
    log(instance=credential, action="review.credential_revoked", user=user,
        data={"key_id": credential.key_id, "name": credential.name,
              **({"reason": reason} if reason else {})})
    _credential_event(event="credential_revoked", credential=credential, actor=user,
                      address=address, reason=reason)


class RevokeAfterPasswordResetAction:
    """Someone other than the owner set the owner's password (an account administrator's
    reset, a maintainer's script): whoever did could now log in as the owner, so every
    signing credential the owner has stops signing. The owner enrols a new one after logging
    in with their own password and second factor."""

    REASON = "password_reset_by_other"

    def __init__(self, owner, *, user, address: str = "") -> None:
        self.owner = owner
        self.user = user  # who set the password (None: a script)
        self.address = address

    def check(self) -> None:
        if self.user is not None and self.user.pk == self.owner.pk:
            raise Refused("本人修改密码不吊销签名凭证。")

    def execute(self) -> list[SigningCredential]:
        self.check()
        revoked = []
        with transaction.atomic():
            for credential in SigningCredential.objects.filter(user=self.owner, revoked_at=None):
                _revoke(credential, user=self.user, address=self.address, reason=self.REASON)
                revoked.append(credential)
        for credential in revoked:
            signals.credential_revoked.send(sender=SigningCredential, instance=credential,
                                            user=self.user)
        return revoked


class MaskPersonalNumberAction:
    """The author's one-click mask: a personal number the screener found is replaced by its
    masked form (138****1234) everywhere in the latest draft, saved as a new revision. Only a
    number of the latest screening's findings can be masked, and never while the content is
    locked (in review)."""

    def __init__(self, obj, *, user, number: str) -> None:
        self.obj = obj
        self.user = user
        self.number = number

    def check(self) -> None:
        if not _may(self.user, self.obj, page_check="can_edit", model_permission="change"):
            raise PermissionDenied
        screening = latest_screening(self.obj)
        if not self.number or screening is None or not any(
                f.match == self.number and f.maskable for f in screening.finding_records()):
            raise CannotMask("没有可打码的号码：它不在最近一次自动检查的结果中。")
        lock = self.obj.get_lock() if hasattr(self.obj, "get_lock") else None
        if lock is not None and lock.for_user(self.user):
            raise CannotMask("内容正在审核或已被锁定，不能修改；请在退回后打码。")

    def execute(self) -> bool:
        """True if the draft held the number (and now holds its masked form)."""
        self.check()
        masked = mask(self.number)
        with transaction.atomic():
            draft = self.obj.get_latest_revision_as_object()
            if not replace_text(draft, old=self.number, new=masked, whole_number=True):
                return False
            revision = draft.save_revision(user=self.user, log_action=True)
            # The log keeps only the masked form: the number itself is what is being removed.
            log(instance=self.obj, action="review.number_masked", user=self.user,
                revision=revision, data={"masked": masked})
        signals.number_masked.send(sender=type(self.obj), instance=self.obj, masked=masked,
                                   user=self.user)
        return True


class ApplySuggestionAction:
    """The author's one-click replacement: an expression error or a typo the screener found
    is replaced by its suggestion (杜家豪 → 杜家毫) everywhere in the latest draft, saved as a
    new revision, as the one-click mask does. Only a finding of the latest screening can be
    replaced, and never while the content is locked (in review)."""

    def __init__(self, obj, *, user, match: str) -> None:
        self.obj = obj
        self.user = user
        self.match = match
        self.suggestion = ""

    def check(self) -> None:
        if not _may(self.user, self.obj, page_check="can_edit", model_permission="change"):
            raise PermissionDenied
        screening = latest_screening(self.obj)
        found = [f for f in (screening.finding_records() if screening else [])
                 if self.match and f.match == self.match and f.suggestion]
        if not found:
            raise CannotMask("没有可替换的内容：它不在最近一次自动检查的结果中。")
        self.suggestion = found[0].suggestion
        lock = self.obj.get_lock() if hasattr(self.obj, "get_lock") else None
        if lock is not None and lock.for_user(self.user):
            raise CannotMask("内容正在审核或已被锁定，不能修改；请在退回后替换。")

    def execute(self) -> bool:
        """True if the draft held the text (and now holds the suggestion instead)."""
        self.check()
        with transaction.atomic():
            draft = self.obj.get_latest_revision_as_object()
            if not replace_text(draft, old=self.match, new=self.suggestion):
                return False
            revision = draft.save_revision(user=self.user, log_action=True)
            log(instance=self.obj, action="review.suggestion_applied", user=self.user,
                revision=revision, data={"old": self.match[:100], "new": self.suggestion})
        signals.suggestion_applied.send(sender=type(self.obj), instance=self.obj,
                                        old=self.match, new=self.suggestion, user=self.user)
        return True
