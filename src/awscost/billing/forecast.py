"""The month-end forecast of a daily cost series, for the cost report when its source is the bill.

Input: (day, cost) pairs up to the last complete day: the month so far and up to some eight weeks before it.
A day absent between the first and the last is a day without cost (a bill has no lines for it).

The point forecast of each remaining day is a robust deseasonalized line times a day-of-week factor
(`weekday_trend`, the default):

- factor of weekday w = the median cost of the w days in the last 8 weeks over the mean of the seven medians
  (all 1 when a weekday has fewer than two days or a median is not positive);
- line = Theil-Sen (the median of the pairwise slopes, the median intercept) through the last 28
  deseasonalized days (cost / factor), extended over the remaining days (never below zero).

Medians make one spike day (a +300 % day) move the forecast by little, where a month-to-date average takes
it in whole. Two other candidates are kept for the back-test (`benchmarks/bench_forecast.py`): the median of
the last 14 deseasonalized days as a flat level (`weekday_level`), and the median of the last four same
weekdays (`weekday_median`); the trend had the lowest error there (docs/forecast.md).

The interval is the back-tested error distribution of the same model on the history given: from every origin
with 14 days before it and the horizon after it, the error of the sum over the horizon, scaled by the level
at that origin (the median of its last 14 days) and the horizon's length. Its quantiles at (1 -/+ level) / 2
are taken conservatively: split conformal's rank, ceil((n + 1) q) of n, with n the effective number of
independent errors (origins a day apart share all but a day of their horizon: about one per week of horizon
plus one), past the extremes when n is too small for the level. They are applied to today's level and the
days remaining. When the history is too short for the full horizon, the longest horizon with at least five
origins stands in, its error per day of horizon held for every day (conservative: per-day errors shrink over
longer horizons when the noise is independent). The per-day intervals of `daily` come the same way from the
one-day errors of every horizon; they are for each day alone and do not add up to the month's interval.

Fewer than 7 days in all: a run-rate of the days there are, with an interval of +/-50 % of the remaining
days (wider when the days vary more), and `method` says so. Deterministic: no randomness anywhere.

Numbers are float inside the kernel; the Forecast's money is Decimal, rounded to cents at the edge (the month
to date, `actual`, is the exact sum of the input).
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import numpy as np

from awscost.core.errors import InputError

CENT = Decimal("0.01")
MIN_DAYS = 7  # fewer days in all: run-rate fallback
FIT_DAYS = 14  # the days a back-test origin needs before it
HISTORY_DAYS = 56  # weekday factors from the last 8 weeks
LEVEL_DAYS = 14
MIN_TREND_DAYS = 14  # fewer: no slope (weekday_trend)
MIN_ORIGINS = 5
FALLBACK_WIDTH = 0.5

Model = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Forecast:
    """The month's total: `actual` to date (exact) plus the forecast of the remaining days, with an interval
    at `level` (0.8: the total falls in [low, high] 8 times in 10 on the back-test)."""

    month: str  # "2026-12"
    month_total: Decimal
    low: Decimal
    high: Decimal
    level: float
    method: str
    days_observed: int  # days of the month the series holds (1 .. the last complete day)
    days_remaining: int
    actual: Decimal
    daily: list[tuple[date, Decimal, Decimal, Decimal]] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "month": self.month,
            "month_total": str(self.month_total),
            "low": str(self.low),
            "high": str(self.high),
            "level": self.level,
            "method": self.method,
            "days_observed": self.days_observed,
            "days_remaining": self.days_remaining,
            "actual": str(self.actual),
            "daily": [[d.isoformat(), str(p), str(lo), str(hi)] for d, p, lo, hi in self.daily],
        }


# -- the candidate models: (history values, history weekdays, future weekdays) -> point forecasts


def weekday_factors(y: np.ndarray, wd: np.ndarray) -> np.ndarray:
    """Seven multiplicative day-of-week factors of mean 1 from the weekday medians (1 when not estimable)."""
    y, wd = y[-HISTORY_DAYS:], wd[-HISTORY_DAYS:]
    medians = np.ones(7)
    for w in range(7):
        days = y[wd == w]
        if len(days) < 2:
            return np.ones(7)
        medians[w] = float(np.median(days))
    if (medians <= 0).any():
        return np.ones(7)
    return medians / medians.mean()


def weekday_level(y: np.ndarray, wd: np.ndarray, future_wd: np.ndarray) -> np.ndarray:
    f = weekday_factors(y, wd)
    level = float(np.median((y / f[wd])[-LEVEL_DAYS:]))
    return level * f[future_wd]


def weekday_trend(y: np.ndarray, wd: np.ndarray, future_wd: np.ndarray) -> np.ndarray:
    """Theil-Sen line (median of the pairwise slopes) through the last 28 deseasonalized days; flat (the
    median) under two weeks of days, where no weekday factor is estimable and a slope would be the week's
    own pattern (a weekend at the end of one week read as a decline)."""
    f = weekday_factors(y, wd)
    z = (y / f[wd])[-2 * LEVEL_DAYS :]
    t = np.arange(len(z), dtype=float)
    i, j = np.triu_indices(len(z), k=1)
    slope = float(np.median((z[j] - z[i]) / (t[j] - t[i]))) if len(i) and len(z) >= MIN_TREND_DAYS else 0.0
    intercept = float(np.median(z - slope * t))
    ahead = t[-1] + 1 + np.arange(len(future_wd), dtype=float)
    return np.maximum(intercept + slope * ahead, 0.0) * f[future_wd]


def weekday_median(y: np.ndarray, wd: np.ndarray, future_wd: np.ndarray) -> np.ndarray:
    """Each future day: the median of the last four days of its weekday (a robust seasonal naive)."""
    out = np.empty(len(future_wd))
    for k, w in enumerate(future_wd):
        days = y[wd == w][-4:]
        out[k] = float(np.median(days)) if len(days) else float(np.median(y[-7:]))
    return out


MODELS: dict[str, Model] = {
    "weekday_level": weekday_level,
    "weekday_trend": weekday_trend,
    "weekday_median": weekday_median,
}
DEFAULT_MODEL = "weekday_trend"


def _scale(y: np.ndarray) -> float:
    """The level errors are scaled by: the median of the last 14 days (the mean when that is not positive)."""
    recent = y[-LEVEL_DAYS:]
    s = float(np.median(recent))
    return s if s > 0 else max(float(np.abs(recent).mean()), 1e-9)


def _quantiles(errors: np.ndarray, level: float, effective: float | None = None) -> tuple[float, float]:
    """Conservative empirical quantiles of `errors` at (1 -/+ level) / 2: split conformal's rank, the
    ceil((n + 1) q)-th of n, with n the `effective` sample size (errors of overlapping horizons are not
    independent), read off the sorted errors; past the extremes when n is too small for the level (the extreme
    plus its distance from the median)."""
    e = np.sort(errors)
    n = float(effective if effective is not None else len(e))
    med = float(np.median(e))
    hi_q = math.ceil((n + 1) * (1 + level) / 2) / n
    lo_q = math.floor((n + 1) * (1 - level) / 2) / n
    hi = float(np.quantile(e, hi_q, method="higher")) if hi_q <= 1 else float(e[-1]) + (float(e[-1]) - med)
    lo = float(np.quantile(e, lo_q, method="lower")) if lo_q > 0 else float(e[0]) - (med - float(e[0]))
    return min(lo, 0.0), max(hi, 0.0)


def backtest_errors(
    y: np.ndarray, wd: np.ndarray, horizon: int, model: Model
) -> tuple[np.ndarray, np.ndarray, int]:
    """Scaled errors of `model` on the history: of the horizon's sum, and of each single day ahead.

    Returns (sum errors, day errors, the horizon used): the horizon itself when at least MIN_ORIGINS origins
    have it after them, else the longest that has (its errors are per day of horizon, so they stand for the
    full horizon as they are). Empty arrays when not even a one-day horizon has enough origins."""
    n = len(y)
    usable = min(horizon, n - FIT_DAYS - MIN_ORIGINS + 1)
    if usable < 1:
        return np.empty(0), np.empty(0), 0
    sums, days = [], []
    for origin in range(FIT_DAYS, n - usable + 1):
        past, past_wd = y[:origin], wd[:origin]
        point = model(past, past_wd, wd[origin : origin + usable])
        truth = y[origin : origin + usable]
        scale = _scale(past)
        sums.append(float((truth.sum() - point.sum()) / (scale * usable)))
        days.extend(((truth - point) / scale).tolist())
    return np.asarray(sums), np.asarray(days), usable


def _parse(series: Iterable[tuple[date, Decimal]]) -> tuple[list[date], list[Decimal]]:
    by_day: dict[date, Decimal] = {}
    for i, item in enumerate(series):
        try:
            day, cost = item
        except (TypeError, ValueError):
            raise InputError("each item must be a (date, cost) pair", where=f"series[{i}]") from None
        if not isinstance(day, date):
            raise InputError(f"not a date: {day!r}", where=f"series[{i}]")
        if day in by_day:
            raise InputError(f"day {day} given twice", where=f"series[{i}]")
        try:
            value = Decimal(cost)
        except (ArithmeticError, TypeError, ValueError):
            raise InputError(f"not a cost: {cost!r}", where=f"series[{i}]") from None
        if not value.is_finite():
            raise InputError(f"not a finite cost: {cost!r}", where=f"series[{i}]")
        by_day[day] = value
    if not by_day:
        raise InputError("the daily cost series is empty: nothing to forecast", param="series")
    first, last = min(by_day), max(by_day)
    days = [first + timedelta(days=k) for k in range((last - first).days + 1)]
    return days, [by_day.get(d, Decimal(0)) for d in days]  # a day without lines cost nothing


def _money(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(CENT)


def forecast_month(
    series: Iterable[tuple[date, Decimal]],
    *,
    level: float = 0.8,
    model: str = DEFAULT_MODEL,
    month: date | None = None,
) -> Forecast:
    """Forecast the total of the month of the series' last day (its last complete day); see the module.

    `month` (its first day) may name the month after the series' last day when that day ends its month: a
    month with nothing known yet, every day of it forecast (`actual` 0, `days_observed` 0)."""
    if not 0 < level < 1:
        raise InputError(f"level must be between 0 and 1, not {level}", param="level")
    if model not in MODELS:
        raise InputError(f"unknown model {model!r}", param="model", hint=", ".join(MODELS))
    days, costs = _parse(series)
    last = days[-1]
    month_start = last.replace(day=1)
    after = last + timedelta(days=1)
    allowed = [month_start] + ([after] if after.day == 1 else [])
    if month is not None:
        if month not in allowed:
            raise InputError(
                f"the series ends on {last}: it forecasts {' or '.join(f'{m:%Y-%m}' for m in allowed)}, "
                f"not {month:%Y-%m-%d}",
                param="month",
            )
        month_start = month
    month_days = calendar.monthrange(month_start.year, month_start.month)[1]
    month_end = month_start + timedelta(days=month_days)
    remaining = [last + timedelta(days=k) for k in range(1, (month_end - last).days)]
    in_month = [c for d, c in zip(days, costs, strict=True) if d >= month_start]
    actual = sum(in_month, Decimal(0))
    observed = len(in_month)
    y = np.array([float(c) for c in costs])
    wd = np.array([d.weekday() for d in days])
    future_wd = np.array([d.weekday() for d in remaining], dtype=int)
    h = len(remaining)

    def result(
        method: str, point: np.ndarray, lo: float, hi: float, day_lo: float, day_hi: float, s: float
    ) -> Forecast:
        """The Forecast of `point` with errors lo..hi per day of horizon (day_lo..day_hi for one day),
        scaled by the level `s`."""
        points = [_money(p) for p in point.tolist()]
        rest = sum(points, Decimal(0))  # the daily points add up to the total, to the cent
        return Forecast(
            month=f"{month_start:%Y-%m}",
            month_total=(actual + rest).quantize(CENT),
            low=(actual + rest + _money(lo * s * h)).quantize(CENT),
            high=(actual + rest + _money(hi * s * h)).quantize(CENT),
            level=level,
            method=method,
            days_observed=observed,
            days_remaining=h,
            actual=actual,
            daily=[
                (d, p, p + _money(day_lo * s), p + _money(day_hi * s))
                for d, p in zip(remaining, points, strict=True)
            ],
        )

    if len(y) < MIN_DAYS:
        rate = float(y.mean())
        spread = float(y.std() / abs(rate)) if rate else 0.0
        width = max(FALLBACK_WIDTH, 2 * spread)
        point = np.full(h, rate)
        scale = abs(rate) if rate else 0.0
        return result(
            f"run-rate of {len(y)} days (fewer than {MIN_DAYS} days of history: no weekday pattern, the "
            f"interval is +/-{width:.0%} of the remaining days, not back-tested)",
            point,
            -width,
            width,
            -width,
            width,
            scale,
        )
    fn = MODELS[model]
    point = fn(y, wd, future_wd) if h else np.empty(0)
    scale = _scale(y)
    if h == 0:
        return result(f"{model}: the month is complete", point, 0.0, 0.0, 0.0, 0.0, scale)
    sums, day_errors, used = backtest_errors(y, wd, h, fn)
    if used == 0:
        width = FALLBACK_WIDTH
        return result(
            f"{model} over {len(y)} days; too short a history to back-test: interval +/-{width:.0%} of the "
            "remaining days, not back-tested",
            point,
            -width,
            width,
            -width,
            width,
            scale,
        )
    # Origins a day apart share all but one day of their horizon: count about one independent error per
    # week of horizon plus one (tuned so the 80 % interval covers at least 80 % on iid noise and the sandbox).
    lo, hi = _quantiles(sums, level, effective=max(1.0, len(sums) * 7 / (used + 7)))
    day_lo, day_hi = _quantiles(day_errors, level)
    horizon = f"{used}-day horizon" + (f" standing in for {h}" if used < h else "")
    return result(
        f"{model} over {len(y)} days; {level:.0%} interval from {len(sums)} back-tested origins ({horizon})",
        point,
        lo,
        hi,
        day_lo,
        day_hi,
        scale,
    )
