"""The single guard every publication passes: nothing goes live without a signed approval.

Every path that makes a page or snippet live — the publish button, bulk publish, workflow
approval, API v3 actions, copies, aliases, moves, ``Revision.publish`` from code,
``publish_scheduled`` — ends in ``save()`` of an object that is live afterwards. A ``pre_save``
receiver sees them all (for pages inside ``Page.save``'s transaction, so a refusal rolls the
save back). It allows a save of live content only when

* it publishes a revision carrying an unused leader's approval whose signature verifies,
  whose ``content_sha256`` equals the hash of exactly what is being saved, and whose workflow
  finished with it (not rejected, cancelled or restarted after it: review.pipeline.binding);
  or
* the object was already live from the same revision and what readers see does not change
  (a move within its site, a lock, a new draft beside it).

What it publishes must also use only files the project allows it: every file the object
declares (``review_attachments()``) is put to the ``review_attachment_allowed`` hooks
(``fn(*, obj, file) -> bool``; cms allows an organisation's content only its own files),
and one refusal refuses the publication.

The ``post_save`` receiver then appends the register entry in the same transaction. What
``pre_save`` decided reaches it as one ``Decision`` (review.pipeline.intents); what an action
of ours knows about the save (a takedown's reason, a restoration's entry) reaches ``pre_save``
as the ``Intent`` the action declared on the object it saves.
"""

import datetime

from django.utils import timezone
from wagtail import hooks
from wagtail.models import DraftStateMixin

from review.context import current_actor
from review.exceptions import PublicationRefused
from review.pipeline.approvals import object_content_sha256, signature_holds
from review.pipeline.audience_guard import audience_of
from review.pipeline.binding import VOID, approval_binding_refusal
from review.pipeline.intents import (
    Decision,
    Intent,
    Restoration,
    Takedown,
    hand_over,
    operator_of,
    take_decision,
    take_intent,
)
from review.pipeline.notifications import on_takedown
from review.pipeline.records import Approval
from review.pipeline.takedown import needs_acknowledgement, takedown_record
from review.register.entries import (
    append_entry,
    base_content_type,
    describe_object,
    latest_entry_for,
    site_hostname,
)
from review.register.models import RegisterEntry

# Saves touching only these fields of a live object never change what readers see.
BOOKKEEPING_FIELDS = frozenset({
    "latest_revision", "has_unpublished_changes", "draft_title", "latest_revision_created_at",
    "locked", "locked_at", "locked_by", "numchild", "url_path", "path", "depth",
    "last_published_at", "first_published_at", "owner", "go_live_at", "expire_at", "expired",
})


def stored_state(instance) -> dict | None:
    if instance.pk is None or instance._state.adding:
        return None
    return (type(instance)._base_manager.filter(pk=instance.pk)
            .values("live", "live_revision_id").first())


