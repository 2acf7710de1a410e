"""The local billing dataset: parquet files partitioned by billing period, `DIR/x_BillingPeriod=YYYY-MM/`.

A load is atomic: the new dataset is built beside the old one (untouched periods hard-linked, new periods
written) and swapped in by rename, so a failure at any point leaves the previous dataset as it was.
Loading a billing account's month that the dataset already holds replaces it (CUR re-delivery), never appends;
the other accounts of that month stay. From another format it is refused unless `prefer` names the format to
keep (`overlaps.py`): the dataset holds each account's month once.

The marker `_awscost_billing.json` records per period its totals, the version of the readers that loaded it
(`READER_VERSION`: opening a dataset with older periods warns, naming them and how to reload), the format of
each billing account, the DBR upfront fees its rows state and the amortized shares it carries. The shares are
rows of their own, `amortized.parquet` in the period's folder, made again at each load from every fee the
dataset holds (`amortize.py`): a month loaded after (or before) the month of a purchase gets its share.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from awscost.billing import amortize
from awscost.billing.engine import parquet_options
from awscost.billing.overlaps import Held, accounts_sql, resolve_dataset
from awscost.billing.readers import READER_VERSION
from awscost.billing.readers._sql import lit, quote
from awscost.billing.schema import COLUMN_NAMES
from awscost.billing.sources import DATASET_MARKER, is_dataset
from awscost.billing.table import MONEY_FIELDS, fits_sql, types_from_fits, widest
from awscost.core.errors import AwsCostWarning, InputError

if TYPE_CHECKING:
    import duckdb

PARTITION = "x_BillingPeriod"
AMORTIZED_FILE = "amortized.parquet"  # a period's amortization rows, apart from the rows loaded
_NOT_AMORTIZED = f"x_LineItemType IS DISTINCT FROM {lit(amortize.AMORTIZED)}"


def _partition_dir(root: Path, period: str) -> Path:
    return root / f"{PARTITION}={period}"


def _load_marker(root: Path) -> dict[str, Any]:
    try:
        data = json.loads((root / DATASET_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"not a readable awscost billing dataset: {exc}", where=str(root)) from None
    if not isinstance(data, dict) or "periods" not in data:
        raise InputError("dataset marker is malformed", where=str(root / DATASET_MARKER))
    return data


def read_marker(root: Path) -> dict[str, Any]:
    """The marker of a dataset opened for reading. Periods loaded by older readers keep the numbers those
    gave: an AwsCostWarning names them, once, with the command that reloads them."""
    marker = _load_marker(root)
    stale = {
        p: info
        for p, info in marker["periods"].items()
        if isinstance(info, dict) and int(info.get("reader_version", 1)) < READER_VERSION
    }
    if stale:
        versions = sorted({int(info.get("reader_version", 1)) for info in stale.values()})
        files = sorted({str(f).split("!", 1)[0] for info in stale.values() for f in info.get("sources", [])})
        shown = " ".join(files[:5]) + (" ..." if len(files) > 5 else "") if files else "FILE..."
        warnings.warn(
            AwsCostWarning(
                f"{root}: billing period(s) {', '.join(sorted(stale))} were loaded by older readers (version "
                f"{', '.join(map(str, versions))}; now {READER_VERSION}) and keep their numbers; reload to apply: "
                f"awscost billing load {shown} --into {root}"
            ),
            stacklevel=2,
        )
    return marker


def period_stats(
    con: duckdb.DuckDBPyConnection, files: list[Path]
) -> tuple[int, str, str, list[str], dict[str, str]]:
    """Rows, BilledCost and EffectiveCost totals, source files (of the rows loaded, not of amortization rows),
    and the storage type each money column fits (see `table.py`), in one pass."""
    fits = ", ".join(fits_sql(c) for c in MONEY_FIELDS)
    row = con.execute(
        f"SELECT count(*), COALESCE(sum(BilledCost), 0), COALESCE(sum(EffectiveCost), 0), "
        f"list(DISTINCT x_SourceFile) FILTER (WHERE {_NOT_AMORTIZED}), {fits} FROM read_parquet({files_sql(files)})"
    ).fetchone()
    assert row is not None
    return (
        int(row[0]),
        str(row[1]),
        str(row[2]),
        sorted(str(f) for f in row[3] or []),
        types_from_fits(row[4:]),
    )


def _data_files(partition: Path) -> list[Path]:
    return sorted(f for f in partition.iterdir() if f.suffix == ".parquet" and f.name != AMORTIZED_FILE)


def _held(con: duckdb.DuckDBPyConnection, files: list[Path]) -> dict[str | None, tuple[str, str]]:
    """Billing account -> (format, a source file) of the rows loaded in `files`."""
    if not files:
        return {}
    rows = con.execute(
        f"SELECT BillingAccountId, min(x_SourceFormat), min(x_SourceFile) FROM read_parquet({files_sql(files)}) "
        f"WHERE {_NOT_AMORTIZED} GROUP BY 1"
    ).fetchall()
    return {(None if a is None else str(a)): (str(fmt), str(src)) for a, fmt, src in rows}


def _copy_rows(con: duckdb.DuckDBPyConnection, files: list[Path], where: str, target: Path) -> None:
    con.execute(
        f"COPY (SELECT * FROM read_parquet({files_sql(files)}) WHERE {where}) TO {lit(str(target))} "
        f"({parquet_options(con)})"
    )


def _link_partition(src: Path, dst: Path) -> None:
    dst.mkdir()
    for f in src.iterdir():
        try:
            os.link(f, dst / f.name)  # parquet files are never changed in place: a link is a copy
        except OSError:
            shutil.copy2(f, dst / f.name)


def write_dataset(
    con: duckdb.DuckDBPyConnection, parts: dict[str, list[Path]], into: Path, *, prefer: str | None = None
) -> dict[str, Any]:
    """Put the staged parquet `parts` (period -> files) into the dataset at `into`, replacing the billing
    accounts' months they hold (see the module's docstring for another format and `prefer`); returns the
    dataset marker."""
    into = into.resolve()
    if into.exists() and not is_dataset(into) and (not into.is_dir() or any(into.iterdir())):
        raise InputError(
            "exists and is not an awscost billing dataset; refusing to overwrite", where=str(into)
        )
    into.parent.mkdir(parents=True, exist_ok=True)
    old_periods: dict[str, Any] = _load_marker(into)["periods"] if is_dataset(into) else {}
    new_held = {period: _held(con, files) for period, files in parts.items()}
    old_held: dict[str, Held] = {
        period: _held(con, _data_files(_partition_dir(into, period)))
        for period in parts
        if period in old_periods
    }
    replaced, kept_out = resolve_dataset(old_held, new_held, prefer, str(into))
    tmp = Path(tempfile.mkdtemp(prefix=f".{into.name}.loading-", dir=into.parent))
    try:
        periods: dict[str, Any] = {}
        changed: set[str] = set()  # periods whose rows this load writes
        loaded_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for period, info in old_periods.items():
            if period not in parts:
                _link_partition(_partition_dir(into, period), _partition_dir(tmp, period))
                periods[period] = dict(info)
        for period, files in parts.items():
            new_accounts = set(new_held[period]) - kept_out.get(period, set())
            old_accounts = set(old_held.get(period, {})) - replaced.get(period, set())
            if not new_accounts:  # the dataset's rows are preferred for every account: the month stays
                _link_partition(_partition_dir(into, period), _partition_dir(tmp, period))
                periods[period] = dict(old_periods[period])
                continue
            part = _partition_dir(tmp, period)
            part.mkdir()
            if kept_out.get(period):
                _copy_rows(con, files, accounts_sql(new_accounts), part / "part-00000.parquet")
            else:
                for i, f in enumerate(files):
                    shutil.move(str(f), part / f"part-{i:05d}.parquet")
            version = READER_VERSION
            if old_accounts:  # other accounts of the month, loaded before, stay
                old_files = _data_files(_partition_dir(into, period))
                _copy_rows(
                    con,
                    old_files,
                    f"{accounts_sql(old_accounts)} AND {_NOT_AMORTIZED}",
                    part / "kept.parquet",
                )
                version = min(version, int(old_periods[period].get("reader_version", 1)))
            periods[period] = {"loaded_at": loaded_at, "reader_version": version}
            changed.add(period)
        _amortize(con, tmp, periods, changed)
        marker = {"version": 1, "periods": dict(sorted(periods.items()))}
        (tmp / DATASET_MARKER).write_text(json.dumps(marker, indent=2), encoding="utf-8")
        _swap(tmp, into)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return marker


def _amortize(con: duckdb.DuckDBPyConnection, root: Path, periods: dict[str, Any], changed: set[str]) -> None:
    """Record each period's billing accounts and DBR upfront fees (from its rows where the marker lacks them or
    the rows are new), then write every period's amortization rows that differ from what it carries, and the
    totals of the periods that changed."""
    for period, info in periods.items():
        files = _data_files(_partition_dir(root, period))
        if period in changed or not isinstance(info.get("accounts"), dict):
            info["accounts"] = {(a or ""): fmt for a, (fmt, _) in sorted(_held(con, files).items(), key=str)}
        if period in changed or not isinstance(info.get("upfront_fees"), list):
            loaded = f"SELECT * FROM read_parquet({files_sql(files)})"
            info["upfront_fees"] = [f.to_json() for f in amortize.read_fees(con, loaded)]
    fees = [amortize.UpfrontFee.from_json(f) for info in periods.values() for f in info["upfront_fees"]]
    covered = {
        (account or None, period)
        for period, info in periods.items()
        for account, fmt in info["accounts"].items()
        if fmt == "dbr"
    }
    plan = amortize.plan(fees, covered)
    for period, info in periods.items():
        shares = plan.get(period, [])
        carried = [[s.fee.key, format(s.amount, "f")] for s in shares]
        part = _partition_dir(root, period)
        if period not in changed and info.get("amortized", []) == carried:
            continue
        target = part / AMORTIZED_FILE
        # Unlinked, never written over: it may be a hard link to the dataset being replaced.
        target.unlink(missing_ok=True)
        amortization = amortize.rows_sql(shares)
        if amortization is not None:
            con.execute(f"COPY ({amortization}) TO {lit(str(target))} ({parquet_options(con)})")
        info["amortized"] = carried
        files = sorted(part.glob("*.parquet"))
        n, billed, effective, sources, types = period_stats(con, files)
        info.update(rows=n, BilledCost=billed, EffectiveCost=effective, sources=sources, money_types=types)
    for period, info in list(periods.items()):
        periods[period] = _ordered(info)


def _ordered(info: dict[str, Any]) -> dict[str, Any]:
    """The marker's keys in a fixed order, for people reading it."""
    first = ("rows", "BilledCost", "EffectiveCost", "sources", "loaded_at", "reader_version", "money_types")
    return {**{k: info[k] for k in first if k in info}, **{k: v for k, v in info.items() if k not in first}}


