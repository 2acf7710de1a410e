"""Collection over the sandbox (4 accounts x 3 regions x every kind): API calls versus the paging floor,
and wall time parallel (max_workers 16) versus sequential (max_workers 1), as ratios measured in one run;
and wall time versus the latency floor (API calls x modeled latency / concurrency), extrapolated to 17
regions.

    python benchmarks/bench_collect.py [--repeat N] [--in-process] [--latency-ms 50] [--kinds hourly]
        [--accounts 100] [--no-sequential]

`--accounts N` collects N accounts: the scenario's and, beyond them, member accounts with no resources
(moto answers every describe for them, so each unit makes its real calls). The paging-floor table is
printed for the scenario's own accounts and every kind only.

The sandbox runs as `awscost sandbox` in a child process (so the emulated AWS does not share the collector's
interpreter lock), seeded with the scenario's fleet at its first hour. The paging floor is computed from the
same deterministic scenario: for each account x region x kind, the fewest calls the APIs' maximum page sizes
allow (at least one call per list), plus one GetCallerIdentity and one AssumeRole per member account.

Measured 2026-12-01 on the 2-core development machine, `--latency-ms 50 --kinds hourly --accounts 100
--repeat 3 --no-sequential` (1,500 units, 1,312 calls, 16 workers): 8.86 s, 2.16x the latency floor of
4.10 s. The run is CPU-bound here, not latency-bound: the same run at 0 ms latency takes 7.98 s. The
collector spends 7.56 s of CPU (5.8 ms a call, one interpreter), the emulator 3.10 s: 1.17x the floor of
this machine. Before awscost's sessions shared botocore's service models and client classes (building EC2's
took ~10 ms a client, 1,200 clients): 15.35 s, 3.74x the latency floor, 14.60 s of collector CPU.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from awscost_sandbox.scenario import Scenario, default_scenario

ROLE = "OrganizationAccountAccessRole"

# Largest page each list API returns (what the runner asks for when page_size is None).
MAX_PAGE = {
    "ec2.DescribeInstances": 1000,
    "rds.DescribeDBInstances": 100,
    "elasticache.DescribeCacheClusters": 100,
    "redshift.DescribeClusters": 100,
    "dynamodb.ListTables": 100,
    "opensearch.DescribeDomains": 5,  # names per call
    "rds.DescribeReservedDBInstances": 100,
    "elasticache.DescribeReservedCacheNodes": 100,
    "redshift.DescribeReservedNodes": 100,
    "opensearch.DescribeReservedInstances": 100,
}


def pages(n: int, size: int) -> int:
    return max(1, math.ceil(n / size))


def paging_floor(sc: Scenario) -> Counter[str]:
    """Fewest calls, by operation, that collecting every kind at the scenario's first hour needs."""
    hour = sc.start
    floor: Counter[str] = Counter()
    # The caller (management) account is used as is, once identified; each member account is entered once.
    floor["sts.GetCallerIdentity"] = 1
    floor["sts.AssumeRole"] = len([a for a in sc.accounts if not a.management])
    units = sc.fleet_at(hour) + sc.paused_at(hour)
    # ec2os resolves AMI ids to an OS once (cached by id): one DescribeImages per region can name every public
    # AMI the region's instances use.
    floor["ec2.DescribeImages"] = len({u.region for u in units if u.kind == "ec2"})
    for account in sc.account_ids:
        for region in sc.regions:
            here = [u for u in units if (u.account, u.region) == (account, region)]
            ec2 = sum(u.count for u in here if u.kind == "ec2")
            # ec2 and ec2os share one read of the instances.
            floor["ec2.DescribeInstances"] += pages(ec2, MAX_PAGE["ec2.DescribeInstances"])
            rds = sum(u.count for u in here if u.kind == "rds")
            floor["rds.DescribeDBInstances"] += pages(rds, MAX_PAGE["rds.DescribeDBInstances"])
            clusters = sum(u.count if u.engine == "redis" else 1 for u in here if u.kind == "elasticache")
            floor["elasticache.DescribeCacheClusters"] += pages(
                clusters, MAX_PAGE["elasticache.DescribeCacheClusters"]
            )
            rs = len({u.name for u in here if u.kind == "redshift"})
            floor["redshift.DescribeClusters"] += pages(rs, MAX_PAGE["redshift.DescribeClusters"])
            tables = [u for u in here if u.kind == "dynamodb"]
            floor["dynamodb.ListTables"] += pages(len(tables), MAX_PAGE["dynamodb.ListTables"])
            floor["dynamodb.DescribeTable"] += len(tables)
            domains = len({u.name for u in here if u.kind == "es"})
            floor["opensearch.ListDomainNames"] += 1
            if domains:
                floor["opensearch.DescribeDomains"] += pages(domains, MAX_PAGE["opensearch.DescribeDomains"])
            started = [
                r for r in sc.reservations() if (r.account, r.region) == (account, region) and r.start <= hour
            ]
            floor["ec2.DescribeReservedInstances"] += 1  # not paginated: one call returns them all
            for kind, op in (
                ("ri-rds", "rds.DescribeReservedDBInstances"),
                ("ri-elasticache", "elasticache.DescribeReservedCacheNodes"),
                ("ri-redshift", "redshift.DescribeReservedNodes"),
                ("ri-es", "opensearch.DescribeReservedInstances"),
            ):
                floor[op] += pages(sum(1 for r in started if r.kind == kind), MAX_PAGE[op])
    return floor


