"""The publication register (发布登记) in the admin: a report per site with filters and
spreadsheet export, and a printable approval form (发布审批单) for each entry.

Generic over pages and snippets: sites are Wagtail ``Site`` objects, columns are the pages
just below a site's root page; nothing here knows the cms models.
"""

import datetime
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import django_filters
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast
from django.http import Http404
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import dateformat, timezone
from django.utils.cache import patch_vary_headers
from django.views.defaults import permission_denied
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.views.mixins import SpreadsheetExportMixin
from wagtail.admin.views.reports import ReportView
from wagtail.models import Page, Site
from wagtail.permission_policies.pages import PagePermissionPolicy

from review.people import display_names
from review.pipeline.approvals import signature_holds
from review.register.models import Checkpoint, RegisterEntry
from review.register.provenance import provenance_lines
from review.register.security import client_address, record_security_event

# The register is a record kept under Chinese rules: its times are Beijing time, whatever
# time zone an admin user picked for themselves.
LOCAL_TZ = ZoneInfo("Asia/Shanghai")
DASH = "—"
PAGE_SIZE = 50
EXPORT_CHUNK = 2000

KIND_LABELS = {
    RegisterEntry.Kind.PUBLICATION: "发布",
    RegisterEntry.Kind.TAKEDOWN: "撤稿",
    RegisterEntry.Kind.RESTORATION: "恢复",
}
SIGNATURE_KINDS = {
    "ed25519": "口令密钥",
    "webauthn-es256": "安全密钥",
    "webauthn-eddsa": "安全密钥",
}
STATUS_VALID = "签名有效"
STATUS_INVALID = "签名无效"
STATUS_REVOKED = "凭证已吊销"
STATUS_UNLINKED = "无审批记录"  # a signed entry without its approval row (bulk imports)

_SCOPE_CACHE = "_review_register_scope"


# --- Who sees what --------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterScope:
    """The part of the register one user may see: every site for superusers; otherwise
    the sites whose tree meets a page the user holds any page permission on."""

    everything: bool
    sites: tuple[Site, ...]
    permission_pages: tuple[Page, ...]

    @property
    def hostnames(self) -> list[str]:
        return [site.hostname for site in self.sites]

    def sees_site(self, hostname: str | None) -> bool:
        return self.everything or hostname in self.hostnames


def _related(a: Page, b: Page) -> bool:
    """One page is the other, or an ancestor of it."""
    return a.path.startswith(b.path) or b.path.startswith(a.path)


def register_scope(*, user) -> RegisterScope | None:
    """The user's view of the register, or None when they hold no page permission at all.

    Cached on the user object for the request, like Wagtail's own permission caches."""
    if hasattr(user, _SCOPE_CACHE):
        return getattr(user, _SCOPE_CACHE)
    scope = None
    if user.is_active and user.is_superuser:
        sites = tuple(Site.objects.select_related("root_page").order_by("hostname", "port"))
        scope = RegisterScope(everything=True, sites=sites, permission_pages=())
    elif user.is_active:
        permissions = PagePermissionPolicy().get_cached_permissions_for_user(user)
        pages = tuple({perm.page.pk: perm.page for perm in permissions}.values())
        if pages:
            sites = tuple(
                site for site in Site.objects.select_related("root_page")
                .order_by("hostname", "port")
                if any(_related(site.root_page, page) for page in pages)
            )
            scope = RegisterScope(everything=False, sites=sites, permission_pages=pages)
    setattr(user, _SCOPE_CACHE, scope)
    return scope


def user_may_see_register(*, user) -> bool:
    """Cheap test for menus: a superuser, or any page permission (cached by Wagtail)."""
    if not user.is_active:
        return False
    return user.is_superuser or bool(
        PagePermissionPolicy().get_cached_permissions_for_user(user))


