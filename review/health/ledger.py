"""The timeliness ledger and the verdict: plain functions over plain data, no Django.

A column's clock runs from the last publication in it or its sub-columns (or, when nothing
was ever published there, from the column's own first publication: a column opened yesterday
is not overdue today). The homepage's clock runs from the last publication anywhere on the
site, since the homepage lists the newest content of every column.

The veto lines are the inspection indicators' (REQUIREMENTS.md, "How sites are inspected");
the warning lines are the early warnings commercial monitors give before each of them. Both
arrive as ``Thresholds`` (from settings), never read here.
"""

import datetime
from dataclasses import dataclass, field

OK = "ok"
WARNING = "warning"
OVERDUE = "overdue"

# Veto items (单项否决): any one fails the site.
VETO_HOMEPAGE = "HOMEPAGE_NOT_UPDATED"
VETO_COLUMNS = "COLUMNS_NOT_UPDATED"
VETO_BLANK = "BLANK_COLUMNS"
VETO_UNREACHABLE = "SITE_UNREACHABLE"
VETO_HARMFUL_LINK = "HARMFUL_LINK"
VETO_MESSAGES = "MESSAGES_UNANSWERED"
# Early warnings and deductions.
WARN_HOMEPAGE = "HOMEPAGE_UPDATE_DUE"
WARN_COLUMNS_DUE = "COLUMNS_DUE_SOON"
WARN_COLUMNS_OVERDUE = "COLUMNS_OVERDUE"
WARN_BLANK = "BLANK_COLUMNS_WARNING"
WARN_AVAILABILITY = "AVAILABILITY_WARNING"
WARN_BROKEN = "BROKEN_LINKS"
WARN_SUSPECT = "SUSPECT_LINKS"
WARN_MUTATED = "MUTATED_LINKS"
WARN_MESSAGES = "MESSAGES_OVERDUE"

LABELS = {
    VETO_HOMEPAGE: "首页长期未更新",
    VETO_COLUMNS: "栏目不更新",
    VETO_BLANK: "空白栏目过多",
    VETO_UNREACHABLE: "网站不能访问",
    VETO_HARMFUL_LINK: "链接到色情、赌博等有害内容（外链变异）",
    VETO_MESSAGES: "公众留言超过 3 个月未答复",
    WARN_HOMEPAGE: "首页即将超期未更新",
    WARN_COLUMNS_DUE: "栏目即将超期未更新",
    WARN_COLUMNS_OVERDUE: "超期未更新栏目接近否决线",
    WARN_BLANK: "空白栏目接近否决线",
    WARN_AVAILABILITY: "首页访问失败率接近否决线",
    WARN_BROKEN: "存在确认的错误链接（404/403/410）",
    WARN_SUSPECT: "存在疑似错误链接（超时或服务器错误）",
    WARN_MUTATED: "外部链接变异（跳转到其他网站或域名待售）",
    WARN_MESSAGES: "公众留言超过答复期限未答复（3 个月即否决）",
}
STATE_LABELS = {OK: "正常", WARNING: "预警", OVERDUE: "超期"}
# A column whose interval is at most this many days counts towards the short-interval veto
# (news within two weeks, notices and policy within six months); longer ones (personnel,
# planning: a year) towards the long-interval one.
SHORT_INTERVAL_MAX_DAYS = 180
DAY = datetime.timedelta(days=1)


@dataclass(frozen=True, kw_only=True)
class Thresholds:
    column_warning_fraction: float = 0.7
    homepage_days: int = 14
    homepage_warning_days: int = 10
    blank_warning_above: int = 2
    blank_veto_at: int = 5
    overdue_warning_above: int = 6
    overdue_short_veto_at: int = 5
    overdue_all_veto_at: int = 10
    availability_warning_share: float = 0.03
    availability_veto_share: float = 0.05


@dataclass(frozen=True, kw_only=True)
class Column:
    """A column as the composition root describes it (review.health.sources)."""

    id: int
    title: str
    kind: str
    interval_days: int | None
    parent_id: int | None = None
    expects_content: bool = True
    own_content: bool = False


@dataclass(frozen=True, kw_only=True)
class Clock:
    """When a thing was last updated, how long it may go, and where that leaves it."""

    last_update: datetime.datetime | None
    interval_days: int | None
    days_left: int | None
    state: str


@dataclass(frozen=True, kw_only=True)
class ColumnLedger:
    column: Column
    clock: Clock


@dataclass(frozen=True, kw_only=True)
class Deduction:
    code: str
    count: int
    points: int


@dataclass(frozen=True, kw_only=True)
class Verdict:
    score: int
    veto: tuple[str, ...]
    warnings: tuple[str, ...]
    deductions: tuple[Deduction, ...] = field(default=())


def clock(*, last_update: datetime.datetime | None, baseline: datetime.datetime | None,
          interval_days: int | None, warning_after_days: float | None,
          now: datetime.datetime) -> Clock:
    """The clock of something due every ``interval_days`` (None: never due), warned about
    after ``warning_after_days``; it runs from ``last_update`` or else ``baseline``."""
    start = last_update or baseline
    if interval_days is None:
        return Clock(last_update=last_update, interval_days=None, days_left=None, state=OK)
    if start is None:
        return Clock(last_update=None, interval_days=interval_days, days_left=0, state=OVERDUE)
    elapsed = now - start
    days_left = (start + interval_days * DAY - now) // DAY
    if elapsed >= interval_days * DAY:
        state = OVERDUE
    elif warning_after_days is not None and elapsed >= warning_after_days * DAY:
        state = WARNING
    else:
        state = OK
    return Clock(last_update=last_update, interval_days=interval_days, days_left=days_left,
                 state=state)


