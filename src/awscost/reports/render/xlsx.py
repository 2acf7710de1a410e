"""A report as an XLSX workbook (XlsxWriter, in memory): a Summary sheet (headline, every section's figures,
the sheets, the provenance footer), then one sheet per section: its figures, its tables, its notes, and each
chart's data with a native Excel chart beside it that references those cells.

Cells are typed by their column's kind. Money is a number cell holding the amount converted to the nearest
binary float, not rounded to cents (a cent-rounded cell would not tie out against the bill); 2 places are its
display format, and the Summary says that the exact decimal values are in the report's JSON. A ratio stays
0-1 in the cell with a percent format. Text is always `write_string`, and the workbook is opened with
strings_to_formulas/urls/numbers off: `=HYPERLINK(...)`, `+1`, `@SUM(A1)` stay text. Chart titles, series
and axis names are references to cells written that way, never strings XlsxWriter could read as a formula.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from awscost.reports.model import Chart, Column, ColumnKind, Figure, Report, Section, Table, Value
from awscost.reports.render import formats
from awscost.reports.render.checks import check
from awscost.reports.ri_workbook import sheet_name

OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
MONEY_NOTE = (
    "Money cells hold each amount as a number (binary floating point, about 15 significant digits) shown "
    "with 2 places; the exact decimal amounts are in the report's JSON."
)
CHART_SIZE = {"width": 720, "height": 320}
MAX_WIDTH = 60


class _Book:
    def __init__(self, out: io.BytesIO, created: datetime) -> None:
        import xlsxwriter

        self.wb = xlsxwriter.Workbook(out, {"in_memory": True, **OPTIONS})
        # the creation time is the report's, not the clock's: the same report gives the same workbook
        self.wb.set_properties({"created": created})
        self.taken: set[str] = set()
        self.widths: dict[tuple[str, int], float] = {}
        add = self.wb.add_format
        self.fmt: dict[str, Any] = {
            "title": add({"bold": True, "font_size": 14}),
            "bold": add({"bold": True}),
            "header": add({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True}),
            "note": add({"italic": True, "font_color": "#595959"}),
            "money": add({"num_format": "#,##0.00"}),
            "money+": add({"num_format": "+#,##0.00;-#,##0.00;0.00"}),
            "ratio": add({"num_format": "0.0%"}),
            "ratio+": add({"num_format": "+0.0%;-0.0%;0.0%"}),
            "int": add({"num_format": "#,##0"}),
            "int+": add({"num_format": "+#,##0;-#,##0;0"}),
            "number": add({"num_format": "#,##0.00"}),
            "number+": add({"num_format": "+#,##0.00;-#,##0.00;0.00"}),
            "date": add({"num_format": "yyyy-mm-dd"}),
            "datetime": add({"num_format": "yyyy-mm-dd hh:mm"}),
        }

    def sheet(self, title: str) -> Any:
        ws = self.wb.add_worksheet(sheet_name(title, self.taken))
        # printed (or converted to PDF) a sheet is one page wide: tables and charts side by side stay together
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        return ws

    def text(self, ws: Any, row: int, col: int, value: str, fmt: str | None = None) -> None:
        ws.write_string(row, col, value, self.fmt[fmt] if fmt else None)
        self.widen(ws, col, len(value) + 2)

    def widen(self, ws: Any, col: int, width: float) -> None:
        key = (ws.name, col)
        width = min(MAX_WIDTH, max(10.0, width))
        if width > self.widths.get(key, 0):
            self.widths[key] = width
            ws.set_column(col, col, width)

    def value(self, ws: Any, row: int, col: int, v: Value, kind: ColumnKind, *, signed: bool = False) -> None:
        if v is None:
            ws.write_blank(row, col, None)
        elif kind == "text":
            self.text(ws, row, col, str(v))
        elif kind == "date":
            assert isinstance(v, date)
            if isinstance(v, datetime):
                naive = v.astimezone(UTC).replace(tzinfo=None) if v.tzinfo else v
                ws.write_datetime(row, col, naive, self.fmt["datetime"])
                self.widen(ws, col, 17)
            else:
                ws.write_datetime(row, col, datetime(v.year, v.month, v.day), self.fmt["date"])
                self.widen(ws, col, 12)
        else:
            assert isinstance(v, int | Decimal)
            whole = isinstance(v, int) or v.as_tuple().exponent == 0  # 42, Decimal("42"): no places shown
            name = "int" if kind == "number" and whole else kind
            ws.write_number(row, col, float(v), self.fmt[name + ("+" if signed else "")])
            self.widen(ws, col, len(formats.cell(v, kind, signed=signed)) + 2)

    def header(self, ws: Any, row: int, names: Sequence[str]) -> None:
        for c, name in enumerate(names):
            ws.write_string(row, c, name, self.fmt["header"])
            self.widen(ws, c, len(name) + 2)


FIGURE_HEAD = ["Figure", "Value", "Previous", "Change", "Change %", "Unit"]


def _figure(b: _Book, ws: Any, row: int, col: int, f: Figure) -> None:
    """One figure's row from `col`, in FIGURE_HEAD's columns."""
    b.text(ws, row, col, f.label)
    b.value(ws, row, col + 1, f.value, f.kind)
    b.value(ws, row, col + 2, f.previous, f.kind)
    b.value(ws, row, col + 3, f.change, f.kind, signed=True)
    # a ratio's change is already in points; its relative change would read as a second percentage
    b.value(ws, row, col + 4, None if f.kind == "ratio" else f.change_ratio, "ratio", signed=True)
    if f.unit:
        b.text(ws, row, col + 5, f.unit)


def _table(b: _Book, ws: Any, row: int, t: Table) -> int:
    b.text(ws, row, 0, t.title, "bold")
    row += 1
    columns: Sequence[Column] = t.columns
    b.header(ws, row, [formats.heading(c.name, c.unit) for c in columns])
    row += 1
    for values in t.rows:
        for col, (c, v) in enumerate(zip(columns, values, strict=True)):
            b.value(ws, row, col, v, c.kind, signed=c.change is not None)
        row += 1
    if not t.rows:
        b.text(ws, row, 0, "no rows", "note")
        row += 1
    if t.note:
        ws.write_string(row, 0, t.note, b.fmt["note"])
        row += 1
    return row + 1


def _chart(b: _Book, ws: Any, row: int, chart: Chart) -> int:
    """The chart's data from `row` (title, unit, a header and one row per label), the chart beside it."""
    name = ws.get_name()
    b.text(ws, row, 0, chart.title, "bold")
    b.text(ws, row + 1, 0, "Unit")
    b.text(ws, row + 1, 1, chart.unit)
    head = ["Label", *(s.name for s in chart.series)]
    band = chart.band if chart.kind == "line" else None
    if band:
        head += [f"{band[0]} low", f"{band[0]} high"]
    top = row + 2
    b.header(ws, top, head)
    first, last = top + 1, top + len(chart.labels)
    for i, label in enumerate(chart.labels):
        r = first + i
        b.text(ws, r, 0, label)
        for j, s in enumerate(chart.series):
            b.value(ws, r, 1 + j, s.values[i], "number")
        if band:
            low, high = band[1][i], band[2][i]
            n = 1 + len(chart.series)
            b.value(ws, r, n, low, "number")
            b.value(ws, r, n + 1, high, "number")
    if chart.labels and chart.series:
        ws.insert_chart(row, len(head) + 1, _native(b, name, chart, top, first, last, band is not None))
    return max(last + 2, row + 18)  # the next block starts under the chart


