"""Section *Tag coverage*: the share of usage cost (ChargeCategory Usage) whose resources carry a non-empty
value of the coverage tag (`user:Spend_Category` by default), by account and against the previous period, the
usage cost per value of the tag (the categories' spend, adding up to the same usage cost) and the largest
untagged resources for the engineer to fix. Shares are 0-1 ratios."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from awscost.billing.cube import Change
from awscost.reports.model import Column, Figure, Section, Table
from awscost.reports.sections import SectionContext
from awscost.reports.sections._common import CHANGE_COLUMNS, change_cells, in_currency

TOP_UNTAGGED = 10
TOP_VALUES = 15  # values shown one by one; the rest are one row, so the table still adds up
UNTAGGED = "(untagged)"


def _share(covered: Decimal, total: Decimal) -> Decimal | None:
    return None if not total else covered / total


def build(ctx: SectionContext) -> Section:
    cube, key, cur = ctx.cube, ctx.tag_key, ctx.currency
    section = Section("tags", f"{key} tag coverage")
    now = [
        c
        for c in cube.coverage(key, ctx.scope, *ctx.current, ctx.metric, by_account=False)
        if c.currency == cur
    ]
    before = [
        c
        for c in cube.coverage(key, ctx.scope, *ctx.previous, ctx.metric, by_account=False)
        if c.currency == cur
    ]
    covered = now[0].covered if now else Decimal(0)
    total = now[0].total if now else Decimal(0)
    prev_share = _share(before[0].covered, before[0].total) if before else None
    section.figures.append(
        Figure("Usage cost tagged", "ratio", _share(covered, total), prev_share, sense="saving")
    )  # more tagged is better: a rise is green
    by_account = [c for c in cube.coverage(key, ctx.scope, *ctx.current, ctx.metric) if c.currency == cur]
    prev_by_account = {
        c.account_id: c.share
        for c in cube.coverage(key, ctx.scope, *ctx.previous, ctx.metric)
        if c.currency == cur
    }
    section.tables.append(
        Table(
            "by_account",
            "Coverage per account",
            (
                Column("account_id"),
                Column("name"),
                Column("covered_cost", "money"),
                Column("total_cost", "money"),
                Column("share", "ratio"),
                Column("previous_share", "ratio"),
            ),
            tuple(
                (
                    c.account_id,
                    ctx.name_of(c.account_id),
                    c.covered,
                    c.total,
                    c.share,
                    prev_by_account.get(c.account_id),
                )
                for c in by_account
            ),
        )
    )
    values = _values(in_currency(cube.tag_values(key, ctx.scope, ctx.current, ctx.previous, ctx.metric), cur))
    section.tables.append(
        Table(
            "values",
            f"Usage cost per {key} value",
            (Column("value"), *CHANGE_COLUMNS),
            tuple((UNTAGGED if v.key is None else v.key, *change_cells(v)) for v in values),
        )
    )
    untagged = cube.untagged(key, ctx.scope, *ctx.current, ctx.metric, TOP_UNTAGGED)
    if cube.has("ResourceId"):
        section.tables.append(
            Table(
                "untagged",
                f"Largest untagged resources (no {key})",
                (Column("resource_id"), Column("account_id"), Column("service"), Column("cost", "money")),
                tuple((r, a, s, v) for r, a, s, c, v in untagged if c == cur),
            )
        )
    else:
        why = cube.note("ResourceId") or f"{cube.source} has no resource-level history"
        section.notes.append(f"Untagged resources: {why}.")
    data: dict[str, Any] = {
        "tag": key,
        "covered_cost": str(covered),
        "total_cost": str(total),
        "share": None if _share(covered, total) is None else str(_share(covered, total)),
        "previous_share": None if prev_share is None else str(prev_share),
        "by_account": [
            {
                "account_id": c.account_id,
                "covered_cost": str(c.covered),
                "total_cost": str(c.total),
                "share": None if c.share is None else str(c.share),
            }
            for c in by_account
        ],
        "values": [{"value": v.key, "cost": str(v.cost), "previous": str(v.previous)} for v in values],
        "untagged": [
            {"resource_id": r, "account_id": a, "service": s, "cost": str(v)}
            for r, a, s, c, v in untagged
            if c == cur
        ],
    }
    section.data.update(data)
    return section


def _values(changes: list[Change]) -> list[Change]:
    """The largest TOP_VALUES values and the untagged cost each in a row, the rest in one row."""
    tagged = [c for c in changes if c.key is not None]
    shown, rest = tagged[:TOP_VALUES], tagged[TOP_VALUES:]
    out = list(shown)
    if rest:
        out.append(
            Change(
                f"({len(rest)} other values)",
                rest[0].currency,
                sum((c.cost for c in rest), Decimal(0)),
                sum((c.previous for c in rest), Decimal(0)),
            )
        )
    out += [c for c in changes if c.key is None]
    return out
