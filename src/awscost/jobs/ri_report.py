"""Job `ri_report` (B): the AwsRIUsageReport workbook: the plan's summary, a sheet per kind x region with
hourly usage against owned reservations and charts, the back-test, and Cost Explorer's view beside ours.

Needs the `reports` extra (XlsxWriter, numpy). `out` is a local .xlsx path, or an `s3://bucket/prefix/` folder
(the deployed daily rule's): the workbook is then built in a temporary file and put at
`<prefix>/<YYYY-MM-DD>/AwsRIUsageReport.xlsx` (the run's UTC day; a rerun that day replaces it) through the
report archive's writer (reports/deliver/archive.py: its errors, the bucket's default encryption), and the
temporary file removed: a warm Lambda container keeps nothing in /tmp.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from awscost.billing.s3 import S3Location, is_s3
from awscost.core.errors import InputError, ReportError
from awscost.jobs.base import Context, Job, Rule
from awscost.jobs.ri_plan import Params as PlanParams
from awscost.planning.plan import PlanResult


@dataclass(frozen=True)
class Params(PlanParams):
    out: str = ""  # the .xlsx file to write, or an s3://bucket/prefix/ folder

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.out:
            raise InputError("no workbook path given", param="out")
        if is_s3(self.out):
            if not self.out.endswith("/"):
                raise InputError(
                    f"{self.out!r}: an s3:// out is a folder and ends in '/'",
                    param="out",
                    hint=f"the workbook goes to <folder>/YYYY-MM-DD/{WORKBOOK}",
                )
            S3Location.parse(self.out, folder=True)  # a bad bucket name is an error before any work
        elif not self.out.lower().endswith(".xlsx"):
            raise InputError(f"{self.out!r} does not end in .xlsx", param="out")


WORKBOOK = "AwsRIUsageReport.xlsx"


@dataclass(frozen=True)
class Result:
    path: Path | str  # the file written, or the s3:// URL of the object
    plan: PlanResult  # what the workbook shows

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "groups": len(self.plan.rows), "plan": self.plan.to_json()}


def run(ctx: Context, params: Params) -> Result:
    from awscost.jobs.ri_plan import plan
    from awscost.reports.ri_workbook import build_workbook, gather

    result = plan(ctx, params)
    with ctx.store(must_exist=True) as store:
        data = gather(
            store, result, account=params.account or ctx.settings.org_name, lookback_days=params.lookback
        )
    data.generated_at = ctx.now()
    if is_s3(params.out):
        return Result(_to_s3(ctx, params.out, data), result)
    # A sheet that cannot be built is written as such and raises ReportError after the file is complete.
    path = build_workbook(params.out, data)
    return Result(path, result)


def _to_s3(ctx: Context, folder: str, data: Any) -> str:
    """Build the workbook in a temporary file and put it at <folder>/<UTC day>/AwsRIUsageReport.xlsx. A workbook
    with a sheet that failed is still put (as a local run keeps the file), then its ReportError raised naming
    the object."""
    from awscost.reports.deliver.archive import XLSX_TYPE, archive_file, s3_client
    from awscost.reports.ri_workbook import build_workbook

    loc = S3Location.parse(folder, folder=True)
    key = loc.key(ctx.now().strftime("%Y-%m-%d"), WORKBOOK)
    url = loc.url(key)
    failed: ReportError | None = None
    with tempfile.TemporaryDirectory(prefix="awscost-ri-") as tmp:
        path = Path(tmp) / WORKBOOK
        try:
            build_workbook(path, data)
        except ReportError as exc:
            failed = exc
        archive_file(s3_client(ctx.session()), loc.bucket, key, path, content_type=XLSX_TYPE, where=url)
    if failed is not None:
        raise ReportError(failed.message, where=url, hint=failed.hint)
    return url


JOB: Job[Params, Result] = Job(
    name="ri_report",
    params=Params,
    run=run,
    description="The AwsRIUsageReport workbook: the RI/SP plan, hourly usage vs owned, back-test, Cost Explorer.",
    schedule="daily",
    extra="reports",
    needs=("numpy", "xlsxwriter"),
    rules=(
        Rule("daily", "cron(15 7 * * ? *)", {"job": "ri_report", "out": "s3://${DataBucket}/reports/ri/"}),
    ),
    uses=("store", "data"),
    memory_mb=2048,
)
