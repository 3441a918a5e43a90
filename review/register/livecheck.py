"""check-live: is what the public sees exactly what the leaders signed?

For every page and snippet the register says is live — and every one that is live — the hash
of what is stored now is compared with the signed ``content_sha256`` of its latest register
entry. A title changed in the database behind the CMS's back, a page put online by SQL, or
one taken offline without a takedown record are all found. ``restore`` puts back the signed
revision (recorded as a restoration) or takes down what was never approved (a takedown).

Other apps add checks of what they publish (the baked files) with the ``review_live_checks``
hook: a function taking ``progress`` and returning findings — objects with ``model``,
``object_id``, a ``str()`` and ``restore(user=...)`` — so this module needs none of them.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db.models import prefetch_related_objects
from modelcluster.models import get_all_child_relations
from wagtail import hooks
from wagtail.models import DraftStateMixin, Page, PageViewRestriction, Revision

from review.exceptions import CannotRestore, ReviewError
from review.pipeline.actions import RestoreRegisteredAction, TakedownAction
from review.pipeline.approvals import object_content_sha256
from review.pipeline.audience import Rule, describe, effective_rules
from review.pipeline.notifications import on_render_mismatch
from review.register.entries import base_content_type
from review.register.filecheck import check_signed_files, file_model, kind_label
from review.register.models import RegisterEntry, SecurityEvent
from review.register.security import record_security_event
from review.register.signed import approval_of_entry

LIVE_KINDS = (RegisterEntry.Kind.PUBLICATION, RegisterEntry.Kind.RESTORATION)


@dataclass(frozen=True)
class Expected:
    seq: int
    kind: str
    revision_id: int | None
    content_sha256: str
    audience: list | None = None  # the signed audience (pages; None: not signed)


@dataclass(frozen=True)
class Mismatch:
    model: str
    object_id: str
    title: str
    reason: str
    entry_seq: int | None
    take_down: bool = False  # restored by taking it down (what was signed cannot be put back)

    def __str__(self) -> str:
        where = f"（发布登记第 {self.entry_seq} 条）" if self.entry_seq else ""
        return f"{self.model} #{self.object_id}《{self.title}》：{self.reason}{where}"


def expected_states() -> dict[tuple[int, str], Expected]:
    """The latest register entry of every object, keyed by (content type id, object id)."""
    latest: dict[tuple[int, str], Expected] = {}
    rows = (RegisterEntry.objects.order_by("seq")
            .values_list("content_type_id", "object_id", "seq", "kind", "revision_id",
                         "content_sha256", "entry__approval__audience")
            .iterator(chunk_size=10_000))
    for content_type_id, object_id, seq, kind, revision_id, content_hash, signed in rows:
        latest[(content_type_id, object_id)] = Expected(seq, kind, revision_id, content_hash,
                                                        signed)
    return latest


def restrictions_by_path() -> dict[str, list[Rule]]:
    """Every page view restriction, by the tree path of its page (a few; read once)."""
    rules: dict[str, list[Rule]] = {}
    for restriction in (PageViewRestriction.objects.exclude(restriction_type="none")
                        .select_related("page").prefetch_related("groups")):
        rules.setdefault(restriction.page.path, []).append(Rule.of(
            kind=restriction.restriction_type,
            groups=[group.name for group in restriction.groups.all()]))
    return rules


def _models():
    for model in apps.get_models():
        if issubclass(model, DraftStateMixin) and not model._meta.proxy:
            yield model


def live_objects() -> Iterator[object]:
    """Every live page (as its specific class, one query per type) and live snippet."""
    for model in _models():
        queryset = model._default_manager.filter(live=True)
        if issubclass(model, Page):
            queryset = queryset.filter(
                content_type=ContentType.objects.get_for_model(model), depth__gt=1)
        relations = [r.get_accessor_name() for r in get_all_child_relations(model)]
        yield from queryset.prefetch_related(*relations).iterator(chunk_size=2000)


def base_type_id(obj) -> int:
    return obj.get_base_content_type().pk


def check_live(*, progress: Callable[[int], None] | None = None) -> list[Mismatch]:
    expected = expected_states()
    restrictions = restrictions_by_path()
    seen: set[tuple[int, str]] = set()
    mismatches: list[Mismatch] = []
    for count, obj in enumerate(live_objects(), start=1):
        key = (base_type_id(obj), str(obj.pk))
        seen.add(key)
        entry = expected.get(key)
        if (reason := _live_mismatch(obj, entry)) is not None:
            mismatches.append(Mismatch(obj._meta.label_lower, str(obj.pk), str(obj), reason,
                                       entry.seq if entry else None))
        elif (reason := _audience_mismatch(obj, entry, restrictions)) is not None:
            mismatches.append(Mismatch(obj._meta.label_lower, str(obj.pk), str(obj), reason,
                                       entry.seq, take_down=True))
        if progress and count % 1000 == 0:
            progress(count)
    missing = [(key, entry) for key, entry in expected.items()
               if entry.kind in LIVE_KINDS and key not in seen]
    objects = _objects([key for key, _ in missing])
    for key, entry in missing:
        obj = objects.get(key)
        model = ContentType.objects.get_for_id(key[0]).model_class()
        mismatches.append(Mismatch(
            model._meta.label_lower if model else str(key[0]), key[1],
            str(obj) if obj else "（已被删除）",
            "已登记发布，却不在线上，也没有撤稿登记", entry.seq))
    return mismatches


def check_everything(*, progress: Callable[[int], None] | None = None) -> list:
    """``check_live``, the bytes of every file live content signs
    (``review.register.filecheck``) and every check other apps registered
    (``review_live_checks``)."""
    findings: list = check_live(progress=progress)
    findings.extend(check_signed_files(progress=progress))
    for extra_check in hooks.get_hooks("review_live_checks"):
        findings.extend(extra_check(progress=progress))
    return findings


NOT_REGISTERED = "在线上，却没有有效的发布登记"


def _live_mismatch(obj, entry: Expected | None) -> str | None:
    if entry is None or entry.kind not in LIVE_KINDS:
        return NOT_REGISTERED
    if entry.revision_id != obj.live_revision_id:
        return "线上版本不是签名批准的版本"
    if object_content_sha256(obj) != entry.content_sha256:
        return "线上内容与签名批准的内容不符"
    return None


def _audience_mismatch(obj, entry: Expected, restrictions: dict[str, list[Rule]]
                       ) -> str | None:
    if entry.audience is None or not isinstance(obj, Page):
        return None
    current = describe(effective_rules(obj.path, restrictions))
    if current != entry.audience:
        return (f"访问范围与签名批准的不符（签名：{_audience_text(entry.audience)}；"
                f"现在：{_audience_text(current)}）")
    return None


def _audience_text(audience: list) -> str:
    names = {"password": "密码", "login": "登录用户"}
    return "、".join(names.get(item.get("type"), "用户组 " + "、".join(item.get("groups", [])))
                    for item in audience) or "公开"


# Rendering what readers get (defence in depth behind the guard): a page or snippet is shown
# only as the latest register entry signed it. A write that skipped ``save()`` (an
# ``update()``, ``bulk_update()``, SQL) is not shown; the signed revision is, and the staff
# are alarmed once per distinct tampering, not per request.

ALARM_EVENT = "live_content_mismatch"


def _expected(entry: RegisterEntry | None) -> Expected | None:
    if entry is None:
        return None
    return Expected(entry.seq, entry.kind, entry.revision_id, entry.content_sha256)


def _signed_revision_object(entry: Expected):
    """The object of the revision ``entry`` signed, if that revision still hashes to the
    signed ``content_sha256``; None otherwise (the revision row was tampered with too)."""
    if entry.revision_id is None:
        return None
    revision = Revision.objects.filter(pk=entry.revision_id).first()
    if revision is None:
        return None
    # What revision_content_sha256 hashes, built once: it is also what is returned.
    signed = revision.as_object()
    if object_content_sha256(signed) != entry.content_sha256:
        return None
    # A revision's content names the live revision of its day (none, for a first
    # publication); shown as signed, it is the live revision, and its files are looked up
    # in the approval of that revision (cms.signed_files).
    signed.live_revision_id = entry.revision_id
    return signed


_UNREAD = object()
_ENTRY_FIELDS = ("seq", "kind", "object_id", "revision_id", "content_sha256")


class SignedRevisionUnavailable(Exception):
    """Live ``obj`` was signed, but neither it nor the signed revision is what was signed (the
    revision row was changed or deleted too): nothing can be shown, and what readers had
    (a baked file) should stay."""


def signed_object_for(obj, *, entry: "RegisterEntry | object | None" = _UNREAD,
                      address: str = ""):
    """What readers may be shown of the live ``obj``: ``obj`` itself when it is exactly what
    its latest register entry signed (revision and ``content_sha256``); else the object of
    the signed revision; None when nothing live was signed for it (put online by SQL) — the
    caller then shows nothing (404, not baked). Raises ``SignedRevisionUnavailable`` when it
    was signed but the signed revision cannot be shown either (the caller keeps what readers
    had: the baked file).

    A mismatch raises the alarm (``alarm_mismatch``). ``entry``, when the caller read it
    already (a listing reads its entries at once), spares the query for it."""
    if entry is _UNREAD:
        entry = (RegisterEntry.objects.filter(content_type=base_content_type(obj),
                                              object_id=str(obj.pk))
                 .only(*_ENTRY_FIELDS).order_by("-seq").first())
    expected = _expected(entry)
    reason = _live_mismatch(obj, expected)
    if reason is None:
        return obj
    if expected is None or expected.kind not in LIVE_KINDS:
        alarm_mismatch(obj, reason=reason, entry=expected, address=address,
                       shown="不显示（404）")
        return None
    signed = _signed_revision_object(expected)
    if signed is not None:
        alarm_mismatch(obj, reason=reason, entry=expected, address=address,
                       shown="签名批准的版本")
        return signed
    alarm_mismatch(obj, reason=f"{reason}，签名批准的版本也已被改动或删除", entry=expected,
                   address=address, shown="原有的静态文件（动态显示 503）")
    raise SignedRevisionUnavailable(str(obj))


def signed_objects(objects: list) -> list:
    """``signed_object_for`` for a listing's objects (of one base type), their register
    entries read in one query: each replaced by its signed version, or left out."""
    if not objects:
        return []
    # Hashing reads every child relation (attachments, comments): once for the whole list.
    by_type: dict[type, list] = {}
    for obj in objects:
        by_type.setdefault(type(obj), []).append(obj)
    for model, group in by_type.items():
        prefetch_related_objects(group, *(relation.get_accessor_name()
                                          for relation in get_all_child_relations(model)))
    latest: dict[str, RegisterEntry] = {}
    entries = (RegisterEntry.objects
               .filter(content_type=base_content_type(objects[0]),
                       object_id__in=[str(obj.pk) for obj in objects])
               .only(*_ENTRY_FIELDS).order_by("seq"))
    for entry in entries:
        latest[entry.object_id] = entry
    chosen = []
    for obj in objects:
        try:
            chosen.append(signed_object_for(obj, entry=latest.get(str(obj.pk))))
        except SignedRevisionUnavailable:
            continue  # nothing that can be shown as signed: left out of the list
    return [obj for obj in chosen if obj is not None]


def alarm_mismatch(obj, *, reason: str, entry: Expected | None, shown: str,
                   address: str = "") -> bool:
    """Record in the security log, and e-mail the object's site staff and the bureau, that
    what is stored for live ``obj`` is not what was signed — once per object, register entry
    and stored content: a reader reloading the page raises no second alarm. True when this
    call raised it."""
    stored = object_content_sha256(obj)
    subject = f"{obj._meta.label_lower}:{obj.pk}"
    fingerprint = f"{entry.seq if entry else 0}:{obj.live_revision_id}:{stored}"
    if SecurityEvent.objects.filter(event=ALARM_EVENT, subject=subject,
                                    entry__data__fingerprint=fingerprint).exists():
        return False
    record_security_event(
        event=ALARM_EVENT, outcome=SecurityEvent.Outcome.FAILURE, actor_name="发布检查",
        subject=subject, address=address,
        data={"fingerprint": fingerprint, "reason": reason, "title": str(obj),
              "entry_seq": entry.seq if entry else None, "stored_sha256": stored,
              "signed_sha256": entry.content_sha256 if entry else None, "shown": shown})
    where = f"（发布登记第 {entry.seq} 条）" if entry else ""
    on_render_mismatch(obj, f"{obj._meta.label_lower} #{obj.pk}《{obj}》：{reason}{where}；"
                            f"读者现在看到的是：{shown}")
    return True


def _objects(keys: list[tuple[int, str]]) -> dict[tuple[int, str], object]:
    """The stored objects for (content type id, object id) keys, a query per type and chunk."""
    by_type: dict[int, list[str]] = {}
    for content_type_id, object_id in keys:
        by_type.setdefault(content_type_id, []).append(object_id)
    found = {}
    for content_type_id, object_ids in by_type.items():
        model = ContentType.objects.get_for_id(content_type_id).model_class()
        if model is None:
            continue
        for start in range(0, len(object_ids), 2000):
            for obj in model._default_manager.filter(pk__in=object_ids[start:start + 2000]):
                found[(content_type_id, str(obj.pk))] = obj
    return found


MANUAL = "须人工处理："


def restore(mismatch, *, user=None) -> str:
    """Put back what the register says; returns what was done, or, beginning with
    ``MANUAL``, what a person must do when it cannot be done here."""
    try:
        if not isinstance(mismatch, Mismatch):  # another app's finding restores itself
            return mismatch.restore(user=user)
        return _restore(mismatch, user=user)
    except ReviewError as error:  # a refusal or CannotRestore: nothing was changed
        return f"{MANUAL}{error}"


def _restore(mismatch: Mismatch, *, user=None) -> str:
    model = apps.get_model(mismatch.model)
    obj = model._default_manager.filter(pk=mismatch.object_id).first()
    if obj is None:
        return "对象已被删除，无法恢复：请从备份恢复"
    obj = obj.specific if isinstance(obj, Page) else obj
    if mismatch.take_down:
        # The signed audience cannot be put back (the shared password is not signed): the
        # content goes offline until it is approved again with the audience it has now.
        TakedownAction(obj, user=user, reason="发布检查：访问范围与签名批准的不符，已撤下；"
                       "请恢复访问设置或重新提交审批").execute(skip_permission_checks=True)
        return "已撤下（访问范围与签名不符）"
    entry = (RegisterEntry.objects.filter(content_type=obj.get_base_content_type(),
                                          object_id=str(obj.pk)).order_by("-seq").first())
    if entry is None or entry.kind not in LIVE_KINDS:
        # The register is the authority here: content it does not name goes offline.
        TakedownAction(obj, user=user, reason="发布检查：在线内容没有有效的发布登记，已撤下"
                       ).execute(skip_permission_checks=True)
        return "已撤下（没有发布登记）"
    if missing := _missing_files(entry):
        raise CannotRestore(
            f"{mismatch.model} #{mismatch.object_id}《{obj}》签名批准的版本所用的"
            f"{'、'.join(missing)}已被删除，无法恢复该版本。请从备份恢复这些文件"
            "（原件库按 SHA-256 保存了它们的字节），再运行 check-live --restore；"
            "或撤稿后重新提交审批。")
    RestoreRegisteredAction(obj, entry=entry, user=user,
                            reason=f"发布检查：恢复发布登记第 {entry.seq} 条签名批准的内容"
                            ).execute()
    return f"已恢复为登记第 {entry.seq} 条的版本"


def _missing_files(entry: RegisterEntry) -> list[str]:
    """The files the approval that ``entry`` puts live names that no longer exist (the
    signed revision refers to them: putting it back would fail)."""
    missing = []
    for item in (approval_of_entry(entry) or {}).get("attachments") or []:
        model = file_model(item.get("kind", ""))
        if model is not None and not model.objects.filter(pk=item.get("id")).exists():
            missing.append(f"{kind_label(item['kind'])} #{item['id']}"
                           f"《{item.get('title') or item.get('filename')}》"
                           f"（SHA-256 {item.get('sha256')}）")
    return missing
