"""Column kinds (栏目类型) and what each expects: plain data, no Django models."""

from django.db import models


class ColumnKind(models.TextChoices):
    NEWS = "news", "动态要闻"
    NOTICE = "notice", "通知公告"
    POLICY = "policy", "政策文件"
    STATIC = "static", "静态信息"
    TEACHING = "teaching", "教学园地"
    RESEARCH = "research", "教研教改"
    RESOURCES = "resources", "教学资源"
    LINK = "link", "链接"


class StructuralChange(models.TextChoices):
    """A change to a live column that takes effect only with the leader's signed approval
    (regulation Art. 5–6)."""

    NONE = "", "无"
    REMOVE = "remove", "撤销本栏目"
    MOVE = "move", "移动本栏目"


# Expected update interval in days, for the timeliness checks (regulation Art. 18):
# news within two weeks, notices and policy within a semester, static pages and links never.
# The three teaching columns follow the semester, as teachers upload each term.
UPDATE_INTERVAL_DAYS: dict[str, int | None] = {
    ColumnKind.NEWS: 14,
    ColumnKind.NOTICE: 180,
    ColumnKind.POLICY: 180,
    ColumnKind.STATIC: None,
    ColumnKind.TEACHING: 180,
    ColumnKind.RESEARCH: 180,
    ColumnKind.RESOURCES: 180,
    ColumnKind.LINK: None,
}

# Columns whose pages teachers contribute to; teachers get "add" rights there only.
TEACHER_COLUMN_KINDS = frozenset({ColumnKind.TEACHING, ColumnKind.RESEARCH, ColumnKind.RESOURCES})

# (title, slug, kind) of the columns every new school site starts with.
SCHOOL_DEFAULT_COLUMNS: list[tuple[str, str, str]] = [
    ("学校概况", "about", ColumnKind.STATIC),
    ("校园动态", "news", ColumnKind.NEWS),
    ("通知公告", "notices", ColumnKind.NOTICE),
    ("教学园地", "teaching", ColumnKind.TEACHING),
    ("教研教改", "research", ColumnKind.RESEARCH),
    ("教学资源", "resources", ColumnKind.RESOURCES),
]

# The bureau portal's columns.
PORTAL_DEFAULT_COLUMNS: list[tuple[str, str, str]] = [
    ("教育要闻", "news", ColumnKind.NEWS),
    ("通知公告", "notices", ColumnKind.NOTICE),
    ("政策文件", "policy", ColumnKind.POLICY),
    ("机构概况", "about", ColumnKind.STATIC),
    ("教研教改", "research", ColumnKind.RESEARCH),
    ("教学资源", "resources", ColumnKind.RESOURCES),
]
