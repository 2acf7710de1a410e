"""`awscost pricing refresh|show`: the Price List API cache in the store, and the prices in use."""

from __future__ import annotations

import click

from awscost.core.config import Settings
from awscost.core.output import emit
from awscost.entrypoints.cli._common import csv_list, format_option, job_context, run_job, with_settings


@click.group()
def pricing() -> None:
    """Prices: AWS Price List API (cached in the store) over the packaged dated snapshot."""


@pricing.command()
@click.option(
    "--services", default=None, help="Comma-separated: ec2,rds,elasticache,es,redshift,dynamodb,fargate."
)
@click.option(
    "--regions", default=None, help="Comma-separated regions (default: the settings', else where types ran)."
)
@click.option(
    "--types",
    default=None,
    help="Comma-separated instance/node types (default: those the store saw in the last 7 days).",
)
@with_settings
def refresh(settings: Settings, services: str | None, regions: str | None, types: str | None) -> None:
    """Query the Price List API for the wanted types and store the answers in the cache."""
    from awscost.jobs.pricing_refresh import NothingFetchedError, Params

    # A list given empty (`--regions ","`) stays empty, so the job refuses it: only an option not given is "all".
    params = Params(
        services=None if services is None else tuple(csv_list(services) or ()),
        regions=None if regions is None else tuple(csv_list(regions) or ()),
        types=None if types is None else tuple(csv_list(types) or ()),
    )
    try:
        with job_context(settings, "pricing") as ctx:
            result = run_job("pricing_refresh", ctx, params)
    except NothingFetchedError as exc:
        for line in exc.failed[:5]:
            click.echo(f"warning: {line}", err=True)
        raise
    if result.cached:
        click.echo(f"cached {result.cached} prices from the AWS Price List API ({result.queries} queries)")
    for line in result.failed[:5]:
        click.echo(f"warning: {line}", err=True)
    if result.failed:
        click.echo(f"{len(result.failed)} queries failed; those prices come from {result.fallback}", err=True)


@pricing.command()
@click.option("--service", default=None)
@click.option("--region", default=None)
@click.option("--type", "itype", default=None)
@with_settings
@format_option()
def show(settings: Settings, fmt: str, service: str | None, region: str | None, itype: str | None) -> None:
    """Prices in use (cache over snapshot), each with its source and date, the origin of each rate and which
    are derived by a rule (docs/prices.md). Without --service, --region or --type: how many prices each
    service and region has, from which source."""
    from awscost.jobs.base import Context
    from awscost.jobs.pricing_refresh import price_book
    from awscost.planning.pricing import price_rows, price_summary

    book = price_book(Context(settings))
    for note in book.notes:
        click.echo(f"note: {note}", err=True)
    if not (service or region or itype):
        emit(price_summary(book), fmt)
        return
    emit(price_rows(book, service=service, region=region, type=itype), fmt)
