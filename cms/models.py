"""The education network's content: the bureau portal, school sites, columns and articles,
and the organisation roles that confine each school's people to their own site."""

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import strip_tags
from modelcluster.fields import ParentalKey
from wagtail import blocks
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.api import APIField
from wagtail.contrib.table_block.blocks import TableBlock
from wagtail.fields import RichTextField, StreamField
from wagtail.images.blocks import ImageBlock
from wagtail.models import Collection, Orderable, Page
from wagtail.search import index

from cms.baking.listing import ArticlesInOrder, Listing, column_listing_resources
from cms.cjk import index_tokens
from cms.columns import UPDATE_INTERVAL_DAYS, ColumnKind, StructuralChange
from cms.file_scope import referenced_files, same_file
from cms.forms import CmsPageForm
from review.pipeline.panels import ScreeningFindingsPanel
from review.register.livecheck import signed_objects
from review.register.signed import signed_approval, signed_file

# Only what a school site needs; no embeds, no code, no raw HTML.
# Documents are linked as attachments, not inline: the public reaches a document only as an
# attachment of a live page (see cms.views.attachment).
RICH_TEXT_FEATURES = ["h2", "h3", "h4", "bold", "italic", "ol", "ul", "link", "hr"]


def read_back(value):
    """A StreamValue as it reads back from storage: converted from its stored form, every
    block's defaults filled in."""
    block = value.stream_block
    loaded = block.to_python(block.get_prep_value(value))
    list(loaded)  # convert every block now, so that its prepared value is the normalised one
    return loaded


class ChineseSearchMixin:
    """Adds Han unigrams and bigrams of the page's text to the search index (cms.cjk), and
    declares the files the page uses to review/ (screened, signed, and allowed only from the
    page's organisation: cms.file_scope)."""

    def review_attachments(self) -> list:
        """Every document and image the page refers to (rich-text links among them)."""
        return referenced_files(self)

    def search_text(self) -> list[str]:
        return [self.title]

    def chinese_search_tokens(self) -> str:
        return index_tokens(" ".join(filter(None, self.search_text())))


CHINESE_SEARCH_FIELD = index.SearchField("chinese_search_tokens")


class ArticleBody(blocks.StreamBlock):
    paragraph = blocks.RichTextBlock(features=RICH_TEXT_FEATURES, label="正文")
    image = ImageBlock(label="图片")
    table = TableBlock(label="表格", table_options={"language": "zh-CN"})

    class Meta:
        label = "正文"


class OrganisationHomePage(ChineseSearchMixin, Page):
    """The root page of a site run by one organisation: the bureau or a school."""

    base_form_class = CmsPageForm

    intro = models.TextField("简介", blank=True)
    address = models.CharField("地址", max_length=200, blank=True)
    phone = models.CharField("联系电话", max_length=50, blank=True)
    icp_number = models.CharField("ICP备案号", max_length=64, blank=True)
    collection = models.ForeignKey(
        Collection,
        verbose_name="文档库",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="本单位自己的文档和图片；本单位人员只能看到这些。",
    )

    content_panels = [
        ScreeningFindingsPanel(),
        *Page.content_panels,
        FieldPanel("intro"),
        MultiFieldPanel([FieldPanel("address"), FieldPanel("phone"), FieldPanel("icp_number")],
                        heading="联系方式"),
    ]
    search_fields = [*Page.search_fields, index.SearchField("intro"), CHINESE_SEARCH_FIELD]
    api_fields = [
        APIField("intro", writable=True),
        APIField("address", writable=True),
        APIField("phone", writable=True),
        APIField("icp_number", writable=True),
    ]

    class Meta:
        abstract = True

    def search_text(self) -> list[str]:
        return [self.title, self.intro]

    def columns(self):
        return ColumnPage.objects.child_of(self).live().public().in_menu()

    @cached_property
    def menu_columns(self) -> list:
        """The navigation's columns, read once per instance: once per request when serving,
        once per site when baking (cms.baking renders a site's pages with one home page);
        each as signed (review.register.livecheck.signed_objects)."""
        return signed_objects(list(self.columns()))


