"""Appending to the publication register: one chained entry per publication or takedown."""

import datetime
from typing import TYPE_CHECKING

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from wagtail.models import Page

from review.canonical import entry_hash
from review.register.models import RegisterEntry, RegisterHead

if TYPE_CHECKING:  # the register is below the pipeline: a type only
    from review.pipeline.records import Approval


def iso_utc(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


@transaction.atomic
def append_entry(
    *,
    kind: str,
    obj,
    approval: dict,
    signature: dict | None,
    published_by: str,
    revision=None,
    revision_id: int | None = None,
    content_sha256: str = "",
    approval_record: "Approval | None" = None,
) -> RegisterEntry:
    """Append one entry, chained to the head, in the caller's transaction.

    The head row is locked first, so concurrent publications (other processes, other
    servers) wait for each other rather than both claiming the same ``seq``.
    """
    head = RegisterHead.objects.select_for_update().get(pk=1)
    published_at = timezone.now()
    entry = {
        "seq": head.seq + 1,
        "kind": kind,
        "approval": approval,
        "signature": signature,
        "published_at": iso_utc(published_at),
        "published_by": published_by,
        "prev_hash": head.entry_hash,
    }
    row = RegisterEntry.objects.create(
        seq=entry["seq"], kind=kind, entry=entry, entry_hash=entry_hash(entry),
        content_type=base_content_type(obj), object_id=str(obj.pk),
        revision_id=revision.pk if revision is not None else revision_id,
        content_sha256=content_sha256,
        approval_record=approval_record, published_at=published_at,
    )
    head.seq, head.entry_hash = row.seq, row.entry_hash
    head.save(update_fields=["seq", "entry_hash"])
    return row


@transaction.atomic
def append_many(records: list[dict]) -> list[RegisterEntry]:
    """Append many entries at once (bulk imports, benchmarks), chained like ``append_entry``.

    Each record has ``kind``, ``content_type``, ``object_id``, ``approval``, ``signature``,
    ``published_by`` and optionally ``published_at``, ``revision_id``, ``content_sha256`` and
    ``approval_record``. Signatures must have been checked by the caller.
    """
    head = RegisterHead.objects.select_for_update().get(pk=1)
    rows, previous, seq = [], head.entry_hash, head.seq
    for record in records:
        seq += 1
        published_at = record.get("published_at") or timezone.now()
        entry = {"seq": seq, "kind": record["kind"], "approval": record["approval"],
                 "signature": record["signature"], "published_at": iso_utc(published_at),
                 "published_by": record["published_by"], "prev_hash": previous}
        previous = entry_hash(entry)
        rows.append(RegisterEntry(
            seq=seq, kind=record["kind"], entry=entry, entry_hash=previous,
            content_type=record["content_type"], object_id=str(record["object_id"]),
            revision_id=record.get("revision_id"), content_sha256=record.get("content_sha256", ""),
            approval_record=record.get("approval_record"), published_at=published_at))
    RegisterEntry.objects.bulk_create(rows, batch_size=2000)
    head.seq, head.entry_hash = seq, previous
    head.save(update_fields=["seq", "entry_hash"])
    return rows


def site_hostname(obj) -> str | None:
    """The host name of the site the object is shown on: a page's site, or the site a
    snippet declares with ``get_site()``; None for a snippet that belongs to no site."""
    site = obj.get_site() if hasattr(obj, "get_site") else None
    return site.hostname if site else None


def describe_object(obj) -> dict:
    """How a register entry names what it is about: the same keys for publications and
    takedowns, for pages and snippets."""
    return {
        "model": obj._meta.label_lower,
        "object_id": str(obj.pk),
        "page_id": obj.pk if isinstance(obj, Page) else None,
        "site": site_hostname(obj),
        "title": str(obj),
        "url": getattr(obj, "full_url", None),
    }


def object_of(entry: RegisterEntry):
    """The (specific) object an entry is about."""
    obj = entry.content_type.get_object_for_this_type(pk=entry.object_id)
    return obj.specific if hasattr(obj, "specific") else obj


def base_content_type(obj) -> ContentType:
    """Pages are keyed by wagtailcore.Page, as Wagtail keys their revisions, so a base
    ``Page`` instance and its specific instance find the same entries."""
    return obj.get_base_content_type()


def latest_entry_for(obj) -> RegisterEntry | None:
    return (RegisterEntry.objects.filter(content_type=base_content_type(obj),
                                         object_id=str(obj.pk))
            .order_by("-seq").first())
