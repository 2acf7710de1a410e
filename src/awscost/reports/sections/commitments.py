"""The commitment parts of the *Resource usage* section: Reserved Instance and Savings Plans coverage and
utilization from the bill (`Bill.commitments`, per account and period), and the reservations and Savings
Plans expiring soon from the usage store's `ri-*` and `sp` items. Not a section of its own: usage.py shows
these after the hours.

Coverage and utilization are the bill's own definitions (billing/bill.py), summed over the accounts in scope
from their additive parts before dividing: coverage = on-demand-equivalent cost (ListCost) of the usage a
commitment covered / that of all the usage a commitment could cover; utilization = the commitment used
(EffectiveCost of the covered usage) / used + unused commitment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from awscost.core.timeutil import parse_time
from awscost.usage import kinds as catalog

ZERO = Decimal(0)
HORIZONS = (30, 90)  # days: what the table sorts into "within 30" and "within 90"
# The reservation items are daily: the latest one at or before the reference day, if it is this recent.
LATEST_WITHIN = timedelta(days=35)


@dataclass(frozen=True)
class Commitments:
    """One account's commitment figures in one period and currency, from the bill's lines."""

    account_id: str
    currency: str
    reserved_covered: Decimal = ZERO  # EffectiveCost of the usage Reserved Instances covered
    sp_covered: Decimal = ZERO  # EffectiveCost of the usage Savings Plans covered
    on_demand_eligible: Decimal = ZERO  # EffectiveCost of the on-demand usage a commitment could cover
    unused: Decimal = ZERO  # EffectiveCost of commitment not used
    covered_list: Decimal = ZERO  # ListCost (on-demand equivalent) of the covered usage
    uncovered_list: Decimal = ZERO  # ListCost of the eligible usage no commitment covered

    def __add__(self, other: Commitments) -> Commitments:
        return Commitments(
            self.account_id if self.account_id == other.account_id else "",
            self.currency,
            self.reserved_covered + other.reserved_covered,
            self.sp_covered + other.sp_covered,
            self.on_demand_eligible + other.on_demand_eligible,
            self.unused + other.unused,
            self.covered_list + other.covered_list,
            self.uncovered_list + other.uncovered_list,
        )

    @property
    def used(self) -> Decimal:
        return self.reserved_covered + self.sp_covered

    @property
    def coverage(self) -> Decimal | None:
        whole = self.covered_list + self.uncovered_list
        return self.covered_list / whole if whole else None

    @property
    def utilization(self) -> Decimal | None:
        whole = self.used + self.unused
        return self.used / whole if whole else None


def _dec(value: Any) -> Decimal:
    return ZERO if value is None else Decimal(value)


def from_bill(bill: Any) -> Callable[..., list[Commitments]]:
    """`(start, end, regions=None) -> per-account Commitments` over a loaded bill, each period (and region
    filter) asked of the bill once (a run's audiences share their periods)."""
    cache: dict[tuple[date, date, frozenset[str] | None], list[Commitments]] = {}

    def commitments(start: date, end: date, regions: frozenset[str] | None = None) -> list[Commitments]:
        key = (start, end, regions)
        if key not in cache:
            frame = bill.commitments(start=start, end=end, by_account=True, regions=regions)
            cache[key] = [
                Commitments(
                    str(r["SubAccountId"] or ""),
                    str(r["BillingCurrency"] or ""),
                    _dec(r["ReservedCovered"]),
                    _dec(r["SavingsPlanCovered"]),
                    _dec(r["OnDemandEligible"]),
                    _dec(r["UnusedCommitment"]),
                    _dec(r["CoveredOnDemandCost"]),
                    _dec(r["UncoveredOnDemandCost"]),
                )
                for r in frame
            ]
        return cache[key]

    return commitments


def in_scope(
    rows: Iterable[Commitments], accounts: frozenset[str] | None, currency: str
) -> tuple[dict[str, Commitments], set[str]]:
    """The rows of the accounts in scope in the report's currency, by account; and the other currencies seen
    (never added in)."""
    out: dict[str, Commitments] = {}
    others: set[str] = set()
    for row in rows:
        if accounts is not None and row.account_id not in accounts:
            continue
        if row.currency != currency:
            others.add(row.currency)
            continue
        out[row.account_id] = out[row.account_id] + row if row.account_id in out else row
    return out, others


def total(rows: Iterable[Commitments], currency: str) -> Commitments:
    out = Commitments("", currency)
    for row in rows:
        out = out + row
    return out


@dataclass(frozen=True)
class Expiring:
    """One reservation or Savings Plan ending within the horizon."""

    kind: str  # ri-ec2 ... or sp
    account_id: str
    region: str
    id: str
    type: str  # the usage key (os-instanceType, class:engine ...) or the plan's key (compute/1y/no ...)
    count: Decimal | None  # reserved instances / nodes; None for a Savings Plan
    commitment: Decimal | None  # $/hour for a Savings Plan; None for a reservation
    end: date
    days_left: int


def _at(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def expiring(
    store: Any,
    accounts: frozenset[str] | None,
    as_of: date,
    days: int = max(HORIZONS),
    *,
    regions: frozenset[str] | None = None,
) -> list[Expiring]:
    """The reservations (`ri-*` kinds) and Savings Plans (`sp`) listed by the latest item of each account and
    region up to the end of the day `as_of` (within 35 days before it) that end at or after `as_of` 00:00 UTC
    and within `days` days of it, soonest first."""
    ref = _at(as_of)
    horizon = ref + timedelta(days=days)
    kinds = [s.name for s in catalog.CATALOG if s.covers] + ["sp"]
    out: list[Expiring] = []
    for kind in kinds:
        latest: dict[tuple[str, str], Any] = {}
        for item in store.query(kind=kind, since=ref - LATEST_WITHIN, until=ref + timedelta(days=1)):
            if not item.account.isdigit():
                continue  # an organization-wide total: the accounts' own items list the reservations
            if accounts is not None and item.account not in accounts:
                continue
            if regions is not None and item.region not in regions:
                continue
            latest[(item.account, item.region)] = item  # ordered by time: the last one wins
        for (account, region), item in latest.items():
            listed = item.attrs.get("savings_plans" if kind == "sp" else "reservations") or []
            for entry in listed:
                where = f"{kind} {entry.get('id')} end ({item.account}, {item.region})"
                if not entry.get("end"):
                    continue  # no end date known: nothing to say when it expires
                ends = parse_time(str(entry["end"]), where=where)
                if not ref <= ends <= horizon:
                    continue
                sp = kind == "sp"
                out.append(
                    Expiring(
                        kind,
                        account,
                        region,
                        str(entry.get("id")),
                        str(entry.get("key")),
                        None if sp else Decimal(int(entry.get("count") or 0)),
                        Decimal(str(entry.get("commitment"))) if sp else None,
                        ends.date(),
                        (ends - ref).days,
                    )
                )
    return sorted(out, key=lambda e: (e.end, e.kind, e.account_id, e.id))
