"""Drafts autosave leaves behind, and the addresses they hold (issue 18, finding 8).

Wagtail 8's create view autosaves: the page exists as a draft, with the slug made from its
title, as soon as the author has typed for a moment. An author who leaves and starts again
with the same title met "该 slug 已被使用" from a draft nobody ever submitted.

What we do: when the only siblings holding the slug are such stray drafts, the new page takes
the next free readable slug (``开学典礼`` → ``开学典礼-2``) and the author is told, with a link
to the older draft. Nothing is deleted or changed: the older draft is the author's text
(autosave wrote it without asking, so removing it without asking would lose work), and a page
that ever entered the workflow or was published keeps its claim to the address — a clash with
such a page is still an error the editor must resolve, since that address is (or was) public
and is recorded in the register.
"""

from __future__ import annotations

import re

from django.contrib.contenttypes.models import ContentType
from wagtail.models import Page, WorkflowState

_SUFFIX = re.compile(r"^(?P<base>.+)-(?P<number>[0-9]{1,6})$")


def next_free_slug(*, slug: str, taken: frozenset[str], max_length: int = 255) -> str:
    """The first of ``slug-2``, ``slug-3``, … not in ``taken`` (``slug-2`` given: ``slug-3``),
    cut so that it fits ``max_length``."""
    match = _SUFFIX.match(slug)
    base, number = (match["base"], int(match["number"])) if match else (slug, 1)
    while True:
        number += 1
        suffix = f"-{number}"
        candidate = base[:max_length - len(suffix)] + suffix
        if candidate not in taken:
            return candidate


def stray_drafts(pages) -> list[Page]:
    """Those of ``pages`` that are stray drafts: never live, never published, never submitted
    to a workflow (no workflow state of any status), no children, no alias."""
    candidates = [page for page in pages
                  if not page.live and page.first_published_at is None
                  and page.last_published_at is None and page.alias_of_id is None
                  and page.numchild == 0]
    if not candidates:
        return []
    submitted = set(WorkflowState.objects.filter(
        base_content_type=ContentType.objects.get_for_model(Page),
        object_id__in=[str(page.pk) for page in candidates],
    ).values_list("object_id", flat=True))
    return [page for page in candidates if str(page.pk) not in submitted]


def slug_beside_stray_drafts(*, slug: str, parent: Page | None,
                             page: Page | None) -> tuple[str, list[Page]] | None:
    """(free slug, the stray drafts holding ``slug``) when only stray drafts among ``parent``'s
    children (other than ``page``) hold ``slug``; None when the slug is free or a page that
    is no stray draft holds it."""
    if parent is None or not slug:
        return None
    siblings = parent.get_children()
    if page is not None and page.pk:
        siblings = siblings.not_page(page)
    holders = list(siblings.filter(slug=slug))
    if not holders:
        return None
    strays = stray_drafts(holders)
    if len(strays) != len(holders):
        return None
    max_length = Page._meta.get_field("slug").max_length
    # Every candidate starts with the slug's base, cut to at most 240 characters.
    match = _SUFFIX.match(slug)
    prefix = (match["base"] if match else slug)[:240]
    taken = frozenset(siblings.filter(slug__startswith=prefix).values_list("slug", flat=True))
    return next_free_slug(slug=slug, taken=taken, max_length=max_length), strays
