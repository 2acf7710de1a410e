"""Section *Micro-service costs*: the last container allocation (the saved `service_costs` result): top
services, the idle share of the hosts, and the change against the previous period it holds."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from awscost.reports.model import Column, Figure, Section, Table
from awscost.reports.sections import SectionContext

TOP = 15
IDLE = ("__idle__",)  # containers/allocation.py IDLE: the hosts' unclaimed cost, a line of its own


def build(ctx: SectionContext) -> Section:
    section = Section("services", "Micro-service costs")
    if ctx.whole_accounts is not None:
        section.unavailable = (
            "the container allocation is made for the whole organization; see the organization report"
        )
        return section
    if ctx.regions is not None:
        section.unavailable = (
            "the container allocation is the organization's, not a region's; "
            "see the view without the region filter"
        )
        return section
    saved = ctx.saved("service_costs")
    if saved is None:
        section.unavailable = (
            "no saved allocation: run `awscost services cost` (or the service_costs job) first"
        )
        return section
    by = saved.result.get("by", "service")
    totals: dict[str, Decimal] = defaultdict(Decimal)
    periods = set()
    for row in saved.result.get("rows", []):
        totals[str(row.get(by))] += Decimal(str(row.get("total_cost") or 0))
        periods.add(str(row.get("period")))
    allocated = sum(totals.values(), Decimal(0))
    idle = sum((v for k, v in totals.items() if k.lower() in IDLE), Decimal(0))
    section.figures.append(Figure("Container cost allocated", "money", allocated, None, "USD"))
    section.figures.append(
        Figure("Idle share of the hosts", "ratio", idle / allocated if allocated else None)
    )
    top = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]
    section.tables.append(
        Table(
            "services",
            f"Top {by}s",
            (Column(by), Column("cost", "money"), Column("share", "ratio")),
            tuple((k, v, v / allocated if allocated else None) for k, v in top),
            note=f"The allocation of {saved.finished_at:%Y-%m-%d %H:%M} UTC, periods {', '.join(sorted(periods))}.",
        )
    )
    section.data.update({"allocated": str(allocated), "idle": str(idle), "periods": sorted(periods)})
    return section
