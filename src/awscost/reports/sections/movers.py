"""Section *Movers*: the services, usage types and resources whose cost rose most, each explained in one line
by the drill-down (usage type, region, resource, account, tag) that carries most of the change; and the cost
anomalies the anomaly scan recorded (anomalies/events.py) that ran in the period, with their explanation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from awscost.anomalies.events import overlapping
from awscost.billing.cube import Change
from awscost.reports.model import Column, Section, Table
from awscost.reports.sections import SectionContext
from awscost.reports.sections._common import CHANGE_COLUMNS, change_cells, in_currency, signed

TOP = 5
ANOMALIES = 10
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
    _anomalies(ctx, section)
    return section


def _anomalies(ctx: SectionContext, section: Section) -> None:
    """The recorded anomalies that ran on a day of the period, in the audience's whole accounts (an event is
    of an account and a service: a tag-scoped audience has none wholly), largest first."""
    if ctx.store is None:
        section.notes.append("Anomalies: no store, so no anomaly scan recorded (awscost anomalies detect).")
        return
    if ctx.whole_accounts is not None and not ctx.whole_accounts:
        section.notes.append(
            "Anomalies: they are per account, and no account is wholly in this audience's scope."
        )
        return
    if ctx.regions is not None:
        section.notes.append(
            "Anomalies: they are per account and service, not per region; see the view without the region "
            "filter."
        )
        return
    start, end = ctx.current
    found = overlapping(ctx.store, start, end, ctx.whole_accounts)
    others = [t for t in found if t.currency not in (None, ctx.currency)]
    found = [t for t in found if t.currency in (None, ctx.currency)]
    rows = tuple(
        (
            t.event["date"],
            f"{t.event['account_id']} ({ctx.name_of(t.event['account_id'])})"
            if ctx.name_of(t.event["account_id"]) != t.event["account_id"]
            else t.event["account_id"],
            t.event["service"],
            t.event["kind"],
            Decimal(str(t.event["impact_per_day"])),
            Decimal(str(t.event["impact_total"])),
            ("open" if t.event.get("end") is None else f"ended {str(t.event['end'])[:10]}")
            + (f", acknowledged by {t.ack['by']}" if t.ack else ""),
            t.event["explanation"],
        )
        for t in found[:ANOMALIES]
    )
    seen = max((t.last_seen for t in found), default=None)
    note = (
        f"From the anomaly log: the {_sources(found)} signal; the scan last saw them {str(seen)[:16]}Z. "
        "Impact is actual minus expected, per day and over the event's days so far."
    )
    if not found:
        section.notes.append("No cost anomaly recorded in the period.")
        return
    section.tables.append(
        Table(
            "anomalies",
            "Cost anomalies in the period",
            (
                Column("first day", "text"),
                Column("account"),
                Column("service"),
                Column("kind"),
                Column("impact per day", "money", unit=ctx.currency),
                Column("impact so far", "money", unit=ctx.currency),
                Column("state"),
                Column("why"),
            ),
            rows,
            note,
        )
    )
    section.data["anomalies"] = [
        {**t.event, "source": t.source, "acknowledged": bool(t.ack)} for t in found[:ANOMALIES]
    ]
    if len(found) > ANOMALIES:
        section.notes.append(
            f"Anomalies: the {ANOMALIES} largest of {len(found)}; awscost anomalies list has all."
        )
    if others:
        section.notes.append(f"Anomalies: {len(others)} in another currency are not shown.")


def _sources(found: list[Any]) -> str:
    return " and ".join(sorted({t.source for t in found}))
