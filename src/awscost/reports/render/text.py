"""A report as plain text: the mail's text/plain alternative. The headline, each section's figures, the first
rows of each table in aligned columns, the notes, and the provenance footer; charts are named (they are in
the HTML part and the workbook)."""

from __future__ import annotations

from awscost.reports.model import Report, Section, Table
from awscost.reports.render import formats
from awscost.reports.render.checks import check

TOP_ROWS = 10  # rows of a table shown here; the HTML and the workbook hold them all
MAX_CELL = 40  # characters of a text cell before it is cut (the row stays on one line)


def _cut(text: str) -> str:
    text = " ".join(text.split())  # a newline in a value must not break the table's lines
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def _table(t: Table) -> list[str]:
    head = [formats.heading(c.name, c.unit) for c in t.columns]
    rows = [
        [
            _cut(formats.cell(v, c.kind, signed=c.change is not None))
            for c, v in zip(t.columns, row, strict=True)
        ]
        for row in t.rows[:TOP_ROWS]
    ]
    widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=True)]
    right = [c.kind != "text" for c in t.columns]

    def line(cells: list[str]) -> str:
        return "  ".join(
            x.rjust(w) if r else x.ljust(w) for x, w, r in zip(cells, widths, right, strict=True)
        ).rstrip()

    out = [t.title, line(head), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    if not t.rows:
        out.append("(no rows)")
    elif len(t.rows) > TOP_ROWS:
        out.append(f"... {len(t.rows) - TOP_ROWS} more rows in the workbook")
    if t.note:
        out.append(t.note)
    return out


def _section(s: Section) -> list[str]:
    out = [s.title, "=" * len(s.title)]
    if s.unavailable:
        return [*out, s.unavailable]
    for f in s.figures:
        line = f"{f.label}: {formats.figure_value(f)}"
        if f.previous is not None:
            line += f" (previous {formats.figure_previous(f)}, change {formats.figure_change(f)})"
        out.append(line)
    for c in s.charts:
        out += ["", f"[chart: {c.title}]"]
    for t in s.tables:
        out += ["", *_table(t)]
    if s.notes:
        out += ["", *s.notes]
    return out


def render_text(report: Report) -> str:
    check(report)
    lines = [report.title, "", report.headline]
    if report.provenance.preliminary:
        lines.append("Preliminary: the bill of this period is not closed yet; figures can still change.")
    for s in report.sections:
        lines += ["", "", *_section(s)]
    lines += ["", "", "--"]
    lines += [f"{label}: {text}" for label, text in formats.provenance_lines(report)]
    return "\n".join(lines) + "\n"
