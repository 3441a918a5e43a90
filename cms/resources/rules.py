"""Teachers' semester resources as plain data: kinds, source channels, semester codes,
registry numbers and quota arithmetic. No database; tested without one."""

import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import models

from cms.resources.exceptions import SemesterCodeError


class ResourceKind(models.TextChoices):
    PAPER = "paper", "论文"
    REFLECTION = "reflection", "反思"
    COURSEWARE = "courseware", "课件"
    LESSON_PLAN = "lesson_plan", "教案"
    EXAM = "exam", "试题"
    VIDEO = "video", "视频"
    CASE = "case", "案例"
    OTHER = "other", "其他"


class SourceChannel(models.TextChoices):
    MADE = "made", "自制"
    DOWNLOADED = "downloaded", "下载"
    RECORDED = "recorded", "刻录"
    PURCHASED = "purchased", "购买"
    ISSUED = "issued", "上级下发"


class Visibility(models.TextChoices):
    PUBLIC = "public", "公开（发布到学校网站）"
    INTERNAL = "internal", "仅校内"


# The column (ColumnPage.kind) a public resource of each kind belongs in: papers in 教学园地,
# reflections in 教研教改, everything else in 教学资源 (the regulation's three uploads).
COLUMN_KIND_FOR: dict[str, str] = {
    ResourceKind.PAPER: "teaching",
    ResourceKind.REFLECTION: "research",
}
DEFAULT_COLUMN_KIND = "resources"

# The regulation's defaults (002 No.4 §11, No.5 §6): one paper, one reflection, one
# courseware, and 50 resources in all each semester.
DEFAULT_MINIMUMS: dict[str, int] = {
    ResourceKind.PAPER: 1,
    ResourceKind.REFLECTION: 1,
    ResourceKind.COURSEWARE: 1,
}
DEFAULT_TOTAL = 50
TOTAL_KEY = "total"

SEMESTER_CODE = re.compile(r"^(?P<start>\d{4})-(?P<end>\d{4})-(?P<term>[12])$")
TERM_LABELS = {1: "第一学期", 2: "第二学期"}


def semester_code(*, start_year: int, term: int) -> str:
    """``2026-2027-1``: the school year (学年) it belongs to and the term."""
    return f"{start_year}-{start_year + 1}-{term}"


def parse_semester_code(code: str) -> tuple[int, int]:
    """(start_year, term) of a code such as ``2026-2027-1``."""
    match = SEMESTER_CODE.match(code or "")
    if not match or int(match["end"]) != int(match["start"]) + 1:
        raise SemesterCodeError(f"学期代码“{code}”无效，应为“2026-2027-1”这样的格式。")
    return int(match["start"]), int(match["term"])


def semester_name(*, start_year: int, term: int) -> str:
    return f"{start_year}—{start_year + 1}学年{TERM_LABELS[term]}"


def registry_prefix(school_slug: str) -> str:
    return school_slug.upper()


def registry_number(*, school_slug: str, year: int, sequence: int) -> str:
    """``YIZHONG-2026-0001``: the school, the school year, the running number (four digits
    at least; a school with more than 9,999 entries a year simply gets more)."""
    if sequence < 1:
        raise ValueError("registry sequence numbers start at 1")
    return f"{registry_prefix(school_slug)}-{year}-{sequence:04d}"


def kind_label(kind: str) -> str:
    return ResourceKind(kind).label


@dataclass(frozen=True)
class Requirement:
    """What a teacher must have approved in a semester: per-kind minimums and a total."""

    minimums: Mapping[str, int]
    total: int

    def as_labelled(self) -> dict[str, int]:
        """The report's ``required``: kind labels with a minimum above zero, and the total."""
        shown = {kind_label(kind): n for kind, n in self.minimums.items() if n > 0}
        return {**shown, TOTAL_KEY: self.total}


DEFAULT_REQUIREMENT = Requirement(minimums=dict(DEFAULT_MINIMUMS), total=DEFAULT_TOTAL)


@dataclass(frozen=True)
class Progress:
    counts: dict[str, int]  # every kind, zero included
    total: int
    requirement: Requirement

    @property
    def shortfalls(self) -> dict[str, int]:
        """How many more of each kind (and in all, under ``total``) are still needed."""
        short = {kind: need - self.counts.get(kind, 0)
                 for kind, need in self.requirement.minimums.items()
                 if self.counts.get(kind, 0) < need}
        if self.total < self.requirement.total:
            short[TOTAL_KEY] = self.requirement.total - self.total
        return short

    @property
    def complete(self) -> bool:
        return not self.shortfalls

    @property
    def percent(self) -> int:
        """Share of the requirement met, counting each kind only up to its minimum and the
        total only up to the total, so 50 videos without a paper is not 100 %."""
        needed = sum(self.requirement.minimums.values()) + self.requirement.total
        if needed == 0:
            return 100
        met = sum(min(self.counts.get(kind, 0), need)
                  for kind, need in self.requirement.minimums.items())
        met += min(self.total, self.requirement.total)
        return min(100, met * 100 // needed)

    def labelled_counts(self) -> dict[str, int]:
        return {kind_label(kind): self.counts.get(kind, 0) for kind in ResourceKind.values}

    def describe_shortfalls(self) -> str:
        parts = [f"{kind_label(kind)}还差 {n} 篇" if kind != TOTAL_KEY else f"总数还差 {n} 件"
                 for kind, n in self.shortfalls.items()]
        return "；".join(parts)


def progress(*, counts: Mapping[str, int], requirement: Requirement) -> Progress:
    full = {kind: int(counts.get(kind, 0) or 0) for kind in ResourceKind.values}
    return Progress(counts=full, total=sum(full.values()), requirement=requirement)


def column_kind_for(kind: str) -> str:
    return COLUMN_KIND_FOR.get(kind, DEFAULT_COLUMN_KIND)
