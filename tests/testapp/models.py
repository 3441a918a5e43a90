"""The lean test world's models, installed only for the tests: review/ is generic over any
Wagtail page or snippet, and its tests prove it on these rather than on the education domain.

``BulletinPage`` is a plain page with rich text. ``Notice`` is a snippet with drafts,
revisions and a workflow: it shows the pattern for snippets (teachers' resources are one) —
a snippet belongs to a site and takes that site's workflow."""

from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from wagtail.api import APIField
from wagtail.fields import RichTextField
from wagtail.models import (
    DraftStateMixin,
    LockableMixin,
    Page,
    RevisionMixin,
    WorkflowMixin,
)

from review.pipeline.panels import ScreeningFindingsPanel


class BulletinPage(Page):
    body = RichTextField(blank=True)
    document = models.ForeignKey("wagtaildocs.Document", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    image = models.ForeignKey("wagtailimages.Image", null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")

    api_fields = [APIField("body", writable=True)]
    content_panels = [ScreeningFindingsPanel(), *Page.content_panels, "body", "document",
                      "image"]

    class Meta:
        verbose_name = "公告"
        verbose_name_plural = "公告"

    def review_attachments(self) -> list:
        """The files readers get with the page (review.approvals signs their hashes)."""
        return [file for file in (self.document, self.image) if file is not None]


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
