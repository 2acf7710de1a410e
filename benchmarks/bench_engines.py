"""Engines benchmark (issue 14): the same analyses on DuckDB and on Spark over one canonical dataset, per core,
and what Athena would scan for each from the dataset's own parquet column sizes.

    python benchmarks/bench_engines.py [--rows 1000000] [--cache DIR] [--repeat 3]

The bill is bench_billing.py's generated gzip CUR (the sandbox's line items in the real CUR layout), loaded
once into a dataset in --cache. Each engine configuration runs in its own interpreter: DuckDB with 1 and 2
threads, Spark local[1] and local[2] (its session start reported apart). Each analysis runs once cold, then
--repeat times; the median warm time is shown. Both engines' results are compared: they must be equal.

Athena is not reachable here, so its side is arithmetic on facts: Athena reads the column chunks of the
columns a query names (parquet is columnar) in the partitions it keeps, and bills $5 per TB scanned with a
10 MB minimum per query (https://aws.amazon.com/athena/pricing/, us-east-1). The columns are taken from the
query as Athena would receive it (portable.render), the sizes from the files' parquet metadata.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_billing import DEFAULT_CACHE, cached_bill

ATHENA_USD_PER_TB = Decimal(5)
ATHENA_MIN_BYTES = 10 * 1024 * 1024

WORKER = r"""
import json, statistics, sys, time
from datetime import date
from pathlib import Path

engine, setting, dataset, repeat = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
from awscost.billing.cube import CostCube

t0 = time.perf_counter()
if engine == "duckdb":
    from awscost.billing.bill import load
    bill = load(Path(dataset), threads=setting)
    session_s = 0.0
else:
    from awscost.billing.spark import SparkOptions, open_dataset, session
    spark = session(SparkOptions(master=f"local[{setting}]", conf={"spark.driver.memory": "4g"}))
    session_s = time.perf_counter() - t0
    bill = open_dataset(dataset, spark=spark)
open_s = time.perf_counter() - t0 - session_s


def cube_rows():
    with CostCube.from_bill(bill, date(2026, 10, 1), date(2026, 12, 1), ["user:Spend_Category"]) as cube:
        return sorted(map(repr, cube.con.execute("SELECT * FROM cost_cube").fetchall()))


analyses = {
    "summary": lambda: bill.summary().rows,
    "month_over_month": lambda: bill.month_over_month().rows,
    "top_resources": lambda: bill.top_resources(20).rows,
    "tag_coverage": lambda: bill.tag_coverage().rows,
    "commitments": lambda: bill.commitments(by_account=True).rows,
    "cost cube scan": cube_rows,
}
out = {"session_s": session_s, "open_s": open_s, "rows": bill.rows(), "cold": {}, "warm": {}, "digest": {}}
for name, call in analyses.items():
    t = time.perf_counter()
    result = call()
    out["cold"][name] = time.perf_counter() - t
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        call()
        times.append(time.perf_counter() - t)
    out["warm"][name] = statistics.median(times)
    out["digest"][name] = repr(result)
