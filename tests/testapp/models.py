"""A snippet with drafts, revisions and a workflow, installed only for the tests: it proves the
pipeline is generic over snippets (teachers' resources will be one) and shows the pattern —
a snippet belongs to an organisation's site and takes that site's workflow."""

from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from wagtail.models import DraftStateMixin, LockableMixin, RevisionMixin, WorkflowMixin


class Notice(WorkflowMixin, DraftStateMixin, LockableMixin, RevisionMixin, models.Model):
    home = models.ForeignKey("wagtailcore.Page", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=200)
    text = models.TextField(blank=True)

    _revisions = GenericRelation("wagtailcore.Revision", related_query_name="notice")
    workflow_states = GenericRelation(
        "wagtailcore.WorkflowState", content_type_field="base_content_type",
        object_id_field="object_id", related_query_name="notice", for_concrete_model=False)

    def __str__(self):
        return self.title

    @property
    def revisions(self):
        return self._revisions

    def get_site(self):
        return self.home.get_site()

    def get_workflow(self):
        return self.home.get_workflow()
