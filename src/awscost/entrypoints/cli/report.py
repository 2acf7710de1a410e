"""`awscost report ri`: the AwsRIUsageReport workbook."""

from __future__ import annotations

import click

from awscost.core.config import Settings
from awscost.core.timeutil import parse_time
from awscost.entrypoints.cli._common import job_context, run_job, with_settings


@click.group()
def report() -> None:
    """Excel reports."""


@report.command("ri")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="The .xlsx file to write.")
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
