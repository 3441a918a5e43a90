"""check-live for files: are the bytes readers get of every file live content uses exactly
the bytes its signed approval names?

The files come from the register alone: each live page's and snippet's latest entry (a
restoration's files are those of the publication it restores), when its revision is the
one live, names its files with their SHA-256. Each distinct file is checked once, however
many pages use it.

Where readers' bytes of a file live is the project's business, not the engine's: a
``review_signed_file`` hook (``fn(*, kind, file_id, signed) -> SignedBytes | None``; the
first answer that is not None counts) tells. cms answers with its write-once originals
store, which is what it serves by the signed hash — so a file replaced since (a new version
waiting for approval) is neither reported nor reverted. Without a hook, the engine checks the
Wagtail document's or image's current file, and can restore nothing.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from wagtail import hooks
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import DraftStateMixin

from review.exceptions import CannotRestore
from review.pipeline.approvals import file_sha256
from review.register.models import RegisterEntry
from review.register.signed import LIVE_KINDS, MAX_RESTORATIONS

__all__ = ["CannotRestore", "SignedBytes", "SignedFileMismatch", "check_signed_files",
           "kind_label", "live_signed_files"]


class SignedBytes(Protocol):
    """What a ``review_signed_file`` hook answers for one signed file."""

    def problem(self) -> str | None:
        """None when readers get exactly the signed bytes; else why not (in Chinese)."""

    def restore(self) -> str:
        """Put the signed bytes back where readers get them; what was done. Raises
        ``CannotRestore`` saying what a person must do."""


def kind_label(kind: str) -> str:
    return {"document": "文档", "image": "图片"}.get(kind, kind)


def file_model(kind: str):
    for model in (get_document_model(), get_image_model()):
        if model._meta.model_name == kind:
            return model
    return None


@dataclass(frozen=True)
class Use:
    """A live object (by base content type and id) whose latest entry signs the file."""

    content_type_id: int
    object_id: str
    seq: int


@dataclass(frozen=True)
class SignedFileMismatch:
    kind: str
    file_id: int
    sha256: str
    file_title: str
    reason: str
    uses: tuple[Use, ...]
    bytes_: SignedBytes = field(compare=False, repr=False)

    @property
    def model(self) -> str:  # for notifications: the first user's staff hear of it
        model = ContentType.objects.get_for_id(self.uses[0].content_type_id).model_class()
        return model._meta.label_lower if model else "file"

    @property
    def object_id(self) -> str:
        return self.uses[0].object_id

    def __str__(self) -> str:
        first = self.uses[0]
        obj = _object(first)
        more = f" 等 {len(self.uses)} 项" if len(self.uses) > 1 else ""
        return (f"{kind_label(self.kind)} #{self.file_id}《{self.file_title}》"
                f"（SHA-256 {self.sha256[:12]}…，{self.model} #{first.object_id}"
                f"《{obj if obj is not None else '?'}》{more}使用，发布登记第 {first.seq} 条）："
                f"{self.reason}")

    def restore(self, *, user=None) -> str:
        try:
            return self.bytes_.restore()
        except CannotRestore as error:
            return f"须人工处理：{error}"


def _object(use: Use):
    model = ContentType.objects.get_for_id(use.content_type_id).model_class()
    if model is None:
        return None
    return model._default_manager.filter(pk=use.object_id).first()


class CurrentFileBytes:
    """Without a hook: readers get the file model's current file."""

    def __init__(self, *, kind: str, file_id: int, signed: dict):
        self.kind, self.file_id, self.signed = kind, file_id, signed

    def _file(self):
        model = file_model(self.kind)
        return model.objects.filter(pk=self.file_id).first() if model else None

    def problem(self) -> str | None:
        file = self._file()
        if file is None:
            return "文件已被删除"
        try:
            digest = file_sha256(file.file)
        except OSError:
            return "文件的字节已丢失"
        return None if digest == self.signed["sha256"] else "文件的字节与签名批准的不符"

    def restore(self) -> str:
        raise CannotRestore(f"没有保存签名批准字节的原件库：请从备份恢复{kind_label(self.kind)} "
                            f"#{self.file_id}（SHA-256 {self.signed['sha256']}），"
                            "或重新提交使用它的内容审批。")


