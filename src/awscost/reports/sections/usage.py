"""Section *Resource usage*: instance-hours (and DynamoDB capacity-unit-hours) per kind, account and region
from the usage store, against the previous period. The store carries no tags: a tag-scoped audience sees
only accounts wholly in its scope (none, unless its filter names every tag value)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time
from decimal import Decimal

from awscost.reports.model import Column, Section, Table
from awscost.reports.sections import SectionContext
from awscost.usage import kinds as catalog


def _at(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _hours(ctx: SectionContext, start: date, end: date) -> dict[tuple[str, str, str], Decimal]:
    assert ctx.store is not None
    out: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for kind in catalog.PLANNED_KINDS:
        spec = catalog.spec(kind)
        # A daily kind is sampled once a day: each sample stands for its day's 24 hours.
        per_sample = 24 if kind in catalog.DAILY_KINDS else 1
        for item in ctx.store.query(kind=kind, since=_at(start), until=_at(end)):
            if not item.account.isdigit():
                continue  # the org-wide total: the accounts are summed here instead
            if ctx.whole_accounts is not None and item.account not in ctx.whole_accounts:
                continue
            keys = spec.capacity_keys or tuple(item.usage)
            out[(kind, item.account, item.region)] += (
                Decimal(str(sum(item.usage.get(k, 0) for k in keys))) * per_sample
            )
    return out


def build(ctx: SectionContext) -> Section:
    section = Section("usage", "Resource usage")
    if ctx.store is None:
        section.unavailable = "no usage store: run `awscost collect` (or the demo) to collect usage"
        return section
    if ctx.whole_accounts is not None and not ctx.whole_accounts:
        section.unavailable = (
            "the usage store carries no tags, and no account is wholly in this audience's tag scope"
        )
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
    return section
