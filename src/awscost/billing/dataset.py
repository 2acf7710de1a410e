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
from awscost.errors import InputError

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


def write_dataset(con: duckdb.DuckDBPyConnection, table: str, into: Path) -> dict[str, Any]:
    """Write the periods in `table` into the dataset at `into`, replacing those periods; returns the marker."""
    into = into.resolve()
    if into.exists() and not is_dataset(into) and (not into.is_dir() or any(into.iterdir())):
        raise InputError("exists and is not an awscost billing dataset; refusing to overwrite", where=str(into))
    into.parent.mkdir(parents=True, exist_ok=True)
    old_marker = read_marker(into) if is_dataset(into) else {"version": 1, "periods": {}}
    stats = con.execute(
        f"SELECT x_BillingPeriod, count(*), sum(BilledCost), sum(EffectiveCost), list(DISTINCT x_SourceFile) "
        f"FROM {quote(table)} GROUP BY 1 ORDER BY 1"
    ).fetchall()
    tmp = Path(tempfile.mkdtemp(prefix=f".{into.name}.loading-", dir=into.parent))
    try:
        periods = dict(old_marker["periods"])
        new = {str(r[0]) for r in stats}
        for period in list(periods):
            if period in new:
                continue
            src = _partition_dir(into, period)
            dst = _partition_dir(tmp, period)
            dst.mkdir()
            for f in src.iterdir():
                try:
                    os.link(f, dst / f.name)  # parquet files are never modified in place: a link is a safe copy
                except OSError:
                    shutil.copy2(f, dst / f.name)
        columns = ", ".join(quote(c) for c in COLUMN_NAMES if c != PARTITION)
        loaded_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for period, rows, billed, effective, files in stats:
            part = _partition_dir(tmp, str(period))
            part.mkdir()
            con.execute(
                f"COPY (SELECT {columns} FROM {quote(table)} WHERE x_BillingPeriod = {lit(str(period))}) "
                f"TO {lit(str(part / 'data.parquet'))} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)"
            )
            periods[str(period)] = {
                "rows": int(rows),
                "BilledCost": str(billed),
                "EffectiveCost": str(effective),
                "sources": sorted(str(f) for f in files),
                "loaded_at": loaded_at,
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


def scan_sql(root: Path) -> str:
    """A SELECT over the dataset's parquet files with the canonical column order."""
    pattern = lit(str(root / f"{PARTITION}=*" / "*.parquet"))
    columns = ", ".join(quote(c) for c in COLUMN_NAMES)
    return (
        f"SELECT {columns} FROM read_parquet({pattern}, hive_partitioning = true, "
        f"hive_types = {{'{PARTITION}': VARCHAR}})"
    )
