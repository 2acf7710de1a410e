"""Job `billing_load` (D): load bills of any AWS format (legacy CUR, CUR 2.0, FOCUS, DBR) into a dataset of
Parquet by billing period, atomically; a billing account's month delivered again replaces the one loaded
before. A month given in two formats (a FOCUS export and the CUR of that month) is refused unless `prefer`
names the format to keep. What the load could not do fully (DBR upfront fees without a term) is in `warnings`.

Paths may be `s3://bucket/prefix` (the deployed ingest job's): CUR manifests, Data Exports (CUR 2.0, FOCUS)
or plain objects, reached with the role, ExternalId and region of [billing.s3]. From S3 only periods whose
newest delivery the dataset does not hold are read (`unchanged` names the others; `files_read` is 0 when
nothing was new).

Needs the `billing` extra (DuckDB, pyarrow), and a disk for the downloaded and staged files: the temporary
directory (`tempfile.gettempdir()`, /tmp in Lambda, whose size the job declares: `ephemeral_mb`), each load's
work folder removed when it ends, whatever the outcome; the S3 dataset's object cache is under it in Lambda and
pruned after each load (billing/s3_dataset.py), so a warm container does not fill /tmp hour after hour.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from awscost.core.errors import AwsCostWarning, InputError
from awscost.jobs.base import Context, Job, Rule


@dataclass(frozen=True)
class Params:
    paths: tuple[str, ...]  # billing files, directories, CUR manifests, or s3://bucket/prefix locations
    into: str  # the dataset directory or s3://bucket/prefix/ (created if absent)
    prefer: str | None = None  # the format kept where a month is given in two (cur, cur2, dbr, focus)

    def __post_init__(self) -> None:
        if not self.paths:
            raise InputError("no billing files given", param="paths")
        from awscost.billing.overlaps import check_prefer

        check_prefer(self.prefer)


@dataclass(frozen=True)
class PeriodLoaded:
    period: str  # YYYY-MM
    rows: int
    billed_cost: Decimal  # the sum of BilledCost, exact
    sources: int  # files the period came from


@dataclass(frozen=True)
class Result:
    dataset: Path | str  # a directory, or the s3:// URL of a dataset in S3
    periods: tuple[PeriodLoaded, ...]  # every period the dataset holds after the load
    warnings: tuple[str, ...] = ()  # what the load could not do fully, one line each
    files_read: int = 0  # billing files read by this load (0: nothing new)
    unchanged: tuple[str, ...] = ()  # periods skipped: their S3 delivery is the one the dataset holds

    @property
    def nothing_new(self) -> bool:
        return self.files_read == 0

    def to_json(self) -> dict[str, Any]:
        return {
            "dataset": str(self.dataset),
            "periods": [
                {"period": p.period, "rows": p.rows, "billed_cost": str(p.billed_cost), "sources": p.sources}
                for p in self.periods
            ],
            "warnings": list(self.warnings),
            "files_read": self.files_read,
            "unchanged": list(self.unchanged),
        }


def run(ctx: Context, params: Params) -> Result:
    from awscost.billing.bill import _plain, load_into
    from awscost.billing.s3 import S3Options, is_s3

    read: list[str] = []
    unchanged: list[str] = []

    def on_file(name: str, number: int, total: int) -> None:
        read.append(name)
        ctx.progress(number, total, name)

    s3 = (
        S3Options.from_settings(ctx.settings)
        if is_s3(params.into) or any(is_s3(p) for p in params.paths)
        else None
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AwsCostWarning)
        marker = load_into(
            list(params.paths),
            params.into,
            on_file=on_file,
            prefer=params.prefer,
            s3_options=s3,
            on_unchanged=lambda period, _manifest: unchanged.append(period),
        )
    notes = []
    for w in caught:
        if issubclass(w.category, AwsCostWarning):
            notes.append(str(w.message))
        else:  # not ours to keep: passed on as if never caught
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    periods = tuple(
        PeriodLoaded(period, int(info["rows"]), _plain(Decimal(info["BilledCost"])), len(info["sources"]))
        for period, info in marker["periods"].items()
    )
    dataset = params.into if is_s3(params.into) else Path(params.into)
    return Result(dataset, periods, tuple(dict.fromkeys(notes)), len(read), tuple(sorted(set(unchanged))))


JOB: Job[Params, Result] = Job(
    name="billing_load",
    params=Params,
    run=run,
    description="Load billing files of any AWS format into the billing dataset (atomic, by billing period).",
    schedule="hourly",
    extra="billing",
    needs=("duckdb", "pyarrow"),
    # Hourly and incremental: the export bucket's manifests are read, and only a delivery newer than the one the
    # dataset holds is loaded (a bucket the stack does not own can get no S3 notification from CloudFormation;
    # docs/deployment.md has the S3-event variant for a bucket the user owns).
    rules=(
        Rule(
            "hourly",
            "cron(20 * * * ? *)",
            {"job": "billing_load", "paths": ["${BillExportUrl}"], "into": "s3://${DataBucket}/billing/"},
        ),
    ),
    uses=("data", "bills", "store"),
    memory_mb=3008,
    ephemeral_mb=10240,
)
