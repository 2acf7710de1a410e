"""Missing samples, made visible: per awsResource, the hours (or days) with no item.

Hourly kinds expect one item per UTC hour; daily kinds (the catalog's: es, redshift, ri-*, ce-*; and any
resource whose items say `"granularity": "day"`) one item per UTC day, at whatever hour of that day it was
written. The span checked is the resource's first to last sample, or
the window given (`since` <= t < `until`), so a resource that stopped reporting shows its silence.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from awscost.core.errors import InputError
from awscost.core.timeutil import floor_hour, format_hour
from awscost.store.base import Store, ceil_hour
from awscost.usage import kinds as catalog

CADENCES = catalog.CADENCES
_STEP = {"hourly": timedelta(hours=1), "daily": timedelta(days=1)}


def cadence_of(kind: str, expected: str = "hourly") -> str:
    """The catalog's daily kinds are always checked per day; other kinds at the `expected` cadence (kinds the
    catalog does not know: `expected`)."""
    if expected not in CADENCES:
        raise InputError(f"unknown cadence {expected!r}", param="expected", hint="use hourly or daily")
    if kind in catalog.DAILY_KINDS:
        return "daily"
    return expected


@dataclass(frozen=True)
class Gap:
    """`missing` consecutive periods with no item, from `start` (inclusive) to `end` (exclusive)."""

    aws_resource: str
    cadence: str  # hourly | daily
    start: datetime
    end: datetime
    missing: int

    def to_row(self) -> dict[str, Any]:
        return {
            "awsResource": self.aws_resource,
            "cadence": self.cadence,
            "from": format_hour(self.start),
            "until": format_hour(self.end),
            "missing": self.missing,
        }


def _floor(dt: datetime, cadence: str) -> datetime:
    h = floor_hour(dt)
    return h.replace(hour=0) if cadence == "daily" else h


def _ceil(dt: datetime, cadence: str) -> datetime:
    h = ceil_hour(dt)
    if cadence == "daily" and h != h.replace(hour=0):
        return h.replace(hour=0) + timedelta(days=1)
    return h


def missing_ranges(
    present: Iterable[datetime], start: datetime, end: datetime, cadence: str
) -> list[tuple[datetime, datetime, int]]:
    """Runs of periods in [start, end) (both on period boundaries) that hold none of `present`."""
    step = _STEP[cadence]
    seen = {_floor(t, cadence) for t in present}
    out: list[tuple[datetime, datetime, int]] = []
    run_start: datetime | None = None
    t = start
    while t < end:
        if t in seen:
            if run_start is not None:
                out.append((run_start, t, int((t - run_start) / step)))
                run_start = None
        elif run_start is None:
            run_start = t
        t += step
    if run_start is not None:
        out.append((run_start, end, int((end - run_start) / step)))
    return out


def find_gaps(
    store: Store,
    kind: str | None = None,
    account: str | None = None,
    region: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    expected: str = "hourly",
) -> list[Gap]:
    """Gaps per awsResource, sorted by resource then time.

    Without a window, each resource is checked between its own first and last sample. With `since` and
    `until`, every matching resource known to the store is checked over the whole window, so one with no
    sample in it is reported as missing throughout. With only one bound, the other is the resource's own
    first or last sample in the window.
    """
    if since is not None and until is not None and since >= until:
        raise InputError("since must be before until", param="since")
    cadence_of("ec2", expected)  # validates `expected`
    # Widen the read to whole days so a daily sample early in the first day is seen.
    read_since = _floor(since, "daily") if since is not None else None
    read_until = _ceil(until, "daily") if until is not None else None
    times: dict[str, list[datetime]] = defaultdict(list)
    kinds: dict[str, str] = {}
    daily: set[str] = set()
    for item in store.query(kind, account, region, read_since, read_until):
        times[item.aws_resource].append(item.time)
        kinds[item.aws_resource] = item.kind
        if item.attrs.get("granularity") in ("day", "daily"):
            daily.add(item.aws_resource)
    if since is not None and until is not None:
        for res in store.resources():
            k, acct, reg = res.split(":")
            if (kind in (None, k)) and (account in (None, acct)) and (region in (None, reg)):
                times.setdefault(res, [])
                kinds[res] = k
    gaps: list[Gap] = []
    for res in sorted(times):
        cadence = "daily" if res in daily else cadence_of(kinds[res], expected)
        # A daily window covers every UTC day it touches; an hourly one the hours since <= h < until.
        start = _floor(ceil_hour(since), cadence) if since is not None else None
        end = _ceil(until, cadence) if until is not None else None
        present = [t for t in times[res] if (start is None or t >= start) and (end is None or t < end)]
        if not present and (start is None or end is None):
            continue
        if start is None:
            start = _floor(min(present), cadence)
        if end is None:
            end = _floor(max(present), cadence) + _STEP[cadence]
        for first, stop, n in missing_ranges(present, start, end, cadence):
            gaps.append(Gap(res, cadence, first, stop, n))
    return gaps
