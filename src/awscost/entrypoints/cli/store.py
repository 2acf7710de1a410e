"""`awscost store init|info`: create the store's tables, and say what it holds."""

from __future__ import annotations

import click

from awscost.core.config import Settings
from awscost.core.output import emit
from awscost.entrypoints.cli._common import format_option, with_settings
from awscost.store import open_store, store_info


@click.group()
def store() -> None:
    """Create and inspect the store (sqlite:///PATH or dynamodb://TABLE?region=R)."""


@store.command()
@with_settings
def init(settings: Settings) -> None:
    """Create the tables: for DynamoDB AWSCost + AWSCostMap (on-demand, encrypted, point-in-time recovery);
    for SQLite the file. Safe to run again."""
    with open_store(settings.store) as s:
        ensure = getattr(s, "ensure_tables", None)
        if callable(ensure):
            for line in ensure():
                click.echo(line)
        else:
            s.init()
            click.echo(f"ready: {s.url}")


@store.command()
@format_option()
@with_settings
def info(settings: Settings, fmt: str) -> None:
    """Item count, number of resources and the first and last hour in the store."""
    with open_store(settings.store, read_only=True) as s:
        row = store_info(s)
    if fmt == "table":
        for key, value in row.items():
            click.echo(f"{key + ':':<11}{'-' if value is None else value}")
    else:
        emit([row], fmt)
