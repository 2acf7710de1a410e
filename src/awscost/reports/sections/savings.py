"""Section *Savings*: what the last RI / Savings Plans plan (the saved `ri_plan` result) would save per
month, coverage and utilization of what is owned, and reservations expiring in 30 / 90 days. The plan is made
for the whole organization: audiences of part of it are told so rather than shown its figures."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from awscost.reports.model import Column, Figure, Section, Table
from awscost.reports.sections import SectionContext

TOP = 15


def _d(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def build(ctx: SectionContext) -> Section:
    section = Section("savings", "Reservations and savings")
    if ctx.whole_accounts is not None:
        section.unavailable = (
            "the RI / Savings Plans plan is made for the whole organization; see the organization report"
        )
        return section
    if ctx.regions is not None:
        section.unavailable = (
            "the RI / Savings Plans plan's savings are the organization's, not a region's; "
            "see the view without the region filter"
        )
        return section
    saved = ctx.saved("ri_plan")
    if saved is None:
        section.unavailable = "no saved plan: run `awscost ri plan` (or the ri_plan job) first"
        return section
    plan = saved.result
    totals = plan.get("totals", {})
    section.figures.append(
        Figure("Monthly savings of the plan", "money", _d(totals.get("monthly_savings")), None, "USD")
    )
    section.figures.append(Figure("Upfront payment", "money", _d(totals.get("upfront")), None, "USD"))
    rows = sorted(plan.get("rows", []), key=lambda r: -float(r.get("monthly_savings") or 0))
    section.tables.append(
        Table(
            "plan",
            "What to buy",
            (
                Column("kind"),
                Column("region"),
                Column("group"),
                Column("owned", "number"),
                Column("coverage", "ratio"),
                Column("recommended", "number"),
                Column("unit"),
                Column("monthly_savings", "money"),
            ),
            tuple(
                (
                    r.get("kind"),
                    r.get("region"),
                    r.get("key"),
                    _d(r.get("owned")),
                    _d(r.get("coverage")),
                    _d(r.get("recommended")),
                    r.get("unit"),
                    _d(r.get("monthly_savings")),
                )
                for r in rows[:TOP]
                if r.get("recommended")
            ),
            note=f"The plan of {saved.finished_at:%Y-%m-%d %H:%M} UTC over {plan.get('start')} .. "
            f"{plan.get('end')}, term {plan.get('term')}, payment {plan.get('payment')}; prices: "
            f"{', '.join(plan.get('price_sources') or ['unknown'])}. The RI workbook (`awscost report ri`) "
            "has every group.",
        )
    )
    expiring = [
        r for r in plan.get("rows", []) if (r.get("expiring_30d") or 0) or (r.get("expiring_90d") or 0)
    ]
    section.tables.append(
        Table(
            "expiring",
            "Reservations expiring",
            (
                Column("kind"),
                Column("region"),
                Column("group"),
                Column("owned", "number"),
                Column("expiring_30d", "number"),
                Column("expiring_90d", "number"),
            ),
            tuple(
                (
                    r.get("kind"),
                    r.get("region"),
                    r.get("key"),
                    _d(r.get("owned")),
                    _d(r.get("expiring_30d")),
                    _d(r.get("expiring_90d")),
                )
                for r in expiring
            ),
        )
    )
    section.data.update(
        {
            "plan_finished_at": saved.finished_at.isoformat(),
            "monthly_savings": totals.get("monthly_savings"),
            "upfront": totals.get("upfront"),
            "price_sources": plan.get("price_sources"),
        }
    )
    ctx.extra["price_source"] = ", ".join(plan.get("price_sources") or []) or None
    return section
