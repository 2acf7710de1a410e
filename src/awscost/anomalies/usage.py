"""Anomalies from live usage: the collector's hourly counts x on-demand prices as an estimated cost rate,
per (account, kind, region), scored by the detector with hour-of-week seasonality within the hour.

The series: one per `UsageKey` = (account id, kind, region), in dollars per hour, one value per UTC hour.
Each hour's rate is the sum over the item's usage keys of count x the price book's on-demand hourly rate of
the key's type (ec2os: type and OS; rds: class and engine, Multi-AZ twice; elasticache: node type; es,
redshift: instance / node type). What is left out, and counted in `UsageSeries.left_out` (key-hours, by
reason) so the result can say so:

- keys without an on-demand price in the book ("no price": DynamoDB capacity, which only the Price List
  API's cache prices; a type the snapshot lacks), and spot keys ("spot": the book has no spot prices);
- kinds without a price at all (reservations, Savings Plans, Cost Explorer's and the service-cost items):
  they are not read;
- `ec2` series where an `ec2os` series covers the same account and region: both count the same instances,
  and ec2os names the OS the price depends on (counted as series: EC2_LEFT);
- the organization-wide totals (an account that is not an account id): they sum the accounts' items.
  Neither is read: the store is asked for each series' items (`resources()`, then one query per series).

Hours: an hourly kind's item is its hour's count; a daily kind's (es, redshift) stands for every hour of its
UTC day from its own hour on. An hour with no item between a series' first and last item (a collection gap,
`usage gaps` shows them) keeps the hour before's rate for up to FILL_HOURS (a gap is not a change of cost);
a longer gap stays unknown: nothing is scored in it, and the hours a day or week later that would compare with
it wait for a baseline of four known values again.

Which bill series a usage series is part of: the kind's `bill_service` (usage/kinds.py: the bill's
ServiceName, "Amazon Elastic Compute Cloud" for ec2 / ec2os) in the same account; `confirm.py` matches an
event on it. The estimate is at list price: reservations and Savings Plans make the bill's cost of the same
usage lower, so the usage signal sizes a change, the bill says what it cost.

Thresholds: `min_impact` is dollars per DAY as for the bill; an hour is flagged when its rate moved by at
least min_impact / 24 dollars per hour (HOURS_PER_DAY): a change that lasts a whole day at that rate moves
the day's bill by min_impact, so what the bill would flag is flagged in its first hour. The score threshold
is the bill's. Events: `start` the first hour (ISO), `date` its UTC day, `hours` how many (to the last hour
of the input while open), money per day = the mean hourly rate x 24 over its hours, `impact_total` the
dollars over its hours. An event is known at the end of the hour it starts in (`known_at`: the collector
stores an hour's counts within it), so the usage signal's delay is 1 hour from the start, 2 when the change
starts below the threshold and crosses it the next hour.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np

from awscost.anomalies.detect import (
    CENT,
    DEFAULT_HOURLY_MODEL,
    HOURLY_MODELS,
    Anomaly,
    Thresholds,
    detect_matrix,
)
from awscost.core.errors import InputError
from awscost.core.timeutil import floor_hour, format_hour
from awscost.planning import flex
from awscost.planning.pricing.book import PriceBook
from awscost.store.base import Store, UsageItem
from awscost.usage import kinds as catalog

UsageKey = tuple[str, str, str]  # (account_id, kind, region)
HOUR = timedelta(hours=1)
EC2_LEFT = "ec2 series counted by ec2os"  # a reason of `left_out` counted in series, not key-hours
FILL_HOURS = 6  # a collection gap of up to this many hours keeps the rate before it
HOURS_PER_DAY = 24
# The detector's history for hour_of_week: four weeks of the same hour and two days of residuals (30 days),
# and a day of room; a scan from `since` reads from this much before it.
HISTORY = timedelta(days=31)
# Kinds with a price: collected usage whose service the price book knows (not reservations, not jobs' items).
PRICED_KINDS: tuple[str, ...] = tuple(
    s.name for s in catalog.CATALOG if s.collector and s.service and s.bill_service and not s.covers
)


@dataclass(frozen=True)
class UsageSeries:
    """The estimated cost rates ($/hour, float inside, one per hour from `first_hour`) per UsageKey."""

    keys: list[UsageKey]
    first_hour: datetime | None
    rates: np.ndarray  # keys x hours, NaN before a series' first item and after its last
    left_out: dict[str, int]  # reason -> key-hours not priced (EC2_LEFT: series)
    price_sources: list[str]  # the source labels of the prices used ("snapshot 2026-07-20", derived marked)

    @property
    def hours(self) -> int:
        return int(self.rates.shape[1]) if self.rates.ndim == 2 else 0

    def series(self, key: UsageKey) -> list[tuple[datetime, Decimal]]:
        """One series as (hour, $/hour) pairs, Decimal to the tenth of a cent (for outputs and tests)."""
        assert self.first_hour is not None
        row = self.rates[self.keys.index(key)]
        return [
            (self.first_hour + i * HOUR, Decimal(f"{v:.3f}")) for i, v in enumerate(row.tolist()) if v == v
        ]


@dataclass(frozen=True)
class UsageAnomaly:
    """A usage event: the detector's Anomaly (service = the bill's ServiceName of the kind, so it lines up
    with the bill's events) with the usage series it came from."""

    anomaly: Anomaly
    kind: str  # the usage kind (ec2os, rds ...)
    region: str
    hours: int

    @property
    def start(self) -> datetime:
        return datetime.fromisoformat(self.anomaly.start.replace("Z", "+00:00"))

    @property
    def known_at(self) -> datetime:
        """When the usage signal knew: the end of its first hour (the collector stores an hour within it)."""
        return self.start + HOUR

    def to_json(self) -> dict[str, object]:
        return {
            **self.anomaly.to_json(),
            "source": "usage",
            "usage_kind": self.kind,
            "region": self.region,
            "hours": self.hours,
            "known_at": format_hour(self.known_at),
        }


