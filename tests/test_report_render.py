"""The renderers (reports/render/) on one hand-built report: the workbook read back with openpyxl, the HTML
parsed with the standard library, the PNGs decoded with Pillow, the plain text. The report carries hostile
strings in text cells, titles, series names and labels: each must come out as text everywhere."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from html.parser import HTMLParser

import pytest

from awscost.core.errors import ReportError
from awscost.reports.model import Chart, Column, Figure, Provenance, Report, Section, Series, Table
from awscost.reports.render import render_all, render_html, render_png, render_text, render_xlsx
from awscost.reports.render.charts import HEIGHT, SCALE, WIDTH

openpyxl = pytest.importorskip("openpyxl")
Image = pytest.importorskip("PIL.Image")

HOSTILE = ['=HYPERLINK("http://evil","x")', "+1", "-1", "@SUM(A1)", "<script>alert(1)</script>", "$x$"]
SERVICES_SHEET = "Services- -top----"  # "Services: [top]/*?" without the characters Excel refuses
DAYS = tuple(f"2026-10-{d:02d}" for d in range(1, 15))


def _report() -> Report:
    cost = tuple(Decimal("100.125") + Decimal(i) * Decimal("3.5") for i in range(10)) + (None,) * 4
    forecast = (None,) * 9 + tuple(Decimal("131.625") + Decimal(i) * 2 for i in range(5))
    low = tuple(None if v is None else v - Decimal(10) for v in forecast)
    high = tuple(None if v is None else v + Decimal(12) for v in forecast)
    trend = Chart(
        name="trend",
        title="Daily cost $x$ <script>alert(1)</script>",
        kind="line",
        labels=DAYS,
        series=(Series("cost", cost), Series("forecast $x$", forecast)),
        unit="USD",
        band=("forecast $x$", low, high),
    )
    services = Chart(
        name="services",
        title="Top services",
        kind="bar",
        labels=("AmazonEC2", "AmazonS3", HOSTILE[0], "AWSLambda"),
        series=(
            Series("this week", (Decimal("1234.56"), Decimal("200"), Decimal("50.5"), Decimal("3"))),
            Series("last week", (Decimal("1000"), Decimal("250"), Decimal("45"), None)),
        ),
        unit="USD",
    )
    table = Table(
        name="top",
        title="Top accounts @SUM(A1)",
        columns=(
            Column("Account"),
            Column("Cost", "money", unit="USD"),
            Column("Change", "money", unit="USD", change="cost"),
            Column("Share", "ratio"),
            Column("Hours", "number"),
            Column("First day", "date"),
        ),
        rows=(
            *tuple(
                (
                    name,
                    Decimal("1234.5678") * (i + 1),
                    Decimal(-12) + i * 10,
                    Decimal("0.123") * (i + 1),
                    24 * i,
                    date(2026, 10, i + 1),
                )
                for i, name in enumerate(HOSTILE)
            ),
            ("no values", None, None, None, None, None),
        ),
        note="Accounts below 1.00 USD are left out <b>",
    )
    cost_section = Section(
        name="cost",
        title="Cost",
        figures=[
            Figure("Cost", "money", Decimal("1234.567"), Decimal("1100.00"), unit="USD"),
            Figure("Coverage", "ratio", Decimal("0.452"), Decimal("0.5"), sense="saving"),
            Figure("Instances", "number", Decimal(42), None),
        ],
        tables=[table],
        charts=[trend],
        notes=["Forecast from the last 14 days <i>"],
    )
    services_section = Section(
        name="services", title="Services: [top]/*?", charts=[services], tables=[], notes=[]
    )
    savings = Section(name="savings", title="Savings", unavailable="no Cost Explorer data in the store <x>")
    return Report(
        audience="managers",
        title="Weekly cost <script>alert(1)</script>",
        headline="Cost 1,234.57 USD, +12.2 % vs the previous period",
        sections=[cost_section, services_section, savings],
        provenance=Provenance(
            source="billing dataset demo-out/billing",
            metric="UnblendedCost",
            period="2026-10-26..2026-11-01 (compared with 2026-10-19..2026-10-25)",
            as_of=datetime(2026, 11, 1, 23, tzinfo=UTC),
            preliminary=True,
            price_source="snapshot 2026-09-01",
            generated_at=datetime(2026, 11, 2, 6, 30, tzinfo=UTC),
        ),
    )


@pytest.fixture(scope="module")
def rendered():  # type: ignore[no-untyped-def]
    return render_all(_report())


# --- XLSX -------------------------------------------------------------------------------------------------
def test_the_workbook_has_a_summary_and_one_valid_sheet_per_section(rendered) -> None:  # type: ignore[no-untyped-def]
    wb = openpyxl.load_workbook(io.BytesIO(rendered.xlsx))
    assert wb.sheetnames == ["Summary", "Cost", SERVICES_SHEET, "Savings"]
    summary = wb["Summary"]
    texts = [c.value for row in summary.iter_rows() for c in row if c.value is not None]
    assert "Weekly cost <script>alert(1)</script>" in texts
    for label in ("Source", "Metric", "Period", "As of", "Bill", "Prices", "Generated"):
        assert label in texts
    assert "billing dataset demo-out/billing" in texts and "2026-11-01 23:00 UTC" in texts
    assert wb["Savings"]["A2"].value == "no Cost Explorer data in the store <x>"


def _find(ws, text: str):  # type: ignore[no-untyped-def]
    for row in ws.iter_rows():
        for c in row:
            if c.value == text:
                return c
    raise AssertionError(f"{text!r} not in {ws.title}")


def test_table_cells_keep_their_kind_money_exact_ratios_0_1_text_never_a_formula(rendered) -> None:  # type: ignore[no-untyped-def]
    ws = openpyxl.load_workbook(io.BytesIO(rendered.xlsx))["Cost"]
    title = _find(ws, "Top accounts @SUM(A1)")
    assert title.data_type == "s"
    header = [c.value for c in ws[title.row + 1]][:6]
    assert header == ["Account", "Cost (USD)", "Change (USD)", "Share", "Hours", "First day"]
    assert all(c.font.b for c in ws[title.row + 1][:6])
    for i, name in enumerate(HOSTILE):
        row = ws[title.row + 2 + i]
        assert row[0].data_type == "s" and row[0].value == name
        assert row[1].value == float(Decimal("1234.5678") * (i + 1)) and row[1].number_format == "#,##0.00"
        assert row[2].value == float(Decimal(-12) + i * 10) and row[2].number_format.startswith("+")
        assert row[3].value == pytest.approx(float(Decimal("0.123") * (i + 1)))
        assert 0 <= row[3].value <= 1 and row[3].number_format == "0.0%"
        assert row[4].value == 24 * i
        assert row[5].value == datetime(2026, 10, i + 1) and row[5].number_format == "yyyy-mm-dd"
    empty = ws[title.row + 2 + len(HOSTILE)]
    assert empty[0].value == "no values" and all(c.value is None for c in empty[1:6])
    # every hostile string anywhere in the workbook (cells, chart titles, series, labels) is a string cell
    wb = openpyxl.load_workbook(io.BytesIO(rendered.xlsx))
    cells = [c for s in wb.worksheets for row in s.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    for text in (*HOSTILE, "Daily cost $x$ <script>alert(1)</script>", "forecast $x$"):
        hits = [c for c in cells if c.value == text]
        assert hits and all(c.data_type == "s" for c in hits), text


def test_figures_are_numbers_and_the_charts_are_native(rendered) -> None:  # type: ignore[no-untyped-def]
    wb = openpyxl.load_workbook(io.BytesIO(rendered.xlsx))
    ws = wb["Cost"]
    cost = _find(ws, "Cost")  # the sheet title is A1, the figure's label below it
    assert cost.coordinate == "A1"
    label = next(c for c in ws["A"] if c.value == "Cost" and c.row > 1)
    value, previous, change, ratio = (ws.cell(label.row, col).value for col in (2, 3, 4, 5))
    assert value == float(Decimal("1234.567")) and previous == 1100.0
    assert change == float(Decimal("134.567")) and ratio == pytest.approx(134.567 / 1100)
    assert len(ws._charts) == 1 and len(wb[SERVICES_SHEET]._charts) == 1
    assert len(wb["Savings"]._charts) == 0
    # the line chart with its band's edges as two more (dashed) lines, the bar chart
    xml = io.BytesIO(rendered.xlsx)
    import zipfile

    with zipfile.ZipFile(xml) as z:
        charts = sorted(n for n in z.namelist() if n.startswith("xl/charts/chart"))
        bodies = [z.read(n).decode() for n in charts]
    assert len(bodies) == 2
    line = next(b for b in bodies if "<c:lineChart>" in b)
    assert line.count("<c:ser>") == 4 and line.count('<a:prstDash val="dash"/>') == 2
    assert any("<c:barChart>" in b for b in bodies)
    # titles and series names are cell references, not literal strings XlsxWriter could take for formulas
    assert all("<c:tx><c:strRef>" in b for b in bodies)


def test_the_same_report_gives_the_same_workbook() -> None:
    assert render_xlsx(_report()) == render_xlsx(_report())


# --- HTML -------------------------------------------------------------------------------------------------
class _Parsed(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.imgs: list[dict[str, str | None]] = []
        self.text: list[str] = []
        self.styles: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "img":
            self.imgs.append(dict(attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Parsed:
    p = _Parsed()
    p.feed(html)
    p.close()
    return p


def test_the_mail_html_escapes_every_string_and_references_every_chart_by_cid(rendered) -> None:  # type: ignore[no-untyped-def]
    p = _parse(rendered.html)
    assert "script" not in p.tags and "style" not in p.tags and "link" not in p.tags
    text = "".join(p.text)
    for s in (*HOSTILE, "Weekly cost <script>alert(1)</script>", "Accounts below 1.00 USD are left out <b>"):
        assert s in text, s
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    cids = [img["src"] for img in p.imgs]
    assert cids == ["cid:trend", "cid:services"]
    assert {c.removeprefix("cid:") for c in cids} == set(rendered.images)
    assert all(img["alt"] for img in p.imgs)
    assert "http" not in "".join(str(i["src"]) for i in p.imgs)


def test_the_html_formats_money_ratios_changes_and_the_footer(rendered) -> None:  # type: ignore[no-untyped-def]
    text = " ".join(_parse(rendered.html).text)
    assert "1,234.57 USD" in text and "1,100.00 USD" in text
    assert "+134.57 USD (+12.2 %)" in text
    assert "45.2 %" in text and "-4.8 pt" in text  # a ratio figure's change is in points
    assert "1,234.57" in text and "12.3 %" in text and "-12.00" in text and "+8.00" in text
    assert "no Cost Explorer data in the store <x>" in text
    assert "Forecast from the last 14 days <i>" in text
    for field in (
        "billing dataset demo-out/billing",
        "UnblendedCost",
        "2026-10-26..2026-11-01 (compared with 2026-10-19..2026-10-25)",
        "2026-11-01 23:00 UTC",
        "preliminary",
        "snapshot 2026-09-01",
        "2026-11-02 06:30 UTC",
    ):
        assert field in text, field
    # up is red for a cost, down is red for a saving (coverage fell), numbers right-aligned
    assert 'color:#b03a2e;">+134.57 USD' in rendered.html
    assert 'color:#b03a2e;">-4.8 pt' in rendered.html
    assert 'text-align:right;white-space:nowrap;color:#1e7d45;">-12.00' in rendered.html


def test_the_archive_html_embeds_the_pngs(rendered) -> None:  # type: ignore[no-untyped-def]
    import base64

    assert "cid:" not in rendered.html_file
    imgs = _parse(rendered.html_file).imgs
    assert len(imgs) == 2
    for img, name in zip(imgs, ("trend", "services"), strict=True):
        src = str(img["src"])
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]) == rendered.images[name]


def test_a_chart_without_an_image_is_refused() -> None:
    with pytest.raises(ReportError, match="no image for chart"):
        render_html(_report(), {"trend": "trend"})


# --- PNG, text, the contract -----------------------------------------------------------------------------
def test_the_charts_are_pngs_of_the_mail_size_and_deterministic(rendered) -> None:  # type: ignore[no-untyped-def]
    assert set(rendered.images) == {"trend", "services"}
    for png in rendered.images.values():
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        with Image.open(io.BytesIO(png)) as im:
            assert im.size == (WIDTH * SCALE, HEIGHT * SCALE)
    chart = _report().sections[0].charts[0]
    assert render_png(chart) == render_png(chart) == rendered.images["trend"]


def test_a_dollar_in_a_chart_string_is_not_math_text_and_the_settings_do_not_leak() -> None:
    import matplotlib

    before = dict(matplotlib.rcParams)
    # "$\\frac{$" is an unbalanced formula: parsed as math text it raises; as text it draws
    chart = Chart(
        "c", "cost $\\frac{$ x", "line", ("a", "b"), (Series("$s$", (Decimal(1), Decimal(2))),), "$"
    )
    assert render_png(chart).startswith(b"\x89PNG")
    assert dict(matplotlib.rcParams) == before


def test_the_text_part_has_the_headline_the_figures_the_rows_and_the_footer(rendered) -> None:  # type: ignore[no-untyped-def]
    text = rendered.text
    assert text.startswith("Weekly cost <script>alert(1)</script>\n\nCost 1,234.57 USD, +12.2 %")
    assert "Cost: 1,234.57 USD (previous 1,100.00 USD, change +134.57 USD (+12.2 %))" in text
    assert '=HYPERLINK("http://evil","x")' in text and "no Cost Explorer data in the store <x>" in text
    assert "[chart: Top services]" in text
    assert "Source: billing dataset demo-out/billing" in text and "Generated: 2026-11-02 06:30 UTC" in text
    assert render_text(_report()) == text


def test_a_malformed_report_fails_before_anything_is_rendered() -> None:
    report = _report()
    t = report.sections[0].tables[0]
    report.sections[0].tables[0] = Table(
        t.name, t.title, t.columns, (*t.rows, ("x", "1.00", None, None, None, None))
    )
    with pytest.raises(ReportError, match=r"table 'top'.*column 'Cost' \(money\) holds str"):
        render_all(report)
    report = _report()
    c = report.sections[1].charts[0]
    report.sections[1].charts[0] = Chart(c.name, c.title, c.kind, c.labels[:2], c.series, c.unit)
    with pytest.raises(ReportError, match="chart 'services'"):
        render_all(report)


def test_a_day_with_no_neighbour_is_drawn_as_a_marker() -> None:
    from awscost.reports.render.charts import render_svg

    days = tuple(f"11-{d:02d}" for d in range(1, 31))
    gap = (None,) * 29

    def markers(series: tuple[Decimal | None, ...]) -> int:
        svg = render_svg(Chart("c", "daily", "line", days, (Series("this period", series),), "USD")).decode()
        # matplotlib draws each marker (and each axis tick) as a <use> of a defined path: the series' own are
        # filled with its colour
        return len(re.findall(r'<use [^>]*style="fill: #1f77b4', svg))

    # the first day of a month to date: one value, the rest not yet there
    assert markers((Decimal("569.50"), *gap)) == 1
    # a day between gaps, beside a run of days: the run is a line, the lone day a marker
    assert markers((Decimal(1), Decimal(2), None, Decimal(3), *(None,) * 26)) == 1
    # a whole month: a line, no marker
    assert markers(tuple(Decimal(d) for d in range(30))) == 0
