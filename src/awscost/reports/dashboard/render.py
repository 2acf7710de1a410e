"""The dashboard's pages as HTML: the templates (autoescaped: every value from the data is text), one page
for a viewer (`render_page`, what the web app serves) and one audience's static set (`static_set`, what
`awscost dashboard export` writes and the report job publishes).

A static set is `<page>.html` per page of PAGES and `dashboard.css`; its pages link to each other by
`links` (relative file names by default; the report job gives presigned URLs, since a private bucket serves
no relative link of a presigned page) and carry no script (nothing to poll without a server).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from awscost.reports.dashboard.live import LiveView
from awscost.reports.dashboard.pages import PAGES, Page, live_context, report_context
from awscost.usage.live import LiveUsage

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"  # the stylesheet and the live page's script, served by the web app under /static
STYLESHEET = "dashboard.css"


@dataclass(frozen=True)
class Frame:
    """What a page shows around its content: the navigation's links, the stylesheet, whose and which period,
    and (served pages only) the filters form."""

    links: dict[str, str]  # page name -> href
    stylesheet: str
    viewer_audience: str
    period: str
    static: bool = False
    filters: dict[str, str] = field(default_factory=dict)
    audiences: tuple[str, ...] = ()  # a local viewer's choice of audience; () for a token's or a static set
    periods: tuple[str, ...] = ()


def environment() -> Any:
    """The templates, compiled (keep one per process: a new Environment compiles every template again)."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_page(env: Any, page: Page, frame: Frame, report: Any, live: LiveView | None = None) -> str:
    """One page's HTML: a report page from `report` (reports.model.Report), the live page from `live` (None:
    the store holds no collected hour)."""
    common = {
        "page": page,
        "pages": [PAGES.get(n) for n in PAGES.names()],
        "links": frame.links,
        "stylesheet": frame.stylesheet,
        "filters": frame.filters,
        "audiences": list(frame.audiences),
        "periods": frame.periods,
        "static": frame.static,
        "viewer_audience": frame.viewer_audience,
        "period": frame.period,
    }
    if page.live:
        context = live_context(live if live is not None else LiveView(LiveUsage(None)))
        return str(env.get_template("live.html.j2").render(**common, **context, report_title=report.title))
    return str(env.get_template("page.html.j2").render(**common, **report_context(report, page)))


def file_name(page: str) -> str:
    return f"{page}.html"


def set_files() -> list[str]:
    """The file names of a static set, in the order they are written."""
    return [*(file_name(n) for n in PAGES.names()), STYLESHEET]


def static_set(
    env: Any,
    report: Any,
    live: LiveView | None,
    *,
    audience: str,
    period: str,
    links: dict[str, str] | None = None,
) -> dict[str, bytes]:
    """file name -> content of one audience's set. `links` (file name -> href) replaces the relative names
    (the report job's presigned URLs); the report must be that audience's alone."""
    hrefs = {name: name for name in set_files()} | (links or {})
    frame = Frame(
        links={n: hrefs[file_name(n)] for n in PAGES.names()},
        stylesheet=hrefs[STYLESHEET],
        viewer_audience=audience,
        period=period,
        static=True,
    )
    files = {
        file_name(name): render_page(env, PAGES.get(name), frame, report, live).encode("utf-8")
        for name in PAGES.names()
    }
    files[STYLESHEET] = (STATIC / STYLESHEET).read_bytes()
    return files


__all__ = [
    "STATIC",
    "STYLESHEET",
    "Frame",
    "environment",
    "file_name",
    "render_page",
    "set_files",
    "static_set",
]
