"""The plan's EC2 rows and its Savings Plan row, planned together with the Savings Plans owned.

`plan_from_store` plans every reservation group on its own first (`ri.plan`: break-even against on-demand).
For the EC2 groups this module then reads the Savings Plans owned (the latest `sp` item; plans ending within
the renewal window are planned as gone, as reservations are), sets them and the groups against the hourly
history in AWS's order (`commitments`: reservations first, then the plans, highest discount first), and
replaces the EC2 recommendations and the new Compute Savings Plan with the purchase that is cheapest in that
model (the two together: a reservation taken away can leave usage a larger commitment covers better). It
values every purchase against what is paid today (each group's on top of the ones listed before it, the new
Savings Plan last; they add up to the plan's total), and writes the Savings Plan row: the commitment owned,
how much of it the usage uses today and after the purchases (modeled, beside Cost Explorer's measured
utilization when the store holds it), and the new commitment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from awscost.core.errors import InputError
from awscost.core.timeutil import parse_time
from awscost.planning import commitments, ri
from awscost.planning.pricing.book import TERM_HOURS, PriceBook
from awscost.store.base import listed
from awscost.usage import kinds as catalog

if TYPE_CHECKING:
    from awscost.planning.plan import Group, PlanRow

MICRO = Decimal(1_000_000)
# Savings Plans types that apply to the planned (EC2) usage; others (SageMaker, Database) are listed only.
APPLIES = ("ec2instance", "compute")


@dataclass
class OwnedCommitment:
    """The Savings Plans owned under one `sp` key, $/hour: now, and counted on (those ending soon gone)."""

    key: str
    now: Decimal = Decimal(0)
    counted: Decimal = Decimal(0)
    expiring_30: Decimal = Decimal(0)
    expiring_90: Decimal = Decimal(0)
    plans: list[dict[str, Any]] = field(default_factory=list)
    used_today: float | None = None  # modeled utilization of `now` over the history, no new purchase
    used_after: float | None = None  # of `counted`, after the plan's purchases

    @property
    def kind(self) -> str:
        return self.key.split("/", 1)[0]

    @property
    def rate_key(self) -> str:
        """The price book's Savings Plans key of the plan's rates ("compute/1y/no")."""
        return "/".join(self.key.split("/")[:3])

    def applies_to(self, group: Group) -> bool:
        if self.kind == "compute":
            return True
        if self.kind == "ec2instance":
            parts = self.key.split("/")
            family = next(iter(group.members.values())).family
            return len(parts) == 5 and parts[3] == group.region and parts[4] == family
        return False

    def to_row(self) -> dict[str, Any]:
        ends = sorted(str(p.get("end")) for p in self.plans if p.get("end"))
        return {
            "key": self.key,
            "plans": len(self.plans),
            "commitment_hourly": self.now,
            "counted_hourly": self.counted,
            "expiring_30d_hourly": self.expiring_30,
            "expiring_90d_hourly": self.expiring_90,
            "first_end": ends[0] if ends else None,
            "modeled_utilization_today": None if self.used_today is None else round(self.used_today, 4),
            "modeled_utilization_after_plan": None if self.used_after is None else round(self.used_after, 4),
            "planned": self.kind in APPLIES,
        }


def owned_savings_plans(
    store: Any, account: str, *, now: datetime, end: datetime, renew_days: int
) -> list[OwnedCommitment]:
    """The latest `sp` item at or before `end` (within 35 days), per key: the commitments owned and counted
    on (a plan ending within `renew_days` of `now` is planned as gone, its renewal part of the plan)."""
    latest = None
    for item in store.query(
        kind="sp", account=account, region=catalog.GLOBAL_REGION, since=end - timedelta(days=35), until=end
    ):
        latest = item  # ordered by time
    if latest is None:
        return []
    out: dict[str, OwnedCommitment] = {}
    details = listed(store, latest, "savings_plans")  # an org total's: its accounts' items of that hour
    for plan in details:
        key = str(plan.get("key"))
        own = out.setdefault(key, OwnedCommitment(key))
        where = f"sp {plan.get('id')}"
        try:
            amount = Decimal(str(plan.get("commitment")))
        except ArithmeticError:
            raise InputError(f"commitment {plan.get('commitment')!r} is not a number", where=where) from None
        ends = parse_time(str(plan["end"]), where=f"{where} end") if plan.get("end") else None
        own.now += amount
        own.plans.append(plan)
        soon = {days: ends is not None and ends <= now + timedelta(days=days) for days in (30, 90)}
        own.expiring_30 += amount if soon[30] else 0
        own.expiring_90 += amount if soon[90] else 0
        gone = renew_days and ends is not None and ends <= now + timedelta(days=renew_days)
        own.counted += 0 if gone else amount
    for key, micro in latest.usage.items():
        if key not in out:  # an item without its plans' details (imported): the counts alone
            amount = Decimal(str(micro)) / MICRO
            out[key] = OwnedCommitment(key, amount, amount)
    return [out[k] for k in sorted(out)]


def sp_ratio(book: PriceBook, group: Group, weights: dict[str, float], rate_key: str) -> float:
    """A Savings Plan's rate / on-demand rate for a group, from the same key the group is priced by (its most
    used priced key); NaN where the book has no such rate."""
    ordered = sorted(group.members.values(), key=lambda i: -weights.get(i.key, 0.0))
    for info in ordered:
        price = book.lookup(catalog.service(group.kind), info.type, group.region, info.variant)
        if price is None or price.on_demand is None or price.on_demand <= 0:
            continue
        rate = price.savings_plans.get(rate_key)
        return float(rate / price.on_demand) if rate is not None else float("nan")
    return float("nan")


def _pools(
    owned: list[OwnedCommitment],
    groups: list[Group],
    book: PriceBook,
    weights: dict[str, float],
    *,
    now: bool,
) -> tuple[list[commitments.Pool], list[str]]:
    """The owned commitments that apply to the groups, in the order AWS applies them: EC2 Instance plans,
    then Compute plans, the deeper discount first."""
    import numpy as np

    pools, notes = [], []
    for own in owned:
        if own.kind not in APPLIES:
            notes.append(f"Savings Plans {own.key} (${own.now}/h) do not apply to the planned usage")
            continue
        ratio = np.full(len(groups), np.nan)
        unpriced = []
        for e, g in enumerate(groups):
            if own.applies_to(g):
                ratio[e] = sp_ratio(book, g, weights, own.rate_key)
                if not np.isfinite(ratio[e]):
                    unpriced.append(g.key)
        if unpriced and not now:
            notes.append(
                f"no {own.rate_key} Savings Plan rate for {', '.join(sorted(set(unpriced))[:5])}: their usage "
                "is planned as if the owned plans did not cover it"
            )
        pools.append(commitments.Pool(own.key, float(own.now if now else own.counted), ratio))
    # EC2 Instance plans apply before Compute plans; among one type, the deeper discount first.
    pools.sort(
        key=lambda p: (
            p.name.split("/")[0] != "ec2instance",
            float(np.nanmean(p.ratio)) if np.isfinite(p.ratio).any() else 1.0,
        )
    )
    return pools, notes


@dataclass
class JointResult:
    """What `plan_ec2` changed: per EC2 row index, the arrays `_row` reads, the SP row, the owned plans."""

    rows: list[int]
    recommended: Any
    savings: Any  # $/h each purchase saves against what is paid today
    p95_savings: Any
    utilization: Any
    standalone: Any  # what each group would buy without the Savings Plans
    savings_plan: PlanRow | None
    owned: list[OwnedCommitment]
    pools: list[commitments.Pool]  # the owned commitments as applied (counted on)
    notes: list[str]


def plan_ec2(
    *,
    store: Any,
    who: str,
    groups: list[Group],
    rows: list[int],
    planned: dict[str, Any],
    values: Any,
    owned_units: Any,
    owned_now_units: Any,
    on_demand: Any,
    reserved: Any,
    granularity: Any,
    new_ratio: Any,
    book: PriceBook,
    weights: dict[str, float],
    term: str,
    payment: str,
    now: datetime,
    end: datetime,
    renew_days: int,
    min_hours: int,
    price_source: str | None,
) -> JointResult:
    """Plan the EC2 groups `rows` (indices into `groups` and `planned`) with the Savings Plans owned."""
    import numpy as np

    ec2 = [groups[i] for i in rows]
    owned_sp = owned_savings_plans(store, who, now=now, end=end, renew_days=renew_days)
    pools, notes = _pools(owned_sp, ec2, book, weights, now=False)
    pools_now, _ = _pools(owned_sp, ec2, book, weights, now=True)
    m = commitments.model(
        values[rows], owned_units[rows], on_demand[rows], reserved[rows], granularity[rows], pools
    )
    standalone = np.where(np.isfinite(planned["recommended"][rows]), planned["recommended"][rows], 0.0)
    upper = np.where(planned["enough_history"][rows], standalone, 0.0)
    name = f"compute/{term}/{payment}"
    joint = commitments.plan_together(m, upper, new_ratio[rows], name=f"new {name}")
    order = list(range(len(rows)))
    savings = commitments.sequential_savings(m, joint.extra, order)
    p95 = np.nan_to_num(np.asarray(planned["p95_rule"][rows], dtype=np.float64))
    p95_savings = commitments.sequential_savings(m, p95, order)
    util = ri.plan_costs(values[rows], owned_units[rows], joint.extra, on_demand[rows], reserved[rows])
    levels = m.base + joint.extra
    today = commitments.model(
        values[rows], owned_now_units[rows], on_demand[rows], reserved[rows], granularity[rows], pools_now
    )
    used_today = commitments.utilization(today, today.base, pools_now)
    used_after = commitments.utilization(m, levels, pools)
    by_key = {own.key: own for own in owned_sp}
    for pool, before, after in zip(pools, used_today, used_after, strict=True):
        by_key[pool.name].used_today, by_key[pool.name].used_after = before, after
    sp_row = _savings_plan_row(
        m, joint, pools, owned_sp, today, pools_now, who=who, term=term, payment=payment, store=store,
        end=end, price_source=price_source, n_hours=int(values.shape[1]), min_hours=min_hours,
    )  # fmt: skip
    return JointResult(
        rows,
        joint.extra,
        savings,
        p95_savings,
        util["utilization"],
        standalone,
        sp_row,
        owned_sp,
        pools,
        notes,
    )


def _weighted(used: list[float | None], pools: list[commitments.Pool]) -> float | None:
    total = sum(p.commitment for p in pools)
    if total <= 0:
        return None
    return sum((u or 0.0) * p.commitment for u, p in zip(used, pools, strict=True)) / total


def _savings_plan_row(
    m: commitments.Model,
    joint: commitments.Joint,
    pools: list[commitments.Pool],
    owned: list[OwnedCommitment],
    today: commitments.Model,
    pools_now: list[commitments.Pool],
    *,
    who: str,
    term: str,
    payment: str,
    store: Any,
    end: datetime,
    price_source: str | None,
    n_hours: int,
    min_hours: int,
) -> PlanRow | None:
    """The Savings Plan row: the commitment owned (and its use), the new commitment for what is left on demand
    after the recommended RIs and the owned plans, in $/hour, valued against what is paid today."""
    import numpy as np

    from awscost.planning.plan import PlanRow, _f, money

    if m.hours == 0:
        return None
    levels = m.base + joint.extra
    rem, _ = commitments._forward(m, levels, pools)
    spend = m.on_demand @ rem  # $/h left on demand after the RIs and the owned plans
    by_group = (m.on_demand[:, None] * rem).sum(axis=1)
    ratios = np.asarray(joint.pool.ratio, dtype=np.float64)
    ok = np.isfinite(ratios)
    ratio = (
        float(np.average(ratios[ok], weights=by_group[ok]))
        if ok.any() and by_group[ok].sum() > 0
        else float(np.nanmean(ratios))
        if ok.any()
        else float("nan")
    )
    if not np.isfinite(ratio):
        return None
    enough = m.hours >= min_hours
    commitment = float(joint.commitment) if enough else 0.0
    base_cost = commitments.hourly_cost(m, joint.extra, pools)

    def saving(c: float) -> float:
        new = commitments.Pool(joint.pool.name, c, joint.pool.ratio)
        return base_cost - (commitments.hourly_cost(m, joint.extra, [*pools, new]) + c)

    p95_level = float(np.percentile(spend, 95)) * ratio
    p95_rule = round(p95_level, 3) if enough else 0.0
    new_pool = commitments.Pool(joint.pool.name, commitment, joint.pool.ratio)
    used_new = commitments.utilization(m, levels, [*pools, new_pool])[-1] if commitment > 0 else None
    owned_now = sum((o.now for o in owned if o.kind in APPLIES), Decimal(0))
    used_today = _weighted(commitments.utilization(today, today.base, pools_now), pools_now)
    used_after = _weighted(commitments.utilization(m, levels, pools), pools)
    # coverage of the eligible spend by the plans owned, today: on-demand-equivalent covered / eligible
    before = today.on_demand @ np.maximum(today.usage - today.base[:, None], 0.0)
    left = commitments.on_demand_hourly(today, today.base, pools_now)
    coverage = float(1 - left.sum() / before.sum()) if before.sum() > 0 else None
    share = {"all": 1.0, "partial": 0.5, "no": 0.0}[payment]  # of the commitment paid upfront
    upfront = money(commitment * TERM_HOURS[term] * share)
    monthly_savings = money(saving(commitment) * 730)
    be_months = None
    if upfront is not None and monthly_savings is not None and commitment > 0:
        # the upfront part is earned back by the on-demand spend it replaces, net of the recurring part
        monthly_gross = float(monthly_savings) + commitment * 730 * share
        be_months = round(float(upfront) / monthly_gross, 1) if monthly_gross > 0 else None
    note = _note(owned, used_today, used_after, store=store, who=who, end=end, enough=enough, hours=m.hours,
                 min_hours=min_hours)  # fmt: skip
    return PlanRow(
        kind="savings-plan",
        region="all",
        key="compute",
        account=who,
        flexible=True,
        unit="$/hour commitment",
        hours=m.hours,
        missing=n_hours - m.hours,
        p50=_f(np.percentile(spend, 50)),
        p95=_f(np.percentile(spend, 95)),
        max=_f(spend.max()),
        owned=float(owned_now),
        expiring_30d=float(sum((o.expiring_30 for o in owned if o.kind in APPLIES), Decimal(0))),
        expiring_90d=float(sum((o.expiring_90 for o in owned if o.kind in APPLIES), Decimal(0))),
        coverage=None if coverage is None else round(coverage, 4),
        breakeven=round(ratio, 4),
        recommended=round(float(commitment), 3),
        p95_rule=p95_rule,
        term=term,
        payment=payment,
        upfront=upfront,
        monthly_cost=money(commitment * 730),
        monthly_savings=monthly_savings,
        p95_monthly_savings=money(saving(p95_rule) * 730),
        break_even_months=be_months,
        utilization=None if used_new is None else round(float(used_new), 4),
        owned_utilization=None if used_after is None else round(float(used_after), 4),
        price_source=price_source,
        note=note,
    )


def _note(
    owned: list[OwnedCommitment],
    used_today: float | None,
    used_after: float | None,
    *,
    store: Any,
    who: str,
    end: datetime,
    enough: bool,
    hours: int,
    min_hours: int,
) -> str:
    from awscost.planning.explorer import stored_savings_plans_utilization

    parts = []
    applying = [o for o in owned if o.kind in APPLIES]
    if applying:
        total = sum((o.now for o in applying), Decimal(0))
        keys = ", ".join(f"{o.key} ${o.now}/h" for o in applying)
        text = f"Savings Plans owned: ${total}/h ({keys})"
        if used_today is not None and used_after is not None:
            text += f", modeled {used_today:.1%} used today, {used_after:.1%} after the recommended RIs"
        measured = stored_savings_plans_utilization(store, account=who, end=end)
        if measured is not None:
            pct, first, last = measured
            text += f"; Cost Explorer: {pct:.1f}% used {first}..{last}"
        parts.append(text)
    if not enough:
        parts.append(f"too little history: {hours} h < {min_hours} h, nothing recommended")
    parts.append(
        "new Compute Savings Plan for the EC2 spend left on demand after the recommended RIs"
        + (" and the plans owned" if applying else "")
    )
    return "; ".join(parts)
