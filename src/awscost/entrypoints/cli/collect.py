"""`awscost collect`: one collection of accounts x regions x kinds for one sample hour, into the store."""

from __future__ import annotations

import textwrap

import click

from awscost.core.config import Settings
from awscost.core.errors import EXIT_PARTIAL_FAILURE
from awscost.core.output import dumps, emit
from awscost.core.timeutil import format_hour, parse_hour
from awscost.entrypoints.cli._common import csv_list, format_option, job_context, run_job, with_settings
from awscost.usage.kinds import COLLECTED

_KINDS = textwrap.fill(
    "--kinds   hourly (default) | daily | all | a comma list: " + ", ".join(COLLECTED) + ".",
    width=86,
    subsequent_indent=" " * 10,
    break_on_hyphens=False,
)
HELP = f"""Collect usage of KINDS in every account x region, for one UTC sample hour, into the store.

\b
{_KINDS}
          Daily kinds are one sample per day: run `--kinds daily` once a day and
          `--kinds hourly` every hour.
--accounts  comma list of 12-digit ids, "self" (the caller's account) or
          "organizations" (every ACTIVE account; run from the management account).
          Accounts other than the caller's are entered with STS AssumeRole into
          --role-name (once per account per run).
--regions comma list; default the config, else every region enabled in the account.
--at      the sample hour (ISO 8601, floored to the UTC hour; default the current
          hour). Collecting the same hour again overwrites it.

Each account's items (kind:ACCOUNT:region) and the org-wide totals
(kind:ORG_NAME:region, with the accounts included and missing) are written.

\b
Exit status: 0 every unit collected; {EXIT_PARTIAL_FAILURE} some account/region/kind units failed (the
rest is stored; the failures are listed); 2 bad input or config; 3 store error;
4 AWS refused a call the whole run needs (credentials, Organizations).
"""


@click.command("collect", help=HELP)
@click.option(
    "--kinds", default="hourly", show_default=True, help="hourly | daily | all | comma list of kinds."
)
@click.option("--accounts", default=None, help='Comma list of account ids, "self" or "organizations".')
@click.option("--role-name", default=None, help="Role to assume in member accounts.")
@click.option("--external-id", default=None, help="ExternalId for AssumeRole.")
@click.option("--regions", default=None, help="Comma list of regions (default: config, else all enabled).")
@click.option("--at", default=None, metavar="ISO-TIME", help="Sample hour (default: current UTC hour).")
@format_option(formats=("table", "json"))
@with_settings
@click.pass_context
def collect(
    ctx: click.Context,
    settings: Settings,
    kinds: str,
    accounts: str | None,
    role_name: str | None,
    external_id: str | None,
    regions: str | None,
    at: str | None,
    fmt: str,
) -> None:
    from awscost.jobs.collect import Params

    params = Params(
        kinds=kinds,
        accounts=accounts,
        regions=tuple(csv_list(regions) or ()) if regions is not None else None,  # "," is none: an error
        at=parse_hour(at, where="--at") if at else None,
        role_name=role_name,
        external_id=external_id,
    )
    with job_context(settings, "collecting") as job_ctx:
        summary = run_job("collect", job_ctx, params)
    if fmt == "json":
        click.echo(dumps(summary.to_json()))
    else:
        click.echo(
            f"{format_hour(summary.at)}: {summary.items_written} items written to {settings.store}; "
            f"{summary.units_ok}/{summary.units_total} units ok ({len(summary.accounts)} accounts x "
            f"{len(summary.regions)} regions x {len(summary.kinds)} kinds); {summary.api_calls} API calls"
        )
        if summary.failures:
            rows = [f.__dict__ for f in summary.failures]
            emit(rows, "table", columns=["account", "region", "kind", "reason"], title="Failures")
    if summary.failures:
        ctx.exit(EXIT_PARTIAL_FAILURE)
