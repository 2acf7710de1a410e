"""Cost anomalies in many daily cost series at once: the baseline, the score, the rules, the events.

Input: daily cost series keyed by (account_id, service), UTC days, Decimal costs, and optionally each day's
*recurring* part (charges whose ChargeFrequency is recurring or one-time-monthly: a monthly fee on the 1st).
The recurring part is left out of the score, so a fee is never an anomaly; it is added back to `expected`
and `actual`. A day absent after a series' first day cost nothing (a bill has no lines for it).

The kernel works on one float matrix (series x days) and loops over neither: a day's expected cost is the
median of the same weekday's cost in the four weeks before it (`weekday_median`, chosen on the back-test of
docs/anomalies.md; forecast.py's seasonal naive, vectorized), and its noise scale the MAD of the series'
past residuals (the 28 days before each week, refreshed weekly). score = (actual - expected) / scale.

Rules (`Thresholds`, global with per-account and per-service overrides):

- a day is flagged when |score| >= `score` AND |actual - expected| >= `min_impact` dollars;
- a series is scored once it has its minimum history (the model's four weeks plus two weeks of residuals for
  the scale, MIN_RESIDUALS); before that, a series that was absent on the input's first day and costs at
  least `min_impact` on a day is a "new spend" event (expected 0), open until the series is scored;
- an event starts on a flagged day; its expectation is then frozen (the same weekdays of the four weeks
  before its start, repeated weekly and moved along the series' trend before it, `trend_rate`: the
  Theil-Sen slope of forecast.py over eight weekly totals) and it stays open while the day's deviation,
  of the same sign, is at least half of both thresholds (CLOSE); `end` is the first hour after its last
  day, None while open. The event's days are replaced by their frozen expectation before the series is
  scored again, so a step does not become its own baseline and its end is not a drop. The rounds of that
  loop go over events, not days: each finds every remaining series' next event at once.

Two other baselines are kept as back-test candidates only (benchmarks/bench_anomalies.py): forecast.py's
weekday factors x Theil-Sen line refitted weekly per series (`weekday_trend`: as precise, 150x slower) and
the median of eight same weekdays with their 10-90 % quantile spread as the scale (`weekday_quantile`: the
spread of eight values is too unsteady a scale, a third of its flags are false).

Kinds: "spike" (one day, closed), "step" (longer, or open), "drop" (negative impact), "new" (new spend).
An event's id hashes its series and first day: the detector is causal (a day's score reads only the days
before it), so re-running over the same days, or over more days, gives an event the same id.

Numbers are float inside the kernel; money is Decimal at the edges, rounded to cents.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from statistics import NormalDist

import numpy as np

from awscost.billing import forecast as fc
from awscost.core.errors import InputError

SeriesKey = tuple[str, str]  # (account_id, service)

CENT = Decimal("0.01")
WEEKS = 4  # same-weekday values behind each expected day
SCALE_DAYS = 28  # residuals behind each week's scale
MIN_RESIDUALS = 14  # a scale needs at least this many residuals: two weeks
MAD_TO_SIGMA = 1.4826
SCALE_FLOOR = 0.01  # the scale is at least 1 % of the expected cost (and a cent)
LAG = 7 * (WEEKS + 1) / 2  # days from a same-weekday median's centre to the day it expects
WINDOW_CELLS = 32_000_000  # the residual windows sorted at once (256 MB of floats)
CLOSE = 0.5  # an open event continues while its deviation is at least half of both thresholds


@dataclass(frozen=True)
class Limit:
    """An override: either field None keeps the value from the level above."""

    min_impact: Decimal | None = None
    score: float | None = None


@dataclass(frozen=True)
class Thresholds:
    """Both must be met for a day to start an anomaly. A per-service override wins over a per-account one,
    which wins over the global value, field by field."""

    min_impact: Decimal = Decimal(50)  # dollars per day
    score: float = 6.0
    accounts: Mapping[str, Limit] = field(default_factory=dict)
    services: Mapping[str, Limit] = field(default_factory=dict)

    def of(self, account_id: str, service: str) -> tuple[Decimal, float]:
        impact, score = self.min_impact, self.score
        for limit in (self.accounts.get(account_id), self.services.get(service)):
            if limit is not None:
                impact = limit.min_impact if limit.min_impact is not None else impact
                score = limit.score if limit.score is not None else score
        if impact < 0 or not score > 0:
            raise InputError(
                f"thresholds must be positive: min_impact {impact}, score {score}",
                where=f"{account_id}/{service}",
                param="thresholds",
            )
        return impact, score


@dataclass(frozen=True)
class Anomaly:
    """One event of one series. Money per day is the mean over the event's days so far."""

    id: str
    kind: str  # spike | step | drop | new
    date: str  # its first day, YYYY-MM-DD
    start: str  # its first hour, ISO (a daily series: the day's 00:00Z)
    end: str | None  # the first hour after it; None while it is open
    account_id: str
    service: str
    days: int
    expected: Decimal
    actual: Decimal
    impact_per_day: Decimal
    impact_total: Decimal
    score: float  # the day of largest |score|, signed (0 for new spend: it has no history to score against)
    explanation: str

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": self.kind,
            "date": self.date,
            "start": self.start,
            "end": self.end,
            "account_id": self.account_id,
            "service": self.service,
            "days": self.days,
            "expected": str(self.expected),
            "actual": str(self.actual),
            "impact_per_day": str(self.impact_per_day),
            "impact_total": str(self.impact_total),
            "score": round(self.score, 2),
            "explanation": self.explanation,
        }


