"""Job `ri_report` (B): the AwsRIUsageReport workbook: the plan's summary, a sheet per kind x region with
hourly usage against owned reservations and charts, the back-test, and Cost Explorer's view beside ours.

Needs the `reports` extra (XlsxWriter, numpy). It writes a local file, so it cannot run in Lambda until the
cost reports archive workbooks in S3.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from awscost.core.errors import InputError
from awscost.jobs.base import Context, Job, Rule
from awscost.jobs.ri_plan import Params as PlanParams
from awscost.planning.plan import PlanResult


@dataclass(frozen=True)
class Params(PlanParams):
    out: str = ""  # the .xlsx file to write

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.out:
            raise InputError("no workbook path given", param="out")
        if not self.out.lower().endswith(".xlsx"):
            raise InputError(f"{self.out!r} does not end in .xlsx", param="out")


@dataclass(frozen=True)
class Result:
    path: Path
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
    # A sheet that cannot be built is written as such and raises ReportError after the file is complete.
    path = build_workbook(params.out, data)
    return Result(path, result)


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
    lambda_unavailable="it writes the workbook to a local file; archiving reports in S3 is not built yet",
)
