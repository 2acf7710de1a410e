"""The local billing dataset: parquet files partitioned by billing period, `DIR/x_BillingPeriod=YYYY-MM/`.

A load is atomic: the new dataset is built beside the old one (untouched periods hard-linked, new periods
written) and swapped in by rename, so a failure at any point leaves the previous dataset as it was. A load
holds the lock file `.NAME.lock` beside the dataset (`locked`): a second load waits for it. Even a load
killed outright (SIGKILL, out of memory) loses nothing: its work files are `.NAME.work-*` and
`.NAME.loading-*` beside the dataset, and the next load, or an open that finds no dataset, removes them
and puts back the dataset a kill between the swap's two renames left as `.NAME.old-*` (`recover`).
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
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from awscost.billing import amortize
from awscost.billing.crashpoint import crash_point
from awscost.billing.engine import PERIOD as PERIOD_RE
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
LOCK_TIMEOUT_S = 900.0  # how long a load waits for another load of the same dataset before giving up
_NOT_AMORTIZED = f"x_LineItemType IS DISTINCT FROM {lit(amortize.AMORTIZED)}"


def _partition_dir(root: Path, period: str) -> Path:
    return root / f"{PARTITION}={period}"


def _load_marker(root: Path) -> dict[str, Any]:
    try:
        data = json.loads((root / DATASET_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"not a readable awscost billing dataset: {exc}", where=str(root)) from None
    where = str(root / DATASET_MARKER)
    if not isinstance(data, dict) or not isinstance(data.get("periods"), dict):
        raise InputError("dataset marker is malformed (no periods)", where=where)
    for period, info in data["periods"].items():
        _check_period(root, str(period), info, where)
    return data


def _check_period(root: Path, period: str, info: Any, where: str) -> None:
    """A period of the marker must hold its totals and its folder of parquet files; checked before a load
    writes anything, and when the dataset is opened (a period the marker names and the files lack would
    vanish from every total silently)."""
    check_period_info(period, info, where)
    part = _partition_dir(root, period)
    if not part.is_dir() or not any(f.suffix == ".parquet" for f in part.iterdir()):
        raise InputError(
            f"billing period {period} is in the marker but its files are missing ({part}); restore the "
            f"folder, or reload that month's billing files with `awscost billing load ... --into {root}`",
            where=str(root),
        )


def check_period_info(period: str, info: Any, where: str) -> None:
    """A period's entry of the marker (local) or manifest (S3) holds its totals and sources."""
    bad = f"dataset marker is malformed: period {period!r}"
    if not PERIOD_RE.match(period) or not isinstance(info, dict):
        raise InputError(f"{bad} is not a YYYY-MM entry with its totals", where=where)
    missing = [k for k in ("rows", "BilledCost", "EffectiveCost", "sources") if k not in info]
    if missing:
        raise InputError(f"{bad} lacks {', '.join(missing)}", where=where)
    try:
        ok = int(info["rows"]) >= 0 and isinstance(info["sources"], list)
        Decimal(str(info["BilledCost"])), Decimal(str(info["EffectiveCost"]))
    except (TypeError, ValueError, InvalidOperation):
        ok = False
    if not ok:
        raise InputError(f"{bad} has malformed rows, BilledCost, EffectiveCost or sources", where=where)


def read_marker(root: Path) -> dict[str, Any]:
    """The marker of a dataset opened for reading. Periods loaded by older readers keep the numbers those
    gave: an AwsCostWarning names them, once, with the command that reloads them."""
    marker = _load_marker(root)
    warn_stale(marker, str(root))
    return marker


def warn_stale(marker: dict[str, Any], root: str) -> None:
    """The AwsCostWarning for periods of a dataset (local or in S3) loaded by older readers."""
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
            stacklevel=3,
        )


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


def _sibling(into: Path, kind: str) -> str:
    """The name prefix of a load's work directory beside the dataset (`.NAME.KIND-`)."""
    return f".{into.name}.{kind}-"


