"""The live usage page's figures: the collector's last hour (usage/live.py) and its estimated cost rate, the
counts x the price book's on-demand rates, priced by the usage signal's own function (anomalies/usage.py
`usage_rate`), so the page and the signal never disagree on what an hour of usage costs at list price.

The total leaves out an `ec2` row where an `ec2os` row of the same account and region counts the same
instances (ec2os names the OS the price depends on; the usage signal reads it the same way).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from awscost.store.base import Store
from awscost.usage.live import LiveUsage, live_usage

Key = tuple[str, str, str]  # (kind, account, region)
METRIC = "estimated cost rate, $/hour: units running x the on-demand hourly rate of each type"
BASIS = "on-demand list price"
COUNTED_BY_EC2OS = "counted by ec2os"


@dataclass(frozen=True)
class LiveView:
    usage: LiveUsage
    rates: dict[Key, Decimal | None] = field(default_factory=dict)  # $/hour; None: nothing of it priced
    unpriced: dict[Key, str] = field(default_factory=dict)  # why a row (or part of it) has no rate
    total: Decimal = Decimal(0)  # $/hour over the rows, ec2 left out where ec2os counts the same instances
    sources: tuple[str, ...] = ()  # the price sources used ("snapshot 2026-07-20")
    left_out_of_total: tuple[Key, ...] = ()


def price_live(live: LiveUsage, book: Any) -> LiveView:
    """The last hour's rows of `live` priced with `book` (a planning.pricing PriceBook)."""
    from awscost.anomalies.usage import usage_rate

    cache: dict[tuple[str, str, str], Decimal | None] = {}
    rates: dict[Key, Decimal | None] = {}
    unpriced: dict[Key, str] = {}
    sources: set[str] = set()
    for key, counts in live.keys_now.items():
        kind, _account, region = key
        rate, left_out, used = usage_rate(book, kind, region, counts, cache)
        rates[key] = rate
        sources.update(used)
        if left_out:
            unpriced[key] = ", ".join(f"{n} type(s): {why}" for why, n in sorted(left_out.items()))
    with_os = {(a, r) for k, a, r in rates if k == "ec2os"}
    skipped = tuple(k for k in rates if k[0] == "ec2" and (k[1], k[2]) in with_os)
    total = sum((v for k, v in rates.items() if v is not None and k not in skipped), Decimal(0))
    return LiveView(live, rates, unpriced, total, tuple(sorted(sources)), skipped)


def live_view(
    store: Store, *, accounts: frozenset[str] | None = None, region: str | None = None, book: Any = None
) -> LiveView:
    """The live page's figures for the viewer's accounts (None: every account) and region; `book` None: the
    store's price book (the snapshot, overlaid with the Price List API cache the store holds)."""
    if book is None:
        from awscost.planning.pricing import load_price_book

        book = load_price_book(store)
    return price_live(live_usage(store, accounts=accounts, region=region), book)


__all__ = ["BASIS", "METRIC", "LiveView", "live_view", "price_live"]
