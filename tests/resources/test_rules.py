"""Plain logic: semester codes, registry numbers, quota arithmetic (no database)."""

import pytest

from cms.resources.rules import (
    DEFAULT_REQUIREMENT,
    Requirement,
    ResourceKind,
    SemesterCodeError,
    column_kind_for,
    parse_semester_code,
    progress,
    registry_number,
    semester_code,
    semester_name,
)


def test_semester_codes_round_trip():
    assert semester_code(start_year=2026, term=1) == "2026-2027-1"
    assert parse_semester_code("2026-2027-2") == (2026, 2)
    assert semester_name(start_year=2026, term=2) == "2026—2027学年第二学期"


@pytest.mark.parametrize("code", ["2026-2028-1", "2026-2027-3", "2026-1", "", "2026–2027-1"])
def test_bad_semester_codes_are_refused(code):
    with pytest.raises(SemesterCodeError):
        parse_semester_code(code)


def test_registry_numbers_are_school_year_and_four_digits_at_least():
    assert registry_number(school_slug="yizhong", year=2026, sequence=1) == "YIZHONG-2026-0001"
    assert registry_number(school_slug="yi", year=2026, sequence=12345) == "YI-2026-12345"
    with pytest.raises(ValueError):
        registry_number(school_slug="yi", year=2026, sequence=0)


def test_the_defaults_are_one_paper_one_reflection_one_courseware_and_fifty():
    assert DEFAULT_REQUIREMENT.as_labelled() == {"论文": 1, "反思": 1, "课件": 1, "total": 50}


def test_fifty_resources_without_a_paper_are_not_complete():
    result = progress(counts={ResourceKind.VIDEO: 49, ResourceKind.REFLECTION: 1,
                              ResourceKind.COURSEWARE: 1}, requirement=DEFAULT_REQUIREMENT)
    assert result.total == 51
    assert not result.complete
    assert result.shortfalls == {ResourceKind.PAPER: 1}
    assert result.percent < 100
    assert "论文还差 1 篇" in result.describe_shortfalls()


def test_meeting_every_minimum_and_the_total_is_complete():
    result = progress(counts={ResourceKind.PAPER: 2, ResourceKind.REFLECTION: 1,
                              ResourceKind.COURSEWARE: 1, ResourceKind.EXAM: 46},
                      requirement=DEFAULT_REQUIREMENT)
    assert result.complete and result.percent == 100 and result.total == 50


def test_short_of_the_total_only():
    result = progress(counts={ResourceKind.PAPER: 1, ResourceKind.REFLECTION: 1,
                              ResourceKind.COURSEWARE: 1}, requirement=DEFAULT_REQUIREMENT)
    assert result.shortfalls == {"total": 47}
    # 3 of 3 minimums and 3 of 50: (3 + 3) / 53
    assert result.percent == 11


def test_a_school_may_require_nothing():
    nothing = Requirement(minimums={}, total=0)
    assert progress(counts={}, requirement=nothing).complete
    assert progress(counts={}, requirement=nothing).percent == 100


def test_counts_list_every_kind_by_its_label():
    labelled = progress(counts={ResourceKind.CASE: 2},
                        requirement=DEFAULT_REQUIREMENT).labelled_counts()
    assert list(labelled) == ["论文", "反思", "课件", "教案", "试题", "视频", "案例", "其他"]
    assert labelled["案例"] == 2


def test_kinds_map_to_the_teaching_columns():
    assert column_kind_for(ResourceKind.PAPER) == "teaching"
    assert column_kind_for(ResourceKind.REFLECTION) == "research"
    assert column_kind_for(ResourceKind.COURSEWARE) == "resources"
    assert column_kind_for(ResourceKind.VIDEO) == "resources"
