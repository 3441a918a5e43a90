"""What a reader sees of an object, reduced to one hash.

An object's content is its ``serializable_data()`` (the same dict Wagtail stores as a
revision's content) without bookkeeping: tree position, publication state, locks, ids and
timestamps. Two objects have the same content hash exactly when what they show is the same.
Plain functions over dicts, no Django.
"""

import contextlib
import json
from collections.abc import Mapping
from typing import Any

from review.canonical import canonical_json, sha256_hex

# Keys that record where and how an object is kept, not what it says.
BOOKKEEPING_KEYS = frozenset({
    "pk", "id", "path", "depth", "numchild", "url_path", "content_type", "live",
    "has_unpublished_changes", "first_published_at", "last_published_at",
    "latest_revision_created_at", "live_revision", "latest_revision", "draft_title",
    "locked", "locked_at", "locked_by", "owner", "expired", "go_live_at", "expire_at",
    "locale", "translation_key", "alias_of", "comments", "wagtail_admin_comments",
})


def content_data(data: Mapping[str, Any], *,
                 child_parent_keys: Mapping[str, str] | None = None,
                 json_text_keys: frozenset[str] = frozenset()) -> dict[str, Any]:
    """``data`` without bookkeeping keys.

    ``child_parent_keys`` maps each child relation (e.g. ``attachments``) to its foreign key
    back to the parent (e.g. ``page``), which only repeats the parent's id.
    ``json_text_keys`` name values that are JSON held as text (StreamFields): they are
    parsed, so that the key order a database gives back (PostgreSQL's jsonb reorders keys)
    does not change the hash.
    """
    child_parent_keys = child_parent_keys or {}
    cleaned: dict[str, Any] = {}
    for key, value in data.items():
        if key in BOOKKEEPING_KEYS:
            continue
        if key in json_text_keys and isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        if key in child_parent_keys and isinstance(value, list):
            parent_key = child_parent_keys[key]
            value = [{k: v for k, v in content_data(item).items() if k != parent_key}
                     for item in value]
        cleaned[key] = value
    return cleaned


def content_sha256(data: Mapping[str, Any], *,
                   child_parent_keys: Mapping[str, str] | None = None,
                   json_text_keys: frozenset[str] = frozenset()) -> str:
    """SHA-256 (hex) of the RFC 8785 canonical JSON of the object's content."""
    return sha256_hex(canonical_json(content_data(data, child_parent_keys=child_parent_keys,
                                                  json_text_keys=json_text_keys)))
