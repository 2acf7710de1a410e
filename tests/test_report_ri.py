"""The AwsRIUsageReport workbook: written by `awscost report ri`, read back with openpyxl."""

from __future__ import annotations

import zipfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from awscost.entrypoints.cli import cli
from awscost.planning.explorer import coverage_items, recommendation_items, utilization_items
from awscost.planning.pricing.book import snapshot_date
from awscost.reports.ri_workbook import sheet_name
from awscost.store import open_store
from awscost.store.base import UsageItem
from test_ri_plan import END, HOURS, ORG, fill

FORMULA_KEY = '=HYPERLINK("http://x","y")'


@pytest.fixture()
def store_url(tmp_path: Path) -> str:
    url = fill(tmp_path)
    store = open_store(url)
    day = END.date()
    store.put_items(
        coverage_items(
            [
                {
                    "day": f"{day - timedelta(days=1)}",
                    "service": "ec2",
                    "region": "us-east-1",
                    "coverage_pct": Decimal("61.5"),
                    "reserved_hours": Decimal(80),
                    "on_demand_hours": Decimal(50),
                    "total_hours": Decimal(130),
                }
            ],
            ORG,
        )
        + utilization_items(
            [
                {
                    "day": f"{day - timedelta(days=1)}",
                    "service": "ec2",
                    "utilization_pct": Decimal("97.2"),
                    "purchased_hours": Decimal(96),
                    "used_hours": Decimal("93.3"),
                    "unused_hours": Decimal("2.7"),
                }
            ],
            ORG,
        )
        + recommendation_items(
            [
                {
                    "kind": "ec2os",
                    "region": "us-east-1",
                    "key": "linux-m5.xlarge",
                    "count": Decimal(2),
                    "lookback_days": 7,
                    "service": "ec2",
                    "monthly_savings": Decimal("55.10"),
                }
            ],
            ORG,
            day,
        )
    )
    # a usage key that looks like a formula: it must stay text in the workbook
    start = END - timedelta(hours=HOURS - 1)
    store.put_items(
        UsageItem("elasticache", ORG, "us-east-1", start + timedelta(hours=h), {FORMULA_KEY: 1})
        for h in range(HOURS)
    )
    store.close()
    return url


def test_sheet_names_are_valid_and_unique() -> None:
    taken: set[str] = set()
    a = sheet_name("ec2os us-east-1 with a very long suffix [x]", taken)
    b = sheet_name("ec2os us-east-1 with a very long suffix [x]", taken)
    assert len(a) <= 31 and len(b) <= 31 and a != b and "[" not in a


def test_report_ri_writes_a_workbook_with_every_sheet_filled(
    tmp_path: Path, store_url: str, monkeypatch
) -> None:
    monkeypatch.setenv("AWSCOST_ORG_NAME", ORG)
    out = tmp_path / "AwsRIUsageReport.xlsx"
    res = CliRunner().invoke(
        cli, ["report", "ri", "--store", store_url, "--out", str(out), "--until", END.isoformat()]
    )
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(out)
    names = wb.sheetnames
    assert names[0] == "Summary"
    assert {
        "ec2os us-east-1",
        "elasticache us-east-1",
        "rds us-west-2",
        "Back-test",
        "CE coverage",
        "CE utilization",
        "CE recommendations",
        "Plan vs CE",
    } <= set(names)
    assert all(len(n) <= 31 for n in names)
    for ws in wb.worksheets:
        assert ws.max_row > 1, f"sheet {ws.title} is empty"

    summary = wb["Summary"]
    labels = {summary.cell(r, 1).value: summary.cell(r, 2) for r in range(1, 15)}
    savings = labels["Monthly savings on the table (optimal)"]
    assert savings.value > 0 and savings.number_format == "$#,##0.00"
    assert labels["Monthly savings of the P95 rule"].value < savings.value
    # every price came from the packaged snapshot; rows whose reserved rate no source publishes say derived
    real, derived = f"snapshot {snapshot_date()}", f"snapshot {snapshot_date()}, derived"
    assert labels["Price source(s)"].value in (real, derived, f"{real}, {derived}")
    n, _, m = labels["Rows priced with a derived rate"].value.partition(" of ")
    assert (
        0 <= int(n) <= int(m) and int(m) > 0 and (int(n) > 0) == (derived in labels["Price source(s)"].value)
    )
    texts = [c.value for row in summary.iter_rows() for c in row if isinstance(c.value, str)]
    assert "linux-m5.*" in texts and "Top recommendations" in texts
    # Labels and times are readable: later tables on the sheet never narrow the first columns again.
    assert summary.column_dimensions["A"].width >= 38 and summary.column_dimensions["B"].width >= 24

    ec2 = wb["ec2os us-east-1"]
    assert ec2.freeze_panes == "A2"
    header = [c.value for c in ec2[1]]
    assert header[:3] == ["Group", "Unit", "Hours observed"]
    rows = {ec2.cell(r, 1).value: r for r in range(2, 6)}
    m5 = rows["linux-m5.*"]
    assert ec2.cell(m5, header.index("Recommended") + 1).value == 24
    assert ec2.cell(m5, header.index("Break-even") + 1).number_format == "0.0%"
    assert ec2.cell(m5, header.index("Purchase") + 1).value == "3 x linux-m5.xlarge"

    cache = wb["elasticache us-east-1"]
    cell = cache.cell(2, 1)
    assert cell.value == FORMULA_KEY and cell.data_type == "s"  # text, never a formula

    bt = wb["Back-test"]
    assert [c.value for c in bt[2]][:3] == ["Kind", "Region", "Group"]
    assert wb["CE coverage"].cell(2, 4).value == 61.5
    cmp_sheet = wb["Plan vs CE"]
    why = [cmp_sheet.cell(r, 9).value for r in range(2, cmp_sheet.max_row + 1)]
    assert any("lookback: AWS 7 days" in (w or "") for w in why)

    # native Excel line charts: one per group on the kind x region sheets
    with zipfile.ZipFile(out) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) >= 4
        xml = z.read(charts[0]).decode()
        assert "<c:lineChart>" in xml and "owned" in xml


