"""`awscost anomalies`: cost anomalies of a billing dataset, each explained in one sentence (job anomaly_scan);
AWS Cost Anomaly Detection's in the same shape (`--source ce`) and both side by side (`compare`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import click

from awscost.core.config import Settings
from awscost.core.output import dumps, emit
from awscost.core.timeutil import parse_time
from awscost.entrypoints.cli._common import (
    bill_source_options,
    format_option,
    job_context,
    run_job,
    with_settings,
)


@click.group()
def anomalies() -> None:
    """Cost anomalies of the bill per account and service: detected, explained, next to AWS's."""


@anomalies.command("detect")
@click.option(
    "--source",
    type=click.Choice(["billing", "usage", "ce"]),
    default="billing",
    show_default=True,
    help="billing (the bill's daily cost); usage (the store's hourly counts x prices, --store; with --dataset "
    "or --file the bill confirms or withdraws each event); ce (AWS Cost Anomaly Detection's anomalies, through "
    "Cost Explorer).",
)
@bill_source_options
@click.option("--since", default=None, help="The first day an anomaly may start on (YYYY-MM-DD).")
@click.option("--days", type=int, default=None, help="Or: anomalies starting in the last DAYS days.")
@click.option(
    "--min-impact", type=str, default=None, help="Dollars per day an anomaly must move (default 50)."
)
@click.option(
    "--score", type=float, default=None, help="The robust z-score an anomaly must reach (default 6)."
)
@click.option(
    "--metric", type=click.Choice(["EffectiveCost", "BilledCost"]), default="EffectiveCost", show_default=True
)
@click.option(
    "--record/--no-record",
    default=True,
    show_default=True,
    help="Keep the events in the store's anomaly log (re-runs update them; ack needs them).",
)
@click.option(
    "--notify",
    default=None,
    metavar="TOPIC_ARN",
    help="Publish the notices due to this SNS topic (default: [anomalies] notify_sns; '' for none).",
)
@click.option(
    "--bill-latency",
    "bill_latency_hours",
    type=click.IntRange(min=0),
    default=24,
    show_default=True,
    help="--source usage: hours after a day's end its costs are on the bill.",
)
@format_option(formats=("table", "json"))
@with_settings
def detect_cmd(
    settings: Settings, fmt: str, since: str | None, min_impact: str | None, **options: Any
) -> None:
    """Detect cost anomalies in the bill, each with its expected and actual cost and one-line explanation.

    An anomaly is a day (or a run of days) of one account's service cost that is both $MIN_IMPACT per day
    and SCORE robust deviations away from the same weekday of the four weeks before it; recurring and
    one-time charges (a monthly fee on the 1st) are not scored. JSON: a list of objects, money as decimal
    strings, dates as YYYY-MM-DD. With --source ce, AWS's anomalies of the last 90 days (or since --since)
    in the same shape, each object also with its source, monitor, root causes and when AWS found it."""
    from awscost.core.errors import InputError
    from awscost.jobs.anomaly_scan import Params

    try:
        impact = Decimal(min_impact) if min_impact is not None else None
    except ArithmeticError:
        raise InputError(f"not a number of dollars: {min_impact!r}", param="min_impact") from None
    params = Params(
        since=parse_time(since, where="--since").date() if since else None,
        min_impact=impact,
        files=tuple(options.pop("files")),
        **options,
    )
    what = "the usage" if params.source == "usage" else "the bill"
    with job_context(settings, f"scanning {what} for anomalies") as ctx:
        result = run_job("anomaly_scan", ctx, params)
    for warning in result.warnings:
        click.echo(f"awscost: warning: {warning}", err=True)
    if params.source == "usage":
        _usage_out(result, fmt)
        return
    if fmt == "json":
        click.echo(dumps(result.to_json()["anomalies"]))
        return
    rows = [
        {
            "date": a.date,
            "kind": a.kind,
            "account": a.account_id,
            "service": a.service,
            "expected/day": a.expected,
            "actual/day": a.actual,
            "impact": a.impact_total,
            "score": round(a.score, 1),
            "open": "open" if a.end is None else "",
            **({"status": result.status[a.id]} if a.id in result.status else {}),
        }
        for a in result.anomalies
    ]
    days = f"{result.first_day} .. {result.last_day}" if result.first_day else "no days"
    if result.source == "ce":
        title = f"AWS Cost Anomaly Detection: {result.series} monitor(s), anomalies ending {days} (USD)"
    else:
        title = f"Anomalies of {result.series} series, {days} ({result.currency or 'no cost'})"
    emit(rows, "table", title=title)
    # The explanations under the table, whole: a table column would wrap a sentence into pieces.
    for a in result.anomalies:
        click.echo(f"{a.date} {a.account_id} {a.service}: {a.explanation}")
    sent = len(result.notified) + len(result.summarized)
    notices = f"; {sent} notified on {result.topic}" if result.topic else ""
    failed = f"; {len(result.failed)} notices FAILED: {'; '.join(result.failed[:3])}" if result.failed else ""
    click.echo(f"{len(rows)} anomal{'y' if len(rows) == 1 else 'ies'}{notices}{failed}", err=True)
    if result.failed:
        raise SystemExit(1)


