"""Issue 14's comparison: one portable definition of an analysis, as sqlglot (the DuckDB SQL of analyses.py,
rendered by portable.py for DuckDB / Spark / Athena-Trino) or as an ibis expression, on the same parquet.

    .venv/bin/python benchmarks/compare_portable.py [--rows 1000000] [--cache DIR] [--repeat 300] [--runs 3]

Three analyses, their SQL taken from analyses.py itself (run through a recording `Analyses`):
  - summary: cost by SubAccountId x ServiceName (the service-or-charge-kind CASE) x currency, largest first;
  - month_over_month: the last two periods side by side (`sum(...) FILTER (WHERE ...)`), change, percentage;
  - summary_tag: the summary with `--where "Tags['user:Spend_Category'] = 'data'"` (a MAP column lookup).
Each is also written as an ibis expression giving the same rows in the same order. Measured: portable.render
for the three engines, uncached (sqlglot parse + render; DuckDB runs the text as written) against ibis's
expression build + `ibis.to_sql` for duckdb, pyspark and trino, in µs; the DuckDB run (median of --runs,
interleaved, one process, one DuckDB) of the text, of ibis's `.execute()` and of ibis's SQL on the plain
connection; whether the rows are the same and money exact Decimal (ibis through `to_pyarrow()` and through
`.execute()`'s pandas); import time; installed size. Then the Trino SQL each emits for the map lookup and for
FILTER, and the Spark SQL of month_over_month.

The dataset (~--rows) is two billing periods, 2026-10 and 2026-11, of canonical rows: the sandbox CUR of
bench_billing.generate (--rows / 2 lines) loaded by `billing.load_into`; the previous month a shifted copy with
some groups' costs scaled and some groups absent, so the change has something to say. Cached in --cache.

ibis is not a project dependency: without it installed, the ibis half is skipped with a message.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from awscost.billing import analyses as an
from awscost.billing import portable
from awscost.billing.frame import Frame

PREV, CUR = "2026-10", "2026-11"
TAG, TAG_VALUE = "user:Spend_Category", "data"
HAVE_IBIS = importlib.util.find_spec("ibis") is not None


class Recorder(an.Analyses):
    """The analyses of analyses.py run on a DuckDB connection, keeping the SQL each one wrote: the sqlglot
    side measures the project's own queries, not a copy of them."""

    def __init__(self, con: Any) -> None:
        self.con = con
        self.written: list[str] = []

    def _run(self, query: str, written: str) -> Frame:
        self.written.append(written)
        cur = self.con.execute(query)
        return Frame([d[0] for d in cur.description or []], cur.fetchall())


def project_sql(con: Any) -> tuple[dict[str, str], dict[str, Any]]:
    """Each analysis's SQL as analyses.py writes it, and what month_over_month compared."""
    rec = Recorder(con)
    sql = {}
    rec.summary()
    sql["summary"] = rec.written[-1]
    frame = rec.month_over_month()
    sql["month_over_month"] = rec.written[-1]
    rec.summary(where=f"Tags['{TAG}'] = '{TAG_VALUE}'")
    sql["summary_tag"] = rec.written[-1]
    comparison = dict(frame.attrs["comparison"])
    comparison["days"] = rec._days_held(comparison["current"]["period"])
    return sql, comparison


