"""`awscost report cost`: the cost reports of the audiences; `awscost report ri`: the AwsRIUsageReport workbook."""

from __future__ import annotations

from typing import Any

import click

from awscost.core.config import Settings
from awscost.core.timeutil import parse_time
from awscost.entrypoints.cli._common import (
    bill_source_options,
    format_option,
    job_context,
    run_job,
    with_settings,
)


@click.group()
def report() -> None:
    """Cost reports (mail, S3, HTML/XLSX/JSON) and the RI workbook."""


@report.command("ri")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False),
    help="The .xlsx file, or an s3://bucket/prefix/ folder.",
)
@click.option("--lookback", type=click.IntRange(1, 3660), default=30, show_default=True, help="Days.")
@click.option("--term", type=click.Choice(["1y", "3y"]), default="1y", show_default=True)
@click.option("--payment", type=click.Choice(["no", "partial", "all"]), default="no", show_default=True)
@click.option("--account", default=None, help="One account instead of the organization-wide total.")
@click.option(
    "--until", default=None, help="Last hour of the history (UTC, inclusive; default the current hour)."
)
@with_settings
def ri(
    settings: Settings,
    out: str,
    lookback: int,
    term: str,
    payment: str,
    account: str | None,
    until: str | None,
) -> None:
    """The AwsRIUsageReport: summary, a sheet per kind x region with charts, back-test, Cost Explorer."""
    from awscost.jobs.ri_report import Params

    params = Params(
        out=out,
        lookback=lookback,
        term=term,  # type: ignore[arg-type]
        payment=payment,  # type: ignore[arg-type]
        account=account,
        until=parse_time(until, where="--until") if until else None,
    )
    with job_context(settings, "writing the workbook") as ctx:
        result = run_job("ri_report", ctx, params)
    for note in result.plan.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(f"wrote {result.path} ({len(result.plan.rows)} groups)")


@report.command("cost")
@click.option(
    "--audience", default=None, help="One audience of [[report.audience]] (default: the organization)."
)
@click.option("--all-audiences", is_flag=True, help="Every configured audience.")
@click.option("--due", is_flag=True, help="The audiences whose schedule is due today (the scheduled run).")
@click.option(
    "--period",
    default=None,
    help="last-month, month-to-date, last-week, YYYY-MM or START..END (UTC days, END included); "
    "default: each audience's schedule (daily: month-to-date, weekly: last-week, monthly: last-month).",
)
@click.option("--source", type=click.Choice(["billing", "ce"]), default="billing", show_default=True)
@bill_source_options
@click.option(
    "--metric",
    type=click.Choice(["EffectiveCost", "BilledCost"]),
    default=None,
    help="Overrides the audiences' metric (default EffectiveCost, amortized).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Write <audience>/<period>/cost-report.{html,xlsx,json} here.",
)
@click.option("--send", is_flag=True, help="Mail each report to its audience's recipients.")
@click.option("--archive", is_flag=True, help="Archive each report in the [report] bucket.")
@click.option(
    "--publish-dashboard",
    is_flag=True,
    help="Put each audience's dashboard pages in the [report] bucket; its mail carries a presigned link.",
)
@click.option(
    "--link-days",
    "dashboard_link_days",
    type=click.IntRange(1, 7),
    default=7,
    show_default=True,
    help="How long the dashboard's presigned link lives (at most 7 days, and no longer than the signer's "
    "credentials: docs/dashboard.md).",
)
@click.option("--resend", is_flag=True, help="Send again what the delivery record says was sent.")
@click.option("--dry-run", is_flag=True, help="Render and say what would be sent; send nothing.")
@click.option("--today", default=None, help="The UTC day of the run (YYYY-MM-DD; default today).")
@click.option(
    "--account",
    "accounts",
    multiple=True,
    help="Narrow each audience to this of its accounts (repeatable; never wider than the audience).",
)
@click.option(
    "--region",
    "regions",
    multiple=True,
    help="Narrow the figures to the bill's rows of this region (repeatable); charges without a region "
    "(tax, Savings Plans fees, global services) are then left out.",
)
@format_option(formats=("table", "json"))
@with_settings
def cost(
    settings: Settings,
    fmt: str,
    today: str | None,
    files: tuple[str, ...],
    accounts: tuple[str, ...],
    regions: tuple[str, ...],
    **options: Any,
) -> None:
    """Cost reports: cost, what changed, tag coverage, usage, services and savings, per audience."""
    from awscost.core.output import dumps
    from awscost.jobs.report import Params, check

    params = Params(
        files=tuple(files),
        accounts=tuple(accounts),
        regions=tuple(regions),
        today=parse_time(today, where="--today").date() if today else None,
        **options,
    )
    with job_context(settings, "building the reports") as ctx:
        result = run_job("report", ctx, params)
    for item in result.reports:
        if fmt == "json":
            if item.document is not None:
                click.echo(dumps(item.document))
            continue
        if item.error:
            click.echo(f"{item.audience} {item.period}: failed: {item.error}", err=True)
            continue
        click.echo(f"{item.audience} {item.period}: {item.headline}")
        for ext, path in item.paths.items():
            click.echo(f"  {ext}: {path}")
        if item.delivery:
            d = item.delivery
            click.echo(f"  delivery: {dumps(d)}")
    if not result.reports:
        click.echo("no report is due", err=True)
    check(result)
