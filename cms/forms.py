"""Admin forms for the content model."""

from django import forms
from django.core.exceptions import FieldDoesNotExist, ValidationError
from wagtail.admin.forms import WagtailAdminModelForm, WagtailAdminPageForm
from wagtail.blocks import (
    BaseStreamBlock,
    BaseStructBlock,
    ChooserBlock,
    ListBlock,
    StreamBlockValidationError,
)
from wagtail.blocks.base import BlockField
from wagtail.blocks.list_block import ListValue
from wagtail.blocks.stream_block import StreamValue
from wagtail.blocks.struct_block import StructValue
from wagtail.rich_text import RichText

from cms.api_input import markup_errors, max_body_bytes, max_request_bytes
from cms.file_scope import (
    NOT_OWN_FILE,
    allowed_files,
    file_models,
    foreign_files,
    is_file_model,
    is_organisation_content,
    load_files,
    organisation_collection,
    value_file_keys,
)
from cms.stray_drafts import slug_beside_stray_drafts


class OwnFilesFormMixin:
    """Content of an organisation uses only its own documents and images (cms.file_scope).

    Choosers (cover image, attachments' documents and any other file field, in the form and
    its inline formsets) offer only those, so another organisation's file and a file that
    does not exist get the same error and the answer says nothing about either; files that
    StreamField blocks and rich text refer to are checked when the form is cleaned. The admin
    and API v3 (which binds the same form) both pass here."""

    def file_scope(self):
        """(governed, collection): whether the rule applies, and the allowed collection."""
        raise NotImplementedError

    def confine_file_choices(self) -> None:
        governed, collection = self.file_scope()
        if not governed:
            return
        forms_ = [self]
        for formset in getattr(self, "formsets", {}).values():
            forms_ += [*formset.forms, formset.empty_form]
        for form in forms_:
            for field in form.fields.values():
                model = getattr(getattr(field, "queryset", None), "model", None)
                if isinstance(field, forms.ModelChoiceField) and is_file_model(model):
                    field.queryset = allowed_files(model, collection)
                    field.error_messages = {**field.error_messages,
                                            "invalid_choice": NOT_OWN_FILE}

    def refuse_foreign_references(self) -> None:
        """Files the form's StreamField blocks and rich text refer to: own ones only. A chooser
        block's submitted id that names another organisation's file or nothing at all gets
        the same error (Wagtail would quietly drop a missing one: the difference would tell
        that the id exists), and is blanked, so that the form shown again does not show the
        file's title or preview either."""
        governed, collection = self.file_scope()
        if not governed:
            return
        for name, field in self.fields.items():
            if isinstance(field, BlockField):
                chosen = list(chosen_files(field.block, self.data, self.add_prefix(name)))
                keys = [(model, pk) for model, pk, _key in chosen]
            else:
                value = self.cleaned_data.get(name)
                model_field = _model_field(self._meta.model, name)
                if value is None or not hasattr(model_field, "extract_references"):
                    continue
                chosen = []
                keys = list(value_file_keys(model_field, value))
            refused = refused_keys(keys, collection=collection)
            if refused:
                self.add_error(name, not_own_file_error(field))
                blank(self, [key for model, pk, key in chosen if (model, pk) in refused])
        self.forget_refused_choices()

    def forget_refused_choices(self) -> None:
        """Blank a refused file choice (another organisation's, or none at all): Wagtail's
        chooser widget would show the title of whatever the submitted id names."""
        forms_ = [self]
        for formset in getattr(self, "formsets", {}).values():
            forms_ += formset.forms
        for form in forms_:
            for name, field in form.fields.items():
                model = getattr(getattr(field, "queryset", None), "model", None)
                if (isinstance(field, forms.ModelChoiceField) and is_file_model(model)
                        and name in form.errors):
                    blank(form, [form.add_prefix(name)])


def not_own_file_error(field) -> ValidationError:
    """The refusal for ``field``: a StreamField shows only a StreamBlock's errors."""
    if isinstance(field, BlockField) and isinstance(field.block, BaseStreamBlock):
        error = StreamBlockValidationError(non_block_errors=[NOT_OWN_FILE])
        error.message = NOT_OWN_FILE  # what API v3 answers (not "Validation error in …")
        return error
    return ValidationError(NOT_OWN_FILE)


def _model_field(model, name):
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:  # a form-only field refers to nothing
        return None


