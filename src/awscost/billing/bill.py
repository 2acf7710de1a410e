"""`Bill`: a loaded bill (files or a dataset) as the DuckDB table `billing`, with the weekly FinOps analyses.

A materialized bill is a table in DuckDB's compressed storage (`table.py`); a one-shot bill or, by default, a
dataset is a view over the files. Every analysis, and `sql()`, returns a `Frame` (`frame.py`: columns and rows
of Python values; `.to_pandas()` / `.to_arrow()` for a notebook), so the command line never imports pandas.
Money columns of analyses hold exact `Decimal` values (summed in DECIMAL by DuckDB), so totals tie out to the
source to the last decimal; `Bill.to_pandas()` gives the raw rows with DuckDB's float conversion, for
plotting and ad-hoc work.
"""

from __future__ import annotations

import calendar
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Context, Decimal, localcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from awscost.billing import dataset as ds
from awscost.billing import s3_dataset, table
from awscost.billing.engine import connect, lazy_view_sql
from awscost.billing.engine import materialize as stage_parquet
from awscost.billing.filters import where_sql
from awscost.billing.frame import Frame
from awscost.billing.readers._sql import lit, quote
from awscost.billing.s3 import S3Options, is_s3
from awscost.billing.schema import CANONICAL, METRICS, TEXT, canonical_create_sql
from awscost.billing.sources import deliveries_of, held_deliveries, is_dataset, resolve
from awscost.core.errors import InputError

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

    from awscost.billing.s3 import S3Options

TABLE = "billing"
DEFAULT_TAG = "user:Spend_Category"
# The usage a Reserved Instance or Savings Plan can cover, by product code and usage type: instance hours of
# the reservable services (OpenSearch is in FOCUS's Analytics category, so a category test misses it; EBS
# and data transfer are AmazonEC2 lines no commitment covers), DynamoDB capacity, and the Compute Savings
# Plan's Lambda and Fargate usage. tests/test_cost_truth.py holds it against the kinds catalog.
COMMITMENT_USAGE: dict[str, tuple[str, ...]] = {
    "AmazonEC2": ("%BoxUsage%", "%DedicatedUsage%", "%HostUsage%"),
    "AmazonRDS": ("%InstanceUsage%",),
    "AmazonElastiCache": ("%NodeUsage%",),
    "AmazonES": ("%ESInstance%",),
    "AmazonRedshift": ("%Node%",),
    "AmazonDynamoDB": ("%ReadCapacityUnit-Hrs%", "%WriteCapacityUnit-Hrs%"),
    "AWSLambda": ("%Lambda-GB-Second%",),
    "AmazonECS": ("%Fargate%",),
    "AmazonEKS": ("%Fargate%",),
    "AmazonSageMaker": ("%ml.%",),
}
# A FOCUS file of another provider has no x_ProductCode: its Compute and Databases usage counts.
COMMITMENT_CATEGORIES = ("Compute", "Databases")


def commitment_usage_sql() -> str:
    """SQL: the row is usage a commitment could cover (whether or not one does)."""
    terms = [
        f"(x_ProductCode = {lit(code)} AND ({' OR '.join(f'x_UsageType LIKE {lit(p)}' for p in patterns)}))"
        for code, patterns in COMMITMENT_USAGE.items()
    ]
    categories = ", ".join(lit(c) for c in COMMITMENT_CATEGORIES)
    return f"({' OR '.join(terms)} OR (x_ProductCode IS NULL AND ServiceCategory IN ({categories})))"


_TAG_REF = re.compile(r"^Tags[.\[](.+?)\]?$")


