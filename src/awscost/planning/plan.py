"""Reserved-capacity plan from the store: usage history -> one row per reservation group.

Reads the org-wide hourly items (account = settings.org_name: regional reservations float across the
Organization's linked accounts) or one account's, groups keys by size flexibility (`flex`), subtracts owned
reservations (the latest `ri-*` item; those expiring within `renew_days` are planned as gone, so renewing
them is part of the recommendation), prices each group from the price book and runs the vectorised planner.

Reserved capacity (the catalog's `CAPACITY_KINDS`: DynamoDB read and write capacity units) is planned the same
way, one group per key per region, bought in the catalog's blocks (100 units). Nothing lists what is owned
(DynamoDB has no describe call for it), so its rows plan on 0 owned and say so.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from awscost.core.errors import InputError
from awscost.core.timeutil import HOUR, current_hour, floor_hour, parse_time
from awscost.planning import ri
from awscost.planning.flex import KeyInfo, concrete_units, describe_units, key_info
from awscost.planning.pricing.book import (
    CAPACITY_PAYMENT,
    PAYMENTS,
    TERM_HOURS,
    TERMS,
    PriceBook,
    is_derived_label,
)
from awscost.planning.stats import build_matrix, to_int16
from awscost.store.base import listed
from awscost.usage import kinds as catalog

CENT = Decimal("0.01")
MONTH_HOURS = Decimal("730")
CAPACITY_UNIT = "capacity units"
# What a reserved-capacity row says in its note, whatever else it says.
# (The collector sums every provisioned table: Standard-IA tables and global tables' replicated writes, which
# no reservation covers, are in its counts.)
CAPACITY_OWNED_NOTE = (
    "reserved capacity owned is unknown (no AWS API lists it), planned as 0;"
    " Standard table class only (Standard-IA tables are not told apart)"
)


def money(value: float | Decimal | None) -> Decimal | None:
    if value is None:
        return None
    d = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    if not d.is_finite():
        return None
    return d.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class Group:
    kind: str
    region: str
    key: str  # group key (family key when size-flexible)
    flexible: bool
    members: dict[str, KeyInfo] = field(default_factory=dict)  # usage key -> info
    rows: list[int] = field(default_factory=list)  # matrix rows of the members


@dataclass
class Owned:
    count: float = 0.0  # in group units
    expiring_30: float = 0.0
    expiring_90: float = 0.0
    reservations: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class PlanInput:
    """What the planner ran on, kept for the workbook (hourly usage vs owned, back-test)."""

    groups: list[Group]
    values: Any  # np.ndarray groups x hours
    owned: Any
    on_demand: Any
    reserved_effective: Any
    granularity: Any
    sp_ratio: Any  # Compute Savings Plan rate / on-demand rate per group (NaN where none applies)
    start: datetime
    end: datetime


@dataclass(frozen=True, kw_only=True)
class PlanRow:
    """One reservation group's plan: its history, what is owned, and what to buy at what saving. The Savings
    Plan row (kind "savings-plan") has the same shape, its unit a $/hour commitment. Fields in the order the
    command line prints them."""

    kind: str
    region: str
    key: str  # the group (a size-flexible family in normalized units, else one key)
    account: str
    flexible: bool
    unit: str  # "normalized units" | "instances" | "capacity units" | "$/hour commitment"
    hours: int  # observed
    missing: int
    min: float | None = None
    p5: float | None = None
    mean: float | None = None
    p50: float | None = None
    p90: float | None = None
    p95: float | None = None
    max: float | None = None
    owned: float = 0.0
    expiring_30d: float = 0.0
    expiring_90d: float = 0.0
    coverage: float | None = None
    on_demand_hourly: float | None = None
    reserved_effective_hourly: float | None = None
    breakeven: float | None  # reserved effective / on-demand hourly: buy the n-th unit while share >= this
    recommended: float | None  # units (or $/h) to buy; None when the group has no price
    # e.g. "3 x linux-m5.xlarge" for a size-flexible family, "11 x 100 read_capacity" for reserved capacity
    recommended_units: str | None = None
    p95_rule: float | None  # what reserving up to P95 would buy
    p95_rule_units: str | None = None  # the P95 rule's purchase in instances (blocks), as recommended_units
    term: str
    payment: str
    upfront: Decimal | None = None
    monthly_cost: Decimal | None = None
    monthly_savings: Decimal | None = None
    p95_monthly_savings: Decimal | None = None
    break_even_months: float | None = None
    utilization: float | None = None
    # What is owned, used over the history once the recommended purchases are made (the Savings Plan row:
    # the commitment owned; modeled from the hourly usage, RIs applied first as AWS does).
    owned_utilization: float | None = None
    price_source: str | None = None
    note: str | None = None

    def purchase(self, amount: Literal["recommended", "p95_rule"] = "recommended") -> str:
        """What to buy in purchasable terms: instances (nodes), with a size-flexible family's normalized units
        in brackets ("5 x linux-m5.2xlarge [80 normalized units]"); a Savings Plan's $/hour commitment."""
        value = getattr(self, amount)
        if value is None:
            return "nothing (no price)"
        if self.unit == "$/hour commitment":
            return f"${value:g}/h"
        if not self.flexible and self.unit != CAPACITY_UNIT:
            return f"{value:g} x {self.key}"
        units = self.recommended_units if amount == "recommended" else self.p95_rule_units
        return f"{units or '0'} [{value:g} {self.unit}]"

    def to_dict(self) -> dict[str, Any]:
        """The row as a mapping of its typed values (Decimal money kept exact), for tables and workbooks."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class PlanResult:
    rows: list[PlanRow]  # one per reservation group
    inputs: PlanInput
    notes: list[str]
    term: str
    payment: str
    savings_plan: PlanRow | None = None  # the Compute Savings Plan for the EC2 spend left after the RIs
    # The Savings Plans owned, one row per commitment key (see `OwnedCommitment.to_row`).
    savings_plans_owned: list[dict[str, Any]] = field(default_factory=list)

    @property
    def all_rows(self) -> list[PlanRow]:
        """The groups, then the Savings Plan row when there is one."""
        return [*self.rows, *([self.savings_plan] if self.savings_plan else [])]

    def totals(self) -> dict[str, Decimal]:
        return summarize(self.all_rows)

    def price_sources(self) -> list[str]:
        return sorted({r.price_source for r in self.all_rows if r.price_source})

    def to_json(self) -> dict[str, Any]:
        from awscost.core.output import dumps

        body = {
            "term": self.term,
            "payment": self.payment,
            "start": self.inputs.start,
            "end": self.inputs.end,
            "totals": self.totals(),
            "price_sources": self.price_sources(),
            "notes": self.notes,
            "rows": [r.to_dict() for r in self.all_rows],
            "savings_plans_owned": self.savings_plans_owned,
        }
        out: dict[str, Any] = json.loads(dumps(body))
        return out


def _owned_by_group(
    store: Any, account: str, region: str, kind: str, groups: dict[str, Group], now: datetime, end: datetime
) -> dict[str, Owned]:
    """Latest ri-* item at or before `end`, folded into group units (with expirations). Reserved capacity
    has no such item: nothing is known to be owned."""
    if kind in catalog.CAPACITY_KINDS:
        return {}
    ri_kind = catalog.reservation_kind(kind)
    latest = None
    for item in store.query(
        kind=ri_kind, account=account, region=region, since=end - timedelta(days=35), until=end
    ):
        latest = item  # ordered by time
    out: dict[str, Owned] = {}
    if latest is None:
        return out
    details = listed(store, latest, "reservations")  # an org total's: its accounts' items of that hour
    by_key: dict[str, list[dict[str, Any]]] = {}
    for r in details:
        by_key.setdefault(str(r.get("key")), []).append(r)
    for key, count in latest.usage.items():
        info = key_info(kind, key)
        # A zonal EC2 reservation covers only its own size in its AZ; counting it in the family's units
        # overstates its reach a little, leaving it out would make the plan buy it a second time.
        own = out.setdefault(info.group, Owned())
        own.count += float(count) * info.factor
        for r in by_key.get(key, []):
            own.reservations.append(r)
            try:
                ends = parse_time(str(r.get("end")), where=f"{ri_kind} {r.get('id')} end")
            except InputError:
                continue
            units = float(r.get("count") or 0) * info.factor
            if ends <= now + timedelta(days=30):
                own.expiring_30 += units
            if ends <= now + timedelta(days=90):
                own.expiring_90 += units
    return out


def _sp_source(labels: list[str]) -> str | None:
    """One source label for the Savings Plan row: marked derived when any group's SP rate is."""
    real = [label for label in labels if label]
    if not real:
        return None
    return next((label for label in real if is_derived_label(label)), real[0])


