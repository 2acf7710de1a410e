"""A report as one self-contained HTML document (Jinja2, autoescaped; the template is package data).

Mail clients drop <style> blocks, scripts and external resources, so every style is inline, the layout is
tables and the charts are the mail's own parts (`cid:`). `render_html_file` is the same document with the
PNGs inside it (`data:` URIs), for the archive: it opens standalone in a browser.

Every string from the data goes through the template's autoescape: a tag value `<script>` is text.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from awscost.core.errors import ReportError
from awscost.reports.model import Report, Section, Table
from awscost.reports.render import formats
from awscost.reports.render.charts import HEIGHT, WIDTH
from awscost.reports.render.checks import check

COLOURS = {"bad": "#b03a2e", "good": "#1e7d45", None: "inherit"}


@dataclass(frozen=True)
class Cell:
    text: str
    right: bool = False  # numbers are right-aligned
    tone: str | None = None  # "bad", "good": a change's colour

    @property
    def colour(self) -> str:
        return COLOURS[self.tone]


def _table(t: Table) -> dict[str, Any]:
    # Headings for people: words, so that a table of many columns wraps inside a mail's width (the XLSX and
    # the JSON keep the machine names).
    head = [
        Cell(formats.heading(c.name.replace("_", " "), c.unit), right=c.kind != "text") for c in t.columns
    ]
    rows = [
        [
            Cell(
                formats.cell(v, c.kind, signed=c.change is not None),
                right=c.kind != "text",
                tone=formats.tone(v, c.change) if c.change and isinstance(v, int | Decimal) else None,
            )
            for c, v in zip(t.columns, row, strict=True)
        ]
        for row in t.rows
    ]
    return {"title": t.title, "note": t.note, "head": head, "rows": rows}


def section_view(s: Section, srcs: Mapping[str, str]) -> dict[str, Any]:
    """A section as the templates show it: figures, tables and notes as formatted text, charts by `srcs`
    (the mail's cid: parts, the archive's data: URIs, the dashboard's SVG)."""
    figures = [
        {
            "label": f.label,
            "value": formats.figure_value(f),
            "previous": formats.figure_previous(f),
            "change": Cell(formats.figure_change(f), right=True, tone=formats.tone(f.change, f.sense)),
        }
        for f in s.figures
    ]
    charts = [{"src": srcs[c.name], "alt": f"{c.title} (chart)"} for c in s.charts]
    return {
        "title": s.title,
        "unavailable": s.unavailable,
        "figures": figures,
        "tables": [_table(t) for t in s.tables],
        "charts": charts,
        "notes": s.notes,
    }


def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("awscost.reports.render", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _render(report: Report, srcs: Mapping[str, str]) -> str:
    check(report)
    missing = [c.name for s in report.sections for c in s.charts if c.name not in srcs]
    if missing:
        raise ReportError(f"no image for chart(s) {', '.join(missing)}", where=f"report {report.title!r}")
    template = _environment().get_template("report.html.j2")
    return str(
        template.render(
            title=report.title,
            headline=report.headline,
            audience=report.audience,
            sections=[section_view(s, srcs) for s in report.sections],
            footer=formats.provenance_lines(report),
            preliminary=report.provenance.preliminary,
            width=WIDTH,
            height=HEIGHT,
        )
    )


def render_html(report: Report, images: Mapping[str, str]) -> str:
    """The mail's HTML part; `images` maps each chart's name to the Content-ID its PNG is attached under."""
    return _render(report, {name: "cid:" + quote(cid, safe="@.-_") for name, cid in images.items()})


def render_html_file(report: Report, images: Mapping[str, bytes]) -> str:
    """The archive's HTML: `images` maps each chart's name to its PNG, embedded as a data: URI."""
    return _render(
        report,
        {
            name: "data:image/png;base64," + base64.b64encode(png).decode("ascii")
            for name, png in images.items()
        },
    )
