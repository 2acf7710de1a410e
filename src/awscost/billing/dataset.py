"""The local billing dataset: parquet files partitioned by billing period, `DIR/x_BillingPeriod=YYYY-MM/`.

A load is atomic: the new dataset is built beside the old one (untouched periods hard-linked, new periods
written) and swapped in by rename, so a failure at any point leaves the previous dataset as it was.
Loading a period that the dataset already holds replaces that period (CUR re-delivery), never appends.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from awscost.billing.readers._sql import lit, quote
from awscost.billing.schema import COLUMN_NAMES
from awscost.billing.sources import DATASET_MARKER, is_dataset
from awscost.billing.table import MONEY_FIELDS, fits_sql, types_from_fits, widest
from awscost.core.errors import InputError

if TYPE_CHECKING:
    import duckdb

PARTITION = "x_BillingPeriod"


def _partition_dir(root: Path, period: str) -> Path:
    return root / f"{PARTITION}={period}"


def read_marker(root: Path) -> dict[str, Any]:
    try:
        data = json.loads((root / DATASET_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"not a readable awscost billing dataset: {exc}", where=str(root)) from None
    if not isinstance(data, dict) or "periods" not in data:
        raise InputError("dataset marker is malformed", where=str(root / DATASET_MARKER))
    return data


def period_stats(
    con: duckdb.DuckDBPyConnection, files: list[Path]
) -> tuple[int, str, str, list[str], dict[str, str]]:
    """Rows, BilledCost and EffectiveCost totals, source files, and the storage type each money column
    fits (see `table.py`), in one pass."""
    fits = ", ".join(fits_sql(c) for c in MONEY_FIELDS)
    row = con.execute(
        f"SELECT count(*), COALESCE(sum(BilledCost), 0), COALESCE(sum(EffectiveCost), 0), "
        f"list(DISTINCT x_SourceFile), {fits} FROM read_parquet({files_sql(files)})"
    ).fetchone()
    assert row is not None
    return (
        int(row[0]),
        str(row[1]),
        str(row[2]),
        sorted(str(f) for f in row[3] or []),
        types_from_fits(row[4:]),
    )


def write_dataset(con: duckdb.DuckDBPyConnection, parts: dict[str, list[Path]], into: Path) -> dict[str, Any]:
    """Put the staged parquet `parts` (period -> files) into the dataset at `into`, replacing those periods;
    returns the dataset marker."""
    into = into.resolve()
    if into.exists() and not is_dataset(into) and (not into.is_dir() or any(into.iterdir())):
        raise InputError(
            "exists and is not an awscost billing dataset; refusing to overwrite", where=str(into)
        )
    into.parent.mkdir(parents=True, exist_ok=True)
    old_periods: dict[str, Any] = read_marker(into)["periods"] if is_dataset(into) else {}
    tmp = Path(tempfile.mkdtemp(prefix=f".{into.name}.loading-", dir=into.parent))
    try:
        periods: dict[str, Any] = dict(old_periods)
        for period in list(periods):
            if period in parts:
                continue
            src = _partition_dir(into, period)
            dst = _partition_dir(tmp, period)
            dst.mkdir()
            for f in src.iterdir():
                try:
                    os.link(f, dst / f.name)  # parquet files are never changed in place: a link is a copy
                except OSError:
                    shutil.copy2(f, dst / f.name)
        loaded_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for period, files in parts.items():
            rows, billed, effective, sources, types = period_stats(con, files)
            part = _partition_dir(tmp, period)
            part.mkdir()
            for i, f in enumerate(files):
                shutil.move(str(f), part / f"part-{i:05d}.parquet")
            periods[period] = {
                "rows": rows,
                "BilledCost": billed,
                "EffectiveCost": effective,
                "sources": sources,
                "loaded_at": loaded_at,
                "money_types": types,
            }
        marker = {"version": 1, "periods": dict(sorted(periods.items()))}
        (tmp / DATASET_MARKER).write_text(json.dumps(marker, indent=2), encoding="utf-8")
        _swap(tmp, into)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return marker


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