def _native(b: _Book, name: str, chart: Chart, top: int, first: int, last: int, band: bool) -> Any:
    categories = [name, first, 0, last, 0]
    main = b.wb.add_chart({"type": "line" if chart.kind == "line" else "column"})
    for j in range(len(chart.series)):
        main.add_series(
            {
                "name": [name, top, 1 + j],
                "categories": categories,
                "values": [name, first, 1 + j, last, 1 + j],
                "line": {"width": 1.75},
            }
        )
    if band:
        # Excel has no shaded interval that survives gaps (a stacked area takes a blank for 0 and ramps up from
        # the axis where the forecast starts): the band's edges are drawn as two dashed lines instead
        n = 1 + len(chart.series)
        for c in (n, n + 1):
            main.add_series(
                {
                    "name": [name, top, c],
                    "categories": categories,
                    "values": [name, first, c, last, c],
                    "line": {"width": 1, "dash_type": "dash", "color": "#F4B183"},
                }
            )
    main.set_title({"name": [name, top - 2, 0], "name_font": {"size": 12, "bold": True}})
    main.set_y_axis({"name": [name, top - 1, 1], "num_format": "#,##0", "major_gridlines": {"visible": True}})
    main.set_legend({"position": "bottom"} if len(chart.series) > 1 or band else {"none": True})
    main.set_size(CHART_SIZE)
    return main


