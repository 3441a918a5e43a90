"""Public messages (留言/咨询) and reports (举报), their handling, and the pages that publish
replies.

A message belongs to the organisation whose site it was sent from; a report always to the
bureau (the portal). Contact details are sealed (cms.interaction.crypto): the row holds only
ciphertext. Public replies are pages (``MessageReplyPage`` under the site's
``MessageBoardPage``) and go live only through the site's publishing workflow, like any page.
"""

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.html import strip_tags
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page
from wagtail.search import index

from cms.forms import CmsPageForm
from cms.models import CHINESE_SEARCH_FIELD, RICH_TEXT_FEATURES, ChineseSearchMixin
from review.pipeline.panels import ScreeningFindingsPanel
from review.register.livecheck import signed_objects


class Kind(models.TextChoices):
    MESSAGE = "message", "留言/咨询"
    REPORT = "report", "举报"


class Status(models.TextChoices):
    NEW = "new", "待处理"
    IN_PROGRESS = "in_progress", "处理中"
    REPLYING = "replying", "答复审批中"
    ANSWERED = "answered", "已答复"
    CLOSED = "closed", "不予处理"
    QUARANTINED = "quarantined", "已隔离"


OPEN_STATUSES = (Status.NEW, Status.IN_PROGRESS, Status.REPLYING)
# What a sender sees of each status on the status page (a quarantined message is "being
# checked": telling a spammer that a filter caught them teaches them to dodge it).
PUBLIC_STATUS = {
    Status.NEW: "已收到，等待处理",
    Status.IN_PROGRESS: "正在处理",
    Status.REPLYING: "答复正在审核",
    Status.ANSWERED: "已答复",
    Status.CLOSED: "已处理完毕（不予答复）",
    Status.QUARANTINED: "已收到，正在审核",
}


