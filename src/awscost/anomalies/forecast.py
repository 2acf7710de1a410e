"""The month-end forecast per account or per service: the cost report's forecaster (billing/forecast.py
forecast_month, one daily series) applied to each series of a loaded bill's daily cost (bill.series_of, any
engine), and to their total, each with its back-tested interval.

A series is the bill's daily cost of one account (its services added) or one service (its accounts added),
days [as_of - 8 weeks - the month so far, as_of): `as_of` is the first day not known (today, for a bill
complete up to yesterday). Each day is split as bill.series_of splits it:

- the usage part (the day's cost less its recurring and one-time charges) is what forecast_month forecasts:
  a monthly fee on the 1st is a known amount, not a rate, and fed as a day it would be a spike in every
  back-test horizon holding a 1st (docs/forecast.md, Limits);
- the recurring part already billed in the month is added to the month as it is; for a month with nothing
  billed yet (as_of its 1st) the previous month's recurring charges are carried, and the figure says so.

A day a series has no lines for is a day without cost, up to the last known day (a series that stopped
forecasts about nothing). A series with under MIN_DAYS days (new spend) gets the forecaster's run-rate
fallback, and says so (`fallback`). The total is forecast as a series of its own: intervals of the parts
do not add up to the total's. One currency, or an error (as bill.series_of).

`backtest` measures the same path on any daily series (the sandbox's bill history, synthetic bills): from
several cut days of every month with 8 weeks before it, the month-end forecast against the month's actual
total and against the naive run-rate (month-to-date mean x days in the month). benchmarks/
bench_series_forecast.py prints its table; docs/forecast.md quotes it.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, Literal

from awscost.core.errors import InputError

HISTORY_DAYS = 56  # the weeks of history before the month the forecaster reads (its weekday factors)
LEVEL = 0.8
CENT = Decimal("0.01")
HALF_CENT = Decimal("0.005")
GROUPS = ("account", "service")
TOTAL = "total"
Group = Literal["account", "service"]
Day = tuple[date, Decimal]


@dataclass(frozen=True)
class SeriesForecast:
    """One series' month: `actual` to date (exact, recurring included) and the forecast `total` with its
    interval [low, high] at `level`. `recurring`: the recurring and one-time charges in `total` (billed, or
    carried from the month before when `carried`), added as they are, not forecast."""

    group: str  # account | service | total
    key: str  # the account id, the service name, or "total"
    month: str  # YYYY-MM
    days_known: int  # days of the month before as_of
    days_left: int
    actual: Decimal
    recurring: Decimal
    total: Decimal
    low: Decimal
    high: Decimal
    level: float
    method: str
    fallback: bool  # the forecaster's run-rate of a short series (fewer than its 7 days)
    carried: bool = False  # recurring charges carried from the month before (nothing billed yet)

    def to_json(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "key": self.key,
            "month": self.month,
            "days_known": self.days_known,
            "days_left": self.days_left,
            "actual": str(self.actual),
            "recurring": str(self.recurring),
            "forecast": str(self.total),
            "low": str(self.low),
            "high": str(self.high),
            "level": self.level,
            "method": self.method,
            "fallback": self.fallback,
            "recurring_carried": self.carried,
        }


@dataclass(frozen=True)
class Forecasts:
    """The forecasts of one month as of one day: what they were made of (`source`, `metric`, the bill's
    days read) and the series, largest forecast first, the total last."""

    source: str
    metric: str
    currency: str | None
    by: str
    month: str
    as_of: date  # the first day not known
    first_day: date | None  # the bill's days read
    last_day: date | None
    series: list[SeriesForecast]
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> SeriesForecast | None:
        return next((s for s in self.series if s.group == TOTAL), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "metric": self.metric,
            "currency": self.currency,
            "by": self.by,
            "month": self.month,
            "as_of": self.as_of.isoformat(),
            "days": None
            if self.first_day is None
            else {"first": self.first_day.isoformat(), "last": str(self.last_day)},
            # Each figure says what it is of, alone too (a budget or an alarm reads one series).
            "series": [{**s.to_json(), "source": self.source, "metric": self.metric} for s in self.series],
            "notes": self.notes,
        }


# ------------------------------------------------------------------------------------------------ one series
def month_of(text: str, *, param: str = "month") -> date:
    """The first day of a YYYY-MM month."""
    try:
        year, month = (int(p) for p in text.split("-"))
        return date(year, month, 1)
    except ValueError:
        raise InputError(f"not a month: {text!r}", param=param, hint="YYYY-MM, e.g. 2026-12") from None


def _month_end(month: date) -> date:
    return month + timedelta(days=calendar.monthrange(month.year, month.month)[1])


def _previous(month: date) -> date:
    return (month - timedelta(days=1)).replace(day=1)


def forecast_series(
    costs: Iterable[Day],
    recurring: Iterable[Day] = (),
    *,
    month: date,
    as_of: date,
    level: float = LEVEL,
    group: str = TOTAL,
    key: str = TOTAL,
) -> SeriesForecast | None:
    """The forecast of `month` (its first day) from the days before `as_of` of one series: `costs` the day's
    whole cost, `recurring` its recurring part (both (day, amount), days absent cost nothing). None when the
    series has no cost before `as_of` in the window read."""
    from awscost.billing.forecast import forecast_month

    if not month <= as_of <= _month_end(month):
        raise InputError(
            f"as_of {as_of} is not in {month:%Y-%m} (from its 1st to the 1st after it)", param="as_of"
        )
    start = month - timedelta(days=HISTORY_DAYS)
    whole = {d: c for d, c in costs if start <= d < as_of}
    fees = {d: c for d, c in recurring if start <= d < as_of}
    if not any(whole.values()):
        return None
    first = min(d for d, c in whole.items() if c)
    last = as_of - timedelta(days=1)
    usage = [
        (first + timedelta(days=k), whole.get(first + timedelta(days=k), Decimal(0)))
        for k in range((last - first).days + 1)
    ]
    usage = [(d, c - fees.get(d, Decimal(0))) for d, c in usage]
    billed = sum((c for d, c in fees.items() if d >= month), Decimal(0))
    carried = as_of == month and billed == 0
    if carried:  # nothing of the month billed yet: its fees are likely last month's
        billed = sum((c for d, c in fees.items() if _previous(month) <= d < month), Decimal(0))
    days_known = (as_of - month).days
    got = forecast_month(usage, level=level, month=month if days_known == 0 else None)
    fallback = got.method.startswith("run-rate")
    actual = sum((c for d, c in whole.items() if d >= month), Decimal(0))
    method = got.method
    if billed:
        method += f"; recurring charges {billed:,.2f} added as " + (
            "carried from the month before (none billed yet)" if carried else "billed"
        )
    extra = billed if carried else Decimal(0)  # billed fees are in `actual` already
    slack = HALF_CENT * got.days_remaining
    return SeriesForecast(
        group=group,
        key=key,
        month=f"{month:%Y-%m}",
        days_known=days_known,
        days_left=got.days_remaining,
        actual=actual,
        recurring=billed,
        # forecast_month's actual is the usage to date; the month = the whole month to date + the rest
        total=(actual + extra + got.month_total - got.actual).quantize(CENT),
        # The days left cost no less than nothing: a wide interval's low end stops at the month so far. Each
        # day's point is rounded to the cent: the interval holds that rounding (half a cent a day left), so
        # a flat series' zero-width interval is not missed by the cents of its own rounding.
        low=max(actual + extra + got.low - got.actual - slack, actual + extra).quantize(CENT, ROUND_FLOOR),
        high=(actual + extra + got.high - got.actual + slack).quantize(CENT, ROUND_CEILING),
        level=level,
        method=method,
        fallback=fallback,
        carried=carried and bool(billed),
    )


# ------------------------------------------------------------------------------------------------ a bill
def grouped(series: Mapping[tuple[str, str], Sequence[Day]], by: Group) -> dict[str, list[Day]]:
    """(account, service) series added into one series per account or per service."""
    if by not in GROUPS:
        raise InputError(f"unknown grouping {by!r}", param="by", hint=", ".join(GROUPS))
    sums: dict[str, dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for (account, service), items in series.items():
        cell = sums[account if by == "account" else service]
        for d, c in items:
            cell[d] += c
    return {k: sorted(v.items()) for k, v in sums.items()}


def _total(series: Mapping[Any, Sequence[Day]]) -> list[Day]:
    sums: dict[date, Decimal] = defaultdict(Decimal)
    for items in series.values():
        for d, c in items:
            sums[d] += c
    return sorted(sums.items())


def forecast_bill(
    bill: Any,
    *,
    by: Group = "account",
    month: date | None = None,
    as_of: date | None = None,
    metric: str = "EffectiveCost",
    level: float = LEVEL,
) -> Forecasts:
    """The month-end forecast of each account's (or service's) cost in the bill and of the total.

    `as_of` (the first day not known) defaults to the bill's first day not whole (bill.usage_until: the
    day after its last complete day), `month` to as_of's month (on a 1st: the month just begun, nothing of it
    known yet, its fees carried from the month before). A month past is forecast as it ended (days_left 0)."""
    from awscost.anomalies.bill import series_of

    if by not in GROUPS:
        raise InputError(f"unknown grouping {by!r}", param="by", hint=", ".join(GROUPS))
    if as_of is None:
        until = bill.usage_until()  # the end of the bill's last hour of usage: the days before are whole
        if until is None:
            raise InputError("the bill holds no usage: nothing to forecast", where=_where(bill))
        as_of = until.date()
        if month is not None:
            if as_of < month:
                raise InputError(
                    f"the bill's usage ends on {as_of - timedelta(days=1)}: {month:%Y-%m} has nothing of it",
                    where=_where(bill),
                    param="month",
                    hint="a month is forecast from the day before it ends or later (--as-of)",
                )
            as_of = min(as_of, _month_end(month))  # a month past: as it ended
    if month is None:
        month = as_of.replace(day=1)
    if not month <= as_of <= _month_end(month):
        raise InputError(
            f"as_of {as_of} is not in {month:%Y-%m} (from its 1st to the 1st after it)", param="as_of"
        )
    data = series_of(bill, start=month - timedelta(days=HISTORY_DAYS), end=as_of, metric=metric)
    groups = grouped(data.series, by)
    fees = grouped(data.recurring, by)
    out: list[SeriesForecast] = []
    for key in sorted(groups):
        got = forecast_series(
            groups[key], fees.get(key, ()), month=month, as_of=as_of, level=level, group=by, key=key
        )
        if got is not None:
            out.append(got)
    out.sort(key=lambda s: (-s.total, s.key))
    total = forecast_series(
        _total(data.series), _total(data.recurring), month=month, as_of=as_of, level=level
    )
    notes: list[str] = []
    if total is not None:
        out.append(total)
        notes.append(
            f"the total is forecast as a series of its own: the {by} intervals do not add up to its interval"
        )
    short = [s.key for s in out if s.fallback]
    if short:
        notes.append(
            f"{len(short)} series with fewer than 7 days of cost (new spend) use the forecaster's run-rate: "
            + ", ".join(short[:5])
            + (" ..." if len(short) > 5 else "")
        )
    if data.last_day is not None and data.last_day < as_of - timedelta(days=1):
        notes.append(
            f"the bill's last day with cost is {data.last_day}: the days after it up to {as_of} count as "
            "days without cost"
        )
    return Forecasts(
        source=f"the bill ({_where(bill)}), daily {metric} per {by}",
        metric=metric,
        currency=data.currency,
        by=by,
        month=f"{month:%Y-%m}",
        as_of=as_of,
        first_day=data.first_day,
        last_day=data.last_day,
        series=out,
        notes=notes,
    )


def _where(bill: Any) -> str:
    return str(getattr(bill, "source", None) or "bill")


# ------------------------------------------------------------------------------------------------ back-test
CUTS = (7, 14, 21)


@dataclass(frozen=True)
class Trial:
    """One forecast of the back-test: a series' month from its first `cut` days."""

    key: str
    month: str
    cut: int
    actual: Decimal  # the month's whole total
    forecast: Decimal
    low: Decimal
    high: Decimal
    naive: Decimal  # month-to-date mean x days in the month (recurring included, as a run-rate takes it)
    naive_usage: Decimal  # the same of the usage alone, plus the recurring charges billed so far

    @property
    def covered(self) -> bool:
        return self.low <= self.actual <= self.high


