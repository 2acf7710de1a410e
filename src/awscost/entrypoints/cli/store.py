"""`awscost store init|info`: create the store's tables, and say what it holds."""

from __future__ import annotations

from typing import Any

import click

from awscost.core.config import Settings
from awscost.core.output import emit
from awscost.core.timeutil import format_hour
from awscost.store import Store, open_store

from ._common import format_option, with_settings


def store_info(store: Store) -> dict[str, Any]:
    """URL, item count, resources, first/last time. SQLite answers from its indexes; DynamoDB scans."""
    info = getattr(store, "info", None)
    if callable(info):
        s = info()
        return {
            "url": store.url,
            "items": s.items,
            "resources": s.resources,
            "first": format_hour(s.first_time) if s.first_time else None,
            "last": format_hour(s.last_time) if s.last_time else None,
            "map_items": s.map_items,
        }
    n = 0
    resources: set[str] = set()
    first = last = None
    for item in store.query():
        n += 1
        resources.add(item.aws_resource)
        first = item.time if first is None or item.time < first else first
        last = item.time if last is None or item.time > last else last
    return {
        "url": store.url,
        "items": n,
        "resources": len(resources),
        "first": format_hour(first) if first else None,
        "last": format_hour(last) if last else None,
        "map_items": sum(1 for _ in store.scan_map()),
    }


@click.group()
def store() -> None:
    """Create and inspect the store (sqlite:///PATH or dynamodb://TABLE?region=R)."""


@store.command()
@with_settings
def init(settings: Settings) -> None:
    """Create the tables: for DynamoDB AWSCost + AWSCostMap (on-demand, encrypted, point-in-time recovery);
    for SQLite the file. Safe to run again."""
    s = open_store(settings.store)
    try:
        ensure = getattr(s, "ensure_tables", None)
        if callable(ensure):
            for line in ensure():
                click.echo(line)
        else:
            s.init()
            click.echo(f"ready: {s.url}")
    finally:
        s.close()


@store.command()
@format_option()
@with_settings
def info(settings: Settings, fmt: str) -> None:
    """Item count, number of resources and the first and last hour in the store."""
    s = open_store(settings.store, must_exist=True)
    try:
        row = store_info(s)
    finally:
        s.close()
    if fmt == "table":
        for key, value in row.items():
            click.echo(f"{key + ':':<11}{'-' if value is None else value}")
    else:
        emit([row], fmt)