class Message(models.Model):
    code = models.CharField("查询码", max_length=32, unique=True)
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    # The organisation's home page (portal or school): whose queue it is in.
    organisation = models.ForeignKey(Page, verbose_name="受理单位", on_delete=models.PROTECT,
                                     related_name="+")
    # The site's home page it was sent from (a report is sent from any site).
    sent_from = models.ForeignKey(Page, verbose_name="来源网站", on_delete=models.PROTECT,
                                  related_name="+")
    title = models.CharField("标题", max_length=100)
    body = models.TextField("内容")
    reported_url = models.CharField("举报的网址", max_length=500, blank=True)
    contact_sealed = models.BinaryField("联系方式（加密）", default=b"", editable=False)
    received_at = models.DateTimeField("收到时间", default=timezone.now, db_index=True)
    due_on = models.DateField("答复期限")
    status = models.CharField("状态", max_length=12, choices=Status.choices,
                              default=Status.NEW, db_index=True)
    screening = models.JSONField("检查结果", default=list, blank=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="承办人", null=True,
                                 blank=True, on_delete=models.SET_NULL, related_name="+")
    reply_page = models.ForeignKey(Page, verbose_name="公开答复", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    private_answer = models.TextField("答复内容（不公开）", blank=True)
    answered_at = models.DateTimeField("答复时间", null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True, editable=False)
    escalated_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "留言"
        verbose_name_plural = "留言"
        ordering = ["-received_at", "-pk"]
        indexes = [models.Index(fields=["organisation", "status", "received_at"],
                                name="interaction_queue")]

    def __str__(self):
        return f"{self.get_kind_display()}“{self.title}”（{self.code[:4]}…）"

    @property
    def public_status(self) -> str:
        return PUBLIC_STATUS[Status(self.status)]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def reply_hours(self) -> float | None:
        if self.answered_at is None:
            return None
        return (self.answered_at - self.received_at) / datetime.timedelta(hours=1)


class Note(models.Model):
    """An internal note (内部备注): never shown to the sender."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                               related_name="+")
    text = models.TextField("备注")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return self.text[:40]


class Handler(models.Model):
    """A designated handler (留言处理人) of an organisation: the only people who may read its
    senders' contact details. Designated by the organisation's web administrators."""

    organisation = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="interaction_handler_of")
    designated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                      on_delete=models.SET_NULL, related_name="+")
    designated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "留言处理人"
        verbose_name_plural = "留言处理人"
        constraints = [models.UniqueConstraint(fields=["organisation", "user"],
                                               name="interaction_one_designation")]

    def __str__(self):
        return f"{self.user} @ {self.organisation_id}"


class RefusalCount(models.Model):
    """Refused submissions, counted per site, day and reason; their content is never kept."""

    site_root = models.ForeignKey(Page, null=True, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    reason = models.CharField(max_length=20)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site_root", "day", "reason"],
                                               name="interaction_one_refusal_count")]

    def __str__(self):
        return f"{self.day} {self.reason}: {self.count}"


class RateCounter(models.Model):
    """Submissions counted per key (an address or a site) in fixed windows, in the database:
    used when the throttle cache is local to each process (Django's local memory, the
    default), so that the limits hold across every worker process and server."""

    key = models.CharField(max_length=120)
    window = models.BigIntegerField()  # the window's number: epoch seconds // window length
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window"],
                                               name="interaction_one_rate_counter")]

    def __str__(self):
        return f"{self.key} #{self.window}: {self.count}"


# --- The public replies: pages, published through the site's workflow ----------------------

class MessageBoardPage(ChineseSearchMixin, Page):
    """A site's 留言回复 column: lists the replies the leader has signed."""

    base_form_class = CmsPageForm  # a leader's approval from the editor saves no new revision

    intro = models.TextField("说明", blank=True)

    parent_page_types = ["cms.PortalPage", "cms.SchoolHomePage"]
    subpage_types = ["interaction.MessageReplyPage"]
    template = "interaction/message_board_page.html"
    content_panels = [ScreeningFindingsPanel(), *Page.content_panels, FieldPanel("intro")]
    search_fields = [*Page.search_fields, index.SearchField("intro"), CHINESE_SEARCH_FIELD]

    class Meta:
        verbose_name = "留言回复栏目"
        verbose_name_plural = "留言回复栏目"

    @classmethod
    def can_create_at(cls, parent):
        # One per site.
        return super().can_create_at(parent) and not cls.objects.child_of(parent).exists()

    def search_text(self) -> list[str]:
        return [self.title, self.intro]

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        replies = (MessageReplyPage.objects.child_of(self).live().public()
                   .order_by("-replied_on", "-pk")[:200])
        context["replies"] = signed_objects(list(replies))
        return context


class MessageReplyPage(ChineseSearchMixin, Page):
    """A question from the public, personal data removed, and the organisation's answer."""

    base_form_class = CmsPageForm  # a leader's approval from the editor saves no new revision

    question = models.TextField("留言内容（已去除个人信息）")
    asked_on = models.DateField("留言日期")
    reply = RichTextField("答复", features=RICH_TEXT_FEATURES)
    replied_on = models.DateField("答复日期", default=timezone.localdate)

    parent_page_types = ["interaction.MessageBoardPage"]
    subpage_types = []
    # Only its board lists it: a publication re-renders the reply, the board and the
    # sitemap part (cms.baking.plan), not the whole site.
    baked_with_parent = True
    template = "interaction/message_reply_page.html"
    content_panels = [ScreeningFindingsPanel(), *Page.content_panels, FieldPanel("question"),
                      FieldPanel("asked_on"), FieldPanel("reply"), FieldPanel("replied_on")]
    search_fields = [*Page.search_fields, index.SearchField("question"),
                     index.SearchField("reply"), CHINESE_SEARCH_FIELD]

    class Meta:
        verbose_name = "留言回复"
        verbose_name_plural = "留言回复"

    def search_text(self) -> list[str]:
        return [self.title, self.question, strip_tags(self.reply)]
