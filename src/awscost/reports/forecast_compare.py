"""awscost's month-end forecast per account or service (anomalies/forecast.py) beside Cost Explorer's
GetCostForecast for the same month and series (issue 15, item 4).

One GetCostForecast request per series, Filter = the series' LINKED_ACCOUNT or SERVICE (a bill service is
asked under every Cost Explorer SERVICE it is split into: Amazon Elastic Compute Cloud is "Amazon Elastic
Compute Cloud - Compute" and "EC2 - Other"), and one without a Filter for the total. Cost Explorer charges
$0.01 a request, so only the `top` largest series are asked (the comparison says so) and the requests sent
are counted (failed ones too: they were sent) and priced.

Cost Explorer forecasts only days from today on: its month-end figure here is the bill's month to date (the
same `actual` as awscost's) plus its forecast of [max(as_of, today), month end). When today is past as_of the
days between are in neither part of its figure, and the comparison says so. A request that fails for one
series (AccessDenied for an account the caller may not see, DataUnavailable for a series without history) is
that row's `error`; the other rows are still asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from awscost.core.errors import AwsAccessError
from awscost.reports import cost_explorer as cex

PRICE = Decimal("0.01")  # dollars per Cost Explorer API request
TOP = 10


@dataclass(frozen=True)
class Side:
    """One series: awscost's forecast and Cost Explorer's (None with `error` when it was not answered)."""

    group: str
    key: str
    ours: Decimal
    ours_low: Decimal
    ours_high: Decimal
    level: float
    ce: Decimal | None = None
    ce_low: Decimal | None = None
    ce_high: Decimal | None = None
    error: str | None = None

    @property
    def difference(self) -> Decimal | None:
        """Cost Explorer's month-end minus awscost's."""
        return None if self.ce is None else self.ce - self.ours

    def to_json(self) -> dict[str, Any]:
        def s(v: Decimal | None) -> str | None:
            return None if v is None else str(v)

        return {
            "group": self.group,
            "key": self.key,
            "awscost": {"forecast": str(self.ours), "low": str(self.ours_low), "high": str(self.ours_high)},
            "awscost_level": self.level,
            "cost_explorer": None
            if self.ce is None
            else {"forecast": s(self.ce), "low": s(self.ce_low), "high": s(self.ce_high)},
            "cost_explorer_level": cex.PREDICTION_INTERVAL / 100,
            "difference": s(self.difference),
            "error": self.error,
        }


@dataclass(frozen=True)
class Comparison:
    month: str
    start: date | None  # the first day Cost Explorer forecast (None: the month is complete, nothing asked)
    end: date
    metric: str  # Cost Explorer's
    rows: list[Side]
    asked: int  # series asked (the total included)
    of: int  # series there were
    calls: int  # requests sent
    why: str  # one line: why the two differ
    notes: list[str] = field(default_factory=list)

    @property
    def cost(self) -> Decimal:
        return self.calls * PRICE

    def to_json(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "start": None if self.start is None else self.start.isoformat(),
            "end": self.end.isoformat(),
            "metric": self.metric,
            "series_asked": self.asked,
            "series": self.of,
            "requests": self.calls,
            "cost": str(self.cost),
            "why": self.why,
            "notes": self.notes,
            "rows": [r.to_json() for r in self.rows],
        }


def ce_services(service: str) -> list[str]:
    """Cost Explorer's SERVICE values of a bill service (the names it splits it into, or its own)."""
    names = sorted(ce for ce, bill in cex.SERVICE_NAMES.items() if bill == service)
    return names or [service]


def expression(group: str, key: str) -> Mapping[str, Any] | None:
    """The Filter selecting one series (None: the total, every cost)."""
    if group == "account":
        return {"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": [key]}}
    if group == "service":
        return {"Dimensions": {"Key": "SERVICE", "Values": ce_services(key)}}
    return None


def compare(client: Any, forecasts: Any, *, today: date, top: int = TOP) -> Comparison:
    """Ask GetCostForecast for the `top` largest series of `forecasts` (anomalies.forecast.Forecasts) and the
    total, and set each beside awscost's."""
    from awscost.anomalies.forecast import TOTAL, month_of

    month = month_of(forecasts.month)
    end = (month + timedelta(days=32)).replace(day=1)
    start = max(forecasts.as_of, today)
    parts = [s for s in forecasts.series if s.group != TOTAL]
    chosen = [*parts[:top], *[s for s in forecasts.series if s.group == TOTAL]]
    metric = cex.FORECAST_METRICS.get(forecasts.metric, forecasts.metric)
    cache = cex.CeCache()
    notes: list[str] = []
    rows: list[Side] = []
    for s in chosen:
        side = Side(s.group, s.key, s.total, s.low, s.high, s.level)
        if start >= end:
            rows.append(side)
            continue
        try:
            mean, low, high = cex.forecast(
                client, start, end, forecasts.metric, cache=cache, expression=expression(s.group, s.key)
            )
        except AwsAccessError as exc:
            rows.append(replace(side, error=str(exc)))
            continue
        rows.append(replace(side, ce=s.actual + mean, ce_low=s.actual + low, ce_high=s.actual + high))
    if start >= end:
        notes.append(f"{forecasts.month} is complete: nothing for Cost Explorer to forecast, nothing asked")
    if len(parts) > top:
        notes.append(
            f"the {top} largest of {len(parts)} {forecasts.by} series (and the total) asked: Cost Explorer "
            f"charges ${PRICE} a request"
        )
    if start > forecasts.as_of and start < end:
        notes.append(
            f"Cost Explorer forecasts from today ({start}): the days {forecasts.as_of} .. "
            f"{start - timedelta(days=1)} are in neither the bill's month to date nor its forecast"
        )
    if forecasts.by == "service":
        notes.append(
            "Cost Explorer's SERVICE splits Amazon Elastic Compute Cloud into 'Amazon Elastic Compute Cloud - "
            "Compute' and 'EC2 - Other': both are asked for it"
        )
    level = f"{chosen[0].level:.0%}" if chosen else "its"
    why = (
        f"Cost Explorer forecasts {metric} of the days left from its own model of the series' history, with "
        f"an {cex.PREDICTION_INTERVAL}% interval (added here to the bill's month to date); awscost forecasts "
        f"the bill's daily {forecasts.metric} of usage (weekday pattern and trend of up to the last 8 weeks, "
        f"recurring charges added as billed) with its {level} interval back-tested on that history (wider and "
        "not back-tested when the history is short, as each method says)."
    )
    return Comparison(
        month=forecasts.month,
        start=start if start < end else None,
        end=end,
        metric=metric,
        rows=rows,
        asked=len(chosen) if start < end else 0,
        of=len(parts),
        calls=cache.calls,
        why=why,
        notes=notes,
    )


__all__ = ["PRICE", "TOP", "Comparison", "Side", "ce_services", "compare", "expression"]
