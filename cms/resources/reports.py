"""Semester reports and the resource registry (资源登记册): rows computed with one grouped
query per report, and their JSON, CSV and XLSX forms, and the progress chart (SVG)."""

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.utils.html import escape
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from cms.models import Role
from cms.resources.models import QuotaRule, Resource, ResourceFile, Semester
from cms.resources.rules import (
    DEFAULT_REQUIREMENT,
    TOTAL_KEY,
    Progress,
    ResourceKind,
    SourceChannel,
    kind_label,
    progress,
)

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
User = get_user_model()


@dataclass(frozen=True)
class ReportRow:
    teacher_id: int
    teacher: str  # username
    teacher_name: str
    school_id: int
    school: str  # slug
    school_name: str
    semester: str  # code
    progress: Progress

    def as_json(self) -> dict:
        """The contract's row: ``{teacher, school, semester, counts, total, required,
        complete}``, kinds named as the issue names them (论文, 反思, …)."""
        return {
            "teacher": self.teacher,
            "school": self.school,
            "semester": self.semester,
            "counts": self.progress.labelled_counts(),
            "total": self.progress.total,
            "required": self.progress.requirement.as_labelled(),
            "complete": self.progress.complete,
        }


def display_name(*, first_name: str, last_name: str, username: str) -> str:
    return f"{last_name}{first_name}".strip() or username


def semester_report(*, schools: Iterable, semester: Semester) -> list[ReportRow]:
    """Every teacher of ``schools`` (and anyone else who filed approved resources there) with
    their approved resources of ``semester`` counted per kind: one grouped query for the
    counts, one for the teachers, one for the rules, whatever the number of teachers."""
    schools = {school.pk: school for school in schools}
    counted = (Resource.objects
               .filter(school_id__in=schools, semester=semester, approved_at__isnull=False)
               .order_by()
               .values("school_id", "uploader_id")
               .annotate(**{kind: Count("pk", filter=Q(kind=kind))
                            for kind in ResourceKind.values}))
    counts = {(row["school_id"], row["uploader_id"]): row for row in counted}
    people = {}
    for row in (User.objects
                .filter(groups__organisation_role__role=Role.TEACHER,
                        groups__organisation_role__home_page_id__in=schools)
                .values("pk", "username", "first_name", "last_name",
                        "groups__organisation_role__home_page_id")):
        people[(row["groups__organisation_role__home_page_id"], row["pk"])] = row
    missing = {user_id for (_, user_id) in counts} - {user_id for (_, user_id) in people}
    if missing:
        # Former teachers keep the credit for what they filed.
        others = {row["pk"]: row for row in
                  User.objects.filter(pk__in=missing).values("pk", "username", "first_name",
                                                             "last_name")}
        for school_id, user_id in counts:
            if user_id in others:
                people.setdefault((school_id, user_id), others[user_id])
    rules = {rule.school_id: rule.requirement
             for rule in QuotaRule.objects.filter(school_id__in=schools, semester=semester)}
    rows = []
    for (school_id, user_id), person in people.items():
        school = schools[school_id]
        kind_counts = counts.get((school_id, user_id), {})
        rows.append(ReportRow(
            teacher_id=user_id, teacher=person["username"],
            teacher_name=display_name(first_name=person["first_name"],
                                      last_name=person["last_name"],
                                      username=person["username"]),
            school_id=school_id, school=school.slug, school_name=school.title,
            semester=semester.code,
            progress=progress(counts={k: kind_counts.get(k, 0) for k in ResourceKind.values},
                              requirement=rules.get(school_id, DEFAULT_REQUIREMENT))))
    rows.sort(key=lambda row: (row.school_name, row.teacher))
    return rows


def ranking(rows: list[ReportRow]) -> list[tuple[int, ReportRow]]:
    """Contribution ranking (贡献排行): most approved resources first, ties share a rank."""
    ordered = sorted(rows, key=lambda row: (-row.progress.total, row.teacher))
    ranked, rank, previous = [], 0, None
    for position, row in enumerate(ordered, start=1):
        if row.progress.total != previous:
            rank, previous = position, row.progress.total
        ranked.append((rank, row))
    return ranked


@dataclass(frozen=True)
class SchoolSummary:
    school_name: str
    teachers: int
    complete: int

    @property
    def rate(self) -> int:
        return self.complete * 100 // self.teachers if self.teachers else 0


def summaries(rows: list[ReportRow]) -> list[SchoolSummary]:
    by_school: dict[str, list[ReportRow]] = {}
    for row in rows:
        by_school.setdefault(row.school_name, []).append(row)
    return [SchoolSummary(name, len(members), sum(r.progress.complete for r in members))
            for name, members in by_school.items()]


# --- Tables: CSV and XLSX ----------------------------------------------------------------

REPORT_HEADER = ["学校", "学期", "教师账号", "姓名", *[kind_label(k) for k in ResourceKind.values],
                 "合计", "要求", "是否完成", "完成度", "还差"]


