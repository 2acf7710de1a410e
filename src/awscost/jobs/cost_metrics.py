"""Job `cost_metrics` (B): the month-to-date cost per account and per audience, each audience's month-end
forecast and its tag coverage, published to CloudWatch once a day (the stack's cost alarms and dashboard
read them).

A job of its own rather than the report job's `metrics`: the report builds only the audiences due that day,
each over its schedule's period (a weekly audience: last week, on Mondays), while these series need every
audience's month-to-date every day; and the handler's `metrics` contract gives one dimension set a run, these
are one per account and audience. The figures are the report's own: the bill is scanned once into the same
cost cube and each audience's report model is built (its cost and tag sections only, nothing rendered), so a
metric and the report of the same day agree to the cent. The number of series is bounded by `[metrics]
max_series` (reports/metrics.py). Needs the `reports` extra (DuckDB, and numpy for the forecast).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from awscost.core.errors import AwsCostError, InputError
from awscost.jobs.base import Context, Job, Rule
from awscost.jobs.metrics import Datum, put_metrics

SECTIONS = ("cost", "tags")  # what the series read: the total, accounts and forecast; the tag coverage


@dataclass(frozen=True)
class Params:
    dataset: str | None = None  # a billing dataset: a folder or s3://bucket/prefix/ (the ingest job's)
    files: tuple[str, ...] = ()
    today: date | None = None  # the UTC day of the run (default: the clock's)
    publish: bool = False  # send the series to CloudWatch (the scheduled event sets it)

    def __post_init__(self) -> None:
        if not self.dataset and not self.files:
            raise InputError("no billing data given", param="dataset", hint="a dataset or billing files")


@dataclass
class Result:
    month: str
    currency: str | None
    series: list[Any]  # reports.metrics.CostSeries
    left_out: list[str] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)  # audiences whose figures failed
    published: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "currency": self.currency,
            "series": [s.to_json() for s in self.series],
            "left_out": self.left_out,
            "published": self.published,
            "failures": self.failures,
        }

    def metric_data(self) -> list[Datum]:
        return [Datum(s.name, dict(s.dimensions), float(s.value), s.unit) for s in self.series]


def documents(
    ctx: Context, params: Params
) -> tuple[str, dict[str, Any] | None, list[dict[str, Any]], list[Any]]:
    """The month, the organization's month-to-date report document (None when it failed), the other
    audiences', and the failures."""
    from awscost.billing.cube import CostCube
    from awscost.billing.engines import open_source
    from awscost.jobs.report import FORECAST_HISTORY_DAYS, _org_units
    from awscost.reports.config import ORG_AUDIENCE, organization_audience, report_settings
    from awscost.reports.cost_report import build_report, scope_of
    from awscost.reports.forecasting import bill_forecast
    from awscost.reports.periods import resolve

    today = params.today or ctx.now().date()
    settings = report_settings(ctx.settings)
    audiences = [organization_audience(), *(a for a in settings.audiences if a.name != ORG_AUDIENCE)]
    tag_keys = [settings.tag_key, *(k for a in audiences for k in a.tags)]
    org_units = _org_units(ctx)
    docs: dict[str, dict[str, Any]] = {}
    failures: list[dict[str, str]] = []
    with open_source("duckdb", params.dataset, params.files, ctx.settings) as bill:
        until = bill.usage_until()
        comparison = resolve(
            "month-to-date", today=today, covered_until=until.date() if until is not None else today
        )
        lo = comparison.previous.start - timedelta(days=FORECAST_HISTORY_DAYS)  # as the report's cube
        with CostCube.from_bill(bill, lo, comparison.current.end, tag_keys) as cube:
            for audience in audiences:
                try:
                    report = build_report(
                        cube,
                        audience,
                        comparison,
                        scope=scope_of(audience, org_units),
                        metric=audience.metric,
                        tag_key=settings.tag_key,
                        names={},
                        generated_at=ctx.now(),
                        forecast=bill_forecast,
                        sections=SECTIONS,
                        today=today,
                    )
                except AwsCostError as exc:
                    failures.append({"audience": audience.name, "error": exc.render()})
                    continue
                docs[audience.name] = report.data
    month = f"{comparison.current.last_day:%Y-%m}"
    org = docs.pop(ORG_AUDIENCE, None)
    return month, org, list(docs.values()), failures


def run(ctx: Context, params: Params) -> Result:
    from awscost.core.config import max_series
    from awscost.reports.metrics import cost_series

    bound = max_series(ctx.settings)  # a bad bound fails before the bill is read
    month, org, others, failures = documents(ctx, params)
    plan = cost_series(org, others, bound)
    result = Result(month, plan.currency, plan.series, plan.left_out, failures)
    if params.publish:
        from awscost.aws.session import client

        result.published = put_metrics(client(ctx.session(), "cloudwatch"), result.metric_data(), ctx.now())
    return result


def metrics(params: Params, result: Result) -> tuple[dict[str, str], dict[str, float]]:
    """For the handler: the series published and the audiences whose figures failed (what an alarm watches)."""
    return {"Job": "cost_metrics"}, {"Series": result.published, "FailedAudiences": len(result.failures)}


JOB: Job[Params, Result] = Job(
    name="cost_metrics",
    params=Params,
    run=run,
    description="Month-to-date cost per account and audience, forecast and tag coverage, to CloudWatch.",
    schedule="daily",
    iam_actions=("organizations:ListAccountsForParent", "organizations:ListChildren"),  # audiences of OUs
    metrics=metrics,
    # After the report (08:00), from the same dataset the billing ingest keeps in the stack's bucket.
    rules=(
        Rule(
            "daily",
            "cron(15 8 * * ? *)",
            {"job": "cost_metrics", "dataset": "s3://${DataBucket}/billing/", "publish": True},
        ),
    ),
    uses=("data-read", "store"),  # the dataset; the store for the saved result
    memory_mb=2048,
    extra="reports",
    needs=("duckdb", "numpy"),
)

__all__ = ["JOB", "Params", "Result", "documents"]
