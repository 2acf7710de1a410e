"""DuckDB: the columnar engine that streams bills into the canonical table.

Chosen after measuring (benchmarks/bench_billing.py, 1 M CUR lines on 2 cores): DuckDB streams CSV (plain,
gzip) and parquet in flat memory (~190 MB), casts text to DECIMAL exactly, names the row of a bad value,
spills past its memory limit and hands results to pandas/arrow; pandas needed 2.6 GB and 2.9x the time.
Every CSV is read by DuckDB's strict scan (`scan_sql`), in `load` and in one-shot queries alike, so both read
a file the same way: LF or CRLF line endings, header names with padding, and a row with fewer or more fields
than the header an error naming the file and line. (Polars' scanner, about 2x faster on gzip, pads a short
row with NULLs: its cost was silently dropped, so it is not used; pyarrow's, strict too, parses slower than
DuckDB's. Inflating gzip with ISA-L in a thread and handing DuckDB the bytes through a pipe was measured and
dropped: `load` of 1 M rows took 11.1 s that way against 7.2 s with DuckDB's own gzip.)
Settings come from the environment so a notebook or the benchmark can tune them:
AWSCOST_DUCKDB_MEMORY (default 256MB), AWSCOST_DUCKDB_THREADS (default: all cores).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from awscost.billing import amortize
from awscost.billing.crashpoint import crash_point
from awscost.billing.overlaps import Coverage, Key, check_prefer, keys_sql, resolve_files
from awscost.billing.readers import Projection, Reader, detect_reader
from awscost.billing.readers._sql import Cols, lit, quote
from awscost.billing.readers.dbr import SIGN_UP
from awscost.billing.schema import MONEY
from awscost.billing.sources import Delivery, SourceFile, csv_header
from awscost.core.errors import AwsCostWarning, InputError

if TYPE_CHECKING:
    import duckdb

DEFAULT_MEMORY = "256MB"
_UNITS = {
    "bytes": 1,
    "KiB": 2**10,
    "MiB": 2**20,
    "GiB": 2**30,
    "TiB": 2**40,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
}


def parquet_options(con: duckdb.DuckDBPyConnection) -> str:
    """Parquet COPY options. A row group is buffered whole before it is written, so its size in bytes is
    bounded by the memory limit (an eighth of it, at most 32 MiB): memory stays flat whatever the file size."""
    row = con.execute("SELECT current_setting('memory_limit')").fetchone()
    limit = 2**30
    m = re.match(r"([\d.]+)\s*(\w+)", str(row[0]) if row else "")
    if m and m.group(2) in _UNITS:
        limit = int(float(m.group(1)) * _UNITS[m.group(2)])
    group_bytes = max(2**20, min(32 * 2**20, limit // 8))
    return f"FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880, ROW_GROUP_SIZE_BYTES {group_bytes}"


PERIOD = re.compile(r"^\d{4}-\d{2}$")


def connect(
    database: str = ":memory:",
    *,
    memory_limit: str | None = None,
    threads: int | None = None,
    temp_dir: Path | None = None,
) -> duckdb.DuckDBPyConnection:
    import duckdb

    con = duckdb.connect(database)
    con.execute("SET TimeZone = 'UTC'")
    # In Jupyter DuckDB refuses any progress-bar setting without ipywidgets; the bar is off there anyway.
    with contextlib.suppress(duckdb.Error):
        con.execute("SET enable_progress_bar = false")
    con.execute(
        f"SET memory_limit = {lit(memory_limit or os.environ.get('AWSCOST_DUCKDB_MEMORY', DEFAULT_MEMORY))}"
    )
    n_threads = threads or int(os.environ.get("AWSCOST_DUCKDB_THREADS", "0") or 0)
    if n_threads:
        con.execute(f"SET threads = {int(n_threads)}")
    # Row order is meaningless in a bill; not keeping it lets DuckDB stream and spill with less memory.
    con.execute("SET preserve_insertion_order = false")
    # Dataset files never change in place (a load swaps in new files), so their footers can be cached.
    con.execute("SET parquet_metadata_cache = true")
    spill_to_tmp(con, temp_dir)
    return con


def spill_to_tmp(con: duckdb.DuckDBPyConnection, folder: Path | None = None) -> None:
    """Let `con` spill into `folder`, else `awscost-duckdb` in the temporary directory (/tmp in Lambda): an
    in-memory DuckDB spills into `.tmp` of the working directory by default, which in Lambda is /var/task,
    read-only. Every awscost DuckDB connection is set so (the containers' and the cube's too)."""
    spill = folder or Path(tempfile.gettempdir()) / "awscost-duckdb"
    spill.mkdir(parents=True, exist_ok=True)
    con.execute(f"SET temp_directory = {lit(str(spill))}")


def scan_sql(source: SourceFile, reader: Reader | None = None, columns: list[str] | None = None) -> str:
    path = lit(str(source.path))
    if source.kind == "parquet":
        return f"read_parquet({path})"
    nulls = ", ".join(lit(s) for s in (reader.null_strings if reader else ("",)))
    # The dialect is fixed and the columns named from the header we read ourselves: DuckDB's sniffer, left to
    # guess, can take a bill with one ragged row for a one-column file and load nothing without an error.
    names = columns if columns is not None else csv_header(source)
    spec = ", ".join(f"{lit(c)}: 'VARCHAR'" for c in names)
    return (
        f"read_csv({path}, header = true, auto_detect = false, columns = {{{spec}}}, delim = ',', "
        f"quote = '\"', escape = '\"', nullstr = [{nulls}], compression = 'auto', strict_mode = true, "
        f"null_padding = false, max_line_size = 1048576, buffer_size = 4194304)"
    )


# Engine messages that mean one plain thing to a person holding the file.
_PLAIN = (
    (
        (
            "unexpected end of file",
            "unexpected end of gzip",
            "end-of-stream marker",
            "crc check",
            "invalid gzip",
            "not a gzipped file",
        ),
        "truncated or corrupt gzip data",
    ),
)


# DuckDB's strict CSV parser on a row whose field count differs from the header's.
_RAGGED = re.compile(r"CSV Error on Line: (\d+).*?Expected Number of Columns: (\d+) Found: (\d+)", re.S)
# ... and on a file that mixes line endings (LF and CRLF) or holds a stray CR; it names no line.
_STATE = "state machine reached an invalid state"


def _one_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    if not lines:
        return type(exc).__name__
    lowered = str(exc).lower()
    for needles, plain in _PLAIN:
        if any(n in lowered for n in needles):
            return plain
    ragged = _RAGGED.search(str(exc))
    if ragged:
        line, expected, found = ragged.groups()
        return f"line {line}: {found} fields where the header has {expected} (a ragged row)"
    if _STATE in lowered:
        return (
            "not one consistent CSV dialect: mixed line endings (LF and CRLF), a stray carriage return or "
            "an unbalanced quote"
        )
    text = lines[0]
    text += "".join(f"; {ln}" for ln in lines[1:] if ln.startswith("Expected Number"))
    return text[:400]


def source_columns(con: duckdb.DuckDBPyConnection, source: SourceFile) -> dict[str, str]:
    import duckdb

    if source.kind == "csv":
        return dict.fromkeys(csv_header(source), "VARCHAR")
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {scan_sql(source)}").fetchall()
    except duckdb.Error as exc:
        raise InputError(f"unreadable parquet file: {_one_line(exc)}", where=source.display) from None
    return {r[0]: r[1] for r in rows}


def project(con: duckdb.DuckDBPyConnection, source: SourceFile) -> tuple[Reader, Projection]:
    types = source_columns(con, source)
    reader = detect_reader(list(types), where=source.display)
    projection = reader.project(Cols(types), source_file=source.display, period_hint=source.period_hint)
    return reader, projection


def copy_source(
    con: duckdb.DuckDBPyConnection, source: SourceFile, out_dir: Path
) -> tuple[str, dict[str, list[Path]]]:
    """Stream one file, projected onto the canonical table, into parquet under `out_dir` (no table in memory:
    a file larger than memory loads); returns its format and billing period -> parquet files.

    One plain COPY per source keeps memory flat (DuckDB's PARTITION_BY writer buffers per partition and grows
    with the file); a file spanning several periods is split afterwards, from the parquet.
    A failure names the file, and for an unparseable number or date also the column, row and value."""
    import duckdb

    reader, projection = project(con, source)
    header = None if source.kind == "parquet" else csv_header(source)
    scan = scan_sql(source, reader, header)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "data.parquet"
    try:
        con.execute(f"COPY ({projection.select_sql(scan)}) TO {lit(str(target))} ({parquet_options(con)})")
    except duckdb.Error as exc:
        detail = _diagnose(con, scan, projection) if isinstance(exc, duckdb.ConversionException) else None
        raise InputError(
            detail or f"cannot read as {reader.name} bill: {_one_line(exc)}", where=source.display
        ) from None
    periods = [
        r[0] for r in con.execute(f"SELECT DISTINCT x_BillingPeriod FROM {lit(str(target))}").fetchall()
    ]
    if any(p is None or not PERIOD.match(str(p)) for p in periods):
        raise InputError(
            "rows without a billing period (no period start or charge period start)", where=source.display
        )
    if len(periods) <= 1:
        return reader.name, {str(p): [target] for p in periods}
    parts: dict[str, list[Path]] = {}
    for period in sorted(periods):
        part = out_dir / f"{period}.parquet"
        con.execute(
            f"COPY (SELECT * FROM {lit(str(target))} WHERE x_BillingPeriod = {lit(period)}) "
            f"TO {lit(str(part))} ({parquet_options(con)})"
        )
        parts[period] = [part]
    target.unlink()
    return reader.name, parts


def _diagnose(con: duckdb.DuckDBPyConnection, scan: str, projection: Projection) -> str | None:
    """The first value that does not parse, with its data row number (1 = the row after the header)."""
    con.execute("SET preserve_insertion_order = true")
    try:
        checks = [(c, f"TRY_CAST(TRIM(CAST(v AS VARCHAR)) AS {MONEY})", "number") for c in projection.numeric]
        checks += [
            (c, "TRY_CAST(CAST(v AS VARCHAR) AS TIMESTAMPTZ)", "date/time") for c in projection.timestamps
        ]
        for column, trial, what in checks:
            row = con.execute(
                f"SELECT rn, v FROM (SELECT row_number() OVER () AS rn, {quote(column)} AS v FROM {scan}) "
                f"WHERE v IS NOT NULL AND TRIM(CAST(v AS VARCHAR)) <> '' AND {trial} IS NULL LIMIT 1"
            ).fetchone()
            if row is not None:
                return f"row {row[0]}: column {column}: {row[1]!r} is not a valid {what}"
    except Exception:  # diagnosis is best effort; the caller still reports the original error
        return None
    finally:
        con.execute("SET preserve_insertion_order = false")
    return None


def materialize(
    con: duckdb.DuckDBPyConnection,
    deliveries: list[Delivery],
    workdir: Path,
    on_file: Callable[[str, int, int], None] | None = None,
    *,
    prefer: str | None = None,
    amortize_fees: bool = True,
) -> dict[str, list[Path]]:
    """Every delivery as canonical parquet files under `workdir`, grouped by billing period.

    A period delivered through a manifest is complete: loose files of its format leave that period out, and of
    several manifests for one period `sources.resolve` has kept only the newest. A billing account's month held
    in two formats is refused, or settled by `prefer` (`overlaps.py`). DBR upfront fees are amortized over the
    months given (`amortize.py`) unless `amortize_fees` is false (a load into a dataset amortizes over the
    dataset's months instead). `on_file(display name, number, total)` is called before each file (progress)."""
    check_prefer(prefer)
    staged: list[tuple[Coverage, dict[str, list[Path]]]] = []
    n = 0
    total = sum(len(d.files) for d in deliveries)
    for delivery in deliveries:
        for source in delivery.files:
            n += 1
            if on_file is not None:
                on_file(source.display, n, total)
            fmt, parts = copy_source(con, source, workdir / f"part-{n:05d}")
            crash_point(f"read-{n}")
            for period in parts:
                if delivery.manifest is not None and period != delivery.period:
                    raise InputError(
                        f"holds rows of period {period}, but its manifest is for {delivery.period}",
                        where=source.display,
                    )
            keys = _keys(con, [f for files in parts.values() for f in files])
            manifest_period = delivery.period if delivery.manifest is not None else None
            staged.append((Coverage(source.display, fmt, keys, manifest_period), parts))
    drops = resolve_files([c for c, _ in staged], prefer)
    merged: dict[str, list[Path]] = {}
    dbr_files: list[Path] = []  # what is kept of the DBR sources
    covered: set[Key] = set()  # the (billing account, period) pairs that DBR rows are kept for
    for (coverage, parts), drop in zip(staged, drops, strict=True):
        for period, files in parts.items():
            out = {k for k in drop if k[1] == period}
            if out:
                if not {k for k in coverage.keys if k[1] == period} - out:
                    continue
                kept = files[0].with_name(f"{period}-kept.parquet")
                con.execute(
                    f"COPY (SELECT * FROM read_parquet({_files_sql(files)}) WHERE NOT {keys_sql(out)}) "
                    f"TO {lit(str(kept))} ({parquet_options(con)})"
                )
                files = [kept]
            merged.setdefault(period, []).extend(files)
            if coverage.fmt == "dbr":
                dbr_files.extend(files)
        if coverage.fmt == "dbr":
            covered |= coverage.keys - drop
    if dbr_files:
        kept_rows = f"SELECT * FROM read_parquet({_files_sql(dbr_files)})"
        _warn(amortize.unamortized(con, kept_rows))
        if amortize_fees:
            for period, shares in amortize.plan(amortize.read_fees(con, kept_rows), covered).items():
                rows = amortize.rows_sql(shares)
                assert rows is not None
                target = workdir / f"amortized-{period}.parquet"
                con.execute(f"COPY ({rows}) TO {lit(str(target))} ({parquet_options(con)})")
                merged.setdefault(period, []).append(target)
    return dict(sorted(merged.items()))


def _files_sql(files: list[Path]) -> str:
    return "[" + ", ".join(lit(str(f)) for f in files) + "]"


def _keys(con: duckdb.DuckDBPyConnection, files: list[Path]) -> frozenset[Key]:
    if not files:
        return frozenset()
    rows = con.execute(
        f"SELECT DISTINCT BillingAccountId, x_BillingPeriod FROM read_parquet({_files_sql(files)})"
    ).fetchall()
    return frozenset((None if a is None else str(a), str(p)) for a, p in rows)


def _warn(lines: list[str]) -> None:
    for line in lines:
        warnings.warn(AwsCostWarning(line), stacklevel=3)


def lazy_view_sql(
    con: duckdb.DuckDBPyConnection, deliveries: list[Delivery], *, prefer: str | None = None
) -> tuple[str, list[tuple[SourceFile, str, Projection]]]:
    """One SELECT over every source, projected but not materialized: a one-shot query streams the files once
    and parses only the columns it needs, in flat memory. Returns the SQL and (source, scan, projection) for
    diagnosis. The scan is the one `load` uses (`scan_sql`): a ragged row fails the query, naming its line.

    Files of several formats are first read once each for the (billing account, period) pairs they hold, so
    that a month given twice is refused or settled by `prefer` (`overlaps.py`); DBR files also for their
    upfront fees, whose amortization rows (`amortize.py`) join the view. One format alone costs no extra pass."""
    check_prefer(prefer)
    items: list[tuple[Delivery, SourceFile, str, str]] = []
    sources: list[tuple[SourceFile, str, Projection]] = []
    for delivery in deliveries:
        for source in delivery.files:
            reader, projection = project(con, source)
            scan = scan_sql(source, reader, None if source.kind == "parquet" else csv_header(source))
            items.append((delivery, source, reader.name, projection.select_sql(scan)))
            sources.append((source, scan, projection))
    formats = {fmt for _, _, fmt, _ in items}
    excludes: list[str | None] = []
    covered: set[Key] = set()
    if len(formats) > 1 or "dbr" in formats:
        coverages = [
            Coverage(
                source.display,
                fmt,
                frozenset(
                    (None if a is None else str(a), str(p))
                    for a, p in _fetch(
                        con, f"SELECT DISTINCT BillingAccountId, x_BillingPeriod FROM ({sql})", sources
                    )
                ),
                delivery.period if delivery.manifest is not None else None,
            )
            for delivery, source, fmt, sql in items
        ]
        drops = resolve_files(coverages, prefer)
        excludes = [keys_sql(drop) if drop else None for drop in drops]
        covered = {
            k for c, drop in zip(coverages, drops, strict=True) if c.fmt == "dbr" for k in c.keys - drop
        }
    else:  # one format: a manifest's period leaves the loose files, as in `materialize`
        manifest_periods = sorted({d.period for d in deliveries if d.manifest is not None and d.period})
        periods = ", ".join(lit(p) for p in manifest_periods)
        excludes = [
            f"x_BillingPeriod IN ({periods})" if delivery.manifest is None and manifest_periods else None
            for delivery, _, _, _ in items
        ]
    selects = [
        f"SELECT * FROM ({sql}) WHERE NOT {exclude}" if exclude else sql
        for (_, _, _, sql), exclude in zip(items, excludes, strict=True)
    ]
    dbr = [sql for (_, _, fmt, _), sql in zip(items, selects, strict=True) if fmt == "dbr"]
    if dbr:
        signups = " UNION ALL ".join(f"({sql})" for sql in dbr)
        _fetch(
            con,
            "CREATE OR REPLACE TEMP TABLE __awscost_signups AS SELECT * FROM "
            f"({signups}) WHERE starts_with(ChargeDescription, {lit(SIGN_UP)})",
            sources,
        )
        _warn(amortize.unamortized(con, "SELECT * FROM __awscost_signups"))
        plan = amortize.plan(amortize.read_fees(con, "SELECT * FROM __awscost_signups"), covered)
        rows = amortize.rows_sql(share for shares in plan.values() for share in shares)
        if rows is not None:
            selects.append(rows)
    return " UNION ALL ".join(f"({s})" for s in selects), sources


def _fetch(
    con: duckdb.DuckDBPyConnection, sql: str, sources: list[tuple[SourceFile, str, Projection]]
) -> list[tuple]:
    """Run a query over the lazily projected files; bad data is told by file, row and value."""
    try:
        return con.execute(sql).fetchall()
    except Exception as exc:  # as in Bill._frame: the files are read now
        raise explain_failure(con, sources, exc) from None


def explain_failure(
    con: duckdb.DuckDBPyConnection, sources: list[tuple[SourceFile, str, Projection]], exc: BaseException
) -> InputError:
    """The InputError for a query over a lazy view that failed on bad data: which file, row and value."""
    for source, scan, projection in sources:
        detail = _diagnose(con, scan, projection)
        if detail:
            return InputError(detail, where=source.display)
    for source, scan, _ in sources:  # a file the parser cannot read (a ragged row): which one, and its line
        try:
            con.execute(f"SELECT count(*) FROM {scan}").fetchall()
        except Exception as parse_error:
            return InputError(f"cannot read the bill: {_one_line(parse_error)}", where=source.display)
    where = sources[0][0].display if len(sources) == 1 else "query"
    return InputError(f"cannot read the bill: {_one_line(exc)}", where=where)