def chosen_files(block, data, prefix):
    """(model, pk, data key) of each document or image a StreamField's submitted form data
    chooses, read as Wagtail's block widgets read it (StreamBlock, ListBlock, StructBlock —
    ImageBlock among them — and chooser blocks)."""
    if isinstance(block, BaseStreamBlock):
        for i in range(_count(data, prefix)):
            child = block.child_blocks.get(data.get(f"{prefix}-{i}-type"))
            if child is not None and not data.get(f"{prefix}-{i}-deleted"):
                yield from chosen_files(child, data, f"{prefix}-{i}-value")
    elif isinstance(block, ListBlock):
        for i in range(_count(data, prefix)):
            if not data.get(f"{prefix}-{i}-deleted"):
                yield from chosen_files(block.child_block, data, f"{prefix}-{i}-value")
    elif isinstance(block, BaseStructBlock):
        for name, child in block.child_blocks.items():
            yield from chosen_files(child, data, f"{prefix}-{name}")
    elif isinstance(block, ChooserBlock) and is_file_model(block.model_class):
        value = data.get(prefix)
        if value not in (None, ""):
            base = next(m for m in file_models() if issubclass(block.model_class, m))
            yield base, str(value), prefix


def _count(data, prefix) -> int:
    try:
        return int(data.get(f"{prefix}-count") or 0)
    except (TypeError, ValueError):
        return 0


def refused_keys(keys, *, collection) -> set:
    """Those of (model, pk) ``keys`` naming no file, or a file of another organisation."""
    keys = {(next(m for m in file_models() if issubclass(model, m)), pk) for model, pk in keys}
    files = load_files(keys)
    found = {(next(m for m in file_models() if isinstance(f, m)), str(f.pk)) for f in files}
    foreign = {(next(m for m in file_models() if isinstance(f, m)), str(f.pk))
               for f in foreign_files(files, collection=collection)}
    return (keys - found) | foreign


def blank(form, keys) -> None:
    """Blank ``keys`` in ``form``'s bound data (the form shown again then shows no file)."""
    keys = list(keys)
    if not keys:
        return
    data = form.data.copy()
    for key in keys:
        data[key] = ""
    form.data = data


INCOMPLETE_STREAM = "提交的正文数据不完整（可能是页面没有加载完就保存了），请刷新编辑页面后重试。"


def too_large(limit: int) -> str:
    return (f"正文过大（最多 {limit // (1024 * 1024)} MB），"
            "请分成几篇发布或把大表格作为附件上传。")


def rich_text_sources(value) -> list[str]:
    """The HTML of every rich text in a field's value (a StreamField's blocks at any depth, a
    RichTextField's string)."""
    found, pending = [], [value]
    while pending:
        item = pending.pop()
        if isinstance(item, RichText):
            found.append(item.source or "")
        elif isinstance(item, str):
            found.append(item)
        elif isinstance(item, StreamValue):
            pending.extend(child.value for child in item)
        elif isinstance(item, StructValue):
            pending.extend(item.values())
        elif isinstance(item, ListValue | list | tuple):
            pending.extend(item)
    return found


def body_limit_errors(value) -> list[str]:
    """What is wrong with a field's rich text by the API's limits (cms/api_input.py): its size,
    its nesting, its tags. Linear; checked before anything sanitises or saves it."""
    sources = [source for source in rich_text_sources(value) if source]
    limit = max_body_bytes()
    if sum(len(source.encode()) for source in sources) > limit:
        return [too_large(limit)]
    return sorted({error["msg"] for error in markup_errors(sources)})


def _raw_size(data, prefix: str) -> int:
    return sum(len(value.encode()) for key in data
               if key == prefix or key.startswith(f"{prefix}-")
               for value in data.getlist(key) if isinstance(value, str)) \
        if hasattr(data, "getlist") else 0


