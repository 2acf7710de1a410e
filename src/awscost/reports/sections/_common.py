"""What the sections share: the rows of a comparison table and the one-currency filter."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from awscost.billing.cube import Change
from awscost.reports.model import Column, Value

CHANGE_COLUMNS = (
    Column("cost", "money"),
    Column("previous", "money"),
    Column("change", "money", change="cost"),
    Column("change_ratio", "ratio", change="cost"),
)


def in_currency(changes: Iterable[Change], currency: str) -> list[Change]:
    return [c for c in changes if c.currency == currency]


def change_cells(c: Change) -> tuple[Value, ...]:
    return (c.cost, c.previous, c.change, c.change_ratio)


def money(value: Decimal) -> str:
    """Money for a sentence: 1,234.56 (the tables keep every decimal)."""
    return f"{value:,.2f}"


def signed(value: Decimal) -> str:
    return ("+" if value >= 0 else "-") + money(abs(value))
