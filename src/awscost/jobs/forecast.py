"""Job `forecast` (B, issue 15): the month-end forecast per account or per service from the bill, with
intervals, and Cost Explorer's GetCostForecast beside it on request.

The bill's daily cost (on any engine: billing/engines.py) per account or service through the cost report's
forecaster (anomalies/forecast.py over billing/forecast.py); `compare="ce"` asks GetCostForecast for the `top`
largest series and the total (reports/forecast_compare.py: $0.01 a request, counted and priced). Not
scheduled: budgets, the cost alarms and the dashboard are to read it (issue 15).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from awscost.core.errors import InputError
from awscost.jobs.base import Context, Job


@dataclass(frozen=True)
class Params:
    by: Literal["account", "service"] = "account"
    dataset: str | None = None  # a billing dataset: a folder or s3://bucket/prefix/
    files: tuple[str, ...] = ()
    engine: str = "duckdb"
    month: str | None = None  # YYYY-MM (None: the month of as_of)
    as_of: date | None = None  # the first day not known (None: the day after the bill's last whole day)
    metric: Literal["EffectiveCost", "BilledCost"] = "EffectiveCost"
    level: float = 0.8
    compare: Literal["none", "ce"] = "none"
    top: int = 10  # series Cost Explorer is asked for (largest forecast first), besides the total
    today: date | None = None  # the UTC day Cost Explorer forecasts from (None: the clock's)

    def __post_init__(self) -> None:
        from awscost.anomalies.forecast import month_of

        if not self.dataset and not self.files:
            raise InputError("no billing data given", param="dataset", hint="--dataset DIR or --file PATH")
        if self.engine != "duckdb" and (self.files or not self.dataset):
            raise InputError(f"the {self.engine} engine reads a billing dataset", param="engine")
        if self.month is not None:
            month_of(self.month)
        if not 0 < self.level < 1:
            raise InputError(f"level must be between 0 and 1, not {self.level}", param="level")
        if self.top < 1:
            raise InputError("top is a number of series, at least 1", param="top")


@dataclass
class Result:
    forecasts: Any  # anomalies.forecast.Forecasts
    comparison: Any = None  # reports.forecast_compare.Comparison, when asked
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out = self.forecasts.to_json()
        if self.comparison is not None:
            out["cost_explorer"] = self.comparison.to_json()
        return out


def run(ctx: Context, params: Params) -> Result:
    from awscost.anomalies.forecast import forecast_bill, month_of
    from awscost.billing.engines import open_source

    with open_source(params.engine, params.dataset, params.files, ctx.settings) as bill:
        forecasts = forecast_bill(
            bill,
            by=params.by,
            month=month_of(params.month) if params.month else None,
            as_of=params.as_of,
            metric=params.metric,
            level=params.level,
        )
    comparison = None
    if params.compare == "ce":
        from awscost.aws.session import client
        from awscost.reports.forecast_compare import compare

        ce = client(ctx.session(), "ce", "us-east-1")
        today = params.today or ctx.now().date()
        comparison = compare(ce, forecasts, today=today, top=params.top)
    return Result(forecasts, comparison)


def metrics(params: Params, result: Result) -> tuple[dict[str, str], dict[str, float]]:
    values: dict[str, float] = {"Series": float(len(result.forecasts.series))}
    if result.comparison is not None:
        values["CostExplorerRequests"] = float(result.comparison.calls)
    return {"By": params.by}, values


JOB: Job[Params, Result] = Job(
    name="forecast",
    params=Params,
    run=run,
    description="The month-end forecast per account or service from the bill, with intervals; Cost "
    "Explorer's GetCostForecast beside it on request.",
    iam_actions=("ce:GetCostForecast",),
    metrics=metrics,
    extra="reports",  # DuckDB and numpy
    needs=("duckdb", "numpy"),
)

__all__ = ["JOB", "Params", "Result"]
