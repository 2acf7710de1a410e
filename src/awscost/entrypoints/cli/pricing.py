"""`awscost pricing refresh|show`: the Price List API cache in the store, and the prices in use."""

from __future__ import annotations

from typing import Any

import click

from awscost.core.config import Settings
from awscost.core.errors import AwsAccessError
from awscost.core.output import emit

from ._common import csv_list, format_option, with_settings


@click.group()
def pricing() -> None:
    """Prices: AWS Price List API (cached in the store) over the packaged dated snapshot."""


@pricing.command()
@click.option("--services", default=None, help="Comma-separated: ec2,rds,elasticache,es,redshift,fargate.")
@click.option(
    "--regions", default=None, help="Comma-separated regions (default: the settings', else the snapshot's)."
)
@click.option("--types", default=None, help="Comma-separated instance/node types (default: the snapshot's).")
@with_settings
def refresh(settings: Settings, services: str | None, regions: str | None, types: str | None) -> None:
    """Query the Price List API for the wanted types and store the answers in the cache."""
    from awscost.planning.pricing.api import (
        fetch_prices,
        pricing_client,
        read_cache,
        wanted_prices,
        write_cache,
    )
    from awscost.planning.pricing.book import snapshot_date
    from awscost.store import open_store

    store = open_store(settings.store)
    try:
        wanted = wanted_prices(
            store,
            org_name=settings.org_name,
            services=csv_list(services),
            regions=csv_list(regions) or list(settings.regions) or None,
            types=csv_list(types),
        )
        result = fetch_prices(pricing_client(), wanted)
        ec2 = sorted({(p.region, p.type) for p in result.fetched if p.service == "ec2"})
        if ec2:
            # Savings Plans rates join the on-demand/reserved prices just fetched (never stand alone).
            from awscost.aws.session import client, client_config, make_session
            from awscost.planning.pricing.api import merge_prices
            from awscost.planning.pricing.savings_plans import fetch_savings_plans_rates

            sp_client = client(make_session(), "savingsplans", "us-east-1", config=client_config(2, 4))
            date = max(p.date for p in result.fetched)
            sp = fetch_savings_plans_rates(sp_client, ec2, date=date)
            keys = {p.key for p in result.fetched}
            result.fetched = merge_prices([*result.fetched, *(p for p in sp.fetched if p.key in keys)])
            result.failed += sp.failed
            result.calls += sp.calls
        if result.fetched:
            n = write_cache(store, result.fetched)
            click.echo(f"cached {n} prices from the AWS Price List API ({result.calls} queries)")
        if result.failed:
            for line in result.failed[:5]:
                click.echo(f"warning: {line}", err=True)
            cached = read_cache(store)
            fallback = (
                f"the cache ({len(cached)} prices) and the snapshot {snapshot_date()}"
                if cached
                else f"the packaged snapshot {snapshot_date()}"
            )
            if not result.fetched:
                raise AwsAccessError(
                    f"Price List API unreachable, nothing fetched ({result.failed[0].split(': ', 1)[-1]});"
                    f" prices come from {fallback}",
                    where="pricing:GetProducts us-east-1",
                )
            click.echo(f"{len(result.failed)} queries failed; those prices come from {fallback}", err=True)
    finally:
        store.close()


@pricing.command()
@click.option("--service", default=None)
@click.option("--region", default=None)
@click.option("--type", "itype", default=None)
@with_settings
@format_option()
def show(settings: Settings, fmt: str, service: str | None, region: str | None, itype: str | None) -> None:
    """Prices in use (cache over snapshot), each with its source and date."""
    from awscost.planning.pricing.api import load_price_book
    from awscost.store import open_store

    store = open_store(settings.store)
    try:
        book = load_price_book(store)
    finally:
        store.close()
    for note in book.notes:
        click.echo(f"note: {note}", err=True)
    rows: list[dict[str, Any]] = []
    for p in sorted(book, key=lambda p: p.key):
        if (
            (service and p.service != service)
            or (region and p.region != region)
            or (itype and p.type != itype)
        ):
            continue
        row: dict[str, Any] = {
            "service": p.service,
            "region": p.region,
            "type": p.type,
            "variant": p.variant,
            "on_demand": p.on_demand,
        }
        for k in ("1y/no", "1y/partial", "1y/all", "3y/no", "3y/partial", "3y/all"):
            rate = p.reserved.get(k)
            row[f"ri_{k}"] = None if rate is None else f"{rate.upfront}+{rate.hourly}/h"
        row.update({k: str(v) for k, v in p.extra.items()})
        row["source"] = p.source_label
        rows.append(row)
    emit(rows, fmt)