# -- the baselines: y (series x days, NaN before a series' first day) -> the expected cost of each day from
# the days before it alone (NaN where the history is too short), and the frozen expectation from t0 on.


def _shifted(y: np.ndarray, lag: int) -> np.ndarray:
    """y moved `lag` days later: column t holds day t - lag (NaN before the first day)."""
    out = np.full_like(y, np.nan)
    out[:, lag:] = y[:, :-lag]
    return out


def weekday_median(y: np.ndarray) -> np.ndarray:
    """The median of the same weekday in the four weeks before: (sum - min - max) / 2 of four values, which
    numpy computes without sorting (np.median over a stacked axis is 5x slower at 10,000 x 400)."""
    return seasonal_median(y, 7)


def seasonal_median(y: np.ndarray, period: int) -> np.ndarray:
    """The median of the four values `period`, 2 x `period` .. 4 x `period` columns before each column: the
    same weekday of the four weeks before (daily, period 7), the same hour of the four days before (hourly,
    24) or of the four weeks before (hourly, 168)."""
    a, b, c, d = (_shifted(y, period * k) for k in range(1, WEEKS + 1))
    hi = np.maximum(np.maximum(a, b), np.maximum(c, d))
    lo = np.minimum(np.minimum(a, b), np.minimum(c, d))
    return (a + b + c + d - hi - lo) / 2


def weekday_quantile(y: np.ndarray) -> np.ndarray:
    """Back-test candidate: the median of the same weekday over eight weeks (a rolling quantile; its 10 %
    to 90 % spread is the scale, `weekday_quantile_scale`)."""
    return np.median(np.stack([_shifted(y, 7 * k) for k in range(1, 2 * WEEKS + 1)], axis=-1), axis=-1)


def weekday_quantile_scale(y: np.ndarray, expected: np.ndarray, cleaned: np.ndarray) -> np.ndarray:
    """(q90 - q10) / 2.563 of the same weekday over eight weeks: a normal's sigma from its quantiles."""
    stack = np.stack([_shifted(y, 7 * k) for k in range(1, 2 * WEEKS + 1)], axis=-1)
    q10, q90 = np.quantile(stack, [0.1, 0.9], axis=-1)
    return np.asarray((q90 - q10) / 2.563)


def trend_rate(y: np.ndarray, t0: np.ndarray) -> np.ndarray:
    """Each row's relative trend per day before its t0: the Theil-Sen slope (forecast.py's median of the
    pairwise slopes) through the totals of the eight whole weeks before t0 (whole weeks: the weekly pattern
    cancels), over their median; 0 with fewer than four such weeks."""
    weeks = 2 * WEEKS
    cols = t0[:, None] - 7 * np.arange(weeks, 0, -1)[None, :]  # each week's first day, oldest first
    days = cols[..., None] + np.arange(7)
    total = np.take_along_axis(y, np.clip(days, 0, y.shape[1] - 1).reshape(len(t0), -1), axis=1)
    total = total.reshape(len(t0), weeks, 7).sum(axis=-1)
    total[cols < 0] = np.nan
    i, j = np.triu_indices(weeks, k=1)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # rows without weeks enough: NaN, then 0
        slope = np.nanmedian((total[:, j] - total[:, i]) / (j - i), axis=1)
        level = np.nanmedian(total, axis=1)
        rate = slope / level / 7
    enough = (~np.isnan(total)).sum(axis=1) >= WEEKS
    return np.where(enough & np.isfinite(rate) & (level > 0), rate, 0.0)