@dataclass(frozen=True)
class UsageScan:
    anomalies: list[UsageAnomaly]
    first_hour: datetime | None
    last_hour: datetime | None
    series: int
    left_out: dict[str, int] = field(default_factory=dict)
    price_sources: list[str] = field(default_factory=list)


# -- counts x prices


def _price(
    book: PriceBook,
    kind: str,
    key: str,
    region: str,
    cache: dict[tuple[str, str, str], Decimal | None],
    sources: set[str],
) -> tuple[Decimal | None, str]:
    """(on-demand $/hour of one unit of `key`, why not when None); the price's source label into `sources`."""
    cached = (kind, key, region)
    if cached in cache:
        found = cache[cached]
        return found, "" if found is not None else "no price"
    service = catalog.service(kind)
    if key.startswith("spot-"):
        cache[cached] = None
        return None, "spot"
    if kind == "ec2":  # instanceType:AZ, priced as Linux: ec2 is read only where no ec2os names the OS
        itype, variant, multi = key.split(":", 1)[0], "linux", False
    else:
        info = flex.key_info(kind, key)
        itype, variant, multi = info.type, info.variant, info.multi_az
    price = book.lookup(service, itype, region, variant)
    rate = None if price is None or price.on_demand is None else price.on_demand * (2 if multi else 1)
    if price is not None and rate is not None:
        sources.add(price.label_for("on_demand"))
    cache[cached] = rate
    return rate, "" if rate is not None else "no price"


def usage_rate(
    book: PriceBook,
    kind: str,
    region: str,
    usage: Mapping[str, object],
    cache: dict[tuple[str, str, str], Decimal | None] | None = None,
) -> tuple[Decimal | None, dict[str, int], list[str]]:
    """One hour's counts of `kind` in `region` (usage key -> count) at the price book's on-demand rates, exact:
    ($/hour, None when no key of it has a price; keys left out by reason; the prices' source labels). The
    prices `cost_rates` uses, for a front end that shows the rate (the dashboard's live page)."""
    if kind not in PRICED_KINDS:
        return None, {"kind without a price": len(usage)} if usage else {}, []
    cache = {} if cache is None else cache
    sources: set[str] = set()
    left_out: dict[str, int] = defaultdict(int)
    total, priced = Decimal(0), not any(usage.values())  # an empty item: nothing runs, rate 0
    for key, count in usage.items():
        units = Decimal(str(count))
        if not units:
            continue
        rate, why = _price(book, kind, key, region, cache, sources)
        if rate is None:
            left_out[why] += 1
            continue
        total += rate * units
        priced = True
    return (total if priced else None), dict(left_out), sorted(sources)


