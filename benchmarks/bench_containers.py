"""Benchmark: allocate one month of 1-minute container samples (500 containers on 50 hosts, 30 days: 21.6 M
rows) to services with bounded memory, against a plain pandas implementation of the same arithmetic, same run.

    .venv/bin/python benchmarks/bench_containers.py [--rows-scale 1.0] [--pandas-rows 3000000] [--workdir DIR]

Steps:
1. The normalized sample table is generated straight to Parquet by DuckDB (no Python row loop), at
   `--rows-scale` x 21.6 M rows (the scale shortens the month, keeping 50 hosts x 10 containers).
2. `awscost.containers.allocation.allocate` runs on the Parquet file in a child process (DuckDB capped at
   `--memory-limit`, spilling to disk beyond), then the exact integer split of every host-hour in Python.
3. The pandas baseline (read the Parquet into a DataFrame, groupby tick/hour, float split per host-hour, no
   exactness) runs in another child process on the first `--pandas-rows` rows (whole row groups; a whole-month
   21.6 M-row frame needs ~15 GB); its time is scaled linearly to the full row count (the output says so).
Each child reports its own wall time and peak RSS (getrusage ru_maxrss), so the two are measured alike.
A separate line reports the reader throughput (agent JSON lines -> normalized samples) on `--reader-lines`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

HOSTS = 50
CONTAINERS_PER_HOST = 10
MINUTES = 30 * 24 * 60
PRICE = Decimal("0.192")  # m5.xlarge, us-east-1
ITYPE, REGION = "m5.xlarge", "us-east-1"


def generate(path: Path, minutes: int) -> int:
    import duckdb

    rows = HOSTS * CONTAINERS_PER_HOST * minutes
    con = duckdb.connect()
    con.execute("set TimeZone='UTC'")
    # One row per (host, container, minute); a container is absent 1 minute in 20 (churn), some containers
    # reserve nothing, usage follows a daily cycle. hash() gives stable pseudo-random numbers.
    con.execute(
        f"""
        copy (
          select timestamp '2026-11-01 00:00:00+00' + to_minutes(m::bigint) as timestamp,
                 'i-' || lpad(h::varchar, 17, '0') as host_id, '{ITYPE}' as instance_type,
                 '{REGION}' as region, '222233334444' as account, 'c' || h || '-' || c as container_id,
                 'ctr-' || c as container_name,
                 'svc' || ((h * 7 + c) % 40) as service, 'cluster' || (h % 5) as cluster,
                 (case when c % 3 = 0 then 0.0 else 0.25 * (1 + c % 2) end)::double as cpu_reserved_vcpu,
                 ((hash(h, c, m) % 1000) / 1000.0 * (0.6 + 0.4 * sin(m / 229.18)))::double as cpu_used_vcpu,
                 (case when c % 3 = 0 then 0.0 else 0.5 * (1 + c % 3) end)::double as mem_reserved_gb,
                 (0.2 + (hash(c, h) % 1500) / 1000.0)::double as mem_used_gb,
                 'EC2' as launch_type, null::double as host_vcpu, null::double as host_mem_gb,
                 'host-' || h || '-day-' || (m // 1440) || '.jsonl' as source_file
          from range({HOSTS}) t1(h), range({CONTAINERS_PER_HOST}) t2(c), range({minutes}) t3(m)
          where hash(h, c, m // 60) % 20 != 0
        ) to '{path}' (format parquet, row_group_size 262144)
        """
    )
    n = con.execute(f"select count(*) from read_parquet('{path}')").fetchone()
    con.close()
    del rows
    return int(n[0]) if n else 0


def child_ours(parquet: str, memory_limit: str) -> dict[str, object]:
    from awscost.containers import allocation as alloc

    t0 = time.perf_counter()
    a = alloc.allocate(
        parquet,
        options=alloc.Options(memory_limit=memory_limit),
        price=alloc.price_table({(ITYPE, REGION): PRICE}),
    )
    seconds = time.perf_counter() - t0
    assert alloc.check_conservation(a) == []
    total = sum(h.cost_units for h in a.hosts)
    return {"seconds": seconds, "host_hours": len(a.hosts), "total_usd": str(alloc.from_units(total))}


def child_pandas(parquet: str, max_rows: int) -> dict[str, object]:
    import pandas as pd
    import pyarrow.parquet as pq

    t0 = time.perf_counter()
    pf = pq.ParquetFile(parquet)
    batches, rows = [], 0
    # The baseline reads the columns it read before the table had source_file (which it does not use).
    columns = [c for c in pf.schema_arrow.names if c != "source_file"]
    for batch in pf.iter_batches(batch_size=262144, columns=columns):
        batches.append(batch.to_pandas())
        rows += batch.num_rows
        if rows >= max_rows:
            break
    df = pd.concat(batches, ignore_index=True)
    # Only whole host-hours: drop the hour cut by the row limit.
    df["tick"] = df["timestamp"].astype("int64") // 60_000_000
    df["hour"] = df["tick"] // 60
    last = df["hour"].max()
    df = df[df["hour"] < last] if df["hour"].nunique() > 1 else df
    df["cpu_claim"] = df[["cpu_reserved_vcpu", "cpu_used_vcpu"]].max(axis=1)
    df["mem_claim"] = df[["mem_reserved_gb", "mem_used_gb"]].max(axis=1)
    ticks = df.groupby(["host_id", "container_id", "tick"], as_index=False).agg(
        service=("service", "first"), hour=("hour", "first"), cpu_claim=("cpu_claim", "mean"),
        mem_claim=("mem_claim", "mean"),
    )  # fmt: skip
    hourly = ticks.groupby(["host_id", "hour", "service"], as_index=False).agg(
        cpu=("cpu_claim", "sum"), mem=("mem_claim", "sum")
    )
    hourly[["cpu", "mem"]] /= 60.0
    host_ticks = ticks.groupby(["host_id", "hour"])["tick"].nunique().rename("n").reset_index()
    hourly = hourly.merge(host_ticks, on=["host_id", "hour"])
    covered = (hourly["n"] / 60.0).clip(upper=1.0)
    vcpu, gib, price = 4.0, 16.0, float(PRICE)
    cost = price * covered
    cpu_part, mem_part = cost * 9 * vcpu / (9 * vcpu + gib), cost * gib / (9 * vcpu + gib)
    sums = hourly.groupby(["host_id", "hour"])[["cpu", "mem"]].transform("sum")
    cap_cpu, cap_mem = vcpu * covered, gib * covered
    hourly["cpu_cost"] = cpu_part * hourly["cpu"] / cap_cpu.where(cap_cpu > sums["cpu"], sums["cpu"])
    hourly["mem_cost"] = mem_part * hourly["mem"] / cap_mem.where(cap_mem > sums["mem"], sums["mem"])
    by_service = hourly.groupby("service")[["cpu_cost", "mem_cost"]].sum()
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "rows": len(df), "services": len(by_service)}


def reader_throughput(lines: int, workdir: Path) -> dict[str, float]:
    """Agent JSON lines -> normalized Parquet, by the line reader and by the DuckDB fast path (same file)."""
    from awscost.containers.readers import AGENT_SCHEMA, write_parquet

    path = workdir / "agent.jsonl"
    with path.open("w") as fh:
        for i in range(lines):
            ts = f"2026-11-{1 + i // 864000:02d}T{(i // 36000) % 24:02d}:{(i // 600) % 60:02d}:00Z"
            rec: dict[str, object] = {
                "awscost": AGENT_SCHEMA, "timestamp": ts, "host_id": f"i-{i % 50:04d}",
                "instance_type": ITYPE, "region": REGION, "account": "222233334444",
                "container_id": f"c{i % 500}",
                "container_name": f"ctr-{i % 500}", "service": None, "cluster": "x",
                "cpu_reserved_vcpu": 0.25, "cpu_used_vcpu": round((i % 97) / 97, 4), "mem_reserved_gb": 0.5,
                "mem_used_gb": 0.3, "launch_type": "EC2", "image": f"repo/svc{i % 40}:1",
                "labels": {"com.docker.compose.service": f"svc{i % 40}"},
            }  # fmt: skip
            fh.write(json.dumps(rec) + "\n")
    out: dict[str, float] = {"lines": lines}
    for name, fast in (("line_reader", False), ("fast_path", True)):
        t0 = time.perf_counter()
        result = write_parquet([path], workdir / f"read-{name}", fast=fast)
        out[name] = time.perf_counter() - t0
        assert result.rows == lines and not result.malformed
    return out


def run_child(args: list[str]) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True, env=os.environ.copy()
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows-scale", type=float, default=1.0)
    p.add_argument("--pandas-rows", type=int, default=3_000_000)
    p.add_argument("--memory-limit", default="512MB")
    p.add_argument("--reader-lines", type=int, default=200_000)
    p.add_argument("--workdir", default=None)
    p.add_argument("--child", choices=["ours", "pandas"], help=argparse.SUPPRESS)
    p.add_argument("--parquet", help=argparse.SUPPRESS)
    args = p.parse_args()

    if args.child:
        result = (
            child_ours(args.parquet, args.memory_limit)
            if args.child == "ours"
            else child_pandas(args.parquet, args.pandas_rows)
        )
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="bench-containers-"))
    workdir.mkdir(parents=True, exist_ok=True)
    parquet = workdir / "samples.parquet"
    minutes = max(120, int(MINUTES * args.rows_scale))
    t0 = time.perf_counter()
    rows = generate(parquet, minutes)
    gen_s = time.perf_counter() - t0
    print(f"generated {rows:,} samples ({HOSTS} hosts x {CONTAINERS_PER_HOST} containers x {minutes:,} "
          f"minutes, ~5% absent) in {gen_s:.1f}s: {parquet.stat().st_size / 1e6:.0f} MB parquet")  # fmt: skip

    ours = run_child(["--child", "ours", "--parquet", str(parquet), "--memory-limit", args.memory_limit])
    ours_rate = rows / float(ours["seconds"])  # type: ignore[arg-type]
    print(f"awscost allocate : {rows:,} rows in {ours['seconds']:.1f}s = {ours_rate:,.0f} rows/s, "
          f"peak RSS {ours['peak_rss_mb']:.0f} MB (DuckDB limit {args.memory_limit}), "
          f"{ours['host_hours']:,} host-hours, {ours['total_usd']} USD conserved exactly")  # fmt: skip

    pandas = run_child(
        ["--child", "pandas", "--parquet", str(parquet), "--pandas-rows", str(args.pandas_rows)]
    )
    p_rows = int(pandas["rows"])  # type: ignore[call-overload]
    p_rate = p_rows / float(pandas["seconds"])  # type: ignore[arg-type]
    scaled = "" if p_rows >= rows else f" (ran on {p_rows:,} of {rows:,} rows; time extrapolated linearly)"
    print(f"pandas baseline  : {p_rows:,} rows in {pandas['seconds']:.1f}s = {p_rate:,.0f} rows/s, "
          f"peak RSS {pandas['peak_rss_mb']:.0f} MB{scaled}")  # fmt: skip
    if p_rows < rows:
        est_rss = float(pandas["peak_rss_mb"]) * rows / p_rows  # type: ignore[arg-type]
        print(f"                   full set estimated {rows / p_rate:.0f}s and ~{est_rss:,.0f} MB if it fits")
    print(f"speed ratio awscost/pandas: {ours_rate / p_rate:.2f}x; "
          f"memory ratio (peak RSS) awscost/pandas-on-fraction: "
          f"{float(ours['peak_rss_mb']) / float(pandas['peak_rss_mb']):.2f}")  # type: ignore[arg-type]  # fmt: skip
    if args.reader_lines:
        r = reader_throughput(args.reader_lines, workdir)
        n = r["lines"]
        line_rate, fast_rate = n / r["line_reader"], n / r["fast_path"]
        print(
            f"reader, agent JSON lines -> Parquet ({n:,.0f} lines): line reader {line_rate:,.0f}/s, "
            f"DuckDB fast path {fast_rate:,.0f}/s ({fast_rate / line_rate:.0f}x)"
        )


if __name__ == "__main__":
    main()