def _prices(
    book: PriceBook, kind: str, region: str, group: Group, weights: dict[str, float], term: str, payment: str
) -> tuple[float, float, str, str | None, float, str]:
    """(on-demand $/unit-hour, reserved effective $/unit-hour, source, note, Compute Savings Plan rate /
    on-demand, the SP rate's source) from the most used key."""
    ordered = sorted(group.members.values(), key=lambda i: -weights.get(i.key, 0.0))
    if kind in catalog.CAPACITY_KINDS:
        payment = CAPACITY_PAYMENT  # its one offering, whatever the RIs were planned with
    for info in ordered:
        price = book.lookup(catalog.service(kind), info.type, region, info.variant)
        if price is None or price.on_demand is None:
            continue
        sp = price.savings_plans.get(f"compute/{term}/{payment}")
        sp_ratio = float(sp / price.on_demand) if sp is not None and price.on_demand > 0 else float("nan")
        sp_source = price.label_for("on_demand", f"compute/{term}/{payment}") if sp is not None else ""
        rate = price.reserved_rate(term, payment)
        if rate is None:
            note = f"no {term} {payment}-upfront offering for {info.type}"
            return float("nan"), float("nan"), price.label_for("on_demand"), note, sp_ratio, sp_source
        # per group unit: one instance of this key is `factor` units (Multi-AZ is twice Single-AZ)
        per = (2.0 if info.multi_az else 1.0) / info.factor
        return (
            float(price.on_demand) * per,
            float(rate.effective_hourly) * per,
            price.label_for("on_demand", f"{term}/{payment}"),  # "..., derived" when a rule made one
            None,
            sp_ratio,
            sp_source,
        )
    types = ", ".join(sorted({i.type for i in group.members.values()}))
    if kind in catalog.CAPACITY_KINDS:
        # no snapshot holds these: only the Price List API does
        svc = catalog.service(kind)
        name = _SERVICE_NAME.get(svc, svc)
        note = f"no {name} prices for {types} in {region}: run awscost pricing refresh --services {svc}"
        return float("nan"), float("nan"), "", note, float("nan"), ""
    return float("nan"), float("nan"), "", f"no price for {types} in {region}", float("nan"), ""


