"""`CostCube`: a bill's cost by UTC day and every dimension a cost report drills into, built in one scan.

A report for twenty audiences asks the same bill a few hundred questions (totals, per account, per service,
daily trend, movers and their drill-down, tag coverage) for different scopes. Asking the bill each time would
scan it a few hundred times; the cube scans it once (`from_bill`) into a table grouped by

    Day, BillingCurrency, ProviderName, SubAccountId, ServiceName, ChargeKind, ChargeCategory,
    UsageType, RegionId, ResourceId, one column per tag key asked for

with exact DECIMAL sums of EffectiveCost and BilledCost, and every question below is a query of that small
table. Cost Explorer answers fill the same table (`from_rows`), without the dimensions it cannot give
(usage type, region and resource: `capabilities` says which are there), so a section is written once for
both sources. The SQL lives here, with the other analyses of the billing library; report sections call
these methods and hold none of their own.

`ChargeKind` keeps apart what is not usage: `Fee` (commitment purchases: RI fees, Savings Plan recurring
fees), `Tax`, `Credit`, `Refund`, `Adjustment`; `Usage` is the rest. Rows of providers other than AWS (a FOCUS
file may hold several) are answered only by `by_provider`, never in an AWS figure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from awscost.billing.frame import plain
from awscost.billing.readers._sql import lit, quote
from awscost.billing.schema import MONEY
from awscost.core.errors import InputError

if TYPE_CHECKING:
    import duckdb

    from awscost.billing.analyses import Analyses

TABLE = "cost_cube"
TAG_TABLE = "cost_cube_tags"  # Cost Explorer's tag answers: (day, account, tag value), without services
METRICS = ("EffectiveCost", "BilledCost")
AWS_PROVIDERS = ("AWS", "Amazon Web Services")
DIMENSIONS = ("SubAccountId", "ServiceName", "UsageType", "RegionId", "ResourceId")
# What a source may lack: Cost Explorer has no resource history beyond 14 days, and its two group-bys per
# query leave usage type and region out of the per-day, per-service answer.
OPTIONAL = frozenset({"UsageType", "RegionId", "ResourceId"})
CHARGE_KIND_SQL = (
    "CASE WHEN x_LineItemType = 'Refund' THEN 'Refund' WHEN x_LineItemType = 'Credit' THEN 'Credit' "
    "WHEN ChargeCategory = 'Purchase' THEN 'Fee' ELSE COALESCE(ChargeCategory, 'Usage') END"
)
APART = ("Fee", "Tax", "Credit", "Refund", "Adjustment")


@dataclass(frozen=True)
class Scope:
    """Which rows an audience may see: its accounts (None = all) and, per tag key, the values in scope; and
    the regions a viewer narrowed it to (None = all: an audience itself is never scoped by region)."""

    accounts: frozenset[str] | None = None
    tags: tuple[tuple[str, frozenset[str]], ...] = ()
    regions: frozenset[str] | None = None

    @classmethod
    def of(cls, accounts: Iterable[str] | None, tags: Mapping[str, Iterable[str]] | None = None) -> Scope:
        return cls(
            None if accounts is None else frozenset(accounts),
            tuple(sorted((k, frozenset(v)) for k, v in (tags or {}).items())),
        )

    @property
    def tag_keys(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.tags)


@dataclass(frozen=True)
class CostRow:
    """One row of a cube filled from another source than the bill (Cost Explorer)."""

    day: date
    currency: str
    account_id: str
    service: str | None
    effective: Decimal
    billed: Decimal
    charge_kind: str = "Usage"
    account_name: str | None = None
    provider: str = "AWS"
    usage_type: str | None = None
    region: str | None = None
    resource_id: str | None = None
    tags: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class TagRow:
    """Cost Explorer's usage cost per day, account and value of one tag key ("" = untagged)."""

    day: date
    currency: str
    account_id: str
    tag_key: str
    value: str
    effective: Decimal
    billed: Decimal


