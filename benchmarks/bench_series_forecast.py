"""Back-test of the month-end forecast per series (`awscost.anomalies.forecast`, the cost report's forecaster
applied per account, per service, per account x service) against the naive run-rate.

    python benchmarks/bench_series_forecast.py [--seeds 1 2 3] [--series 60] [--cuts 7 14 21] [--level 0.8]

The series:

- the sandbox's bill history (awscost_sandbox.history: six months of daily CUR, 2026-03-01 .. 2026-08-31,
  with its injected anomalies: a forgotten cluster, a runaway autoscaling group, a data-transfer spike, a
  quiet drop), written, loaded into a dataset and read by `anomalies.bill.series_of` (the job's own path),
  per account, per service, per account x service and the total;
- synthetic bills (`anomalies.synthetic.generate`, `--series` series of 400 days per seed): weekly pattern,
  trend, noise up to 8 %, monthly fees on the 1st for 30 % of the series, 5 % starting late, "clean" without
  injected events and "events" with about one spike, step or drop a series.

Each month of a series with 8 weeks of history before it is forecast from each cut day (days 1..cut known),
and compared with the month's actual total: MAPE and median APE (ours; the naive run-rate = month-to-date
mean x days in the month; the naive run-rate of the usage with the recurring fees added as billed), the
share of months inside our interval (its nominal level is --level), its mean width, and the share of trials
where ours is closer than the naive. Months under $1 are left out. Deterministic: the numbers are the same
on every run (no timing here).
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from awscost.anomalies import forecast as fc

Series = Mapping[str, Sequence[tuple[date, Decimal]]]


def sandbox_series() -> dict[str, tuple[Series, Series]]:
    """The sandbox history's series per grouping: name -> (series, recurring)."""
    from awscost.anomalies.bill import series_of
    from awscost.billing import load, load_into
    from awscost_sandbox.history import build_history, window, write_history
    from awscost_sandbox.scenario import default_scenario

    scenario = default_scenario()
    first, last = window(datetime(2026, 11, 2, 17, tzinfo=UTC))  # the default demo's last hour
    with tempfile.TemporaryDirectory() as tmp:
        cur = write_history(build_history(scenario, first, last), scenario, Path(tmp) / "bill")
        load_into([cur], Path(tmp) / "dataset")
        with load(Path(tmp) / "dataset") as bill:
            data = series_of(bill)
    pairs = {f"{a}/{s}": items for (a, s), items in data.series.items()}
    pair_fees = {f"{a}/{s}": items for (a, s), items in data.recurring.items()}
    out: dict[str, tuple[Series, Series]] = {
        "account": (fc.grouped(data.series, "account"), fc.grouped(data.recurring, "account")),
        "service": (fc.grouped(data.series, "service"), fc.grouped(data.recurring, "service")),
        "account x service": (pairs, pair_fees),
    }
    out["total"] = ({"total": _summed(data.series)}, {"total": _summed(data.recurring)})
    return out


def _summed(series: Mapping[object, Sequence[tuple[date, Decimal]]]) -> list[tuple[date, Decimal]]:
    sums: dict[date, Decimal] = {}
    for items in series.values():
        for d, c in items:
            sums[d] = sums.get(d, Decimal(0)) + c
    return sorted(sums.items())


def synthetic_series(seeds: Sequence[int], n: int, events: float) -> tuple[Series, Series]:
    from awscost.anomalies.synthetic import daily_series, generate

    series: dict[str, list[tuple[date, Decimal]]] = {}
    recurring: dict[str, list[tuple[date, Decimal]]] = {}
    for seed in seeds:
        s, r = daily_series(generate(seed, series=n, events_per_series=events))
        series.update({f"{seed}:{k}": v for k, v in s.items()})
        recurring.update({f"{seed}:{k}": v for k, v in r.items()})
    return series, recurring


HEADER = (
    "| series | n | months | trials | MAPE | median APE | naive MAPE | naive median APE | naive (usage) MAPE "
    "| naive / ours | coverage {level:.0%} | mean width | ours closer |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def row(name: str, series: Series, trials: Sequence[fc.Trial]) -> str:
    s = fc.score(trials)
    months = len({(t.key, t.month) for t in trials})
    return (
        f"| {name} | {len(series)} | {months} | {s.trials} | {s.mape:.2f} % | {s.median_ape:.2f} % | "
        f"{s.naive_mape:.2f} % | {s.naive_median_ape:.2f} % | {s.naive_usage_mape:.2f} % | "
        f"{s.naive_mape / s.mape:.2f} | {s.coverage:.3f} | {s.width:.1f} % | {s.wins:.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--series", type=int, default=60)
    parser.add_argument("--cuts", type=int, nargs="+", default=list(fc.CUTS))
    parser.add_argument("--level", type=float, default=fc.LEVEL)
    parser.add_argument("--no-sandbox", action="store_true")
    args = parser.parse_args()
    sets: list[tuple[str, Series, Series]] = []
    if not args.no_sandbox:
        for name, (series, fees) in sandbox_series().items():
            sets.append((f"sandbox history, per {name}", series, fees))
    for label, events in (("clean", 0.0), ("events", 1.0)):
        series, fees = synthetic_series(args.seeds, args.series, events)
        sets.append((f"synthetic {label}, seeds {' '.join(map(str, args.seeds))}", series, fees))
    print(f"cut days {', '.join(map(str, args.cuts))}; level {args.level}\n")
    print(HEADER.format(level=args.level))
    by_cut: list[tuple[str, list[fc.Trial]]] = []
    for name, series, fees in sets:
        trials = fc.backtest(series, fees, cuts=args.cuts, level=args.level)
        print(row(name, series, trials), flush=True)
        by_cut.append((name, trials))
    print("\nper cut day (MAPE ours / naive, coverage):\n")
    print("| series | " + " | ".join(f"day {c}" for c in args.cuts) + " |")
    print("|---|" + "---|" * len(args.cuts))
    for name, trials in by_cut:
        cells = []
        for c in args.cuts:
            s = fc.score([t for t in trials if t.cut == c])
            cells.append(f"{s.mape:.2f} / {s.naive_mape:.2f} %, {s.coverage:.2f}")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
