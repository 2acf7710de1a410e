"""A report's chart as a PNG for the mail, or SVG for the dashboard (matplotlib, Agg): a line chart (a daily
trend, its optional band shaded: the forecast interval) or grouped bars; 640 x 280 CSS pixels drawn at twice
that for sharp screens.

No pyplot: a `Figure` on its own Agg canvas holds no global state (no figure registry to leak, no backend
switch), and the settings live in an `rc_context` for the one drawing. Titles, labels and legend entries are
data: math text parsing is off, so a `$` in a tag value is a dollar sign, not the start of a formula.
The bytes are deterministic: the PNG carries no software or time metadata.
"""

from __future__ import annotations

import io
import math
from decimal import Decimal
from typing import Any

from awscost.reports.model import Chart

WIDTH, HEIGHT = 640, 280  # as shown in the mail (the <img> size)
SCALE = 2  # pixels drawn per shown pixel
AXIS_CHARS = 70  # characters of x labels that fit side by side under a line chart
MAX_LABEL = 18  # characters of a bar's label before it is cut with an ellipsis
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")

RC: Any = {  # Any: matplotlib types the keys as a Literal of every rc name
    "text.usetex": False,
    "text.parse_math": False,
    "font.family": "DejaVu Sans",
    "font.size": 8.5,
    "axes.titlesize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 8,
}


def _floats(values: tuple[Decimal | None, ...]) -> list[float]:
    return [math.nan if v is None else float(v) for v in values]


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def _thousands(value: float, _pos: Any = None) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 or value == int(value) else f"{value:,.2f}"


def render_png(chart: Chart) -> bytes:
    return _render(chart, "png")


def render_svg(chart: Chart) -> bytes:
    """The same chart as SVG for a web page: text stays text (small, selectable), ids are salted by a fixed
    string so the same chart gives the same bytes."""
    return _render(chart, "svg")


def _render(chart: Chart, fmt: str) -> bytes:
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    rc = {**RC, "svg.fonttype": "none", "svg.hashsalt": "awscost"} if fmt == "svg" else RC
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(WIDTH / 100, HEIGHT / 100), dpi=100 * SCALE)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        x = list(range(len(chart.labels)))
        if not x or not chart.series:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes, color="#777777")
            ax.set_xticks([])
        elif chart.kind == "line":
            _line(ax, chart, x)
        else:
            _bars(ax, chart, x)
        legend = len(chart.series) > 1 or chart.band
        # the legend in one row between the title and the plot: the full width stays for the data
        ax.set_title(chart.title, loc="left", pad=16 if legend else 6)
        ax.set_ylabel(chart.unit)
        ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
        if legend:
            entries = len(chart.series) + (1 if chart.band else 0)
            ax.legend(
                loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=entries, borderaxespad=0.1, handlelength=1.5
            )
        fig.tight_layout(pad=0.6)
        out = io.BytesIO()
        # no matplotlib version or date in the file: the same chart gives the same bytes
        metadata: dict[str, Any] = {"Software": None} if fmt == "png" else {"Creator": None, "Date": None}
        fig.savefig(out, format=fmt, metadata=metadata)
    return out.getvalue()


def _line(ax: Any, chart: Chart, x: list[int]) -> None:
    for i, s in enumerate(chart.series):
        colour = COLOURS[i % len(COLOURS)]
        ys = _floats(s.values)
        # a point with no neighbour (one day of a month so far, a day between gaps) draws no line: a marker
        # keeps it visible
        alone = [i for i, y in enumerate(ys) if not math.isnan(y) and _gap(ys, i - 1) and _gap(ys, i + 1)]
        ax.plot(
            x,
            ys,
            color=colour,
            linewidth=1.6,
            label=s.name,
            marker="o" if alone else None,
            markevery=alone or None,
        )
        if chart.band and chart.band[0] == s.name:
            low, high = _floats(chart.band[1]), _floats(chart.band[2])
            where = [not (math.isnan(a) or math.isnan(b)) for a, b in zip(low, high, strict=True)]
            ax.fill_between(
                x, low, high, where=where, color=colour, alpha=0.18, linewidth=0, label=f"{s.name} interval"
            )
    longest = max(len(label) for label in chart.labels) + 3
    step = max(1, math.ceil(len(x) / max(2, AXIS_CHARS // longest)))
    ticks = x[::step]
    ax.set_xticks(ticks, [chart.labels[t] for t in ticks])
    ax.set_xlim(-0.3, len(x) - 0.7)


def _gap(ys: list[float], i: int) -> bool:
    """No value at i: before the first, after the last, or a NaN."""
    return not 0 <= i < len(ys) or math.isnan(ys[i])


def _bars(ax: Any, chart: Chart, x: list[int]) -> None:
    n = len(chart.series)
    width = 0.8 / n
    for i, s in enumerate(chart.series):
        ys = [0.0 if math.isnan(v) else v for v in _floats(s.values)]
        offset = (i - (n - 1) / 2) * width
        ax.bar([p + offset for p in x], ys, width=width, color=COLOURS[i % len(COLOURS)], label=s.name)
    labels = [_short(label) for label in chart.labels]
    rotate = len(x) > 6 or max(len(label) for label in labels) > 10
    ax.set_xticks(x, labels, rotation=30 if rotate else 0, ha="right" if rotate else "center")
    ax.axhline(0, color="#999999", linewidth=0.8)
