"""Importing a list into a model with history: add what is new, update what changed, and with
``replace`` delete what the file no longer lists — every change in django-simple-history."""

from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history


def upsert_with_history(*, model, rows: list[dict], key: tuple[str, ...], fields: list[str],
                        replace: bool) -> dict[str, int]:
    """``rows`` hold ``key`` and ``fields``; counts of added, updated, skipped, removed."""
    existing = {tuple(getattr(entry, k) for k in key): entry for entry in model.objects.all()}
    added, updated, skipped = [], [], 0
    for row in rows:
        entry = existing.get(tuple(row[k] for k in key))
        if entry is None:
            added.append(model(**{name: row[name] for name in (*key, *fields)}))
        elif any(getattr(entry, name) != row[name] for name in fields):
            for name in fields:
                setattr(entry, name, row[name])
            entry.updated_at = timezone.now()  # bulk updates skip auto_now
            updated.append(entry)
        else:
            skipped += 1
    bulk_create_with_history(added, model, batch_size=1000)
    if updated:
        bulk_update_with_history(updated, model, [*fields, "updated_at"], batch_size=1000)
    removed = 0
    if replace:
        listed = {tuple(row[k] for k in key) for row in rows}
        for entry_key, entry in existing.items():
            if entry_key not in listed:
                entry.delete()  # one by one, so that each deletion is in the history
                removed += 1
    return {"added": len(added), "updated": len(updated), "skipped": skipped,
            "removed": removed}
