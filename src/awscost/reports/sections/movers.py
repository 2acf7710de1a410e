"""Section *Movers*: the services, usage types and resources whose cost rose most, each explained in one line
by the drill-down (usage type, region, resource, account, tag) that carries most of the change."""

from __future__ import annotations

from awscost.billing.cube import Change
from awscost.reports.model import Column, Section, Table
from awscost.reports.sections import SectionContext
from awscost.reports.sections._common import CHANGE_COLUMNS, change_cells, in_currency, signed

TOP = 5
LABELS = {
    "ServiceName": "service",
    "UsageType": "usage type",
    "RegionId": "region",
    "ResourceId": "resource",
    "SubAccountId": "account",
}


def explain(ctx: SectionContext, dimension: str, mover: Change) -> str:
    """One line: '+1,234.56 USD: usage type BoxUsage:m5.large +900.00, region eu-west-1 +1,100.00, ...'."""
    dims = [*LABELS, f"Tags.{ctx.tag_key}"]
    parts = []
    for dim, change in ctx.cube.drill_down(
        ctx.scope, ctx.current, ctx.previous, ctx.metric, {dimension: mover.key}, dims, ctx.currency
    ):
        label = LABELS.get(dim) or f"tag {dim[5:]}="
        value = change.key if change.key is not None else "(none)"
        if dim == "SubAccountId":
            value = f"{value} ({ctx.name_of(change.key)})" if ctx.name_of(change.key) != value else value
        parts.append(f"{label}{'' if label.endswith('=') else ' '}{value} {signed(change.change)}")
    head = f"{signed(mover.change)} {ctx.currency}"
    return f"{head}: {', '.join(parts)}" if parts else head


def build(ctx: SectionContext) -> Section:
    section = Section("movers", "What changed")
    for dimension, title in (
        ("ServiceName", "Services"),
        ("UsageType", "Usage types"),
        ("ResourceId", "Resources"),
    ):
        if not ctx.cube.has(dimension):
            why = ctx.cube.note(dimension) or f"{ctx.cube.source} has no {LABELS[dimension]} per day"
            section.notes.append(f"{title}: {why}.")
            continue
        changes = in_currency(
            ctx.cube.compare(dimension, ctx.scope, ctx.current, ctx.previous, ctx.metric, usage_only=True),
            ctx.currency,
        )
        rising = sorted((c for c in changes if c.change > 0), key=lambda c: (-c.change, str(c.key)))[:TOP]
        rows = tuple((c.key, *change_cells(c), explain(ctx, dimension, c)) for c in rising)
        section.tables.append(
            Table(
                dimension,
                f"{title} with the largest increase",
                (Column(LABELS[dimension]), *CHANGE_COLUMNS, Column("why")),
                rows,
            )
        )
        section.data[LABELS[dimension].replace(" ", "_") + "s"] = [
            {"key": r[0], "change": str(r[3]), "why": r[-1]} for r in rows
        ]
    if not any(t.rows for t in section.tables):
        section.notes.append("No cost rose against the previous period.")
    return section
