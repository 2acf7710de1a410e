"""Back-test of the month-end forecast (`awscost.billing.forecast`) against the naive run-rate.

    python benchmarks/bench_forecast.py [--days 120] [--level 0.8] [--no-cache]

The series: the sandbox scenario (`default_scenario(7)`, which starts on a Monday, 2026-11-02) billed hour
by hour with `awscost_sandbox.bill.build_lines`, the EffectiveCost of its usage lines (those of one hour)
summed per UTC day. Lines booked for the whole month (tax, credit, refund, commitment fees) are left out:
they land on the month's first day whatever the usage, a known amount rather than a rate to forecast. The
series is cached in benchmarks/.cache/ (building 120 days takes some 15 s).

Origins: every day from the series' 14th on whose month the series holds from its first to its last day, and
that leaves at least one day of the month to forecast. At each, the forecast sees the month so far and up to
8 weeks before it, and forecasts the month's total; the naive run-rate is the month-to-date mean times the
days in the month. Reported: MAPE of the month total (ours, its two other candidates, naive), their ratio,
and the share of origins whose true total falls in our interval (its nominal level is --level).

The spike variant adds +300 % to one day (the 2nd of the second month) and runs the same back-test: the true
totals include the spike, so it is a day every later origin has seen in its month to date or its history.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from awscost.billing import forecast as fc

CACHE = Path(__file__).parent / ".cache"


def build_series(days: int, cache: bool = True) -> list[tuple[date, Decimal]]:
    path = CACHE / f"forecast_series_seed7_{days}d.json"
    if cache and path.is_file():
        return [(date.fromisoformat(d), Decimal(v)) for d, v in json.loads(path.read_text())]
    from awscost_sandbox.bill import build_lines
    from awscost_sandbox.scenario import default_scenario

    scenario = default_scenario(7)
    per_day: dict[date, Decimal] = defaultdict(Decimal)
    for line in build_lines(scenario, scenario.hours(24 * days)):
        if line.end - line.start <= timedelta(hours=1):
            per_day[line.start.date()] += line.effective
    series = sorted(per_day.items())
    if cache:
        CACHE.mkdir(exist_ok=True)
        path.write_text(json.dumps([(d.isoformat(), str(v)) for d, v in series]))
    return series


def month_end(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def backtest(series: list[tuple[date, Decimal]], level: float) -> dict[str, object]:
    days = [d for d, _ in series]
    first, last = days[0], days[-1]
    value = dict(series)
    errors: dict[str, list[float]] = defaultdict(list)
    covered = 0
    widths: list[float] = []
    for k, origin in enumerate(days):
        start, end = origin.replace(day=1), month_end(origin)
        if k < 13 or start < first or end > last or origin == end:
            continue
        truth = float(
            sum((value[start + timedelta(days=i)] for i in range((end - start).days + 1)), Decimal(0))
        )
        seen = [(d, v) for d, v in series if start - timedelta(days=fc.HISTORY_DAYS) <= d <= origin]
        mtd = [float(v) for d, v in seen if d >= start]
        naive = sum(mtd) / len(mtd) * end.day
        errors["naive run-rate"].append(abs(naive - truth) / truth)
        for name in fc.MODELS:
            got = fc.forecast_month(seen, level=level, model=name)
            errors[name].append(abs(float(got.month_total) - truth) / truth)
            if name == fc.DEFAULT_MODEL:
                covered += float(got.low) <= truth <= float(got.high)
                widths.append(float(got.high - got.low) / truth)
    n = len(errors["naive run-rate"])
    mape = {name: 100 * sum(e) / len(e) for name, e in errors.items()}
    return {
        "origins": n,
        "mape_pct": {k: round(v, 3) for k, v in mape.items()},
        "naive_over_ours": round(mape["naive run-rate"] / mape[fc.DEFAULT_MODEL], 2),
        "coverage": round(covered / n, 3),
        "mean_width_pct": round(100 * sum(widths) / n, 2),
    }


def with_spike(series: list[tuple[date, Decimal]]) -> tuple[list[tuple[date, Decimal]], date]:
    months = sorted({d.replace(day=1) for d, _ in series})
    day = months[2].replace(day=2) if len(months) > 2 else series[len(series) // 2][0]
    return [(d, v * 4 if d == day else v) for d, v in series], day


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=120)
    ap.add_argument("--level", type=float, default=0.8)
    ap.add_argument("--no-cache", action="store_true")
    args = ap.parse_args()
    series = build_series(args.days, cache=not args.no_cache)
    spiked, spike_day = with_spike(series)
    runs = {
        "plain": backtest(series, args.level),
        f"spike +300% on {spike_day}": backtest(spiked, args.level),
    }
    print(f"series {series[0][0]}..{series[-1][0]} ({len(series)} days), interval level {args.level:.0%}")
    names = ["naive run-rate", *fc.MODELS]
    print(f"{'variant':<28}{'origins':>8}" + "".join(f"{n:>16}" for n in names) + f"{'ratio':>8}{'cover':>8}")
    for variant, r in runs.items():
        mape = r["mape_pct"]
        assert isinstance(mape, dict)
        print(
            f"{variant:<28}{r['origins']:>8}"
            + "".join(f"{mape[n]:>15.2f}%" for n in names)
            + f"{r['naive_over_ours']:>8}{r['coverage']:>8}"
        )
    print(json.dumps({"days": len(series), "level": args.level, **runs}))


if __name__ == "__main__":
    main()