def _section(b: _Book, ws: Any, s: Section) -> None:
    b.text(ws, 0, 0, s.title, "title")
    if s.unavailable:
        b.text(ws, 1, 0, s.unavailable, "note")
        return
    row = 2
    if s.figures:
        b.header(ws, row, FIGURE_HEAD)
        for i, f in enumerate(s.figures):
            _figure(b, ws, row + 1 + i, 0, f)
        row += len(s.figures) + 2
    for t in s.tables:
        row = _table(b, ws, row, t)
    for n in s.notes:
        ws.write_string(row, 0, n, b.fmt["note"])
        row += 1
    if s.notes:
        row += 1
    for c in s.charts:
        row = _chart(b, ws, row, c)


def _summary(b: _Book, ws: Any, report: Report, sheets: Sequence[str]) -> None:
    ws.write_string(0, 0, report.title, b.fmt["title"])
    ws.write_string(1, 0, report.headline)
    row = 3
    if report.provenance.preliminary:
        ws.write_string(2, 0, "Preliminary: the bill of this period is not closed yet.", b.fmt["bold"])
        row = 4
    figures = [(s.title, f) for s in report.sections if not s.unavailable for f in s.figures]
    if figures:
        b.header(ws, row, ["Section", *FIGURE_HEAD])
        for i, (title, f) in enumerate(figures):
            b.text(ws, row + 1 + i, 0, title)
            _figure(b, ws, row + 1 + i, 1, f)
        row += len(figures) + 2
    b.header(ws, row, ["Section", "Sheet", "Status"])
    row += 1
    for s, sheet in zip(report.sections, sheets, strict=True):
        b.text(ws, row, 0, s.title)
        b.text(ws, row, 1, sheet)
        ws.write_string(row, 2, s.unavailable or "shown")  # runs over the empty cells: no wide column
        row += 1
    row += 1
    for label, text in formats.provenance_lines(report):
        b.text(ws, row, 0, label, "bold")
        ws.write_string(row, 1, text)
        row += 1
    ws.write_string(row + 1, 0, MONEY_NOTE, b.fmt["note"])


def render_xlsx(report: Report) -> bytes:
    check(report)
    out = io.BytesIO()
    created = report.provenance.generated_at
    b = _Book(out, created.astimezone(UTC).replace(tzinfo=None) if created.tzinfo else created)
    summary = b.sheet("Summary")
    sheets = [b.sheet(s.title) for s in report.sections]
    _summary(b, summary, report, [ws.get_name() for ws in sheets])
    for ws, s in zip(sheets, report.sections, strict=True):
        _section(b, ws, s)
    b.wb.close()
    return out.getvalue()