def _plain(value: Any) -> Any:
    """DECIMAL sums without the trailing zeros of the scale (1.682309, not 1.682309000000000000)."""
    if isinstance(value, Decimal):
        if value == 0:
            return Decimal(0)
        text = format(value, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return Decimal(text)
    return value


class Bill:
    """A bill in DuckDB: `sql()` over table `billing`, `to_pandas()`, and the analyses."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        source: str,
        workdir: Path | None = None,
        lazy_sources: list[Any] | None = None,
    ) -> None:
        self.con = con
        self.source = source
        self._workdir = workdir
        self._lazy_sources = lazy_sources  # set when `billing` is an unmaterialized view over the files

    # -- plumbing
    def close(self) -> None:
        self.con.close()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self) -> Bill:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _frame(self, query: str, params: Sequence[Any] | None = None) -> Frame:
        import duckdb

        query_errors = (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException)
        try:
            cur = self.con.execute(query, params or [])
        except query_errors as exc:
            raise InputError(str(exc).strip().splitlines()[0], where="query") from None
        except Exception as exc:  # a lazy view reads the files now: bad data shows here
            if self._lazy_sources:
                from awscost.billing.engine import explain_failure

                raise explain_failure(self.con, self._lazy_sources, exc) from None
            if isinstance(exc, duckdb.Error):
                raise InputError(str(exc).strip().splitlines()[0], where="query") from None
            raise
        names = [d[0] for d in cur.description or []]
        rows = [tuple(_plain(v) for v in row) for row in cur.fetchall()]
        return Frame(names, rows)

    def sql(self, query: str) -> Frame:
        """Run SQL over the table `billing` (canonical columns); money stays exact Decimal.

        The same `Frame` as the analyses (not a DataFrame): one result type for every question asked of a
        bill, `billing query` prints it without pandas, and `.to_pandas()` is one call away in a notebook."""
        return self._frame(query)

    def to_pandas(self) -> pd.DataFrame:
        # Text as str columns whatever the storage (an ENUM column would arrive as a pandas Categorical).
        items = ", ".join(
            f"CAST({quote(c)} AS VARCHAR) AS {quote(c)}" if t == TEXT else quote(c)
            for c, t in CANONICAL.items()
        )
        return self.con.execute(f"SELECT {items} FROM {TABLE}").df()

    def rows(self) -> int:
        row = self.con.execute(f"SELECT count(*) FROM {TABLE}").fetchone()
        return int(row[0]) if row else 0

    def periods(self) -> list[str]:
        return [
            r[0]
            for r in self.con.execute(f"SELECT DISTINCT x_BillingPeriod FROM {TABLE} ORDER BY 1").fetchall()
        ]

    def usage_until(self) -> datetime | None:
        """The end of the last hour (or day) the bill's charges cover, monthly charges aside (a monthly fee
        ends at the month's end whatever day the bill was delivered): the report's "as of"."""
        row = self.con.execute(
            f"SELECT max(ChargePeriodEnd) FROM {TABLE} "
            "WHERE ChargePeriodEnd - ChargePeriodStart <= INTERVAL 1 DAY"
        ).fetchone()
        return row[0] if row and row[0] is not None else None

    # -- analyses
    def summary(
        self,
        by: Iterable[str] = ("SubAccountId", "ServiceName"),
        metric: str = "EffectiveCost",
        where: str | None = None,
        granularity: str | None = None,
    ) -> Frame:
        """Cost by the given canonical columns (or `Tags.KEY`), optionally by day or month, largest first."""
        metric = _metric(metric)
        keys: list[tuple[str, str]] = []
        if granularity is not None:
            if granularity == "day":
                keys.append(("CAST(ChargePeriodStart AS DATE)", "Day"))
            elif granularity == "month":
                keys.append(("x_BillingPeriod", "BillingPeriod"))
            else:
                raise InputError(
                    f"unknown granularity {granularity!r}", param="granularity", hint="day or month"
                )
        keys.extend(_dimension(col) for col in by)
        keys.append(CURRENCY_KEY)
        select = ", ".join(f"{expr} AS {quote(alias)}" for expr, alias in keys)
        group = ", ".join(str(i + 1) for i in range(len(keys)))
        where = where_sql(where)  # parsed and checked: a filter is never spliced in as text
        filt = f"WHERE {where}" if where else ""
        order = ("1, " if granularity else "") + f"{quote(metric)} DESC"
        query = (
            f"SELECT {select}, sum({metric}) AS {quote(metric)} FROM {TABLE} {filt} "
            f"GROUP BY {group} ORDER BY {order}"
        )
        return _one_currency(self._frame(query))

    def total(self, metric: str = "BilledCost", where: str | None = None) -> Decimal:
        """The sum of `metric`; refused when the rows are in more than one currency (never USD + EUR)."""
        metric = _metric(metric)
        where = where_sql(where)  # parsed and checked: a filter is never spliced in as text
        filt = f"WHERE {where}" if where else ""
        frame = self._frame(
            f"SELECT BillingCurrency, sum({metric}) AS total FROM {TABLE} {filt} GROUP BY 1 ORDER BY 1"
        )
        if len(frame) > 1:
            currencies = ", ".join(str(c) for c in frame.column("BillingCurrency"))
            raise InputError(
                f"the bill holds costs in {len(frame)} currencies ({currencies}); a total would add them",
                where=self.source,
                hint="filter one currency, e.g. where=\"BillingCurrency = 'USD'\"",
            )
        value = frame.rows[0][1] if len(frame) else None
        return Decimal(0) if value is None else Decimal(value)

    def month_over_month(
        self, by: Iterable[str] = ("SubAccountId", "ServiceName"), metric: str = "EffectiveCost"
    ) -> Frame:
        """The last two billing periods side by side per group, with the change; largest change first.

        Like for like: when the last period is not complete (its usage ends before the month does, by
        max(ChargePeriodEnd) of its Usage rows), it is compared with the same days of the previous period
        (days 1..N, clipped to that month's length), and the two columns are named by their day ranges
        ("2024-10-01..2024-10-03") instead of the periods. Days are whole: a last day the bill holds only
        some hours of is compared with that whole day of the previous month. `frame.attrs["comparison"]`
        says what was compared (carried into `.to_pandas().attrs`)."""
        metric = _metric(metric)
        periods = self.periods()
        if not periods:
            return self._frame("SELECT NULL AS Current LIMIT 0")
        current = periods[-1]
        previous = periods[-2] if len(periods) > 1 else _previous_month(current)
        days = self._days_held(current)
        prev_filter = f"x_BillingPeriod = {lit(previous)}"
        if days is None:
            prev_label, cur_label = previous, current
        else:
            prev_start = _month_start(previous)
            prev_days = min(days, _month_days(previous))
            prev_end = prev_start + timedelta(days=prev_days)
            prev_filter += f" AND ChargePeriodStart < TIMESTAMP {lit(prev_end.isoformat(sep=' '))}"
            prev_label = _day_range(prev_start, prev_days)
            cur_label = _day_range(_month_start(current), days)
        keys = [*(_dimension(col) for col in by), CURRENCY_KEY]
        select = "".join(f"{expr} AS {quote(alias)}, " for expr, alias in keys)
        group = "GROUP BY " + ", ".join(str(i + 1) for i in range(len(keys))) if keys else ""
        prev_col, cur_col = quote(prev_label), quote(cur_label)
        inner = (
            f"SELECT {select}"
            f"COALESCE(sum({metric}) FILTER (WHERE {prev_filter}), 0) AS {prev_col}, "
            f"COALESCE(sum({metric}) FILTER (WHERE x_BillingPeriod = {lit(current)}), 0) AS {cur_col} "
            f"FROM {TABLE} WHERE x_BillingPeriod IN ({lit(previous)}, {lit(current)}) {group}"
        )
        query = (
            f"SELECT *, {cur_col} - {prev_col} AS Change, "
            f"CASE WHEN {prev_col} = 0 THEN NULL ELSE round(CAST(({cur_col} - {prev_col}) * 100 / {prev_col} "
            f"AS DOUBLE), 2) END AS ChangePct FROM ({inner}) ORDER BY abs(Change) DESC"
        )
        frame = _one_currency(self._frame(query))
        frame.attrs["comparison"] = {
            "like_for_like": days is not None,
            "previous": {"period": previous, "label": prev_label},
            "current": {"period": current, "label": cur_label},
        }
        return frame

    def _days_held(self, period: str) -> int | None:
        """How many days (1..N, the last perhaps partial) of `period` the bill holds, or None when it holds
        the whole month. Measured on Usage rows: a monthly fee or tax line spans the month from its first day
        whatever has been delivered; a period without usage rows falls back to all its rows."""
        ends = self._frame(
            f"SELECT max(ChargePeriodEnd) FILTER (WHERE ChargeCategory = 'Usage') AS usage_end, "
            f"max(ChargePeriodEnd) AS any_end FROM {TABLE} WHERE x_BillingPeriod = ?",
            [period],
        ).rows[0]
        end = next((v for v in ends if isinstance(v, datetime)), None)
        if end is None:
            return None
        start = _month_start(period)
        month_days = _month_days(period)
        if end >= start + timedelta(days=month_days):
            return None
        return max(1, min(month_days, -(-(end - start) // timedelta(days=1))))

    def top_resources(self, n: int = 10, metric: str = "EffectiveCost", where: str | None = None) -> Frame:
        metric = _metric(metric)
        where = where_sql(where)
        filt = f"AND ({where})" if where else ""
        return _one_currency(
            self._frame(
                "SELECT ResourceId, any_value(SubAccountId) AS SubAccountId, any_value(ServiceName) AS "
                "ServiceName, "
                f"any_value(x_UsageType) AS UsageType, sum({metric}) AS {quote(metric)}, BillingCurrency "
                f"FROM {TABLE} WHERE ResourceId IS NOT NULL {filt} GROUP BY ResourceId, BillingCurrency "
                "ORDER BY 5 DESC, 1 LIMIT ?",
                [int(n)],
            )
        )

    def credits_refunds_tax(self) -> Frame:
        """Credits, refunds, tax and other adjustments apart from usage, per period, account and kind."""
        kind = CHARGE_KIND
        return _one_currency(
            self._frame(
                f"SELECT x_BillingPeriod AS BillingPeriod, SubAccountId, {kind} AS Kind, ServiceName, "
                f"count(*) AS Lines, sum(BilledCost) AS BilledCost, BillingCurrency FROM {TABLE} "
                f"WHERE {ADJUSTMENT} GROUP BY 1, 2, 3, 4, 7 ORDER BY 1, 2, 3, 6"
            )
        )

    def tag_coverage(self, tag_key: str = DEFAULT_TAG, metric: str = "EffectiveCost") -> Frame:
        """Share of usage cost whose resources carry a non-empty value for `tag_key`, per account.

        `CoverageShare` is the 0-1 ratio TaggedCost / TotalCost as a Decimal, divided in Python at 28
        significant digits (DuckDB would divide DECIMALs in DOUBLE); None when the total is zero. A front end
        may show it as a percentage; machine formats carry the ratio."""
        metric = _metric(metric)
        tagged = f"NULLIF(TRIM({tag_value(tag_key)}), '') IS NOT NULL"
        frame = self._frame(
            f"SELECT SubAccountId, BillingCurrency, sum({metric}) AS TotalCost, "
            f"COALESCE(sum({metric}) FILTER (WHERE {tagged}), 0) AS TaggedCost, "
            f"COALESCE(sum({metric}) FILTER (WHERE NOT ({tagged})), 0) AS UntaggedCost "
            f"FROM {TABLE} WHERE ChargeCategory = 'Usage' GROUP BY 1, 2 ORDER BY 1, 2"
        )
        frame = frame.with_column(
            "CoverageShare",
            [
                _share(tagged_cost, total)
                for tagged_cost, total in zip(
                    frame.column("TaggedCost"), frame.column("TotalCost"), strict=True
                )
            ],
        )
        return _one_currency(frame)

    def untagged_resources(
        self, tag_key: str = DEFAULT_TAG, n: int = 10, metric: str = "EffectiveCost"
    ) -> Frame:
        """The largest usage resources without a value for `tag_key`."""
        metric = _metric(metric)
        return _one_currency(
            self._frame(
                "SELECT ResourceId, any_value(SubAccountId) AS SubAccountId, any_value(ServiceName) AS "
                "ServiceName, "
                f"sum({metric}) AS {quote(metric)}, BillingCurrency FROM {TABLE} WHERE ChargeCategory = 'Usage' "
                "AND ResourceId IS NOT NULL "
                f"AND NULLIF(TRIM({tag_value(tag_key)}), '') IS NULL GROUP BY 1, 5 ORDER BY 4 DESC, 1 LIMIT ?",
                [int(n)],
            )
        )

    def commitments(
        self, *, start: date | None = None, end: date | None = None, by_account: bool = False
    ) -> Frame:
        """Per period: usage covered by RIs and Savings Plans and the on-demand usage a commitment could
        cover, unused commitment, coverage and utilization in percent. With `start`/`end` only the charges of
        those UTC days [start, end) count; `by_account` gives one row per SubAccountId and currency instead
        of per billing period (the currency column then always kept), for a report's period and scope.

        Coverage is measured at on-demand-equivalent cost (ListCost), as Cost Explorer measures it: what the
        covered usage would cost on demand over what all coverable usage would. (At EffectiveCost the
        covered part counts at its discount and coverage is understated.) Utilization is used over used +
        unused commitment, at EffectiveCost: the commitment's own money. The *Covered / OnDemandEligible /
        UnusedCommitment columns are EffectiveCost: what was paid."""
        sp = "CommitmentDiscountType ILIKE '%savings%'"
        used = "CommitmentDiscountStatus = 'Used' AND ChargeCategory = 'Usage'"
        eligible = (
            "ChargeCategory = 'Usage' AND CommitmentDiscountId IS NULL AND PricingCategory = 'Standard' "
            f"AND {commitment_usage_sql()}"
        )
        where, params = "", []
        if start is not None or end is not None:
            where = "WHERE ChargePeriodStart >= ? AND ChargePeriodStart < ?"
            params = [start or date.min, end or date.max]
        group = "SubAccountId" if by_account else "x_BillingPeriod AS BillingPeriod"
        inner = (
            f"SELECT {group}, BillingCurrency, "
            f"COALESCE(sum(EffectiveCost) FILTER (WHERE {used} AND NOT ({sp})), 0) AS ReservedCovered, "
            f"COALESCE(sum(EffectiveCost) FILTER (WHERE {used} AND {sp}), 0) AS SavingsPlanCovered, "
            f"COALESCE(sum(EffectiveCost) FILTER (WHERE {eligible}), 0) AS OnDemandEligible, "
            "COALESCE(sum(EffectiveCost) FILTER (WHERE CommitmentDiscountStatus = 'Unused'), 0) AS "
            "UnusedCommitment, "
            f"COALESCE(sum(ListCost) FILTER (WHERE {used}), 0) AS CoveredOnDemandCost, "
            f"COALESCE(sum(ListCost) FILTER (WHERE {eligible}), 0) AS UncoveredOnDemandCost "
            f"FROM {TABLE} {where} GROUP BY 1, 2"
        )
        query = (
            "SELECT *, CASE WHEN CoveredOnDemandCost + UncoveredOnDemandCost = 0 THEN NULL ELSE "
            "round(CAST(CoveredOnDemandCost * 100 / (CoveredOnDemandCost + UncoveredOnDemandCost) "
            "AS DOUBLE), 2) END AS CoveragePct, "
            "CASE WHEN ReservedCovered + SavingsPlanCovered + UnusedCommitment = 0 THEN NULL ELSE "
            "round(CAST((ReservedCovered + SavingsPlanCovered) * 100 / (ReservedCovered + "
            "SavingsPlanCovered + "
            f"UnusedCommitment) AS DOUBLE), 2) END AS UtilizationPct FROM ({inner}) ORDER BY 1, 2"
        )
        frame = self._frame(query, params)
        return frame if by_account else _one_currency(frame)


# Every analysis groups by currency: costs in two currencies are never added. The column is dropped again
# when the bill has one currency (the usual case), so single-currency output stays as it was.
CURRENCY_KEY = ("BillingCurrency", "BillingCurrency")
# Tax, credits and refunds are their own rows in a cost-by-service view (as Cost Explorer shows Tax): folded
# into the service they were booked on, a credit would show as a negative service cost.
ADJUSTMENT = (
    "(ChargeCategory IN ('Credit', 'Tax', 'Adjustment') OR x_LineItemType IN ('Credit', 'Refund', 'Tax'))"
)
CHARGE_KIND = (
    "CASE WHEN x_LineItemType = 'Refund' THEN 'Refund' WHEN x_LineItemType = 'Credit' THEN 'Credit' "
    "ELSE ChargeCategory END"
)
SERVICE_OR_CHARGE = f"CASE WHEN {ADJUSTMENT} THEN {CHARGE_KIND} ELSE ServiceName END"


def _share(part: Any, whole: Any) -> Decimal | None:
    """part / whole as an exact-as-possible Decimal (28 significant digits, whatever the caller's context)."""
    if whole is None or part is None or Decimal(whole) == 0:
        return None
    with localcontext(Context(prec=28)):
        return _plain(Decimal(part) / Decimal(whole))


def _one_currency(frame: Frame) -> Frame:
    if "BillingCurrency" in frame.columns and len(set(frame.column("BillingCurrency"))) <= 1:
        return frame.drop("BillingCurrency")
    return frame


def tag_value(key: str) -> str:
    """SQL for the value of tag `key`. CUR 2.0 writes tag keys normalized (`user:Spend_Category` becomes
    `user_spend_category`), so the normalized key is looked up too: one key works for every format."""
    normalized = re.sub(r"[^0-9a-z]", "_", key.lower())
    if normalized == key:
        return f"Tags[{lit(key)}]"
    return f"COALESCE(Tags[{lit(key)}], Tags[{lit(normalized)}])"


def _metric(metric: str) -> str:
    if metric not in METRICS:
        raise InputError(f"unknown metric {metric!r}", param="metric", hint=", ".join(METRICS))
    return metric


def _dimension(column: str) -> tuple[str, str]:
    """A `--by` column as (SQL, output name): canonical names, or `Tags.KEY` / `Tags[KEY]` for a tag value."""
    column = column.strip()
    m = _TAG_REF.match(column)
    if m:
        key = m.group(1).strip("'\"")
        return tag_value(key), f"Tags.{key}"
    if column not in CANONICAL:
        raise InputError(
            f"unknown column {column!r}",
            param="by",
            hint="use canonical names like SubAccountId or Tags.user:KEY",
        )
    if CANONICAL[column].startswith("MAP"):
        raise InputError(f"cannot group by the map column {column!r}", param="by", hint="use Tags.KEY")
    if column == "ServiceName":
        return SERVICE_OR_CHARGE, column
    return quote(column), column


def _month_start(period: str) -> datetime:
    year, month = (int(x) for x in period.split("-"))
    return datetime(year, month, 1)  # canonical timestamps are naive UTC


def _month_days(period: str) -> int:
    start = _month_start(period)
    return calendar.monthrange(start.year, start.month)[1]


def _day_range(start: datetime, days: int) -> str:
    """Days 1..`days` of the month starting at `start`, both ends included: "2024-10-01..2024-10-03"."""
    return f"{start:%Y-%m-%d}..{start + timedelta(days=days - 1):%Y-%m-%d}"


def _previous_month(period: str) -> str:
    year, month = (int(x) for x in period.split("-"))
    return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"


def _paths(paths: Iterable[str | Path]) -> list[Path | str]:
    """Local paths as Paths; `s3://` locations stay strings (a Path would fold their '//')."""
    return [p if is_s3(p) else Path(p) for p in paths]


def load(
    paths: str | Path | Iterable[str | Path],
    *,
    memory_limit: str | None = None,
    threads: int | None = None,
    materialize: bool | None = None,
    prefer: str | None = None,
    s3_options: S3Options | None = None,
) -> Bill:
    """Open a bill: a dataset directory written by `load_into` (or an `s3://bucket/prefix/` dataset, reached
    with `s3_options`: `s3_dataset.py`), or billing files/dirs/manifests (any format, auto-detected).

    `materialize=True` (the default for files) copies the rows once into the engine's own compressed table
    (`table.py`): every row validated, repeated analyses fast. For files that goes through canonical parquet
    in a temporary directory. A dataset is by default (`materialize=None`) opened as a view over its parquet
    files, which costs nothing up front (one-shot commands); `materialize=True` copies it too, for a
    notebook or any session running many queries.

    With `materialize=False`, files are exposed as a view that each query streams from the files (one-shot
    commands: one pass, only the needed columns parsed). Every row is parsed as the load parses it (a ragged
    row fails, naming its line), but values are checked only where a query reads them: a bad number in a
    column the query does not use is not reported; the materialized load checks every column.

    A billing account's month held by files of two formats is refused unless `prefer` names the format to
    keep (`overlaps.py`).

    Other `s3://bucket/prefix` paths are bills read from S3 (`s3_sources.py`: CUR manifests, Data Exports,
    plain objects) through the client `s3_options` make ([billing.s3])."""
    items = _paths([paths] if isinstance(paths, str | Path) else paths)
    if len(items) == 1 and isinstance(items[0], str) and s3_dataset.is_s3_dataset(items[0], s3_options):
        return _open_s3_dataset(items[0], s3_options, materialize, memory_limit, threads)
    if not items:
        raise InputError("no billing files given", param="paths")
    local = [p for p in items if isinstance(p, Path)]
    if len(items) == 1 and local and not local[0].is_file():
        ds.recover(local[0])  # a load killed between its swap's renames left the dataset beside its path
    workdir = Path(tempfile.mkdtemp(prefix="awscost-bill-"))
    dataset = len(items) == 1 and bool(local) and is_dataset(local[0])
    into_table = materialize if materialize is not None else not dataset
    database = str(workdir / "bill.duckdb") if into_table else ":memory:"
    con = connect(database, memory_limit=memory_limit, threads=threads, temp_dir=workdir / "spill")
    try:
        if dataset:
            marker = ds.read_marker(local[0])
            if not marker["periods"]:
                con.execute(canonical_create_sql(TABLE))
            elif into_table:
                table.create(con, TABLE, ds.scan_sql(local[0]), ds.money_types(marker))
            else:
                con.execute(f"CREATE VIEW {TABLE} AS {ds.scan_sql(local[0])}")
            return Bill(con, source=str(local[0]), workdir=workdir)
        deliveries = resolve(items, workdir, s3=s3_options)
        if not into_table:
            sql, sources = lazy_view_sql(con, deliveries, prefer=prefer)
            con.execute(f"CREATE VIEW {TABLE} AS {sql}")
            return Bill(con, source=", ".join(str(p) for p in items), workdir=workdir, lazy_sources=sources)
        parts = stage_parquet(con, deliveries, workdir / "staged", prefer=prefer)
        files = [f for period_files in parts.values() for f in period_files]
        if files:
            table.create(con, TABLE, ds.parts_scan_sql(files))
            shutil.rmtree(workdir / "staged", ignore_errors=True)  # the table holds the rows now
        else:
            con.execute(canonical_create_sql(TABLE))
        return Bill(con, source=", ".join(str(p) for p in items), workdir=workdir)
    except BaseException:
        con.close()
        shutil.rmtree(workdir, ignore_errors=True)
        raise


def _open_s3_dataset(
    url: str,
    options: S3Options | None,
    materialize: bool | None,
    memory_limit: str | None,
    threads: int | None,
) -> Bill:
    """A dataset in S3, opened as a local one: a view (or with `materialize`, a table) over its objects,
    downloaded into the local cache (`s3_dataset.py`)."""
    from awscost.billing import s3_dataset

    marker, files = s3_dataset.open_dataset(url, options)
    workdir = Path(tempfile.mkdtemp(prefix="awscost-bill-"))
    database = str(workdir / "bill.duckdb") if materialize else ":memory:"
    con = connect(database, memory_limit=memory_limit, threads=threads, temp_dir=workdir / "spill")
    try:
        if not files:
            con.execute(canonical_create_sql(TABLE))
        elif materialize:
            table.create(con, TABLE, ds.parts_scan_sql(files), ds.money_types(marker))
        else:
            con.execute(f"CREATE VIEW {TABLE} AS {ds.parts_scan_sql(files)}")
        return Bill(con, source=url, workdir=workdir)
    except BaseException:
        con.close()
        shutil.rmtree(workdir, ignore_errors=True)
        raise


def load_into(
    paths: Iterable[str | Path],
    into: str | Path,
    *,
    memory_limit: str | None = None,
    threads: int | None = None,
    on_file: Callable[[str, int, int], None] | None = None,
    prefer: str | None = None,
    s3_options: S3Options | None = None,
    on_unchanged: Callable[[str, str], None] | None = None,
) -> dict[str, Any]:
    """Load billing files into the dataset at `into` (created if absent; a directory, or `s3://bucket/prefix/`
    reached with `s3_options`), replacing the billing accounts' months they hold; a month held in another
    format (in the files or the dataset) is refused unless `prefer` names the format to keep. Atomic: on any
    error the previous dataset is left untouched. Returns the dataset marker (an S3 dataset's manifest).
    `on_file(name, number, total)` is called as each file starts (for a progress display).

    From `s3://` paths (read through `s3_options`, [billing.s3]) only the periods whose newest delivery the
    dataset does not hold yet are read (`on_unchanged(period, manifest URL)` names the others); the marker
    records each period's delivery. With nothing new, no data file is read and the dataset is left as it is."""
    items = _paths(paths)
    if not items:
        raise InputError("no billing files given", param="paths")
    if is_s3(into):
        return _load_into_s3(
            items, str(into), memory_limit, threads, on_file, prefer, s3_options, on_unchanged
        )
    into = Path(into)
    with ds.locked(into):  # one load at a time; what a killed load left is cleaned up first
        workdir = ds.work_dir(into)
        try:
            con = connect(memory_limit=memory_limit, threads=threads, temp_dir=workdir / "spill")
            try:
                staged = workdir / "staged"
                held = held_deliveries(into) if any(isinstance(p, str) for p in items) else None
                unchanged: list[str] = []

                def skip(period: str, manifest: str) -> None:
                    unchanged.append(period)
                    if on_unchanged is not None:
                        on_unchanged(period, manifest)

                deliveries = resolve(
                    items, workdir, s3=s3_options, held=held, transient=True, on_unchanged=skip
                )
                if not deliveries and unchanged:  # nothing new: the dataset stays as it is
                    return ds.read_marker(into)
                parts = stage_parquet(con, deliveries, staged, on_file, prefer=prefer, amortize_fees=False)
                records = {d.period: d.record for d in deliveries if d.period and d.record}
                return ds.write_dataset(con, parts, into, prefer=prefer, deliveries=records)
            finally:
                con.close()
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


def _load_into_s3(
    items: list[Path | str],
    into: str,
    memory_limit: str | None,
    threads: int | None,
    on_file: Callable[[str, int, int], None] | None,
    prefer: str | None,
    options: S3Options | None,
    on_unchanged: Callable[[str, str], None] | None,
) -> dict[str, Any]:
    """`load_into` a dataset in S3: no lock (S3 conditional writes guard the manifest instead), scratch in a
    temporary directory; incremental from S3 deliveries as a local dataset is (the manifest keeps each
    period's delivery)."""
    from awscost.billing.s3 import S3Location, client

    workdir = Path(tempfile.mkdtemp(prefix="awscost-s3load-"))
    try:
        con = connect(memory_limit=memory_limit, threads=threads, temp_dir=workdir / "spill")
        try:
            held = None
            if any(isinstance(p, str) for p in items):
                manifest, _ = s3_dataset.read_manifest(client(options), S3Location.parse(into, folder=True))
                held = deliveries_of(manifest)
            unchanged: list[str] = []

            def skip(period: str, url: str) -> None:
                unchanged.append(period)
                if on_unchanged is not None:
                    on_unchanged(period, url)

            deliveries = resolve(items, workdir, s3=options, held=held, transient=True, on_unchanged=skip)
            if not deliveries and unchanged:  # nothing new: the dataset stays as it is
                return manifest or {}
            parts = stage_parquet(
                con, deliveries, workdir / "staged", on_file, prefer=prefer, amortize_fees=False
            )
            records = {d.period: d.record for d in deliveries if d.period and d.record}
            return s3_dataset.write_dataset(
                con,
                parts,
                into,
                workdir,
                options=options,
                prefer=prefer,
                period_info=ds.with_deliveries(None, records),
            )
        finally:
            con.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        # The previous objects of the periods it replaced are superseded; in Lambda, /tmp keeps no pile of them.
        s3_dataset.prune_cache()
