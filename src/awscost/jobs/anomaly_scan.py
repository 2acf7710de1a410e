"""Job `anomaly_scan` (B, issue 15): cost anomalies of a billing dataset, each explained in one sentence.

The bill's daily cost per account x service (on any engine: billing/engines.py) through the detector
(anomalies/detect.py), the largest events drilled into for their explanation (anomalies/bill.py). Thresholds:
`min_impact` dollars per day and `score`, here or from `[anomalies]` of the config (not yet: the defaults
of detect.Thresholds, $50/day and 6, unless given).

Built so far: the bill signal, run by hand (`awscost anomalies detect`), and AWS Cost Anomaly Detection's
own anomalies in the same shape (`source="ce"`: anomalies/cost_explorer.py; `awscost anomalies compare`
puts both side by side, anomalies/side_by_side.py). Not yet (issue 15): the live usage
signal (`source="usage"`), the schedule, SNS with its
throttling, acknowledgements and the report's Movers section: asking for them is an error saying so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from awscost.core.errors import InputError
from awscost.jobs.base import Context, Job

NOT_BUILT = {
    "usage": "the live usage signal (the collector's counts x prices) is not built yet (issue 15)",
}


@dataclass(frozen=True)
class Params:
    source: Literal["billing", "usage", "ce"] = "billing"
    dataset: str | None = None  # a billing dataset: a folder or s3://bucket/prefix/
    files: tuple[str, ...] = ()
    engine: str = "duckdb"
    since: date | None = None  # the first day an anomaly may start on (None: any day the bill holds)
    min_impact: Decimal | None = None  # dollars per day (default 50)
    score: float | None = None  # robust z-score (default 6)
    metric: Literal["EffectiveCost", "BilledCost"] = "EffectiveCost"
    explain: int = 20  # the largest this many events are drilled into for their explanation

    def __post_init__(self) -> None:
        if self.source in NOT_BUILT:
            raise InputError(NOT_BUILT[self.source], param="source", hint="--source billing")
        if self.source == "ce" and (self.dataset or self.files):
            raise InputError(
                "the ce source reads AWS Cost Anomaly Detection, not a billing dataset",
                param="dataset",
                hint="awscost anomalies compare --dataset DIR puts the bill's anomalies next to AWS's",
            )
        if self.source == "billing" and not self.dataset and not self.files:
            raise InputError("no billing data given", param="dataset", hint="--dataset DIR or --file PATH")
        if self.engine != "duckdb" and (self.files or not self.dataset):
            raise InputError(f"the {self.engine} engine reads a billing dataset", param="engine")
        if self.min_impact is not None and self.min_impact < 0:
            raise InputError("min_impact is dollars per day, at least 0", param="min_impact")
        if self.score is not None and self.score <= 0:
            raise InputError("score must be positive", param="score")
        if self.explain < 0:
            raise InputError("explain is a number of events, at least 0", param="explain")


@dataclass
class Result:
    anomalies: list[Any]  # anomalies.detect.Anomaly
    currency: str | None
    first_day: date | None
    last_day: date | None
    series: int
    source: str = "billing"
    warnings: list[str] = field(default_factory=list)
    aws: list[Any] = field(
        default_factory=list
    )  # source "ce": anomalies.cost_explorer.AwsAnomaly, as anomalies

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "currency": self.currency,
            "days": None
            if self.first_day is None
            else {"first": self.first_day.isoformat(), "last": str(self.last_day)},
            "series": self.series,
            "anomalies": [a.to_json() for a in (self.aws or self.anomalies)],
        }


def run(ctx: Context, params: Params) -> Result:
    if params.source == "ce":
        return _run_ce(ctx, params)
    from awscost.anomalies.bill import scan
    from awscost.anomalies.detect import Thresholds
    from awscost.billing import load
    from awscost.billing.engines import open_bill
    from awscost.billing.s3 import S3Options, is_s3

    defaults = Thresholds()
    thresholds = Thresholds(
        min_impact=params.min_impact if params.min_impact is not None else defaults.min_impact,
        score=params.score if params.score is not None else defaults.score,
    )
    tag_keys = [ctx.settings.tag_key]
    if params.engine != "duckdb":
        bill = open_bill(params.engine, str(params.dataset), ctx.settings)
    else:
        paths = [params.dataset] if params.dataset else list(params.files)
        s3_options = S3Options.from_settings(ctx.settings) if any(is_s3(p) for p in paths if p) else None
        bill = load([p for p in paths if p], materialize=False, s3_options=s3_options)
    with bill:
        found = scan(
            bill,
            since=params.since,
            thresholds=thresholds,
            tag_keys=tag_keys,
            metric=params.metric,
            explain=params.explain,
        )
    return Result(found.anomalies, found.currency, found.first_day, found.last_day, found.series)


def _run_ce(ctx: Context, params: Params) -> Result:
    """AWS Cost Anomaly Detection's anomalies (anomalies/cost_explorer.py) whose last day is from `since`
    (default: AWS's 90 days of retention) to today, in the bill's service names."""
    from datetime import timedelta

    from awscost.anomalies import cost_explorer as cad
    from awscost.aws.session import client
    from awscost.reports.cost_explorer import SERVICE_NAMES

    session = ctx.session()
    today = ctx.now().date()

    def whoami() -> str | None:
        try:
            return str(client(session, "sts").get_caller_identity()["Account"])
        except Exception:  # naming the account is a courtesy of the error message, never a second error
            return None

    found = cad.scan(
        client(session, "ce", cad.REGION),
        params.since or today - timedelta(days=cad.RETENTION_DAYS),
        today,
        service_names=SERVICE_NAMES,
        min_impact=params.min_impact,
        whoami=whoami,
    )
    return Result(
        [a.anomaly for a in found.anomalies],
        "USD",  # Cost Anomaly Detection's amounts are dollars
        found.start,  # the DateInterval asked (anomalies whose last day is in it)
        found.end,
        len(found.monitors),  # for source "ce": AWS's monitors
        source="ce",
        warnings=found.warnings,
        aws=found.anomalies,
    )


def metrics(params: Params, result: Result) -> tuple[dict[str, str], dict[str, float]]:
    return {"Source": result.source}, {"Anomalies": float(len(result.anomalies))}


JOB: Job[Params, Result] = Job(
    name="anomaly_scan",
    params=Params,
    run=run,
    description="Cost anomalies of the bill per account and service, each explained in one sentence.",
    metrics=metrics,
    extra="reports",  # DuckDB and numpy
    needs=("duckdb", "numpy"),
)

__all__ = ["JOB", "NOT_BUILT", "Params", "Result"]
