"""Stores behind one protocol, chosen by URL: one registry of schemes.

sqlite:///path/to/awscost.db     embedded default (file created on first use)
dynamodb://AWSCost?region=us-east-1[&map_table=AWSCostMap]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from awscost.core.errors import ConfigError, StoreError
from awscost.core.registry import Registry
from awscost.core.timeutil import format_hour
from awscost.store.base import Store, UsageItem, split_resource

# scheme -> "module:factory"; the factory takes the URL and `read_only` and returns a Store. Imported lazily.
BACKENDS: Registry[Callable[..., Store]] = Registry("store backend")
BACKENDS.add("sqlite", "awscost.store.sqlite:open_sqlite")
BACKENDS.add("dynamodb", "awscost.store.dynamodb:open_dynamodb")

DEFAULT_STORE_URL = "sqlite:///awscost.db"


def store_exists(url: str) -> bool:
    """False only for a SQLite path where no store file is (other backends say so on first use)."""
    if urlsplit(url).scheme != "sqlite":
        return True
    from pathlib import Path

    from awscost.store.sqlite import sqlite_path

    path = sqlite_path(url)
    return path == ":memory:" or Path(path).expanduser().exists()


def check_url(url: str) -> None:
    """Raise the ConfigError a bad store URL gets, without opening anything: a command that reads its input
    before it opens the store (`usage import`) still names a bad --store first."""
    scheme = urlsplit(url).scheme
    if scheme not in BACKENDS:
        raise ConfigError(
            f"unknown store URL scheme {scheme!r} in {url!r}",
            param="store",
            hint="use sqlite:///PATH or dynamodb://TABLE?region=REGION",
        )
    if scheme == "sqlite":
        from awscost.store.sqlite import sqlite_path

        sqlite_path(url)
    else:
        from awscost.store.dynamodb import parse_url

        parse_url(url)


def open_store(url: str, *, must_exist: bool = False, read_only: bool = False) -> Store:
    """Open the store at `url`. `must_exist`: commands that only read say so, so that a mistyped SQLite path
    is an error rather than a new, empty store (DynamoDB reports a missing table on first use anyway).
    `read_only` (implies `must_exist`): nothing is written on open either (SQLite opens the file read-only:
    no lock is waited for, no table is added to a database that is not a store)."""
    scheme = urlsplit(url).scheme
    check_url(url)
    if (must_exist or read_only) and not store_exists(url):
        from awscost.store.sqlite import sqlite_path

        raise StoreError(
            "no store here",
            where=sqlite_path(url),
            hint="collect first (the collect job, or the demo), or point the store setting at an existing one",
        )
    return BACKENDS.get(scheme)(url, read_only=read_only)


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


__all__ = [
    "BACKENDS",
    "DEFAULT_STORE_URL",
    "Store",
    "UsageItem",
    "open_store",
    "split_resource",
    "store_exists",
    "store_info",
]