class PortalPage(OrganisationHomePage):
    """The education bureau's portal: lists the schools and the network's latest news."""

    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["cms.ColumnPage", "interaction.MessageBoardPage"]
    max_count = 1
    template = "cms/portal_page.html"

    class Meta:
        verbose_name = "教育局门户"
        verbose_name_plural = "教育局门户"

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["schools"] = signed_objects(
            list(SchoolHomePage.objects.live().public().order_by("title")))
        context["latest_articles"] = shown_articles(ArticlePage.objects.all(), 12)
        context["columns"] = self.menu_columns
        return context


class SchoolHomePage(OrganisationHomePage):
    """A school's site root; each school is its own Wagtail Site."""

    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["cms.ColumnPage", "interaction.MessageBoardPage"]
    template = "cms/school_home_page.html"

    class Meta:
        verbose_name = "学校网站首页"
        verbose_name_plural = "学校网站首页"

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        columns = self.menu_columns
        context["columns"] = columns
        context["column_blocks"] = [
            (column, shown_articles(ArticlePage.objects.descendant_of(column), 6))
            for column in columns
            if column.kind != ColumnKind.LINK
        ]
        return context


def shown_articles(queryset, limit: int) -> list:
    """The latest articles as readers are shown them: each as its leader signed it, those put
    online without a publication entry left out (review.register.livecheck)."""
    return signed_objects(list(latest_articles(queryset, limit)))


def latest_articles(queryset, limit: int | None):
    """Live, public articles, newest displayed date first."""
    return (
        queryset.live()
        .public()
        .order_by("-date", "-first_published_at", "-pk")
        .select_related("cover_image")[:limit]
    )


class ColumnPage(ChineseSearchMixin, Page):
    """A column (栏目): a listing of articles, a static information page, or a link."""

    base_form_class = CmsPageForm

    kind = models.CharField("栏目类型", max_length=16, choices=ColumnKind.choices,
                            default=ColumnKind.NEWS)
    intro = RichTextField("栏目说明", features=RICH_TEXT_FEATURES, blank=True,
                          help_text="静态信息栏目（如学校概况）以此为页面正文。")
    link_url = models.URLField("链接地址", blank=True,
                               help_text="仅用于链接栏目：其他部门的网站地址。")
    structural_change = models.CharField(
        "栏目变更", max_length=10, choices=StructuralChange.choices, blank=True, default="",
        help_text="撤销或移动已公开的栏目须提交审批，领导签名批准后生效。")
    move_to = models.ForeignKey(
        "wagtailcore.Page", verbose_name="移到", null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
        help_text="移动本栏目时的新位置：本网站首页或一个一级栏目。")

    show_in_menus_default = True  # columns make up the site's navigation
    parent_page_types = ["cms.PortalPage", "cms.SchoolHomePage", "cms.ColumnPage"]
    subpage_types = ["cms.ColumnPage", "cms.ArticlePage"]
    template = "cms/column_page.html"

    content_panels = [
        ScreeningFindingsPanel(),
        *Page.content_panels,
        FieldPanel("kind"),
        FieldPanel("intro"),
        FieldPanel("link_url"),
        MultiFieldPanel([FieldPanel("structural_change"), FieldPanel("move_to")],
                        heading="栏目变更（须经初审和领导签名审批）"),
    ]
    search_fields = [*Page.search_fields, index.SearchField("intro"), index.FilterField("kind"),
                     CHINESE_SEARCH_FIELD]
    api_fields = [
        APIField("kind", writable=True),
        APIField("kind_label"),
        APIField("update_interval_days"),
        APIField("intro", writable=True),
        APIField("link_url", writable=True),
    ]

    class Meta:
        verbose_name = "栏目"
        verbose_name_plural = "栏目"

    @classmethod
    def can_create_at(cls, parent):
        # Columns may have one level of sub-columns, no deeper.
        if not super().can_create_at(parent):
            return False
        parent = parent.specific
        return not (isinstance(parent, ColumnPage) and isinstance(parent.get_parent().specific,
                                                                   ColumnPage))

    def clean(self):
        super().clean()
        if self.kind == ColumnKind.LINK and not self.link_url:
            raise ValidationError({"link_url": "链接栏目必须填写链接地址。"})
        if self.kind != ColumnKind.LINK and self.link_url:
            raise ValidationError({"link_url": "只有链接栏目可以填写链接地址。"})
        self._clean_structural_change()

    def _clean_structural_change(self):
        if self.structural_change != StructuralChange.MOVE:
            if self.move_to_id:
                raise ValidationError({"move_to": "只有移动栏目时才填写新位置。"})
            return
        if self.pk is None:
            raise ValidationError({"structural_change": "新栏目还未公开，直接移动即可。"})
        if self.move_to is None:
            raise ValidationError({"move_to": "请选择新位置。"})
        target = self.move_to.specific
        if target.get_site() != self.get_site():
            raise ValidationError({"move_to": "栏目只能在本网站内移动。"})
        if (target.pk == self.pk or target.is_descendant_of(self)
                or not self.can_move_to(target) or not ColumnPage.can_create_at(target)):
            raise ValidationError({"move_to": "不能移到这里：栏目只能放在网站首页或一级栏目下。"})
        if isinstance(target, ColumnPage) and ColumnPage.objects.child_of(self).exists():
            raise ValidationError({"move_to": "本栏目有下级栏目，只能放在网站首页下。"})

    def search_text(self) -> list[str]:
        return [self.title, strip_tags(self.intro)]

    @property
    def kind_label(self) -> str:
        return self.get_kind_display()

    @property
    def update_interval_days(self) -> int | None:
        return UPDATE_INTERVAL_DAYS[self.kind]

    def sub_columns(self):
        return ColumnPage.objects.child_of(self).live().public()

    def articles(self):
        return latest_articles(ArticlePage.objects.descendant_of(self), None)

    def serve(self, request, *args, **kwargs):
        if self.kind == ColumnKind.LINK:
            return HttpResponseRedirect(self.link_url)
        return super().serve(request, *args, **kwargs)

    def listing(self) -> Listing:
        """What the column lists (cms.baking.listing): its articles, newest first (their ids
        sorted in the database, each listing page's rows loaded when shown), the resources
        listed below them and its sub-columns."""
        return Listing(
            articles=ArticlesInOrder(
                ids=self.articles().values_list("pk", flat=True),
                queryset=ArticlePage.objects.select_related("cover_image"),
                shown=signed_objects),
            resources=column_listing_resources(column=self),
            sub_columns=SignedSubColumns(self))

    def get_context(self, request, *args, listing: Listing | None = None, **kwargs):
        """``listing``: the column's listing already read (baking renders every listing page
        from one read); otherwise it is read for this request."""
        context = super().get_context(request, *args, **kwargs)
        listing = self.listing() if listing is None else listing
        page = listing.page(number=request.GET.get("page", 1))
        context["page_obj"] = page.page_obj
        context["articles"] = page.articles
        context["resources"] = page.resources
        context["sub_columns"] = listing.sub_columns
        return context


