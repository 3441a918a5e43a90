"""Screening Wagtail objects: which parts of a page or snippet are screened, with which
lexicon, and what the screening task stores.

Generic over any model: its text fields, rich text, StreamField blocks (rich text, text,
tables, nested structures), its child objects (an article's attachment titles) and the files
it declares through ``review_attachments()``. The same walk sanitises HTML on save and puts
the authors' one-click masks in. Settings name the screener the task calls:
``REVIEW_SCREENER = "dotted.path"``, a callable ``(obj) -> list[Finding]``.
"""

import dataclasses
import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.db.models import Count, Max
from django.utils.module_loading import import_string
from modelcluster.models import get_all_child_relations
from wagtail import blocks
from wagtail.contrib.table_block.blocks import TableBlock
from wagtail.fields import RichTextField, StreamField
from wagtail.rich_text import RichText

from review.exceptions import ExtractionError
from review.screening import expression
from review.screening.extract import SUPPORTED
from review.screening.markup.sanitise import sanitise_rich_text
from review.screening.matching import CompiledLexicon, Term
from review.screening.models import (
    AllowListEntry,
    LexiconEntry,
    ProtectedName,
    TypoEntry,
    WordingRule,
)
from review.screening.screener import REVIEW, Finding, screen_file, screen_html, screen_text

# Fields that record where and how an object is kept, not what it says.
NOT_CONTENT = frozenset({"draft_title", "url_path", "path", "translation_key",
                         "live_revision", "latest_revision"})


@dataclass
class Slot:
    """One screened piece of an object: a text or HTML value that can be read and replaced."""

    field: str
    is_html: bool
    get: Callable[[], str]
    set: Callable[[str], None]


def _attribute_slot(obj, name: str, label: str, *, is_html: bool) -> Slot:
    return Slot(label, is_html, lambda: getattr(obj, name) or "",
                lambda value: setattr(obj, name, value))


def _item_slot(container, key, label: str, *, is_html: bool) -> Slot:
    def put(value):
        container[key] = value
    return Slot(label, is_html, lambda: container[key] or "", put)


def _block_slots(block, value, label: str) -> Iterator[Slot]:
    if isinstance(value, RichText):
        yield Slot(label, True, lambda: value.source or "",
                   lambda source: setattr(value, "source", source))
    elif isinstance(getattr(value, "contextual_alt_text", None), str):
        # An image block's alt text, typed per use and printed in the page.
        yield Slot(f"{label}.alt", False, lambda: value.contextual_alt_text or "",
                   lambda alt: setattr(value, "contextual_alt_text", alt))
    elif isinstance(block, blocks.StreamBlock | blocks.ListBlock):
        # Stream and list children are bound blocks whose ``value`` can be replaced.
        children = value if isinstance(block, blocks.StreamBlock) else value.bound_blocks
        for index, child in enumerate(children):
            yield from _child_slots(child, f"{label}[{index}]")
    elif isinstance(block, blocks.StructBlock) and isinstance(value, dict):
        # (Some struct blocks, like ImageBlock, hand back a model instance instead.)
        for name, child_block in block.child_blocks.items():
            if isinstance(value.get(name), str):
                yield _item_slot(value, name, f"{label}.{name}",
                                 is_html=isinstance(child_block, blocks.RawHTMLBlock))
            else:
                yield from _block_slots(child_block, value.get(name), f"{label}.{name}")
    elif isinstance(block, TableBlock) and isinstance(value, dict):
        for row_index, row in enumerate(value.get("data") or []):
            for column_index, cell in enumerate(row or []):
                if isinstance(cell, str) and cell:
                    yield _item_slot(row, column_index,
                                     f"{label}[{row_index}][{column_index}]", is_html=False)
        if isinstance(value.get("table_caption"), str):
            yield _item_slot(value, "table_caption", f"{label}.caption", is_html=False)