print(json.dumps(out))
"""


def dataset(cache: Path, rows: int) -> Path:
    from awscost.billing import load_into

    path = cache / f"dataset-{rows}"
    if not path.exists():
        t0 = time.perf_counter()
        load_into([cached_bill(cache, rows, plain=False)], path.with_suffix(".tmp"))
        path.with_suffix(".tmp").rename(path)
        print(f"loaded {path} in {time.perf_counter() - t0:.0f}s")
    return path


def run(engine: str, setting: int, path: Path, repeat: int) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", WORKER, engine, str(setting), str(path), str(repeat)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{engine} {setting} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def athena_bytes(path: Path) -> tuple[dict[str, list[int]], int, int]:
    """(analysis -> the bytes Athena would scan for each of its queries, the dataset's bytes, its rows), from
    the parquet metadata: the column chunks of the columns each query names (the 10 MB minimum apart)."""
    from datetime import date

    import pyarrow.parquet as pq
    import sqlglot
    from sqlglot import exp

    from awscost.billing.bill import load
    from awscost.billing.cube import CostCube
    from awscost.billing.portable import render
    from awscost.billing.schema import CANONICAL

    files = sorted(path.glob("x_BillingPeriod=*/*.parquet"))
    column_bytes: dict[str, int] = dict.fromkeys(CANONICAL, 0)
    rows = 0
    for f in files:
        meta = pq.ParquetFile(f).metadata
        rows += meta.num_rows
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            for c in range(group.num_columns):
                chunk = group.column(c)
                top = chunk.path_in_schema.split(".")[0]
                if top in column_bytes:
                    column_bytes[top] += chunk.total_compressed_size
    total = sum(f.stat().st_size for f in files)

    def scanned(queries: list[str]) -> list[int]:
        out = []
        for query in queries:
            tree = sqlglot.parse_one(render(query, "athena"), read="trino")
            names = {c.name for c in tree.find_all(exp.Column)} & set(CANONICAL)
            out.append(sum(column_bytes[n] for n in names))
        return out

    recorded: dict[str, list[str]] = {}
    with load(path) as bill:
        send = bill._query
        current: list[str] = []

        def record(query: str):  # type: ignore[no-untyped-def]
            current.append(query)
            return send(query)

        bill._query = record  # type: ignore[method-assign]
        from awscost.billing.cube import scan_sql

        for name, call in {
            "summary": lambda: bill.summary(),
            "month_over_month": lambda: bill.month_over_month(),
            "top_resources": lambda: bill.top_resources(20),
            "tag_coverage": lambda: bill.tag_coverage(),
            "commitments": lambda: bill.commitments(by_account=True),
        }.items():
            current.clear()
            call()
            recorded[name] = list(current)
        CostCube.from_bill(bill, date(2026, 10, 1), date(2026, 12, 1), ["user:Spend_Category"]).close()
        recorded["cost cube scan"] = [
            scan_sql(date(2026, 10, 1), date(2026, 12, 1), {"user:Spend_Category": "t0"})
        ]
        current.clear()
        bill.usage_until()
        bill.commitments(start=date(2026, 11, 1), end=date(2026, 12, 1), by_account=True)
        bill.commitments(start=date(2026, 10, 1), end=date(2026, 11, 1), by_account=True)
        recorded["a cost report run"] = [*current, *recorded["cost cube scan"]]
    return {name: scanned(queries) for name, queries in recorded.items()}, total, rows


def athena_usd(per_query_bytes: list[int], rows: int, at_rows: float) -> Decimal:
    """What the queries cost at `at_rows` rows (bytes scale with rows; each query billed at least 10 MB)."""
    total = Decimal(0)
    for nbytes in per_query_bytes:
        scaled = max(ATHENA_MIN_BYTES, int(nbytes / rows * at_rows))
        total += Decimal(scaled) / Decimal(2**40) * ATHENA_USD_PER_TB
    return total


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000000,3000000", help="rows of each dataset, comma separated")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    configs = [("duckdb", 1), ("duckdb", 2), ("spark", 1), ("spark", 2)]
    by_size: dict[int, dict[tuple[str, int], dict]] = {}
    agree = True
    for size in sizes:
        path = dataset(args.cache, size)
        results = {(e, n): run(e, n, path, args.repeat) for e, n in configs}
        by_size[size] = results
        rows = results[("duckdb", 1)]["rows"]
        names = list(results[("duckdb", 1)]["warm"])
        same = all(results[c]["digest"] == results[("duckdb", 1)]["digest"] for c in configs)
        agree = agree and same
        print(f"\n{rows:,} rows ({path}); median of {args.repeat} warm runs, seconds")
        head = "".join(
            f"{e + (' threads=' if e == 'duckdb' else ' local[') + str(n) + ('' if e == 'duckdb' else ']'):>20}"
            for e, n in configs
        )
        print(f"{'analysis':<20}{head}{'spark/duckdb, 2 cores':>24}")
        for name in names:
            cells = "".join(f"{results[c]['warm'][name]:>20.3f}" for c in configs)
            ratio = results[("spark", 2)]["warm"][name] / results[("duckdb", 2)]["warm"][name]
            print(f"{name:<20}{cells}{ratio:>23.1f}x")
        print(
            f"{'spark session start':<60}" + "".join(f"{results[c]['session_s']:>20.1f}" for c in configs[2:])
        )
        print(f"results equal on every analysis and configuration: {same}")
    if len(sizes) > 1:
        lo, hi = sizes[0], sizes[-1]
        print(
            f"\nthe cost cube scan, marginal rows/s per core between {lo:,} and {hi:,} rows (fixed costs apart):"
        )
        for e, n in configs:
            r_lo, r_hi = by_size[lo][(e, n)], by_size[hi][(e, n)]
            extra_rows = r_hi["rows"] - r_lo["rows"]
            extra_s = r_hi["warm"]["cost cube scan"] - r_lo["warm"]["cost cube scan"]
            fixed = r_lo["warm"]["cost cube scan"] - extra_s / extra_rows * r_lo["rows"]
            rate = extra_rows / extra_s / n if extra_s > 0 else float("inf")
            print(f"  {e} x{n}: {rate:,.0f} rows/s per core; fixed {max(0.0, fixed):.2f} s per scan")

    scanned, total, parquet_rows = athena_bytes(dataset(args.cache, sizes[-1]))
    mib = total / parquet_rows * 1e6 / 2**20
    print(
        f"\ndataset: {total:,} bytes for {parquet_rows:,} rows = {mib:.1f} MiB per million rows (zstd parquet)"
    )
    print(
        f"{'Athena':<20}{'queries':>8}{'bytes read':>14}{'bytes/row':>11}"
        + "".join(f"{'USD at ' + label:>16}" for label in ("this size", "100 M", "5 B"))
    )
    for name, per_query in scanned.items():
        nbytes = sum(per_query)
        costs = [athena_usd(per_query, parquet_rows, r) for r in (parquet_rows, 1e8, 5e9)]
        print(
            f"{name:<20}{len(per_query):>8}{nbytes:>14,}{nbytes / parquet_rows:>11.2f}"
            + "".join(f"{float(c):>16.4f}" for c in costs)
        )
    if not agree:
        raise SystemExit("the engines disagree")


if __name__ == "__main__":
    main()
