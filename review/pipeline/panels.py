"""What the screener found, shown in the editor above the content: authors see why a
submission came back (and can mask a personal number with one click); reviewers see the
findings they must weigh, highlighted in context."""

from django.contrib.contenttypes.models import ContentType
from wagtail.admin.panels import Panel
from wagtail.models import WorkflowState

from review.pipeline.tasks import ScreeningTaskState, screening_findings
from review.screening.findings import BLOCK, REVIEW, WARN, readable_location
from review.screening.objects import field_labels


def latest_screening(obj) -> ScreeningTaskState | None:
    """The screening of the object's workflow that is still open (in progress or returned for
    changes), if any."""
    if obj is None or obj.pk is None or not hasattr(obj, "get_base_content_type"):
        return None
    workflow_state = (WorkflowState.objects.active().for_instance(obj)
                      .order_by("-created_at", "-pk").first())
    if workflow_state is None:
        return None
    return (ScreeningTaskState.objects.filter(workflow_state=workflow_state)
            .order_by("-started_at", "-pk").first())


class ScreeningFindingsPanel(Panel):
    class BoundPanel(Panel.BoundPanel):
        template_name = "review/panels/screening_findings.html"

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.screening = latest_screening(self.instance)
            self.findings = self._current_findings()

        def _current_findings(self):
            """The screening's findings, or — the content changed since it ran (the author
            masked a number with one click, or edited) — those of the latest revision, so
            that a number masked is no longer shown as found."""
            if not (self.screening and self.screening.findings):
                return []
            latest = self.instance.get_latest_revision()
            return screening_findings(workflow_state=self.screening.workflow_state,
                                      revision=latest)

        def is_shown(self):
            return bool(self.findings)

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            order = {BLOCK: 0, REVIEW: 1, WARN: 2}
            findings = sorted(self.findings,
                              key=lambda f: (order.get(f.severity, 3), f.field))
            labels = field_labels(type(self.instance))
            context.update({
                "findings": findings,
                "rows": [(f, readable_location(f.field, labels=labels)) for f in findings],
                "screening": self.screening,
                "content_type_id": ContentType.objects.get_for_model(self.instance).pk,
                "object_id": self.instance.pk,
            })
            return context
