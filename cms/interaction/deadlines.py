"""Reply deadlines in working days (工作日): plain functions over dates, no Django models.

A working day is Monday to Friday unless it is a listed holiday, plus any listed make-up
working day (调休, a Saturday or Sunday worked in exchange). The lists come from settings
(``CMS_INTERACTION_HOLIDAYS``, ``CMS_INTERACTION_WORKDAYS``: ISO dates), so that each year's
official calendar is one settings change.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Calendar:
    holidays: frozenset[datetime.date] = frozenset()
    workdays: frozenset[datetime.date] = frozenset()

    @classmethod
    def from_iso(cls, *, holidays: Iterable[str] = (), workdays: Iterable[str] = ()
                 ) -> "Calendar":
        return cls(holidays=frozenset(datetime.date.fromisoformat(d) for d in holidays),
                   workdays=frozenset(datetime.date.fromisoformat(d) for d in workdays))

    def is_working_day(self, day: datetime.date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays


def add_working_days(*, start: datetime.date, days: int, calendar: Calendar) -> datetime.date:
    """The ``days``-th working day after ``start`` (the day received does not count): the
    last day on which a reply is on time."""
    day = start
    remaining = days
    while remaining > 0:
        day += datetime.timedelta(days=1)
        if calendar.is_working_day(day):
            remaining -= 1
    return day


def working_days_between(*, start: datetime.date, end: datetime.date,
                         calendar: Calendar) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end`` <= start)."""
    count = 0
    day = start
    while day < end:
        day += datetime.timedelta(days=1)
        if calendar.is_working_day(day):
            count += 1
    return count


class Stage:
    ON_TIME = "on_time"
    WARNING = "warning"  # due within the warning window
    OVERDUE = "overdue"


def stage(*, due: datetime.date, today: datetime.date, warn_days: int,
          calendar: Calendar) -> str:
    """Where an open message stands: overdue after its due day, a warning when at most
    ``warn_days`` working days are left."""
    if today > due:
        return Stage.OVERDUE
    if working_days_between(start=today, end=due, calendar=calendar) <= warn_days:
        return Stage.WARNING
    return Stage.ON_TIME


def months_before(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` calendar months earlier (the month's last day when shorter)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    next_month = datetime.date(year + (month == 12), month % 12 + 1, 1)
    last = (next_month - datetime.timedelta(days=1)).day
    return datetime.date(year, month, min(day.day, last))