def _page_ids_under(*, pages: Iterable[Page]) -> QuerySet:
    """Ids (as strings, like ``RegisterEntry.object_id``) of the pages and their descendants."""
    condition = Q()
    for page in pages:
        condition |= Q(path__startswith=page.path)
    if not condition:
        return Page.objects.none().values_list("pk", flat=True)
    return (Page.objects.filter(condition)
            .values_list(Cast("id", output_field=CharField()), flat=True))


def _page_entries(*, pages: Iterable[Page]) -> Q:
    return Q(content_type=ContentType.objects.get_for_model(Page),
             object_id__in=_page_ids_under(pages=pages))


def visible_entries(*, scope: RegisterScope) -> QuerySet[RegisterEntry]:
    entries = RegisterEntry.objects.all()
    if scope.everything:
        return entries
    visible = _page_entries(pages=scope.permission_pages)
    if scope.hostnames:
        visible |= Q(entry__approval__site__in=scope.hostnames)
    return entries.filter(visible)


def column_choices(*, scope: RegisterScope) -> list[tuple[str, str]]:
    """The columns of the visible sites: the root page's children, and its grandchildren
    that have pages of their own (sub-columns rather than articles)."""
    condition = Q()
    for site in scope.sites:
        root = site.root_page
        condition |= Q(path__startswith=root.path, depth__gt=root.depth,
                       depth__lte=root.depth + 2)
    if not condition:
        return []
    pages = list(Page.objects.filter(condition).order_by("path")
                 .only("pk", "title", "path", "depth", "numchild"))
    titles = {page.path: page.title for page in pages}
    choices = []
    for site in scope.sites:
        root = site.root_page
        site_label = site.site_name or site.hostname
        for page in pages:
            if not page.path.startswith(root.path):
                continue
            if page.depth == root.depth + 1:
                choices.append((str(page.pk), f"{site_label} › {page.title}"))
            elif page.numchild:
                parent = titles.get(page.path[:-Page.steplen], "")
                choices.append((str(page.pk), f"{site_label} › {parent} › {page.title}"))
    return choices


class RegisterForbidden(PermissionDenied):
    """No page permission at all. Answered with a 403 here rather than raised: Wagtail's
    admin wrapper would turn a raised PermissionDenied into a redirect to the dashboard."""


def _scope_or_403(*, user) -> RegisterScope:
    scope = register_scope(user=user)
    if scope is None:
        raise RegisterForbidden("您没有任何页面权限，不能查看发布登记。")
    return scope


def _forbidden(request, error: RegisterForbidden):
    return permission_denied(request, error)


# --- Presenting entries ---------------------------------------------------------------------


def local_time(*, moment: datetime.datetime | None, fmt: str = "Y-m-d H:i") -> str:
    if moment is None:
        return ""
    return dateformat.format(moment.astimezone(LOCAL_TZ), fmt)


def within_local_days(queryset: QuerySet, *, field: str, start: datetime.date | None,
                      stop: datetime.date | None) -> QuerySet:
    """Rows whose ``field`` falls on the days from ``start`` to ``stop`` (both included, either
    open): Beijing days, whatever the user's own time zone."""
    if start:
        queryset = queryset.filter(**{f"{field}__gte": datetime.datetime.combine(
            start, datetime.time.min, tzinfo=LOCAL_TZ)})
    if stop:
        queryset = queryset.filter(**{f"{field}__lt": datetime.datetime.combine(
            stop + datetime.timedelta(days=1), datetime.time.min, tzinfo=LOCAL_TZ)})
    return queryset


def naive_local(*, moment: datetime.datetime) -> datetime.datetime:
    """Naive Beijing time, so spreadsheets show what the reports show."""
    return moment.astimezone(LOCAL_TZ).replace(tzinfo=None)


def parse_iso(*, value: str | None) -> datetime.datetime | None:
    if not value:
        return None
    try:
        return datetime.datetime.fromisoformat(value)
    except ValueError:
        return None


def kind_label(*, kind: str) -> str:
    if kind in KIND_LABELS:
        return KIND_LABELS[kind]
    return dict(RegisterEntry.Kind.choices).get(kind, kind)


