"""`awscost budgets apply`: the AWS Budgets of [budgets] in awscost.toml, created or updated in the payer
account (job `budgets_apply`)."""

from __future__ import annotations

import click

from awscost.core.config import Settings
from awscost.core.output import dumps, emit
from awscost.entrypoints.cli._common import format_option, job_context, run_job, with_config


@click.group()
def budgets() -> None:
    """AWS Budgets from [budgets] of awscost.toml: per account or audience, monthly, with alerts."""


@budgets.command("apply")
@click.option("--prune", is_flag=True, help="Delete the awscost- budgets [budgets] no longer holds.")
@click.option("--dry-run", is_flag=True, help="Say what would change; change nothing.")
@format_option()
@with_config
def apply(settings: Settings, prune: bool, dry_run: bool, fmt: str) -> None:
    """Create or update the awscost- budgets so that AWS matches the config; a second run changes nothing.

    Budgets made by hand (other names) are never touched. A budget awscost made that the config no longer
    holds is listed as "not in config" and deleted only with --prune.
    """
    from awscost.jobs.budgets_apply import Params

    with job_context(settings, "applying budgets") as ctx:
        result = run_job("budgets_apply", ctx, Params(prune=prune, dry_run=dry_run))
    shown = {"create": "created", "update": "updated", "remove": "deleted", "report": "not in config"}
    if dry_run:
        shown = {"create": "would create", "update": "would update", "remove": "would delete"} | {
            "report": "not in config"
        }
    rows = [
        {
            "budget": c.name,
            "action": shown.get(c.action, c.action),
            "monthly_usd": c.amount,
            "what": "; ".join(c.changes),
        }
        for c in result.changes
    ]
    title = f"Budgets of account {result.account}" + (" (dry run: nothing changed)" if dry_run else "")
    if fmt == "json":
        click.echo(dumps(result.to_json()))
        return
    emit(rows, fmt, columns=["budget", "action", "monthly_usd", "what"], title=title)
    if fmt == "table":
        if not result.changed:
            click.echo("no change", err=True)
        reported = result.names("report")
        if reported and not prune:
            click.echo(
                f"{len(reported)} awscost- budget(s) not in [budgets] kept; --prune deletes them", err=True
            )