def _child_slots(child, label: str) -> Iterator[Slot]:
    if isinstance(child.value, str):
        yield Slot(label, isinstance(child.block, blocks.RawHTMLBlock),
                   lambda: child.value or "", lambda value: setattr(child, "value", value))
    else:
        yield from _block_slots(child.block, child.value, label)


def _model_slots(obj, prefix: str = "") -> Iterator[Slot]:
    for field in obj._meta.concrete_fields:
        label = prefix + field.name
        if isinstance(field, StreamField):
            for index, child in enumerate(getattr(obj, field.name)):
                yield from _child_slots(child, f"{label}[{index}]")
        elif isinstance(field, RichTextField):
            yield _attribute_slot(obj, field.name, label, is_html=True)
        elif (isinstance(field, models.CharField | models.TextField) and field.editable
              and not field.choices and field.name not in NOT_CONTENT):
            yield _attribute_slot(obj, field.name, label, is_html=False)


def content_slots(obj) -> list[Slot]:
    """The object's screened pieces, its child objects' (inline panels) included."""
    slots = list(_model_slots(obj))
    for relation in get_all_child_relations(type(obj)):
        accessor = relation.get_accessor_name()
        for index, child in enumerate(getattr(obj, accessor).all()):
            slots += _model_slots(child, prefix=f"{accessor}[{index}].")
    return slots


# --- The lexicon ---------------------------------------------------------------------------

SCREENED_LISTS = (LexiconEntry, AllowListEntry, ProtectedName, WordingRule, TypoEntry)


def site_names() -> tuple[expression.ProtectedName, ...]:
    """Names every site goes by (its Wagtail site name) and the names the
    ``review_protected_names`` hook adds: functions returning (name, title) pairs or
    ``review.screening.expression.ProtectedName`` records (the cms feeds the bureau's and
    schools' names and leaders through it)."""
    from wagtail import hooks
    from wagtail.models import Site

    names = [expression.ProtectedName(name=name.strip()) for name in
             Site.objects.exclude(site_name="").values_list("site_name", flat=True)
             if len(name.strip()) >= 2]
    for hook in hooks.get_hooks("review_protected_names"):
        for entry in hook():
            name, title = ((entry.name, entry.title)
                           if isinstance(entry, expression.ProtectedName) else entry)
            if len(name.strip()) >= 2:
                names.append(expression.ProtectedName(name=name.strip(), title=title.strip()))
    return tuple(sorted(set(names), key=lambda n: (n.name, n.title)))


def lexicon_version() -> tuple:
    """Changes whenever an entry is added, edited or deleted (one aggregate query each), or a
    name the sites and the hook give changes."""
    counts = [tuple(model.objects.aggregate(count=Count("pk"), changed=Max("updated_at"))
                    .values()) for model in SCREENED_LISTS]
    return (*counts, site_names())


@functools.lru_cache(maxsize=2)
def _compiled(version: tuple) -> CompiledLexicon:
    terms = [Term(word, category, severity) for word, category, severity in
             LexiconEntry.objects.values_list("word", "category", "severity").iterator()]
    allowed = AllowListEntry.objects.values_list("word", flat=True)
    names = [expression.ProtectedName(name=name, title=title) for name, title in
             ProtectedName.objects.values_list("name", "title")] + list(version[-1])
    rules = [expression.WordingRule(wrong=wrong, right=right, severity=severity, note=note)
             for wrong, right, severity, note in
             WordingRule.objects.values_list("wrong", "right", "severity", "note")]
    typos = [expression.TypoPair(wrong=wrong, right=right)
             for wrong, right in TypoEntry.objects.values_list("wrong", "right")]
    expressions = expression.CompiledExpressions(names=names, rules=rules, typos=typos)
    return CompiledLexicon(terms, allowed, expressions=expressions)


def current_lexicon() -> CompiledLexicon:
    """The lexicon (words, protected names, wording rules, typos) as it is now, compiled once
    per change and process."""
    return _compiled(lexicon_version())


# --- Screening -----------------------------------------------------------------------------