_SERVICE_NAME = {"dynamodb": "DynamoDB"}


def plan_from_store(
    store: Any,
    *,
    org_name: str,
    book: PriceBook,
    account: str | None = None,
    kinds: Sequence[str] = catalog.PLANNED_KINDS,
    lookback_days: int = 30,
    term: str = "1y",
    payment: str = "no",
    until: datetime | None = None,
    renew_days: int = 30,
    min_hours: int = ri.MIN_HOURS,
    now: datetime | None = None,
) -> PlanResult:
    """Plan `kinds` on the `lookback_days` of hourly history ending with the hour `until` (default: the hour
    of `now`, default the clock's)."""
    import numpy as np

    if term not in TERMS:
        raise InputError(f"term {term!r} is not one of {', '.join(TERMS)}", param="term")
    if payment not in PAYMENTS:
        raise InputError(f"payment {payment!r} is not one of {', '.join(PAYMENTS)}", param="payment")
    if renew_days not in (0, 30, 90):
        raise InputError(f"renew window {renew_days} days is not 0, 30 or 90", param="renew_days")
    bad = [k for k in kinds if k not in catalog.PLANNED_KINDS]
    if bad:
        raise InputError(
            f"cannot plan reservations for {', '.join(bad)}",
            param="kinds",
            hint=f"use {', '.join(catalog.PLANNED_KINDS)}",
        )
    if until is None:
        until = floor_hour(now) if now is not None else current_hour()
    end = floor_hour(until) + HOUR
    start = end - timedelta(days=lookback_days)
    who = account or org_name
    items: list[Any] = []
    for kind in kinds:
        items.extend(store.query(kind=kind, account=who, since=start, until=end))
    matrix = build_matrix(items, start, end, key_filter=lambda kind, key: key_info(kind, key).reservable)
    groups: dict[tuple[str, str, str], Group] = {}
    weights: dict[str, float] = {}
    for row, sk in enumerate(matrix.keys):
        info = key_info(sk.kind, sk.key)
        g = groups.setdefault(
            (sk.kind, sk.region, info.group), Group(sk.kind, sk.region, info.group, info.flexible)
        )
        g.members[sk.key] = info
        g.rows.append(row)
        weights[sk.key] = float(np.nansum(matrix.values[row], dtype=np.float64)) * info.factor
    ordered = sorted(groups.values(), key=lambda g: (g.kind, g.region, g.key))
    n_hours = matrix.n_hours
    values = np.full((len(ordered), n_hours), np.nan, dtype=np.float32)
    owned = np.zeros(len(ordered))
    od = np.full(len(ordered), np.nan)
    rsv = np.full(len(ordered), np.nan)
    gran = np.ones(len(ordered))
    sp_ratio = np.full(len(ordered), np.nan)
    sources: list[str] = []
    sp_sources: list[
        str
    ] = []  # the Savings Plan rate's source per group: the SP row says "derived" if any is
    notes: list[str | None] = []
    owned_info: list[Owned] = []
    now = end - HOUR
    owned_cache: dict[tuple[str, str], dict[str, Owned]] = {}
    for i, g in enumerate(ordered):
        factors = np.array([g.members[matrix.keys[r].key].factor for r in g.rows], dtype=np.float32)
        block = matrix.values[g.rows] * factors[:, None]
        # all members share their resource's observed hours, so NaN columns coincide
        values[i] = np.where(np.all(np.isnan(block), axis=0), np.nan, np.nansum(block, axis=0))
        gran[i] = min(factors) if g.flexible else float(catalog.spec(g.kind).capacity_block or 1)
        ck = (g.kind, g.region)
        if ck not in owned_cache:
            owned_cache[ck] = _owned_by_group(store, who, g.region, g.kind, {}, now, end)
        own = owned_cache[ck].get(g.key, Owned())
        owned_info.append(own)
        owned[i] = own.count - {0: 0.0, 30: own.expiring_30, 90: own.expiring_90}[renew_days]
        od[i], rsv[i], src, note, sp_ratio[i], sp_src = _prices(
            book, g.kind, g.region, g, weights, term, payment
        )
        sources.append(src)
        sp_sources.append(sp_src)
        notes.append(note)
    owned_now = np.array([o.count for o in owned_info])
    # Whole counts plan ~3x faster as int16 (numpy sorts 16-bit integers by radix); same answers.
    compact = to_int16(values)
    planned = ri.plan(
        compact if compact is not None else values,
        owned,
        od,
        rsv,
        granularity=gran,
        min_hours=min_hours,
        owned_now=owned_now,
    )
    # The EC2 groups again, with the Savings Plans owned: what pays against what is paid today.
    ec2_rows = [i for i, g in enumerate(ordered) if g.kind == "ec2os" and np.isfinite(od[i])]
    joint = None
    if ec2_rows:
        from awscost.planning.joint import plan_ec2

        joint = plan_ec2(
            store=store, who=who, groups=ordered, rows=ec2_rows, planned=planned, values=values,
            owned_units=owned, owned_now_units=owned_now, on_demand=od, reserved=rsv, granularity=gran,
            new_ratio=sp_ratio, book=book, weights=weights, term=term, payment=payment, now=now, end=end,
            renew_days=renew_days, min_hours=min_hours, price_source=_sp_source([sp_sources[i] for i in ec2_rows]),
        )  # fmt: skip
        for n, i in enumerate(ec2_rows):
            if not np.isfinite(planned["recommended"][i]):
                continue  # no reservation to buy (no offering, no price)
            planned["recommended"][i] = joint.recommended[n]
            planned["savings_opt"][i] = joint.savings[n]
            planned["savings_p95"][i] = joint.p95_savings[n]
            planned["utilization"][i] = joint.utilization[n]
            if abs(joint.recommended[n] - joint.standalone[n]) > 1e-9:
                told = f"planned with the Savings Plans (owned and new): {joint.standalone[n]:g} on its own"
                notes[i] = f"{notes[i]}; {told}" if notes[i] else told
    rows = []
    for i, g in enumerate(ordered):
        rows.append(
            _row(
                g,
                i,
                planned,
                owned_info[i],
                od[i],
                rsv[i],
                gran[i],
                sources[i],
                notes[i],
                term,
                payment,
                who,
                book,
                weights,
                min_hours,
            )
        )
    plan_notes = list(book.notes) + (joint.notes if joint is not None else [])
    if not ordered:
        plan_notes.append(
            f"no usage items of {', '.join(kinds)} for {who} between {start:%Y-%m-%d %H:00}"
            f" and {end:%Y-%m-%d %H:00} UTC"
        )
    result = PlanResult(
        rows,
        PlanInput(ordered, values, owned, od, rsv, gran, sp_ratio, start, end),
        plan_notes,
        term,
        payment,
    )
    if joint is not None:
        result.savings_plan = joint.savings_plan
        result.savings_plans_owned = [o.to_row() for o in joint.owned]
    return result