# -- the dataset
def dataset(rows: int, cache: Path) -> Path:
    """Two periods of canonical parquet, `rows` in all (half each), made once and cached."""
    out = cache / f"portable-{rows}"
    files = [out / f"{p}.parquet" for p in (PREV, CUR)]
    if all(f.exists() for f in files):
        return out
    import duckdb
    from bench_billing import generate

    import awscost.billing as billing

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="awscost-compare-") as tmp:
        cur_csv = Path(tmp) / "cur.csv.gz"
        print(f"generating {rows // 2:,} CUR lines and loading them ...", file=sys.stderr)
        generate(cur_csv, rows // 2)
        billing.load_into([cur_csv], Path(tmp) / "ds")
        scan = f"read_parquet('{tmp}/ds/*/*.parquet', hive_partitioning = true)"
        con = duckdb.connect()
        con.execute(f"COPY (SELECT * FROM {scan}) TO '{files[1]}' (FORMAT parquet)")
        shift = ", ".join(
            f"{c} - INTERVAL 1 MONTH AS {c}"
            for c in ("ChargePeriodStart", "ChargePeriodEnd", "BillingPeriodStart", "BillingPeriodEnd")
        )
        group = "hash(SubAccountId, ServiceName, x_UsageType)"
        con.execute(
            f"COPY (SELECT * REPLACE ({shift}, '{PREV}' AS x_BillingPeriod, "
            f"CAST(EffectiveCost * CASE {group} % 5 WHEN 0 THEN 0.8 WHEN 1 THEN 1.25 ELSE 1 END "
            f"AS DECIMAL(38,18)) AS EffectiveCost) FROM {scan} WHERE {group} % 11 <> 0) "
            f"TO '{files[0]}' (FORMAT parquet)"
        )
        con.close()
    return out


# -- sqlglot
def sqlglot_render(sql: str) -> dict[str, str]:
    """portable.render for the three engines, without its cache (DuckDB runs the text as written)."""
    render = portable.render.__wrapped__
    return {engine: render(sql, engine) for engine in portable.ENGINES}


# -- ibis
def ibis_exprs(t: Any, cmp: dict[str, Any]) -> dict[str, Any]:
    """The same analyses as ibis expressions over table `t` (canonical columns), the same row order too.
    `cmp` is what month_over_month compared (periods, labels, days held), computed by analyses.py."""
    import ibis

    adjustment = t.ChargeCategory.isin(["Credit", "Tax", "Adjustment"]) | t.x_LineItemType.isin(
        ["Credit", "Refund", "Tax"]
    )
    kind = ibis.cases(
        (t.x_LineItemType == "Refund", "Refund"),
        (t.x_LineItemType == "Credit", "Credit"),
        else_=t.ChargeCategory,
    )
    keys = {
        "SubAccountId": t.SubAccountId,
        "ServiceName": ibis.ifelse(adjustment, kind, t.ServiceName),
        "BillingCurrency": t.BillingCurrency,
    }

    def summary(table: Any) -> Any:
        return (
            table.group_by(**keys)
            .aggregate(EffectiveCost=t.EffectiveCost.sum())
            .order_by([ibis.desc("EffectiveCost"), *keys])
        )

    prev_p, cur_p = cmp["previous"]["period"], cmp["current"]["period"]
    prev_l, cur_l = cmp["previous"]["label"], cmp["current"]["label"]
    in_prev = t.x_BillingPeriod == prev_p
    if cmp["days"] is not None:  # like for like: the same days of the previous month
        start = an._month_start(prev_p)
        end = start + timedelta(days=min(cmp["days"], an._month_days(prev_p)))
        in_prev &= t.ChargePeriodStart < ibis.timestamp(end)
    zero = ibis.literal(0)
    inner = (
        t.filter(t.x_BillingPeriod.isin([prev_p, cur_p]))
        .group_by(**keys)
        .aggregate(
            **{
                prev_l: t.EffectiveCost.sum(where=in_prev).coalesce(zero),
                cur_l: t.EffectiveCost.sum(where=t.x_BillingPeriod == cur_p).coalesce(zero),
            }
        )
    )
    prev, cur = inner[prev_l], inner[cur_l]
    mom = inner.mutate(
        Change=cur - prev,
        ChangePct=ibis.ifelse(prev == 0, ibis.null(), ((cur - prev) * 100 / prev).cast("float64").round(2)),
    ).order_by([ibis.desc(ibis._.Change.abs()), *keys])
    return {
        "summary": summary(t),
        "month_over_month": mom,
        "summary_tag": summary(t.filter(t.Tags[TAG] == TAG_VALUE)),
    }


IBIS_DIALECTS = {"duckdb": "duckdb", "spark": "pyspark", "trino": "trino"}


def ibis_compile(t: Any, cmp: dict[str, Any], name: str) -> dict[str, str]:
    import ibis

    expr = ibis_exprs(t, cmp)[name]
    return {engine: ibis.to_sql(expr, dialect=d) for engine, d in IBIS_DIALECTS.items()}


# -- measuring
def per_call_us(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm: lazily imported dialects, caches
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs) * 1e6


def fetch(con: Any, query: str) -> Callable[[], object]:
    """Run `query` on the DuckDB connection and fetch its rows (what `Bill` does)."""
    return lambda: con.execute(query).fetchall()


def median_s(fns: list[Callable[[], object]], runs: int = 3) -> list[float]:
    """Median seconds of each of `fns`, run in turn (interleaved: a busy moment of a shared machine falls
    on all of them, not on one)."""
    for fn in fns:
        fn()  # warm: parquet footers, first planning
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(runs):
        for fn, out in zip(fns, times, strict=True):
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
    return [statistics.median(t) for t in times]


def import_s(code: str, runs: int = 5) -> float:
    """Median wall time of `code` in a fresh interpreter, less the interpreter's own start."""

    def once(src: str) -> float:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", src], check=True)
        return time.perf_counter() - t0

    bare = statistics.median(once("pass") for _ in range(runs))
    return statistics.median(once(code) for _ in range(runs)) - bare


def closure(names: list[str], extras: dict[str, set[str]] | None = None) -> set[str]:
    """The installed distributions `names` need, transitively (markers evaluated, extras followed)."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    seen: set[str] = set()
    todo = [(n, (extras or {}).get(n, set())) for n in names]
    while todo:
        name, wanted = todo.pop()
        key = str(canonicalize_name(name))
        try:
            reqs = md.requires(name) or []
        except md.PackageNotFoundError:
            continue
        seen.add(key)
        for text in reqs:
            req = Requirement(text)
            envs = [{"extra": e} for e in wanted] or [{"extra": ""}]
            if req.marker is not None and not any(req.marker.evaluate(env) for env in envs):
                continue
            if str(canonicalize_name(req.name)) not in seen:
                todo.append((req.name, set(req.extras)))
    return seen


def installed_mb(names: set[str]) -> float:
    total = 0
    for name in names:
        dist = md.distribution(name)
        for f in dist.files or []:
            path = Path(str(dist.locate_file(f)))
            if path.is_file():
                total += path.stat().st_size
    return total / 1e6


# -- results
def rows_of(values: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows comparable across the two, in their order: Decimal as is (1.10 == 1.1), NaN/None as None."""

    def cell(v: Any) -> Any:
        if v is None or (isinstance(v, float) and v != v):
            return None
        return v

    return [tuple(cell(v) for v in row) for row in values]


def money_exact(values: list[tuple[Any, ...]], money_cols: list[int]) -> bool:
    return all(isinstance(row[i], Decimal) or row[i] is None for row in values for i in money_cols)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "awscost-bench")
    parser.add_argument("--repeat", type=int, default=300, help="repeats of each parse/compile timing")
    parser.add_argument("--runs", type=int, default=3, help="runs of each query (the median is shown)")
    args = parser.parse_args()

    import duckdb
    import sqlglot

    data = dataset(args.rows, args.cache)
    glob = f"{data}/*.parquet"
    con = duckdb.connect()
    con.execute(f"CREATE VIEW billing AS SELECT * FROM read_parquet('{glob}')")
    n_rows = con.execute("SELECT count(*) FROM billing").fetchone()
    print(f"dataset: {n_rows[0] if n_rows else 0:,} rows in {glob}; duckdb {duckdb.__version__}")

    sql_of, cmp = project_sql(con)
    ibis_t = None
    if HAVE_IBIS:
        import ibis

        icon = ibis.duckdb.connect()
        ibis_t = icon.read_parquet(glob, table_name="billing")
        print(f"ibis {ibis.__version__}, sqlglot {md.version('sqlglot')}")
    else:
        print("ibis is not installed: the ibis half is skipped (pip install 'ibis-framework[duckdb]')")

    table: list[tuple[str, str, str, str]] = []

    def ratio(a: float | None, b: float) -> str:
        return f"{a / b:.1f}x" if a is not None else "-"

    shown: dict[str, dict[str, str]] = {}
    for name, sql in sql_of.items():
        rendered = sqlglot_render(sql)
        s_us = per_call_us(partial(sqlglot_render, sql), args.repeat)
        s_fn = fetch(con, rendered["duckdb"])
        (s_run,) = median_s([s_fn], args.runs)
        s_rows = con.execute(rendered["duckdb"]).fetchall()
        # the round trip (not what runs: DuckDB gets the text as written): sqlglot's DuckDB rendering of
        # its own tree answers as the text does
        trip = sqlglot.parse_one(sql, read="duckdb").sql("duckdb")
        s_same = "yes" if con.execute(trip).fetchall() == s_rows else "NO"
        rendered["trino, untransformed"] = sqlglot.parse_one(sql, read="duckdb").sql("trino")
        money = [
            i for i, d in enumerate(con.execute(rendered["duckdb"]).description or []) if d[0] != "ChangePct"
        ]
        money = [i for i in money if isinstance(s_rows[0][i], Decimal)] if s_rows else []
        i_us = i_run = i_raw = None
        same = exact_arrow = exact_pandas = "-"
        if ibis_t is not None:
            compiled = ibis_compile(ibis_t, cmp, name)
            i_us = per_call_us(partial(ibis_compile, ibis_t, cmp, name), args.repeat)
            expr = ibis_exprs(ibis_t, cmp)[name]
            # ibis's DuckDB SQL on the plain connection too: the query's own cost, without execute()'s
            s_run, i_run, i_raw = median_s([s_fn, expr.execute, fetch(con, compiled["duckdb"])], args.runs)
            arrow = expr.to_pyarrow()
            i_rows = [tuple(r.values()) for r in arrow.to_pylist()]
            frame = expr.execute()
            p_rows = list(frame.itertuples(index=False, name=None))
            # the same rows in the same order, money equal as Decimal (1.10 == 1.1)
            same = "yes" if rows_of(i_rows) == rows_of(s_rows) else "NO"
            exact_arrow = "yes" if money_exact(i_rows, money) else "NO"
            exact_pandas = "yes" if money_exact(p_rows, money) else f"NO ({frame.dtypes.iloc[money[0]]})"
            if same == "NO":
                print(f"{name}: rows differ: sqlglot {len(s_rows)}, ibis {len(i_rows)}", file=sys.stderr)
            shown[f"{name} (ibis)"] = compiled
        shown[f"{name} (sqlglot)"] = rendered
        table += [
            (
                f"{name}: render 3 dialects, µs",
                f"{s_us:,.0f}",
                f"{i_us:,.0f}" if i_us else "-",
                ratio(i_us, s_us),
            ),
            (
                f"{name}: DuckDB run, ms",
                f"{s_run * 1e3:,.1f}",
                f"{i_run * 1e3:,.1f}" if i_run else "-",
                ratio(i_run, s_run),
            ),
            (
                f"{name}: ibis's SQL run on the plain connection, ms",
                "",
                f"{i_raw * 1e3:,.1f}" if i_raw else "-",
                ratio(i_raw, s_run),
            ),
            (
                f"{name}: same rows ({len(s_rows)}) / money Decimal",
                f"{s_same} / {'yes' if money else 'NO'}",
                f"{same} / {exact_arrow} arrow, {exact_pandas} pandas" if ibis_t is not None else "-",
                "",
            ),
        ]

    s_imp = import_s("import sqlglot")
    s_first = import_s("import sqlglot; sqlglot.parse_one('SELECT 1', read='duckdb').sql('trino')")
    table.append(("import, ms", f"{s_imp * 1e3:,.0f}", "-", ""))
    table.append(("import + first render, ms", f"{s_first * 1e3:,.0f}", "-", ""))
    project = closure(["awscost"], {"awscost": {"billing"}})  # what `pip install awscost[billing]` has
    s_size = installed_mb(closure(["sqlglot"]))
    if HAVE_IBIS:
        i_imp = import_s("import ibis")
        i_first = import_s("import ibis; ibis.to_sql(ibis.table({'a': 'int64'}, name='t'), dialect='trino')")
        table[-2] = ("import, ms", f"{s_imp * 1e3:,.0f}", f"{i_imp * 1e3:,.0f}", ratio(i_imp, s_imp))
        table[-1] = (
            "import + first render, ms",
            f"{s_first * 1e3:,.0f}",
            f"{i_first * 1e3:,.0f}",
            ratio(i_first, s_first),
        )
        ibis_all = closure(["ibis-framework"], {"ibis-framework": {"duckdb"}})
        added = ibis_all - project
        i_size = installed_mb(added | {"sqlglot"})
        table.append(
            (
                "installed MB (ibis: + its new deps + sqlglot)",
                f"{s_size:.1f}",
                f"{i_size:.1f}",
                ratio(i_size, s_size),
            )
        )
    else:
        table.append(("installed MB", f"{s_size:.1f}", "-", ""))
        added = set()

    widths = [max(len(r[i]) for r in [*table, ("", "sqlglot", "ibis", "ibis/sqlglot")]) for i in range(4)]
    header = ("", "sqlglot", "ibis", "ibis/sqlglot")
    print()
    for r in [header, tuple("-" * w for w in widths), *table]:
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )

    if added:
        print(f"distributions ibis-framework[duckdb] adds to awscost[billing]: {', '.join(sorted(added))}")
    print("\nTrino SQL (the map-key lookup; FILTER):")
    for label, sqls in shown.items():
        if label.startswith(("summary_tag", "month_over_month")):
            print(f"--- {label}, trino:\n{sqls.get('trino') or sqls['athena']}")
            if "trino, untransformed" in sqls and label.startswith("summary_tag"):
                print(
                    f"--- {label}, trino as sqlglot renders it without the element_at transform:\n"
                    f"{sqls['trino, untransformed']}"
                )
    for label, sqls in shown.items():
        if label.startswith("month_over_month"):
            print(f"--- {label}, spark:\n{sqls['spark']}")


if __name__ == "__main__":
    main()
