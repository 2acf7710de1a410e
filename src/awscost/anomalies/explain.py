"""An anomaly's explanation in one sentence, from the bill's drill-down of its series (`cost_drivers`).

    +$412.00/day: 38 × r6g.2xlarge in eu-west-1, tag team=search, started 2026-11-14 09:00

The driver is the usage type x region x instance type whose cost per day changed most, in the direction of
the event, between the event's days and the 28 days before it (as many of them as the bill holds); for an
instance type its count is the change of the instances running while it was charged (instance-hours over
the hours it was charged in) from before the event to the event's last day (an open event: now). A tag
value is named when it carries at least half of the driver's change ("untagged" when that is the missing
value). "started" is the first hour the driver was charged in the event when it was not charged before (a
cluster launched at 09:00; a daily bill says the day only), else the event's first day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from awscost.anomalies.detect import CENT, Anomaly

BEFORE_DAYS = 28
TAG_SHARE = Decimal("0.5")  # a tag value is named when it carries at least this share of the change


@dataclass(frozen=True)
class Driver:
    """One value of a dimension: its cost and instance-hours per day in the event and before it."""

    values: tuple[Any, ...]
    delta_per_day: Decimal
    running_delta: Decimal  # instances running while charged on the event's last day, less before
    new: bool  # not charged in the days before
    first: datetime | None


def drivers(
    rows: Iterable[dict[str, Any]], names: Sequence[str], days: int, before_days: int
) -> list[Driver]:
    """The drill-down's rows (analyses.cost_drivers) as per-day deltas, largest change first."""
    out = []
    for r in rows:
        now, then = Decimal(r["WindowCost"]), Decimal(r["BeforeCost"])
        per_before = then / before_days if before_days else Decimal(0)
        out.append(
            Driver(
                values=tuple(r[n] for n in names),
                delta_per_day=now / days - per_before,
                running_delta=_running(r["LastDayHours"], r["LastDaySpan"])
                - _running(r["BeforeHours"], r["BeforeSpan"]),
                new=then == 0 and now != 0,
                first=r["FirstInWindow"],
            )
        )
    return sorted(out, key=lambda d: (-abs(d.delta_per_day), str(d.values)))


def _running(hours: Any, span: Any) -> Decimal:
    return Decimal(hours) / Decimal(span) if span else Decimal(0)


def sentence(event: Anomaly, usage: Sequence[Driver], tags: Mapping[str, Sequence[Driver]]) -> str:
    """The one-sentence explanation; the detector's own description when the drill-down finds no driver."""
    sign = 1 if event.impact_per_day >= 0 else -1
    size = f"{'+' if sign > 0 else '-'}${abs(event.impact_per_day):,}/day"
    top = next((d for d in usage if d.delta_per_day * sign > 0), None)
    if top is None:
        return event.explanation
    usage_type, region, itype = top.values
    count = abs(top.running_delta)
    if itype and count >= 1:
        what = f"{count.quantize(Decimal(1))} × {itype}"
    else:
        delta = abs(top.delta_per_day).quantize(CENT)
        what = f"{usage_type or event.service} ({'+' if sign > 0 else '-'}${delta:,}/day)"
    parts = [f"{what} in {region}" if region else what]
    for key, values in tags.items():
        best = next((d for d in values if d.delta_per_day * sign > 0), None)
        if best is not None and abs(best.delta_per_day) >= TAG_SHARE * abs(top.delta_per_day):
            value = best.values[0]
            parts.append(f"tag {key.removeprefix('user:')}={value}" if value else f"untagged by {key}")
            break
    started = top.first if top.new and top.first is not None else None
    # A daily bill's rows start at 00:00: the day is all it says of the start.
    when = f"{started:%Y-%m-%d %H:%M}" if started and (started.hour or started.minute) else event.date
    still = ", still open" if event.end is None else ""
    return f"{size}: {', '.join(parts)}, started {when}{still}"


def first_hour(event: Anomaly, usage: Sequence[Driver]) -> str | None:
    """The event's first hour from an hourly bill (ISO, Z): the first hour its driver was charged, when the
    driver is new on the event's first day and the bill says an hour (a daily bill's rows start at 00:00,
    where the day's 00:00Z the detector gives stays)."""
    sign = 1 if event.impact_per_day >= 0 else -1
    top = next((d for d in usage if d.delta_per_day * sign > 0), None)
    if top is None or not top.new or top.first is None:
        return None
    first = top.first
    if first.date().isoformat() != event.date or not (first.hour or first.minute):
        return None
    return f"{first:%Y-%m-%dT%H:%M:%S}Z"


def windows(event: Anomaly, first_day: date) -> tuple[tuple[date, date], tuple[date, date], int, int]:
    """The event's days, the days before it the drill-down compares with, and how many of each."""
    start = date.fromisoformat(event.date)
    window = (start, start + timedelta(days=event.days))
    before_start = max(first_day, start - timedelta(days=BEFORE_DAYS))
    return window, (before_start, start), event.days, (start - before_start).days


__all__ = ["Driver", "drivers", "first_hour", "sentence", "windows"]