def _f(x: Any, nd: int = 4) -> float | None:
    v = float(x)
    return None if v != v else round(v, nd)


def _row(
    g: Group,
    i: int,
    p: dict[str, Any],
    own: Owned,
    od: float,
    rsv: float,
    gran: float,
    source: str,
    note: str | None,
    term: str,
    payment: str,
    who: str,
    book: PriceBook,
    weights: dict[str, float],
    min_hours: int,
) -> PlanRow:
    hours = int(p["hours"][i])
    rec = float(p["recommended"][i])
    p95n = float(p["p95_rule"][i])
    sizes = {k: info.factor for k, info in g.members.items()}
    capacity = g.kind in catalog.CAPACITY_KINDS
    unit = "normalized units" if g.flexible else CAPACITY_UNIT if capacity else "instances"
    if capacity:
        payment = CAPACITY_PAYMENT  # its one offering, whatever the RIs were planned with
    priced = od == od
    if not priced:
        note = note or "no price"
    elif not bool(p["enough_history"][i]):
        note = f"too little history: {hours} h < {min_hours} h, nothing recommended"
    if capacity:
        note = f"{note}; {CAPACITY_OWNED_NOTE}" if note else CAPACITY_OWNED_NOTE
    upfront = monthly_cost = monthly_savings = p95_savings = None
    be_months: float | None = None
    if priced and rec == rec:
        upfront_per_unit, hourly_per_unit = _rate_parts(book, g, weights, term, payment)
        upfront = money(Decimal(repr(rec)) * upfront_per_unit)
        monthly_cost = money(
            Decimal(repr(rec))
            * (upfront_per_unit / (Decimal(TERM_HOURS[term]) / MONTH_HOURS) + hourly_per_unit * MONTH_HOURS)
        )
        monthly_savings = money(float(p["savings_opt"][i]) * 730)
        p95_savings = money(float(p["savings_p95"][i]) * 730)
        gross = (float(p["savings_opt"][i]) + rec * rsv) * 730  # on-demand avoided per month
        recurring = rec * float(hourly_per_unit) * 730
        if rec > 0 and upfront is not None:
            net = gross - recurring
            be_months = round(float(upfront) / net, 1) if net > 0 else None
    return PlanRow(
        kind=g.kind,
        region=g.region,
        key=g.key,
        account=who,
        flexible=g.flexible,
        unit=unit,
        hours=hours,
        missing=int(p["missing"][i]),
        min=_f(p["min"][i]),
        p5=_f(p["p5"][i]),
        mean=_f(p["mean"][i]),
        p50=_f(p["p50"][i]),
        p90=_f(p["p90"][i]),
        p95=_f(p["p95"][i]),
        max=_f(p["max"][i]),
        owned=round(own.count, 2),
        expiring_30d=round(own.expiring_30, 2),
        expiring_90d=round(own.expiring_90, 2),
        coverage=_f(p["coverage"][i]),
        # reserved capacity is priced per unit-hour, a hundredth of a cent and less
        on_demand_hourly=_f(od, 9 if capacity else 6),
        reserved_effective_hourly=_f(rsv, 9 if capacity else 6),
        breakeven=_f(p["breakeven"][i]),
        recommended=_f(rec, 2),
        recommended_units=_units(g, rec, sizes),
        p95_rule=_f(p95n, 2),
        p95_rule_units=_units(g, p95n, sizes),
        term=term,
        payment=payment,
        upfront=upfront,
        monthly_cost=monthly_cost,
        monthly_savings=monthly_savings,
        p95_monthly_savings=p95_savings,
        break_even_months=be_months,
        utilization=_f(p["utilization"][i]),
        price_source=source or None,
        note=note,
    )


