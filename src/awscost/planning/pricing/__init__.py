"""Prices: on-demand, reserved (1y/3y x no/partial/all upfront) and Savings Plans rates.

Sources, in order of preference: the AWS Price List API cache in the store (`awscost pricing refresh`), then
the dated snapshot shipped beside this module (built from public price data by scripts/build_price_snapshot.py;
docs/prices.md). Every Price says which one answered (`source_label`), and snapshot prices which of their rates
are derived by a rule rather than copied from a source (`origin`, `label_for`).

For other areas:
    on_demand_hourly(service, type, region, os="linux") -> Decimal | None
    fargate_rates(region, arch="x86_64") -> (vcpu_hour, gb_hour, source_label) | None
use the process default book (the snapshot unless `set_default_book` installed one with the store's cache).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from awscost.planning.pricing.api import load_price_book, write_cache
from awscost.planning.pricing.book import (
    DERIVED,
    TERM_HOURS,
    Price,
    PriceBook,
    ReservedRate,
    compact_origin,
    is_derived_label,
    snapshot_book,
    snapshot_date,
    snapshot_label,
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
    return price.extra["vcpu_hour"], price.extra["gb_hour"], price.label_for("vcpu_hour", "gb_hour")


def price_rows(
    book: PriceBook, *, service: str | None = None, region: str | None = None, type: str | None = None
) -> list[dict[str, Any]]:
    """The prices in `book` as rows (on-demand, each reserved rate "upfront+hourly/h", extras, source, the
    origin of each rate and which are derived), optionally only one service, region or type."""
    rows: list[dict[str, Any]] = []
    for p in sorted(book.select(service, region), key=lambda p: p.key):
        if type and p.type != type:
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
        row["origin"] = "; ".join(f"{label}: {fields}" for label, fields in compact_origin(p.origin).items())
        row["derived"] = " ".join(p.derived_fields)
        rows.append(row)
    return rows


def price_summary(book: PriceBook) -> list[dict[str, Any]]:
    """One row per service, region and source: how many prices, and how many of their rates are a source's
    and how many derived by a rule (what `pricing show` lists when not asked for one service, region or type:
    the snapshot alone holds some 46,000 prices)."""
    counts: dict[tuple[str, str, str], list[int]] = {}
    for p in book:
        c = counts.setdefault((p.service, p.region, p.source_label), [0, 0, 0])
        derived = len(p.derived_fields)
        rates = len(p.origin) or (p.on_demand is not None) + len(p.reserved) + len(p.savings_plans) + len(
            p.extra
        )
        c[0] += 1
        c[1] += rates - derived
        c[2] += derived
    return [
        {"service": s, "region": r, "source": src, "prices": n, "real_rates": real, "derived_rates": derived}
        for (s, r, src), (n, real, derived) in sorted(counts.items())
    ]


def derived_count(labels: Iterable[str | None]) -> int:
    """How many of these source labels (plan rows' `price_source`) mark a derived price."""
    return sum(1 for label in labels if is_derived_label(label))


__all__ = [
    "DERIVED",
    "TERM_HOURS",
    "Price",
    "PriceBook",
    "ReservedRate",
    "default_book",
    "derived_count",
    "fargate_rates",
    "load_price_book",
    "on_demand_hourly",
    "price_rows",
    "price_summary",
    "set_default_book",
    "snapshot_book",
    "snapshot_date",
    "snapshot_label",
    "write_cache",
]