class SignedSubColumns:
    """A column's sub-columns, read when first iterated, each as signed."""

    def __init__(self, column: "ColumnPage"):
        self.column = column

    @cached_property
    def columns(self) -> list:
        return signed_objects(list(self.column.sub_columns()))

    def __iter__(self):
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    def __bool__(self) -> bool:
        return bool(self.columns)


class ArticlePage(ChineseSearchMixin, Page):
    base_form_class = CmsPageForm

    date = models.DateField("发布日期", default=timezone.localdate,
                            help_text="向读者显示的日期。")
    source = models.CharField("来源", max_length=100, blank=True,
                              help_text="信息的发布部门或来源。")
    author = models.CharField("作者", max_length=100, blank=True)
    cover_image = models.ForeignKey("wagtailimages.Image", verbose_name="封面图片", null=True,
                                    blank=True, on_delete=models.SET_NULL, related_name="+")
    body = StreamField(ArticleBody(), verbose_name="正文", blank=True)

    parent_page_types = ["cms.ColumnPage"]
    subpage_types = []
    template = "cms/article_page.html"

    content_panels = [
        ScreeningFindingsPanel(),
        *Page.content_panels,
        MultiFieldPanel([FieldPanel("date"), FieldPanel("source"), FieldPanel("author")],
                        heading="发布信息"),
        FieldPanel("cover_image"),
        FieldPanel("body"),
        InlinePanel("attachments", label="附件"),
    ]
    search_fields = [
        *Page.search_fields,
        index.SearchField("body"),
        index.SearchField("source"),
        index.SearchField("author"),
        index.FilterField("date"),
        CHINESE_SEARCH_FIELD,
    ]
    api_fields = [
        APIField("date", writable=True),
        APIField("source", writable=True),
        APIField("author", writable=True),
        APIField("cover_image", writable=True),
        APIField("body", writable=True),
        APIField("attachments", writable=True),
    ]

    class Meta:
        verbose_name = "文章"
        verbose_name_plural = "文章"

    def save_revision(self, *args, **kwargs):
        # The revision holds the body as its blocks read it back (TableBlock, for one, adds
        # defaults when it loads a value): the page row published from the revision is then
        # exactly what the revision was, and its hash equals the signed content_sha256.
        self.body = read_back(self.body)
        return super().save_revision(*args, **kwargs)

    def search_text(self) -> list[str]:
        body = self.body.stream_block.get_searchable_content(self.body)
        return [self.title, self.source, self.author, *body]

    @property
    def column(self):
        return ColumnPage.objects.ancestor_of(self).last()

    def review_attachments(self) -> list:
        """The files readers get with this article — attached documents, the cover image and
        body images — whose SHA-256 the leader's approval signs (review.approvals)."""
        files = [attachment.document for attachment in self.attachments.all()]
        if self.cover_image is not None:
            files.append(self.cover_image)
        files += [block.value for block in self.body
                  if block.block_type == "image" and block.value is not None]
        # And any other file it refers to (a document linked from rich text by code or an
        # import): the guard lets none of another organisation's through.
        return files + [file for file in super().review_attachments()
                        if not any(same_file(file, known) for known in files)]


