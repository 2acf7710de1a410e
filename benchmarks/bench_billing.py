"""Cost Panda benchmark: awscost (DuckDB) against plain pandas on a legacy CUR in the real column layout.

    python benchmarks/bench_billing.py [--rows 1000000] [--workdir DIR] [--keep]

Generates a gzip CSV CUR of N rows from the sandbox bill's line items (real CUR column names and values,
resource tags), then, in one run and each in its own subprocess (so peak RSS is that of the work alone):

  1. pandas:  pd.read_csv(gzip) + groupby(account, product) sum of lineItem/UnblendedCost
  2. awscost: `awscost billing summary FILE` path: billing.load(FILE, materialize=False).summary(...),
     DuckDB's strict CSV scan (the one `load` uses; Polars' scan, faster on gzip, was dropped because it pads
     a short row with NULLs and so drops its cost silently)
  3. awscost: billing.load_into(FILE, DATASET) (validating every row, parquet by period)
  4. summary over the loaded data: awscost over the dataset (copied into its engine table with
     materialize=True; also over the default parquet view) vs pandas groupby over its in-memory DataFrame
  5. awscost one-shot again at N/4 rows: peak memory must not grow with the file

Reports rows/s, wall time ratios and peak RSS. Both sides compute the same totals; the run checks they agree.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SPEEDUP = 3.5
TARGET_SUMMARY_SPEEDUP = 10.0
TARGET_RSS_MB = 500

WORKERS = {
    "pandas": r"""
import sys, time, json
import pandas as pd
t0 = time.perf_counter()
df = pd.read_csv(sys.argv[1], low_memory=False)
t1 = time.perf_counter()
g = df.groupby(["lineItem/UsageAccountId", "lineItem/ProductCode"])["lineItem/UnblendedCost"].sum()
t2 = time.perf_counter()
# the summary again, timed alone, over the DataFrame already in memory (median of 5, as for awscost)
runs = []
for _ in range(5):
    s = time.perf_counter()
    g = df.groupby(["lineItem/UsageAccountId", "lineItem/ProductCode"])["lineItem/UnblendedCost"].sum()
    runs.append(time.perf_counter() - s)
runs.sort()
result = {"load_summary": t2 - t0, "read": t1 - t0, "summary": runs[2]}
result.update(total=float(g.sum()), groups=len(g))
print(json.dumps(result))
""",
    "awscost_oneshot": r"""
import sys, time, json
import awscost.billing as billing
import duckdb, pandas  # imported before the clock starts, as pandas is in the pandas worker
t0 = time.perf_counter()
with billing.load(sys.argv[1], materialize=False) as bill:
    s = bill.summary(by=["SubAccountId", "x_ProductCode"], metric="BilledCost")
t1 = time.perf_counter()
print(json.dumps({"load_summary": t1 - t0, "total": str(sum(s["BilledCost"])), "groups": len(s)}))
""",
    "awscost_load": r"""
import sys, time, json
import awscost.billing as billing
import duckdb, pandas  # imported before the clock starts, as pandas is in the pandas worker
t0 = time.perf_counter()
marker = billing.load_into([sys.argv[1]], sys.argv[2])
t1 = time.perf_counter()
print(json.dumps({"load": t1 - t0, "rows": sum(p["rows"] for p in marker["periods"].values())}))
""",
    "awscost_dataset_summary": r"""
import sys, time, json
import awscost.billing as billing
import duckdb, pandas
BY, RUNS = ["SubAccountId", "x_ProductCode"], 5

