"""Synthetic daily bills with injected anomalies of known start, size and kind, to back-test the detector.

Deterministic per seed (one numpy Generator). Each series (account x service):

- a level: log-normal around $300/day (a few cents to tens of thousands), a linear trend of -30 % .. +60 % a
  year, a weekly pattern (weekends down by up to 40 %, weekdays +/-5 %);
- noise: multiplicative, per series an amplitude `a` of 1 % .. 8 %, each day normal with sigma a/2 clipped
  at +/-a: no day is off by more than 8 % of its cost;
- a recurring monthly fee on the 1st for 30 % of the series (0.5 .. 5 days of cost), given apart as the
  recurring part of the day, as a bill's ChargeFrequency says;
- 5 % of the series begin late (new spend, day 60 .. width - 30);
- injected events, none in the first 60 days (the slowest candidate's history) nor in a new series' first 60:
  one-day spikes (+10 % .. +300 %), multi-day steps (+10 % .. +150 %, 2 .. 60 days) and drops (-10 % ..
  -100 %, 3 .. 40 days), at least 14 days apart. Each is recorded with its start, end, size in $/day (its
  relative size x the series' trend level on its first day) and kind. Events may run past the last day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np

WARMUP = 60
GAP = 14


@dataclass(frozen=True)
class Injected:
    series: int  # row
    kind: str  # spike | step | drop | new
    start: int  # column of its first day
    end: int  # column after its last day
    relative: float  # size as a share of the series' daily cost
    size: float  # dollars per day


@dataclass(frozen=True)
class Bills:
    first_day: date
    keys: list[tuple[str, str]]
    costs: np.ndarray  # series x days, total cost (recurring included), NaN before a series begins
    recurring: np.ndarray  # the recurring part of each day (0 where none)
    level: np.ndarray  # each series' trend level per day, without weekly pattern, noise or events
    events: list[Injected]


SERVICES = ("AmazonEC2", "AmazonRDS", "AmazonS3", "AWSLambda", "AmazonDynamoDB", "AmazonCloudFront")


def generate(
    seed: int,
    series: int = 1000,
    days: int = 400,
    first_day: date = date(2025, 11, 1),
    events_per_series: float = 1.0,
) -> Bills:
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    base = np.exp(rng.normal(np.log(300.0), 1.3, series))
    slope = rng.uniform(-0.3, 0.6, series) / 365
    level = base[:, None] * np.maximum(1 + slope[:, None] * t[None, :], 0.2)
    weekday = (first_day.toordinal() + t) % 7  # 0 = Monday ... as date.weekday()
    week = 1 + rng.uniform(-0.05, 0.05, (series, 7))
    week[:, 5:] -= rng.uniform(0, 0.4, (series, 1))
    week /= week.mean(axis=1, keepdims=True)
    amp = rng.uniform(0.01, 0.08, series)
    noise = np.clip(rng.normal(0, 1, (series, days)) * (amp / 2)[:, None], -amp[:, None], amp[:, None])
    usage = level * week[:, weekday] * (1 + noise)

    born = np.zeros(series, dtype=int)
    late = rng.random(series) < 0.05
    born[late] = rng.integers(WARMUP, days - 30, late.sum())

    events: list[Injected] = []
    for row in range(series):
        if born[row] > 0:
            events.append(
                Injected(row, "new", int(born[row]), int(born[row]) + 1, 1.0, float(level[row, born[row]]))
            )
        start = max(born[row] + WARMUP, WARMUP)
        for _ in range(rng.poisson(events_per_series)):
            start += int(rng.integers(0, 120))
            if start >= days:
                break
            kind = rng.choice(["spike", "step", "drop"], p=[0.4, 0.4, 0.2])
            if kind == "spike":
                rel, length = rng.uniform(0.1, 3.0), 1
            elif kind == "step":
                rel, length = rng.uniform(0.1, 1.5), int(rng.integers(2, 61))
            else:
                rel, length = -rng.uniform(0.1, 1.0), int(rng.integers(3, 41))
            end = min(start + length, days)
            usage[row, start:end] *= 1 + rel
            events.append(
                Injected(row, str(kind), start, start + length, float(rel), float(rel * level[row, start]))
            )
            start += length + GAP

    recurring = np.zeros((series, days))
    fee = rng.random(series) < 0.3
    firsts = np.array([first_day.fromordinal(first_day.toordinal() + int(k)).day == 1 for k in t])
    recurring[np.ix_(fee, firsts)] = (base[fee] * rng.uniform(0.5, 5, fee.sum()))[:, None]
    costs = usage + recurring
    before = t[None, :] < born[:, None]
    costs[before] = np.nan
    recurring[before] = 0.0
    keys = [
        (f"{100000000000 + row // len(SERVICES):012d}", SERVICES[row % len(SERVICES)])
        for row in range(series)
    ]
    return Bills(first_day, keys, np.round(costs, 2), np.round(recurring, 2), level, events)


@dataclass(frozen=True)
class Scores:
    """The back-test of one detection run against the injected events."""

    flagged: int
    true_flagged: int
    eligible: int  # injected events >= 20 % of the series' daily cost and >= $50/day
    detected: int  # of those, flagged within DETECT_DAYS of their start
    delays: list[int]
    false_per_1000_series_months: float

    @property
    def precision(self) -> float:
        return self.true_flagged / self.flagged if self.flagged else 1.0

    @property
    def recall(self) -> float:
        return self.detected / self.eligible if self.eligible else 1.0

    @property
    def median_delay(self) -> float:
        return float(np.median(self.delays)) if self.delays else float("nan")


DETECT_DAYS = 2  # the bill signal's target: flagged within 2 days of the start
MIN_RELATIVE = 0.2
MIN_SIZE = 50.0


def evaluate(
    bills: Bills,
    rows: np.ndarray,
    starts: np.ndarray,
    new: np.ndarray,
    *,
    within: int = DETECT_DAYS,
    warmup: int = WARMUP,
) -> Scores:
    """Precision: a flagged event is real when an injected event of its series (any size) had started on or
    before its first day and not ended before the day before it; a new-spend event when its series is new
    and it starts in its first `warmup` (60) days. Recall: an eligible injected event is detected when an
    event of its series (new spend for a new series) starts 0 .. `within` (DETECT_DAYS) days after it. The
    hourly back-test (synthetic_hourly.py) passes its own, in hours."""
    by_row: dict[int, list[Injected]] = {}
    for inj in bills.events:
        by_row.setdefault(inj.series, []).append(inj)
    flagged_at: dict[int, list[tuple[int, bool]]] = {}
    true = 0
    for row, t0, is_new in zip(rows.tolist(), starts.tolist(), new.tolist(), strict=True):
        flagged_at.setdefault(row, []).append((t0, is_new))
        for inj in by_row.get(row, []):
            if is_new == (inj.kind == "new") and (
                inj.start <= t0 < inj.start + warmup if is_new else inj.start <= t0 <= inj.end
            ):
                true += 1
                break
    width = bills.costs.shape[1]
    eligible = detected = 0
    delays: list[int] = []
    for inj in bills.events:
        if inj.start >= width or abs(inj.relative) < MIN_RELATIVE or abs(inj.size) < MIN_SIZE:
            continue
        eligible += 1
        hits = [
            t0 - inj.start
            for t0, is_new in flagged_at.get(inj.series, [])
            if is_new == (inj.kind == "new") and 0 <= t0 - inj.start <= within
        ]
        if hits:
            detected += 1
            delays.append(min(hits))
    months = bills.costs.shape[0] * width / 30.4375
    return Scores(len(rows), true, eligible, detected, delays, 1000 * (len(rows) - true) / months)


def daily_series(
    bills: Bills,
) -> tuple[dict[str, list[tuple[date, Decimal]]], dict[str, list[tuple[date, Decimal]]]]:
    """Each series as (day, cost) pairs from its first day (none before a late series begins), and its
    recurring part: what a bill's daily series hold (anomalies/bill.py series_of), keyed `account/service`,
    for the forecast's back-test (anomalies/forecast.py)."""
    series: dict[str, list[tuple[date, Decimal]]] = {}
    recurring: dict[str, list[tuple[date, Decimal]]] = {}
    start = bills.first_day.toordinal()
    for row, (account, service) in enumerate(bills.keys):
        key = f"{account}/{service}"
        days = [date.fromordinal(start + k) for k in range(bills.costs.shape[1])]
        series[key] = [
            (d, Decimal(f"{c:.2f}")) for d, c in zip(days, bills.costs[row].tolist(), strict=True) if c == c
        ]  # c == c: not NaN (before the series began)
        recurring[key] = [
            (d, Decimal(f"{c:.2f}")) for d, c in zip(days, bills.recurring[row].tolist(), strict=True) if c
        ]
    return series, recurring