def signed_bytes(*, kind: str, file_id: int, signed: dict) -> SignedBytes:
    for hook in hooks.get_hooks("review_signed_file"):
        if (answer := hook(kind=kind, file_id=file_id, signed=signed)) is not None:
            return answer
    return CurrentFileBytes(kind=kind, file_id=file_id, signed=signed)


def _live_revisions() -> dict[tuple[int, str], int | None]:
    """(base content type id, object id) → live revision id, of every live page and
    snippet: one query per base model, nothing but two columns."""
    live: dict[tuple[int, str], int | None] = {}
    for model in apps.get_models():
        if (not issubclass(model, DraftStateMixin) or model._meta.proxy
                or model._meta.get_parent_list()):
            continue  # a page type's rows are read through wagtailcore.Page
        content_type_id = ContentType.objects.get_for_model(model).pk
        for pk, revision_id in (model._default_manager.filter(live=True)
                                .values_list("pk", "live_revision_id")
                                .iterator(chunk_size=10_000)):
            live[(content_type_id, str(pk))] = revision_id
    return live


def live_signed_files() -> dict[tuple[str, int, str], tuple[dict, list[Use]]]:
    """(kind, file id, SHA-256) → (the signed file entry, the live objects signing it), for
    every live object whose latest register entry is the publication (or restoration) of its
    live revision."""
    latest: dict[tuple[int, str], tuple] = {}
    rows = (RegisterEntry.objects.order_by("seq")
            .values_list("content_type_id", "object_id", "seq", "kind", "revision_id")
            .iterator(chunk_size=10_000))
    for content_type_id, object_id, seq, kind, revision_id in rows:
        latest[(content_type_id, object_id)] = (seq, kind, revision_id)
    live = _live_revisions()
    signing = {seq: Use(key[0], key[1], seq) for key, (seq, kind, revision_id) in latest.items()
               if kind in LIVE_KINDS and key in live and live[key] == revision_id}
    found: dict[tuple[str, int, str], tuple[dict, list[Use]]] = {}
    for use, attachments in _attachments_of(signing):
        for item in attachments or []:
            if not all(key in item for key in ("kind", "id", "sha256")):
                continue
            key = (item["kind"], item["id"], item["sha256"])
            found.setdefault(key, (item, []))[1].append(use)
    return found


def _attachments_of(signing: dict[int, Use]) -> Iterator[tuple[Use, list]]:
    """Each use with the ``attachments`` its entry signed: a restoration's are those of the
    publication it restores (followed as far as ``MAX_RESTORATIONS``)."""
    pending = dict(signing)  # seq to read → the use it is for
    for _ in range(MAX_RESTORATIONS):
        if not pending:
            return
        following: dict[int, Use] = {}
        seqs = list(pending)
        for start in range(0, len(seqs), 5000):
            for seq, kind, attachments, restores in (
                    RegisterEntry.objects.filter(seq__in=seqs[start:start + 5000])
                    .values_list("seq", "kind", "entry__approval__attachments",
                                 "entry__approval__restores_seq")):
                if kind == RegisterEntry.Kind.PUBLICATION:
                    yield pending[seq], attachments
                elif kind == RegisterEntry.Kind.RESTORATION and restores is not None:
                    following[int(restores)] = pending[seq]
        pending = following


def check_signed_files(*, progress: Callable[[int], None] | None = None
                       ) -> list[SignedFileMismatch]:
    findings = []
    for count, ((kind, file_id, sha256), (signed, uses)) in enumerate(
            sorted(live_signed_files().items(), key=lambda item: item[0][:2]), start=1):
        answer = signed_bytes(kind=kind, file_id=file_id, signed=signed)
        if (reason := answer.problem()) is not None:
            findings.append(SignedFileMismatch(
                kind=kind, file_id=file_id, sha256=sha256,
                file_title=signed.get("title") or signed.get("filename") or "",
                reason=reason, uses=tuple(sorted(uses, key=lambda use: use.seq)),
                bytes_=answer))
        if progress and count % 1000 == 0:
            progress(count)
    return findings