@dataclass(frozen=True)
class Score:
    trials: int
    mape: float  # mean |forecast - actual| / actual, in %
    median_ape: float
    naive_mape: float
    naive_median_ape: float
    naive_usage_mape: float  # the naive run-rate of the usage, recurring charges added as billed
    coverage: float  # share of months inside [low, high]
    width: float  # mean (high - low) / actual, in %
    wins: float  # share of trials where ours is closer than the naive run-rate


def backtest(
    series: Mapping[str, Sequence[Day]],
    recurring: Mapping[str, Sequence[Day]] | None = None,
    *,
    cuts: Sequence[int] = CUTS,
    level: float = LEVEL,
    min_total: Decimal = Decimal(1),
) -> list[Trial]:
    """Every month of each series with HISTORY_DAYS before it and all its days in the series, forecast from
    each cut day (days 1..cut known) by forecast_series. Months whose total is under `min_total` are left out
    (a relative error of nearly nothing is not a measure)."""
    recurring = recurring or {}
    trials: list[Trial] = []
    for key in sorted(series):
        items = [(d, c) for d, c in series[key]]
        if not items:
            continue
        first, last = min(d for d, _ in items), max(d for d, _ in items)
        month = first.replace(day=1)
        while _month_end(month) <= last + timedelta(days=1):
            if month - timedelta(days=HISTORY_DAYS) >= first:
                end = _month_end(month)
                actual = sum((c for d, c in items if month <= d < end), Decimal(0))
                if actual >= min_total:
                    trials += _trials(key, items, recurring.get(key, ()), month, actual, cuts, level)
            month = _month_end(month)
    return trials


