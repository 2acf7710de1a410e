"""Section *Resource usage*: instance-hours (and DynamoDB capacity-unit-hours) per kind, account and region
from the usage store, against the previous period; Reserved Instance and Savings Plans coverage and
utilization from the bill's commitment lines, against the previous period; the reservations and Savings
Plans expiring within 30 and 90 days, from the store (sections/commitments.py). The store carries no tags,
nor do the commitment figures per account: a tag-scoped audience sees only accounts wholly in its scope
(none, unless its filter names every tag value)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time
from decimal import Decimal

from awscost.reports.model import Column, Figure, Section, Table
from awscost.reports.sections import SectionContext
from awscost.reports.sections import commitments as cm
from awscost.usage import kinds as catalog


def _at(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _hours(ctx: SectionContext, start: date, end: date) -> dict[tuple[str, str, str], Decimal]:
    """Hours per (kind, account, region) in [start, end); `ctx.extra["usage_first"]` keeps the earliest
    sample seen, so that the section can say which part of a period the store does not hold."""
    assert ctx.store is not None
    out: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    first: datetime | None = ctx.extra.get("usage_first")
    for kind in catalog.PLANNED_KINDS:
        spec = catalog.spec(kind)
        # A daily kind is sampled once a day: each sample stands for its day's 24 hours.
        per_sample = 24 if kind in catalog.DAILY_KINDS else 1
        for item in ctx.store.query(kind=kind, since=_at(start), until=_at(end)):
            if not item.account.isdigit():
                continue  # the org-wide total: the accounts are summed here instead
            if ctx.whole_accounts is not None and item.account not in ctx.whole_accounts:
                continue
            if ctx.regions is not None and item.region not in ctx.regions:
                continue
            keys = spec.capacity_keys or tuple(item.usage)
            out[(kind, item.account, item.region)] += (
                Decimal(str(sum(item.usage.get(k, 0) for k in keys))) * per_sample
            )
            first = item.time if first is None or item.time < first else first
    ctx.extra["usage_first"] = first
    return out


def _gap_note(ctx: SectionContext) -> str | None:
    """What of the two periods the store does not hold (it starts after their first hour), or None."""
    first = ctx.extra.get("usage_first")
    if first is None or first <= _at(ctx.previous[0]):
        return None
    since = f"The usage store holds samples from {first:%Y-%m-%d %H:00} UTC on"
    if first < _at(ctx.current[0]):
        return f"{since}: the previous period is only partly covered, so the change is not like for like."
    partly = " and this one only partly" if first > _at(ctx.current[0]) else ""
    return f"{since}: the previous period is not covered{partly}, so the change is not like for like."


def build(ctx: SectionContext) -> Section:
    section = Section("usage", "Resource usage")
    no_store = "no usage store: run `awscost collect` (or the demo) to collect usage"
    if ctx.store is None and ctx.commitments is None:
        section.unavailable = no_store
        return section
    if ctx.whole_accounts is not None and not ctx.whole_accounts:
        section.unavailable = (
            "the usage store and the commitment figures per account carry no tags, and no account is wholly "
            "in this audience's tag scope"
        )
        return section
    if ctx.store is None:
        # The bill's commitment figures need no store; the hours and the expiring reservations do.
        section.notes.append(f"{no_store}; the hours and the expiring reservations come from it.")
        _coverage(ctx, section)
        return section
    now, before = _hours(ctx, *ctx.current), _hours(ctx, *ctx.previous)
    keys = sorted(set(now) | set(before), key=lambda k: (-now.get(k, Decimal(0)), k))
    rows = []
    for kind, account, region in keys:
        unit = "capacity-unit-hours" if kind in catalog.CAPACITY_KINDS else "instance-hours"
        cur, prev = (
            now.get((kind, account, region), Decimal(0)),
            before.get((kind, account, region), Decimal(0)),
        )
        rows.append((kind, account, ctx.name_of(account), region, unit, cur, prev, cur - prev))
    section.tables.append(
        Table(
            "hours",
            "Reservable usage per kind, account and region",
            (
                Column("kind"),
                Column("account_id"),
                Column("name"),
                Column("region"),
                Column("unit"),
                Column("hours", "number"),
                Column("previous_hours", "number"),
                Column("change", "number"),
            ),
            tuple(rows),
            note="From the usage store (collected hourly); daily kinds count 24 hours per daily sample.",
        )
    )
    section.data["hours"] = [
        {
            "kind": r[0],
            "account_id": r[1],
            "region": r[3],
            "unit": r[4],
            "hours": str(r[5]),
            "previous": str(r[6]),
        }
        for r in rows
    ]
    if not rows:
        section.notes.append("The usage store holds no reservable usage for these periods.")
    gap = _gap_note(ctx)
    if gap is not None:
        section.notes.append(gap)
    _coverage(ctx, section)
    _expiring(ctx, section)
    return section


def _ratio(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _coverage(ctx: SectionContext, section: Section) -> None:
    """Coverage and utilization of the commitments, from the bill, this period against the previous."""
    if ctx.commitments is None:
        section.notes.append(
            "Reserved Instance and Savings Plans coverage and utilization come from the bill's commitment "
            "lines: not shown with Cost Explorer as the source (`awscost ri report` shows Cost Explorer's)."
        )
        return
    now, others = cm.in_scope(ctx.commitments(*ctx.current), ctx.whole_accounts, ctx.currency)
    before, others_before = cm.in_scope(ctx.commitments(*ctx.previous), ctx.whole_accounts, ctx.currency)
    cur, prev = cm.total(now.values(), ctx.currency), cm.total(before.values(), ctx.currency)
    section.figures.append(
        Figure("Commitment coverage", "ratio", cur.coverage, prev.coverage, sense="saving")
    )
    section.figures.append(
        Figure("Commitment utilization", "ratio", cur.utilization, prev.utilization, sense="saving")
    )
    empty = cm.Commitments("", ctx.currency)
    accounts = sorted(set(now) | set(before), key=lambda a: (-now.get(a, empty).covered_list, a))
    rows = []
    for account in accounts:
        c, p = now.get(account, empty), before.get(account, empty)
        rows.append(
            (
                account,
                ctx.name_of(account),
                c.reserved_covered,
                c.sp_covered,
                c.on_demand_eligible,
                c.unused,
                c.coverage,
                p.coverage,
                c.utilization,
                p.utilization,
            )
        )
    section.tables.append(
        Table(
            "commitments",
            "Reserved Instance and Savings Plans coverage and utilization per account",
            (
                Column("account_id"),
                Column("name"),
                Column("reserved_covered", "money", unit=ctx.currency),
                Column("savings_plans_covered", "money", unit=ctx.currency),
                Column("on_demand_eligible", "money", unit=ctx.currency),
                Column("unused_commitment", "money", unit=ctx.currency),
                Column("coverage", "ratio"),
                Column("previous_coverage", "ratio"),
                Column("utilization", "ratio"),
                Column("previous_utilization", "ratio"),
            ),
            tuple(rows),
            note=(
                "From the bill's lines (Bill.commitments), UTC days of each period. Coverage: the on-demand-"
                "equivalent cost (ListCost) of the usage RIs and Savings Plans covered / that of all usage a "
                "commitment could cover. Utilization: commitment used / used + unused, at EffectiveCost. "
                "Covered, eligible and unused amounts are EffectiveCost. The used commitment counts in the "
                "account whose usage it covered, the unused in the account that owns the commitment: shared "
                "across the organization, an account's utilization can differ from its own commitments'."
            ),
        )
    )
    if others or others_before:
        section.notes.append(
            f"Commitment figures in {', '.join(sorted(others | others_before))} are left out "
            f"(the section shows {ctx.currency}; currencies are never added)."
        )

    def parts(c: cm.Commitments) -> dict[str, str | None]:
        return {
            "reserved_covered": str(c.reserved_covered),
            "savings_plans_covered": str(c.sp_covered),
            "on_demand_eligible": str(c.on_demand_eligible),
            "unused_commitment": str(c.unused),
            "covered_list_cost": str(c.covered_list),
            "uncovered_list_cost": str(c.uncovered_list),
            "coverage": _ratio(c.coverage),
            "utilization": _ratio(c.utilization),
        }

    section.data["commitments"] = {
        "source": "bill",
        "currency": ctx.currency,
        **parts(cur),
        "previous": parts(prev),
        "by_account": [
            {"account_id": a, **parts(now.get(a, empty)), "previous": parts(before.get(a, empty))}
            for a in accounts
        ],
    }


def _expiring(ctx: SectionContext, section: Section) -> None:
    """The reservations and Savings Plans ending within 30 and 90 days of the report's day (what is still to
    be renewed when the report is read), else of the period's end."""
    assert ctx.store is not None
    as_of = ctx.today or ctx.current[1]
    found = cm.expiring(ctx.store, ctx.whole_accounts, as_of, regions=ctx.regions)
    rows = tuple(
        (
            "30 days" if e.days_left <= cm.HORIZONS[0] else "90 days",
            e.kind,
            e.account_id,
            ctx.name_of(e.account_id),
            e.region,
            e.id,
            e.type,
            e.count,
            e.commitment,
            e.end,
            e.days_left,
        )
        for e in found
    )
    section.tables.append(
        Table(
            "expiring",
            f"Reservations and Savings Plans ending within {cm.HORIZONS[1]} days of {as_of}",
            (
                Column("within"),
                Column("kind"),
                Column("account_id"),
                Column("name"),
                Column("region"),
                Column("id"),
                Column("type"),
                Column("count", "number"),
                Column("commitment_per_hour", "money", unit="USD"),
                Column("end", "date"),
                Column("days_left", "number"),
            ),
            rows,
            note=(
                "From the usage store: the reservations and Savings Plans listed by the latest ri-* and sp "
                f"item of each account and region up to {as_of} (the report's day), days left from {as_of} "
                "00:00 UTC. Count: reserved instances or nodes; commitment: a Savings Plan's $/hour. Within "
                "30 days is also within 90."
            ),
        )
    )

    def listed(days: int) -> list[dict[str, object]]:
        return [
            {
                "kind": e.kind,
                "account_id": e.account_id,
                "region": e.region,
                "id": e.id,
                "type": e.type,
                "count": None if e.count is None else str(e.count),
                "commitment_per_hour": None if e.commitment is None else str(e.commitment),
                "end": e.end.isoformat(),
                "days_left": e.days_left,
            }
            for e in found
            if e.days_left <= days
        ]

    section.data["expiring"] = {
        "as_of": as_of.isoformat(),
        **{f"within_{days}_days": listed(days) for days in cm.HORIZONS},
    }
