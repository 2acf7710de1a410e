"""The live usage a front end shows (the dashboard, the Slack command; views/live.py names it for them):
the collector's hourly counts by kind x account x region, the last collected hour, and the hourly totals
behind them, read from the usage store for a viewer's accounts.

`last_hour` is the cheap marker a live page polls (one GetItem per collected kind, the markers the collector
writes: usage/freshness.py), so a new hour is noticed without reading the usage items per client.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from awscost.store.base import Store
from awscost.usage.freshness import COLLECTED, MARKER_PREFIX
from awscost.usage.kinds import CATALOG

HOURS = 48  # the hours a live page draws
HOURLY = frozenset(s.name for s in CATALOG if s.cadence == "hourly") & COLLECTED


def last_hour(store: Store) -> datetime | None:
    """The latest hour any hourly kind was collected for (the collector's markers), or None."""
    from awscost.core.timeutil import parse_time

    hours = []
    for kind in sorted(HOURLY):
        held = store.get_map(f"{MARKER_PREFIX}{kind}")
        if held and held.get("hour"):
            hours.append(parse_time(str(held["hour"]), where=f"{MARKER_PREFIX}{kind}"))
    return max(hours, default=None)


@dataclass(frozen=True)
class LiveUsage:
    last_hour: datetime | None
    # (kind, account, region) -> units running in the last hour (instances, nodes, capacity units)
    now: dict[tuple[str, str, str], Decimal] = field(default_factory=dict)
    # kind -> (hour, units) for each hour of the window, oldest first
    hourly: dict[str, list[tuple[datetime, Decimal]]] = field(default_factory=dict)
    accounts: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    # (kind, account, region) -> usage key -> units in the last hour: what a cost rate prices (the key names
    # the type, and for ec2os the OS, a price depends on)
    keys_now: dict[tuple[str, str, str], dict[str, Decimal]] = field(default_factory=dict)


def live_usage(
    store: Store,
    *,
    accounts: frozenset[str] | None = None,
    region: str | None = None,
    hours: int = HOURS,
) -> LiveUsage:
    """The hourly kinds' units for the viewer's accounts (None: every account) and region (None: all)."""
    last = last_hour(store)
    if last is None:
        return LiveUsage(None)
    since = last - timedelta(hours=hours - 1)
    now: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    keys_now: dict[tuple[str, str, str], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    per_hour: dict[str, dict[datetime, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    seen_accounts: set[str] = set()
    seen_regions: set[str] = set()
    for kind in sorted(HOURLY):
        for item in store.query(kind=kind, since=since, until=last + timedelta(hours=1)):
            if not item.account.isdigit():
                continue  # the organization's total: the accounts' items are read instead
            if accounts is not None and item.account not in accounts:
                continue
            seen_accounts.add(item.account)
            seen_regions.add(item.region)
            if region is not None and item.region != region:
                continue
            units = sum((Decimal(str(v)) for v in item.usage.values()), Decimal(0))
            per_hour[kind][item.time] += units
            if item.time == last:
                now[(kind, item.account, item.region)] += units
                counts = keys_now[(kind, item.account, item.region)]  # made even when empty: nothing runs
                for key, count in item.usage.items():
                    counts[key] += Decimal(str(count))
    hourly = {
        kind: [
            (since + timedelta(hours=h), by_hour.get(since + timedelta(hours=h), Decimal(0)))
            for h in range(hours)
        ]
        for kind, by_hour in sorted(per_hour.items())
    }
    return LiveUsage(
        last,
        dict(sorted(now.items())),
        hourly,
        tuple(sorted(seen_accounts)),
        tuple(sorted(seen_regions)),
        {k: dict(v) for k, v in sorted(keys_now.items())},
    )


def as_json(live: LiveUsage) -> dict[str, Any]:
    return {
        "last_hour": None if live.last_hour is None else live.last_hour.isoformat(),
        "now": [
            {"kind": k, "account_id": a, "region": r, "units": str(v)} for (k, a, r), v in live.now.items()
        ],
    }


__all__ = ["HOURS", "LiveUsage", "as_json", "last_hour", "live_usage"]
