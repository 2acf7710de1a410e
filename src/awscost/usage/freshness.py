"""How fresh the collection is: per kind, the last sample hour in the store and whether it is overdue.

The health of collection is read from what was collected, not from the collect job's saved result: that one
item is overwritten by whichever collection ran last (hourly or daily), and a run that wrote some accounts
and failed others still wrote samples. Only the kinds a collector writes are here (the catalog's `writer`):
what a job writes (ce_fetch's ce-*, service_costs' svc-cost, a day after the hours it covers) is watched by
that job's own last success. A kind is expected once the store holds a resource of it (a kind nobody has, say
Redshift in an organization without clusters, is never collected and never overdue).

The collector keeps the last hour of each kind in a map item (`collected:<kind>`, usage/runner.py): health
reads those, one GetItem per kind, rather than the usage items of the window (on DynamoDB a Scan of the whole
table, every hour). A store written before the markers existed is read the old way until its first collection.

Hourly kinds are overdue when their last sample hour is more than 2 hours old (two hours missed: the
collection of hour H runs at H:05), daily kinds (the catalog's) after 26 hours. Only the `lookback` window
is read (the store's items are keyed by resource and hour: a longer window reads more); a kind the store knows
with no sample in it is overdue, its last hour unknown (None).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from awscost.core.timeutil import floor_hour, format_hour, parse_time
from awscost.store.base import Store, split_resource
from awscost.usage.gaps import cadence_of
from awscost.usage.kinds import CATALOG

COLLECTED = frozenset(s.name for s in CATALOG if s.writer == "collector")

OVERDUE_AFTER = {"hourly": timedelta(hours=2), "daily": timedelta(hours=26)}
LOOKBACK = timedelta(days=8)
MARKER_PREFIX = "collected:"


@dataclass(frozen=True)
class KindFreshness:
    kind: str
    cadence: str  # hourly | daily
    last_hour: datetime | None  # the last sample hour in the window; None: none in it
    seconds_since: float | None  # now - last_hour
    overdue: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "cadence": self.cadence,
            "last_hour": format_hour(self.last_hour) if self.last_hour is not None else None,
            "seconds_since": self.seconds_since,
            "overdue": self.overdue,
        }


def kind_freshness(store: Store, now: datetime, lookback: timedelta = LOOKBACK) -> list[KindFreshness]:
    """Every collected kind the store holds a resource of, sorted by name, with its last sample hour since
    `now - lookback`."""
    marked = _markers(store)
    if marked:
        return [_freshness(kind, cadence_of(kind), hour, now) for kind, hour in sorted(marked.items())]
    last: dict[str, datetime] = {}
    daily: set[str] = set()
    for item in store.query(since=floor_hour(now - lookback)):
        if item.kind not in COLLECTED:
            continue
        if item.time > now:
            continue  # a sample filed under an hour to come (a clock ahead) says nothing of the past
        if item.kind not in last or item.time > last[item.kind]:
            last[item.kind] = item.time
        if item.attrs.get("granularity") in ("day", "daily"):
            daily.add(item.kind)
    kinds = ({split_resource(r)[0] for r in store.resources()} & COLLECTED) | set(last)
    return [_freshness(k, "daily" if k in daily else cadence_of(k), last.get(k), now) for k in sorted(kinds)]


def _freshness(kind: str, cadence: str, hour: datetime | None, now: datetime) -> KindFreshness:
    seconds = (now - hour).total_seconds() if hour is not None else None
    overdue = seconds is None or seconds > OVERDUE_AFTER[cadence].total_seconds()
    return KindFreshness(kind, cadence, hour, seconds, overdue)


def _markers(store: Store) -> dict[str, datetime]:
    """kind -> its last collected hour, from the collector's markers (GetItem per collected kind)."""
    out = {}
    for kind in sorted(COLLECTED):
        held = store.get_map(f"{MARKER_PREFIX}{kind}")
        if held and held.get("hour"):
            out[kind] = parse_time(str(held["hour"]), where=f"{MARKER_PREFIX}{kind}")
    return out


__all__ = ["COLLECTED", "LOOKBACK", "MARKER_PREFIX", "OVERDUE_AFTER", "KindFreshness", "kind_freshness"]
