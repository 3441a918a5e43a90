"""Monthly statistics per organisation (received, answered, overdue, average reply time) and
the XLSX exports. Exports never carry contact details: the rows are built from columns that
hold none (the sealed contact is not even read)."""

import datetime
import io
from collections import defaultdict
from dataclasses import dataclass

from django.utils import timezone
from openpyxl import Workbook

from cms.interaction.models import Message, RefusalCount, Status

ROW_FIELDS = ("code", "kind", "organisation__title", "title", "received_at", "due_on",
              "status", "assignee__username", "answered_at")


@dataclass(frozen=True, kw_only=True)
class MonthRow:
    organisation_id: int
    organisation: str
    month: str  # YYYY-MM
    received: int
    answered: int
    overdue: int
    quarantined: int
    average_reply_days: float | None


def _month(value: datetime.datetime | datetime.date) -> str:
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value)
    return f"{value.year:04d}-{value.month:02d}"


def monthly(*, organisation_ids, today: datetime.date | None = None) -> list[MonthRow]:
    """One row per organisation and month with any activity, newest month first. Received
    and overdue count by the month received, answered and reply time by the month answered;
    a message is overdue when answered after its due day or still open past it."""
    today = today or timezone.localdate()
    received = defaultdict(int)
    quarantined = defaultdict(int)
    answered = defaultdict(int)
    overdue = defaultdict(int)
    reply_hours = defaultdict(list)
    names = {}
    rows = Message.objects.filter(organisation_id__in=organisation_ids).values_list(
        "organisation_id", "organisation__title", "received_at", "due_on", "status",
        "answered_at")
    for org, name, received_at, due_on, status, answered_at in rows.iterator():
        names[org] = name
        key = (org, _month(received_at))
        if status == Status.QUARANTINED:
            quarantined[key] += 1
            continue
        received[key] += 1
        if answered_at is not None:
            answer_key = (org, _month(answered_at))
            answered[answer_key] += 1
            reply_hours[answer_key].append((answered_at - received_at).total_seconds() / 3600)
            if timezone.localdate(answered_at) > due_on:
                overdue[key] += 1
        elif status != Status.CLOSED and today > due_on:
            overdue[key] += 1
    keys = set(received) | set(answered) | set(quarantined)
    out = [MonthRow(organisation_id=org, organisation=names[org], month=month,
                    received=received[(org, month)], answered=answered[(org, month)],
                    overdue=overdue[(org, month)], quarantined=quarantined[(org, month)],
                    average_reply_days=(round(sum(h) / len(h) / 24, 1)
                                        if (h := reply_hours[(org, month)]) else None))
           for org, month in keys]
    return sorted(out, key=lambda r: (r.month, r.organisation), reverse=True)


def totals(rows: list[MonthRow]) -> list[MonthRow]:
    """The bureau's view: every organisation together, per month."""
    by_month: dict[str, list[MonthRow]] = defaultdict(list)
    for row in rows:
        by_month[row.month].append(row)
    out = []
    for month, group in by_month.items():
        answered = sum(r.answered for r in group)
        weighted = sum((r.average_reply_days or 0) * r.answered for r in group)
        out.append(MonthRow(organisation_id=0, organisation="全部单位", month=month,
                            received=sum(r.received for r in group), answered=answered,
                            overdue=sum(r.overdue for r in group),
                            quarantined=sum(r.quarantined for r in group),
                            average_reply_days=round(weighted / answered, 1) if answered
                            else None))
    return sorted(out, key=lambda r: r.month, reverse=True)


STATS_HEADER = ("单位", "月份", "收到", "已答复", "逾期", "已隔离", "平均答复天数")


def stats_xlsx(rows: list[MonthRow]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("留言统计")
    sheet.append(STATS_HEADER)
    for r in rows:
        sheet.append([r.organisation, r.month, r.received, r.answered, r.overdue,
                      r.quarantined, r.average_reply_days])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


QUEUE_HEADER = ("查询码", "类型", "受理单位", "标题", "收到时间", "答复期限", "状态", "承办人",
                "答复时间")


def queue_xlsx(queryset) -> bytes:
    """The queue as a table — never the contact details (not selected, not decrypted)."""
    kinds = dict(Message._meta.get_field("kind").choices)
    statuses = dict(Status.choices)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("留言")
    sheet.append(QUEUE_HEADER)
    for row in queryset.values_list(*ROW_FIELDS).iterator():
        code, kind, org, title, received_at, due_on, status, assignee, answered_at = row
        sheet.append([code, kinds.get(kind, kind), org, title,
                      timezone.localtime(received_at).strftime("%Y-%m-%d %H:%M"),
                      due_on.isoformat(), statuses.get(status, status), assignee or "",
                      timezone.localtime(answered_at).strftime("%Y-%m-%d %H:%M")
                      if answered_at else ""])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def trend_svg(rows: list[MonthRow], *, months: int = 12) -> str:
    """A bar chart of received and answered per month (oldest left), as inline SVG: the trend
    the bureau watches, readable without JavaScript. ``rows`` are one per month."""
    from django.utils.html import escape

    shown = sorted(rows, key=lambda r: r.month)[-months:]
    if not shown:
        return ""
    top = max(max(r.received, r.answered, r.overdue) for r in shown) or 1
    bar, gap, height = 10, 14, 120
    width = len(shown) * (3 * bar + gap) + gap
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
             f'height="{height + 30}" aria-labelledby="trend-title">'
             '<title id="trend-title">每月收到、已答复与逾期留言数</title>']
    for index, row in enumerate(shown):
        x = gap + index * (3 * bar + gap)
        for offset, (value, colour, label) in enumerate((
                (row.received, "#2e6da4", "收到"), (row.answered, "#3c763d", "已答复"),
                (row.overdue, "#a94442", "逾期"))):
            h = round(height * value / top)
            parts.append(f'<rect x="{x + offset * bar}" y="{height - h}" width="{bar - 1}" '
                         f'height="{h}" fill="{colour}"><title>{escape(row.month)} {label} '
                         f'{value}</title></rect>')
        parts.append(f'<text x="{x}" y="{height + 14}" font-size="10">'
                     f'{escape(row.month[2:])}</text>')
    parts.append('</svg>')
    return "".join(parts)


REFUSAL_LABELS = {
    "honeypot": "机器人（隐藏字段被填写）", "rate_address": "同一地址提交过于频繁",
    "rate_site": "本站提交过于频繁", "too_long": "内容过长", "too_large": "提交过大",
    "binary": "二进制内容或文件", "script": "网页脚本或代码", "empty": "必填项为空",
    "invalid": "联系方式格式错误",
}


def refusals(*, site_root_ids, since: datetime.date) -> list[tuple[str, str, int]]:
    """Refused submissions since ``since``: (site, reason label, count), most first. Nothing
    else of them was kept."""
    from django.db.models import Sum

    rows = (RefusalCount.objects.filter(site_root_id__in=site_root_ids, day__gte=since)
            .values("site_root__title", "reason").annotate(n=Sum("count")).order_by("-n"))
    return [(row["site_root__title"], REFUSAL_LABELS.get(row["reason"], row["reason"]),
             row["n"]) for row in rows]
