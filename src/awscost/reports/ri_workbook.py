"""The AwsRIUsageReport workbook (XlsxWriter): reserved capacity, planned break-even-optimal.

Sheets: Summary (savings on the table, top recommendations, coverage and utilization, price source and date);
one sheet per resource kind x region (statistics, recommendations, hourly usage against owned reservations
with a native line chart per group); Back-test; and the Cost Explorer sheets (coverage, utilization,
recommendations, our plan beside AWS's). Every sheet is written even when a part has no data (it says so),
and one failing section never skips the others (the original's defect): its sheet records the error.

Strings that come from AWS or users are written with write_string and the workbook is opened with
strings_to_formulas off, so a tag value like `=HYPERLINK(...)` stays text. Chart titles and series names are
references to cells written that way: XlsxWriter takes a name string like `x =cmd|' /C calc'!A0` for a
formula (`<c:f>`), whatever strings_to_formulas says.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from awscost.core.errors import ReportError
from awscost.core.registry import Registry
from awscost.core.timeutil import HOUR
from awscost.planning.plan import PlanResult, PlanRow

MAX_SHEET = 31
CHART_GROUPS = 6  # charts per kind x region sheet (largest groups first)


@dataclass
class RIReportData:
    """Everything the workbook shows; `gather` fills it from a store."""

    plan: PlanResult
    backtest: list[dict[str, Any]] = field(default_factory=list)
    ce_coverage: list[dict[str, Any]] = field(default_factory=list)
    ce_utilization: list[dict[str, Any]] = field(default_factory=list)
    ce_recommendations: list[dict[str, Any]] = field(default_factory=list)
    comparison: list[dict[str, Any]] = field(default_factory=list)
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    lookback_days: int = 30


Column = tuple[str, str, str]  # (row key, header, kind: text|int|num|ratio|pct|money|when)


PLAN_COLUMNS: list[Column] = [
    ("key", "Group", "text"),
    ("unit", "Unit", "text"),
    ("hours", "Hours observed", "int"),
    ("missing", "Hours missing", "int"),
    ("min", "Min", "num"),
    ("p5", "P5", "num"),
    ("mean", "Mean", "num"),
    ("p50", "P50", "num"),
    ("p90", "P90", "num"),
    ("p95", "P95", "num"),
    ("max", "Max", "num"),
    ("owned", "Owned", "num"),
    ("expiring_30d", "Expiring 30d", "num"),
    ("expiring_90d", "Expiring 90d", "num"),
    ("coverage", "Coverage", "pct"),
    ("on_demand_hourly", "On-demand $/unit-h", "rate"),
    ("reserved_effective_hourly", "Reserved $/unit-h", "rate"),
    ("breakeven", "Break-even", "pct"),
    ("recommended", "Recommended", "num"),
    ("recommended_units", "Purchase", "text"),
    ("p95_rule", "P95 rule", "num"),
    ("p95_rule_units", "P95 rule purchase", "text"),
    ("upfront", "Upfront", "money"),
    ("monthly_cost", "Monthly cost", "money"),
    ("monthly_savings", "Monthly savings", "money"),
    ("p95_monthly_savings", "P95 rule monthly savings", "money"),
    ("break_even_months", "Break-even months", "num"),
    ("utilization", "Expected utilization", "pct"),
    ("price_source", "Price source", "text"),
    ("note", "Note", "text"),
]
TOP_COLUMNS: list[Column] = [
    ("kind", "Kind", "text"),
    ("region", "Region", "text"),
    ("key", "Group", "text"),
    ("recommended", "Recommended", "num"),
    ("unit", "Unit", "text"),
    ("recommended_units", "Purchase", "text"),
    ("term", "Term", "text"),
    ("payment", "Upfront", "text"),
    ("upfront", "Upfront $", "money"),
    ("monthly_savings", "Monthly savings", "money"),
    ("p95_rule", "P95 rule", "num"),
    ("p95_rule_units", "P95 rule purchase", "text"),
    ("p95_monthly_savings", "P95 rule monthly savings", "money"),
    ("break_even_months", "Break-even months", "num"),
    ("utilization", "Expected utilization", "pct"),
]
COVERAGE_COLUMNS: list[Column] = [
    ("kind", "Kind", "text"),
    ("region", "Region", "text"),
    ("key", "Group", "text"),
    ("owned", "Owned", "num"),
    ("coverage", "Coverage by owned", "pct"),
    ("expiring_30d", "Expiring 30d", "num"),
    ("expiring_90d", "Expiring 90d", "num"),
]
BACKTEST_COLUMNS: list[Column] = [
    ("kind", "Kind", "text"),
    ("region", "Region", "text"),
    ("key", "Group", "text"),
    ("train_hours", "Planned on (h)", "int"),
    ("test_hours", "Replayed (h)", "int"),
    ("recommended", "Optimal bought", "num"),
    ("p95_rule", "P95 rule bought", "num"),
    ("cost_on_demand", "All on-demand cost", "money"),
    ("cost_optimal", "Optimal plan cost", "money"),
    ("cost_p95", "P95 plan cost", "money"),
    ("savings_optimal", "Optimal savings", "money"),
    ("savings_p95", "P95 savings", "money"),
    ("in_sample_savings_optimal", "In-sample optimal savings", "money"),
    ("in_sample_savings_p95", "In-sample P95 savings", "money"),
    ("price_source", "Price source", "text"),
]
# Reservations are measured in hours, Savings Plans (service "savings-plans") in dollars: both on one sheet.
CE_COV_COLUMNS: list[Column] = [
    ("day", "Day", "text"),
    ("service", "Service", "text"),
    ("region", "Region", "text"),
    ("coverage_pct", "Coverage %", "num"),
    ("reserved_hours", "Reserved hours", "num"),
    ("on_demand_hours", "On-demand hours", "num"),
    ("total_hours", "Running hours", "num"),
    ("covered_spend", "Savings Plans covered $", "money"),
    ("on_demand_cost", "On-demand $", "money"),
    ("total_cost", "Eligible $", "money"),
]
CE_UTIL_COLUMNS: list[Column] = [
    ("day", "Day", "text"),
    ("service", "Service", "text"),
    ("utilization_pct", "Utilization %", "num"),
    ("purchased_hours", "Purchased hours", "num"),
    ("used_hours", "Used hours", "num"),
    ("unused_hours", "Unused hours", "num"),
    ("total_commitment", "Commitment $", "money"),
    ("used_commitment", "Used commitment $", "money"),
    ("unused_commitment", "Unused commitment $", "money"),
]
OWNED_SP_COLUMNS: list[Column] = [
    ("key", "Savings Plans (type/term/payment)", "text"),
    ("plans", "Plans", "int"),
    ("commitment_hourly", "Commitment $/h", "rate"),
    ("counted_hourly", "Counted on $/h", "rate"),
    ("expiring_30d_hourly", "Expiring 30d $/h", "rate"),
    ("expiring_90d_hourly", "Expiring 90d $/h", "rate"),
    ("first_end", "First end", "text"),
    ("modeled_utilization_today", "Used today (modeled)", "pct"),
    ("modeled_utilization_after_plan", "Used after the plan (modeled)", "pct"),
]
CE_REC_COLUMNS: list[Column] = [
    ("lookback_days", "Lookback days", "int"),
    ("service", "Service", "text"),
    ("region", "Region", "text"),
    ("key", "Key", "text"),
    ("count", "Recommended", "num"),
    ("min_per_hour", "Min/h", "num"),
    ("avg_per_hour", "Avg/h", "num"),
    ("max_per_hour", "Max/h", "num"),
    ("upfront", "Upfront", "money"),
    ("monthly_savings", "Monthly savings", "money"),
    ("break_even_months", "Break-even months", "num"),
    ("utilization_pct", "Utilization %", "num"),
]
COMPARE_COLUMNS: list[Column] = [
    ("kind", "Kind", "text"),
    ("region", "Region", "text"),
    ("key", "Group", "text"),
    ("ours", "Ours", "num"),
    ("aws", "AWS (same units)", "num"),
    ("aws_purchase", "AWS purchase", "text"),
    ("aws_lookback_days", "AWS lookback days", "int"),
    ("difference", "Difference", "num"),
    ("why", "Why they differ", "text"),
]


def sheet_name(text: str, taken: set[str]) -> str:
    """A valid, unique Excel sheet name (<= 31 chars, none of []:*?/\\)."""
    base = re.sub(r"[\[\]:*?/\\]", "-", text).strip("'")[:MAX_SHEET] or "Sheet"
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name = base[: MAX_SHEET - len(suffix)] + suffix
        n += 1
    taken.add(name.lower())
    return name


class _Writer:
    def __init__(self, path: Path) -> None:
        import xlsxwriter

        self.wb = xlsxwriter.Workbook(
            str(path), {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
        )
        self.taken: set[str] = set()
        self.widths: dict[tuple[str, int], float] = {}
        self.failed: list[str] = []  # sheets that could not be built, "title: error"
        wb = self.wb
        self.fmt = {
            "header": wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True}),
            "title": wb.add_format({"bold": True, "font_size": 14}),
            "bold": wb.add_format({"bold": True}),
            "money": wb.add_format({"num_format": "$#,##0.00"}),
            # up to 8 places: DynamoDB capacity is priced per unit-hour, below $0.000001 in places
            "rate": wb.add_format({"num_format": "$0.000000##"}),
            "pct": wb.add_format({"num_format": "0.0%"}),
            "num": wb.add_format({"num_format": "#,##0.##"}),
            "int": wb.add_format({"num_format": "0"}),
            "when": wb.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
            "text": wb.add_format({}),
        }

    def sheet(self, title: str) -> Any:
        return self.wb.add_worksheet(sheet_name(title, self.taken))

    def width(self, ws: Any, col: int, width: float) -> None:
        """Widen a column, never narrow it: several tables share the columns of one sheet."""
        key = (ws.name, col)
        if width > self.widths.get(key, 0):
            self.widths[key] = width
            ws.set_column(col, col, width)

    def cell(self, ws: Any, row: int, col: int, value: Any, kind: str = "text") -> None:
        if kind not in ("text", "when") and isinstance(value, str):
            # numbers stored as strings (Cost Explorer amounts kept exact in item attributes)
            with contextlib.suppress(ArithmeticError):
                value = Decimal(value)
        if value is None or (isinstance(value, float) and value != value):
            ws.write_blank(row, col, None)
        elif kind == "text" or isinstance(value, str):
            ws.write_string(row, col, str(value))
        elif isinstance(value, datetime):
            ws.write_datetime(row, col, value.replace(tzinfo=None), self.fmt["when"])
        elif isinstance(value, bool):
            ws.write_boolean(row, col, value)
        else:
            ws.write_number(row, col, float(value), self.fmt.get(kind, self.fmt["num"]))

    def table(
        self,
        ws: Any,
        row: int,
        columns: Sequence[Column],
        rows: Iterable[Mapping[str, Any] | PlanRow],
        *,
        freeze: bool = False,
    ) -> int:
        """Header + rows from `row`; returns the next free row."""
        for c, (_, header, _kind) in enumerate(columns):
            ws.write_string(row, c, header, self.fmt["header"])
            self.width(ws, c, max(10, min(40, len(header) + 2)))
        if freeze:
            ws.freeze_panes(row + 1, 0)
        r = row + 1
        for data in rows:
            for c, (key, _, kind) in enumerate(columns):
                self.cell(ws, r, c, _value(data, key), kind)
            r += 1
        return r

    def note(self, ws: Any, row: int, text: str) -> int:
        ws.write_string(row, 0, text)
        return row + 1

    def close(self) -> None:
        self.wb.close()


def _section(w: _Writer, title: str, body: Callable[[Any], object]) -> None:
    """One sheet; an exception is written into the sheet instead of skipping every later sheet."""
    ws = w.sheet(title)
    try:
        body(ws)
    except Exception as exc:  # a report section must never take the other sheets down with it
        ws.write_string(0, 0, f"this sheet could not be built: {type(exc).__name__}: {exc}")
        w.failed.append(f"{title}: {type(exc).__name__}: {exc}")


def _summary_sheets(w: _Writer, data: RIReportData) -> None:
    _section(w, "Summary", lambda ws: _summary(w, ws, data, data.plan.all_rows))


def _kind_sheets(w: _Writer, data: RIReportData) -> None:
    """One sheet per kind x region of the plan (statistics, recommendations, hourly usage vs owned, charts)."""
    by_sheet: dict[tuple[str, str], list[int]] = {}
    for i, r in enumerate(data.plan.rows):
        by_sheet.setdefault((r.kind, r.region), []).append(i)
    if not by_sheet:
        _section(w, "Usage", lambda ws: w.note(ws, 0, "no usage history in the window: nothing to plan"))
    for (kind, region), idx in sorted(by_sheet.items()):
        _section(w, f"{kind} {region}", _kind_body(w, data, idx, kind, region))


def _backtest_sheets(w: _Writer, data: RIReportData) -> None:
    _section(w, "Back-test", lambda ws: _backtest(w, ws, data))


def _ce_sheets(w: _Writer, data: RIReportData) -> None:
    _section(w, "CE coverage", lambda ws: _ce_sheet(w, ws, CE_COV_COLUMNS, data.ce_coverage, "coverage"))
    _section(
        w, "CE utilization", lambda ws: _ce_sheet(w, ws, CE_UTIL_COLUMNS, data.ce_utilization, "utilization")
    )
    _section(
        w,
        "CE recommendations",
        lambda ws: _ce_sheet(w, ws, CE_REC_COLUMNS, data.ce_recommendations, "recommendations"),
    )
    _section(
        w, "Plan vs CE", lambda ws: _ce_sheet(w, ws, COMPARE_COLUMNS, data.comparison, "recommendations")
    )


# The workbook's sections, in sheet order: each writes its sheet(s); one that fails is recorded in its sheet.
Section = Callable[[_Writer, RIReportData], None]
SECTIONS: Registry[Section] = Registry("workbook section")
SECTIONS.add("summary", _summary_sheets)
SECTIONS.add("kinds", _kind_sheets)
SECTIONS.add("backtest", _backtest_sheets)
SECTIONS.add("cost-explorer", _ce_sheets)


def build_workbook(path: str | Path, data: RIReportData) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    w = _Writer(out)
    try:
        for section in SECTIONS.values():
            section(w, data)
    finally:
        w.close()
    if w.failed:
        # The other sheets are written and worth reading, but the command must not report success.
        raise ReportError(
            f"{len(w.failed)} sheet(s) could not be built: " + "; ".join(w.failed),
            where=str(out),
            hint="the workbook holds every other sheet",
        )
    return out


def _kind_body(
    w: _Writer, data: RIReportData, idx: list[int], kind: str, region: str
) -> Callable[[Any], None]:
    return lambda ws: _kind_sheet(w, ws, data, idx, kind, region)


def _value(row: Mapping[str, Any] | PlanRow, key: str) -> Any:
    """A cell's value: plan rows are typed, the Cost Explorer rows are the stored answers' mappings."""
    return row.get(key) if isinstance(row, Mapping) else getattr(row, key)


def _sum(rows: Iterable[Mapping[str, Any] | PlanRow], key: str) -> Decimal:
    return sum((Decimal(_value(r, key) or 0) for r in rows), Decimal(0))


def _derived_prices(rows: list[PlanRow]) -> str:
    """ "N of M": plan rows whose on-demand or reserved rate no source publishes (the snapshot derived it by a
    fitted rule, docs/prices.md); their figures are estimates."""
    from awscost.planning.pricing import derived_count

    priced = [r.price_source for r in rows if r.price_source]
    return f"{derived_count(priced)} of {len(priced)}"


def _summary(w: _Writer, ws: Any, data: RIReportData, rows: list[PlanRow]) -> None:
    plan = data.plan
    ws.write_string(0, 0, "AwsRIUsageReport: reserved capacity, break-even optimal", w.fmt["title"])
    ws.freeze_panes(1, 0)
    facts: list[tuple[str, Any, str]] = [
        ("Generated (UTC)", data.generated_at, "when"),
        ("History window start (UTC)", plan.inputs.start, "when"),
        ("History window end (UTC)", plan.inputs.end, "when"),
        ("Term / payment", f"{plan.term} / {plan.payment} upfront", "text"),
        ("Monthly savings on the table (optimal)", _sum(rows, "monthly_savings"), "money"),
        ("Monthly savings of the P95 rule", _sum(rows, "p95_monthly_savings"), "money"),
        ("Upfront for the optimal plan", _sum(rows, "upfront"), "money"),
        (
            "Price source(s)",
            ", ".join(plan.price_sources()) or "none",
            "text",
        ),
        ("Rows priced with a derived rate", _derived_prices(rows), "text"),
    ]
    r = 2
    for label, value, kind in facts:
        ws.write_string(r, 0, label, w.fmt["bold"])
        w.cell(ws, r, 1, value, kind)
        r += 1
    for note in plan.notes:
        r = w.note(ws, r, f"Note: {note}")
    r = w.note(
        ws,
        r,
        "Rule: buy the n-th unit while share(hours with usage >= owned + n) >= break-even "
        "(reserved effective hourly / on-demand hourly); reservations ending within 30 days count as gone.",
    )
    w.width(ws, 0, 38)
    w.width(ws, 1, 24)  # the UTC times of the facts above
    r += 1
    ws.write_string(r, 0, "Top recommendations", w.fmt["bold"])
    top = sorted(
        (x for x in rows if (x.monthly_savings or 0) > 0),
        key=lambda x: -(x.monthly_savings or 0),
    )[:15]
    r = w.table(ws, r + 1, TOP_COLUMNS, top)
    if not top:
        r = w.note(ws, r, "nothing to buy: no group has enough history and a price with positive savings")
    r += 1
    ws.write_string(r, 0, "Coverage by owned reservations (our history)", w.fmt["bold"])
    r = w.table(ws, r + 1, COVERAGE_COLUMNS, [x for x in data.plan.rows if x.owned or x.coverage])
    r += 1
    ws.write_string(
        r, 0, "Savings Plans owned (the plan's model of our history, RIs applied first)", w.fmt["bold"]
    )
    r = w.table(ws, r + 1, OWNED_SP_COLUMNS, plan.savings_plans_owned)
    if not plan.savings_plans_owned:
        r = w.note(ws, r, "no Savings Plans owned in the store (the daily collection's kind sp records them)")
    r += 1
    ws.write_string(r, 0, "Cost Explorer utilization (latest day per service)", w.fmt["bold"])
    latest: dict[str, dict[str, Any]] = {}
    for u in data.ce_utilization:
        if str(u["service"]) not in latest or str(u["day"]) > str(latest[str(u["service"])]["day"]):
            latest[str(u["service"])] = u
    r = w.table(ws, r + 1, CE_UTIL_COLUMNS, [latest[k] for k in sorted(latest)])
    if not latest:
        w.note(ws, r, "no Cost Explorer data in the store (the daily ce_fetch job stores it)")


def _kind_sheet(w: _Writer, ws: Any, data: RIReportData, idx: list[int], kind: str, region: str) -> None:
    plan = data.plan
    rows = [plan.rows[i] for i in idx]
    end = w.table(ws, 0, PLAN_COLUMNS, rows, freeze=True)
    values = plan.inputs.values
    owned = plan.inputs.owned
    n_hours = values.shape[1] if len(values) else 0
    # hourly block: hour, then usage/owned per group; largest groups first for the charts
    order = sorted(range(len(idx)), key=lambda j: -(rows[j].mean or 0))
    top = 3 + end
    ws.write_string(top - 2, 0, f"Hourly usage vs owned ({rows[0].unit if rows else ''}), UTC", w.fmt["bold"])
    ws.write_string(top, 0, "Hour (UTC)", w.fmt["header"])
    w.width(ws, 0, 18)
    start = plan.inputs.start
    for h in range(n_hours):
        ws.write_datetime(top + 1 + h, 0, (start + h * HOUR).replace(tzinfo=None), w.fmt["when"])
    for n, j in enumerate(order):
        i = idx[j]
        col = 1 + 2 * n
        key = rows[j].key
        # the group's name over its two columns: the chart's title refers to this cell
        ws.write_string(top - 1, col, f"{kind} {region} {key}", w.fmt["bold"])
        ws.write_string(top, col, f"{key} usage", w.fmt["header"])
        ws.write_string(top, col + 1, f"{key} owned", w.fmt["header"])
        for h in range(n_hours):
            v = float(values[i, h])
            if v == v:
                ws.write_number(top + 1 + h, col, v)
            ws.write_number(top + 1 + h, col + 1, float(owned[i]))
        if n < CHART_GROUPS and n_hours:
            chart = w.wb.add_chart({"type": "line"})
            name = ws.get_name()
            for c in (col, col + 1):
                chart.add_series(
                    {
                        "name": [name, top, c],  # the column's header cell, never a string to parse
                        "categories": [name, top + 1, 0, top + n_hours, 0],
                        "values": [name, top + 1, c, top + n_hours, c],
                        "line": {"width": 1.25},
                    }
                )
            chart.set_title({"name": [name, top - 1, col]})
            chart.set_x_axis({"name": "hour (UTC)", "date_axis": True, "num_format": "mm-dd"})
            chart.set_y_axis({"name": rows[j].unit})
            chart.set_size({"width": 720, "height": 300})
            # beside the hourly block, one under the other
            ws.insert_chart(top, 2 + 2 * len(order), chart, {"y_offset": 310 * n})


def _backtest(w: _Writer, ws: Any, data: RIReportData) -> None:
    ws.write_string(
        0,
        0,
        "Plan on the first part of the history, replay the rest (realized, $ over the replayed hours)",
        w.fmt["bold"],
    )
    r = w.table(ws, 1, BACKTEST_COLUMNS, data.backtest, freeze=True)
    if not data.backtest:
        w.note(ws, r, "no priced group with history to replay")
        return
    if data.plan.savings_plans_owned:
        r = w.note(
            ws,
            r,
            "Note: the back-test replays each group's reservations on their own; the Savings Plans owned are "
            "not replayed here (the plan's EC2 rows count them)",
        )
    r += 1
    total = {
        k: _sum(data.backtest, k)
        for k in ("cost_on_demand", "cost_optimal", "cost_p95", "savings_optimal", "savings_p95")
    }
    for label, key in (
        ("All on-demand", "cost_on_demand"),
        ("Optimal plan", "cost_optimal"),
        ("P95 plan", "cost_p95"),
        ("Savings of optimal", "savings_optimal"),
        ("Savings of P95", "savings_p95"),
    ):
        ws.write_string(r, 0, label, w.fmt["bold"])
        w.cell(ws, r, 1, total[key], "money")
        r += 1


def _ce_sheet(w: _Writer, ws: Any, columns: Sequence[Column], rows: list[dict[str, Any]], what: str) -> None:
    r = w.table(ws, 0, columns, rows, freeze=True)
    if not rows:
        w.note(
            ws, r, f"no Cost Explorer {what} in the store for this window (the daily ce_fetch job stores it)"
        )


# --- gathering from a store ------------------------------------------------------------------------------
def gather(store: Any, plan: PlanResult, *, account: str, lookback_days: int) -> RIReportData:
    """Everything beside the plan that the workbook shows, from the store: Cost Explorer's stored coverage and
    utilization over the history window, its latest recommendations (the one window `ri compare` uses too)
    and our plan set beside them, and the back-test."""
    from awscost.planning.explorer import compare_with_plan, stored_recommendations
    from awscost.planning.plan import backtest_rows

    end = plan.inputs.end
    since = end - timedelta(days=max(lookback_days, 14))
    cov: list[dict[str, Any]] = []
    util: list[dict[str, Any]] = []
    for item in store.query(kind="ce-cov", account=account, since=since, until=end + timedelta(days=1)):
        cov.extend(item.attrs.get("coverage", {}).values())
    for item in store.query(kind="ce-util", account=account, since=since, until=end + timedelta(days=1)):
        util.extend(item.attrs.get("utilization", {}).values())
    latest = stored_recommendations(store, account=account, end=end)
    recs: list[dict[str, Any]] = []
    for items in latest.values():
        for i in items:
            recs.extend(i.attrs.get("recommendations", []))
            recs.extend(
                {
                    "lookback_days": d.get("lookback_days"),
                    "service": "savingsplans",
                    "region": "global",
                    "key": "Compute Savings Plan ($/h)",
                    "count": d.get("hourly_commitment"),
                    "upfront": d.get("upfront"),
                    "monthly_savings": d.get("monthly_savings"),
                    "utilization_pct": d.get("utilization_pct"),
                }
                for d in i.attrs.get("savings_plans", [])
            )
    # Our plan beside AWS's 7-day recommendation: with only a 60-day one stored, our groups are still listed.
    comparison = (
        compare_with_plan(plan.all_rows, latest.get(7, []), plan_lookback_days=lookback_days)
        if latest
        else []
    )
    return RIReportData(
        plan=plan,
        backtest=backtest_rows(plan),
        ce_coverage=sorted(
            cov, key=lambda r: (str(r.get("day")), str(r.get("service")), str(r.get("region")))
        ),
        ce_utilization=sorted(util, key=lambda r: (str(r.get("day")), str(r.get("service")))),
        ce_recommendations=recs,
        comparison=comparison,
        lookback_days=lookback_days,
    )