class ArticleAttachment(Orderable):
    page = ParentalKey(ArticlePage, on_delete=models.CASCADE, related_name="attachments")
    document = models.ForeignKey("wagtaildocs.Document", verbose_name="文档",
                                 on_delete=models.CASCADE, related_name="+")
    title = models.CharField("显示名称", max_length=255, blank=True,
                             help_text="默认为文档标题。")

    panels = [FieldPanel("document"), FieldPanel("title")]
    api_fields = [
        APIField("document", writable=True),
        APIField("title", writable=True),
        APIField("display_title"),
        APIField("filename"),
        APIField("file_size"),
        APIField("url"),
    ]

    class Meta(Orderable.Meta):
        verbose_name = "附件"
        verbose_name_plural = "附件"

    @cached_property
    def signed(self) -> dict | None:
        """On a live page, the document as the page's approval signed it (file name, size,
        title: what readers get, whatever was edited since); None otherwise."""
        if not getattr(self.page, "live", False):
            return None
        return signed_file(signed_approval(self.page), kind=self.document._meta.model_name,
                           file_id=self.document_id)

    @property
    def display_title(self) -> str:
        # Approvals signed before titles were name none: the document's title then.
        signed = self.signed
        return self.title or (signed["title"] if signed and "title" in signed
                              else self.document.title)

    @property
    def filename(self) -> str:
        return (self.signed or {}).get("filename") or self.document.filename

    @property
    def file_size(self) -> int | None:
        if self.signed and self.signed.get("size") is not None:
            return self.signed["size"]
        return self.document.get_file_size()

    @property
    def url(self) -> str:
        """The public download address, absolute so that other front ends can use it."""
        path = reverse("attachment", args=[self.pk, self.document.filename])
        site = self.page.get_site()
        return f"{site.root_url}{path}" if site else path


class Role(models.TextChoices):
    ADMINISTRATOR = "administrator", "网站管理员"
    LEADER = "leader", "领导"
    TEACHER = "teacher", "教师"
    # The bureau's account administrators (账号管理员): they make the web administrators' and
    # leaders' accounts and grant those roles, and hold no content rights, so that nobody who
    # reviews or signs content also decides who may.
    ACCOUNTS = "accounts", "账号管理员"


# Every organisation's content roles; the portal has the account administrators besides.
CONTENT_ROLES = (Role.ADMINISTRATOR, Role.LEADER, Role.TEACHER)


class OrganisationRole(models.Model):
    """Ties a permission group to the organisation (portal or school) whose role it is.

    Group membership is the single source of who belongs where: a user is staff of an
    organisation because they are in one of its role groups.
    """

    group = models.OneToOneField(Group, on_delete=models.CASCADE,
                                 related_name="organisation_role")
    home_page = models.ForeignKey(Page, on_delete=models.CASCADE,
                                  related_name="organisation_roles")
    role = models.CharField(max_length=16, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["home_page", "role"], name="one_group_per_role"),
        ]

    def __str__(self):
        return self.group.name
