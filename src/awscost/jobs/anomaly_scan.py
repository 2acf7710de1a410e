"""Job `anomaly_scan` (B, issue 15): cost anomalies of a billing dataset, each explained in one sentence.

The bill's daily cost per account x service (on any engine: billing/engines.py) through the detector
(anomalies/detect.py), the largest events drilled into for their explanation (anomalies/bill.py). Thresholds:
`min_impact` dollars per day and `score` given here win over `[anomalies]` of the config
(anomalies/config.py), whose own defaults are detect.Thresholds' ($50/day and 6).

Every event found is recorded in the store's anomaly log (anomalies/events.py): a scan run again updates an
event instead of raising it twice, and `awscost anomalies ack ID` stops its notices. With a topic (`notify`,
else `[anomalies] notify_sns`), the events due a notice (new, or grown by `renotify_growth` % since the last
one; never an acknowledged one) are published to SNS, at most `max_notifications` a run
(anomalies/notify.py). The report's Movers section lists the logged events of its period.

`source="ce"`: AWS Cost Anomaly Detection's own anomalies in the same shape (anomalies/cost_explorer.py; not
logged: AWS's subscriptions notify them); `awscost anomalies compare` puts both side by side
(anomalies/side_by_side.py). The live usage signal
(`source="usage"`: the store's collected counts x the price book, hourly, anomalies/usage.py; with a bill
given, each event confirmed or withdrawn by it, anomalies/confirm.py) is logged and notified as the bill's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from awscost.core.errors import InputError
from awscost.jobs.base import Context, Job, Rule

NOT_BUILT: dict[str, str] = {}  # a source asked for that is not built says so (every source is, today)


@dataclass(frozen=True)
class Params:
    source: Literal["billing", "usage", "ce"] = "billing"
    dataset: str | None = None  # a billing dataset: a folder or s3://bucket/prefix/
    files: tuple[str, ...] = ()
    engine: str = "duckdb"
    since: date | None = None  # the first day an anomaly may start on (None: any day the bill holds)
    days: int | None = None  # or: anomalies starting in the last this many days (the schedule's 14)
    min_impact: Decimal | None = None  # dollars per day (default 50)
    score: float | None = None  # robust z-score (default 6)
    metric: Literal["EffectiveCost", "BilledCost"] = "EffectiveCost"
    explain: int = 20  # the largest this many events are drilled into for their explanation
    record: bool = True  # keep the events in the store's anomaly log (the dedupe, acks and notices need it)
    notify: str | None = None  # an SNS topic ARN; None: [anomalies] notify_sns; "" sends nothing
    # source "usage": the store's collected counts x prices (the settings' store); a bill given as well
    # (dataset / files) confirms or withdraws each event, a day's costs known `bill_latency_hours` after it ends
    bill_latency_hours: int = 24

    def __post_init__(self) -> None:
        if self.source in NOT_BUILT:
            raise InputError(NOT_BUILT[self.source], param="source", hint="--source billing")
        if self.source == "ce" and (self.dataset or self.files):
            raise InputError(
                "the ce source reads AWS Cost Anomaly Detection, not a billing dataset",
                param="dataset",
                hint="awscost anomalies compare --dataset DIR puts the bill's anomalies next to AWS's",
            )
        if self.bill_latency_hours < 0:
            raise InputError("the bill's latency is hours, at least 0", param="bill_latency_hours")
        if self.source == "billing" and not self.dataset and not self.files:
            raise InputError("no billing data given", param="dataset", hint="--dataset DIR or --file PATH")
        if self.engine != "duckdb" and (self.files or not self.dataset):
            raise InputError(f"the {self.engine} engine reads a billing dataset", param="engine")
        if self.min_impact is not None and self.min_impact < 0:
            raise InputError("min_impact is dollars per day, at least 0", param="min_impact")
        if self.score is not None and self.score <= 0:
            raise InputError("score must be positive", param="score")
        if self.days is not None and (self.since is not None or not 1 <= self.days <= 400):
            raise InputError(
                "days is a number of days from 1 to 400, instead of since", param="days", hint="--days 14"
            )
        if self.explain < 0:
            raise InputError("explain is a number of events, at least 0", param="explain")
        if self.notify and not self.record:
            raise InputError("notices need the anomaly log (it throttles them)", param="notify")
        if self.notify and (not self.notify.startswith("arn:aws") or ":sns:" not in self.notify):
            raise InputError(f"{self.notify!r} is not an SNS topic ARN", param="notify")


@dataclass
class Result:
    anomalies: list[Any]  # anomalies.detect.Anomaly
    currency: str | None
    first_day: date | None
    last_day: date | None
    series: int
    source: str = "billing"
    warnings: list[str] = field(default_factory=list)
    status: dict[str, str] = field(default_factory=dict)  # event id -> new | grown | known | acked (recorded)
    notified: list[str] = field(default_factory=list)  # ids sent singly
    summarized: list[str] = field(default_factory=list)  # ids counted in the summary notice
    failed: list[str] = field(default_factory=list)  # notices that could not be sent ("id: why")
    topic: str | None = None
    aws: list[Any] = field(default_factory=list)  # source "ce": anomalies.cost_explorer.AwsAnomaly, in order
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
            "anomalies": [e.to_json() for e in self.aws]
            if self.aws
            else [
                {**a.to_json(), **({"status": self.status[a.id]} if a.id in self.status else {})}
                for a in self.anomalies
            ],
            "notices": {
                "topic": self.topic,
                "sent": self.notified,
                "summarized": self.summarized,
            },
            "failed": self.failed,
        }


def run(ctx: Context, params: Params) -> Result:
    from dataclasses import replace

    from awscost.anomalies.config import anomaly_settings

    config = anomaly_settings(ctx.settings)
    thresholds = replace(
        config.thresholds,
        min_impact=params.min_impact if params.min_impact is not None else config.thresholds.min_impact,
        score=params.score if params.score is not None else config.thresholds.score,
    )
    if params.days is not None:
        from datetime import timedelta

        params = replace(params, since=ctx.now().date() - timedelta(days=params.days), days=None)
    if params.source == "ce":
        return _run_ce(ctx, params)  # AWS's own events: not logged here (AWS's subscriptions notify them)
    if params.source == "usage":
        result = _run_usage(ctx, params, thresholds)
        if params.record:
            _record(ctx, params, config, result)
        return result
    found = _scan_bill(ctx, params, thresholds)
    result = Result(found.anomalies, found.currency, found.first_day, found.last_day, found.series)
    if params.record:
        _record(ctx, params, config, result)
    return result


def _record(ctx: Context, params: Params, config: Any, result: Result) -> None:
    """Log the events, then send the notices due (events.py, notify.py)."""
    from awscost.anomalies import events
    from awscost.anomalies.notify import publish

    topic = config.notify_sns if params.notify is None else (params.notify or None)
    now = ctx.now()
    with ctx.store() as store:
        # The usage signal's events carry the bill's verdict on them when this scan was given the bill.
        verdicts = {c.usage_id: c.to_json() for c in result.confirmations}
        tracked = events.record(
            store, result.source, result.anomalies, now, config.renotify_growth, result.currency, verdicts
        )
        result.status = {t.id: t.status for t in tracked}
        result.topic = topic
        due = events.due(tracked)
        if topic and due:
            sns = ctx.session().client("sns", region_name=topic.split(":")[3])
            sent = publish(
                sns, topic, store, due, now, most=config.max_notifications, names=ctx.settings.account_names
            )
            result.notified, result.summarized, result.failed = sent.notified, sent.summarized, sent.failed


def _scan_bill(ctx: Context, params: Params, thresholds: Any) -> Any:
    from awscost.anomalies.bill import scan
    from awscost.billing.engines import open_source

    tag_keys = [ctx.settings.tag_key]
    with open_source(params.engine, params.dataset, params.files, ctx.settings) as bill:
        return scan(
            bill,
            since=params.since,
            thresholds=thresholds,
            tag_keys=tag_keys,
            metric=params.metric,
            explain=params.explain,
        )


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


def _run_usage(ctx: Context, params: Params, thresholds: Any) -> Result:
    """The usage signal over the settings' store; with a bill given, each event confirmed or withdrawn."""
    from datetime import UTC, datetime, timedelta

    from awscost.anomalies import bill as bl
    from awscost.anomalies import usage
    from awscost.anomalies.confirm import confirm
    from awscost.billing.engines import open_source
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
    with open_source(params.engine, params.dataset, params.files, ctx.settings) as bill:
        # The bill's events from the usage scan's first day on (explained by none: only their days count).
        scanned = bl.scan(bill, since=first, thresholds=thresholds, metric=params.metric, explain=0)
        series = bl.series_of(bill, start=first - timedelta(days=bl.HISTORY_DAYS), metric=params.metric)
    result.confirmations = confirm(
        found.anomalies, scanned.anomalies, series, latency=timedelta(hours=params.bill_latency_hours)
    )
    return result


