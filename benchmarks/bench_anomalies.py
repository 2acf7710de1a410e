"""Back-test of the anomaly detector (`awscost.anomalies.detect`) on synthetic bills, and its speed.

    python benchmarks/bench_anomalies.py [--seed 1] [--series 1000] [--days 400] [--speed-series 10000]

(a) Each baseline candidate of detect.MODELS over the same synthetic bills (`anomalies.synthetic.generate`:
noise up to 8 %, weekly pattern, trend, monthly fees on the 1st given as recurring, spikes, steps, drops and
new series injected with their true start and size), at the default thresholds ($50/day and score 6):
precision (flagged events that are real), recall (injected events >= 20 % of the series' daily cost and
>= $50/day flagged within 2 days of their start), the median delay in days from the start, false positives
per 1,000 series-months, and the time. Then the chosen model at other score thresholds, and without the
recurring part given (the fees on the 1st are then scored).

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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--series", type=int, default=1000)
    ap.add_argument("--days", type=int, default=400)
    ap.add_argument("--speed-series", type=int, default=10000)
    args = ap.parse_args()
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
    print(json.dumps({"seed": args.seed, "candidates": rows, "speed": fast}))


if __name__ == "__main__":
    main()