def _spans(kind: str, item: UsageItem) -> list[datetime]:
    """The hours an item stands for: its own; a daily kind's, the rest of its UTC day."""
    if kind not in catalog.DAILY_KINDS:
        return [item.time]
    end = datetime.combine(item.time.date(), datetime.min.time(), UTC) + timedelta(days=1)
    return [item.time + i * HOUR for i in range((end - item.time) // HOUR)]


def _series_to_read(
    store: Store, kinds: Sequence[str], left_out: dict[str, int]
) -> list[tuple[str, str, str]]:
    """(kind, account, region) of each series to read: the accounts' (the organization's totals sum them),
    ec2 only where no ec2os counts the same instances (counted in `left_out` as series)."""
    out = []
    resources = {tuple(r.split(":")) for r in store.resources() if r.count(":") == 2}
    for kind, account, region in sorted(resources):
        if kind not in kinds or not account.isdigit():
            continue
        if kind == "ec2" and ("ec2os", account, region) in resources and "ec2os" in kinds:
            left_out[EC2_LEFT] += 1
            continue
        out.append((kind, account, region))
    return out


def cost_rates(
    store: Store,
    book: PriceBook,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    kinds: Sequence[str] = PRICED_KINDS,
) -> UsageSeries:
    """The estimated cost rate of every (account, kind, region) the store holds in [since, until)."""
    for kind in kinds:
        if kind not in PRICED_KINDS:
            raise InputError(f"{kind} has no price", param="kinds", hint=", ".join(PRICED_KINDS))
    cache: dict[tuple[str, str, str], Decimal | None] = {}
    sources: set[str] = set()
    # The rates are the kernel's input: float from here (the prices stay exact in the book and the cache).
    rates_of: dict[tuple[str, str, str], float | str] = {}
    left_out: dict[str, int] = defaultdict(int)
    cells: dict[UsageKey, dict[datetime, float]] = {}
    for kind, account, region in _series_to_read(store, kinds, left_out):
        for item in store.query(kind=kind, account=account, region=region, since=since, until=until):
            total, priced = 0.0, not any(item.usage.values())  # an empty item: nothing runs, rate 0
            for key, count in item.usage.items():
                if not count:
                    continue
                rate = rates_of.get((kind, key, item.region))
                if rate is None:
                    exact, why = _price(book, kind, key, item.region, cache, sources)
                    rate = rates_of[(kind, key, item.region)] = why if exact is None else float(exact)
                if isinstance(rate, str):
                    left_out[rate] += 1
                    continue
                total += rate * count
                priced = True
            if not priced:
                continue  # only usage without a price: no series of its own
            by_hour = cells.setdefault((item.account, kind, item.region), {})
            for hour in _spans(kind, item):
                by_hour[hour] = total
    keys = sorted(cells)
    hours = [h for c in cells.values() for h in c]
    if not hours:
        return UsageSeries([], None, np.empty((0, 0)), dict(left_out), sorted(sources))
    first = min(hours)
    width = (max(hours) - first) // HOUR + 1
    rates = np.full((len(keys), width), np.nan)
    for row, series_key in enumerate(keys):
        by_hour = cells[series_key]
        cols = np.array([(h - first) // HOUR for h in by_hour])
        rates[row, cols] = list(by_hour.values())
        # A short gap inside the series keeps the hour before's rate; a longer one stays unknown (NaN).
        present = ~np.isnan(rates[row])
        idx = np.where(present, np.arange(width), 0)
        np.maximum.accumulate(idx, out=idx)
        hi = int(cols.max())
        fill = (np.arange(width) - idx <= FILL_HOURS) & (np.arange(width) <= hi) & ~present
        rates[row, fill] = rates[row, idx[fill]]
    return UsageSeries(keys, first, rates, dict(left_out), sorted(sources))


# -- the detector over them


def usage_event_id(account_id: str, kind: str, region: str, start: datetime) -> str:
    """Stable across re-runs: the series and the first hour."""
    text = f"usage\x1f{account_id}\x1f{kind}\x1f{region}\x1f{format_hour(start)}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _money(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


def describe(event: Anomaly, kind: str, region: str, hours: int) -> str:
    sign = "+" if event.impact_per_day >= 0 else "-"
    size = f"{sign}${abs(event.impact_per_day):,}/day"
    what = {"spike": "a spike", "step": "a step", "drop": "a drop", "new": "new usage"}[event.kind]
    still = ", still open" if event.end is None else f", {hours} h"
    if event.kind == "new":
        base = f"{size}: new {kind} usage in {event.account_id} {region}"
    else:
        base = (
            f"{size} of {kind} usage at list price in {event.account_id} {region} against "
            f"${event.expected:,}/day expected"
        )
    return f"{base} ({what}{still}), started {event.start[:16]}Z"


def detect_hourly(
    data: UsageSeries,
    *,
    thresholds: Thresholds | None = None,
    model: str = DEFAULT_HOURLY_MODEL,
) -> list[UsageAnomaly]:
    """The events of the usage series (see the module: min_impact / 24 per hour)."""
    if model not in HOURLY_MODELS:
        raise InputError(f"unknown hourly model {model!r}", param="model", hint=", ".join(HOURLY_MODELS))
    if not data.keys or data.first_hour is None:
        return []
    limits = thresholds or Thresholds()
    services = {k: str(catalog.spec(k).bill_service) for k in {key[1] for key in data.keys}}
    pairs = [limits.of(a, services[k]) for a, k, _ in data.keys]
    min_impact = np.array([float(p[0]) / HOURS_PER_DAY for p in pairs])
    score = np.array([p[1] for p in pairs])
    # After a series' last item its cost is unknown (NaN): nothing is flagged there, and an event still
    # going at the series' last hour is open.
    rates = data.rates
    events = detect_matrix(rates, min_impact=min_impact, score=score, model=model)
    width = rates.shape[1]
    last_col = np.array([_last(row) for row in rates])
    out = []
    for row, t0, end, actual, expected, peak, new in events.each():
        account, kind, region = data.keys[row]
        if t0 > last_col[row]:
            continue
        end = min(end, last_col[row] + 1) if end < width else end
        open_ = end >= width or end > last_col[row]
        start = data.first_hour + t0 * HOUR
        n = end - t0
        total_actual, total_expected = _money(actual), _money(expected)
        impact = total_actual - total_expected
        kind_of = (
            "new" if new else "drop" if impact < 0 else "spike" if n < HOURS_PER_DAY and not open_ else "step"
        )
        per_day = Decimal(HOURS_PER_DAY) / n
        anomaly = Anomaly(
            id=usage_event_id(account, kind, region, start),
            kind=kind_of,
            date=start.date().isoformat(),
            start=format_hour(start),
            end=None if open_ else format_hour(data.first_hour + end * HOUR),
            account_id=account,
            service=services[kind],
            days=len({(start + i * HOUR).date() for i in range(n)}),
            expected=(total_expected * per_day).quantize(CENT),
            actual=(total_actual * per_day).quantize(CENT),
            impact_per_day=(impact * per_day).quantize(CENT),
            impact_total=impact,
            score=float(peak),
            explanation="",
        )
        text = describe(anomaly, kind, region, n)
        out.append(UsageAnomaly(replace(anomaly, explanation=text), kind, region, n))
    out.sort(key=lambda u: (u.anomaly.start, u.anomaly.account_id, u.kind, u.region))
    return out


def _last(row: np.ndarray) -> int:
    present = np.flatnonzero(~np.isnan(row))
    return int(present[-1]) if len(present) else -1


def scan(
    store: Store,
    book: PriceBook,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    thresholds: Thresholds | None = None,
    model: str = DEFAULT_HOURLY_MODEL,
) -> UsageScan:
    """The usage anomalies starting at or after `since` (all when None), from HISTORY before it."""
    start = floor_hour(since) - HISTORY if since is not None else None
    data = cost_rates(store, book, since=start, until=until)
    found = detect_hourly(data, thresholds=thresholds, model=model)
    if since is not None:
        found = [u for u in found if u.start >= floor_hour(since)]
    last = None
    if data.first_hour is not None:
        last = data.first_hour + (data.hours - 1) * HOUR
    return UsageScan(found, data.first_hour, last, len(data.keys), data.left_out, data.price_sources)


def counted(left_out: Mapping[str, int]) -> str:
    """What was left out, in one phrase: "1,204 key-hours without a price, 310 spot" ("" when nothing)."""
    names = {"no price": "key-hours without a price", "spot": "key-hours spot (no spot prices)"}
    parts = [f"{n:,} {names.get(why, why)}" for why, n in sorted(left_out.items())]
    return ", ".join(parts)


__all__ = [
    "HISTORY",
    "HOURS_PER_DAY",
    "PRICED_KINDS",
    "UsageAnomaly",
    "UsageKey",
    "UsageScan",
    "UsageSeries",
    "cost_rates",
    "counted",
    "detect_hourly",
    "scan",
    "usage_event_id",
    "usage_rate",
]