def column_ledger(*, columns: list[Column], last_updates: dict[int, datetime.datetime],
                  opened: dict[int, datetime.datetime], thresholds: Thresholds,
                  now: datetime.datetime) -> list[ColumnLedger]:
    """Each column's clock. ``last_updates``: the last publication in a column or below it
    (by column id); ``opened``: each column's own first publication."""
    return [
        ColumnLedger(column=column, clock=clock(
            last_update=last_updates.get(column.id), baseline=opened.get(column.id),
            interval_days=column.interval_days,
            warning_after_days=(None if column.interval_days is None
                                else column.interval_days * thresholds.column_warning_fraction),
            now=now))
        for column in columns
    ]


def homepage_clock(*, last_update: datetime.datetime | None,
                   baseline: datetime.datetime | None, thresholds: Thresholds,
                   now: datetime.datetime) -> Clock:
    return clock(last_update=last_update, baseline=baseline,
                 interval_days=thresholds.homepage_days,
                 warning_after_days=thresholds.homepage_warning_days, now=now)


def blank_columns(*, columns: list[Column], has_content: set[int]) -> list[Column]:
    """Live columns that expect content and show none: nothing published in them or any
    sub-column (``has_content``: columns with live content directly in them), and no text of
    their own. An empty sub-column is blank too, and so is a parent whose sub-columns are."""
    children: dict[int, list[int]] = {}
    for column in columns:
        if column.parent_id is not None:
            children.setdefault(column.parent_id, []).append(column.id)

    def filled(column_id: int, seen: frozenset = frozenset()) -> bool:
        if column_id in has_content:
            return True
        return any(filled(child, seen | {column_id}) for child in children.get(column_id, ())
                   if child not in seen)

    return [column for column in columns
            if column.expects_content and not column.own_content and not filled(column.id)]


def verdict(*, homepage: Clock, ledger: list[ColumnLedger], blank: list[Column],
            broken: int, broken_on_homepage: int, suspect: int, mutated: int, harmful: int,
            failure_share: float | None, thresholds: Thresholds,
            messages_overdue: int = 0, messages_over_3_months: int = 0) -> Verdict:
    """Veto items, warnings and the score (100 less deductions; a site with a veto item
    scores at most 59, 不合格). ``messages_…``: valid public messages past their reply
    deadline, and those unanswered for more than three months (a veto item)."""
    veto: list[str] = []
    warnings: list[str] = []
    overdue = [entry for entry in ledger if entry.clock.state == OVERDUE]
    short_overdue = [entry for entry in overdue
                     if entry.clock.interval_days is not None
                     and entry.clock.interval_days <= SHORT_INTERVAL_MAX_DAYS]
    if homepage.state == OVERDUE:
        veto.append(VETO_HOMEPAGE)
    elif homepage.state == WARNING:
        warnings.append(WARN_HOMEPAGE)
    if (len(short_overdue) >= thresholds.overdue_short_veto_at
            or len(overdue) >= thresholds.overdue_all_veto_at):
        veto.append(VETO_COLUMNS)
    elif len(overdue) > thresholds.overdue_warning_above:
        warnings.append(WARN_COLUMNS_OVERDUE)
    if any(entry.clock.state == WARNING for entry in ledger):
        warnings.append(WARN_COLUMNS_DUE)
    if len(blank) >= thresholds.blank_veto_at:
        veto.append(VETO_BLANK)
    elif len(blank) > thresholds.blank_warning_above:
        warnings.append(WARN_BLANK)
    if failure_share is not None:
        if failure_share >= thresholds.availability_veto_share:
            veto.append(VETO_UNREACHABLE)
        elif failure_share >= thresholds.availability_warning_share:
            warnings.append(WARN_AVAILABILITY)
    if harmful:
        veto.append(VETO_HARMFUL_LINK)
    if mutated:
        warnings.append(WARN_MUTATED)
    if broken:
        warnings.append(WARN_BROKEN)
    if suspect:
        warnings.append(WARN_SUSPECT)
    if messages_over_3_months:
        veto.append(VETO_MESSAGES)
    elif messages_overdue:
        warnings.append(WARN_MESSAGES)

    deductions = [
        # Dead links: one point each, two on the homepage (inspectors count the homepage's
        # separately), at most twenty.
        Deduction(code=WARN_BROKEN, count=broken,
                  points=min(20, broken + broken_on_homepage)),
        Deduction(code=WARN_COLUMNS_OVERDUE, count=len(overdue), points=min(20, 2 * len(overdue))),
        Deduction(code=WARN_BLANK, count=len(blank), points=min(10, 2 * len(blank))),
        Deduction(code=WARN_MUTATED, count=mutated, points=min(20, 5 * mutated)),
        Deduction(code=WARN_MESSAGES, count=messages_overdue,
                  points=min(10, 2 * messages_overdue)),
        Deduction(code=WARN_AVAILABILITY, count=0 if failure_share is None else 1,
                  points=0 if failure_share is None else min(10, round(failure_share * 100))),
    ]
    deductions = [deduction for deduction in deductions if deduction.points]
    score = max(0, 100 - sum(deduction.points for deduction in deductions))
    if veto:
        score = min(score, 59)
    return Verdict(score=score, veto=tuple(veto), warnings=tuple(warnings),
                   deductions=tuple(deductions))