def guard_stream_fields(form) -> None:
    """A StreamField whose submitted data is incomplete (no ``body-count``, a count that is no
    number) gets a form error instead of a 500: Wagtail's widget indexes the POST data
    directly, before any validation can answer. The form shows the field's current value
    again. The form's own copies of field and widget are wrapped: nothing is shared between
    requests.

    StreamFields and rich text fields also get the API's body limits (size, nesting, tags) as
    a form error: an enormous or pathologically nested body is refused in linear time, where
    Draftail's conversion recursed (RecursionError, a 500) or the save took minutes."""
    # Imported here: cms.models imports this module before the page models are ready.
    from wagtail.admin.rich_text.editors.draftail import DraftailRichTextArea

    for name, field in form.fields.items():
        is_stream = isinstance(field, BlockField)
        if not (is_stream or isinstance(field.widget, DraftailRichTextArea)):
            continue
        read, clean, has_changed = (field.widget.value_from_datadict, field.clean,
                                    field.has_changed)
        incomplete, refused = [], []

        def value_from_datadict(data, files, prefixed, read=read, name=name, field=field,
                                incomplete=incomplete, refused=refused, is_stream=is_stream):
            # The editor sends rich text as Draftail's JSON, about a third larger than the
            # HTML it makes: past the API's request limit it is not even converted.
            if _raw_size(data, prefixed) > max_request_bytes():
                refused.append(too_large(max_body_bytes()))
                return form.get_initial_for_field(field, name)
            try:
                value = read(data, files, prefixed)
            except RecursionError:  # Draftail's JSON or its list depth nested past Python's
                refused.append("正文嵌套过深，请简化格式（如多层列表、多层嵌套的表格）后重试。")
                return form.get_initial_for_field(field, name)
            except (KeyError, ValueError, TypeError, IndexError):
                if not is_stream:
                    raise
                incomplete.append(prefixed)
                return form.get_initial_for_field(field, name)
            refused.extend(body_limit_errors(value))
            return value

        def checked_clean(value, clean=clean, incomplete=incomplete, refused=refused):
            if incomplete:
                raise ValidationError(INCOMPLETE_STREAM, code="incomplete")
            if refused:
                raise ValidationError(refused, code="body_limit")
            return clean(value)

        def checked_has_changed(initial, data, has_changed=has_changed, incomplete=incomplete,
                                refused=refused):
            return bool(incomplete or refused) or has_changed(initial, data)

        field.widget.value_from_datadict = value_from_datadict
        field.clean = checked_clean
        field.has_changed = checked_has_changed


class CmsPageForm(OwnFilesFormMixin, WagtailAdminPageForm):
    """Reports a change only when the editor changed something, and lets a page use only its
    organisation's documents and images (OwnFilesFormMixin).

    Django gives fields with a callable model default (``date = DateField(default=localdate)``)
    ``show_hidden_initial``, and then compares the submitted value with a hidden "initial-"
    input that Wagtail's panels never render, so such a field always reads as changed. Every
    save of an untouched page — including a leader's approval from the editor — would then
    create a new revision, which no longer is the revision the reviewers saw and the leader
    signed (and, with re-approval on edit, sends the workflow back to the first review).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.show_hidden_initial = False
        guard_stream_fields(self)
        self.confine_file_choices()

    def file_scope(self):
        if not hasattr(self, "_file_scope"):
            parent = getattr(self, "parent_page", None)
            self._file_scope = (is_organisation_content(self.instance, parent=parent),
                                organisation_collection(self.instance, parent=parent))
        return self._file_scope

    def clean(self):
        self.move_slug_beside_stray_drafts()
        cleaned_data = super().clean()
        self.refuse_foreign_references()
        return cleaned_data

    def move_slug_beside_stray_drafts(self) -> None:
        """A slug only stray drafts hold (cms/stray_drafts.py) becomes the next free one, so
        that starting again after an abandoned autosaved draft works; ``slug_moved`` tells the
        view (the after-save hooks) what happened."""
        self.slug_moved = None
        slug = self.cleaned_data.get("slug")
        if not slug or "slug" in self.errors:
            return
        moved = slug_beside_stray_drafts(slug=slug, parent=getattr(self, "parent_page", None),
                                         page=self.instance)
        if moved is not None:
            self.cleaned_data["slug"] = moved[0]
            self.slug_moved = (slug, *moved)
            self.instance._slug_moved = self.slug_moved

    def get_field_updates_for_resave(self):
        # An autosave (a background request) must tell the open editor its new slug, or its
        # next autosave would send the old one again.
        updates = list(super().get_field_updates_for_resave())
        if getattr(self, "slug_moved", None):
            updates.append(("slug", self.slug_moved[1]))
        return updates


class OwnFilesModelForm(OwnFilesFormMixin, WagtailAdminModelForm):
    """A snippet's admin form (a school's resource) confined to its organisation's files."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        guard_stream_fields(self)
        self.confine_file_choices()

    def file_scope(self):
        if not hasattr(self, "_file_scope"):
            self._file_scope = (is_organisation_content(self.instance),
                                organisation_collection(self.instance))
        return self._file_scope

    def clean(self):
        cleaned_data = super().clean()
        self.refuse_foreign_references()
        return cleaned_data
