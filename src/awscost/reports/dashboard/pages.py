"""The dashboard's pages: which parts of the viewer's cost report each shows, and the live usage page.

A page is an entry of PAGES (path -> Page): its title and the report sections it shows. The figures are the
report's (the report job's model for the viewer), rendered by the mail's own cell formats
(reports/render/formats.py) and its charts drawn as SVG; the live page shows dashboard/live.py's LiveView (the
store's last hour and its cost rate). Nothing here computes a figure.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from awscost.core.registry import Registry
from awscost.reports.dashboard.live import BASIS, COUNTED_BY_EC2OS, METRIC, LiveView
from awscost.reports.model import Report, Section
from awscost.reports.render.charts import HEIGHT, WIDTH, render_svg
from awscost.reports.render.html import section_view


@dataclass(frozen=True)
class Page:
    name: str  # the URL path's name and the export's file name
    title: str
    sections: tuple[str, ...]  # report sections shown, in order ("" for the live page: none)
    live: bool = False


PAGES: Registry[Page] = Registry("dashboard page")
PAGES.add("overview", Page("overview", "Overview", ("cost", "movers")))
PAGES.add("usage", Page("usage", "Live usage", (), live=True))
PAGES.add("reservations", Page("reservations", "Reservations", ("usage", "savings")))
PAGES.add("tags", Page("tags", "Tags", ("tags",)))
PAGES.add("services", Page("services", "Services", ("services",)))


def chart_src(chart: Any) -> str:
    """A chart as an <img> source: its SVG inside a data: URI (the page's CSP allows images from data:,
    and an SVG in an <img> runs nothing)."""
    return "data:image/svg+xml;base64," + base64.b64encode(render_svg(chart)).decode("ascii")


def sections(report: Report, page: Page) -> list[dict[str, Any]]:
    """The page's sections of the report, each as the mail's renderer shapes it, charts as SVG."""
    by_name: dict[str, Section] = {s.name: s for s in report.sections}
    out = []
    for name in page.sections:
        section = by_name.get(name)
        if section is None:
            continue
        srcs = {c.name: chart_src(c) for c in section.charts}
        out.append(section_view(section, srcs))
    return out


def report_context(report: Report, page: Page) -> dict[str, Any]:
    from awscost.reports.render import formats

    return {
        "report_title": report.title,
        "headline": report.headline,
        "preliminary": report.provenance.preliminary,
        "sections": sections(report, page),
        "footer": formats.provenance_lines(report),
        "width": WIDTH,
        "height": HEIGHT,
    }


def _dollars(value: Decimal) -> str:
    return f"${value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,}"


def live_context(view: LiveView) -> dict[str, Any]:
    """The live page: the last hour's units and estimated cost rate per kind x account x region, and a chart
    of the hours before."""
    from awscost.reports.model import Chart, Series

    live = view.usage
    rows = []
    for key, units in sorted(live.now.items()):
        rate = view.rates.get(key)
        note = view.unpriced.get(key, "")
        if key in view.left_out_of_total:
            note = ", ".join(n for n in (COUNTED_BY_EC2OS + ": not in the total", note) if n)
        kind, account, region = key
        rows.append(
            {
                "kind": kind,
                "account": account,
                "region": region,
                "units": f"{units:,}",
                "rate": "no price" if rate is None else f"{_dollars(rate)}/h",
                "note": note,
            }
        )
    charts = []
    if live.hourly:
        hours = [h for h, _ in next(iter(live.hourly.values()))]
        chart = Chart(
            "live-hourly",
            f"Units running per hour, last {len(hours)} hours to {hours[-1]:%Y-%m-%d %H:00}Z",
            "line",
            tuple(f"{h:%d %H}h" for h in hours),
            tuple(Series(kind, tuple(v for _, v in values)) for kind, values in live.hourly.items()),
            "units",
        )
        charts.append({"src": chart_src(chart), "alt": f"{chart.title} (chart)"})
    sources = ", ".join(view.sources) or "no price of these types in the book"
    return {
        "last_hour": None if live.last_hour is None else f"{live.last_hour:%Y-%m-%d %H:00}Z",
        "last_hour_iso": None if live.last_hour is None else live.last_hour.isoformat(),  # as /events says it
        "rows": rows,
        "charts": charts,
        "rate_total": f"{_dollars(view.total)}/h",
        "rate_source": f"{BASIS}, price book {sources}",
        "rate_metric": METRIC,
        "width": WIDTH,
        "height": HEIGHT,
    }


__all__ = ["PAGES", "Page", "chart_src", "live_context", "report_context", "sections"]
