"""The engine's own copy of a loaded bill: table `billing` in a DuckDB database file in the bill's workdir.

Measured (1 M CUR lines, summary by two text columns, 2 cores; see benchmarks/bench_billing.py): DuckDB's
compressed storage (dictionary/FSST strings, bit-packed decimals, reached by a CHECKPOINT) groups text keys
about 3x faster than the parquet view and 4x faster than an in-memory table (in-memory tables are not
compressed, so every row's string is hashed). The file lives in the buffer pool up to the memory limit and
spills to disk beyond it, so a bill larger than memory still opens.

Money is DECIMAL(38,18) in the canonical schema (any scale a file can carry). When every value of a column
fits DECIMAL(18,10) exactly (at most 10 decimals, magnitude below 1e8: CUR and FOCUS costs) the table holds
that int64-backed type instead; DuckDB still sums it exactly (into DECIMAL(38,10), accumulating in 128 bits
where the sum could overflow 64), about twice as fast as 128-bit values. A column with any value that does
not fit keeps DECIMAL(38,18), so no value is ever rounded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from awscost.billing.readers._sql import lit, quote
from awscost.billing.schema import CANONICAL, METRICS, MONEY, TEXT

if TYPE_CHECKING:
    import duckdb

NARROW_MONEY = "DECIMAL(18,10)"
# Text columns with at most this many distinct values are stored as ENUM (see `enum_types`).
MAX_ENUM = 10_000
# Below this many rows every query is fast anyway and the ENUM passes would cost more than they save.
ENUM_MIN_ROWS = 65_536
# The cost columns, which every analysis sums. Quantities and unit prices keep DECIMAL(38,18): they are rarely
# summed, and a usage amount can well pass 1e8.
MONEY_FIELDS: tuple[str, ...] = METRICS


def fits_sql(column: str) -> str:
    """SQL aggregate: true when every value of `column` (DECIMAL(38,18)) is exactly representable as
    NARROW_MONEY: magnitude below 1e8, nothing beyond the 10th decimal (the remainder is exact decimal
    arithmetic). An empty column fits. Measured 7x faster than comparing with a TRY_CAST round trip."""
    c = quote(column)
    return f"COALESCE(max(abs({c})) < 100000000 AND bool_and({c} % 0.0000000001 = 0), true)"


def types_from_fits(fits: Iterable[object]) -> dict[str, str]:
    """Money column -> storage type from the results of `fits_sql` over MONEY_FIELDS, in that order."""
    return {c: MONEY if ok is False else NARROW_MONEY for c, ok in zip(MONEY_FIELDS, fits, strict=True)}


def money_types(con: duckdb.DuckDBPyConnection, select_sql: str) -> dict[str, str]:
    row = con.execute(f"SELECT {', '.join(fits_sql(c) for c in MONEY_FIELDS)} FROM ({select_sql})").fetchone()
    return types_from_fits(row or [None] * len(MONEY_FIELDS))


def widest(per_period: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """One type per money column for several periods: narrow only where every period is narrow."""
    out = dict.fromkeys(MONEY_FIELDS, NARROW_MONEY)
    for types in per_period:
        for column in MONEY_FIELDS:
            if types.get(column, MONEY) != NARROW_MONEY:
                out[column] = MONEY
    return out


def enum_types(con: duckdb.DuckDBPyConnection, table: str, select_sql: str) -> dict[str, str]:
    """An ENUM type (created in the database) for each text column with few distinct values: column -> type.

    Grouping by an ENUM is a perfect-hash aggregate over small integer codes, measured 2-3x faster than
    grouping by the dictionary-compressed strings. The members are sorted, so ORDER BY, min/max and range
    comparisons give the same answers as on VARCHAR; DuckDB compares an ENUM with any string (a value that is
    not a member just matches nothing) and string functions see the text, so queries read the same.
    One pass estimates every column's distinct count, then one small pass per kept column lists its values."""
    text = [c for c, t in CANONICAL.items() if t == TEXT]
    approx = con.execute(
        f"SELECT {', '.join(f'approx_count_distinct({quote(c)})' for c in text)} FROM ({select_sql})"
    ).fetchone()
    out: dict[str, str] = {}
    for column, estimate in zip(text, approx or [], strict=True):
        if not estimate or estimate > MAX_ENUM:
            continue
        c = quote(column)
        values = [
            r[0]
            for r in con.execute(
                f"SELECT DISTINCT {c} FROM ({select_sql}) WHERE {c} IS NOT NULL ORDER BY 1"
            ).fetchall()
        ]
        if not values or len(values) > MAX_ENUM:
            continue
        name = quote(f"{table}_{column}")
        con.execute(f"CREATE TYPE {name} AS ENUM ({', '.join(lit(str(v)) for v in values)})")
        out[column] = name
    return out


def create(
    con: duckdb.DuckDBPyConnection, table: str, select_sql: str, types: Mapping[str, str] | None = None
) -> dict[str, str]:
    """CREATE TABLE `table` from `select_sql` (canonical columns) with money in the narrowest exact type and
    low-cardinality text as ENUM, compressed; returns the money types used. `types` (e.g. from the dataset
    manifest) skips the money check."""
    money = dict(types) if types is not None else money_types(con, select_sql)
    chosen = dict(money)
    row = con.execute(f"SELECT count(*) >= {int(ENUM_MIN_ROWS)} FROM ({select_sql})").fetchone()
    if row and row[0]:
        chosen.update(enum_types(con, table, select_sql))
    items = ", ".join(
        f"CAST({quote(c)} AS {chosen[c]}) AS {quote(c)}" if c in chosen else quote(c) for c in CANONICAL
    )
    con.execute(f"CREATE TABLE {quote(table)} AS SELECT {items} FROM ({select_sql})")
    # Compression happens when row groups are checkpointed to the database file; until then they would stay
    # uncompressed in memory.
    con.execute("CHECKPOINT")
    return money