def signature_kind_label(*, signature: dict | None) -> str:
    if not signature:
        return DASH
    alg = signature.get("alg") or ""
    return SIGNATURE_KINDS.get(alg, alg or DASH)


def signature_status(*, entry: RegisterEntry) -> str:
    """Whether the publication's signature holds now; needs ``approval_record__credential``
    selected with the entry to stay query-free."""
    if not entry.entry.get("signature"):
        return DASH
    record = entry.approval_record
    if record is None:
        return STATUS_UNLINKED
    if record.credential.revoked_at is not None:
        return STATUS_REVOKED
    return STATUS_VALID if signature_holds(record) else STATUS_INVALID


def group_fingerprint(*, key_id: str, size: int = 4) -> str:
    return " ".join(key_id[i:i + size] for i in range(0, len(key_id), size))


def wrap_text(*, text: str, width: int = 64) -> str:
    return "\n".join(text[i:i + width] for i in range(0, len(text), width))


def readable_url(url: str) -> str:
    """An address as people read it: Chinese slugs decoded (``/teaching/%E4%B8%83…/`` →
    ``/teaching/七…/``). The register keeps the address as signed; only the display changes."""
    return unquote(url) if url else ""


# Django's storage adds "_" and seven random letters and digits to a name already taken.
_STORAGE_SUFFIX = re.compile(r"_[A-Za-z0-9]{7}(?=\.[^./]+$|$)")


def uploaded_name(filename: str) -> str:
    """A stored file's name as uploaded: without the folder and without the suffix storage
    added to make it unique (``documents/dushu-anpai_33TkO3X.pdf`` → ``dushu-anpai.pdf``)."""
    name = filename.rsplit("/", 1)[-1]
    return _STORAGE_SUFFIX.sub("", name, count=1)


def people_of(entries: Iterable[RegisterEntry]) -> dict[str, str]:
    """Login name → name shown, for everyone the entries name (one query)."""
    usernames = set()
    for entry in entries:
        approval = entry.entry.get("approval") or {}
        usernames.update(approval.get(key) for key in ("operator", "first_reviewer", "approver"))
    return display_names(usernames=usernames)


def edit_url(*, approval: dict) -> str | None:
    """The admin edit view: pages by id; snippets by the model label the entry names."""
    if approval.get("page_id"):
        return reverse("wagtailadmin_pages:edit", args=[approval["page_id"]])
    model, object_id = approval.get("model") or "", approval.get("object_id")
    if "." not in model or object_id is None:
        return None
    app_label, model_name = model.split(".", 1)
    try:
        return reverse(f"wagtailsnippets_{app_label}_{model_name}:edit", args=[object_id])
    except NoReverseMatch:
        return None


class RegisterRow:
    """One entry as the report and its export show it."""

    def __init__(self, entry: RegisterEntry, *, people: Mapping[str, str] | None = None):
        self.entry = entry
        self.seq = entry.seq
        self.entry_hash = entry.entry_hash
        self.approval = entry.entry.get("approval") or {}
        self.signature = entry.entry.get("signature") or {}
        # Login names (what is signed) → people's names (what is shown): review.people.
        self.people = people or {}

    def _person(self, key: str) -> str:
        username = self.approval.get(key) or ""
        return self.people.get(username, username)

    @property
    def title(self) -> str:
        fallback = f"{self.approval.get('model', '')} #{self.entry.object_id}"
        return self.approval.get("title") or fallback

    @property
    def url(self) -> str:
        return self.approval.get("url") or ""

    @property
    def readable_url(self) -> str:
        return readable_url(self.url)

    @property
    def attachment_names(self) -> list[str]:
        return [uploaded_name(attachment.get("filename") or "")
                for attachment in self.approval.get("attachments") or []]

    @property
    def attachments_display(self) -> str:
        return "；".join(self.attachment_names)

    @property
    def site(self) -> str:
        return self.approval.get("site") or ""

    @cached_property
    def edit_url(self) -> str | None:
        return edit_url(approval=self.approval)

    @property
    def kind(self) -> str:
        return self.entry.kind

    @property
    def kind_label(self) -> str:
        return kind_label(kind=self.entry.kind)

    @property
    def published_at(self) -> datetime.datetime:
        return self.entry.published_at

    @property
    def published_at_display(self) -> str:
        return local_time(moment=self.entry.published_at, fmt="Y-m-d H:i:s")

    @property
    def published_at_local(self) -> datetime.datetime:
        return naive_local(moment=self.entry.published_at)

    @property
    def operator(self) -> str:
        return self._person("operator")

    @property
    def first_reviewer(self) -> str:
        return self._person("first_reviewer")

    @property
    def approver(self) -> str:
        return self._person("approver")

    @property
    def signature_kind(self) -> str:
        return signature_kind_label(signature=self.signature)

    @cached_property
    def signature_status(self) -> str:
        return signature_status(entry=self.entry)

    @property
    def key_id(self) -> str:
        return self.signature.get("key_id") or ""

    @property
    def form_url(self) -> str:
        return reverse("review_register_form", args=[self.seq])