def _frozen_weekly(y: np.ndarray, expected: np.ndarray, t0: np.ndarray) -> np.ndarray:
    """From each row's t0 on: the expectation of t0's week repeated weekly, moved along the series' trend
    before t0 week by week. For a same-weekday model the days t0 .. t0+6 read only days before t0, so
    nothing of the event leaks into its own expectation; the trend keeps a long event from drifting away
    from where the series would have been (and its end from looking like a change)."""
    cols = np.arange(y.shape[1])
    after = cols[None, :] >= t0[:, None]
    src = t0[:, None] + (cols[None, :] - t0[:, None]) % 7
    src = np.where(after, src, cols[None, :])
    base = np.take_along_axis(expected, np.minimum(src, y.shape[1] - 1), axis=1)
    weeks_on = np.where(after, (cols[None, :] - t0[:, None]) // 7 * 7 + LAG, 0)
    return base * np.maximum(1 + trend_rate(y, t0)[:, None] * weeks_on, 0.0)


def residual_scale(
    y: np.ndarray,
    expected: np.ndarray,
    cleaned: np.ndarray,
    *,
    window: int = SCALE_DAYS,
    step: int = 7,
    min_residuals: int = MIN_RESIDUALS,
    tail: float | None = None,
) -> np.ndarray:
    """1.4826 x the MAD of the absolute residuals of the 28 days before each week (weeks counted from the
    input's first day), NaN with fewer than MIN_RESIDUALS of them before a series' first such week. Days
    already part of an event are left out (their residual is zero by construction). Hourly series pass
    their own `window` (columns of residuals), `step` (columns between refreshes) and `min_residuals`, and
    `tail`: the scale is then at least that quantile of the absolute residuals over its value for normal
    noise (the 99th percentile / 2.576: both are sigma for normal noise; see HOURLY_TAIL)."""
    s, d = y.shape
    r = np.abs(y - expected)
    r[cleaned] = np.nan
    weeks = d // step + 1
    out = np.full((s, weeks), np.nan)
    origins = np.arange(window // step, weeks) * step
    origins = origins[origins <= d]
    # Rows in blocks of at most WINDOW_CELLS window values (one block for 10,000 daily series x 400 days; an
    # hourly matrix's windows of 672 values per day would otherwise take gigabytes).
    block = max(1, WINDOW_CELLS // max(1, len(origins) * window))
    for lo_row in range(0, s if len(origins) else 0, block):
        rows = slice(lo_row, lo_row + block)
        windows = np.stack([r[rows, o - window : o] for o in origins], axis=1)  # (rows, n, window)
        windows.sort(axis=-1)  # NaN sort last
        n = (~np.isnan(windows)).sum(axis=-1)
        lo = np.take_along_axis(windows, np.maximum((n - 1) // 2, 0)[..., None], axis=-1)[..., 0]
        hi = np.take_along_axis(windows, (n // 2)[..., None], axis=-1)[..., 0]
        mad = (lo + hi) / 2
        if tail is not None:
            at = np.floor(tail * np.maximum(n - 1, 0)).astype(int)[..., None]
            sigma = NormalDist().inv_cdf((1 + tail) / 2)  # that quantile of |x| for a standard normal x
            mad = np.maximum(mad, np.take_along_axis(windows, at, axis=-1)[..., 0] / sigma / MAD_TO_SIGMA)
        out[rows, origins // step] = np.where(n >= min_residuals, mad, np.nan)
    # A week with too few residuals after the first that had enough (it follows an event, whose days are
    # left out) keeps the last scale: otherwise a series would go unscored for two weeks after each event.
    seen = np.where(np.isnan(out), 0, np.arange(weeks)[None, :])
    np.maximum.accumulate(seen, axis=1, out=seen)
    out = np.take_along_axis(out, seen, axis=1)
    return MAD_TO_SIGMA * out[:, np.arange(d) // step]


@dataclass(frozen=True)
class Model:
    """A baseline: `expected` (one day ahead), its `scale`, and `frozen` (the expectation from an event's
    start on, read from the days before it)."""

    expected: Callable[[np.ndarray], np.ndarray]
    scale: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] = residual_scale
    frozen: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] = _frozen_weekly
    # Events shorter than this many columns are not replaced by their expectation nor left out of the scale's
    # residuals (0: every event is). The hourly models keep bursts of a few hours: one that recurs is the
    # series' usual behaviour and belongs in its scale; cleaning each one away as it is flagged would
    # shrink the scale until every burst is flagged.
    keep_shorter: int = 0


def _born(row: np.ndarray) -> int:
    present = np.flatnonzero(~np.isnan(row))
    return int(present[0]) if len(present) else len(row)


def weekday_trend(y: np.ndarray) -> np.ndarray:
    """Back-test candidate: the report's forecaster (billing/forecast.py weekday_trend: weekday factors x a
    Theil-Sen line) refitted each week from four weeks of history on, over the 8 weeks before. It loops per
    series and week (its pairwise slopes do not vectorize cheaply): far too slow for 10,000 series."""
    s, d = y.shape
    out = np.full_like(y, np.nan)
    wd = np.arange(d) % 7  # weekdays relative to column 0: only their grouping matters
    for row in range(s):
        born = _born(y[row])
        for o in range(born + 7 * WEEKS, d, 7):
            lo = max(born, o - fc.HISTORY_DAYS)
            out[row, o : o + 7] = fc.weekday_trend(y[row, lo:o], wd[lo:o], wd[o : o + 7])
    return out


def _frozen_trend(y: np.ndarray, expected: np.ndarray, t0: np.ndarray) -> np.ndarray:
    """The forecaster's line from each row's t0 on, fitted on the days before it."""
    out = expected.copy()
    d = y.shape[1]
    wd = np.arange(d) % 7
    for row, start in enumerate(t0.tolist()):
        lo = max(_born(y[row]), start - fc.HISTORY_DAYS)
        out[row, start:] = fc.weekday_trend(y[row, lo:start], wd[lo:start], wd[start:])
    return out


MODELS: dict[str, Model] = {
    "weekday_median": Model(weekday_median),
    "weekday_trend": Model(weekday_trend, frozen=_frozen_trend),
    "weekday_quantile": Model(weekday_quantile, scale=weekday_quantile_scale),
}
DEFAULT_MODEL = "weekday_median"

# -- hourly series (the usage signal, anomalies/usage.py): one column per UTC hour. The same kernel with the
# same-weekday median's lag of 7 days replaced by a season of `period` hours: the median of the same hour of
# the four days before (hour_of_day) or of the four weeks before (hour_of_week, chosen on the back-test of
# docs/anomalies.md "Usage signal"). The scale: the MAD of the residuals of the 28 days before each UTC day
# (at least two days of them), at least their tail (HOURLY_TAIL). The frozen expectation repeats the season
# the event starts in (its values read only hours before the start), without trend: an hourly event is
# judged against days and weeks, not months.
HOURLY_SCALE_WINDOW = 28 * 24
HOURLY_SCALE_STEP = 24
HOURLY_MIN_RESIDUALS = 2 * 24
# Collected counts sit still most hours and jump in bursts (autoscaling, spot workers, batch jobs): their MAD
# is about 0 and would make every burst an anomaly. The hourly scale is at least the 99th percentile of the
# absolute residuals (the 7th largest of 672) over 2.576 (sigma, for normal noise, as the MAD's), so a burst
# of the series' usual size is not one, and a change several times it is (back-test: docs/anomalies.md).
HOURLY_TAIL = 0.99
HOURLY_KEEP_SHORTER = (
    4  # events of up to 3 hours (a burst) stay in the series and its residuals (keep_shorter)
)


def _frozen_season(period: int) -> Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    def frozen(y: np.ndarray, expected: np.ndarray, t0: np.ndarray) -> np.ndarray:
        cols = np.arange(y.shape[1])
        src = t0[:, None] + (cols[None, :] - t0[:, None]) % period
        src = np.where(cols[None, :] >= t0[:, None], src, cols[None, :])
        return np.take_along_axis(expected, np.minimum(src, y.shape[1] - 1), axis=1)

    return frozen


def seasonal_model(period: int, tail: float | None = HOURLY_TAIL) -> Model:
    """The hourly model of a season of `period` columns (24: hour of day, 168: hour of week); `tail` None:
    the MAD alone (a back-test candidate)."""
    return Model(
        expected=lambda y: seasonal_median(y, period),
        scale=lambda y, e, c: residual_scale(
            y,
            e,
            c,
            window=HOURLY_SCALE_WINDOW,
            step=HOURLY_SCALE_STEP,
            min_residuals=HOURLY_MIN_RESIDUALS,
            tail=tail,
        ),
        frozen=_frozen_season(period),
        keep_shorter=HOURLY_KEEP_SHORTER,
    )


HOURLY_MODELS: dict[str, Model] = {"hour_of_week": seasonal_model(168), "hour_of_day": seasonal_model(24)}
DEFAULT_HOURLY_MODEL = "hour_of_week"


# -- the kernel


@dataclass(frozen=True)
class Events:
    """The events of a matrix, one entry each (numpy arrays of equal length)."""

    series: np.ndarray  # row
    start: np.ndarray  # column of the first day
    end: np.ndarray  # column after the last day (the matrix's width while open)
    actual: np.ndarray  # sums over the event's days (recurring included)
    expected: np.ndarray
    score: np.ndarray
    new: np.ndarray  # bool: a new-spend event

    def each(self) -> Iterator[tuple[int, int, int, float, float, float, bool]]:
        """Per event, as Python values: row, start, end, actual, expected, score, new (the daily and the
        hourly events are both made from these)."""
        return zip(
            self.series.tolist(),
            self.start.tolist(),
            self.end.tolist(),
            self.actual.tolist(),
            self.expected.tolist(),
            self.score.tolist(),
            self.new.tolist(),
            strict=True,
        )


def detect_matrix(
    costs: np.ndarray,
    *,
    min_impact: np.ndarray,
    score: np.ndarray,
    recurring: np.ndarray | None = None,
    model: Model | str = DEFAULT_MODEL,
) -> Events:
    """The events of `costs` (series x days, float; NaN before a series' first day), with per-series
    thresholds. `recurring` (same shape, 0 where none) is the part of each day's cost left out of scoring."""
    fit = (MODELS | HOURLY_MODELS)[model] if isinstance(model, str) else model
    total = np.asarray(costs, dtype=float)
    rec = np.zeros_like(total) if recurring is None else np.nan_to_num(np.asarray(recurring, dtype=float))
    s, d = total.shape
    cols = np.arange(d)
    y = total - rec
    clean = y.copy()
    cleaned = np.zeros((s, d), dtype=bool)
    after = np.zeros(s, dtype=int)
    found: list[tuple[np.ndarray, ...]] = []
    active = np.arange(s)
    first_round = True
    while active.size:
        sub = clean[active]
        exp = fit.expected(sub)
        scale = fit.scale(sub, exp, cleaned[active])
        scale = np.maximum(scale, np.maximum(SCALE_FLOOR * np.abs(exp), 0.01))  # NaN stays NaN
        if first_round:
            first_round = False
            found.append(_new_spend(y, total, rec, exp, scale, min_impact))
            scorable = np.isfinite(exp) & np.isfinite(scale)
            after = np.where(scorable.any(axis=1), np.argmax(scorable, axis=1), d)
        dev = sub - exp
        with np.errstate(invalid="ignore", divide="ignore"):
            z = dev / scale
        flag = (np.abs(z) >= score[active, None]) & (np.abs(dev) >= min_impact[active, None])
        flag &= cols[None, :] >= after[active, None]
        has = flag.any(axis=1)
        if not has.any():
            break
        rows = np.flatnonzero(has)
        active, sub, exp, scale, z = active[has], sub[rows], exp[rows], scale[rows], z[rows]
        t0 = np.argmax(flag[rows], axis=1)
        pick = np.arange(len(rows))
        sign = np.sign(z[pick, t0])
        frozen = fit.frozen(sub, exp, t0)
        fscale = scale[pick, t0][:, None]
        fdev = (sub - frozen) * sign[:, None]
        with np.errstate(invalid="ignore"):
            going = (fdev >= CLOSE * min_impact[active, None]) & (
                fdev / fscale >= CLOSE * score[active, None]
            )
        stop = ~going & (cols[None, :] > t0[:, None])
        end = np.where(stop.any(axis=1), np.argmax(stop, axis=1), d)
        inside = (cols[None, :] >= t0[:, None]) & (cols[None, :] < end[:, None])
        r = rec[active]
        peak = np.where(inside, fdev / fscale, -np.inf).max(axis=1) * sign
        found.append(
            (
                active,
                t0,
                end,
                np.where(inside, total[active], 0.0).sum(axis=1),
                np.where(inside, frozen + r, 0.0).sum(axis=1),
                peak,
                np.zeros(len(active), dtype=bool),
            )
        )
        if fit.keep_shorter:  # short events stay in the series and its residuals (Model.keep_shorter)
            inside &= (end - t0 >= fit.keep_shorter)[:, None]
        clean[active] = np.where(inside, frozen, sub)
        cleaned[active] |= inside
        after[active] = end
        keep = end < d
        active = active[keep]
    parts = [np.concatenate(p) for p in zip(*found, strict=True)] if found else [np.empty(0)] * 7
    return Events(*parts)


def _new_spend(
    y: np.ndarray,
    total: np.ndarray,
    rec: np.ndarray,
    exp: np.ndarray,
    scale: np.ndarray,
    min_impact: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """New spend: a series absent on the first day whose cost reaches `min_impact` before it is scored. The
    event runs from that day to the first scored day (None while the series is still unscored)."""
    d = y.shape[1]
    cols = np.arange(d)
    present = ~np.isnan(y)
    born = np.where(present.any(axis=1), np.argmax(present, axis=1), d)
    scorable = np.isfinite(exp) & np.isfinite(scale)
    scored = np.where(scorable.any(axis=1), np.argmax(scorable, axis=1), d)
    young = (cols[None, :] >= born[:, None]) & (cols[None, :] < scored[:, None])
    big = young & (np.nan_to_num(y) >= min_impact[:, None]) & (born[:, None] > 0)
    rows = np.flatnonzero(big.any(axis=1))
    t0 = np.argmax(big[rows], axis=1)
    end = scored[rows]
    inside = (cols[None, :] >= t0[:, None]) & (cols[None, :] < end[:, None])
    return (
        rows,
        t0,
        end,
        np.where(inside, total[rows], 0.0).sum(axis=1),
        np.where(inside, rec[rows], 0.0).sum(axis=1),
        np.zeros(len(rows)),  # no history, no score
        np.ones(len(rows), dtype=bool),
    )


# -- the edges: Decimal series in, Anomaly events out


def _money(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


def event_id(account_id: str, service: str, first_day: str) -> str:
    """Stable across re-runs: the series and the first day, nothing a later day can change."""
    return hashlib.sha256(f"{account_id}\x1f{service}\x1f{first_day}".encode()).hexdigest()[:16]


def describe(event: Anomaly) -> str:
    """One sentence: the size and the start (the drill-down that says why is plugged in through `explain`)."""
    sign = "+" if event.impact_per_day >= 0 else "-"
    size = f"{sign}${abs(event.impact_per_day):,}/day"
    if event.kind == "new":
        return f"{size}: new spend on {event.service} in {event.account_id}, started {event.start[:16]}Z"
    base = f"{size} on {event.service} in {event.account_id} against ${event.expected:,}/day expected"
    what = {"spike": "a one-day spike", "drop": "a drop", "step": "a step"}[event.kind]
    still = ", still open" if event.end is None else f", {event.days} days"
    return f"{base} ({what}{still}), started {event.start[:16]}Z"


def to_anomalies(
    events: Events,
    keys: list[SeriesKey],
    first_day: date,
    width: int,
    explain: Callable[[Anomaly], str] | None = None,
) -> list[Anomaly]:
    """The Anomaly of each event of a matrix whose rows are `keys` and whose column 0 is `first_day`."""
    out = []
    for row, t0, end, actual, expected, score, new in events.each():
        account_id, service = keys[row]
        day = first_day + timedelta(days=t0)
        days = end - t0
        total_actual, total_expected = _money(actual), _money(expected)
        impact_total = total_actual - total_expected
        if new:
            kind = "new"
        elif impact_total < 0:
            kind = "drop"
        else:
            kind = "spike" if days == 1 and end < width else "step"
        event = Anomaly(
            id=event_id(account_id, service, day.isoformat()),
            kind=kind,
            date=day.isoformat(),
            start=f"{day.isoformat()}T00:00:00Z",
            end=None if end >= width else f"{(first_day + timedelta(days=end)).isoformat()}T00:00:00Z",
            account_id=account_id,
            service=service,
            days=days,
            expected=(total_expected / days).quantize(CENT),
            actual=(total_actual / days).quantize(CENT),
            impact_per_day=(impact_total / days).quantize(CENT),
            impact_total=impact_total,
            score=float(score),
            explanation="",
        )
        event = replace(event, explanation=describe(event))
        if explain is not None:
            event = replace(event, explanation=explain(event))
        out.append(event)
    out.sort(key=lambda a: (a.date, a.account_id, a.service))
    return out


def _cost(value: object, where: str) -> float:
    try:
        cost = Decimal(value)  # type: ignore[arg-type]
    except (ArithmeticError, TypeError, ValueError):
        raise InputError(f"not a cost: {value!r}", where=where) from None
    if not cost.is_finite():
        raise InputError(f"not a finite cost: {value!r}", where=where)
    return float(cost)


def to_matrix(
    series: Mapping[SeriesKey, Iterable[tuple[date, Decimal]]],
    recurring: Mapping[SeriesKey, Iterable[tuple[date, Decimal]]] | None = None,
) -> tuple[list[SeriesKey], date, np.ndarray, np.ndarray]:
    """(keys, first day, costs, recurring): rows in key order, one column per UTC day from the earliest day
    of any series to the latest. NaN before a series' first day, 0 on a day absent after it."""
    keys = sorted(series)
    cells: list[dict[date, float]] = []
    for key in keys:
        by_day: dict[date, float] = {}
        for i, item in enumerate(series[key]):
            where = f"series {key[0]}/{key[1]}[{i}]"
            try:
                day, value = item
            except (TypeError, ValueError):
                raise InputError("each item must be a (date, cost) pair", where=where) from None
            if not isinstance(day, date):
                raise InputError(f"not a date: {day!r}", where=where)
            if day in by_day:
                raise InputError(f"day {day} given twice", where=where)
            by_day[day] = _cost(value, where)
        cells.append(by_day)
    days = [d for c in cells for d in c]
    if not days:
        raise InputError("no daily costs: nothing to scan", param="series")
    first, last = min(days), max(days)
    width = (last - first).days + 1
    costs = np.full((len(keys), width), np.nan)
    for row, by_day in enumerate(cells):
        if by_day:
            costs[row, (min(by_day) - first).days :] = 0.0
        for day, cost in by_day.items():
            costs[row, (day - first).days] = cost
    rec = np.zeros_like(costs)
    index = {key: row for row, key in enumerate(keys)}
    for key, items in (recurring or {}).items():
        if key not in index:
            raise InputError(
                f"recurring charges of a series without costs: {key[0]}/{key[1]}", param="recurring"
            )
        for i, (day, value) in enumerate(items):
            where = f"recurring {key[0]}/{key[1]}[{i}]"
            if not isinstance(day, date) or not first <= day <= last:
                raise InputError(f"not a day of the series: {day!r}", where=where)
            rec[index[key], (day - first).days] += _cost(value, where)
    return keys, first, costs, rec


def detect(
    series: Mapping[SeriesKey, Iterable[tuple[date, Decimal]]],
    *,
    recurring: Mapping[SeriesKey, Iterable[tuple[date, Decimal]]] | None = None,
    thresholds: Thresholds | None = None,
    model: str = DEFAULT_MODEL,
    explain: Callable[[Anomaly], str] | None = None,
) -> list[Anomaly]:
    """The anomalies of daily cost series keyed by (account_id, service); see the module. `recurring` gives
    the part of a day's cost (included in it) that is recurring; `explain(event)` replaces the one-sentence
    explanation (the drill-down's hook)."""
    if model not in MODELS:
        raise InputError(f"unknown model {model!r}", param="model", hint=", ".join(MODELS))
    limits = thresholds or Thresholds()
    keys, first, costs, rec = to_matrix(series, recurring)
    pairs = [limits.of(a, s) for a, s in keys]
    min_impact = np.array([float(p[0]) for p in pairs])
    score = np.array([p[1] for p in pairs])
    events = detect_matrix(costs, min_impact=min_impact, score=score, recurring=rec, model=model)
    return to_anomalies(events, keys, first, costs.shape[1], explain)
