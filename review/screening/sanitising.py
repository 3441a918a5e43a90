"""Sanitising HTML on save (bleach, markup.sanitise): every rich-text value and HTML block of
any model, whether it arrives through the admin, the API or an import script. Saving a model
and saving a revision are the two places every such path goes through. Sanitising is
idempotent, so content that was approved is never changed by publishing it."""

import functools

from wagtail.fields import RichTextField, StreamField

from review.screening.objects import sanitise_html


@functools.cache
def holds_html(model) -> bool:
    return any(isinstance(field, RichTextField | StreamField)
               for field in model._meta.concrete_fields)


def sanitise_on_save(sender, instance, raw=False, **kwargs) -> None:
    if raw or not holds_html(sender):
        return
    sanitise_html(instance)


def sanitise_revision(sender, instance, raw=False, **kwargs) -> None:
    """A revision's content is the object serialised: sanitise the object and serialise it
    again when anything changed."""
    if raw or not instance._state.adding or instance.content_type_id is None:
        return  # a stored revision is never rewritten
    model = instance.content_type.model_class()
    if model is None or not holds_html(model):
        return
    obj = instance.as_object()
    if sanitise_html(obj):
        instance.content = obj.serializable_data()
