"""`awscost anomalies`: cost anomalies of a billing dataset, each explained in one sentence (job anomaly_scan)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import click

from awscost.core.config import Settings
from awscost.core.output import dumps, emit
from awscost.core.timeutil import parse_time
from awscost.entrypoints.cli._common import format_option, job_context, run_job, with_settings


@click.group()
def anomalies() -> None:
    """Cost anomalies of the bill per account and service: detected, explained."""


@anomalies.command("detect")
@click.option(
    "--source",
    type=click.Choice(["billing", "usage", "ce"]),
    default="billing",
    show_default=True,
    help="billing (the bill's daily cost); usage (the store's hourly counts x prices, --store; with --dataset "
    "or --file the bill confirms or withdraws each event); ce is not built yet and says so.",
)
@click.option("--dataset", default=None, help="A billing dataset (a directory or s3://BUCKET/PREFIX/).")
@click.option("--file", "files", multiple=True, help="Billing files (repeatable), instead of --dataset.")
@click.option("--since", default=None, help="The first day an anomaly may start on (YYYY-MM-DD).")
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
    "--engine",
    type=click.Choice(["duckdb", "spark", "athena"]),
    default="duckdb",
    show_default=True,
    help="Where the bill is asked (spark, athena: over the --dataset; docs/scaling.md).",
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
    strings, dates as YYYY-MM-DD."""
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
    if params.source == "usage":
        _usage_out(result, fmt)
        return
    if fmt == "json":
        click.echo(dumps([a.to_json() for a in result.anomalies]))
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
        }
        for a in result.anomalies
    ]
    days = f"{result.first_day} .. {result.last_day}" if result.first_day else "no days"
    emit(rows, "table", title=f"Anomalies of {result.series} series, {days} ({result.currency or 'no cost'})")
    # The explanations under the table, whole: a table column would wrap a sentence into pieces.
    for a in result.anomalies:
        click.echo(f"{a.date} {a.account_id} {a.service}: {a.explanation}")
    click.echo(f"{len(rows)} anomal{'y' if len(rows) == 1 else 'ies'}", err=True)


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