@anomalies.command("list")
@click.option(
    "--source", type=click.Choice(["billing", "usage", "ce"]), default=None, help="One signal only."
)
@click.option("--open", "only_open", is_flag=True, help="Only the events still open.")
@format_option(formats=("table", "json"))
@with_settings
def list_cmd(settings: Settings, fmt: str, source: str | None, only_open: bool) -> None:
    """The anomalies the scans recorded, with when they were first seen, notified and acknowledged."""
    from awscost.anomalies.events import logged
    from awscost.store import open_store

    with open_store(settings.store, must_exist=True) as store:
        found = [t for t in logged(store, source) if not only_open or t.event.get("end") is None]
    found.sort(key=lambda t: (str(t.event["date"]), t.source, t.id))
    if fmt == "json":
        click.echo(dumps([t.to_json() for t in found]))
        return
    rows = [
        {
            "id": t.id,
            "source": t.source,
            "date": t.event["date"],
            "account": t.event["account_id"],
            "service": t.event["service"],
            "impact": t.event["impact_total"],
            "open": "open" if t.event.get("end") is None else "",
            "notified": (t.notified or {}).get("at", "")[:16],
            "ack": (t.ack or {}).get("by", ""),
            # the usage signal's events: the bill's last verdict and the hours of early warning
            "bill": _verdict(t.verdict),
        }
        for t in found
    ]
    emit(rows, "table", title=f"Recorded anomalies ({settings.store})")


def _verdict(verdict: dict[str, Any] | None) -> str:
    if not verdict:
        return ""
    early = verdict.get("hours_earlier")
    return f"{verdict['status']} {early} h earlier" if early is not None else str(verdict["status"])


@anomalies.command("ack")
@click.argument("anomaly_id")
@click.option("--by", default=None, help="Who acknowledges it (default: $USER).")
@click.option("--note", default="", help="Why: a ticket, a reason.")
@with_settings
def ack_cmd(settings: Settings, anomaly_id: str, by: str | None, note: str) -> None:
    """Acknowledge a recorded anomaly (its id, or six or more of its first characters): no more notices for
    it, however it grows."""
    import getpass
    from datetime import UTC, datetime

    from awscost.anomalies.events import acknowledge
    from awscost.store import open_store

    with open_store(settings.store, must_exist=True) as store:
        tracked = acknowledge(store, anomaly_id, by or getpass.getuser(), note, datetime.now(UTC))
    e = tracked.event
    click.echo(
        f"acknowledged {tracked.source}:{tracked.id} ({e['date']} {e['account_id']} {e['service']}) "
        f"by {tracked.ack['by'] if tracked.ack else '?'} at {tracked.ack['at'] if tracked.ack else '?'}"
    )