@contextmanager
def locked(into: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the dataset's lock (flock on `.NAME.lock` beside it) for one load, after `recover`ing what a
    killed load left. A second load waits up to `timeout` seconds, then fails saying so. The lock file stays
    (removing it would let two loads lock two different files); the kernel drops the lock when the holder
    dies, however it dies. `timeout` defaults to LOCK_TIMEOUT_S."""
    import fcntl

    timeout = LOCK_TIMEOUT_S if timeout is None else timeout

    into = into.resolve()
    into.parent.mkdir(parents=True, exist_ok=True)
    lock_path = into.parent / f".{into.name}.lock"
    with open(lock_path, "a+b") as lock:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise InputError(
                        f"another load into this dataset is still running after {timeout:.0f} s (it holds "
                        f"{lock_path}); run this load again when it has finished",
                        where=str(into),
                    ) from None
                time.sleep(0.05)
        try:
            _recover(into)
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def recover(root: Path) -> None:
    """Before opening `root` for reading: when a load was killed between the swap's two renames there is no
    dataset at `root` but its previous version in `.NAME.old-*`; put it back (under the lock, so never
    while a live load is between its renames). Does nothing when `root` is a dataset or no load left one."""
    root = root.resolve()
    if is_dataset(root) or not any(root.parent.glob(_sibling(root, "old") + "*")):
        return
    with locked(root):
        pass


def _recover(into: Path) -> None:
    """Under the lock: what killed loads left beside the dataset. A retired dataset (`.old-*`) is put back
    when there is no dataset (the kill fell between the swap's renames) and removed otherwise (the swap had
    finished); work directories (`.work-*`, `.loading-*`) are removed: no live load holds them."""
    retired = sorted(into.parent.glob(_sibling(into, "old") + "*"), key=lambda p: p.stat().st_mtime)
    if retired and not into.exists():
        os.rename(retired.pop(), into)
    for leftover in [
        *retired,
        *into.parent.glob(_sibling(into, "loading") + "*"),
        *into.parent.glob(_sibling(into, "work") + "*"),
    ]:
        shutil.rmtree(leftover, ignore_errors=True)


def work_dir(into: Path) -> Path:
    """A load's scratch directory (staged parquet, DuckDB's spill) beside the dataset, not in /tmp: a load
    killed outright leaves it where the next load removes it, and staged files move into the dataset by
    rename (same file system)."""
    into = into.resolve()
    return Path(tempfile.mkdtemp(prefix=_sibling(into, "work"), dir=into.parent))


class Previous:
    """The dataset a load replaces, as the load's build reads it: its marker's periods and, on demand, a local
    folder holding one period's files as the dataset holds them (the dataset's own folder here; a download for
    a dataset in S3, `s3_dataset.py`)."""

    def __init__(self, root: Path, periods: dict[str, Any]) -> None:
        self.root = root
        self.periods = periods

    def folder(self, period: str) -> Path:
        return _partition_dir(self.root, period)


def with_deliveries(
    period_info: dict[str, dict[str, Any]] | None, deliveries: dict[str, dict[str, str]] | None
) -> dict[str, dict[str, Any]] | None:
    """`period_info` with each period's S3 delivery record as its `delivery` key."""
    if not deliveries:
        return period_info
    merged = {p: dict(v) for p, v in (period_info or {}).items()}
    for period, record in deliveries.items():
        merged.setdefault(period, {})["delivery"] = dict(record)
    return merged


def write_dataset(
    con: duckdb.DuckDBPyConnection,
    parts: dict[str, list[Path]],
    into: Path,
    *,
    prefer: str | None = None,
    period_info: dict[str, dict[str, Any]] | None = None,
    deliveries: dict[str, dict[str, str]] | None = None,
) -> dict[str, Any]:
    """Put the staged parquet `parts` (period -> files) into the dataset at `into`, replacing the billing
    accounts' months they hold (see the module's docstring for another format and `prefer`); returns the
    dataset marker. `period_info` (period -> keys) is recorded in the marker of each period this load writes;
    `deliveries` (period -> the S3 delivery it came from, `Delivery.record`) is kept as the period's
    `delivery`, for the next load to skip it when unchanged (a period written without one loses it).
    The caller holds `locked(into)`."""
    period_info = with_deliveries(period_info, deliveries)
    into = into.resolve()
    if into.exists() and not is_dataset(into) and (not into.is_dir() or any(into.iterdir())):
        raise InputError(
            "exists and is not an awscost billing dataset; refusing to overwrite", where=str(into)
        )
    into.parent.mkdir(parents=True, exist_ok=True)
    old_periods: dict[str, Any] = _load_marker(into)["periods"] if is_dataset(into) else {}
    tmp = Path(tempfile.mkdtemp(prefix=_sibling(into, "loading"), dir=into.parent))
    try:
        periods = build_periods(
            con,
            parts,
            Previous(into, old_periods),
            tmp,
            prefer=prefer,
            where=str(into),
            period_info=period_info,
        )
        marker = {"version": 1, "periods": periods}
        (tmp / DATASET_MARKER).write_text(json.dumps(marker, indent=2), encoding="utf-8")
        crash_point("marker")
        _swap(tmp, into)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return marker


