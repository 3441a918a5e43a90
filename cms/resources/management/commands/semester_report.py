"""manage.py semester_report [--school SLUG] [--semester CODE] --format json|csv|xlsx"""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from cms.models import SchoolHomePage
from cms.resources.models import Semester
from cms.resources.reports import report_table, report_xlsx, semester_report, to_csv
from cms.resources.rules import SemesterCodeError, parse_semester_code


def resolve_semester(code: str | None) -> Semester:
    if not code:
        semester = Semester.objects.current()
        if semester is None:
            raise CommandError("还没有登记任何学期，请先在后台“学期”中添加。")
        return semester
    try:
        parse_semester_code(code)
    except SemesterCodeError as error:
        raise CommandError(str(error)) from error
    semester = Semester.objects.filter(code=code).first()
    if semester is None:
        raise CommandError(f"没有学期“{code}”。")
    return semester


def resolve_schools(slug: str | None) -> list[SchoolHomePage]:
    schools = SchoolHomePage.objects.order_by("title")
    if slug:
        schools = schools.filter(slug=slug)
        if not schools:
            raise CommandError(f"没有标识为“{slug}”的学校。")
    return list(schools)


class Command(BaseCommand):
    help = "每位教师本学期审核通过的资源数与学校要求的对照（JSON、CSV 或 XLSX）。"

    def add_arguments(self, parser):
        parser.add_argument("--school", help="学校标识（slug）；默认全部学校")
        parser.add_argument("--semester", help="学期代码，如 2026-2027-1；默认当前学期")
        parser.add_argument("--format", choices=["json", "csv", "xlsx"], default="json")
        parser.add_argument("--output", help="写入文件（XLSX 默认写到标准输出）")

    def handle(self, *args, school=None, semester=None, format="json", output=None, **options):
        rows = semester_report(schools=resolve_schools(school),
                               semester=resolve_semester(semester))
        if format == "json":
            data = (json.dumps([row.as_json() for row in rows], ensure_ascii=False, indent=2)
                    + "\n").encode()
        elif format == "csv":
            data = to_csv(report_table(rows)).encode()
        else:
            data = report_xlsx(rows)
        if output:
            with open(output, "wb") as handle:
                handle.write(data)
            return
        stream = getattr(self.stdout, "_out", sys.stdout)
        if hasattr(stream, "buffer"):
            stream.flush()
            stream.buffer.write(data)
            stream.buffer.flush()
        elif format == "xlsx":
            raise CommandError("XLSX 是二进制文件：请用 --output 指定文件，或重定向标准输出。")
        else:  # call_command(stdout=StringIO())
            stream.write(data.decode())
