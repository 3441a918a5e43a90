"""The security audit log (安全审计日志) in the admin: a report with filters and CSV/XLSX export,
for the holders of ``review.view_securityevent`` (the bureau's account and web
administrators) and superusers. Every export is itself an event of the log.

The spreadsheet's columns are ``SecurityLogSpreadsheet``'s, which ``manage.py security_log
export`` writes too.
"""

import datetime
import json
from typing import BinaryIO

import django_filters
from django.db.models import QuerySet
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import Column

from review.canonical import canonical_json
from review.register.models import SecurityEvent
from review.register.security import EVENTS, event_label
from review.reports import (
    EXPORT_CHUNK,
    ChineseSpreadsheetMixin,
    LogReportView,
    csv_time,
    local_time,
    naive_local,
    within_local_days,
)

PERMISSION = "review.view_securityevent"
OUTCOME_LABELS = dict(SecurityEvent.Outcome.choices)


def user_may_see_security_log(*, user) -> bool:
    return user.is_active and user.has_perm(PERMISSION)


class SecurityEventRow:
    """One event as the report and the spreadsheets show it."""

    def __init__(self, event: SecurityEvent):
        self.event = event
        self.seq = event.seq
        self.actor = event.actor
        self.subject = event.subject
        self.address = event.address
        self.event_label = event_label(event=event.event)
        self.outcome = event.outcome
        self.outcome_label = OUTCOME_LABELS.get(event.outcome, event.outcome)

    @property
    def at_display(self) -> str:
        return local_time(moment=self.event.at, fmt="Y-m-d H:i:s")

    @property
    def at_local(self):
        return naive_local(moment=self.event.at)

    @property
    def details(self) -> str:
        data = self.event.entry.get("data") or {}
        return json.dumps(data, ensure_ascii=False, sort_keys=True) if data else ""


class SecurityLogSpreadsheet(ChineseSpreadsheetMixin):
    """The spreadsheet of security events (rows are ``SecurityEventRow``)."""

    list_export = ["seq", "at_local", "actor", "subject", "address", "event_label",
                   "outcome_label", "details"]
    export_headings = {
        "seq": "序号",
        "at_local": "时间",
        "actor": "操作人",
        "subject": "对象",
        "address": "地址",
        "event_label": "事件",
        "outcome_label": "结果",
        "details": "详情",
    }
    custom_field_preprocess = {"at_local": {ChineseSpreadsheetMixin.FORMAT_CSV: csv_time}}
    export_filename = "security-log"


FORMATS = ("jsonl", "csv", "xlsx")


def security_events(*, date_from: datetime.date | None = None,
                    date_to: datetime.date | None = None) -> QuerySet[SecurityEvent]:
    """The events of the days from ``date_from`` to ``date_to`` (Beijing days, both included,
    either open), in order."""
    return within_local_days(SecurityEvent.objects.order_by("seq"), field="at", start=date_from,
                             stop=date_to)


def write_security_log(*, events: QuerySet[SecurityEvent], fmt: str, handle: BinaryIO) -> int:
    """Write the events in ``fmt``: ``jsonl``, the stored entries as canonical JSON one a line
    (``security_log verify --file`` checks them offline); ``csv`` or ``xlsx``, the report's
    spreadsheet. How many events were written."""
    count = 0

    def counted(rows):
        nonlocal count
        for row in rows:
            count += 1
            yield row

    if fmt == "jsonl":
        for entry in counted(events.values_list("entry", flat=True)
                             .iterator(chunk_size=EXPORT_CHUNK)):
            handle.write(canonical_json(entry) + b"\n")
    elif fmt in SecurityLogSpreadsheet.FORMATS:
        sheet = SecurityLogSpreadsheet()
        rows = counted(map(SecurityEventRow, events.iterator(chunk_size=EXPORT_CHUNK)))
        if fmt == SecurityLogSpreadsheet.FORMAT_CSV:
            for chunk in sheet.stream_csv(rows):  # the BOM a str, Wagtail's rows bytes
                handle.write(chunk.encode() if isinstance(chunk, str) else chunk)
        else:
            sheet.write_xlsx(rows, handle)
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return count


class SecurityEventFilterSet(WagtailFilterSet):
    date = django_filters.DateFromToRangeFilter(label="日期", method="filter_date",
                                                widget=DateRangePickerWidget)
    event = django_filters.ChoiceFilter(label="事件", field_name="event",
                                        choices=list(EVENTS.items()), empty_label="全部事件")
    actor = django_filters.CharFilter(label="操作人", method="filter_actor",
                                      help_text="操作人的用户名")
    outcome = django_filters.ChoiceFilter(label="结果", field_name="outcome",
                                          choices=SecurityEvent.Outcome.choices,
                                          empty_label="全部结果")

    class Meta:
        model = SecurityEvent
        fields = []

    def filter_date(self, queryset, name, value):
        return within_local_days(queryset, field="at",
                                 start=value.start.date() if value and value.start else None,
                                 stop=value.stop.date() if value and value.stop else None)

    def filter_actor(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(actor=value) if value else queryset


class SecurityLogReportView(SecurityLogSpreadsheet, LogReportView):
    page_title = "安全审计日志"
    header_icon = "lock"
    filterset_class = SecurityEventFilterSet
    index_url_name = "review_security_log"
    index_results_url_name = "review_security_log"
    default_ordering = "-seq"
    verbose_name = "安全事件"
    verbose_name_plural = "安全事件"
    row_class = SecurityEventRow
    export_event = "security_log_exported"
    export_subject = "安全审计日志"
    columns = [
        Column("seq", label="序号", width="8%"),
        Column("at_display", label="时间"),
        Column("actor", label="操作人"),
        Column("subject", label="对象"),
        Column("address", label="地址"),
        Column("event_label", label="事件"),
        Column("outcome_label", label="结果"),
        Column("details", label="详情"),
    ]

    def refusal(self, request) -> str | None:
        if user_may_see_security_log(user=request.user):
            return None
        return "您没有查看安全审计日志的权限。"

    @property
    def no_results_message(self):
        return "没有符合条件的安全事件。" if self.is_filtering else "安全审计日志中还没有事件。"

    def get_base_queryset(self) -> QuerySet[SecurityEvent]:
        return SecurityEvent.objects.all()


security_log_report = SecurityLogReportView.as_view()