SERVER_PID = [0]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process (all its threads) has used, from /proc/PID/stat (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def sandbox_process(latency_ms: float = 0) -> Iterator[dict[str, str]]:
    """`awscost sandbox` in a child process; yields the environment it prints."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "from awscost.entrypoints.cli import main; main()", "sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "AWSCOST_SANDBOX_LATENCY_MS": str(latency_ms)},
    )
    env: dict[str, str] = {}
    SERVER_PID[0] = proc.pid
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            m = re.match(r"export (\w+)=(\S+)", line)
            if m:
                env[m.group(1)] = m.group(2).strip("'")
            if line.startswith("awscost collect"):
                break
        if "AWS_ENDPOINT_URL" not in env:
            raise RuntimeError("the sandbox did not start")
        yield env
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def sandbox_in_process() -> Iterator[dict[str, str]]:
    from awscost_sandbox.seed import apply_fleet, seed_organization
    from awscost_sandbox.server import SandboxServer

    with SandboxServer() as server:
        seed_organization(server)
        apply_fleet(server, server.scenario, server.scenario.start)
        yield server.env()


CLIENT_SECONDS = [0.0]
# CPU seconds of each timed run: the collector (this process, every thread) and the sandbox server (its child).
CPU: dict[str, list[float]] = {"collector": [], "server": []}


def instrument_client_creation() -> None:
    """Time spent creating boto3 clients (the runner's factory), to show where collection time goes."""
    import threading

    import awscost.aws.session as aws_session

    real = aws_session.client
    lock = threading.Lock()

    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            with lock:
                CLIENT_SECONDS[0] += time.perf_counter() - t0

    aws_session.client = timed  # type: ignore[assignment]


def collect(
    sc: Scenario, env: dict[str, str], workers: int, kinds: str = "all", accounts: list[str] | None = None
) -> tuple[float, Any]:
    from awscost.store import open_store
    from awscost.usage.runner import run_collection
    from awscost_sandbox.demo import demo_settings

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        store = open_store(url)
        saved = dict(os.environ)
        os.environ.update(env)
        os.environ["AWS_CONFIG_FILE"] = os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
        os.environ.pop("AWS_PROFILE", None)
        try:
            server0 = cpu_seconds(SERVER_PID[0]) if SERVER_PID[0] else 0.0
            cpu0 = time.process_time()
            t0 = time.perf_counter()
            summary = run_collection(
                demo_settings(sc, url),
                kinds=kinds,
                accounts=accounts or sc.account_ids,
                regions=sc.regions,
                at=sc.start,
                store=store,
                role_name=ROLE,
                max_workers=workers,
            )
            elapsed = time.perf_counter() - t0
            CPU["collector"].append(time.process_time() - cpu0)
            CPU["server"].append(cpu_seconds(SERVER_PID[0]) - server0 if SERVER_PID[0] else 0.0)
        finally:
            os.environ.clear()
            os.environ.update(saved)
            store.close()
    if summary.failures:
        raise RuntimeError(f"collection failed: {summary.failures[:3]}")
    return elapsed, summary


def _modes_run(modes: tuple[int, ...], repeat: int) -> list[int]:
    """The workers of each timed run, in the order they ran (CPU lists are kept in that order)."""
    return [w for _ in range(repeat) for w in modes]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each mode (median reported)")
    parser.add_argument("--in-process", action="store_true", help="run the sandbox in this process")
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0,
        help="modeled round-trip per API call (AWS answers in tens of ms; moto in about one)",
    )
    parser.add_argument("--kinds", default="all", help="hourly | daily | all | comma list (default all)")
    parser.add_argument(
        "--accounts", type=int, default=0, help="accounts to collect (default the scenario's)"
    )
    parser.add_argument("--workers", type=int, default=16, help="max_workers of the parallel runs")
    parser.add_argument("--no-sequential", action="store_true", help="skip the sequential (1 worker) runs")
    args = parser.parse_args()
    sc = default_scenario()
    accounts = list(sc.account_ids)
    accounts += [f"{900000000000 + i:012d}" for i in range(max(0, args.accounts - len(accounts)))]
    floor = paging_floor(sc)
    par_w = args.workers
    modes = (par_w,) if args.no_sequential else (par_w, 1)
    with sandbox_in_process() if args.in_process else sandbox_process(args.latency_ms) as env:
        collect(
            sc, env, par_w, args.kinds, accounts
        )  # warm-up: moto builds its per-account, per-region backends
        instrument_client_creation()
        CPU["collector"].clear()
        CPU["server"].clear()
        times: dict[int, list[float]] = {m: [] for m in modes}
        client_seconds: list[float] = []
        summary = None
        for _ in range(args.repeat):
            for workers in modes:  # alternate so drifting machine load hits both modes alike
                CLIENT_SECONDS[0] = 0.0
                elapsed, summary = collect(sc, env, workers, args.kinds, accounts)
                times[workers].append(elapsed)
                if workers == 1:
                    client_seconds.append(CLIENT_SECONDS[0])
    assert summary is not None
    made = Counter(summary.calls_by_operation)
    made_total, floor_total = sum(made.values()), sum(floor.values())
    print(
        f"collection: {len(summary.accounts)} accounts x {len(summary.regions)} regions x {len(summary.kinds)} "
        f"kinds = {summary.units_total} units, {summary.items_written} items, {made_total} API calls; modeled "
        f"latency per call {args.latency_ms:g} ms"
    )
    if args.kinds == "all" and len(accounts) == len(sc.account_ids):
        print(
            f"\nAPI calls made {made_total} vs paging floor {floor_total}: ratio {made_total / floor_total:.2f}"
        )
        print(f"  {'operation':44} {'made':>6} {'floor':>6}")
        for op in sorted(set(made) | set(floor)):
            mark = "" if made[op] <= floor[op] else "  <- above floor"
            print(f"  {op:44} {made[op]:>6} {floor[op]:>6}{mark}")
    par = statistics.median(times[par_w])
    runs = [round(t, 2) for t in times[par_w]]
    print(f"\nwall time (median of {args.repeat}): parallel({par_w}) {par:.2f} s, runs {runs}")
    if 1 in times:
        seq = statistics.median(times[1])
        print(f"  sequential {seq:.2f} s; speed-up sequential/parallel = {seq / par:.2f}x")
        share = statistics.median(c / t for c, t in zip(client_seconds, times[1], strict=True))
        print(f"  creating boto3 clients takes {share:.0%} of a sequential run (median)")
    # The CPU the work takes, on this machine: the collector's and the emulator's (which real AWS does not
    # spend on our cores). Each is one interpreter, its threads under one lock (the GIL): neither can run
    # faster than its own CPU seconds, whatever the schedule, the latency or the cores.
    par_cpu = [
        (c, v)
        for (c, v), w in zip(
            zip(CPU["collector"], CPU["server"], strict=True), _modes_run(modes, args.repeat), strict=True
        )
        if w == par_w
    ]
    collector_cpu = statistics.median(c for c, _ in par_cpu)
    server_cpu = statistics.median(v for _, v in par_cpu)
    cpu_floor = max(collector_cpu, server_cpu)
    print(
        f"CPU per parallel run (median): collector {collector_cpu:.2f} s ({1000 * collector_cpu / made_total:.1f} ms "
        f"a call), sandbox server {server_cpu:.2f} s ({1000 * server_cpu / made_total:.1f} ms a call); "
        f"CPU floor (one interpreter each) = {cpu_floor:.2f} s"
    )
    if args.latency_ms:
        # No schedule can beat every call waiting its round-trip with `workers` calls in flight at once.
        lat = args.latency_ms / 1000
        floor_s = made_total * lat / par_w
        print(
            f"latency floor = calls x latency / concurrency = {made_total} x {args.latency_ms:g} ms / {par_w} = "
            f"{floor_s:.2f} s; measured / latency floor = {par / floor_s:.2f}x"
        )
        bound = max(floor_s, cpu_floor)
        print(
            f"floor of this machine = max(latency floor, CPU floor) = {bound:.2f} s; measured / floor = "
            f"{par / bound:.2f}x ({'CPU' if cpu_floor > floor_s else 'latency'}-bound here)"
        )
        # Against AWS the emulator's CPU is not ours: the latency, or the collector's own CPU.
        own = max(floor_s, collector_cpu)
        print(
            f"against AWS (the collector's CPU only): floor max({floor_s:.2f}, {collector_cpu:.2f}) = {own:.2f} s"
        )
        # At 17 regions the per-region units (and their calls) grow 17/n; AssumeRole and the global units do not.
        regional = sum(v for k, v in made.items() if k not in ("sts.AssumeRole", "sts.GetCallerIdentity"))
        calls17 = made_total - regional + regional * 17 / len(summary.regions)
        print(
            f"extrapolated to 17 regions: ~{calls17:.0f} calls, floor {calls17 * lat / par_w:.1f} s, "
            f"at the measured ratio ~{par / floor_s * calls17 * lat / par_w:.1f} s"
        )


if __name__ == "__main__":
    main()
