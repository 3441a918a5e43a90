"""A change of a site record (host, port, root page) or an external redirect, asked for as a
snippet that goes through the bureau's publishing workflow; when the bureau leader's signed
approval publishes it, the change is carried out (cms.sitechanges.guards). The register holds
its publication like any other: what was changed, when, by whose signature."""

from urllib.parse import urlsplit

from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.db import models
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.redirects.models import Redirect
from wagtail.models import DraftStateMixin, LockableMixin, RevisionMixin, Site, WorkflowMixin


def is_external(link: str, *, internal_hosts: frozenset[str] = frozenset()) -> bool:
    """A redirect target outside the network (``https://example.com/…``, ``//example.com``,
    another scheme); the network's own hosts are internal."""
    parts = urlsplit((link or "").strip())
    if parts.scheme not in ("", "http", "https"):
        return True
    return bool(parts.hostname) and parts.hostname.lower() not in internal_hosts


def network_hosts() -> frozenset[str]:
    return frozenset(h.lower() for h in Site.objects.values_list("hostname", flat=True))


class SiteChange(WorkflowMixin, DraftStateMixin, LockableMixin, RevisionMixin, models.Model):
    class Kind(models.TextChoices):
        SITE = "site", "修改站点（域名、端口、首页）"
        REDIRECT = "redirect", "外部跳转"

    kind = models.CharField("变更类型", max_length=16, choices=Kind.choices)
    site = models.ForeignKey(Site, verbose_name="站点", on_delete=models.PROTECT,
                             related_name="+")
    hostname = models.CharField("新域名", max_length=255, blank=True)
    port = models.PositiveIntegerField("新端口", null=True, blank=True)
    root_page = models.ForeignKey("wagtailcore.Page", verbose_name="新首页", null=True,
                                  blank=True, on_delete=models.PROTECT, related_name="+")
    old_path = models.CharField("跳转的原路径", max_length=255, blank=True,
                                help_text="本站点上的路径，如 /zhaosheng/。")
    redirect_link = models.URLField("跳转到", max_length=255, blank=True,
                                    help_text="外部网站的完整地址。")
    reason = models.TextField("变更原因")

    _revisions = GenericRelation("wagtailcore.Revision", related_query_name="site_change")
    workflow_states = GenericRelation(
        "wagtailcore.WorkflowState", content_type_field="base_content_type",
        object_id_field="object_id", related_query_name="site_change", for_concrete_model=False)

    panels = [FieldPanel("kind"), FieldPanel("site"), FieldPanel("hostname"),
              FieldPanel("port"), FieldPanel("root_page"), FieldPanel("old_path"),
              FieldPanel("redirect_link"), FieldPanel("reason")]

    class Meta:
        verbose_name = "站点与跳转变更"
        verbose_name_plural = "站点与跳转变更"

    def __str__(self):
        if self.kind == self.Kind.REDIRECT:
            return f"{self.site.hostname}{self.old_path} → {self.redirect_link}"
        return f"{self.site.hostname} → {self.hostname or self.site.hostname}:" \
               f"{self.port or self.site.port}"

    @property
    def revisions(self):
        return self._revisions

    def portal(self):
        from cms.models import PortalPage

        return PortalPage.objects.first()

    def get_site(self):
        """The bureau's: these changes are the bureau's, whichever site they concern."""
        portal = self.portal()
        return portal.get_site() if portal else None

    def get_workflow(self):
        portal = self.portal()
        return portal.get_workflow() if portal else None

    def clean(self):
        super().clean()
        if self.old_path:
            self.old_path = Redirect.normalise_path(self.old_path)
        if self.kind == self.Kind.REDIRECT:
            if not self.old_path or not self.redirect_link:
                raise ValidationError("外部跳转须填写原路径和跳转地址。")
            if not is_external(self.redirect_link, internal_hosts=network_hosts()):
                raise ValidationError({"redirect_link": "站内跳转由本站管理员直接设置，无需审批。"})
        elif not (self.hostname or self.port or self.root_page_id):
            raise ValidationError("请填写要修改的域名、端口或首页。")