def timed(bill):
    bill.summary(by=BY, metric="BilledCost")  # warm: parquet footers, first-query planning
    runs = []
    for _ in range(RUNS):
        s = time.perf_counter()
        frame = bill.summary(by=BY, metric="BilledCost")
        runs.append(time.perf_counter() - s)
    return sorted(runs)[RUNS // 2], frame

with billing.load(sys.argv[1]) as bill:  # the default for a dataset: a view over its parquet files
    view, _ = timed(bill)
t0 = time.perf_counter()
with billing.load(sys.argv[1], materialize=True) as bill:  # copied into the engine's compressed table
    opened = time.perf_counter() - t0
    summary, frame = timed(bill)
print(json.dumps({"summary": summary, "view": view, "open": opened, "total": str(sum(frame["BilledCost"])),
                  "groups": len(frame)}))
""",
}


def generate(path: Path, rows: int) -> int:
    """A gzip CUR of `rows` lines: the sandbox bill's lines (2 days of the fleet) repeated with fresh line
    item ids, resource ids and usage days, in the real column layout with resource tag columns."""
    from awscost_sandbox.bill import CUR_COLUMNS, build_lines, cur_row
    from awscost_sandbox.scenario import default_scenario

    scenario = default_scenario()
    lines = build_lines(scenario, scenario.hours(48))
    payer = next(a.id for a in scenario.accounts if a.management)
    tag_keys = sorted({k for ln in lines for k in (ln.tags or {})})
    header = list(CUR_COLUMNS) + [f"resourceTags/{k}" for k in tag_keys]
    template = [cur_row(i, ln, payer, tag_keys) for i, ln in enumerate(lines)]
    id_col = header.index("identity/LineItemId")
    res_col = header.index("lineItem/ResourceId")
    start_col, end_col = header.index("lineItem/UsageStartDate"), header.index("lineItem/UsageEndDate")
    written = 0
    with gzip.open(path, "wt", encoding="utf-8", newline="", compresslevel=6) as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        copy = 0
        while written < rows:
            day = 3 + copy % 26  # usage days within the billing period of the template
            for row in template:
                if written >= rows:
                    break
                out = list(row)
                out[id_col] = f"{row[id_col][:40]}{copy:08d}"
                if out[res_col]:
                    out[res_col] = f"{row[res_col]}-{copy}"
                if out[start_col].startswith("2026-11-0"):
                    out[start_col] = f"2026-11-{day:02d}" + out[start_col][10:]
                    out[end_col] = f"2026-11-{day:02d}" + out[end_col][10:]
                writer.writerow(out)
                written += 1
            copy += 1
    return written


def run(worker: str, *args: str, env: dict[str, str] | None = None) -> tuple[dict, float, float]:
    """Run a worker in a fresh interpreter; returns (its JSON result, wall seconds, its own peak RSS in MB).

    os.wait4 gives the rusage of that one child, so each peak is the worker's alone."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", WORKERS[worker], *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert proc.stdout is not None and proc.stderr is not None
    out, err = proc.stdout.read(), proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{worker} failed:\n{err}")
    return json.loads(out.strip().splitlines()[-1]), wall, usage.ru_maxrss / 1024


def median_run(runs: list[tuple[dict, float, float]], key: str) -> tuple[dict, float, float]:
    """The run with the median `key` time; peak RSS is the largest over all runs."""
    ordered = sorted(runs, key=lambda r: r[0][key])
    result, wall, _ = ordered[len(ordered) // 2]
    return dict(result), wall, max(r[2] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument(
        "--reuse", action="store_true", help="reuse the files a previous --keep run left in --workdir"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="interleaved runs of pandas and awscost; medians are reported"
    )
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-billing-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        big, small = work / "cur-big.csv.gz", work / "cur-small.csv.gz"
        t0 = time.perf_counter()
        if args.reuse and big.exists() and small.exists():
            with gzip.open(big, "rt", encoding="utf-8") as fh:
                n = sum(1 for _ in fh) - 1
            with gzip.open(small, "rt", encoding="utf-8") as fh:
                n_small = sum(1 for _ in fh) - 1
        else:
            n = generate(big, args.rows)
            n_small = generate(small, max(args.rows // 4, 1))
        with gzip.open(big, "rt", encoding="utf-8") as fh:
            n_columns = len(next(csv.reader(fh)))
        print(
            f"generated {n:,} rows ({big.stat().st_size / 2**20:.0f} MiB gzip) and {n_small:,} rows "
            f"in {time.perf_counter() - t0:.0f}s; {n_columns} columns"
        )

        _, _, small_rss = run("awscost_oneshot", str(small))
        # The machine is shared: pandas and awscost alternate, and each figure is the median of its runs.
        one_runs, pd_runs = [], []
        for _ in range(max(args.repeat, 1)):
            one_runs.append(run("awscost_oneshot", str(big)))
            pd_runs.append(run("pandas", str(big)))
        one, one_wall, one_rss = median_run(one_runs, "load_summary")
        pd_res, pd_wall, pd_rss = median_run(pd_runs, "load_summary")
        pd_res["summary"] = sorted(r[0]["summary"] for r in pd_runs)[len(pd_runs) // 2]
        ds = work / "dataset"
        shutil.rmtree(ds, ignore_errors=True)
        loaded, load_wall, load_rss = run("awscost_load", str(big), str(ds))
        # As many runs as pandas had (each opens the dataset afresh); the median summary time is reported.
        dsum, _, dsum_rss = median_run(
            [run("awscost_dataset_summary", str(ds)) for _ in range(max(args.repeat, 1))], "summary"
        )
        print(
            "runs (work s): awscost "
            + ", ".join(f"{r[0]['load_summary']:.2f}" for r in one_runs)
            + "; pandas "
            + ", ".join(f"{r[0]['load_summary']:.2f}" for r in pd_runs)
        )

        from decimal import Decimal

        agree = abs(Decimal(one["total"]) - Decimal(str(pd_res["total"]))) < Decimal("0.01")
        rows = [
            ("pandas read_csv + groupby", pd_wall, pd_res["load_summary"], pd_rss),
            ("awscost summary FILE", one_wall, one["load_summary"], one_rss),
            ("awscost billing load --into", load_wall, loaded["load"], load_rss),
        ]
        print(f"\n{'':36}{'wall s':>9}{'work s':>9}{'rows/s':>12}{'peak RSS MB':>13}")
        for name, wall, work_s, rss in rows:
            print(f"{name:36}{wall:9.2f}{work_s:9.2f}{n / work_s:12,.0f}{rss:13.0f}")
        speedup = pd_res["load_summary"] / one["load_summary"]
        speedup_wall = pd_wall / one_wall
        summary_speedup = pd_res["summary"] / dsum["summary"]
        print(
            f"\nload+summary speedup vs pandas: {speedup:.2f}x (work), {speedup_wall:.2f}x (wall incl. "
            f"start-up)  target >= {TARGET_SPEEDUP}x"
        )
        print(
            f"summary over loaded data (both in memory, same grouping, median of 5): awscost "
            f"{dsum['summary'] * 1000:.1f} ms vs pandas groupby().sum() {pd_res['summary'] * 1000:.1f} ms = "
            f"{summary_speedup:.1f}x  target >= {TARGET_SUMMARY_SPEEDUP}x"
        )
        print(
            f"  awscost dataset opened with materialize=True: {dsum['open']:.2f} s to copy into the engine "
            f"table (pandas: read_csv {pd_res['read']:.2f} s); peak RSS {dsum_rss:.0f} MB. Default open (a "
            f"view over the parquet files, no copy): summary {dsum['view'] * 1000:.1f} ms = "
            f"{pd_res['summary'] / dsum['view']:.1f}x"
        )
        print(
            f"peak RSS one-shot: {small_rss:.0f} MB at {n_small:,} rows, {one_rss:.0f} MB at "
            f"{n:,} rows; load --into "
            f"{load_rss:.0f} MB; target < {TARGET_RSS_MB} MB and flat"
        )
        print(
            f"totals agree (awscost exact {one['total']} vs pandas float {pd_res['total']:.6f}): {agree}; "
            f"groups {one['groups']} vs {pd_res['groups']}; dataset rows {loaded['rows']:,}"
        )
        agree = (
            agree and Decimal(dsum["total"]) == Decimal(one["total"]) and dsum["groups"] == pd_res["groups"]
        )
        ok = (speedup >= TARGET_SPEEDUP and summary_speedup >= TARGET_SUMMARY_SPEEDUP
              and max(one_rss, load_rss) < TARGET_RSS_MB and agree)  # fmt: skip
        print("targets met" if ok else "TARGETS NOT MET")
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