def requirement_text(row: ReportRow) -> str:
    return "，".join(f"{key if key != TOTAL_KEY else '总数'} {n}"
                    for key, n in row.progress.requirement.as_labelled().items())


def report_table(rows: list[ReportRow]) -> Iterator[list]:
    yield REPORT_HEADER
    for row in rows:
        counts = row.progress.labelled_counts()
        yield [row.school_name, row.semester, row.teacher, row.teacher_name,
               *counts.values(), row.progress.total, requirement_text(row),
               "是" if row.progress.complete else "否", f"{row.progress.percent}%",
               row.progress.describe_shortfalls()]


def to_csv(table: Iterable[list]) -> str:
    out = io.StringIO()
    out.write("\ufeff")  # Excel opens UTF-8 CSV correctly only with a BOM
    writer = csv.writer(out)
    for line in table:
        writer.writerow(line)
    return out.getvalue()


def to_xlsx(sheets: list[tuple[str, Iterable[list]]]) -> bytes:
    workbook = Workbook(write_only=True)
    for title, table in sheets:
        sheet = workbook.create_sheet(title=title[:31])
        for index, line in enumerate(table):
            if index == 0:
                cells = []
                for value in line:
                    cell = WriteOnlyCell(sheet, value=value)
                    cell.font = Font(bold=True)
                    cells.append(cell)
                sheet.append(cells)
            else:
                sheet.append(line)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def summary_table(rows: list[ReportRow]) -> Iterator[list]:
    yield ["学校", "教师人数", "已完成", "完成率"]
    for summary in summaries(rows):
        yield [summary.school_name, summary.teachers, summary.complete, f"{summary.rate}%"]


def ranking_table(rows: list[ReportRow]) -> Iterator[list]:
    yield ["名次", "学校", "教师账号", "姓名", "通过的资源数"]
    for rank, row in ranking(rows):
        yield [rank, row.school_name, row.teacher, row.teacher_name, row.progress.total]


def report_xlsx(rows: list[ReportRow]) -> bytes:
    return to_xlsx([("完成情况", report_table(rows)), ("学校完成率", summary_table(rows)),
                    ("贡献排行", ranking_table(rows))])


# --- The registry ---------------------------------------------------------------------------

REGISTRY_HEADER = ["登记编号", "标题", "类型", "学科", "年级", "来源", "上传人", "登记日期",
                   "文件", "SHA-256", "状态"]


def registry_files(*, schools: Iterable, year: int | None = None):
    """Every registered file of ``schools`` (of school year ``year``), in registry order."""
    queryset = (ResourceFile.objects
                .filter(resource__school__in=list(schools))
                .select_related("resource", "resource__uploader", "document")
                .order_by("resource__school_id", "resource__registry_year",
                          "resource__registry_sequence", "sort_order", "pk"))
    if year is not None:
        queryset = queryset.filter(resource__registry_year=year)
    return queryset


def registry_status(resource: Resource) -> str:
    if resource.live:
        return "已发布"
    if resource.approved_at is not None:
        return "已通过（校内）"
    return "未通过审核"


def registry_table(files) -> Iterator[list]:
    yield REGISTRY_HEADER
    for item in files.iterator(chunk_size=2000):
        resource = item.resource
        uploader = resource.uploader
        yield [resource.registry_number, resource.title, kind_label(resource.kind),
               resource.subject, resource.grade, SourceChannel(resource.source_channel).label,
               display_name(first_name=uploader.first_name, last_name=uploader.last_name,
                            username=uploader.username),
               resource.created_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d"),
               item.document.filename, item.sha256, registry_status(resource)]


# --- The chart ------------------------------------------------------------------------------

BAR_HEIGHT = 18
BAR_GAP = 6
LABEL_WIDTH = 120
BAR_WIDTH = 360


def progress_chart_svg(rows: list[ReportRow]) -> str:
    """A horizontal bar per teacher (share of the requirement met), drawn server-side: no
    JavaScript, prints as it shows. Green when complete."""
    height = len(rows) * (BAR_HEIGHT + BAR_GAP) + 30
    width = LABEL_WIDTH + BAR_WIDTH + 60
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" class="resources-chart">',
             "<title>每位教师的完成度</title>"]
    for index, row in enumerate(rows):
        y = 10 + index * (BAR_HEIGHT + BAR_GAP)
        filled = BAR_WIDTH * row.progress.percent // 100
        colour = "#2e7d32" if row.progress.complete else "#ef6c00"
        name = escape(row.teacher_name)
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 13}" text-anchor="end" font-size="12">'
            f"{name}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{BAR_WIDTH}" height="{BAR_HEIGHT}" '
            f'fill="#eeeeee"/>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{filled}" height="{BAR_HEIGHT}" '
            f'fill="{colour}"><title>{name}：{row.progress.total} 件，'
            f"{row.progress.percent}%</title></rect>"
            f'<text x="{LABEL_WIDTH + BAR_WIDTH + 6}" y="{y + 13}" font-size="12">'
            f"{row.progress.percent}%</text>")
    parts.append("</svg>")
    return "".join(parts)
