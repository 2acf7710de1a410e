"""The materialized bill's storage: money in DECIMAL(18,10) only when every value fits (else DECIMAL(38,18)),
recorded per period in the dataset marker; low-cardinality text as ENUM answering exactly like text."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from awscost.billing import load, load_into, table
from awscost.billing.bill import Bill
from awscost.billing.sources import DATASET_MARKER
from awscost.billing.table import MONEY_FIELDS, NARROW_MONEY
from test_billing_dataset import DATA, usage_row, write_delivery

WIDE = "DECIMAL(38,18)"


def column_type(bill: Bill, column: str) -> str:
    row = bill.con.execute(
        "SELECT data_type FROM information_schema.columns WHERE table_name = 'billing' AND column_name = ?",
        [column],
    ).fetchone()
    assert row is not None
    return str(row[0])


def test_marker_records_the_money_type_each_period_fits(tmp_path: Path) -> None:
    march = write_delivery(
        tmp_path / "d1",
        "2024-03",
        "a1",
        [usage_row("2024-03", "a0", "1.0000000001"), usage_row("2024-03", "a1", "-2.5")],
    )
    april = write_delivery(
        tmp_path / "d2",
        "2024-04",
        "a2",
        [usage_row("2024-04", "b0", "0.000000000012"), usage_row("2024-04", "b1", "3")],
    )
    may = write_delivery(
        tmp_path / "d3",
        "2024-05",
        "a3",
        [usage_row("2024-05", "c0", "123456789.5"), usage_row("2024-05", "c1", "1")],
    )
    ds = tmp_path / "ds"
    marker = load_into([march], ds)
    assert marker["periods"]["2024-03"]["money_types"] == dict.fromkeys(MONEY_FIELDS, NARROW_MONEY)
    with load(ds, materialize=True) as bill:
        assert column_type(bill, "BilledCost") == NARROW_MONEY
        assert bill.total("BilledCost") == Decimal("-1.4999999999")
    marker = load_into([april, may], ds)
    # 12 decimals (April) and a magnitude of 1e8 (May) do not fit; the cost columns widen, others stay narrow.
    assert marker["periods"]["2024-04"]["money_types"]["BilledCost"] == WIDE
    assert marker["periods"]["2024-05"]["money_types"]["BilledCost"] == WIDE
    assert marker["periods"]["2024-03"]["money_types"]["BilledCost"] == NARROW_MONEY
    with load(ds, materialize=True) as bill:
        assert column_type(bill, "BilledCost") == WIDE
        assert column_type(bill, "PricingQuantity") == WIDE  # quantities are not narrowed
        want = Decimal("-1.4999999999") + Decimal("3.000000000012") + Decimal("123456790.5")
        assert bill.total("BilledCost") == want
        by_period = bill.summary(by=[], metric="BilledCost", granularity="month").to_pandas()
        assert list(by_period["BilledCost"]) == [
            Decimal("-1.4999999999"),
            Decimal("3.000000000012"),
            Decimal("123456790.5"),
        ]
    with load(ds) as view, load(ds, materialize=True) as copied:
        assert (
            view.summary(metric="BilledCost")
            .to_pandas()
            .equals(copied.summary(metric="BilledCost").to_pandas())
        )


def test_each_cost_column_gets_its_own_type(tmp_path: Path) -> None:
    path = tmp_path / "focus.csv"
    path.write_text(
        "BillingPeriodStart,ChargePeriodStart,ChargeCategory,SubAccountId,ServiceName,BilledCost,EffectiveCost\n"
        "2024-01-01 00:00:00,2024-01-02T00:00:00Z,Usage,111111111111,AWS Lambda,1.25,0.123456789012345678\n"
        "2024-01-01 00:00:00,2024-01-03T00:00:00Z,Usage,111111111111,AWS Lambda,1.8E-9,2\n",
        encoding="utf-8",
    )
    with load(path) as bill:
        assert column_type(bill, "BilledCost") == NARROW_MONEY
        assert column_type(bill, "EffectiveCost") == WIDE
        assert bill.total("BilledCost") == Decimal("1.2500000018")
        assert bill.total("EffectiveCost") == Decimal("2.123456789012345678")


def test_dataset_without_recorded_money_types_is_checked_on_open(tmp_path: Path) -> None:
    april = write_delivery(
        tmp_path / "d2",
        "2024-04",
        "a2",
        [usage_row("2024-04", "b0", "0.000000000012"), usage_row("2024-04", "b1", "3")],
    )
    ds = tmp_path / "ds"
    load_into([april], ds)
    marker = json.loads((ds / DATASET_MARKER).read_text(encoding="utf-8"))
    for info in marker["periods"].values():
        del info["money_types"]  # as written before the marker recorded them
    (ds / DATASET_MARKER).write_text(json.dumps(marker), encoding="utf-8")
    with load(ds, materialize=True) as bill:
        assert column_type(bill, "BilledCost") == WIDE
        assert bill.total("BilledCost") == Decimal("3.000000000012")


def test_narrow_money_sums_beyond_the_64_bit_range_exactly(tmp_path: Path) -> None:
    """99999999.9999999999 fits DECIMAL(18,10), but 20 of them overflow a 64-bit sum of its units."""
    big = "99999999.9999999999"
    march = write_delivery(
        tmp_path / "d1", "2024-03", "a1", [usage_row("2024-03", f"a{i}", big) for i in range(20)]
    )
    with load([march]) as bill:
        assert column_type(bill, "BilledCost") == NARROW_MONEY
        assert bill.total("BilledCost") == Decimal(big) * 20
        frame = bill.summary(by=["SubAccountId", "ServiceName"], metric="BilledCost").to_pandas()
        assert list(frame["BilledCost"]) == [Decimal(big) * 20]


@pytest.fixture
def enums_always(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(table, "ENUM_MIN_ROWS", 0)


def _analyses(bill: Bill) -> list[pd.DataFrame]:
    return [
        bill.summary(by=["SubAccountId", "ServiceName"], metric="BilledCost").to_pandas(),
        bill.summary(by=["x_LineItemType"], metric="EffectiveCost", granularity="month").to_pandas(),
        bill.summary(
            by=["RegionId"], where="ServiceName = 'no such service' OR SubAccountId LIKE '2%'"
        ).to_pandas(),
        bill.month_over_month().to_pandas(),
        bill.top_resources(5).to_pandas(),
        bill.credits_refunds_tax().to_pandas(),
        bill.tag_coverage().to_pandas(),
        bill.untagged_resources().to_pandas(),
        bill.commitments().to_pandas(),
        bill.sql(
            "SELECT ChargeCategory || '/' || x_LineItemType AS k, count(*) AS n FROM billing GROUP BY 1 ORDER BY 1"
        ).to_pandas(),
        bill.sql(
            "SELECT min(ServiceName) AS lo, max(ServiceName) AS hi FROM billing WHERE ServiceName > 'Amazon'"
        ).to_pandas(),
        pd.DataFrame({"period": bill.periods()}),
    ]


def _rows_sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns), key=lambda col: col.astype(str), ignore_index=True)


def test_enum_storage_answers_every_analysis_like_text(tmp_path: Path, enums_always: None) -> None:
    files = [DATA / "cur_small.csv", DATA / "cur2_small.csv"]
    with load(files) as enum_bill:
        assert (
            enum_bill.con.execute("SELECT typeof(ServiceName) FROM billing LIMIT 1")
            .fetchone()[0]
            .startswith("ENUM")
        )
        enum_results = _analyses(enum_bill)
        enum_rows = enum_bill.to_pandas()
    table.ENUM_MIN_ROWS = 10**12  # restored by monkeypatch
    with load(files) as text_bill:
        assert column_type(text_bill, "ServiceName") == "VARCHAR"
        text_results = _analyses(text_bill)
        text_rows = text_bill.to_pandas()
    for got, want in zip(enum_results, text_results, strict=True):
        pd.testing.assert_frame_equal(_rows_sorted(got), _rows_sorted(want))  # ties may come in any order
    # text, not pandas Categorical (what DuckDB makes of an ENUM)
    assert not any(isinstance(t, pd.CategoricalDtype) for t in enum_rows.dtypes)
    key = ["x_SourceFile", "ResourceId", "ChargePeriodStart", "BilledCost", "x_UsageType"]
    pd.testing.assert_frame_equal(
        enum_rows.sort_values(key, ignore_index=True), text_rows.sort_values(key, ignore_index=True)
    )