def metrics(params: Params, result: Result) -> tuple[dict[str, str], dict[str, float]]:
    new = sum(1 for s in result.status.values() if s == "new")
    return {"Source": result.source}, {
        "Anomalies": float(len(result.anomalies)),
        "NewAnomalies": float(new),
        "AnomalyNoticesFailed": float(len(result.failed)),
    }


JOB: Job[Params, Result] = Job(
    name="anomaly_scan",
    params=Params,
    run=run,
    description="Cost anomalies of the bill per account and service, each explained in one sentence.",
    metrics=metrics,
    schedule="daily",
    # After the hourly billing load of the early morning, before the daily report (08:00) lists what it
    # found; the last two weeks, so a restated day is seen again but an old event is not raised anew.
    rules=(
        Rule(
            "daily",
            "cron(40 7 * * ? *)",
            {
                "job": "anomaly_scan",
                "source": "billing",
                "dataset": "s3://${DataBucket}/billing/",
                "days": 14,
                "notify": "${AnomalyTopic}",
            },
            "the bill's anomalies of the last 14 days, notices to the anomaly topic",
        ),
        # The live signal: 25 past each hour, after the hourly collect (5 past) has written that hour; events
        # starting in the last 2 days (a re-run updates them; the baseline reads its own weeks before).
        Rule(
            "usage_hourly",
            "cron(25 * * * ? *)",
            {"job": "anomaly_scan", "source": "usage", "days": 2, "notify": "${AnomalyTopic}"},
            "the usage signal's anomalies of the last 2 days, within the hour, notices to the anomaly topic",
        ),
        # Once the bill has landed: the same usage events of the last 14 days confirmed or withdrawn by it,
        # the verdict kept in the anomaly log (a notice only for an event due one, as every run).
        Rule(
            "usage_confirm",
            "cron(50 7 * * ? *)",
            {
                "job": "anomaly_scan",
                "source": "usage",
                "dataset": "s3://${DataBucket}/billing/",
                "days": 14,
                "notify": "${AnomalyTopic}",
            },
            "the usage signal's events of the last 14 days confirmed or withdrawn by the bill",
        ),
    ),
    uses=("store", "data-read", "notify"),
    memory_mb=3008,
    extra="reports",  # DuckDB and numpy
    needs=("duckdb", "numpy"),
)

__all__ = ["JOB", "NOT_BUILT", "Params", "Result"]
