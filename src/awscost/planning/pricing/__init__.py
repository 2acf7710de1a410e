"""Prices: on-demand, reserved (1y/3y x no/partial/all upfront) and Savings Plans rates.

Sources, in order of preference: the AWS Price List API cache in the store (`awscost pricing refresh`), then
the dated snapshot shipped in awscost/data. Every Price says which one answered (`source_label`).

For other areas:
    on_demand_hourly(service, type, region, os="linux") -> Decimal | None
    fargate_rates(region, arch="x86_64") -> (vcpu_hour, gb_hour, source_label) | None
use the process default book (the snapshot unless `set_default_book` installed one with the store's cache).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from awscost.planning.pricing.api import load_price_book, write_cache
from awscost.planning.pricing.book import (
    TERM_HOURS,
    Price,
    PriceBook,
    ReservedRate,
    snapshot_book,
    snapshot_date,
)

_default: PriceBook | None = None


def default_book() -> PriceBook:
    return _default if _default is not None else snapshot_book()


def set_default_book(book: PriceBook | None) -> None:
    """Install the book (e.g. `load_price_book(store)`) that the module-level helpers answer from."""
    global _default
    _default = book


def on_demand_hourly(service: str, type: str, region: str, os: str = "linux") -> Decimal | None:
    """On-demand $/hour of one instance/node (`os` = OS for ec2, engine for rds); None when unknown."""
    return default_book().on_demand_hourly(service, type, region, os)


def fargate_rates(region: str, arch: str = "x86_64") -> tuple[Decimal, Decimal, str] | None:
    """Fargate Linux (vCPU-hour, GB-hour, source label) in `region`; None when unknown."""
    price = default_book().fargate_rates(region, arch)
    if price is None or "vcpu_hour" not in price.extra or "gb_hour" not in price.extra:
        return None
    return price.extra["vcpu_hour"], price.extra["gb_hour"], price.source_label


def price_rows(
    book: PriceBook, *, service: str | None = None, region: str | None = None, type: str | None = None
) -> list[dict[str, Any]]:
    """The prices in `book` as rows (on-demand, each reserved rate "upfront+hourly/h", extras, source),
    optionally only one service, region or type."""
    rows: list[dict[str, Any]] = []
    for p in sorted(book, key=lambda p: p.key):
        if (service and p.service != service) or (region and p.region != region) or (type and p.type != type):
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
    return rows


__all__ = [
    "TERM_HOURS",
    "Price",
    "PriceBook",
    "ReservedRate",
    "default_book",
    "fargate_rates",
    "load_price_book",
    "on_demand_hourly",
    "price_rows",
    "set_default_book",
    "snapshot_book",
    "snapshot_date",
    "write_cache",
]
