"""The bill analyses, written once for every engine: `Analyses`, the base of each engine's bill.

Each analysis builds one SQL query in DuckDB's dialect over the table `billing` (canonical columns, every
value a literal, a user's filter a checked tree: `filters.py`) and hands it to `_query`, which renders it for
the bill's engine (`portable.py`) and runs it there: `Bill` (DuckDB, bill.py), `SparkBill` (spark.py),
`AthenaBill` (athena.py). An analysis that needs two questions (month over month: which periods, how many days
of the last) asks both through `_query`, so nothing here knows which engine answers.

Every ORDER BY ends in the group's keys, so two engines give the same rows in the same order (ties of cost
would otherwise come back in any order).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from typing import TYPE_CHECKING, Any

from awscost.billing.filters import where_sql
from awscost.billing.frame import Frame, plain
from awscost.billing.portable import render
from awscost.billing.readers._sql import lit, quote
from awscost.billing.schema import CANONICAL, METRICS
from awscost.core.errors import InputError

if TYPE_CHECKING:
    import pyarrow as pa

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


class Analyses:
    """The analyses of a bill; a subclass says its `engine` and runs rendered SQL in `_run`."""

    engine = "duckdb"
    source = ""
    table: str | None = None  # the engine's own name for the table `billing` (Athena's), if another

    def _run(self, query: str, written: str) -> Frame:
        """Run `query` (rendered for `self.engine` from `written`, the DuckDB-dialect text)."""
        raise NotImplementedError

    def _query(self, query: str) -> Frame:
        return self._run(render(query, self.engine, self.table), query)

    def sql(self, query: str) -> Frame:
        """One SELECT over the table `billing` in DuckDB's dialect, whatever the engine (rendered for it).
        Only a query of that table, with functions sqlglot knows: on a shared engine (a Spark cluster,
        Athena's catalog) a user's text never changes anything, reads another table or a file, or calls
        into the JVM. (`Bill.sql`, on the caller's own DuckDB, takes any SQL.)"""
        import sqlglot
        from sqlglot import exp
        from sqlglot.errors import ParseError, TokenError

        try:
            trees = [t for t in sqlglot.parse(query, read="duckdb") if t is not None]
        except (ParseError, TokenError) as exc:
            raise InputError(f"not a query: {str(exc).strip().splitlines()[0]}", where="query") from None
        if len(trees) != 1 or not isinstance(trees[0], exp.Query):
            raise InputError(
                f"one SELECT, not {len(trees)} statement(s) of {', '.join(type(t).__name__ for t in trees)}",
                where="query",
                hint=f"the {self.engine} engine runs queries only",
            )
        (tree,) = trees
        # Of the table `billing` only: no other table of the catalog, no file, no table function; and no
        # function sqlglot does not know (Spark's reflect / java_method call any Java static method).
        ctes = {cte.alias for cte in tree.find_all(exp.CTE)}
        for table in tree.find_all(exp.Table):
            plain_name = isinstance(table.this, exp.Identifier) and not table.db and not table.catalog
            if not plain_name or table.name not in {TABLE, *ctes}:
                raise InputError(
                    f"a query of the table {TABLE} only, not {table.sql('duckdb')!r}", where="query"
                )
        for func in tree.find_all(exp.Func):
            if isinstance(func, exp.Anonymous) or type(func).__name__.startswith("Read"):
                raise InputError(f"function not allowed here: {func.sql('duckdb')[:80]!r}", where="query")
        return self._query(query)

    def arrow(self, query: str) -> pa.Table:
        """The rows of `query` (DuckDB's dialect) as a pyarrow Table, for a result too large for Python
        rows (the cost cube's scan: hundreds of thousands of groups). An engine that speaks Arrow hands it
        over as is (Spark); the others' Frame is converted."""
        return self._query(query).to_arrow()

    def close(self) -> None:
        """Release what the bill holds (a subclass's connection, files)."""

    def __enter__(self) -> Analyses:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def periods(self) -> list[str]:
        frame = self._query(f"SELECT DISTINCT x_BillingPeriod FROM {TABLE} ORDER BY 1")
        return [str(r[0]) for r in frame.rows if r[0] is not None]

    def rows(self) -> int:
        frame = self._query(f"SELECT count(*) AS n FROM {TABLE}")
        return int(frame.rows[0][0]) if frame.rows else 0

    def usage_until(self) -> datetime | None:
        """The end of the last hour (or day) the bill's charges cover, monthly charges aside (a monthly fee
        ends at the month's end whatever day the bill was delivered): the report's "as of"."""
        # Bounded to the last period and the one before (where the last hours of usage are), so Athena and
        # Spark read two periods' partitions rather than the whole history.
        periods = self.periods()
        if not periods:
            return None
        floor = f"x_BillingPeriod >= {lit(_previous_month(periods[-1]))}"
        frame = self._query(
            f"SELECT max(ChargePeriodEnd) AS last_end FROM {TABLE} WHERE {floor} AND {WITHIN_A_DAY}"
        )
        value = frame.rows[0][0] if frame.rows else None
        return value if isinstance(value, datetime) else None

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
        keys = _with_currency(keys)
        select = ", ".join(f"{expr} AS {quote(alias)}" for expr, alias in keys)
        group = ", ".join(str(i + 1) for i in range(len(keys)))
        where = where_sql(where)  # parsed and checked: a filter is never spliced in as text
        filt = f"WHERE {where}" if where else ""
        # Largest first; ties in the order of the keys, so every engine gives the same row order.
        order = (
            ("1, " if granularity else "")
            + f"{quote(metric)} DESC"
            + "".join(f", {i + 1}" for i in range(1 if granularity else 0, len(keys)))
        )
        query = (
            f"SELECT {select}, sum({metric}) AS {quote(metric)} FROM {TABLE} {filt} "
            f"GROUP BY {group} ORDER BY {order}"
        )
        return _one_currency(self._query(query), asked=keys)

    def total(self, metric: str = "BilledCost", where: str | None = None) -> Decimal:
        """The sum of `metric`; refused when the rows are in more than one currency (never USD + EUR)."""
        metric = _metric(metric)
        where = where_sql(where)  # parsed and checked: a filter is never spliced in as text
        filt = f"WHERE {where}" if where else ""
        frame = self._query(
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
            return Frame(["Current"], [])
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
            prev_filter += f" AND ChargePeriodStart < {timestamp(prev_end)}"
            prev_label = _day_range(prev_start, prev_days)
            cur_label = _day_range(_month_start(current), days)
        keys = _with_currency([_dimension(col) for col in by])
        select = "".join(f"{expr} AS {quote(alias)}, " for expr, alias in keys)
        group = "GROUP BY " + ", ".join(str(i + 1) for i in range(len(keys))) if keys else ""
        prev_col, cur_col = quote(prev_label), quote(cur_label)
        tiebreak = "".join(f", {i + 1}" for i in range(len(keys)))
        # Named, not `*`: every engine's result then says its columns (Athena's come back lower-cased and
        # are given their names again from this list: portable.select_names).
        inner_columns = ", ".join([*(quote(alias) for _, alias in keys), prev_col, cur_col])
        inner = (
            f"SELECT {select}"
            f"COALESCE(sum({metric}) FILTER (WHERE {prev_filter}), 0) AS {prev_col}, "
            f"COALESCE(sum({metric}) FILTER (WHERE x_BillingPeriod = {lit(current)}), 0) AS {cur_col} "
            f"FROM {TABLE} WHERE x_BillingPeriod IN ({lit(previous)}, {lit(current)}) {group}"
        )
        query = (
            f"SELECT {inner_columns}, {cur_col} - {prev_col} AS Change "
            f"FROM ({inner}) AS periods ORDER BY abs(Change) DESC{tiebreak}"
        )
        frame = self._query(query)
        frame = frame.with_column(
            "ChangePct",
            [
                percent(change, before)
                for before, change in zip(frame.column(prev_label), frame.column("Change"), strict=True)
            ],
        )
        frame = _one_currency(frame, asked=keys)
        frame.attrs["comparison"] = {
            "like_for_like": days is not None,
            "previous": {"period": previous, "label": prev_label},
            "current": {"period": current, "label": cur_label},
        }
        return frame

    def _days_held(self, period: str) -> int | None:
        """How many days (1..N, the last perhaps partial) of `period` the bill holds, or None when it holds
        the whole month. Measured on hourly or daily Usage rows: a monthly fee, tax line or monthly usage
        charge (a hosted zone, a support plan) spans the month from its first day whatever has been
        delivered; a period without such rows falls back to all its rows."""
        ends = self._query(
            f"SELECT max(ChargePeriodEnd) FILTER (WHERE ChargeCategory = 'Usage' AND {WITHIN_A_DAY}) "
            "AS usage_end, "
            f"max(ChargePeriodEnd) AS any_end FROM {TABLE} WHERE x_BillingPeriod = {lit(period)}"
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
            self._query(
                # max, not any_value: a resource with two usage types (a table's reads and writes) must
                # name the same one on every engine and every run.
                "SELECT ResourceId, max(SubAccountId) AS SubAccountId, max(ServiceName) AS "
                "ServiceName, "
                f"max(x_UsageType) AS UsageType, sum({metric}) AS {quote(metric)}, BillingCurrency "
                f"FROM {TABLE} WHERE ResourceId IS NOT NULL {filt} GROUP BY ResourceId, BillingCurrency "
                f"ORDER BY 5 DESC, 1, 6 LIMIT {int(n)}"
            )
        )

    def credits_refunds_tax(self) -> Frame:
        """Credits, refunds, tax and other adjustments apart from usage, per period, account and kind."""
        kind = CHARGE_KIND
        return _one_currency(
            self._query(
                f"SELECT x_BillingPeriod AS BillingPeriod, SubAccountId, {kind} AS Kind, ServiceName, "
                f"count(*) AS Lines, sum(BilledCost) AS BilledCost, BillingCurrency FROM {TABLE} "
                f"WHERE {ADJUSTMENT} GROUP BY 1, 2, 3, 4, 7 ORDER BY 1, 2, 3, 6, 4, 7"
            )
        )

    def tag_coverage(self, tag_key: str = DEFAULT_TAG, metric: str = "EffectiveCost") -> Frame:
        """Share of usage cost whose resources carry a non-empty value for `tag_key`, per account.

        `CoverageShare` is the 0-1 ratio TaggedCost / TotalCost as a Decimal, divided in Python at 28
        significant digits (DuckDB would divide DECIMALs in DOUBLE); None when the total is zero. A front end
        may show it as a percentage; machine formats carry the ratio."""
        metric = _metric(metric)
        tagged = f"NULLIF(TRIM({tag_value(tag_key)}), '') IS NOT NULL"
        frame = self._query(
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
            self._query(
                "SELECT ResourceId, max(SubAccountId) AS SubAccountId, max(ServiceName) AS "
                "ServiceName, "
                f"sum({metric}) AS {quote(metric)}, BillingCurrency FROM {TABLE} WHERE ChargeCategory = 'Usage' "
                "AND ResourceId IS NOT NULL "
                f"AND NULLIF(TRIM({tag_value(tag_key)}), '') IS NULL "
                f"GROUP BY 1, 5 ORDER BY 4 DESC, 1, 5 LIMIT {int(n)}"
            )
        )

    def daily_costs(
        self, *, start: date | None = None, end: date | None = None, metric: str = "EffectiveCost"
    ) -> Frame:
        """Cost per UTC day, account and service: the anomaly detector's series (anomalies/bill.py). Usage
        and purchases only: credits, refunds and tax follow the usage they belong to and are the report's
        adjustments, not a service's anomaly. `RecurringCost` is the part whose ChargeFrequency is
        Recurring or One-Time (a monthly fee on the 1st, an RI's recurring fee, an upfront purchase), which
        the detector leaves out of the score. Days [start, end)."""
        metric = _metric(metric)
        recurring = "ChargeFrequency IN ('Recurring', 'One-Time')"
        bounds = _day_bounds(start, end)
        return self._query(
            "SELECT CAST(ChargePeriodStart AS DATE) AS Day, SubAccountId, "
            "COALESCE(ServiceName, x_ProductCode, 'Unknown') AS ServiceName, BillingCurrency, "
            f"sum({metric}) AS Cost, COALESCE(sum({metric}) FILTER (WHERE {recurring}), 0) AS RecurringCost "
            f"FROM {TABLE} WHERE ChargeCategory IN ('Usage', 'Purchase') AND NOT {ADJUSTMENT}"
            f"{''.join(f' AND {b}' for b in bounds)} GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
        )

    def cost_drivers(
        self,
        account_id: str,
        service: str,
        window: tuple[date, date],
        before: tuple[date, date],
        dimension: str = "usage",
        metric: str = "EffectiveCost",
    ) -> Frame:
        """What a change of one account's service cost is made of: per value of `dimension` ("usage": usage
        type x region x instance type; "Tags.KEY": a tag's values), its cost in the days `window` and in
        the days `before` (each [start, end)), the hours of usage in each (ConsumedQuantity of hourly
        units: instance-hours) and on the window's last day, the hours it was charged in (`*Span`), and its
        first charge in the window. The anomaly's explanation is made of
        it (anomalies/explain.py); the per-day deltas are the caller's arithmetic."""
        metric = _metric(metric)
        if dimension == "usage":
            keys = "x_UsageType AS UsageType, RegionId, x_InstanceType AS InstanceType"
            group = "1, 2, 3"
        else:
            expr, alias = _dimension(dimension)
            keys, group = f"{expr} AS {quote(alias)}", "1"
        in_window = (
            f"ChargePeriodStart >= {timestamp(window[0])} AND ChargePeriodStart < {timestamp(window[1])}"
        )
        in_before = (
            f"ChargePeriodStart >= {timestamp(before[0])} AND ChargePeriodStart < {timestamp(before[1])}"
        )
        last = window[1] - timedelta(days=1)
        on_last = f"ChargePeriodStart >= {timestamp(last)} AND ChargePeriodStart < {timestamp(window[1])}"
        hours = "ConsumedUnit IN ('Hrs', 'Hours', 'Hour')"

        def span(name: str, within: str) -> str:
            # The hours the value was charged in: an hourly row's hour, a daily row's 24 (instance-hours
            # over it are the instances running, a cluster's 38 even on the day it started at 09:00).
            hourly = "ChargePeriodEnd <= ChargePeriodStart + INTERVAL 1 HOUR"
            return (
                f"count(DISTINCT CASE WHEN {within} AND {hourly} THEN ChargePeriodStart END) + 24 * "
                f"count(DISTINCT CASE WHEN {within} AND NOT ({hourly}) THEN ChargePeriodStart END) AS {name}"
            )

        service_is = f"COALESCE(ServiceName, x_ProductCode, 'Unknown') = {lit(service)}"
        return self._query(
            f"SELECT {keys}, "
            f"COALESCE(sum({metric}) FILTER (WHERE {in_window}), 0) AS WindowCost, "
            f"COALESCE(sum({metric}) FILTER (WHERE {in_before}), 0) AS BeforeCost, "
            f"COALESCE(sum(ConsumedQuantity) FILTER (WHERE {in_window} AND {hours}), 0) AS WindowHours, "
            f"COALESCE(sum(ConsumedQuantity) FILTER (WHERE {in_before} AND {hours}), 0) AS BeforeHours, "
            f"COALESCE(sum(ConsumedQuantity) FILTER (WHERE {on_last} AND {hours}), 0) AS LastDayHours, "
            f"{span('WindowSpan', in_window)}, {span('BeforeSpan', in_before)}, {span('LastDaySpan', on_last)}, "
            f"min(ChargePeriodStart) FILTER (WHERE {in_window}) AS FirstInWindow "
            f"FROM {TABLE} WHERE {period_floor(min(window[0], before[0]))} "
            f"AND SubAccountId = {lit(account_id)} AND {service_is} "
            f"AND ChargeCategory IN ('Usage', 'Purchase') AND NOT {ADJUSTMENT} "
            f"AND (({in_window}) OR ({in_before})) GROUP BY {group} ORDER BY {group}"
        )

    def commitments(
        self,
        *,
        start: date | None = None,
        end: date | None = None,
        by_account: bool = False,
        regions: Iterable[str] | None = None,
    ) -> Frame:
        """Per period: usage covered by RIs and Savings Plans and the on-demand usage a commitment could
        cover, unused commitment, coverage and utilization in percent. With `start`/`end` only the charges of
        those UTC days [start, end) count; `by_account` gives one row per SubAccountId and currency instead
        of per billing period (the currency column then always kept), for a report's period and scope;
        `regions` keeps the charges of those RegionIds alone (a Savings Plan's unused commitment has none).

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
        bounds = _day_bounds(start, end)
        if regions is not None:
            bounds.append(f"RegionId IN ({', '.join(lit(r) for r in sorted(regions)) or 'NULL'})")
        where = f"WHERE {' AND '.join(bounds)}" if bounds else ""
        group = "SubAccountId" if by_account else "x_BillingPeriod AS BillingPeriod"
        query = (
            f"SELECT {group}, BillingCurrency, "
            f"COALESCE(sum(EffectiveCost) FILTER (WHERE {used} AND NOT ({sp})), 0) AS ReservedCovered, "
            f"COALESCE(sum(EffectiveCost) FILTER (WHERE {used} AND {sp}), 0) AS SavingsPlanCovered, "
            f"COALESCE(sum(EffectiveCost) FILTER (WHERE {eligible}), 0) AS OnDemandEligible, "
            "COALESCE(sum(EffectiveCost) FILTER (WHERE CommitmentDiscountStatus = 'Unused'), 0) AS "
            "UnusedCommitment, "
            f"COALESCE(sum(ListCost) FILTER (WHERE {used}), 0) AS CoveredOnDemandCost, "
            f"COALESCE(sum(ListCost) FILTER (WHERE {eligible}), 0) AS UncoveredOnDemandCost "
            f"FROM {TABLE} {where} GROUP BY 1, 2 ORDER BY 1, 2"
        )
        frame = self._query(query)
        rows = list(frame)
        coverage = [
            percent(r["CoveredOnDemandCost"], r["CoveredOnDemandCost"] + r["UncoveredOnDemandCost"])
            for r in rows
        ]
        utilization = [
            percent(
                r["ReservedCovered"] + r["SavingsPlanCovered"],
                r["ReservedCovered"] + r["SavingsPlanCovered"] + r["UnusedCommitment"],
            )
            for r in rows
        ]
        frame = frame.with_column("CoveragePct", coverage).with_column("UtilizationPct", utilization)
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


# A charge of an hour or a day (not a monthly fee, whose end is the month's end whatever was delivered).
# Written as an addition, not a difference of timestamps: the three engines agree on TIMESTAMP + INTERVAL.
WITHIN_A_DAY = "ChargePeriodEnd <= ChargePeriodStart + INTERVAL 1 DAY"


def timestamp(value: date | datetime) -> str:
    """A naive-UTC TIMESTAMP literal (a date is its midnight), the same in every engine's dialect."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return f"TIMESTAMP {lit(value.replace(tzinfo=None).isoformat(sep=' '))}"


def _day_bounds(start: date | None, end: date | None) -> list[str]:
    """The conditions of the charges of the UTC days [start, end) (either open), the period floor first."""
    bounds = [period_floor(start), f"ChargePeriodStart >= {timestamp(start)}"] if start is not None else []
    return bounds + ([f"ChargePeriodStart < {timestamp(end)}"] if end is not None else [])


def percent(part: Any, whole: Any) -> float | None:
    """100 * part / whole rounded half up to 2 places, from the exact Decimals (None when whole is 0): in
    Python, once, so no engine's decimal division or double rounding can make 2.675 % 2.67 on one engine
    and 2.68 on another."""
    if part is None or whole is None or Decimal(whole) == 0:
        return None
    with localcontext(Context(prec=40)):
        value = Decimal(part) * 100 / Decimal(whole)
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _with_currency(keys: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The keys and the currency key, once (a `--by BillingCurrency` is the currency key already)."""
    return keys if any(alias == "BillingCurrency" for _, alias in keys) else [*keys, CURRENCY_KEY]


def period_floor(start: date) -> str:
    """The billing periods a charge starting on or after `start` can be in: from the month before its own
    (a billing period that does not start on the 1st, as another provider's in a FOCUS file may, is named by
    the month it starts in) to any later one (a credit or refund may be billed months after its usage). The
    dataset is partitioned by x_BillingPeriod, so Athena and Spark read only those periods' files instead of
    every month the dataset holds; DuckDB skips the older periods' row groups by their statistics."""
    floor = _previous_month(f"{start:%Y-%m}")
    return f"x_BillingPeriod >= {lit(floor)}"


def _share(part: Any, whole: Any) -> Decimal | None:
    """part / whole as an exact-as-possible Decimal (28 significant digits, whatever the caller's context)."""
    if whole is None or part is None or Decimal(whole) == 0:
        return None
    with localcontext(Context(prec=28)):
        return plain(Decimal(part) / Decimal(whole))


def _one_currency(frame: Frame, asked: list[tuple[str, str]] | None = None) -> Frame:
    """The frame without its currency column when it holds one currency, unless the caller grouped by it
    (`asked`: the keys, with CURRENCY_KEY itself where awscost added the currency)."""
    if asked and any(key is not CURRENCY_KEY and key[1] == "BillingCurrency" for key in asked):
        return frame
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