def _units(g: Group, units: float, sizes: dict[str, float]) -> str | None:
    """A purchase of `units` as what is bought: instances of a size-flexible family's sizes, blocks of reserved
    capacity ("11 x 100 read_capacity"); None for a group bought by the instance, or with no price."""
    if units != units:
        return None
    if g.flexible:
        return describe_units(concrete_units(units, sizes))
    block = catalog.spec(g.kind).capacity_block
    return f"{units / block:g} x {block} {g.key}" if block else None


def _rate_parts(
    book: PriceBook, g: Group, weights: dict[str, float], term: str, payment: str
) -> tuple[Decimal, Decimal]:
    """(upfront $, recurring $/h) per group unit, from the same key `_prices` used."""
    if g.kind in catalog.CAPACITY_KINDS:
        payment = CAPACITY_PAYMENT  # its one offering, whatever the RIs were planned with
    for info in sorted(g.members.values(), key=lambda m: -weights.get(m.key, 0.0)):
        price = book.lookup(catalog.service(g.kind), info.type, g.region, info.variant)
        if price is None or price.on_demand is None:
            continue
        rate = price.reserved_rate(term, payment)
        if rate is None:
            break
        per = Decimal(2 if info.multi_az else 1) / Decimal(repr(info.factor))
        return rate.upfront * per, rate.hourly * per
    return Decimal(0), Decimal(0)