def _trials(
    key: str,
    items: Sequence[Day],
    fees: Sequence[Day],
    month: date,
    actual: Decimal,
    cuts: Sequence[int],
    level: float,
) -> list[Trial]:
    out: list[Trial] = []
    days = (_month_end(month) - month).days
    for cut in cuts:
        as_of = month + timedelta(days=cut)
        got = forecast_series(items, fees, month=month, as_of=as_of, level=level, key=key)
        if got is None:
            continue
        mtd = sum((c for d, c in items if month <= d < as_of), Decimal(0))
        fees_mtd = sum((c for d, c in fees if month <= d < as_of), Decimal(0))
        naive = (mtd / cut * days).quantize(CENT)
        naive_usage = ((mtd - fees_mtd) / cut * days + fees_mtd).quantize(CENT)
        out.append(Trial(key, got.month, cut, actual, got.total, got.low, got.high, naive, naive_usage))
    return out


def score(trials: Sequence[Trial]) -> Score:
    """MAPE, median APE, coverage and width of the trials, and the naive run-rate's errors beside them."""
    import numpy as np

    if not trials:
        raise InputError("no month to back-test: each needs 8 weeks of history before it", param="series")
    actual = np.array([float(t.actual) for t in trials])
    ours = np.abs(np.array([float(t.forecast) for t in trials]) - actual) / actual
    naive = np.abs(np.array([float(t.naive) for t in trials]) - actual) / actual
    naive_usage = np.abs(np.array([float(t.naive_usage) for t in trials]) - actual) / actual
    width = np.array([float(t.high - t.low) for t in trials]) / actual
    return Score(
        trials=len(trials),
        mape=float(ours.mean() * 100),
        median_ape=float(np.median(ours) * 100),
        naive_mape=float(naive.mean() * 100),
        naive_median_ape=float(np.median(naive) * 100),
        naive_usage_mape=float(naive_usage.mean() * 100),
        coverage=float(np.mean([t.covered for t in trials])),
        width=float(width.mean() * 100),
        wins=float(np.mean(ours < naive)),
    )


__all__ = [
    "CUTS",
    "GROUPS",
    "HISTORY_DAYS",
    "Forecasts",
    "Score",
    "SeriesForecast",
    "Trial",
    "backtest",
    "forecast_bill",
    "forecast_series",
    "grouped",
    "month_of",
    "score",
]
