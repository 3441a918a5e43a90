"""Admin forms for the content model."""

from wagtail.admin.forms import WagtailAdminPageForm


class CmsPageForm(WagtailAdminPageForm):
    """Reports a change only when the editor changed something.

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