@anomalies.command("compare")
@click.option("--dataset", required=True, help="A billing dataset (a directory or s3://BUCKET/PREFIX/).")
@click.option("--since", default=None, help="The first day compared (YYYY-MM-DD; default: the bill's first).")
@format_option(formats=("table", "json"))
@with_settings
def compare_cmd(settings: Settings, fmt: str, dataset: str, since: str | None) -> None:
    """awscost's anomalies of the bill next to AWS Cost Anomaly Detection's: who caught each, when each knew
    (awscost: when the day's bill lands; AWS: its next run after Cost Explorer has the day), how many hours
    earlier awscost was, the impact difference, and why the other side missed the ones only one caught.
    JSON: {"summary": {...}, "pairs": [...]}."""
    from awscost.anomalies.side_by_side import compare, summary
    from awscost.jobs.anomaly_scan import Params

    first = parse_time(since, where="--since").date() if since else None
    with job_context(settings, "comparing awscost's anomalies with AWS's") as ctx:
        # A comparison records and notifies nothing: the scheduled scan owns the anomaly log and its notices.
        bill = run_job("anomaly_scan", ctx, Params(dataset=dataset, since=first, record=False))
        aws = run_job("anomaly_scan", ctx, Params(source="ce", since=first or bill.first_day))
        pairs = compare(bill.anomalies, aws.aws, as_of=ctx.now(), bill_days=(bill.first_day, bill.last_day))
    for warning in aws.warnings:
        click.echo(f"awscost: warning: {warning}", err=True)
    totals = summary(pairs)
    if fmt == "json":
        click.echo(dumps({"summary": totals, "pairs": [p.to_json() for p in pairs]}))
        return
    emit(
        [p.row() for p in pairs],
        "table",
        title=f"awscost (the bill, {bill.first_day} .. {bill.last_day}) and AWS Cost Anomaly Detection",
    )
    for p in pairs:
        if p.reason:
            click.echo(f"{p.date} {p.account_id} {p.service}: only {p.caught_by}: {p.reason}")
    click.echo(
        f"{totals['both']} caught by both, {totals['awscost_only']} by awscost only, {totals['aws_only']} by AWS "
        f"only; median hours awscost was earlier: {totals['median_hours_earlier']}",
        err=True,
    )


def _usage_out(result: Any, fmt: str) -> None:
    """The usage events (and the bill's verdict on each when a bill was given)."""
    from awscost.anomalies.usage import counted

    verdicts = {c.usage_id: c for c in result.confirmations}
    if fmt == "json":
        click.echo(
            dumps(
                [
                    {
                        **u.to_json(),
                        **({"bill": verdicts[u.anomaly.id].to_json()} if u.anomaly.id in verdicts else {}),
                    }
                    for u in result.anomalies
                ]
            )
        )
    else:
        rows = [
            {
                "start": u.anomaly.start[:16] + "Z",
                "kind": u.anomaly.kind,
                "account": u.anomaly.account_id,
                "usage": f"{u.kind} {u.region}",
                "expected/day": u.anomaly.expected,
                "actual/day": u.anomaly.actual,
                "impact": u.anomaly.impact_total,
                "score": round(u.anomaly.score, 1),
                "open": "open" if u.anomaly.end is None else "",
                "bill": verdicts[u.anomaly.id].status if u.anomaly.id in verdicts else "",
            }
            for u in result.anomalies
        ]
        days = f"{result.first_day} .. {result.last_day}" if result.first_day else "no hours"
        emit(rows, "table", title=f"Usage anomalies of {result.series} series, {days} (USD at list price)")
        for u in result.anomalies:
            click.echo(
                f"{u.anomaly.start[:16]}Z {u.anomaly.account_id} {u.kind} {u.region}: {u.anomaly.explanation}"
            )
            if u.anomaly.id in verdicts:
                click.echo(f"  bill: {verdicts[u.anomaly.id].note}")
    left = counted(result.left_out)
    if left:
        click.echo(f"left out: {left}", err=True)
    n = len(result.anomalies)
    click.echo(f"{n} usage anomal{'y' if n == 1 else 'ies'}", err=True)