# --- The report -----------------------------------------------------------------------------


class ChineseSpreadsheetMixin(SpreadsheetExportMixin):
    """Spreadsheets of Chinese text: CSV starts with a BOM (so that spreadsheet programs read
    it as UTF-8), and times are written as Beijing time (``naive_local``)."""

    def stream_csv(self, queryset):
        yield "\ufeff"
        yield from super().stream_csv(queryset)


def csv_time(value: datetime.datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


class RegisterFilterSet(WagtailFilterSet):
    site = django_filters.ChoiceFilter(label="网站", method="filter_site",
                                       empty_label="全部网站")
    column = django_filters.ChoiceFilter(label="栏目", method="filter_column",
                                         empty_label="全部栏目")
    date = django_filters.DateFromToRangeFilter(label="日期", method="filter_date",
                                                widget=DateRangePickerWidget)
    approver = django_filters.CharFilter(label="主管领导", method="filter_approver",
                                         help_text="主管领导的用户名")
    operator = django_filters.CharFilter(label="操作者", method="filter_operator",
                                         help_text="操作者的用户名")
    kind = django_filters.ChoiceFilter(label="类型", field_name="kind",
                                       choices=list(KIND_LABELS.items()),
                                       empty_label="全部类型")

    class Meta:
        model = RegisterEntry
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        scope = register_scope(user=self.request.user) if self.request else None
        sites = scope.sites if scope else ()
        self.filters["site"].extra["choices"] = [
            (site.hostname, f"{site.site_name}（{site.hostname}）" if site.site_name
             else site.hostname) for site in sites]
        self.filters["column"].extra["choices"] = (column_choices(scope=scope) if scope
                                                   else [])

    def filter_site(self, queryset, name, value):
        return queryset.filter(entry__approval__site=value) if value else queryset

    def filter_column(self, queryset, name, value):
        page = Page.objects.filter(pk=value).first() if value else None
        return queryset.filter(_page_entries(pages=[page])) if page else queryset

    def filter_date(self, queryset, name, value):
        return within_local_days(queryset, field="published_at",
                                 start=value.start.date() if value and value.start else None,
                                 stop=value.stop.date() if value and value.stop else None)

    def filter_approver(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(entry__approval__approver=value) if value else queryset

    def filter_operator(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(entry__approval__operator=value) if value else queryset


class LogReportView(ChineseSpreadsheetMixin, ReportView):
    """A report over a log's rows, answered with a 403 to those who may not see it, exporting
    every matching row (not a page of them), each export recorded in the security log."""

    # The security event an export records, and what it names as exported.
    export_event = ""
    export_subject = ""
    paginate_by = PAGE_SIZE

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        # Wagtail's filter and pagination controls fetch the results with this header.
        self.results_only = request.headers.get("x-requested-with") == "XMLHttpRequest"

    def refusal(self, request) -> str | None:
        """Why the user may not see the report, or None."""
        raise NotImplementedError

    def dispatch(self, request, *args, **kwargs):
        reason = self.refusal(request)
        if reason:
            # Answered rather than raised: Wagtail's admin wrapper would turn a raised
            # PermissionDenied into a redirect to the dashboard.
            return permission_denied(request, PermissionDenied(reason))
        response = super().dispatch(request, *args, **kwargs)
        patch_vary_headers(response, ["X-Requested-With"])
        return response

    def get_filename(self):
        return f"{self.export_filename}-{naive_local(moment=timezone.now()):%Y-%m-%d}"

    def get_filtered_queryset(self):
        # BaseListingView.get_queryset has filtered already; don't add the filters twice.
        return self.get_queryset()

    def export_rows(self, queryset: QuerySet) -> Iterator:
        """The rows of a spreadsheet, read in chunks."""
        return map(self.row_class, queryset.iterator(chunk_size=EXPORT_CHUNK))

    def decorate_paginated_queryset(self, object_list):
        return [self.row_class(item) for item in object_list]

    def get(self, request, *args, **kwargs):
        if self.is_export:
            export_format = request.GET.get("export")
            record_security_event(
                event=self.export_event, actor=request.user, address=client_address(request),
                subject=self.export_subject,
                data={"format": export_format, "filters": export_filters(request)})
            rows = self.export_rows(self.get_filtered_queryset())
            return self.as_spreadsheet(rows, export_format)
        return super().get(request, *args, **kwargs)


def export_filters(request) -> dict[str, str]:
    """The filters an export was made with, as the security log keeps them."""
    return {key: value for key, value in request.GET.items() if key != "export" and value}


class RegisterReportView(LogReportView):
    page_title = "发布登记"
    header_icon = "list-ul"
    results_template_name = "review/register/results.html"
    filterset_class = RegisterFilterSet
    index_url_name = "review_register"
    # The filters refresh the results through the same URL (see ``setup``).
    index_results_url_name = "review_register"
    default_ordering = "-seq"
    row_class = RegisterRow
    export_event = "register_exported"
    export_subject = "发布登记"
    verbose_name = "登记条目"
    verbose_name_plural = "登记条目"
    export_filename = "publication-register"

    list_export = [
        "seq", "title", "readable_url", "site", "kind_label", "published_at_local", "operator",
        "first_reviewer", "approver", "attachments_display", "signature_kind",
        "signature_status", "entry_hash", "key_id",
    ]
    export_headings = {
        "seq": "序号",
        "title": "信息内容",
        "readable_url": "访问地址",
        "site": "网站",
        "kind_label": "类型",
        "published_at_local": "发布时间",
        "operator": "操作者",
        "first_reviewer": "初审人",
        "approver": "主管领导",
        "attachments_display": "附件",
        "signature_kind": "签名方式",
        "signature_status": "签名状态",
        "entry_hash": "登记哈希",
        "key_id": "密钥指纹",
    }
    custom_field_preprocess = {"published_at_local": {ReportView.FORMAT_CSV: csv_time}}

    def export_rows(self, queryset: QuerySet) -> Iterator:
        """The rows of a spreadsheet, read in chunks, each chunk's people looked up once."""
        chunk: list[RegisterEntry] = []
        for entry in queryset.iterator(chunk_size=EXPORT_CHUNK):
            chunk.append(entry)
            if len(chunk) == EXPORT_CHUNK:
                yield from self._rows(chunk)
                chunk = []
        yield from self._rows(chunk)

    def _rows(self, entries: list[RegisterEntry]) -> Iterator[RegisterRow]:
        people = people_of(entries)
        return (RegisterRow(entry, people=people) for entry in entries)

    def decorate_paginated_queryset(self, object_list):
        entries = list(object_list)
        return list(self._rows(entries))

    def refusal(self, request) -> str | None:
        try:
            self.scope = _scope_or_403(user=request.user)
        except RegisterForbidden as error:
            return str(error)
        return None

    @property
    def no_results_message(self):
        return "没有符合条件的登记条目。" if self.is_filtering else "发布登记中还没有条目。"

    def get_base_queryset(self):
        return (visible_entries(scope=self.scope)
                .select_related("approval_record__credential"))


register_report = RegisterReportView.as_view()


# --- The printable approval form ------------------------------------------------------------


def including_checkpoint(*, seq: int) -> Checkpoint | None:
    """The first checkpoint whose tree includes entry ``seq``."""
    return Checkpoint.objects.filter(size__gte=seq).order_by("size", "pk").first()


def _people(*, usernames: Iterable[str | None]) -> dict[str, str]:
    """``username -> "Full Name（username）"`` for the users that still exist."""
    wanted = {name for name in usernames if name}
    User = get_user_model()
    people = {name: name for name in wanted}
    for user in User.objects.filter(**{f"{User.USERNAME_FIELD}__in": wanted}):
        full_name = user.get_full_name().strip()
        if full_name:
            people[user.get_username()] = f"{full_name}（{user.get_username()}）"
    return people


def register_form(request, seq: int):
    try:
        scope = _scope_or_403(user=request.user)
    except RegisterForbidden as error:
        return _forbidden(request, error)
    entry = (visible_entries(scope=scope).select_related("approval_record__credential")
             .filter(seq=seq).first())
    if entry is None:
        raise Http404("没有这条登记，或您无权查看。")
    row = RegisterRow(entry)
    approval = row.approval
    signature = row.signature
    site = Site.objects.filter(hostname=row.site).order_by("port").first() if row.site else None
    people = _people(usernames=[approval.get("operator"), approval.get("first_reviewer"),
                                approval.get("approver")])
    attachments = [{**attachment, "uploaded_name": uploaded_name(attachment.get("filename")
                                                                 or "")}
                   for attachment in approval.get("attachments") or []]

    def person(key: str) -> str:
        name = approval.get(key)
        return people.get(name, name) if name else DASH

    def when(key: str) -> str:
        return local_time(moment=parse_iso(value=approval.get(key)), fmt="Y-m-d H:i:s") or DASH

    value = signature.get("value") or ""
    checkpoint = including_checkpoint(seq=entry.seq)
    if entry.kind == RegisterEntry.Kind.PUBLICATION:
        heading = "信息发布审批单"
    elif entry.kind == RegisterEntry.Kind.TAKEDOWN:
        heading = "信息撤稿登记单"
    else:
        heading = f"发布登记单（{row.kind_label}）"
    context = {
        "row": row,
        "entry": entry,
        "approval": approval,
        "attachments": attachments,
        "heading": heading,
        "site_label": (site.site_name or site.hostname) if site else (row.site or DASH),
        "is_publication": entry.kind == RegisterEntry.Kind.PUBLICATION,
        "is_takedown": entry.kind == RegisterEntry.Kind.TAKEDOWN,
        "operator": person("operator"),
        "first_reviewer": person("first_reviewer"),
        "approver": person("approver"),
        "submitted_at": when("submitted_at"),
        "approved_at": when("approved_at"),
        "go_live_at": when("go_live_at"),
        "taken_down_at": when("taken_down_at"),
        "published_at": local_time(moment=entry.published_at, fmt="Y-m-d H:i:s"),
        "reason_label": "撤稿原因" if entry.kind == RegisterEntry.Kind.TAKEDOWN else "原因",
        # Sixteen blocks of four, in two lines of eight, as key fingerprints are printed.
        "fingerprint_lines": [group_fingerprint(key_id=row.key_id[i:i + 32])
                              for i in range(0, len(row.key_id), 32)],
        "signature_value": wrap_text(text=value) if value else "",
        "checkpoint": checkpoint,
        "checkpoint_created_at": (local_time(moment=checkpoint.created_at, fmt="Y-m-d H:i:s")
                                  if checkpoint else ""),
        "authorised_by_seq": approval.get("authorised_by_seq"),
        "restores_seq": approval.get("restores_seq"),
        "signer_provenance": (provenance_lines(username=approval["approver"])
                              if approval.get("approver") else []),
    }
    return render(request, "review/register/form.html", context)