def test_report_rejects_a_non_xlsx_path(tmp_path: Path, store_url: str) -> None:
    res = CliRunner().invoke(cli, ["report", "ri", "--store", store_url, "--out", str(tmp_path / "x.csv")])
    assert res.exit_code != 0 and "--out" in str(res.exception)


def test_a_sheet_that_cannot_be_built_fails_the_command_but_keeps_the_others(
    tmp_path: Path, store_url: str, monkeypatch
) -> None:
    from awscost.entrypoints.cli import main
    from awscost.reports import ri_workbook

    def broken(*_args: object) -> None:
        raise ValueError("no back-test today")

    monkeypatch.setenv("AWSCOST_ORG_NAME", ORG)
    monkeypatch.setattr(ri_workbook, "_backtest", broken)
    out = tmp_path / "r.xlsx"
    with pytest.raises(SystemExit) as exit_info:
        main(["report", "ri", "--store", store_url, "--out", str(out), "--until", END.isoformat()])
    assert exit_info.value.code == 7
    wb = openpyxl.load_workbook(out)
    assert wb["Back-test"]["A1"].value == "this sheet could not be built: ValueError: no back-test today"
    assert wb["Summary"].max_row > 10 and wb["ec2os us-east-1"].max_row > 10


def test_the_workbook_shows_dynamodb_reserved_capacity_like_the_other_kinds(
    tmp_path: Path, monkeypatch
) -> None:
    """Prices in the store's Price List cache (as `pricing refresh` leaves them) -> plan -> a DynamoDB sheet."""
    from awscost.planning.pricing import write_cache
    from test_ri_plan import ddb_book, ddb_fill

    store = ddb_fill(tmp_path)
    write_cache(store, ddb_book().select("dynamodb"))
    store.close()
    monkeypatch.setenv("AWSCOST_ORG_NAME", ORG)
    out = tmp_path / "ddb.xlsx"
    url = f"sqlite:///{tmp_path / 'ddb.db'}"
    res = CliRunner().invoke(
        cli, ["report", "ri", "--store", url, "--out", str(out), "--until", END.isoformat()]
    )
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(out)
    ws = wb["dynamodb eu-west-1"]
    header = [c.value for c in ws[1]]
    rows = {ws.cell(r, 1).value: r for r in range(2, 4)}
    assert set(rows) == {"read_capacity", "write_capacity"}
    read = rows["read_capacity"]

    def cell(name: str) -> object:
        return ws.cell(read, header.index(name) + 1).value

    assert cell("Unit") == "capacity units" and cell("Recommended") == 1100 and cell("Owned") == 0
    assert (
        cell("Purchase") == "11 x 100 read_capacity" and cell("P95 rule purchase") == "24 x 100 read_capacity"
    )
    assert cell("On-demand $/unit-h") == 0.000147
    assert ws.cell(read, header.index("Reserved $/unit-h") + 1).number_format == "$0.000000##"
    assert "owned is unknown" in str(cell("Note"))
    assert "read_capacity usage" in [c.value for c in ws[rows["write_capacity"] + 4]]  # the hourly block
    summary = wb["Summary"]
    texts = [c.value for row in summary.iter_rows() for c in row if isinstance(c.value, str)]
    assert "aws-price-list-api 2026-11-20" in " ".join(texts)
    bt = wb["Back-test"]
    assert "read_capacity" in [bt.cell(r, 3).value for r in range(3, bt.max_row + 1)]
