"""Benchmark: plan 10,000 series x 8,760 hours (one year) with the vectorised planner.

Two representations of the same history are timed: float32 with NaN for missing hours (what
`stats.build_matrix` returns) and int16 with 32767 for missing hours (`stats.to_int16`: whole counts sort
with numpy's radix sort). Baseline, measured in the same run: a naive per-series loop (numpy per row:
nanpercentile for the statistics, then the break-even share tested count by count, the way a first version
would be written). The loop is timed on a sample of series and scaled linearly to the full set; the report
quotes both timings and their ratio.

    .venv/bin/python benchmarks/bench_ri.py [--series 10000] [--hours 8760] [--baseline-sample 300]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from awscost.planning import ri
from awscost.planning.stats import to_int16


def make_history(series: int, hours: int, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 40, (series, 1)).astype(np.float32)
    daily = np.sin(np.arange(hours, dtype=np.float32) * (2 * np.pi / 24))[None, :]
    amp = rng.integers(0, 10, (series, 1)).astype(np.float32)
    values = np.floor(
        np.maximum(base + amp * daily + rng.normal(0, 2, (series, hours)).astype(np.float32), 0)
    )
    values[rng.random((series, hours)) < 0.01] = np.nan  # a few hours not collected
    return values


def naive_plan_row(row: np.ndarray, owned: float, d: float, r: float) -> tuple[float, int]:
    observed = row[~np.isnan(row)]
    p95 = float(np.percentile(observed, 95))
    for q in (0, 5, 50, 90, 100):
        np.percentile(observed, q)
    breakeven = r / d
    n = 0
    while np.count_nonzero(observed >= owned + n + 1) / observed.size >= breakeven:
        n += 1
    return p95, n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--series", type=int, default=10_000)
    ap.add_argument("--hours", type=int, default=8_760)
    ap.add_argument("--baseline-sample", type=int, default=300)
    args = ap.parse_args()

    values = make_history(args.series, args.hours)
    rng = np.random.default_rng(1)
    owned = rng.integers(0, 10, args.series).astype(np.float64)
    d = np.full(args.series, 0.096)
    r = d * rng.uniform(0.55, 0.75, args.series)

    t0 = time.perf_counter()
    out = ri.plan(values, owned, d, r)
    vectorised = time.perf_counter() - t0

    compact = to_int16(values)
    assert compact is not None
    t0 = time.perf_counter()
    out16 = ri.plan(compact, owned, d, r)
    vectorised16 = time.perf_counter() - t0
    same = bool(np.array_equal(out["recommended"], out16["recommended"]))

    k = min(args.baseline_sample, args.series)
    t0 = time.perf_counter()
    naive = [naive_plan_row(values[i], owned[i], d[i], r[i]) for i in range(k)]
    naive_full = (time.perf_counter() - t0) * args.series / k

    agree = all(int(out["recommended"][i]) == n for i, (_, n) in enumerate(naive))
    print(
        json.dumps(
            {
                "series": args.series,
                "hours": args.hours,
                "vectorised_float32_s": round(vectorised, 3),
                "vectorised_int16_s": round(vectorised16, 3),
                "naive_loop_s_extrapolated": round(naive_full, 3),
                "naive_sample": k,
                "speedup_float32": round(naive_full / vectorised, 1),
                "speedup_int16": round(naive_full / vectorised16, 1),
                "target_s": 2.0,
                # The planner (ri_plan.plan_from_store) takes the int16 path whenever counts are whole, as
                # here; float32 is what fractional (normalized-unit) histories cost.
                "production_path": "int16",
                "within_target": vectorised16 < 2.0,
                "naive_agrees_on_sample": agree,
                "int16_agrees": same,
            }
        )
    )


if __name__ == "__main__":
    main()
