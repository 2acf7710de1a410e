"""Anomalies from the bill: a loaded bill's daily series per account x service (analyses.daily_costs, on any
engine), the detector over them (detect.py), and each of the largest events explained by its drill-down
(analyses.cost_drivers, explain.py).

The series start HISTORY_DAYS before `since`: the detector scores a day against the four weeks before it and
needs two more weeks of residuals for its scale, so an event on `since` is scored as it would be in a longer
run (the detector is causal: the same days give the same events and ids). Events starting before `since`
are not returned. Each explained event costs one drill-down query per dimension, so only the `explain`
largest by |impact| are drilled into; the others keep the detector's own sentence.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from awscost.anomalies import explain as ex
from awscost.anomalies.detect import Anomaly, SeriesKey, Thresholds, detect
from awscost.core.errors import InputError

HISTORY_DAYS = 70  # ten weeks: the model's four, two of residuals, and a month of room
EXPLAIN = 20


@dataclass(frozen=True)
class BillSeries:
    series: dict[SeriesKey, list[tuple[date, Decimal]]]
    recurring: dict[SeriesKey, list[tuple[date, Decimal]]]
    currency: str | None
    first_day: date | None
    last_day: date | None


@dataclass(frozen=True)
class Scan:
    anomalies: list[Anomaly]
    currency: str | None
    first_day: date | None  # the days the series cover
    last_day: date | None
    series: int


def series_of(
    bill: Any, *, start: date | None = None, end: date | None = None, metric: str = "EffectiveCost"
) -> BillSeries:
    """The bill's daily cost per (account, service) in [start, end), with its recurring part."""
    frame = bill.daily_costs(start=start, end=end, metric=metric)
    currencies = sorted({str(c) for c in frame.column("BillingCurrency")})
    if len(currencies) > 1:
        raise InputError(
            f"the bill holds costs in {len(currencies)} currencies ({', '.join(currencies)}); one series "
            "would add them",
            where=str(getattr(bill, "source", "bill")),
        )
    series: dict[SeriesKey, list[tuple[date, Decimal]]] = defaultdict(list)
    recurring: dict[SeriesKey, list[tuple[date, Decimal]]] = defaultdict(list)
    for r in frame:
        key = (str(r["SubAccountId"] or ""), str(r["ServiceName"]))
        series[key].append((r["Day"], Decimal(r["Cost"])))
        if r["RecurringCost"]:
            recurring[key].append((r["Day"], Decimal(r["RecurringCost"])))
    days = [d for items in series.values() for d, _ in items]
    return BillSeries(
        dict(series),
        dict(recurring),
        currencies[0] if currencies else None,
        min(days) if days else None,
        max(days) if days else None,
    )


def scan(
    bill: Any,
    *,
    since: date | None = None,
    thresholds: Thresholds | None = None,
    tag_keys: Sequence[str] = (),
    metric: str = "EffectiveCost",
    explain: int = EXPLAIN,
) -> Scan:
    """The anomalies of the bill starting on or after `since` (all when None), largest explained."""
    start = since - timedelta(days=HISTORY_DAYS) if since is not None else None
    data = series_of(bill, start=start, metric=metric)
    if not data.series:
        return Scan([], data.currency, None, None, 0)
    found = detect(data.series, recurring=data.recurring, thresholds=thresholds)
    if since is not None:
        found = [a for a in found if date.fromisoformat(a.date) >= since]
    assert data.first_day is not None
    largest = sorted(found, key=lambda a: (-abs(a.impact_total), a.id))[:explain]
    explained = {a.id: _explained(bill, a, data.first_day, tag_keys, metric) for a in largest}
    anomalies = [explained.get(a.id, a) for a in found]
    return Scan(anomalies, data.currency, data.first_day, data.last_day, len(data.series))


def _explained(bill: Any, event: Anomaly, first_day: date, tag_keys: Sequence[str], metric: str) -> Anomaly:
    window, before, days, before_days = ex.windows(event, first_day)
    usage = ex.drivers(
        bill.cost_drivers(event.account_id, event.service, window, before, "usage", metric),
        ("UsageType", "RegionId", "InstanceType"),
        days,
        before_days,
    )
    tags = {
        key: ex.drivers(
            bill.cost_drivers(event.account_id, event.service, window, before, f"Tags.{key}", metric),
            (f"Tags.{key}",),
            days,
            before_days,
        )
        for key in dict.fromkeys(tag_keys)
    }
    return replace(
        event, explanation=ex.sentence(event, usage, tags), start=ex.first_hour(event, usage) or event.start
    )


__all__ = ["EXPLAIN", "HISTORY_DAYS", "BillSeries", "Scan", "scan", "series_of"]
