"""What the register says readers may get of an object: the approval signed for its live
revision and the files (kind, id, filename, size, SHA-256) that approval names.

A restoration entry names no files itself: it puts back the revision of an earlier entry
(``restores_seq``), whose approval does.
"""

from review.register.entries import base_content_type
from review.register.models import RegisterEntry

LIVE_KINDS = (RegisterEntry.Kind.PUBLICATION, RegisterEntry.Kind.RESTORATION)
# A restoration of a restoration of … is followed this far (a loop would be a forged chain).
MAX_RESTORATIONS = 50


def signed_approval(obj) -> dict | None:
    """The signed approval payload of ``obj``'s live revision: None when the latest register
    entry is not a publication (or a restoration of one) of the revision that is live."""
    entry = (RegisterEntry.objects.filter(content_type=base_content_type(obj),
                                          object_id=str(obj.pk)).order_by("-seq").first())
    if entry is None or entry.kind not in LIVE_KINDS:
        return None
    if entry.revision_id != getattr(obj, "live_revision_id", None):
        return None
    return approval_of_entry(entry)


def approval_of_entry(entry: RegisterEntry) -> dict | None:
    """The signed approval a publication or restoration entry puts live (a restoration's is
    that of the publication it restores); None for anything else."""
    for _ in range(MAX_RESTORATIONS):
        if entry.kind == RegisterEntry.Kind.PUBLICATION:
            return entry.entry.get("approval")
        restored = entry.entry.get("approval", {}).get("restores_seq")
        entry = RegisterEntry.objects.filter(seq=restored).first()
        if entry is None or entry.kind not in LIVE_KINDS:
            return None
    return None


def signed_file(approval: dict | None, *, kind: str, file_id: int) -> dict | None:
    """The entry of ``approval["attachments"]`` for the file ``kind`` #``file_id`` (kind is
    the model name: ``document``, ``image``), or None when the approval does not name it."""
    if not approval:
        return None
    for item in approval.get("attachments") or []:
        if item.get("kind") == kind and item.get("id") == file_id:
            return item
    return None


def published_as_live(objects: list) -> list:
    """Those of ``objects`` (of one base type) whose latest register entry is a publication
    (or restoration) of the revision that is live: what was put online without one (a
    ``live=True`` written by SQL) is left out. One query; no hashing, so that a list of
    thousands (a sitemap) stays cheap — content is hash-checked where it is shown."""
    if not objects:
        return []
    latest: dict[str, tuple] = {}
    rows = (RegisterEntry.objects
            .filter(content_type=base_content_type(objects[0]),
                    object_id__in=[str(obj.pk) for obj in objects])
            .order_by("seq").values_list("object_id", "kind", "revision_id"))
    for object_id, kind, revision_id in rows:
        latest[object_id] = (kind, revision_id)
    return [obj for obj in objects
            if latest.get(str(obj.pk), (None, None))[0] in LIVE_KINDS
            and latest[str(obj.pk)][1] == getattr(obj, "live_revision_id", None)]
