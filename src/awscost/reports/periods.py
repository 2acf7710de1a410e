"""Report periods, all in UTC days: what `--period` names, and the previous period it is compared with.

A period is a half-open range of days `[start, end)`. Comparisons are like for like: a month-to-date is
compared with the same days of the previous month (clipped to its length), never with the whole month, so a
partial month does not show as a fall of 94 %.

    last-month      the previous calendar month          vs the month before it
    month-to-date   the 1st .. the last complete day     vs the same days of the previous month
                    the source covers
    last-week       Monday .. Sunday before this week    vs the week before
    YYYY-MM         that month                           vs the month before
    START..END      those days, END included             vs the same number of days just before

Standard library only: the Lambda adapter parses an event's period before anything heavy is imported.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from awscost.core.errors import InputError

NAMED = ("last-month", "month-to-date", "last-week")
SCHEDULES = ("daily", "weekly", "monthly")
# The natural period of each schedule: what a daily, weekly or monthly mail reports.
SCHEDULE_PERIOD = {"daily": "month-to-date", "weekly": "last-week", "monthly": "last-month"}
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True)
class Period:
    start: date  # first day
    end: date  # the day after the last (exclusive)
    label: str  # as archived and shown: 2026-10, 2026-10-26..2026-11-01

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def to_json(self) -> dict[str, str]:
        # `end` is the last day included: what a reader of the JSON expects of "a period ending on".
        return {"start": self.start.isoformat(), "end": self.last_day.isoformat(), "label": self.label}


@dataclass(frozen=True)
class Comparison:
    """The period reported and the one it is compared with."""

    spec: str  # what was asked for: last-month, month-to-date, 2026-10 ...
    current: Period
    previous: Period


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _month(first: date) -> Period:
    return Period(first, _add_months(first, 1), first.strftime("%Y-%m"))


def _range(start: date, end: date) -> Period:
    last = end - timedelta(days=1)
    return Period(start, end, f"{start.isoformat()}..{last.isoformat()}")


def _parse_day(text: str, where: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{text!r} is not a date (YYYY-MM-DD)", where=where) from None


def resolve(
    spec: str, *, today: date, covered_until: date | None = None, where: str = "period"
) -> Comparison:
    """The period `spec` names and its previous period.

    `today` is the UTC day of the run (named periods are relative to it). `covered_until` is the day after the
    last complete day the source covers; month-to-date ends there (default `today`)."""
    spec = spec.strip()
    if spec == "last-month":
        current = _month(_add_months(_month_start(today), -1))
        return Comparison(spec, current, _month(_add_months(current.start, -1)))
    if spec == "last-week":
        monday = today - timedelta(days=today.weekday())
        current = _range(monday - timedelta(days=7), monday)
        return Comparison(spec, current, _range(monday - timedelta(days=14), monday - timedelta(days=7)))
    if spec == "month-to-date":
        # It ends at the last complete day the source covers, and is the month that day falls in: on the
        # 1st, with the bill complete to the 31st, month-to-date is the whole month just ended.
        end = min(covered_until or today, today)
        first = _month_start(end - timedelta(days=1))
        days = (end - first).days
        prev_first = _add_months(first, -1)
        prev_len = calendar.monthrange(prev_first.year, prev_first.month)[1]
        current = _range(first, end)
        previous = _range(prev_first, prev_first + timedelta(days=min(days, prev_len)))
        return Comparison(spec, current, previous)
    m = _MONTH.match(spec)
    if m:
        year, month = int(m.group(1)), int(m.group(2))
        if not 1 <= month <= 12:
            raise InputError(f"{spec!r}: no month {month}", where=where)
        current = _month(date(year, month, 1))
        return Comparison(spec, current, _month(_add_months(current.start, -1)))
    m = _RANGE.match(spec)
    if m:
        start, last = _parse_day(m.group(1), where), _parse_day(m.group(2), where)
        if last < start:
            raise InputError(f"{spec!r} ends before it starts", where=where)
        current = _range(start, last + timedelta(days=1))
        return Comparison(spec, current, _range(start - timedelta(days=current.days), start))
    raise InputError(
        f"unknown period {spec!r}",
        where=where,
        hint="last-month, month-to-date, last-week, YYYY-MM or START..END (YYYY-MM-DD..YYYY-MM-DD)",
    )


def is_due(schedule: str, today: date) -> bool:
    """A schedule's mail is due today: daily every day, weekly on Mondays, monthly on the 1st."""
    if schedule == "daily":
        return True
    if schedule == "weekly":
        return today.weekday() == 0
    if schedule == "monthly":
        return today.day == 1
    raise InputError(f"unknown schedule {schedule!r}", param="schedule", hint=", ".join(SCHEDULES))
