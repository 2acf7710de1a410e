"""Cost reports for many audiences from one loaded dataset: wall time against the number of audiences, and the
one-scan cost cube against re-scanning the bill per audience, measured in the same run.

    python benchmarks/bench_report.py [--rows 1000000] [--audiences 1,5,10,20] [--repeat 1] [--naive 5]
                                      [--no-cache]

The data: two months of a legacy CUR (gzip CSV, the real column layout `billing load` reads, written by
DuckDB), `--rows` hourly usage rows each: 2026-11, the period reported, and 2026-10, the period it is compared
with (`last-month` on 2026-12-01). 40 accounts, 12 services, 3 regions, about 1,400 resources (one row per
resource and hour); 70 % of the resources carry `user:Spend_Category` (6 values), 80 % `user:team` (8 teams);
a tax line per account and product, a credit per account. Some services grow from October to November, so the
movers section has movers. The CURs and the dataset they are loaded into (`awscost.billing.load_into`, as
`awscost billing load --into`) are cached in benchmarks/.cache/report-<rows>-g<generator>-r<readers>/
(gitignored; generating and loading 2 M rows takes about a minute; `--no-cache` builds them afresh).

The run, each step in a fresh interpreter (so its peak RSS is its own, measured with os.wait4):

  1. the `report` job (`JOBS.get("report")`, the path of `awscost report cost --all-audiences --period
     last-month --dataset DIR --out TMP`) for 1, 5, 10, 20 of the 20 audiences below (account-scoped,
     tag-scoped, both, and the whole organization), `--repeat` times each; medians reported. The job's
     `CostCube.from_bill` is wrapped here (not in the library) to count and time its scans; `build_report`
     (the sections' cube queries) and `_render` (HTML, text, PNG charts, XLSX) are timed the same way.
  2. the naive baseline: the same job run once per audience (`--audience NAME`, `--naive` of them), as a
     cron line per team would: every run opens the dataset and scans the bill again. Its reports must equal
     the one-scan run's (same JSON but the generation time), which the run checks.

No sending or archiving (the artifacts go to a temporary folder); no usage store, so the usage, services and
savings sections say "no usage store" (they read the store, not the bill). Organizations is not asked
(no credentials in the workers' environment: `organization_names` returns {} at once).
Measured 2026-12-01 (the 2-core development machine, quiet, default arguments, data generated afresh:
2,000,320 rows loaded in 8 s after 15 s of generating; benchmark total 90 s), after the movers' drill-down
asked its five dimensions in one GROUPING SETS scan (`CostCube.compare_many`) instead of one query each:

    audiences    job s  scans  scan s  sections s  render s  s/audience  cube queries  peak RSS MB
            1     1.34      1    0.22        0.56      0.35        1.34            33          275
            5     2.53      1    0.26        1.29      0.78        0.51           141          301
           10     4.19      1    0.25        2.35      1.38        0.42           281          312
           20     7.28      1    0.26        4.30      2.49        0.36           550          319

    marginal cost 0.314 s per audience (0.198 sections, 0.113 rendering), 1.01 s fixed; movers 0.126 s of
    it, 28 cube queries an audience. The cube (83,654 rows from 2 M) is built once per run whatever the
    number of audiences. Baseline, the job once per audience (20 runs, 20 scans of 0.24 s): 13.68 s =
    1.88x the one run of 20 (2.33x without rendering; scan time 18.5x). Reports of both paths identical.

Before compare_many (load average ~3): 20 audiences 9.09 s, 0.42 s per audience, movers 0.245 s of it,
about 80 cube queries an audience.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CACHE = Path(__file__).parent / ".cache"
GENERATOR = 1  # bump when generate() changes: the cache key holds it
PERIODS = (("2026-10", 31), ("2026-11", 30))  # (billing period, days); the report is of the last one
TODAY = "2026-12-01"  # last-month = 2026-11, compared with 2026-10
ACCOUNTS = 40
SERVICES = (  # product code, product name, usage type, operation, unit, $/hour at the base
    ("AmazonEC2", "Amazon Elastic Compute Cloud", "BoxUsage:m5.large", "RunInstances", "Hrs", "0.096"),
    (
        "AmazonRDS",
        "Amazon Relational Database Service",
        "InstanceUsage:db.r5.large",
        "CreateDBInstance",
        "Hrs",
        "0.25",
    ),
    ("AmazonS3", "Amazon Simple Storage Service", "TimedStorage-ByteHrs", "StandardStorage", "GB-Mo", "0.03"),
    ("AmazonDynamoDB", "Amazon DynamoDB", "ReadCapacityUnit-Hrs", "CommittedThroughput", "RCU-Hrs", "0.013"),
    ("AWSLambda", "AWS Lambda", "Lambda-GB-Second", "Invoke", "Lambda-GB-Second", "0.02"),
    ("AmazonCloudWatch", "AmazonCloudWatch", "TimedStorage-ByteHrs", "PutLogEvents", "GB-Mo", "0.005"),
    (
        "AmazonElastiCache",
        "Amazon ElastiCache",
        "NodeUsage:cache.r6g.large",
        "CreateCacheCluster",
        "Hrs",
        "0.206",
    ),
    ("AmazonES", "Amazon OpenSearch Service", "ESInstance:r6g.large", "ESDomain", "Hrs", "0.167"),
    ("AmazonRedshift", "Amazon Redshift", "Node:ra3.xlplus", "RunComputeNode", "Hrs", "1.086"),
    (
        "AmazonEKS",
        "Amazon Elastic Container Service for Kubernetes",
        "AmazonEKS-Hours:perCluster",
        "CreateOperation",
        "Hrs",
        "0.10",
    ),
    ("AmazonVPC", "Amazon Virtual Private Cloud", "NatGateway-Hours", "NatGateway", "Hrs", "0.045"),
    ("AmazonSQS", "Amazon Simple Queue Service", "Requests-Tier1", "GetQueueAttributes", "Requests", "0.004"),
)
GROWING = ("AmazonEC2", "AmazonRDS", "AWSLambda")  # +10..30 % from October to November: the movers
REGIONS = (("us-east-1", "", "US East (N. Virginia)"), ("us-west-2", "USW2-", "US West (Oregon)"),
           ("eu-west-1", "EU-", "EU (Ireland)"))  # fmt: skip
CATEGORIES = ("payments", "ml", "platform", "data", "web", "mobile")
TEAMS = ("checkout", "ledger", "search", "recs", "infra", "etl", "growth", "apps")


def account(i: int) -> str:
    return f"{210000000000 + i * 1010101:012d}"


def audiences() -> list[dict[str, object]]:
    """20 audiences as `[[report.audience]]` tables: the organization, 6 account groups (4 to 9 accounts), 6
    spend categories, 4 teams (two of them BilledCost), 3 accounts ∩ spend categories; all monthly. Listed
    round-robin over the kinds, so that the first k of them (the runs of k audiences) are a mix."""
    groups: list[list[dict[str, object]]] = [
        [{"name": "managers", "recipients": ["cfo@example.com"], "accounts": "all"}],
        [
            {"name": f"accounts-{g}", "recipients": [f"acct{g}@example.com"],
             "accounts": [account(i) for i in range(g * 6, g * 6 + 4 + g)]}
            for g in range(6)
        ],
        [
            {"name": f"cat-{c}", "recipients": [f"{c}@example.com"], "accounts": "all",
             "tags": {"user:Spend_Category": [c]}}
            for c in CATEGORIES
        ],
        [
            {"name": f"team-{team}", "recipients": [f"{team}@example.com"], "accounts": "all",
             "tags": {"user:team": [team, TEAMS[t + 4]]}, "metric": "BilledCost" if t < 2 else "EffectiveCost"}
            for t, team in enumerate(TEAMS[:4])
        ],
        [
            {"name": f"eng-{k}", "recipients": [f"eng{k}@example.com"],
             "accounts": [account(i) for i in range(k * 10, k * 10 + 10)],
             "tags": {"user:Spend_Category": list(CATEGORIES[k * 2 : k * 2 + 2])}}
            for k in range(3)
        ],
    ]  # fmt: skip
    out = [g[i] for i in range(max(map(len, groups))) for g in groups if i < len(g)]
    assert len(out) == 20, len(out)
    return out


def _sql_list(values: list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def generate(path: Path, period: str, days: int, rows: int) -> int:
    """A gzip CUR of one billing period: `rows` hourly usage rows (resource r = i // hours, hour = i % hours),
    then a tax line per account and product and a credit per account. Written by DuckDB in one COPY."""
    import duckdb

    from awscost_sandbox.bill import CUR_COLUMNS

    hours = days * 24
    start = f"{period}-01 00:00:00"
    end = f"TIMESTAMP '{start}' + INTERVAL {days} DAY"
    n = len(SERVICES)
    col = {
        "code": _sql_list([s[0] for s in SERVICES]),
        "name": _sql_list([s[1] for s in SERVICES]),
        "utype": _sql_list([s[2] for s in SERVICES]),
        "op": _sql_list([s[3] for s in SERVICES]),
        "unit": _sql_list([s[4] for s in SERVICES]),
        "rate": "[" + ", ".join(f"{s[5]}::DECIMAL(18,10)" for s in SERVICES) + "]",
        "region": _sql_list([r[0] for r in REGIONS]),
        "prefix": _sql_list([r[1] for r in REGIONS]),
        "location": _sql_list([r[2] for r in REGIONS]),
        "cat": _sql_list(list(CATEGORIES)),
        "team": _sql_list(list(TEAMS)),
    }
    growth = " OR ".join(f"s = {[x[0] for x in SERVICES].index(c) + 1}" for c in GROWING)
    november = period == PERIODS[-1][0]
    usage = f"""
        SELECT i, r, h, s, g,
               TIMESTAMP '{start}' + to_hours(h) AS t0,
               -- cost: the service's rate x a size of 1..4 x a daily wave, +10..30 % in November for
               -- the growing services
               round(({col["rate"]})[s] * (1 + r % 4) * (1 + (h % 24) / 48.0)
                     * CASE WHEN {"TRUE" if november else "FALSE"} AND ({growth}) THEN 1.1 + (r % 3) / 10.0
                       ELSE 1 END, 10)::DECIMAL(18,10) AS cost
        FROM (SELECT i, i // {hours} AS r, i % {hours} AS h, (i // {hours} * 7) % {n} + 1 AS s,
                     (i // {hours}) % 3 + 1 AS g FROM range({rows}) t(i))
    """
    cols = {c: "''" for c in CUR_COLUMNS}
    cols.update(
        {
            "identity/LineItemId": f"md5('{period}-' || i)",
            "identity/TimeInterval": "strftime(t0, '%Y-%m-%dT%H:%M:%SZ') || '/' || "
            "strftime(t0 + INTERVAL 1 HOUR, '%Y-%m-%dT%H:%M:%SZ')",
            "bill/InvoiceId": f"'{period.replace('-', '')}0001'",
            "bill/InvoicingEntity": "'Amazon Web Services, Inc.'",
            "bill/BillingEntity": "'AWS'",
            "bill/BillType": "'Anniversary'",
            "bill/PayerAccountId": f"'{account(0)}'",
            "bill/BillingPeriodStartDate": f"strftime(TIMESTAMP '{start}', '%Y-%m-%dT%H:%M:%SZ')",
            "bill/BillingPeriodEndDate": f"strftime({end}, '%Y-%m-%dT%H:%M:%SZ')",
            "lineItem/UsageAccountId": f"printf('%012d', 210000000000 + (r % {ACCOUNTS}) * 1010101)",
            "lineItem/LineItemType": "'Usage'",
            "lineItem/UsageStartDate": "strftime(t0, '%Y-%m-%dT%H:%M:%SZ')",
            "lineItem/UsageEndDate": "strftime(t0 + INTERVAL 1 HOUR, '%Y-%m-%dT%H:%M:%SZ')",
            "lineItem/ProductCode": f"({col['code']})[s]",
            "lineItem/UsageType": f"({col['prefix']})[g] || ({col['utype']})[s]",
            "lineItem/Operation": f"({col['op']})[s]",
            "lineItem/AvailabilityZone": f"({col['region']})[g] || 'a'",
            "lineItem/ResourceId": f"lower(({col['code']})[s]) || '-' || md5('res-' || r)[1:17]",
            "lineItem/UsageAmount": "'1'",
            "lineItem/CurrencyCode": "'USD'",
            "lineItem/UnblendedRate": "CAST(cost AS VARCHAR)",
            "lineItem/UnblendedCost": "CAST(cost AS VARCHAR)",
            "lineItem/BlendedRate": "CAST(cost AS VARCHAR)",
            "lineItem/BlendedCost": "CAST(cost AS VARCHAR)",
            "lineItem/LineItemDescription": f"'$' || ({col['rate']})[s] || ' per ' || ({col['unit']})[s]",
            "lineItem/LegalEntity": "'Amazon Web Services, Inc.'",
            "product/ProductName": f"({col['name']})[s]",
            "product/location": f"({col['location']})[g]",
            "product/region": f"({col['region']})[g]",
            "product/regionCode": f"({col['region']})[g]",
            "product/servicecode": f"({col['code']})[s]",
            "product/sku": f"upper(md5(({col['utype']})[s] || g)[1:16])",
            "product/usagetype": f"({col['prefix']})[g] || ({col['utype']})[s]",
            "pricing/currency": "'USD'",
            "pricing/publicOnDemandCost": "CAST(cost AS VARCHAR)",
            "pricing/publicOnDemandRate": "CAST(cost AS VARCHAR)",
            "pricing/term": "'OnDemand'",
            "pricing/unit": f"({col['unit']})[s]",
        }
    )
    tags = {
        "resourceTags/user:Spend_Category": f"CASE WHEN hash(r) % 10 < 7 THEN ({col['cat']})[r % 6 + 1] "
        "ELSE '' END",
        "resourceTags/user:team": f"CASE WHEN hash(r + 1) % 10 < 8 THEN ({col['team']})[r % 8 + 1] ELSE '' END",
    }
    select = ", ".join(f'{expr} AS "{name}"' for name, expr in {**cols, **tags}.items())
    # Tax per account and product (8 %) and a $-25 credit per account, each booked for the whole period.
    fees = {**cols, **{k: "''" for k in tags}}
    fees.update(
        {
            "identity/LineItemId": f"md5('{period}-' || kind || a || s)",
            "identity/TimeInterval": f"strftime(TIMESTAMP '{start}', '%Y-%m-%dT%H:%M:%SZ') || '/' || "
            f"strftime({end}, '%Y-%m-%dT%H:%M:%SZ')",
            "lineItem/UsageAccountId": "a",
            "lineItem/LineItemType": "kind",
            "lineItem/UsageStartDate": f"strftime(TIMESTAMP '{start}', '%Y-%m-%dT%H:%M:%SZ')",
            "lineItem/UsageEndDate": f"strftime({end}, '%Y-%m-%dT%H:%M:%SZ')",
            "lineItem/ProductCode": "code",
            "lineItem/UsageType": "''",
            "lineItem/Operation": "''",
            "lineItem/AvailabilityZone": "''",
            "lineItem/ResourceId": "''",
            "lineItem/UnblendedRate": "''",
            "lineItem/UnblendedCost": "CAST(amount AS VARCHAR)",
            "lineItem/BlendedCost": "CAST(amount AS VARCHAR)",
            "lineItem/BlendedRate": "''",
            "lineItem/LineItemDescription": "CASE kind WHEN 'Tax' THEN 'Tax of ' || pname "
            "ELSE 'AWS Promotional credit' END",
            "lineItem/TaxType": "CASE kind WHEN 'Tax' THEN 'Sales Tax' ELSE '' END",
            "product/ProductName": "pname",
            "product/location": "''",
            "product/region": "''",
            "product/regionCode": "''",
            "product/servicecode": "code",
            "product/sku": "''",
            "product/usagetype": "''",
            "pricing/publicOnDemandCost": "''",
            "pricing/publicOnDemandRate": "''",
            "pricing/unit": "''",
        }
    )
    fee_select = ", ".join(f'{expr} AS "{name}"' for name, expr in fees.items())
    account_sql = f"printf('%012d', 210000000000 + (r % {ACCOUNTS}) * 1010101)"
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"CREATE TEMP TABLE u AS {usage}")
    con.execute(
        f"""COPY (
            SELECT {select} FROM u
            UNION ALL
            SELECT {fee_select} FROM (
                SELECT 'Tax' AS kind, {account_sql} AS a, s, ({col["code"]})[s] AS code,
                       ({col["name"]})[s] AS pname, round(sum(cost) * 0.08, 10)::DECIMAL(18,10) AS amount
                FROM u GROUP BY 2, 3
                UNION ALL
                SELECT 'Credit', {account_sql}, 1, ({col["code"]})[1], ({col["name"]})[1],
                       -25::DECIMAL(18,10) FROM u GROUP BY 2
            )
        ) TO '{path}' (FORMAT csv, HEADER, COMPRESSION gzip)"""
    )
    (count,) = con.execute("SELECT count(*) FROM u").fetchone() or (0,)
    con.close()
    return int(count)


WORKERS = {
    # Generating in a child keeps DuckDB out of this process: a child's ru_maxrss starts at its parent's RSS
    # (Linux keeps the high-water mark across fork and exec), so the parent stays small.
    "generate": r"""
import sys
sys.path.insert(0, sys.argv[1])
from bench_report import generate
print(generate(__import__("pathlib").Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])))
""",
    "load": r"""
import sys, time, json
import awscost.billing as billing
t0 = time.perf_counter()
marker = billing.load_into(sys.argv[2:], sys.argv[1])
print(json.dumps({"load": time.perf_counter() - t0,
                  "rows": sum(p["rows"] for p in marker["periods"].values())}))
""",
    # argv: dataset, out dir, mode (one | naive), today, audiences as JSON
    "report": r"""
import json, sys, time
from dataclasses import replace
from datetime import date
import duckdb, jinja2, matplotlib, xlsxwriter  # the job's extra, imported before the clock starts
import awscost.billing, awscost.jobs.report as job, awscost.reports.cost_report as cost_report
import awscost.reports.render
from awscost.billing.cube import CostCube
from awscost.core.config import Settings
from awscost.jobs import JOBS, Context, run_job

dataset, out, mode, today = sys.argv[1:5]
chosen = json.loads(sys.argv[5])
timers = {"scan": 0.0, "build": 0.0, "render": 0.0}
scans = []

def timed(name, fn):
    def wrapper(*args, **kwargs):
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            timers[name] += time.perf_counter() - t
    return wrapper

original = CostCube.from_bill.__func__
def counted_from_bill(cls, bill, start, end, tag_keys=()):
    t = time.perf_counter()
    cube = original(cls, bill, start, end, tag_keys)
    scans.append(time.perf_counter() - t)
    timers["scan"] += scans[-1]
    return cube

CostCube.from_bill = classmethod(counted_from_bill)  # the benchmark's wrapper, not the library's
cost_report.build_report = timed("build", cost_report.build_report)  # the job imports it when it runs
job._render = timed("render", job._render)
# Each section's build, wrapped before the registry first resolves it ("module:build")
from importlib import import_module
from awscost.reports.sections import SECTIONS
for name in SECTIONS.names():
    module, attr = str(SECTIONS.target(name)).split(":")
    timers[f"section:{name}"] = 0.0
    setattr(import_module(module), attr, timed(f"section:{name}", getattr(import_module(module), attr)))
queries = [0]
original_rows = CostCube._rows
def counted_rows(self, query, params):
    queries[0] += 1
    return original_rows(self, query, params)
CostCube._rows = counted_rows  # the cube's questions (every method but as_of/first_day/last_day/rows)
assert JOBS.get("report") is job.JOB

settings = replace(Settings(store="sqlite:////nonexistent/awscost-bench.db"), raw={"report": {"audience": chosen}})
ctx = Context(settings)
base = dict(dataset=dataset, period="last-month", today=date.fromisoformat(today), out=out)
t0 = time.perf_counter()
if mode == "one":
    results = [run_job("report", ctx, job.Params(all_audiences=True, **base))]
else:  # one run per audience: each opens the dataset and scans the bill
    results = [run_job("report", ctx, job.Params(audience=a["name"], **base)) for a in chosen]
wall = time.perf_counter() - t0
reports = [r for res in results for r in res.reports]
errors = [f"{r.audience}: {r.error}" for r in reports if r.error]
documents = {r.audience: {k: v for k, v in r.document.items() if k != "generated_at"} for r in reports
             if r.document}
print(json.dumps({"wall": wall, **timers, "scans": scans, "queries": queries[0],
                  "cube_rows": results[0].cube_rows, "errors": errors, "documents": documents}, default=str))
""",
}


def run(worker: str, *args: str, parse: bool = True) -> tuple[dict, float, float]:
    """Run a worker in a fresh interpreter; returns (its JSON result, wall seconds, its peak RSS in MB)."""
    # No AWS credentials or metadata service: Organizations' names are not asked (nothing is sent anywhere).
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE=os.devnull,
               AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_DEFAULT_REGION="us-east-1")  # fmt: skip
    t0 = time.perf_counter()
    with tempfile.TemporaryFile(mode="w+") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", WORKERS[worker], *args],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=env,
        )
        assert proc.stdout is not None
        out = proc.stdout.read()
        # os.wait4 reaps this one child with its rusage: the peak RSS is the worker's alone.
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        wall, rss = time.perf_counter() - t0, usage.ru_maxrss / 1024
        err.seek(0)
        errors = err.read()
    if code != 0:
        raise SystemExit(f"{worker} failed:\n{errors}")
    return json.loads(out.strip().splitlines()[-1]) if parse else {}, wall, rss


def prepare(rows: int, cache: bool) -> tuple[Path, str]:
    """The cached dataset of the two months (generated and loaded when missing); returns it and a line saying
    what was done."""
    from awscost.billing.readers import READER_VERSION

    work = CACHE / f"report-{rows}-g{GENERATOR}-r{READER_VERSION}"
    dataset = work / "dataset"
    if cache and (dataset / "_awscost_billing.json").is_file():
        return dataset, f"cached in {work}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    t0 = time.perf_counter()
    files = []
    for period, days in PERIODS:
        path = work / f"cur-{period}.csv.gz"
        run("generate", str(Path(__file__).parent), str(path), period, str(days), str(rows), parse=False)
        files.append(path)
    generated = time.perf_counter() - t0
    loaded, _, rss = run("load", str(dataset), *map(str, files))
    return dataset, (
        f"generated {len(PERIODS)} CURs in {generated:.0f} s ({sum(f.stat().st_size for f in files) / 2**20:.0f}"
        f" MiB gzip), loaded {loaded['rows']:,} rows into {dataset} in {loaded['load']:.0f} s "
        f"(peak RSS {rss:.0f} MB)"
    )


def main() -> None:
    t_start = time.perf_counter()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="usage rows per month")
    parser.add_argument("--audiences", default="1,5,10,20", help="audience counts to time (at most 20)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per count; medians are reported")
    parser.add_argument("--naive", type=int, default=20, help="audiences for the per-audience baseline")
    parser.add_argument("--no-cache", action="store_true", help="generate and load the data afresh")
    args = parser.parse_args()
    counts = sorted({int(c) for c in args.audiences.split(",")})
    every = audiences()
    if not counts or counts[0] < 1 or counts[-1] > len(every) or not 1 <= args.naive <= len(every):
        raise SystemExit(f"audience counts are 1..{len(every)}")
    dataset, prepared = prepare(args.rows, cache=not args.no_cache)
    print(prepared)

    def report(mode: str, k: int) -> tuple[dict, float, float]:
        with tempfile.TemporaryDirectory(prefix="bench-report-") as out:
            result, wall, rss = run("report", str(dataset), out, mode, TODAY, json.dumps(every[:k]))
        if result["errors"]:
            raise SystemExit(f"{mode} run of {k} audience(s) failed: {result['errors']}")
        return result, wall, rss

    one: dict[int, tuple[dict, float, float]] = {}
    for k in counts:
        runs = [report("one", k) for _ in range(max(args.repeat, 1))]
        ordered = sorted(runs, key=lambda r: r[0]["wall"])
        result, wall, _ = ordered[len(ordered) // 2]
        one[k] = (result, wall, max(r[2] for r in runs))
    naive, _, naive_rss = report("naive", args.naive)
    if args.naive not in one:  # the one-scan run the baseline is compared with
        one[args.naive] = report("one", args.naive)

    repeat = max(args.repeat, 1)
    print(f"\nthe report job, all audiences in one run (one scan), median of {repeat}; seconds")
    print(f"{'audiences':>9}{'job':>8}{'process':>9}{'scans':>7}{'scan':>7}{'sections':>10}{'render':>8}"
          f"{'other':>7}{'per aud.':>10}{'queries':>9}{'peak MB':>9}")  # fmt: skip
    for k in sorted(one):
        r, wall, rss = one[k]
        other = r["wall"] - r["scan"] - r["build"] - r["render"]
        print(f"{k:>9}{r['wall']:>8.2f}{wall:>9.2f}{len(r['scans']):>7}{r['scan']:>7.2f}{r['build']:>10.2f}"
              f"{r['render']:>8.2f}{other:>7.2f}{r['wall'] / k:>10.2f}{r['queries']:>9}{rss:>9.0f}")  # fmt: skip
    print("(job: run_job wall in the worker; process: with interpreter start-up and imports; sections: "
          "build_report, the cube queries; render: HTML, text, PNG, XLSX; other: opening the dataset, names, "
          "writing the files; queries: the cube's)")  # fmt: skip
    ks = sorted(one)
    top = ks[-1]
    if len(ks) >= 2:
        fit = statistics.linear_regression(ks, [one[k][0]["wall"] for k in ks])
        build = statistics.linear_regression(ks, [one[k][0]["build"] for k in ks]).slope
        render = statistics.linear_regression(ks, [one[k][0]["render"] for k in ks]).slope
        print(f"marginal cost per audience (least squares over {ks}): {fit.slope:.3f} s ({build:.3f} sections, "
              f"{render:.3f} render); fixed {fit.intercept:.2f} s")  # fmt: skip
    r = one[top][0]
    per_section = ", ".join(f"{name[8:]} {r[name] / top:.3f}" for name in r if name.startswith("section:"))
    print(f"sections at {top} audiences, s per audience: {per_section}; "
          f"{r['queries'] / top:.0f} cube queries per audience")  # fmt: skip
    scans = {k: len(one[k][0]["scans"]) for k in sorted(one)}
    print(f"CostCube.from_bill calls per run (counted by a wrapper in this benchmark): {scans}; "
          f"cube {r['cube_rows']:,} rows from {args.rows * len(PERIODS):,} usage rows of the bill")  # fmt: skip

    base = one[args.naive][0]
    same = base["documents"] == naive["documents"]
    per_scan = statistics.median(naive["scans"])
    print(
        f"\nbaseline, the job once per audience (`report cost --audience NAME` x {args.naive}, each opens the "
        f"dataset and scans the bill): {naive['wall']:.2f} s, {len(naive['scans'])} scans of median "
        f"{per_scan:.2f} s, peak {naive_rss:.0f} MB"
    )
    print(
        f"  vs one run of {args.naive} audiences {base['wall']:.2f} s: {naive['wall'] / base['wall']:.2f}x the "
        f"time; {(naive['wall'] - naive['render']) / (base['wall'] - base['render']):.2f}x without rendering "
        f"(the same in both); scans {naive['scan']:.2f} s vs {base['scan']:.2f} s = "
        f"{naive['scan'] / base['scan']:.1f}x"
    )
    print(
        f"  not run, from the scan time measured: a scan per audience and bill section (cost, movers, tags) "
        f"would be {3 * top} scans at {top} audiences, {3 * top * per_scan:.0f} s of scans alone"
    )
    print(
        f"reports of the two paths agree (JSON but generated_at, {len(naive['documents'])} audiences): {same}"
    )
    print(f"benchmark total {time.perf_counter() - t_start:.0f} s")
    if not same:
        raise SystemExit("the one-scan and per-audience reports differ")


if __name__ == "__main__":
    main()