def attachment_findings(obj, *, lexicon: CompiledLexicon) -> list[Finding]:
    """The files ``obj`` declares: their titles (shown as link text and alt text) and, for
    documents, their text. A document that cannot be read is left to people."""
    findings: list[Finding] = []
    for file in getattr(obj, "review_attachments", lambda: [])():
        name = file.filename
        label = f"附件：{name}"
        for attribute in ("title", "description"):
            value = getattr(file, attribute, "")
            if isinstance(value, str) and value:
                findings += screen_text(value, lexicon=lexicon, field=f"{label}（{attribute}）")
        if hasattr(file, "get_rendition"):
            continue  # an image: no text to read (no OCR)
        if not name.lower().endswith(SUPPORTED):
            findings.append(_attachment_problem(
                "unsupported", name, f"无法读取此类文件的文字，请人工检查：{name}", label))
            continue
        try:
            with file.file.open("rb") as handle:
                found = screen_file(handle, name=name, lexicon=lexicon)
        except (ExtractionError, OSError) as error:
            # Not read is not screened: a person must look at it.
            findings.append(_attachment_problem("unreadable", name, str(error), label))
            continue
        findings += [dataclasses.replace(f, field=label) for f in found]
    return findings


def _attachment_problem(rule: str, name: str, context: str, label: str) -> Finding:
    return Finding(kind="attachment_error", severity=REVIEW, category="attachment", rule=rule,
                   start=0, end=0, match=name, context=context, field=label)


def screen_findings(obj, *, lexicon: CompiledLexicon | None = None,
                    attachments: bool = True) -> list[Finding]:
    lexicon = lexicon or current_lexicon()
    findings: list[Finding] = []
    for slot in content_slots(obj):
        value = slot.get()
        if not value:
            continue
        screen = screen_html if slot.is_html else screen_text
        findings += screen(value, lexicon=lexicon, field=slot.field)
    if attachments:
        findings += attachment_findings(obj, lexicon=lexicon)
    return findings


def screen_object(obj) -> list[Finding]:
    """The configured screener: everything in the object, attachments included."""
    return screen_findings(obj)


def pass_everything(obj) -> list[Finding]:
    return []


def screen(obj) -> list[Finding]:
    """What the configured screener (``REVIEW_SCREENER``) finds in ``obj``. A screener returns
    findings; one written against the stored form may return their JSON dicts instead."""
    path = getattr(settings, "REVIEW_SCREENER", "review.screening.objects.screen_object")
    return [finding if isinstance(finding, Finding) else Finding.from_json(finding)
            for finding in import_string(path)(obj)]


# --- Changing content: sanitising and masking ----------------------------------------------

def sanitise_html(obj) -> bool:
    """Sanitise every HTML piece of ``obj`` in place; True when anything changed."""
    changed = False
    for slot in content_slots(obj):
        if not slot.is_html:
            continue
        value = slot.get()
        clean = sanitise_rich_text(value) if value else value
        if clean != value:
            slot.set(clean)
            changed = True
    return changed


def replace_text(obj, *, old: str, new: str, whole_number: bool = False) -> int:
    """Replace ``old`` by ``new`` in every screened piece of ``obj``; how many pieces changed.
    With ``whole_number``, only where ``old`` is not part of a longer run of digits."""
    if not old:
        return 0
    pattern = re.compile((r"(?<!\d)" + re.escape(old) + r"(?!\d)") if whole_number
                         else re.escape(old))
    changed = 0
    for slot in content_slots(obj):
        value = slot.get()
        replaced = pattern.sub(lambda _: new, value)
        if replaced != value:
            slot.set(replaced)
            changed += 1
    return changed


def field_labels(model) -> dict[str, str]:
    """The model's field and child relation names → their verbose names, for showing where
    a finding is (review.screening.findings.readable_location)."""
    labels = {field.name: str(field.verbose_name) for field in model._meta.concrete_fields}
    for relation in get_all_child_relations(model):
        labels[relation.get_accessor_name()] = str(relation.related_model._meta.verbose_name)
    return labels
