"""Job `anomaly_scan` (B, issue 15): cost anomalies of a billing dataset, each explained in one sentence.

The bill's daily cost per account x service (on any engine: billing/engines.py) through the detector
(anomalies/detect.py), the largest events drilled into for their explanation (anomalies/bill.py). Thresholds:
`min_impact` dollars per day and `score`, here or from `[anomalies]` of the config (not yet: the defaults
of detect.Thresholds, $50/day and 6, unless given).

Built so far: the bill signal and the live usage signal (`source="usage"`: the store's collected counts x the
price book, hourly, anomalies/usage.py; with a bill given, each event confirmed or withdrawn by it,
anomalies/confirm.py), run by hand (`awscost anomalies detect`). Not yet (issue 15): AWS's own detections
side by side (`source="ce"`), the schedule, SNS with its throttling, acknowledgements and the report's Movers
section: asking for them is an error saying so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from awscost.core.errors import InputError
from awscost.jobs.base import Context, Job

NOT_BUILT = {
    "ce": "Cost Explorer's anomalies side by side are not built yet (issue 15)",
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
    # source "usage": the store's collected counts x prices (the settings' store); a bill given as well
    # (dataset / files) confirms or withdraws each event, a day's costs known `bill_latency_hours` after it ends
    bill_latency_hours: int = 24

    def __post_init__(self) -> None:
        if self.source in NOT_BUILT:
            raise InputError(NOT_BUILT[self.source], param="source", hint="--source billing")
        if self.bill_latency_hours < 0:
            raise InputError("the bill's latency is hours, at least 0", param="bill_latency_hours")
        if self.source != "usage" and not self.dataset and not self.files:
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
    # source "usage": the bill's verdict on each event (anomalies.confirm.Confirmation, when a bill was
    # given), what was left out unpriced (reason -> key-hours), the price sources used
    confirmations: list[Any] = field(default_factory=list)
    left_out: dict[str, int] = field(default_factory=dict)
    price_sources: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        if self.source == "usage":
            return {
                "source": self.source,
                "days": None
                if self.first_day is None
                else {"first": self.first_day.isoformat(), "last": str(self.last_day)},
                "series": self.series,
                "anomalies": [a.to_json() for a in self.anomalies],
                "confirmations": [c.to_json() for c in self.confirmations],
                "left_out": self.left_out,
                "price_sources": self.price_sources,
            }
        return {
            "source": self.source,
            "currency": self.currency,
            "days": None
            if self.first_day is None
            else {"first": self.first_day.isoformat(), "last": str(self.last_day)},
            "series": self.series,
            "anomalies": [a.to_json() for a in self.anomalies],
        }


def run(ctx: Context, params: Params) -> Result:
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
    if params.source == "usage":
        return _run_usage(ctx, params, thresholds)
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


def _run_usage(ctx: Context, params: Params, thresholds: Any) -> Result:
    """The usage signal over the settings' store; with a bill given, each event confirmed or withdrawn."""
    from datetime import UTC, datetime, timedelta

    from awscost.anomalies import bill as bl
    from awscost.anomalies import usage
    from awscost.anomalies.confirm import confirm
    from awscost.billing import load
    from awscost.billing.engines import open_bill
    from awscost.billing.s3 import S3Options, is_s3
    from awscost.planning.pricing import load_price_book

    since = datetime.combine(params.since, datetime.min.time(), UTC) if params.since else None
    with ctx.store(must_exist=True) as store:
        found = usage.scan(store, load_price_book(store), since=since, thresholds=thresholds)
    first = found.first_hour.date() if found.first_hour else None
    last = found.last_hour.date() if found.last_hour else None
    result = Result(
        found.anomalies,
        "USD",  # the price book's on-demand rates
        first,
        last,
        found.series,
        source="usage",
        left_out=found.left_out,
        price_sources=found.price_sources,
    )
    if not (params.dataset or params.files) or first is None:
        return result
    if params.engine != "duckdb":
        bill = open_bill(params.engine, str(params.dataset), ctx.settings)
    else:
        paths = [params.dataset] if params.dataset else list(params.files)
        s3_options = S3Options.from_settings(ctx.settings) if any(is_s3(p) for p in paths if p) else None
        bill = load([p for p in paths if p], materialize=False, s3_options=s3_options)
    with bill:
        # The bill's events from the usage scan's first day on (explained by none: only their days count).
        scanned = bl.scan(bill, since=first, thresholds=thresholds, metric=params.metric, explain=0)
        series = bl.series_of(bill, start=first - timedelta(days=bl.HISTORY_DAYS), metric=params.metric)
    result.confirmations = confirm(
        found.anomalies, scanned.anomalies, series, latency=timedelta(hours=params.bill_latency_hours)
    )
    return result


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