def parse_iso(value: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


def check_save(instance, update_fields, old) -> Approval | None:
    """The approval this save publishes, or None if it publishes nothing new; else refuse."""
    if getattr(instance, "alias_of_id", None) and instance._state.adding:
        raise PublicationRefused("不支持别名页面：别名会绕过审批直接显示内容。")
    if not instance.live:
        return None  # drafts and takedowns
    if old is None:
        raise PublicationRefused("新内容不能直接发布，须经初审和领导签名审批。")
    if old["live"] and old["live_revision_id"] == instance.live_revision_id:
        _check_unchanged(instance, update_fields)
        return None
    approval = _approval_for(instance)
    check_attachments_allowed(approval.revision.as_object())
    return approval


def check_attachments_allowed(instance) -> None:
    """Refuse if a ``review_attachment_allowed`` hook refuses a file the object declares.
    The refusal names no file: it may be another organisation's.

    The guard asks this of the signed revision's object (whose content hash the approval
    has just matched with what is saved), not of the object being saved: reading its files
    walks its StreamFields, which would normalise their stored form."""
    allowed = hooks.get_hooks("review_attachment_allowed")
    if not allowed:
        return
    for file in getattr(instance, "review_attachments", lambda: [])():
        if not all(hook(obj=instance, file=file) for hook in allowed):
            raise PublicationRefused("内容使用了不属于本单位的文档或图片，不能发布。")


def _check_unchanged(instance, update_fields) -> None:
    if update_fields is not None and set(update_fields) <= BOOKKEEPING_FIELDS:
        return
    stored = type(instance)._base_manager.get(pk=instance.pk)
    if object_content_sha256(stored) != object_content_sha256(instance):
        raise PublicationRefused("已发布的内容只能通过审批流程修改。")
    entry = latest_entry_for(instance)
    if entry is not None and entry.kind == RegisterEntry.Kind.PUBLICATION:
        approved_site = (entry.entry.get("approval") or {}).get("site")
        if approved_site != site_hostname(instance):
            raise PublicationRefused("已发布的页面不能移到其他网站：须在目标网站重新审批。")


def unused_approvals():
    """Approvals not yet used by a publication, with what checking them reads."""
    return (Approval.objects.select_related("credential", "task_state__workflow_state")
            .filter(register_entry__isnull=True))


def _approval_for(instance) -> Approval:
    content_hash = object_content_sha256(instance)
    candidates = (unused_approvals()
                  .filter(content_type=base_content_type(instance), object_id=str(instance.pk),
                          revision_id=instance.live_revision_id, content_sha256=content_hash)
                  .order_by("-created_at"))
    site = site_hostname(instance)
    now = timezone.now()
    audience = audience_of(instance)
    other_audience = False
    void = None
    for approval in candidates:
        if (go_live_at := approval.payload.get("go_live_at")) and parse_iso(go_live_at) > now:
            continue  # signed to go live later, so not before
        if approval.payload.get("site") != site or not signature_holds(approval):
            continue
        if not audience_holds(approval.payload, audience):
            other_audience = True
            continue
        if (void := approval_binding_refusal(approval)) is None:
            return approval
    if void is not None:
        raise PublicationRefused(VOID.format(reason=void))
    if other_audience:
        raise PublicationRefused(AUDIENCE_CHANGED)
    raise PublicationRefused("该版本没有有效的领导签名审批（或未到审批的上线时间），不能发布。")


AUDIENCE_CHANGED = ("页面的访问范围（隐私设置）与领导签名批准时不同，不能发布："
                    "请恢复原来的访问设置，或重新提交审批。")


def audience_holds(signed: dict, audience: list[dict] | None) -> bool:
    """The signed audience is the current one (approvals signed before the audience was
    part of an approval name none, and are not checked for it)."""
    return "audience" not in signed or signed["audience"] == audience


def _restoration_for(instance, intent: Intent | None) -> RegisterEntry | None:
    """The register entry a declared restoration puts back, checked: the save must show the
    signed revision with the signed hash of the object's latest entry. Else None."""
    if not isinstance(intent, Restoration):
        return None
    entry = latest_entry_for(instance)
    if (not instance.live or entry is None or entry.seq != intent.seq
            or entry.kind == RegisterEntry.Kind.TAKEDOWN
            or entry.revision_id != instance.live_revision_id
            or entry.content_sha256 != object_content_sha256(instance)):
        raise PublicationRefused("只能恢复发布登记中签名批准的内容。")
    if not audience_holds(entry.entry.get("approval") or {}, audience_of(instance)):
        raise PublicationRefused(AUDIENCE_CHANGED)
    return entry


def guard_pre_save(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw or not isinstance(instance, DraftStateMixin):
        return
    intent = take_intent(instance)
    if (entry := _restoration_for(instance, intent)) is not None:
        hand_over(instance, Decision(kind=RegisterEntry.Kind.RESTORATION, intent=intent,
                                     restores=entry))
        return
    old = stored_state(instance)
    approval = check_save(instance, update_fields, old)
    if approval is not None:
        hand_over(instance, Decision(kind=RegisterEntry.Kind.PUBLICATION, intent=intent,
                                     approval=approval))
    elif old and old["live"] and not instance.live:
        # Content put online without any revision (by SQL) has none to name.
        hand_over(instance, Decision(kind=RegisterEntry.Kind.TAKEDOWN, intent=intent,
                                     revision_id=old["live_revision_id"]))


def guard_revision_schedule(sender, instance, raw=False, update_fields=None, **kwargs):
    """Scheduling is publishing later: a revision gets a go-live time only with a valid,
    unused approval of it (else one unapproved revision would also stall publish_scheduled
    for every revision behind it)."""
    if raw or instance.approved_go_live_at is None:
        return
    if update_fields is not None and "approved_go_live_at" not in update_fields:
        return
    approvals = unused_approvals().filter(revision_id=instance.pk)
    if not any(signature_holds(approval) and approval_binding_refusal(approval) is None
               for approval in approvals):
        raise PublicationRefused("未经领导签名审批的版本不能定时发布。")


def guard_pre_delete(sender, instance, **kwargs):
    """Deleting live content would take it offline unregistered: take it down first.
    (Content ever published cannot be deleted at all: its approvals and register entries
    protect its revisions.)"""
    if isinstance(instance, DraftStateMixin) and instance.live:
        raise PublicationRefused(f"《{instance}》正在公开：须先紧急撤稿（记入发布登记）再删除。")


def signed_audience(entry: RegisterEntry) -> dict:
    """``{"audience": …}`` of an entry that signed or carried one (else nothing), for a
    restoration to carry on: check-live compares the latest entry's audience."""
    approval = entry.entry.get("approval") or {}
    return {"audience": approval["audience"]} if "audience" in approval else {}


def register_post_save(sender, instance, raw=False, **kwargs):
    """Append the register entry for what ``guard_pre_save`` let through."""
    if (decision := take_decision(instance)) is None:
        return
    operator = operator_of(decision.intent) or current_actor()
    if decision.kind == RegisterEntry.Kind.RESTORATION:
        restored = decision.restores
        append_entry(kind=RegisterEntry.Kind.RESTORATION, obj=instance,
                     approval={"action": "restore", **describe_object(instance),
                               "revision_id": restored.revision_id,
                               "content_sha256": restored.content_sha256,
                               "restores_seq": restored.seq, "reason": decision.intent.reason,
                               "operator": operator, **signed_audience(restored)},
                     signature=None, published_by=operator,
                     revision_id=restored.revision_id, content_sha256=restored.content_sha256)
    elif decision.kind == RegisterEntry.Kind.PUBLICATION:
        approval = decision.approval
        append_entry(kind=RegisterEntry.Kind.PUBLICATION, obj=instance,
                     approval=approval.payload, signature=approval.signature,
                     published_by=operator, revision=approval.revision,
                     content_sha256=approval.content_sha256, approval_record=approval)
    else:
        takedown = decision.intent if isinstance(decision.intent, Takedown) else None
        entry = append_entry(
            kind=RegisterEntry.Kind.TAKEDOWN, obj=instance,
            approval=takedown_record(instance, revision_id=decision.revision_id,
                                     operator=operator, takedown=takedown),
            signature=None, published_by=operator, revision_id=decision.revision_id)
        if needs_acknowledgement(entry):
            on_takedown(instance, entry)