def backtest_rows(result: PlanResult, split: float = 2 / 3) -> list[dict[str, Any]]:
    """Plan on the first part of the window, replay the rest: realized savings of optimal, P95, on-demand."""
    inp = result.inputs
    bt = ri.backtest(
        inp.values, inp.owned, inp.on_demand, inp.reserved_effective, split=split, granularity=inp.granularity
    )
    rows = []
    for i, g in enumerate(inp.groups):
        if inp.on_demand[i] != inp.on_demand[i]:
            continue
        rows.append(
            {
                "kind": g.kind,
                "region": g.region,
                "key": g.key,
                "train_hours": int(bt["train_hours"][i]),
                "test_hours": int(bt["test_hours"][i]),
                "recommended": _f(bt["recommended"][i], 2),
                "p95_rule": _f(bt["p95_rule"][i], 2),
                "cost_on_demand": money(bt["cost_on_demand"][i]),
                "cost_optimal": money(bt["cost_opt"][i]),
                "cost_p95": money(bt["cost_p95"][i]),
                "savings_optimal": money(bt["savings_opt"][i]),
                "savings_p95": money(bt["savings_p95"][i]),
                "in_sample_savings_optimal": money(bt["train_savings_opt"][i]),
                "in_sample_savings_p95": money(bt["train_savings_p95"][i]),
                "price_source": result.rows[i].price_source,
            }
        )
    return rows


def summarize(rows: Iterable[PlanRow]) -> dict[str, Decimal]:
    """Monthly savings of the optimal plan and of the P95 rule, and the upfront payment, over `rows`."""
    total = Decimal(0)
    p95 = Decimal(0)
    upfront = Decimal(0)
    for r in rows:
        total += r.monthly_savings or 0
        p95 += r.p95_monthly_savings or 0
        upfront += r.upfront or 0
    return {"monthly_savings": total, "p95_monthly_savings": p95, "upfront": upfront}


def usage_statistics(
    store: Any,
    *,
    kinds: Sequence[str] = catalog.PLANNED_KINDS,
    account: str | None = None,
    lookback_days: int = 30,
    until: datetime | None = None,
) -> list[dict[str, Any]]:
    """Hourly statistics of every raw series (kind x account x region x usage key), every account and the
    org-wide total unless `account` picks one. Absent keys count 0; hours without items are missing."""
    from awscost.planning.stats import STAT_COLUMNS, describe

    end = floor_hour(until) + HOUR if until is not None else current_hour() + HOUR
    start = end - timedelta(days=lookback_days)
    items: list[Any] = []
    for kind in kinds:
        items.extend(store.query(kind=kind, account=account, since=start, until=end))
    matrix = build_matrix(items, start, end)
    stats = describe(matrix.values) if matrix.keys else {}
    rows = []
    for i, sk in enumerate(matrix.keys):
        row: dict[str, Any] = {"kind": sk.kind, "account": sk.account, "region": sk.region, "key": sk.key}
        for col in STAT_COLUMNS:
            row[col] = int(stats[col][i]) if col in ("hours", "missing") else _f(stats[col][i])
        rows.append(row)
    return rows
