"""Each usage anomaly confirmed or withdrawn by the bill, with how many hours earlier the usage signal was.

A usage event (usage.py) is of one account and kind; its bill series is the same account's series of the
kind's `bill_service` (the bill's ServiceName; a bill that names services by product code matches the
kind's `price_code`). Given the bill's events (bill.scan) and its daily series (bill.series_of):

- **confirmed**: the bill has an event on that series overlapping the usage event's days, or, without one,
  the bill's daily cost over the days it covers moved, in the same direction, by at least COMPARABLE (half)
  of the usage estimate's dollars on those days (at list price the estimate is the larger: reservations and
  Savings Plans make the bill's cost of the same usage lower, so half and not all);
- **withdrawn**: the bill covers the event's first 24 hours (or all of a shorter event) and shows neither;
- **pending**: the bill does not cover them yet.

When the bill knows a day: `bill_known_at(day) = the day's end + latency`, with latency BILL_LATENCY = 24 h by
default: AWS refreshes a CUR a few times a day and a day's usage is complete in it some 8 to 24 hours after
the day ends, so a day is taken as known a whole day after it ends (a parameter: `latency`). The usage
signal knows an event at the end of its first hour (`UsageAnomaly.known_at`). `hours_earlier` = the bill's
knowing of the day it shows the event on (its event's first day, or the first day its cost moved) minus the
usage signal's, in hours.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from statistics import median
from typing import Literal

from awscost.anomalies.bill import BillSeries
from awscost.anomalies.detect import CENT, Anomaly
from awscost.anomalies.usage import HOUR, UsageAnomaly
from awscost.usage import kinds as catalog

BILL_LATENCY = timedelta(hours=24)
COMPARABLE = Decimal("0.5")
DAY = timedelta(days=1)

Status = Literal["confirmed", "withdrawn", "pending"]


@dataclass(frozen=True)
class Confirmation:
    usage_id: str
    status: Status
    bill_id: str | None  # the bill's event that confirms it, if one does
    bill_known_at: datetime | None  # when the bill showed it (confirmed) or will cover it (pending)
    hours_earlier: int | None  # confirmed: how many hours before the bill the usage signal knew
    note: str

    def to_json(self) -> dict[str, object]:
        return {
            "usage_id": self.usage_id,
            "status": self.status,
            "bill_id": self.bill_id,
            "bill_known_at": None if self.bill_known_at is None else _iso(self.bill_known_at),
            "hours_earlier": self.hours_earlier,
            "note": self.note,
        }


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def bill_known_at(day: date, latency: timedelta = BILL_LATENCY) -> datetime:
    """When the bill knows `day`'s costs: its end plus the bill's latency."""
    return datetime.combine(day, datetime.min.time(), UTC) + DAY + latency


def _services(event: UsageAnomaly) -> set[str]:
    spec = catalog.spec(event.kind)
    return {s for s in (spec.bill_service, spec.price_code) if s}


def _daily(series: BillSeries, account: str, services: set[str]) -> dict[date, Decimal]:
    """The bill's daily cost of the account's matching series, recurring part left out (as scored)."""
    out: dict[date, Decimal] = {}
    for (acct, service), items in series.series.items():
        if acct == account and service in services:
            for day, cost in items:
                out[day] = out.get(day, Decimal(0)) + cost
            for day, cost in series.recurring.get((acct, service), []):
                out[day] = out.get(day, Decimal(0)) - cost
    return out


def _moved(daily: dict[date, Decimal], days: Iterable[date]) -> dict[date, Decimal]:
    """Each day's cost less the median of the same weekday of the four weeks before (0 where none)."""
    first = min(daily) if daily else None
    out = {}
    for day in days:
        before = [day - timedelta(weeks=k) for k in range(1, 5)]
        if first is None or before[-1] < first:
            continue
        out[day] = daily.get(day, Decimal(0)) - Decimal(median(daily.get(d, Decimal(0)) for d in before))
    return out


def confirm(
    usage: Sequence[UsageAnomaly],
    bill_events: Sequence[Anomaly],
    series: BillSeries,
    *,
    latency: timedelta = BILL_LATENCY,
) -> list[Confirmation]:
    """The bill's verdict on each usage event, in the order given."""
    out = []
    for event in usage:
        a = event.anomaly
        services = _services(event)
        first = event.start.date()
        end = event.start + event.hours * HOUR  # the first hour after it (the scan's last so far while open)
        last = (end - HOUR).date()
        # The bill covers the event when it holds its first 24 hours (all of it when shorter).
        covered_to = (min(event.start + 24 * HOUR, end) - HOUR).date()
        match = next(
            (
                b
                for b in sorted(bill_events, key=lambda b: b.date)
                if b.account_id == a.account_id
                and b.service in services
                and date.fromisoformat(b.date) <= last
                and (b.end is None or date.fromisoformat(b.end[:10]) > first)
                and (b.impact_total >= 0) == (a.impact_total >= 0)
            ),
            None,
        )
        if match is not None:
            known = bill_known_at(date.fromisoformat(match.date), latency)
            hours = (known - event.known_at) // HOUR
            out.append(
                Confirmation(
                    a.id,
                    "confirmed",
                    match.id,
                    known,
                    hours,
                    f"confirmed by the bill's event of {match.date} ({_signed(match.impact_per_day)}/day), "
                    f"known {_iso(known)}; the usage signal knew {_iso(event.known_at)}: {hours} h earlier",
                )
            )
            continue
        if series.last_day is None or series.last_day < covered_to:
            known = bill_known_at(covered_to, latency)
            held = f"holds days to {series.last_day}" if series.last_day else "holds no days"
            out.append(
                Confirmation(
                    a.id,
                    "pending",
                    None,
                    known,
                    None,
                    f"pending: the bill {held}; it covers the event's first day(s) to {covered_to} "
                    f"about {_iso(known)}",
                )
            )
            continue
        shown = [first + timedelta(days=i) for i in range((min(last, series.last_day) - first).days + 1)]
        moved = _moved(_daily(series, a.account_id, services), shown)
        hours_on = sum(
            1 for i in range(event.hours) if (event.start + i * HOUR).date() in moved
        )  # the event's hours on the days the bill shows
        expected_move = a.impact_total * Decimal(hours_on) / Decimal(event.hours)
        bill_move = sum(moved.values(), Decimal(0))
        if hours_on and bill_move * expected_move > 0 and abs(bill_move) >= COMPARABLE * abs(expected_move):
            day = min(moved)
            known = bill_known_at(day, latency)
            hours = (known - event.known_at) // HOUR
            out.append(
                Confirmation(
                    a.id,
                    "confirmed",
                    None,
                    known,
                    hours,
                    f"confirmed by the bill's cost, {_signed(bill_move)} over {min(moved)} .. {max(moved)} "
                    f"against {_signed(expected_move)} estimated (no bill event: under its thresholds), "
                    f"known {_iso(known)}; the usage signal knew {_iso(event.known_at)}: {hours} h earlier",
                )
            )
            continue
        out.append(
            Confirmation(
                a.id,
                "withdrawn",
                None,
                None,
                None,
                f"withdrawn: the bill covers {first} .. {min(last, series.last_day)} and shows no event there "
                f"and a move of {_signed(bill_move)} against {_signed(expected_move)} estimated",
            )
        )
    return out


def _signed(value: Decimal) -> str:
    return f"{'+' if value >= 0 else '-'}${abs(value).quantize(CENT):,}"


__all__ = ["BILL_LATENCY", "COMPARABLE", "Confirmation", "bill_known_at", "confirm"]
