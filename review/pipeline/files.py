"""Files live content uses: a document or image that the signed approval of a live page or
snippet names is what readers download or see, so it cannot be deleted while it is — from
the admin's delete view, its bulk delete, API v3 or code (``delete()``, a queryset's
``delete()``): a ``pre_delete`` receiver refuses with ``FileInUse``, inside the deletion's
transaction, before any row or file is removed.

"Live content using a file" is read from the register, not from any domain model: the
objects whose register entries name the file (``kind`` and ``id`` in an approval's
``attachments``), together with those Wagtail's reference index says refer to it (it may lag
behind: a background task keeps it), and of those, the ones live now whose live revision's
signed approval names the file. Content that refers to a file its approval does not name
(attached behind the pipeline's back) does not show it to readers, and does not keep it.
"""

from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import DraftStateMixin, Page, ReferenceIndex

from review.exceptions import FileInUse
from review.register.models import RegisterEntry
from review.register.signed import signed_approval, signed_file

__all__ = ["FileInUse", "LiveUse", "file_kind", "is_file", "live_uses", "refuse_deleting_used"]

# How many users a refusal names before "等 N 项".
NAMED_USERS = 5


def file_models() -> tuple[type, ...]:
    return (get_document_model(), get_image_model())


def is_file(instance) -> bool:
    return isinstance(instance, file_models())


def file_kind(file) -> str:
    """The ``kind`` an approval names the file by (review.pipeline.approvals)."""
    return file._meta.model_name


@dataclass(frozen=True)
class LiveUse:
    """A live page or snippet whose signed approval names the file."""

    obj: object
    signed: dict  # the file's entry in that approval

    @property
    def label(self) -> str:
        site = ""
        if isinstance(self.obj, Page):
            found = self.obj.get_site()
            site = f"（{found.hostname}）" if found is not None else ""
        return f"《{self.obj}》{site}"


def _candidates(file) -> set[tuple[int, str]]:
    """(base content type id, object id) of everything that may use ``file``: what the
    register's entries name it in (their JSON text, a first sieve that ``signed_file`` then
    decides on) and what the reference index says refers to it."""
    kind = file_kind(file)
    keys = set(RegisterEntry.objects
               .filter(kind=RegisterEntry.Kind.PUBLICATION,
                       entry__icontains=f'"id": {file.pk}')
               .filter(entry__icontains=f'"kind": "{kind}"')
               .values_list("content_type_id", "object_id").distinct())
    keys.update((content_type_id, str(object_id)) for content_type_id, object_id in
                ReferenceIndex.get_references_to(file)
                .values_list("base_content_type_id", "object_id").distinct())
    return keys


def live_uses(file) -> list[LiveUse]:
    """The live pages and snippets whose live revision's signed approval names ``file``."""
    kind = file_kind(file)
    by_type: dict[int, list[str]] = {}
    for content_type_id, object_id in _candidates(file):
        by_type.setdefault(content_type_id, []).append(object_id)
    uses = []
    for content_type_id, object_ids in sorted(by_type.items()):
        model = ContentType.objects.get_for_id(content_type_id).model_class()
        if model is None or not issubclass(model, DraftStateMixin):
            continue
        for obj in model._default_manager.filter(pk__in=object_ids, live=True).order_by("pk"):
            obj = obj.specific if isinstance(obj, Page) else obj
            signed = signed_file(signed_approval(obj), kind=kind, file_id=file.pk)
            if signed is not None:
                uses.append(LiveUse(obj=obj, signed=signed))
    return uses


def in_use_message(file, uses: list[LiveUse]) -> str:
    names = "、".join(use.label for use in uses[:NAMED_USERS])
    if len(uses) > NAMED_USERS:
        names += f" 等 {len(uses)} 项"
    what = "图片" if isinstance(file, get_image_model()) else "文档"
    return (f"{what}《{file}》正在被线上内容使用，不能删除：{names}。"
            f"请先在这些内容中去掉它并重新审批（或先撤稿），再删除。")


def refuse_deleting_used(sender, instance, **kwargs) -> None:
    """Receiver of ``pre_delete``: a file live content uses is not deleted."""
    if not is_file(instance):
        return
    if uses := live_uses(instance):
        raise FileInUse(in_use_message(instance, uses), uses=uses)
