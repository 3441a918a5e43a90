"""manage.py semester_report: the contract (JSON rows), CSV and XLSX, bad input."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from cms.models import Role
from cms.resources.models import QuotaRule, Semester
from cms.resources.rules import ResourceKind
from tests.conftest import make_user
from tests.resources.conftest import QUOTA_MET, make_resources


def run(*args) -> str:
    out = io.StringIO()
    call_command("semester_report", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def filed(network, semester):
    """Teacher a meets the quota; teacher a2 has 10 approved and 40 unapproved; school B's
    teacher has 5."""
    a, b = network.school_a.home_page, network.school_b.home_page
    network.users["a2_teacher"] = make_user("a2_teacher", network.school_a.groups[Role.TEACHER])
    make_resources(school=a, teacher=network.users["a_teacher"], semester=semester,
                   kinds=QUOTA_MET)
    make_resources(school=a, teacher=network.users["a2_teacher"], semester=semester,
                   kinds={ResourceKind.PAPER: 10})
    make_resources(school=a, teacher=network.users["a2_teacher"], semester=semester,
                   kinds={ResourceKind.REFLECTION: 40}, approved=False)
    make_resources(school=b, teacher=network.users["b_teacher"], semester=semester,
                   kinds={ResourceKind.COURSEWARE: 5})
    return network


def test_json_rows_follow_the_contract(filed, semester):
    rows = json.loads(run("--school", "jia", "--format", "json"))
    assert [row["teacher"] for row in rows] == ["a2_teacher", "a_teacher"]
    complete = rows[1]
    assert set(complete) == {"teacher", "school", "semester", "counts", "total", "required",
                             "complete"}
    assert complete["school"] == "jia" and complete["semester"] == semester.code
    assert complete["counts"] == {"论文": 1, "反思": 1, "课件": 1, "教案": 47, "试题": 0,
                                  "视频": 0, "案例": 0, "其他": 0}
    assert complete["total"] == 50 and complete["complete"] is True
    assert complete["required"] == {"论文": 1, "反思": 1, "课件": 1, "total": 50}
    # Only approved resources count.
    assert rows[0]["total"] == 10 and rows[0]["complete"] is False


def test_every_school_by_default_and_schools_keep_apart(filed):
    rows = json.loads(run("--format", "json"))
    by_school = {(row["school"], row["teacher"]) for row in rows}
    assert ("yi", "b_teacher") in by_school and ("jia", "a_teacher") in by_school
    assert not {("jia", "b_teacher"), ("yi", "a_teacher")} & by_school


def test_a_schools_own_rule_replaces_the_defaults(filed, semester):
    QuotaRule.objects.create(school=filed.school_a.home_page, semester=semester, min_paper=10,
                             min_reflection=0, min_courseware=0, min_total=10)
    rows = {row["teacher"]: row for row in json.loads(run("--school", "jia"))}
    assert rows["a2_teacher"]["required"] == {"论文": 10, "total": 10}
    assert rows["a2_teacher"]["complete"] is True
    assert rows["a_teacher"]["complete"] is False


def test_another_semester_counts_its_own_resources(filed, semester):
    other = Semester.objects.create(start_year=semester.start_year - 1, term=2,
                                    start_date=semester.start_date.replace(
                                        year=semester.start_date.year - 1),
                                    end_date=semester.end_date.replace(
                                        year=semester.end_date.year - 1))
    rows = json.loads(run("--school", "jia", "--semester", other.code))
    assert {row["semester"] for row in rows} == {other.code}
    assert all(row["total"] == 0 for row in rows)


def test_csv_has_a_row_per_teacher(filed):
    text = run("--school", "jia", "--format", "csv")
    lines = text.lstrip("\ufeff").strip().splitlines()
    assert lines[0].startswith("学校,学期,教师账号,姓名,论文")
    assert len(lines) == 3 and "a_teacher" in text


def test_xlsx_has_progress_rates_and_ranking(filed, tmp_path):
    path = tmp_path / "report.xlsx"
    run("--school", "jia", "--format", "xlsx", "--output", str(path))
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["完成情况", "学校完成率", "贡献排行"]
    rows = list(workbook["完成情况"].values)
    assert rows[0][:4] == ("学校", "学期", "教师账号", "姓名")
    assert len(rows) == 3
    assert list(workbook["学校完成率"].values)[1] == ("甲中学", 2, 1, "50%")
    ranking = list(workbook["贡献排行"].values)
    assert ranking[1][2] == "a_teacher" and ranking[1][4] == 50


def test_unknown_school_or_semester_is_an_error(filed):
    with pytest.raises(CommandError, match="没有标识为“nowhere”的学校"):
        run("--school", "nowhere")
    with pytest.raises(CommandError, match="没有学期"):
        run("--semester", "1999-2000-1")
    with pytest.raises(CommandError, match="无效"):
        run("--semester", "2026-1")


def test_no_semester_at_all_is_an_error(network):
    with pytest.raises(CommandError, match="还没有登记任何学期"):
        run()


def test_the_report_takes_a_fixed_number_of_queries(filed, semester):
    from cms.models import SchoolHomePage
    from cms.resources.reports import semester_report

    schools = list(SchoolHomePage.objects.all())
    with CaptureQueriesContext(connection) as few:
        semester_report(schools=schools, semester=semester)
    for number in range(20):
        teacher = make_user(f"extra{number}", filed.school_a.groups[Role.TEACHER])
        make_resources(school=filed.school_a.home_page, teacher=teacher, semester=semester,
                       kinds={ResourceKind.CASE: 2})
    with CaptureQueriesContext(connection) as many:
        rows = semester_report(schools=schools, semester=semester)
    assert len(many) == len(few) <= 4
    assert sum(row.progress.total for row in rows) == 50 + 10 + 5 + 40
