"""Synthetic hourly usage cost rates with injected events of known start hour, size and kind, to back-test the
usage signal (usage.py: the detector on hourly series). Deterministic per seed (one numpy Generator).

Each series (account x kind x region), one column per UTC hour from a Monday 00:00:

- a level: log-normal around $300/day (so $12.50/hour), a trend of -30 % .. +60 % a year;
- an hour-of-day pattern: business-hours autoscaling in the series' own time zone (a UTC offset of -8 .. +9
  hours), up by 0 .. 100 % in the nine working hours (half in the first and last), on weekdays only, as the
  sandbox's fleet does, and a weekend level down by 0 .. 20 %;
- noise: multiplicative, per series an amplitude `a` of 1 % .. 8 %, each hour normal with sigma a/2 clipped
  at +/-a (the daily generator's);
- 3 % of the series begin late (new usage);
- injected events after WARMUP_HOURS (the hour_of_week model's history: four weeks and two days), at least
  GAP_HOURS apart: spikes (+20 % .. +300 % of the hourly level, added, 1 .. 6 hours: a burst of instances),
  steps (+10 % .. +150 %, added, 6 hours .. 10 days: a group scaled out, a cluster left running) and drops
  (-10 % .. -100 %, the hour's cost multiplied, 6 hours .. 5 days: capacity drained). The size is $/day: the
  relative size x the level's day (24 hours of the trend level). Events may run past the last hour;
- optionally (`bursty`, a share of the series), bursts: each 3-hour block with a probability of 3 .. 10 %
  adds 20 .. 60 % of the level, the series' normal behaviour (not events).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from awscost.anomalies import synthetic as sy

WARMUP_HOURS = 30 * 24 + 24  # four weeks of the same hour, two days of residuals, and a day of room
GAP_HOURS = 48
DETECT_WITHIN = 1  # flagged in the start hour or the next: known (at the hour's end) within 2 hours
KINDS = ("ec2os", "rds", "elasticache")


@dataclass(frozen=True)
class HourlyUsage:
    first_hour: datetime
    keys: list[tuple[str, str, str]]  # (account, kind, region)
    costs: np.ndarray  # series x hours, $/hour, NaN before a series begins
    level: np.ndarray  # each series' trend level, $/hour
    events: list[sy.Injected]  # start / end in hours, size in $/day


def generate(
    seed: int,
    series: int = 500,
    days: int = 60,
    first_hour: datetime = datetime(2026, 6, 1, tzinfo=UTC),
    events_per_series: float = 1.0,
    bursty: float = 0.0,
) -> HourlyUsage:
    """`bursty`: the share of the series with bursts (see the module)."""
    rng = np.random.default_rng(seed)
    hours = days * 24
    t = np.arange(hours)
    base = np.exp(rng.normal(np.log(300.0), 1.3, series)) / 24
    slope = rng.uniform(-0.3, 0.6, series) / (365 * 24)
    level = base[:, None] * np.maximum(1 + slope[:, None] * t[None, :], 0.2)
    offset = rng.integers(-8, 10, series)
    local = t[None, :] + offset[:, None] + first_hour.hour
    hour_of_day, weekday = local % 24, (local // 24 + first_hour.weekday()) % 7
    busy = np.where((hour_of_day >= 9) & (hour_of_day < 18), 1.0, 0.0)
    busy[(hour_of_day == 9) | (hour_of_day == 17)] = 0.5
    busy[weekday >= 5] = 0.0
    peak = rng.uniform(0, 1.0, series) * (rng.random(series) < 0.7)
    weekend = 1 - rng.uniform(0, 0.2, series)[:, None] * (weekday >= 5)
    amp = rng.uniform(0.01, 0.08, series)
    noise = np.clip(rng.normal(0, 1, (series, hours)) * (amp / 2)[:, None], -amp[:, None], amp[:, None])
    costs = level * (1 + peak[:, None] * busy) * weekend * (1 + noise)

    born = np.zeros(series, dtype=int)
    late = rng.random(series) < 0.03
    born[late] = rng.integers(WARMUP_HOURS, max(WARMUP_HOURS + 1, hours - 48), late.sum())
    events: list[sy.Injected] = []
    for row in range(series):
        if born[row] > 0:
            day_cost = float(level[row, born[row]] * 24)
            events.append(sy.Injected(row, "new", int(born[row]), int(born[row]) + 1, 1.0, day_cost))
        start = max(born[row] + WARMUP_HOURS, WARMUP_HOURS)
        for _ in range(rng.poisson(events_per_series)):
            start += int(rng.integers(0, 24 * 14))
            if start >= hours:
                break
            kind = rng.choice(["spike", "step", "drop"], p=[0.4, 0.4, 0.2])
            if kind == "spike":
                rel, length = rng.uniform(0.2, 3.0), int(rng.integers(1, 7))
            elif kind == "step":
                rel, length = rng.uniform(0.1, 1.5), int(rng.integers(6, 24 * 10 + 1))
            else:
                rel, length = -rng.uniform(0.1, 1.0), int(rng.integers(6, 24 * 5 + 1))
            end = min(start + length, hours)
            if kind == "drop":
                costs[row, start:end] *= 1 + rel
            else:
                costs[row, start:end] += rel * level[row, start]
            size = float(rel * level[row, start] * 24)
            events.append(sy.Injected(row, str(kind), start, start + length, float(rel), size))
            start += length + GAP_HOURS
    # Bursts, drawn last so that the rest is the same with or without them: a share of the series scale out in
    # 3-hour blocks now and then (batch jobs, spot workers), as the sandbox's fleet does. They are the
    # series' normal behaviour, not events: a flag on one is a false positive.
    if bursty:
        prone = rng.random(series) < bursty
        rate = rng.uniform(0.03, 0.1, series)
        burst_size = rng.uniform(0.2, 0.6, series)
        blocks = rng.random((series, (hours + 2) // 3)) < rate[:, None]
        burst = np.repeat(blocks, 3, axis=1)[:, :hours] & prone[:, None]
        costs += np.where(burst, burst_size[:, None] * level, 0.0)
    costs[t[None, :] < born[:, None]] = np.nan
    keys = [
        (
            f"{100000000000 + row // 12:012d}",
            KINDS[row % len(KINDS)],
            ("us-east-1", "eu-west-1")[row // 3 % 2],
        )
        for row in range(series)
    ]
    return HourlyUsage(first_hour, keys, np.round(costs, 4), level, events)


def evaluate(usage: HourlyUsage, rows: np.ndarray, starts: np.ndarray, new: np.ndarray) -> sy.Scores:
    """The daily back-test's rules (synthetic.evaluate) in hours: a flagged event is real when an injected
    event of its series had started by its first hour and not ended before the hour before it; an eligible
    event (>= 20 % of the series' daily cost and >= $50/day) is detected when flagged in its start hour or
    the next (DETECT_WITHIN), so known within 2 hours. Delays are hours from the start to the end of the
    flagged hour (when the collector's sample of it is stored): 1 when flagged in the start hour."""
    scores = sy.evaluate(usage, rows, starts, new, within=DETECT_WITHIN, warmup=WARMUP_HOURS)  # type: ignore[arg-type]
    months = usage.costs.shape[0] * usage.costs.shape[1] / 24 / 30.4375
    false_rate = 1000 * (scores.flagged - scores.true_flagged) / months
    return sy.Scores(
        scores.flagged,
        scores.true_flagged,
        scores.eligible,
        scores.detected,
        [d + 1 for d in scores.delays],
        false_rate,
    )
