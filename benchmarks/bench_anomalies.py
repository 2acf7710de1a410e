"""Back-test of the anomaly detector (`awscost.anomalies.detect`) on synthetic bills, and its speed.

    python benchmarks/bench_anomalies.py [--seed 1] [--series 1000] [--days 400] [--speed-series 10000]
        [--hourly-seeds 1,2,3] [--hourly-series 500] [--hourly-days 60] [--hourly-speed-series 10000]

(a) Each baseline candidate of detect.MODELS over the same synthetic bills (`anomalies.synthetic.generate`:
noise up to 8 %, weekly pattern, trend, monthly fees on the 1st given as recurring, spikes, steps, drops and
new series injected with their true start and size), at the default thresholds ($50/day and score 6):
precision (flagged events that are real), recall (injected events >= 20 % of the series' daily cost and
>= $50/day flagged within 2 days of their start), the median delay in days from the start, false positives
per 1,000 series-months, and the time. Then the chosen model at other score thresholds, and without the
recurring part given (the fees on the 1st are then scored).

(c) The usage signal (`anomalies.synthetic_hourly.generate`: hourly series with business hours in their own time
zone on weekdays, weekends down, noise up to 8 %, spikes of 1 .. 6 hours, steps of 6 hours .. 10 days, drops),
each hourly model of detect.HOURLY_MODELS at $50/day (so $50/24 an hour) and score 6: precision, recall
(events >= 20 % of the series' daily cost and >= $50/day flagged in their start hour or the next, so known
within 2 hours) and the median delay in hours from the start to the end of the flagged hour; over
--hourly-seeds. Then the hourly detection's speed over --hourly-speed-series x --hourly-days (skipped with
0), the best of three.

(b) Speed (skipped with --speed-series 0): detection over --speed-series x --days (the issue's 10,000 x
400), the best of three, against a
naive loop (per series, per day: the same weekday median and the MAD of the 28 days before, in Python floats)
timed over 100 series and scaled. The naive loop does less than the detector (no events, no cleaning), so
the ratio is a lower bound.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from awscost.anomalies import detect as dt
from awscost.anomalies import synthetic as sy
from awscost.anomalies import synthetic_hourly as sh


def run(bills: sy.Bills, model: str, score: float, recurring: bool = True) -> dict[str, float]:
    n = bills.costs.shape[0]
    began = time.perf_counter()
    events = dt.detect_matrix(
        bills.costs,
        min_impact=np.full(n, float(dt.Thresholds().min_impact)),
        score=np.full(n, score),
        recurring=bills.recurring if recurring else None,
        model=model,
    )
    seconds = time.perf_counter() - began
    s = sy.evaluate(bills, events.series, events.start, events.new)
    return {
        "flagged": s.flagged,
        "precision": round(s.precision, 3),
        "recall": round(s.recall, 3),
        "eligible": s.eligible,
        "median_delay_days": s.median_delay,
        "fp_per_1000_series_months": round(s.false_per_1000_series_months, 2),
        "seconds": round(seconds, 2),
    }


def naive(costs: np.ndarray) -> int:
    """Per series, per day: the same-weekday median of four weeks and the MAD of the residuals before."""
    flagged = 0
    for row in costs.tolist():
        residuals: list[float] = []
        for t in range(28, len(row)):
            same = [row[t - 7 * k] for k in range(1, 5)]
            if any(v != v for v in same):  # NaN: not enough history
                continue
            expected = statistics.median(same)
            window = residuals[-28:]
            if len(window) >= 14:
                med = statistics.median(window)
                scale = max(1.4826 * statistics.median([abs(r - med) for r in window]), 0.01 * expected, 0.01)
                dev = row[t] - expected
                flagged += abs(dev) >= 50 and abs(dev) / scale >= 6
            residuals.append(abs(row[t] - expected))
    return flagged


def speed(series: int, days: int, seed: int) -> dict[str, float]:
    bills = sy.generate(seed, series=series, days=days)
    n = bills.costs.shape[0]
    times = []
    for _ in range(3):
        began = time.perf_counter()
        dt.detect_matrix(
            bills.costs, min_impact=np.full(n, 50.0), score=np.full(n, 6.0), recurring=bills.recurring
        )
        times.append(time.perf_counter() - began)
    sample = 100
    began = time.perf_counter()
    naive(bills.costs[:sample] - bills.recurring[:sample])
    naive_s = (time.perf_counter() - began) * n / sample
    return {
        "series": n,
        "days": days,
        "detect_s": round(min(times), 2),
        "naive_loop_s_scaled": round(naive_s, 1),
        "ratio": round(naive_s / min(times), 1),
    }


HOURLY_CANDIDATES: dict[str, dt.Model | str] = {
    **{name: name for name in dt.HOURLY_MODELS},
    "hour_of_week, MAD alone": dt.seasonal_model(168, tail=None),
}


def run_hourly(usage: sh.HourlyUsage, model: dt.Model | str, score: float = 6.0) -> dict[str, float]:
    n = usage.costs.shape[0]
    began = time.perf_counter()
    events = dt.detect_matrix(
        usage.costs,
        min_impact=np.full(n, float(dt.Thresholds().min_impact) / 24),
        score=np.full(n, score),
        model=model,
    )
    seconds = time.perf_counter() - began
    s = sh.evaluate(usage, events.series, events.start, events.new)
    return {
        "flagged": s.flagged,
        "precision": round(s.precision, 3),
        "recall": round(s.recall, 3),
        "eligible": s.eligible,
        "median_delay_hours": s.median_delay,
        "fp_per_1000_series_months": round(s.false_per_1000_series_months, 2),
        "seconds": round(seconds, 2),
    }


def hourly_speed(series: int, days: int, seed: int) -> dict[str, float]:
    usage = sh.generate(seed, series=series, days=days)
    n = usage.costs.shape[0]
    times = []
    for _ in range(3):
        began = time.perf_counter()
        dt.detect_matrix(
            usage.costs, min_impact=np.full(n, 50 / 24), score=np.full(n, 6.0), model="hour_of_week"
        )
        times.append(time.perf_counter() - began)
    return {"series": n, "hours": usage.costs.shape[1], "detect_s": round(min(times), 2)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--series", type=int, default=1000)
    ap.add_argument("--days", type=int, default=400)
    ap.add_argument("--speed-series", type=int, default=10000)
    ap.add_argument("--hourly-seeds", default="1,2,3")
    ap.add_argument("--hourly-series", type=int, default=500)
    ap.add_argument("--hourly-days", type=int, default=60)
    ap.add_argument("--hourly-speed-series", type=int, default=10000)
    ap.add_argument("--skip-daily", action="store_true", help="only the usage signal's back-test and speed")
    args = ap.parse_args()
    hourly = {}
    print(
        f"usage signal: {args.hourly_series} hourly series x {args.hourly_days} days per seed, $50/day "
        "($2.08/h) and score 6"
    )
    print(
        "| seed | model | flagged | precision | recall (eligible) | median delay (h) | FP / 1,000 series-months "
        "| time |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for seed in [int(x) for x in args.hourly_seeds.split(",") if x]:
        for bursty in (0.0, 0.3):
            usage = sh.generate(seed, series=args.hourly_series, days=args.hourly_days, bursty=bursty)
            for name, model in HOURLY_CANDIDATES.items():
                label = f"{name}{', 30 % bursty' if bursty else ''}"
                r = hourly[f"{seed} {label}"] = run_hourly(usage, model)
                print(
                    f"| {seed} | {label} | {r['flagged']} | {r['precision']:.3f} | {r['recall']:.3f} "
                    f"({r['eligible']}) | {r['median_delay_hours']:g} | {r['fp_per_1000_series_months']:.2f} | "
                    f"{r['seconds']:.2f} s |"
                )
    fast_hourly = (
        hourly_speed(args.hourly_speed_series, args.hourly_days, 99) if args.hourly_speed_series > 0 else {}
    )
    if fast_hourly:
        print(
            f"hourly speed: {fast_hourly['series']} series x {fast_hourly['hours']} hours in "
            f"{fast_hourly['detect_s']} s (best of 3)"
        )
    if args.skip_daily:
        print(json.dumps({"hourly": hourly, "hourly_speed": fast_hourly}))
        return
    bills = sy.generate(args.seed, series=args.series, days=args.days)
    default = dt.Thresholds().score
    rows = {name: run(bills, name, default) for name in dt.MODELS}
    for score in (4.0, 5.0, 7.0):
        rows[f"{dt.DEFAULT_MODEL} score {score:g}"] = run(bills, dt.DEFAULT_MODEL, score)
    rows[f"{dt.DEFAULT_MODEL} without recurring"] = run(bills, dt.DEFAULT_MODEL, default, recurring=False)
    print(
        f"seed {args.seed}: {args.series} series x {args.days} days, {len(bills.events)} injected events "
        f"({rows[dt.DEFAULT_MODEL]['eligible']} eligible), thresholds ${dt.Thresholds().min_impact}/day and "
        f"score {default:g} unless named"
    )
    head = "| flagged | precision | recall | median delay (days) | FP / 1,000 series-months | time |"
    print(f"| {'candidate':<36} {head}")
    print(f"|{'-' * 38}|---|---|---|---|---|---|")
    for name, r in rows.items():
        print(
            f"| {name:<36} | {r['flagged']} | {r['precision']:.3f} | {r['recall']:.3f} | "
            f"{r['median_delay_days']:g} | {r['fp_per_1000_series_months']:.2f} | {r['seconds']:.2f} s |"
        )
    fast = speed(args.speed_series, args.days, args.seed + 1) if args.speed_series > 0 else {}
    if fast:
        print(
            f"speed: {fast['series']} series x {fast['days']} days in {fast['detect_s']} s (best of 3); naive "
            f"per-series loop {fast['naive_loop_s_scaled']} s (100 series, scaled): {fast['ratio']}x"
        )
    print(
        json.dumps(
            {
                "seed": args.seed,
                "candidates": rows,
                "speed": fast,
                "hourly": hourly,
                "hourly_speed": fast_hourly,
            }
        )
    )


if __name__ == "__main__":
    main()
