"""Benchmark: plan EC2 reservations together with an owned and a new Compute Savings Plan
(`awscost.planning.commitments.plan_together`) for G groups x H hours.

Baseline, measured in the same run: the plain way to search the same cost, exact steepest descent from the
stand-alone break-even plan: every round tries one step up and one step down of every group with the exact
hourly cost (the new commitment sized for each, as ours does) and takes the best, until no step improves.
The report quotes both timings, their ratio, and both plans' hourly cost (ours must not be the dearer).

    .venv/bin/python benchmarks/bench_commitments.py [--groups 40] [--hours 720]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from awscost.planning import commitments as cm
from awscost.planning import ri


def make_case(groups: int, hours: int, seed: int = 7) -> tuple[cm.Model, np.ndarray, np.ndarray]:
    """A fleet with a daily cycle, noise and a few 24/7 licence-heavy groups (the ones a Savings Plan keeps
    busy at night), an owned Compute plan covering about a quarter of the usage left on demand."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 40, (groups, 1)).astype(float)
    amp = rng.integers(0, 12, (groups, 1)).astype(float)
    daily = np.clip(np.sin(np.arange(hours) * (2 * np.pi / 24)), 0, None)[None, :]
    usage = np.floor(np.maximum(base + amp * daily + rng.normal(0, 2, (groups, hours)), 0))
    owned = rng.integers(0, 10, groups).astype(float)
    od = rng.uniform(0.02, 0.5, groups)
    licensed = rng.random(groups) < 0.2
    rsv = od * np.where(licensed, rng.uniform(0.88, 0.93, groups), rng.uniform(0.6, 0.66, groups))
    ratio = np.where(licensed, rng.uniform(0.92, 0.96, groups), 0.72)
    left = (np.maximum(usage - owned[:, None], 0) * od[:, None]).sum(axis=0).mean()
    pool = cm.Pool("compute/1y/no", float(left * 0.25 * 0.72), ratio)
    standalone = ri.plan(usage, owned, od, rsv, min_hours=1)["recommended"]
    return cm.model(usage, owned, od, rsv, np.ones(groups), [pool]), standalone, ratio


def steepest_descent(m: cm.Model, standalone: np.ndarray, ratio: np.ndarray) -> tuple[np.ndarray, float]:
    extra = standalone.copy()
    cost = cm.with_commitment(m, extra, ratio)[1]
    while True:
        best = None
        for j in range(len(extra)):
            for sign in (1.0, -1.0):
                trial = extra.copy()
                trial[j] += sign
                if not 0 <= trial[j] <= standalone[j]:
                    continue
                found = cm.with_commitment(m, trial, ratio)[1]
                if found < cost - 1e-12 and (best is None or found < best[1]):
                    best = (trial, found)
        if best is None:
            return extra, cost
        extra, cost = best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--groups", type=int, default=40)
    ap.add_argument("--hours", type=int, default=720)
    args = ap.parse_args()
    m, standalone, ratio = make_case(args.groups, args.hours)

    t0 = time.perf_counter()
    joint = cm.plan_together(m, standalone, ratio)
    ours = time.perf_counter() - t0

    t0 = time.perf_counter()
    _, base_cost = steepest_descent(m, standalone, ratio)
    baseline = time.perf_counter() - t0

    print(
        json.dumps(
            {
                "groups": args.groups,
                "hours": args.hours,
                "joint_s": round(ours, 3),
                "steepest_descent_s": round(baseline, 3),
                "speedup": round(baseline / ours, 1),
                "joint_cost_per_hour": round(joint.cost, 6),
                "steepest_descent_cost_per_hour": round(base_cost, 6),
                "stand_alone_cost_per_hour": round(cm.with_commitment(m, standalone, ratio)[1], 6),
                "joint_not_dearer": bool(joint.cost <= base_cost + 1e-9),
                "new_commitment": float(joint.commitment),
            }
        )
    )


if __name__ == "__main__":
    main()
