"""How a value of each column kind is written as text, the same in the HTML mail and the plain text: money
`1,234.56` (two places, half up like a spreadsheet's display), ratios `12.3 %`, changes with their sign, dates
in ISO form. Display only: the exact values stay in the JSON and in the workbook's cells.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

from awscost.reports.model import ColumnKind, Figure, Report, Sense, Value

NONE = "–"  # an absent value (en dash)
CENTS = Decimal("0.01")
TENTH = Decimal("0.1")
HUNDREDTHS = Decimal("0.01")


def money(value: Decimal | int, *, signed: bool = False) -> str:
    q = Decimal(value).quantize(CENTS, rounding=ROUND_HALF_UP)
    return f"{q:+,.2f}" if signed else f"{q:,.2f}"


def ratio(value: Decimal | int, *, signed: bool = False) -> str:
    q = (Decimal(value) * 100).quantize(TENTH, rounding=ROUND_HALF_UP)
    return (f"{q:+,.1f}" if signed else f"{q:,.1f}") + " %"


def number(value: Decimal | int, *, signed: bool = False) -> str:
    sign = "+" if signed else ""
    if isinstance(value, int):
        return f"{value:{sign},d}"
    d = value
    if d.as_tuple().exponent < -2:  # type: ignore[operator]
        d = d.quantize(HUNDREDTHS, rounding=ROUND_HALF_UP)
    text = f"{d:{sign},f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def when(value: date) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%d %H:%M") + (" UTC" if value.tzinfo is not None else "")
    return value.isoformat()


def cell(value: Value, kind: ColumnKind, *, signed: bool = False) -> str:
    """One cell as text."""
    if value is None:
        return NONE
    if kind == "text":
        return str(value)
    if kind == "date":
        assert isinstance(value, date)
        return when(value)
    assert isinstance(value, int | Decimal)
    if kind == "money":
        return money(value, signed=signed)
    if kind == "ratio":
        return ratio(value, signed=signed)
    return number(value, signed=signed)


def with_unit(text: str, unit: str | None) -> str:
    return f"{text} {unit}" if unit and text != NONE else text


def tone(change: Decimal | int | None, sense: Sense) -> str | None:
    """ "bad", "good" or None (no change, or a neutral sense): how a change is coloured."""
    if change is None or change == 0 or sense == "neutral":
        return None
    up = change > 0
    return "bad" if up == (sense == "cost") else "good"


def figure_value(f: Figure) -> str:
    return with_unit(cell(f.value, f.kind), f.unit if f.kind == "money" else None)


def figure_previous(f: Figure) -> str:
    return with_unit(cell(f.previous, f.kind), f.unit if f.kind == "money" else None)


def figure_change(f: Figure) -> str:
    """ "+12.34 USD (+5.0 %)", "+1.2 %" for a ratio figure (its change is in points), or the dash."""
    if f.change is None:
        return NONE
    if f.kind == "ratio":
        points = (f.change * 100).quantize(TENTH, rounding=ROUND_HALF_UP)
        return f"{points:+,.1f} pt"
    text = with_unit(cell(f.change, f.kind, signed=True), f.unit if f.kind == "money" else None)
    if f.change_ratio is not None:
        text += f" ({ratio(f.change_ratio, signed=True)})"
    return text


def heading(name: str, unit: str | None) -> str:
    return f"{name} ({unit})" if unit else name


def provenance_lines(report: Report) -> list[tuple[str, str]]:
    """The footer as (label, text) pairs, in the order every renderer shows them."""
    p = report.provenance
    return [
        ("Source", p.source),
        ("Metric", p.metric),
        ("Period", p.period),
        ("As of", when(p.as_of) if p.as_of else "unknown"),
        ("Bill", "preliminary: the period's bill is not closed yet" if p.preliminary else "closed"),
        ("Prices", p.price_source or "none used"),
        ("Generated", when(p.generated_at)),
    ]