def _swap(new: Path, into: Path) -> None:
    if not into.exists():
        os.rename(new, into)
        return
    retired = into.parent / f".{into.name}.old-{uuid.uuid4().hex[:8]}"
    os.rename(into, retired)
    try:
        os.rename(new, into)
    except BaseException:
        os.rename(retired, into)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def money_types(marker: dict[str, Any]) -> dict[str, str] | None:
    """The money storage types for the whole dataset from its marker; None when a period was written
    before the marker recorded them (the caller then checks the data)."""
    periods = marker["periods"].values()
    if not all(isinstance(p, dict) and isinstance(p.get("money_types"), dict) for p in periods):
        return None
    return widest(p["money_types"] for p in periods)


def files_sql(files: list[Path]) -> str:
    return "[" + ", ".join(lit(str(f)) for f in files) + "]"


def scan_sql(root: Path) -> str:
    """A SELECT over the dataset's parquet files with the canonical column order."""
    return parts_scan_sql(str(root / f"{PARTITION}=*" / "*.parquet"))


def parts_scan_sql(pattern_or_files: str | list[Path]) -> str:
    """A SELECT with the canonical column order over canonical parquet files (each holds x_BillingPeriod;
    the `x_BillingPeriod=...` folder names are for people and other tools)."""
    src = lit(pattern_or_files) if isinstance(pattern_or_files, str) else files_sql(pattern_or_files)
    columns = ", ".join(quote(c) for c in COLUMN_NAMES)
    return f"SELECT {columns} FROM read_parquet({src}, hive_partitioning = false)"
