"""`Bill`: a loaded bill (files or a dataset) as the DuckDB table `billing`, with the weekly FinOps analyses.

A materialized bill is a table in DuckDB's compressed storage (`table.py`); a one-shot bill or, by default, a
dataset is a view over the files. Every analysis, and `sql()`, returns a `Frame` (`frame.py`: columns and rows
of Python values; `.to_pandas()` / `.to_arrow()` for a notebook), so the command line never imports pandas.
Money columns of analyses hold exact `Decimal` values (summed in DECIMAL by DuckDB), so totals tie out to the
source to the last decimal; `Bill.to_pandas()` gives the raw rows with DuckDB's float conversion, for
plotting and ad-hoc work.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from awscost.billing import dataset as ds
from awscost.billing import s3_dataset, table

# The analyses' names, where callers have always found them (the job layer, the cube, the tests).
from awscost.billing.analyses import (  # noqa: F401
    COMMITMENT_CATEGORIES,
    COMMITMENT_USAGE,
    DEFAULT_TAG,
    TABLE,
    Analyses,
    commitment_usage_sql,
    tag_value,
)
from awscost.billing.engine import connect, lazy_view_sql
from awscost.billing.engine import materialize as stage_parquet
from awscost.billing.frame import Frame, plain
from awscost.billing.frame import plain as _plain  # noqa: F401
from awscost.billing.readers._sql import quote
from awscost.billing.s3 import S3Options, is_s3
from awscost.billing.schema import CANONICAL, TEXT, canonical_create_sql
from awscost.billing.sources import deliveries_of, held_deliveries, is_dataset, resolve
from awscost.core.errors import InputError

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

    from awscost.billing.s3 import S3Options
    from awscost.core.config import Settings


class Bill(Analyses):
    """A bill in DuckDB: `sql()` over table `billing`, `to_pandas()`, and the analyses (analyses.py)."""

    engine = "duckdb"

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
        rows = [tuple(plain(v) for v in row) for row in cur.fetchall()]
        return Frame(names, rows)

    def _run(self, query: str, written: str) -> Frame:
        return self._frame(query)

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


def open_for_engine(dataset: str | Path, settings: Settings) -> Bill:
    """The `duckdb` entry of billing/engines.py: a dataset (local, or in S3 through [billing.s3])."""
    s3_options = S3Options.from_settings(settings) if is_s3(dataset) else None
    return load(str(dataset) if is_s3(dataset) else Path(dataset), s3_options=s3_options)