@dataclass(frozen=True)
class Change:
    """A group's cost in the period and in the previous period."""

    key: str | None
    currency: str
    cost: Decimal
    previous: Decimal

    @property
    def change(self) -> Decimal:
        return self.cost - self.previous

    @property
    def change_ratio(self) -> Decimal | None:
        return None if not self.previous else self.change / self.previous


@dataclass(frozen=True)
class Coverage:
    account_id: str | None  # None: the whole scope
    currency: str
    covered: Decimal
    total: Decimal

    @property
    def share(self) -> Decimal | None:
        return None if not self.total else self.covered / self.total


def _plain(value: Any) -> Decimal:
    """A DECIMAL sum without the trailing zeros of its scale (1.682309, not 1.682309000000000000)."""
    if value is None:
        return Decimal(0)
    # Not Decimal.normalize(): it writes 900 as 9E+2, and a report's JSON would carry "9E+2".
    result: Decimal = plain(Decimal(value))
    return result


def _metric(metric: str) -> str:
    if metric not in METRICS:
        raise InputError(f"unknown metric {metric!r}", param="metric", hint=", ".join(METRICS))
    return metric


class CostCube:
    """A cube table in a DuckDB connection, and the report's questions as methods."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        tag_columns: dict[str, str],
        capabilities: frozenset[str],
        source: str,
        start: date,
        end: date,
        owns_connection: bool = False,
        notes: Mapping[str, str] | None = None,
    ) -> None:
        self.con = con
        self.tag_columns = tag_columns  # tag key -> cube column
        self.capabilities = capabilities  # the OPTIONAL dimensions this source fills
        self.source = source
        self.start, self.end = start, end  # the days the cube was asked to hold
        self._owns = owns_connection
        # What the source says of a dimension (why it lacks one, how it named its values), for the sections.
        self.notes = dict(notes or {})

    def close(self) -> None:
        if self._owns:
            self.con.close()

    def __enter__(self) -> CostCube:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ building
    @classmethod
    def from_bill(cls, bill: Analyses, start: date, end: date, tag_keys: Iterable[str] = ()) -> CostCube:
        """Scan the bill once for the days [start, end) into the cube. The scan is one portable query
        (`scan_sql`): on DuckDB the cube is a temporary table on the bill's own connection; on another engine
        (Spark, Athena) the engine runs the scan and its rows, a few per day and dimension, fill a DuckDB
        table of their own, so every question of the report is then asked locally whatever scanned the bill."""
        from awscost.billing.bill import Bill

        keys = list(dict.fromkeys(tag_keys))
        tag_columns = {key: f"t{i}" for i, key in enumerate(keys)}
        scan = scan_sql(start, end, tag_columns)
        source = f"billing {bill.source}"
        if isinstance(bill, Bill):
            bill.con.execute(f"DROP TABLE IF EXISTS {TABLE}")
            bill.con.execute(f"CREATE TEMP TABLE {TABLE} AS {scan}")
            return cls(
                bill.con, tag_columns=tag_columns, capabilities=OPTIONAL, source=source, start=start, end=end
            )
        rows = bill.arrow(scan)  # an Arrow table: DuckDB inserts it in one statement, not row by row
        con = _cube_connection(tag_columns)
        try:
            if rows.num_rows:
                con.register("scanned_rows", rows)
                con.execute(f"INSERT INTO {TABLE} SELECT * FROM scanned_rows")
                con.unregister("scanned_rows")
        except BaseException:
            con.close()
            raise
        return cls(
            con,
            tag_columns=tag_columns,
            capabilities=OPTIONAL,
            source=f"{source} ({bill.engine})",
            start=start,
            end=end,
            owns_connection=True,
        )

    @classmethod
    def from_rows(
        cls,
        rows: Iterable[CostRow],
        *,
        start: date,
        end: date,
        source: str,
        tag_rows: Iterable[TagRow] = (),
        tag_keys: Iterable[str] = (),
        capabilities: Iterable[str] = (),
        as_of: datetime | None = None,
        notes: Mapping[str, str] | None = None,
    ) -> CostCube:
        """A cube of rows from another source (Cost Explorer), in a connection of its own; `notes` says, per
        dimension, what the source lacks or renamed."""
        keys = list(dict.fromkeys([*tag_keys, *(r.tag_key for r in tag_rows)]))
        tag_columns = {key: f"t{i}" for i, key in enumerate(keys)}
        con = _cube_connection(tag_columns)
        last = as_of.replace(tzinfo=None) if as_of is not None else None
        values = [
            (
                r.day,
                r.currency,
                r.provider,
                r.account_id,
                r.account_name,
                r.service,
                r.charge_kind,
                "Usage" if r.charge_kind == "Usage" else None,
                r.usage_type,
                r.region,
                r.resource_id,
                *(r.tags.get(key) for key in tag_columns),
                r.effective,
                r.billed,
                last,
            )
            for r in rows
        ]
        if values:
            marks = ", ".join("?" for _ in values[0])
            con.executemany(f"INSERT INTO {TABLE} VALUES ({marks})", values)
        tags = [
            (t.day, t.currency, t.account_id, t.tag_key, t.value, t.effective, t.billed) for t in tag_rows
        ]
        con.execute(
            f"CREATE TABLE {TAG_TABLE} (Day DATE, BillingCurrency VARCHAR, SubAccountId VARCHAR, "
            f"TagKey VARCHAR, TagValue VARCHAR, EffectiveCost {MONEY}, BilledCost {MONEY})"
        )
        if tags:
            con.executemany(f"INSERT INTO {TAG_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?)", tags)
        return cls(
            con,
            tag_columns=tag_columns,
            capabilities=frozenset(capabilities) & OPTIONAL,
            source=source,
            start=start,
            end=end,
            owns_connection=True,
            notes=notes,
        )

    # ------------------------------------------------------------------ plumbing
    def _where(
        self, scope: Scope, start: date, end: date, *, aws: bool = True, extra: str = ""
    ) -> tuple[str, list[Any]]:
        """The WHERE clause of a scope and a range of days, with its parameters (never spliced values)."""
        terms = ["Day >= ?", "Day < ?"]
        params: list[Any] = [start, end]
        if aws:
            terms.append(f"ProviderName IN ({', '.join('?' for _ in AWS_PROVIDERS)})")
            params += AWS_PROVIDERS
        if scope.accounts is not None:
            if not scope.accounts:
                terms.append("FALSE")
            else:
                terms.append(f"SubAccountId IN ({', '.join('?' for _ in scope.accounts)})")
                params += sorted(scope.accounts)
        for key, values in scope.tags:
            column = self._tag_column(key)
            terms.append(f"{column} IN ({', '.join('?' for _ in values)})")
            params += sorted(values)
        if scope.regions is not None:
            self._check_regions()
            terms.append(f"RegionId IN ({', '.join('?' for _ in scope.regions) or 'NULL'})")
            params += sorted(scope.regions)
        if extra:
            terms.append(extra)
        return " AND ".join(terms), params

    def _check_regions(self) -> None:
        if not self.has("RegionId"):
            raise InputError(
                f"{self.source} gives no cost per region, so it cannot be narrowed to a region",
                param="regions",
                hint="ask the billing dataset (--source billing) for a region's figures",
            )

    def _tag_column(self, key: str) -> str:
        try:
            return self.tag_columns[key]
        except KeyError:
            raise InputError(
                f"the cube holds no tag {key!r}",
                param="tag_keys",
                hint="build it with the audiences' tag keys",
            ) from None

    def _rows(self, query: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        return self.con.execute(query, list(params)).fetchall()

    def has(self, dimension: str) -> bool:
        return dimension not in OPTIONAL or dimension in self.capabilities

    def note(self, dimension: str) -> str | None:
        """The source's word on `dimension`: why it has none, or how its values were named."""
        return self.notes.get(dimension)

    # ------------------------------------------------------------------ questions
    def as_of(self) -> datetime | None:
        """The end of the last hour the cube's rows cover (the bill's max ChargePeriodEnd)."""
        row = self.con.execute(f"SELECT max(LastEnd) FROM {TABLE}").fetchone()
        return row[0] if row and row[0] is not None else None

    def last_day(self) -> date | None:
        row = self.con.execute(f"SELECT max(Day) FROM {TABLE}").fetchone()
        return row[0] if row and row[0] is not None else None

    def first_day(self) -> date | None:
        row = self.con.execute(f"SELECT min(Day) FROM {TABLE}").fetchone()
        return row[0] if row and row[0] is not None else None

    def totals(self, scope: Scope, start: date, end: date, metric: str) -> dict[str, Decimal]:
        """AWS cost of the scope in [start, end) per currency."""
        where, params = self._where(scope, start, end)
        rows = self._rows(
            f"SELECT BillingCurrency, sum({_metric(metric)}) FROM {TABLE} WHERE {where} GROUP BY 1 ORDER BY 1",
            params,
        )
        return {str(c): _plain(v) for c, v in rows}

    def compare(
        self,
        dimension: str,
        scope: Scope,
        current: tuple[date, date],
        previous: tuple[date, date],
        metric: str,
        *,
        usage_only: bool = False,
        where_extra: dict[str, str | None] | None = None,
    ) -> list[Change]:
        """Cost per value of `dimension` (a DIMENSIONS name, `ChargeKind`, or `Tags.KEY`) in both periods,
        largest current cost first. `usage_only` leaves out what is kept apart (fees, tax, credits...);
        `where_extra` narrows to dimension values (a mover's drill-down)."""
        return self.compare_many(
            [dimension], scope, current, previous, metric, usage_only=usage_only, where_extra=where_extra
        )[dimension]

    def _dimension(self, dimension: str) -> str:
        if dimension.startswith("Tags."):
            return self._tag_column(dimension[5:])
        if dimension in ("ChargeKind", *DIMENSIONS):
            if not self.has(dimension):
                raise InputError(f"{self.source} has no {dimension} per day", param="dimension")
            return quote(dimension)
        raise InputError(f"unknown dimension {dimension!r}", param="dimension")

    def daily(self, scope: Scope, start: date, end: date, metric: str) -> list[tuple[date, str, Decimal]]:
        """AWS cost per day and currency in [start, end), days without rows left out."""
        where, params = self._where(scope, start, end)
        rows = self._rows(
            f"SELECT Day, BillingCurrency, sum({_metric(metric)}) FROM {TABLE} WHERE {where} "
            "GROUP BY 1, 2 ORDER BY 1, 2",
            params,
        )
        return [(d, str(c), _plain(v)) for d, c, v in rows]

    def coverage(
        self, tag_key: str, scope: Scope, start: date, end: date, metric: str, *, by_account: bool = True
    ) -> list[Coverage]:
        """Usage cost (ChargeCategory Usage) carrying a non-empty value of `tag_key`, per account (or for the
        whole scope), and the usage cost in all."""
        metric = _metric(metric)
        key = "SubAccountId" if by_account else "NULL"
        table, value, where, params = self._tagged_usage(tag_key, scope, start, end)
        query = (
            f"SELECT {key}, BillingCurrency, "
            f"COALESCE(sum({metric}) FILTER (WHERE {value} IS NOT NULL), 0), "
            f"sum({metric}) FROM {table} WHERE {where} GROUP BY 1, 2 ORDER BY 1 NULLS FIRST, 2"
        )
        rows = self._rows(query, params)
        return [Coverage(a, str(c), _plain(cov), _plain(tot)) for a, c, cov, tot in rows]

    def tag_values(
        self,
        tag_key: str,
        scope: Scope,
        current: tuple[date, date],
        previous: tuple[date, date],
        metric: str,
    ) -> list[Change]:
        """Usage cost (ChargeCategory Usage, as `coverage` counts it) per value of `tag_key` in both periods,
        largest current cost first; key None: no value (untagged). The values add up to coverage's total."""
        metric = _metric(metric)
        lo, hi = min(current[0], previous[0]), max(current[1], previous[1])
        table, value, where, params = self._tagged_usage(tag_key, scope, lo, hi)
        query = (
            f"SELECT {value}, BillingCurrency, "
            f"COALESCE(sum({metric}) FILTER (WHERE Day >= ? AND Day < ?), 0), "
            f"COALESCE(sum({metric}) FILTER (WHERE Day >= ? AND Day < ?), 0) "
            f"FROM {table} WHERE {where} GROUP BY 1, 2"
        )
        rows = self._rows(query, [*current, *previous, *params])
        out = [Change(v, str(c), _plain(now), _plain(before)) for v, c, now, before in rows]
        out.sort(key=_largest_first)
        return out

    def _tagged_usage(
        self, tag_key: str, scope: Scope, start: date, end: date
    ) -> tuple[str, str, str, list[Any]]:
        """Where the usage cost by value of `tag_key` is: (table, the value's SQL, NULL for none; WHERE, its
        parameters): the cube's rows, or Cost Explorer's per-tag answers."""
        if tag_key in self.tag_columns and not self._tag_answers(tag_key):
            col = self.tag_columns[tag_key]
            where, params = self._where(scope, start, end, extra="ChargeCategory = 'Usage'")
            return TABLE, f"NULLIF(TRIM({col}), '')", where, params
        # Cost Explorer's per-tag answer; it cannot be narrowed by other tags than its own.
        if scope.tags and any(k != tag_key for k in scope.tag_keys):
            raise InputError(
                f"{self.source} cannot measure {tag_key!r} within other tag filters", param="tag_key"
            )
        if scope.regions is not None:
            raise InputError(f"{self.source} gives {tag_key!r} per account, not per region", param="regions")
        terms = ["Day >= ?", "Day < ?", "TagKey = ?"]
        params = [start, end, tag_key]
        if scope.accounts is not None:
            terms.append(f"SubAccountId IN ({', '.join('?' for _ in scope.accounts) or 'NULL'})")
            params += sorted(scope.accounts)
        return TAG_TABLE, "NULLIF(TagValue, '')", " AND ".join(terms), params

    def _tag_answers(self, tag_key: str) -> bool:
        """Whether the tag's values come from Cost Explorer's per-tag table rather than the cube's rows."""
        exists = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [TAG_TABLE]
        ).fetchone()
        if not exists or not exists[0]:
            return False
        row = self.con.execute(f"SELECT count(*) FROM {TAG_TABLE} WHERE TagKey = ?", [tag_key]).fetchone()
        return bool(row and row[0])

    def untagged(
        self, tag_key: str, scope: Scope, start: date, end: date, metric: str, n: int = 10
    ) -> list[tuple[str, str | None, str | None, str, Decimal]]:
        """The largest usage resources without a value of `tag_key`: (resource, account, service, currency,
        cost)."""
        if not self.has("ResourceId"):
            return []
        metric = _metric(metric)
        col = self._tag_column(tag_key)
        where, params = self._where(
            scope,
            start,
            end,
            extra=f"ChargeCategory = 'Usage' AND ResourceId IS NOT NULL AND NULLIF(TRIM({col}), '') IS NULL",
        )
        rows = self._rows(
            f"SELECT ResourceId, any_value(SubAccountId), any_value(ServiceName), BillingCurrency, "
            f"sum({metric}) AS c FROM {TABLE} WHERE {where} GROUP BY 1, 4 ORDER BY c DESC, 1 LIMIT ?",
            [*params, int(n)],
        )
        return [(str(r), a, s, str(c), _plain(v)) for r, a, s, c, v in rows]

    def by_provider(
        self, scope: Scope, current: tuple[date, date], previous: tuple[date, date], metric: str
    ) -> list[Change]:
        """Cost of the providers other than AWS (a FOCUS file of several clouds), kept out of every AWS figure."""
        metric = _metric(metric)
        lo, hi = min(current[0], previous[0]), max(current[1], previous[1])
        where, params = self._where(
            scope,
            lo,
            hi,
            aws=False,
            extra=f"ProviderName NOT IN ({', '.join(lit(p) for p in AWS_PROVIDERS)})",
        )
        rows = self._rows(
            f"SELECT ProviderName, BillingCurrency, "
            f"COALESCE(sum({metric}) FILTER (WHERE Day >= ? AND Day < ?), 0), "
            f"COALESCE(sum({metric}) FILTER (WHERE Day >= ? AND Day < ?), 0) "
            f"FROM {TABLE} WHERE {where} GROUP BY 1, 2 ORDER BY 3 DESC, 1",
            [*current, *previous, *params],
        )
        return [Change(k, str(c), _plain(cur), _plain(prev)) for k, c, cur, prev in rows]

    def account_names(self) -> dict[str, str]:
        """The account names the source itself carries (the bill's SubAccountName)."""
        rows = self._rows(
            f"SELECT SubAccountId, max(SubAccountName) FROM {TABLE} WHERE SubAccountName IS NOT NULL "
            "GROUP BY 1",
            [],
        )
        return {str(a): str(n) for a, n in rows if a}

    def accounts(self, scope: Scope, start: date, end: date) -> set[str]:
        where, params = self._where(scope, start, end)
        return {
            str(a) for (a,) in self._rows(f"SELECT DISTINCT SubAccountId FROM {TABLE} WHERE {where}", params)
        }

    def rows(self) -> int:
        row = self.con.execute(f"SELECT count(*) FROM {TABLE}").fetchone()
        return int(row[0]) if row else 0

    def drill_down(
        self,
        scope: Scope,
        current: tuple[date, date],
        previous: tuple[date, date],
        metric: str,
        where: dict[str, str | None],
        dimensions: Iterable[str],
        currency: str,
    ) -> list[tuple[str, Change]]:
        """Why a group moved: for each dimension, the value that carries most of the group's change (in the
        direction of the change). The cost report's movers and, later, the anomaly detector explain with it."""
        asked = [
            d
            for d in dimensions
            if d not in where and (d[5:] in self.tag_columns if d.startswith("Tags.") else self.has(d))
        ]
        by_dimension = self.compare_many(
            [next(iter(where)), *asked], scope, current, previous, metric, usage_only=True, where_extra=where
        )
        delta = sum((c.change for c in by_dimension[next(iter(where))] if c.currency == currency), Decimal(0))
        out: list[tuple[str, Change]] = []
        for dimension in asked:
            changes = [c for c in by_dimension[dimension] if c.currency == currency]
            if not changes:
                continue
            best = max(changes, key=lambda c: c.change if delta >= 0 else -c.change)
            if best.change != 0:
                out.append((dimension, best))
        return out

    def compare_many(
        self,
        dimensions: Iterable[str],
        scope: Scope,
        current: tuple[date, date],
        previous: tuple[date, date],
        metric: str,
        *,
        usage_only: bool = False,
        where_extra: dict[str, str | None] | None = None,
    ) -> dict[str, list[Change]]:
        """`compare` of several dimensions in one scan (GROUPING SETS): a mover's drill-down asks five at
        once, and one query per dimension was most of a report's time per audience (bench_report)."""
        names = list(dict.fromkeys(dimensions))
        columns = [self._dimension(d) for d in names]
        metric = _metric(metric)
        extra = ["ChargeKind = 'Usage'"] if usage_only else []
        extra_params: list[Any] = []
        for dim, value in (where_extra or {}).items():
            col = self._dimension(dim)
            if value is None:
                extra.append(f"{col} IS NULL")
            else:
                extra.append(f"{col} = ?")
                extra_params.append(value)
        lo = min(current[0], previous[0])
        hi = max(current[1], previous[1])
        where, params = self._where(scope, lo, hi, extra=" AND ".join(extra))
        sets = ", ".join(f"({col}, BillingCurrency)" for col in columns)
        flags = ", ".join(f"GROUPING({col})" for col in columns)
        query = (
            f"SELECT {', '.join(columns)}, BillingCurrency, {flags}, "
            f"COALESCE(sum({metric}) FILTER (WHERE Day >= ? AND Day < ?), 0), "
            f"COALESCE(sum({metric}) FILTER (WHERE Day >= ? AND Day < ?), 0) "
            f"FROM {TABLE} WHERE {where} GROUP BY GROUPING SETS ({sets})"
        )
        n = len(columns)
        out: dict[str, list[Change]] = {d: [] for d in names}
        for row in self._rows(query, [*current, *previous, *params, *extra_params]):
            keys, currency, grouped = row[:n], row[n], row[n + 1 : 2 * n + 1]
            i = list(grouped).index(0)  # the one set the row belongs to (GROUPING = 0: grouped by it)
            out[names[i]].append(Change(keys[i], str(currency), _plain(row[-2]), _plain(row[-1])))
        for changes in out.values():  # compare's order: largest current cost first, then key, NULL last
            changes.sort(key=_largest_first)
        return out


