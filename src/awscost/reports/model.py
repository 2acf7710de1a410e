"""What a cost report is made of, independent of how it is shown: sections of figures, tables, charts and
notes. A section (`reports/sections/`) fills these from the billing library's analyses and the stores; the
renderers (`reports/render/`) turn the same objects into HTML mail, an XLSX sheet each, plain text and JSON.

Cell values are typed by their column's `kind`, so that a renderer never guesses: money is `Decimal` (exact,
shown with its currency), a ratio is a 0-1 `Decimal` (shown as a percentage by the HTML and as a percent
format in the workbook, but kept 0-1 in JSON and in the cell), text is `str` and is always data: escaped in
HTML, written as a string (never a formula) in the workbook.

Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

ColumnKind = Literal["text", "money", "ratio", "number", "date"]
Value = str | int | Decimal | date | None
# Which way of a change is bad: "cost" (up is bad, shown red), "saving" (down is bad), "neutral" (no colour).
Sense = Literal["cost", "saving", "neutral"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind = "text"
    unit: str | None = None  # the currency of a money column (shown in its heading)
    # Set: the column holds a change (shown with its sign, coloured by the sense); None: a plain value.
    change: Sense | None = None


@dataclass(frozen=True)
class Table:
    name: str  # a short key, unique in its section (the JSON key, the workbook's table heading)
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Value, ...], ...]
    note: str | None = None  # what the table leaves out, or how it was computed

    def records(self) -> list[dict[str, Value]]:
        return [dict(zip((c.name for c in self.columns), row, strict=True)) for row in self.rows]


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[Decimal | None, ...]  # one per label of the chart; None = no value (a gap)


@dataclass(frozen=True)
class Chart:
    name: str  # a short key, unique in the report (the PNG's Content-ID, the workbook's chart)
    title: str
    kind: Literal["line", "bar"]
    labels: tuple[str, ...]  # x axis: days, services ...
    series: tuple[Series, ...]
    unit: str  # y axis: a currency code, "hours" ...
    # A band around a series (a forecast interval): (series name, low values, high values).
    band: tuple[str, tuple[Decimal | None, ...], tuple[Decimal | None, ...]] | None = None


@dataclass(frozen=True)
class Figure:
    """A headline number: this period, the previous one, the change."""

    label: str
    kind: ColumnKind  # money, ratio or number
    value: Decimal | None
    previous: Decimal | None = None
    unit: str | None = None  # the currency of money
    sense: Sense = "cost"  # which way of the change is bad

    @property
    def change(self) -> Decimal | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def change_ratio(self) -> Decimal | None:
        """(value - previous) / previous, as a 0-1 ratio; None when there is no previous value or it is 0."""
        if self.change is None or not self.previous:
            return None
        return self.change / self.previous


@dataclass
class Section:
    """One section as rendered: its figures, tables, charts and notes; or why it could not be filled."""

    name: str  # registry key: cost, movers, tags, usage, services, savings
    title: str
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unavailable: str | None = None  # set: the section is shown as this one line, nothing else
    data: dict[str, Any] = field(default_factory=dict)  # the section's machine-readable part of the JSON


@dataclass(frozen=True)
class Provenance:
    """The footer: where every figure comes from."""

    source: str  # "billing dataset demo-out/billing", "Cost Explorer GetCostAndUsage"
    metric: str
    period: str  # "2026-10-26..2026-11-01 (compared with 2026-10-19..2026-10-25)"
    as_of: datetime | None  # the last hour the source covers
    preliminary: bool  # the bill of the period is not closed yet
    price_source: str | None
    generated_at: datetime


@dataclass
class Report:
    audience: str
    title: str  # the mail's subject
    headline: str  # one line: "Cost 1,234.56 USD, +12.3 % vs the previous period"
    sections: list[Section]
    provenance: Provenance
    data: dict[str, Any] = field(default_factory=dict)  # the JSON document (the documented keys)
    # The accounts whose every figure is in the audience's scope (None: every account): what a front end may
    # show of the usage store, which has no tags (a tag-scoped audience has none).
    whole_accounts: frozenset[str] | None = None

    def section(self, name: str) -> Section:
        for section in self.sections:
            if section.name == name:
                return section
        raise KeyError(name)