def build_periods(
    con: duckdb.DuckDBPyConnection,
    parts: dict[str, list[Path]],
    previous: Previous,
    tmp: Path,
    *,
    prefer: str | None,
    where: str,
    period_info: dict[str, dict[str, Any]] | None = None,
    lazy: bool = False,
) -> dict[str, Any]:
    """Build the new dataset's period folders under `tmp` from the staged `parts` and the `previous` dataset;
    returns the new marker's periods (sorted). Untouched periods are hard-linked from the previous dataset,
    or with `lazy` only when their amortization rows change (the S3 dataset keeps their objects as they are):
    a period folder absent from `tmp` afterwards is the previous one, unchanged."""
    old_periods = previous.periods
    new_held = {period: _held(con, files) for period, files in parts.items()}
    old_held: dict[str, Held] = {
        period: _held(con, _data_files(previous.folder(period))) for period in parts if period in old_periods
    }
    replaced, kept_out = resolve_dataset(old_held, new_held, prefer, where)

    def place(period: str) -> None:
        if not _partition_dir(tmp, period).exists():
            _link_partition(previous.folder(period), _partition_dir(tmp, period))

    periods: dict[str, Any] = {}
    changed: set[str] = set()  # periods whose rows this load writes
    loaded_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for period, info in old_periods.items():
        if period not in parts:
            if not lazy:
                place(period)
            periods[period] = dict(info)
            crash_point(f"write-{period}")
    for period, files in parts.items():
        new_accounts = set(new_held[period]) - kept_out.get(period, set())
        old_accounts = set(old_held.get(period, {})) - replaced.get(period, set())
        if not new_accounts:  # the dataset's rows are preferred for every account: the month stays
            if not lazy:
                place(period)
            periods[period] = dict(old_periods[period])
            crash_point(f"write-{period}")
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
            old_files = _data_files(previous.folder(period))
            _copy_rows(
                con,
                old_files,
                f"{accounts_sql(old_accounts)} AND {_NOT_AMORTIZED}",
                part / "kept.parquet",
            )
            version = min(version, int(old_periods[period].get("reader_version", 1)))
        periods[period] = {
            "loaded_at": loaded_at,
            "reader_version": version,
            **(period_info or {}).get(period, {}),
        }
        changed.add(period)
        crash_point(f"write-{period}")
    _amortize(con, tmp, periods, changed, place)
    crash_point("amortized")
    return dict(sorted(periods.items()))


def _amortize(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    periods: dict[str, Any],
    changed: set[str],
    place: Callable[[str], None],
) -> None:
    """Record each period's billing accounts and DBR upfront fees (from its rows where the marker lacks them or
    the rows are new), then write every period's amortization rows that differ from what it carries, and the
    totals of the periods that changed. `place(period)` puts a period's previous files under `root` before
    they are read (a no-op where they are there already)."""
    for period, info in periods.items():
        if (
            period in changed
            or not isinstance(info.get("accounts"), dict)
            or not isinstance(info.get("upfront_fees"), list)
        ):
            place(period)
        files = _data_files(_partition_dir(root, period)) if _partition_dir(root, period).exists() else []
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
        place(period)
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
    retired = into.parent / f"{_sibling(into, 'old')}{uuid.uuid4().hex[:8]}"
    os.rename(into, retired)
    crash_point("swap")  # no dataset at `into` now: a kill here is undone by `recover`
    try:
        os.rename(new, into)
    except BaseException:
        os.rename(retired, into)
        raise
    crash_point("swapped")
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