def _largest_first(c: Change) -> tuple[Decimal, bool, str]:
    """compare's order: largest current cost first, then key, NULL last."""
    return (-c.cost, c.key is None, c.key or "")


def scan_sql(start: date, end: date, tag_columns: Mapping[str, str]) -> str:
    """The one scan of the bill a cube is built from (DuckDB's dialect, rendered per engine: portable.py):
    exact sums per UTC day and every dimension of `_cube_connection`'s table, in its column order."""
    from awscost.billing.analyses import TABLE as BILL
    from awscost.billing.analyses import WITHIN_A_DAY, period_floor, tag_value, timestamp

    tags_select = "".join(f", {tag_value(key)} AS {col}" for key, col in tag_columns.items())
    # Every selected column but the name (5: max, the same on every engine) and the sums: 1-4, 6-11, tags.
    groups = ", ".join(str(i) for i in range(1, 12 + len(tag_columns)) if i != 5)
    return (
        "SELECT CAST(ChargePeriodStart AS DATE) AS Day, BillingCurrency, "
        "COALESCE(ProviderName, 'AWS') AS ProviderName, SubAccountId, "
        "max(SubAccountName) AS SubAccountName, ServiceName, "
        f"{CHARGE_KIND_SQL} AS ChargeKind, ChargeCategory, x_UsageType AS UsageType, RegionId, "
        f"ResourceId{tags_select}, sum(EffectiveCost) AS EffectiveCost, sum(BilledCost) AS BilledCost, "
        # The last hour (or day) of usage the rows cover; a monthly fee's end is not what the bill covers.
        f"max(ChargePeriodEnd) FILTER (WHERE {WITHIN_A_DAY}) AS LastEnd "
        f"FROM {BILL} "
        f"WHERE {period_floor(start)} AND ChargePeriodStart >= {timestamp(start)} "
        f"AND ChargePeriodStart < {timestamp(end)} "
        f"GROUP BY {groups}"
    )


def _cube_connection(tag_columns: Mapping[str, str]) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection of the cube's own, with its empty table (filled from Cost Explorer or from
    another engine's scan)."""
    import duckdb

    from awscost.billing.engine import spill_to_tmp

    con = duckdb.connect()
    spill_to_tmp(con)
    tag_defs = "".join(f", {col} VARCHAR" for col in tag_columns.values())
    con.execute(
        f"CREATE TABLE {TABLE} (Day DATE, BillingCurrency VARCHAR, ProviderName VARCHAR, "
        "SubAccountId VARCHAR, SubAccountName VARCHAR, ServiceName VARCHAR, ChargeKind VARCHAR, "
        f"ChargeCategory VARCHAR, UsageType VARCHAR, RegionId VARCHAR, ResourceId VARCHAR{tag_defs}, "
        f"EffectiveCost {MONEY}, BilledCost {MONEY}, LastEnd TIMESTAMP)"
    )
    return con
