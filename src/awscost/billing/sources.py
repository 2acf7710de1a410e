"""Finding the files of a bill: plain files, zip archives, directories and CUR manifests (`*-Manifest.json`),
here or in S3 (`s3://...`, read by `s3_sources`).

A legacy CUR delivery is a manifest naming its report files (`reportKeys`, in order) and its billing period.
AWS re-delivers the month to date several times a day; every delivery is complete for its period, so the
newest delivery of a period replaces older ones (here within one load, and in the dataset across loads).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import shutil
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from awscost.core.errors import InputError

if TYPE_CHECKING:
    from awscost.billing.s3 import S3Options

BILL_SUFFIXES = (".csv", ".csv.gz", ".gz", ".zip", ".parquet", ".snappy.parquet", ".gz.parquet")
DATASET_MARKER = "_awscost_billing.json"
_DBR_NAME = re.compile(r"aws-billing-detailed-line-items.*-(\d{4})-(\d{2})\.csv", re.IGNORECASE)


@dataclass(frozen=True)
class SourceFile:
    path: Path  # what the engine reads (an extracted copy for zip members)
    display: str  # what messages name: the user's path, with `!member` for zip members
    kind: str  # "csv" or "parquet"
    period_hint: str | None = None  # 'YYYY-MM' from a manifest or a DBR file name


@dataclass(frozen=True)
class Delivery:
    """Files that together are one delivery (one period for a manifest; unknown for loose files)."""

    files: Sequence[SourceFile]  # for S3, downloaded as they are iterated (`s3_sources.Downloads`)
    period: str | None = None
    manifest: Path | str | None = None  # a local manifest, or the s3:// URL of one
    record: dict[str, str] | None = None  # an S3 delivery's identity, kept in the dataset marker


def is_dataset(path: Path) -> bool:
    return path.is_dir() and (path / DATASET_MARKER).exists()


def _kind(path: Path) -> str:
    return "parquet" if path.name.endswith(".parquet") else "csv"


def _dbr_period(name: str) -> str | None:
    m = _DBR_NAME.search(name)
    return f"{m.group(1)}-{m.group(2)}" if m else None


def _expand_zip(path: Path, workdir: Path, period: str | None) -> list[SourceFile]:
    try:
        with zipfile.ZipFile(path) as zf:
            members = [
                m for m in zf.infolist() if not m.is_dir() and m.filename.endswith((".csv", ".parquet"))
            ]
            if not members:
                raise InputError("zip archive holds no .csv or .parquet file", where=str(path))
            out = []
            for i, member in enumerate(members):
                target = workdir / f"zip{len(list(workdir.iterdir()))}-{i}-{Path(member.filename).name}"
                # Streamed to disk in chunks: a multi-GB member never sits in memory.
                with zf.open(member) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                hint = period or _dbr_period(member.filename) or _dbr_period(path.name)
                out.append(SourceFile(target, f"{path}!{member.filename}", _kind(target), hint))
            return out
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise InputError(f"unreadable zip archive: {exc}", where=str(path)) from None


def _file(path: Path, workdir: Path, period: str | None = None) -> list[SourceFile]:
    if path.name.endswith(".zip"):
        return _expand_zip(path, workdir, period)
    return [SourceFile(path, str(path), _kind(path), period or _dbr_period(path.name))]


def _manifest_period(data: dict, where: str) -> str:
    bp = data.get("billingPeriod")
    start = str(bp.get("start", "")) if isinstance(bp, dict) else ""
    m = re.match(r"(\d{4})-?(\d{2})", start)
    if not m:
        raise InputError("manifest has no billingPeriod.start", where=where)
    return f"{m.group(1)}-{m.group(2)}"


def read_manifest(path: Path, workdir: Path) -> Delivery:
    where = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"unreadable CUR manifest: {exc}", where=where) from None
    if not isinstance(data, dict) or not isinstance(data.get("reportKeys"), list):
        raise InputError("not a CUR manifest (no reportKeys list)", where=where)
    period = _manifest_period(data, where)
    files: list[SourceFile] = []
    for key in data["reportKeys"]:
        local = _locate(path.parent, str(key))
        if local is None:
            raise InputError(f"report key {key!r} not found next to the manifest", where=where)
        files.extend(_file(local, workdir, period))
    if not files:
        raise InputError("manifest lists no report files", where=where)
    return Delivery(files, period, path)


def _locate(base: Path, key: str) -> Path | None:
    """A manifest's S3 key as a local file: the key's trailing parts under the manifest's folder (a synced
    bucket prefix keeps the assembly folder; a flat download keeps only the file name)."""
    parts = [p for p in key.split("/") if p]
    for i in range(len(parts)):
        candidate = base.joinpath(*parts[i:])
        if candidate.is_file():
            return candidate
    return None


def _is_bill_file(path: Path) -> bool:
    return path.is_file() and path.name.endswith(BILL_SUFFIXES) and not path.name.startswith(".")


def resolve(
    paths: Sequence[Path | str],
    workdir: Path,
    *,
    s3: S3Options | None = None,
    held: dict[str, dict[str, Any]] | None = None,
    transient: bool = False,
    on_unchanged: Callable[[str, str], None] | None = None,
) -> list[Delivery]:
    """Deliveries for the given paths, in order. Manifests win over loose files in the same directory; for
    a period named by several manifests, only the newest (by manifest mtime, then path) is kept.

    `s3://` paths are listed in S3 (`s3_sources.resolve`, reached through `s3`): there a period whose newest
    delivery is the one `held` records (period -> `Delivery.record`, from the dataset marker) is left out and
    named to `on_unchanged`; `transient` removes each downloaded file once the engine has read it."""
    from awscost.billing.s3 import is_s3

    deliveries: list[Delivery] = []
    urls = [str(p) for p in paths if is_s3(str(p))]
    if urls:
        from awscost.billing import s3_sources

        deliveries = s3_sources.resolve(
            urls, workdir, s3, held=held, transient=transient, on_unchanged=on_unchanged
        )
    for path in (Path(p) for p in paths if not is_s3(str(p))):
        if not path.exists():
            raise InputError("no such file or directory", where=str(path))
        if path.is_dir():
            if is_dataset(path):
                raise InputError(
                    "this is an awscost billing dataset: open it as a dataset, not among billing files",
                    where=str(path),
                )
            manifests = sorted(path.rglob("*-Manifest.json"))
            if manifests:
                deliveries.extend(read_manifest(m, workdir) for m in manifests)
            else:
                found = sorted(p for p in path.rglob("*") if _is_bill_file(p))
                if not found:
                    raise InputError("directory holds no billing files", where=str(path))
                deliveries.extend(Delivery(_file(p, workdir)) for p in found)
        elif path.name.endswith("Manifest.json"):
            deliveries.append(read_manifest(path, workdir))
        else:
            deliveries.append(Delivery(_file(path, workdir)))
    newest: dict[str, Delivery] = {}
    for d in deliveries:
        if d.period and isinstance(d.manifest, Path):  # S3 deliveries were chosen by `s3_sources`
            old = newest.get(d.period)
            if old is None or _age_key(d) >= _age_key(old):
                newest[d.period] = d
    return [d for d in deliveries if not (d.period and isinstance(d.manifest, Path)) or newest[d.period] is d]


def held_deliveries(root: Path) -> dict[str, dict[str, Any]]:
    """Per period, the S3 delivery a dataset's marker says it was loaded from (none for a missing dataset or
    a period loaded from local files)."""
    try:
        data = json.loads((root / DATASET_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # no dataset yet, or one the load itself will refuse with its reason
    return deliveries_of(data)


def deliveries_of(marker: Any) -> dict[str, dict[str, Any]]:
    """Per period, the `delivery` a dataset marker (local, or an S3 dataset's manifest) records."""
    periods = marker.get("periods") if isinstance(marker, dict) else None
    if not isinstance(periods, dict):
        return {}
    return {
        str(p): info["delivery"]
        for p, info in periods.items()
        if isinstance(info, dict) and isinstance(info.get("delivery"), dict)
    }


def _age_key(d: Delivery) -> tuple[float, str]:
    assert isinstance(d.manifest, Path)
    return (d.manifest.stat().st_mtime, str(d.manifest))


def csv_header(source: SourceFile) -> list[str]:
    """The first row of a CSV (plain or gzip); InputError for a truncated or unreadable file."""
    try:
        with open(source.path, "rb") as raw:
            magic = raw.read(2)
        with open(source.path, "rb") as raw_file:
            fh = cast("IO[bytes]", gzip.GzipFile(fileobj=raw_file)) if magic == b"\x1f\x8b" else raw_file
            text = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="")
            row = next(csv.reader(text), None)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"unreadable file: {exc}", where=source.display) from None
    if not row:
        raise InputError("empty file: no header row", where=source.display)
    names = [c.strip() for c in row]
    dupes = sorted({c for c in names if names.count(c) > 1})
    if dupes:
        raise InputError(f"header repeats column(s) {', '.join(dupes)}", where=source.display)
    return names
