"""The renderers: one `Report` (reports/model.py) as HTML mail, plain text, PNG charts and an XLSX workbook.

`render_all` makes every artifact or raises before returning any: a report is never delivered half rendered.
The heavy packages (matplotlib, Jinja2, XlsxWriter: the `reports` extra) are imported inside the renderers.
"""

from __future__ import annotations

from dataclasses import dataclass

from awscost.reports.model import Report
from awscost.reports.render.charts import render_png
from awscost.reports.render.checks import check
from awscost.reports.render.html import render_html, render_html_file
from awscost.reports.render.text import render_text
from awscost.reports.render.xlsx import render_xlsx

__all__ = [
    "Rendered",
    "render_all",
    "render_html",
    "render_html_file",
    "render_png",
    "render_text",
    "render_xlsx",
]


@dataclass(frozen=True)
class Rendered:
    html: str  # the mail's HTML part: charts as cid:NAME, NAME = the chart's name
    html_file: str  # the archive's HTML: charts embedded as data: URIs, opens standalone
    text: str  # the mail's text/plain part
    images: dict[str, bytes]  # chart name -> PNG (attached under Content-ID <NAME>)
    xlsx: bytes


def render_all(report: Report) -> Rendered:
    check(report)
    images = {c.name: render_png(c) for s in report.sections for c in s.charts}
    return Rendered(
        html=render_html(report, {name: name for name in images}),
        html_file=render_html_file(report, images),
        text=render_text(report),
        images=images,
        xlsx=render_xlsx(report),
    )
