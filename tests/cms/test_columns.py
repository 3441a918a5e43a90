"""Column kinds are plain data: checked without a database."""

from cms.columns import (
    PORTAL_DEFAULT_COLUMNS,
    SCHOOL_DEFAULT_COLUMNS,
    TEACHER_COLUMN_KINDS,
    UPDATE_INTERVAL_DAYS,
    ColumnKind,
)


def test_every_kind_has_an_update_interval():
    assert set(UPDATE_INTERVAL_DAYS) == set(ColumnKind.values)


def test_update_intervals_follow_the_regulation():
    assert UPDATE_INTERVAL_DAYS[ColumnKind.NEWS] == 14
    assert UPDATE_INTERVAL_DAYS[ColumnKind.NOTICE] == 180
    assert UPDATE_INTERVAL_DAYS[ColumnKind.POLICY] == 180
    assert UPDATE_INTERVAL_DAYS[ColumnKind.STATIC] is None


def test_school_default_columns():
    assert [title for title, _, _ in SCHOOL_DEFAULT_COLUMNS] == [
        "学校概况", "校园动态", "通知公告", "教学园地", "教研教改", "教学资源",
    ]
    slugs = [slug for _, slug, _ in SCHOOL_DEFAULT_COLUMNS + PORTAL_DEFAULT_COLUMNS]
    assert all(slug.isascii() for slug in slugs)


def test_teachers_contribute_to_the_three_teaching_columns():
    assert {ColumnKind.TEACHING, ColumnKind.RESEARCH,
                                    ColumnKind.RESOURCES} == TEACHER_COLUMN_KINDS
