"""The sandbox bill: a legacy CUR (manifest + gzip CSV) and a FOCUS export of the same lines, loaded to the
same totals; and the demo step."""

from __future__ import annotations

import io
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest

from awscost.billing import load, load_into
from awscost_sandbox.bill import bill_totals, build_lines, demo_step, write_bill
from awscost_sandbox.scenario import SPEND_TAG, default_scenario


@pytest.fixture(scope="module")
def scenario():  # type: ignore[no-untyped-def]
    return default_scenario()


@pytest.fixture(scope="module")
def hours(scenario) -> list[datetime]:  # type: ignore[no-untyped-def]
    # 12 hours at the start plus 6 across the month boundary: two billing periods.
    edge = datetime(2026, 11, 30, 21, tzinfo=UTC)
    return scenario.hours(12) + [edge + timedelta(hours=i) for i in range(6)]


@pytest.fixture(scope="module")
def written(scenario, hours, tmp_path_factory) -> dict[str, Path]:  # type: ignore[no-untyped-def]
    return write_bill(scenario, hours, tmp_path_factory.mktemp("bill"))


def test_cur_and_focus_load_to_the_generated_totals(scenario, hours, written) -> None:  # type: ignore[no-untyped-def]
    expected = bill_totals(build_lines(scenario, hours))
    results = {}
    for fmt, path in written.items():
        with load(path) as bill:
            results[fmt] = (
                bill.rows(),
                bill.total("BilledCost"),
                bill.total("EffectiveCost"),
                bill.periods(),
            )
    assert results["cur"] == results["focus"]
    rows, billed, effective, periods = results["cur"]
    assert (billed, effective) == (expected["BilledCost"], expected["EffectiveCost"])
    assert periods == ["2026-11", "2026-12"]
    assert rows > 1000


def test_cur_layout_manifests_and_line_types(written) -> None:  # type: ignore[no-untyped-def]
    manifests = sorted(written["cur"].rglob("*-Manifest.json"))
    assert len(manifests) == 2
    for manifest in manifests:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        assert data["billingPeriod"]["start"][:6] in {"202611", "202612"}
        assert all((written["cur"] / key).is_file() for key in data["reportKeys"])
    with load(written["cur"]) as bill:
        types = bill.sql("SELECT x_LineItemType AS t, count(*) AS n FROM billing GROUP BY 1").to_pandas()
        seen = set(types["t"])
    assert {
        "Usage", "DiscountedUsage", "RIFee", "SavingsPlanCoveredUsage", "SavingsPlanRecurringFee",
        "SavingsPlanNegation", "Tax", "Credit", "Refund",
    } <= seen  # fmt: skip


def test_no_double_counting_of_savings_plan_and_ri(written) -> None:  # type: ignore[no-untyped-def]
    with load(written["cur"]) as bill:
        sp = (
            bill.sql(
                "SELECT x_LineItemType AS t, sum(BilledCost) AS b, sum(EffectiveCost) AS e FROM billing "
                "WHERE CommitmentDiscountType = 'Savings Plan' GROUP BY 1"
            )
            .to_pandas()
            .set_index("t")
        )
        # The negation cancels the covered usage's on-demand cost in BilledCost; EffectiveCost of the SP lines
        # is exactly the commitment (used + unused), so nothing is counted twice.
        assert sp.loc["SavingsPlanCoveredUsage", "b"] + sp.loc["SavingsPlanNegation", "b"] == 0
        assert sp.loc["SavingsPlanNegation", "e"] == 0
        commitment = sp.loc["SavingsPlanRecurringFee", "b"]
        assert sp["e"].sum() == commitment
        commitments = bill.commitments().to_pandas()
        assert (commitments["SavingsPlanCovered"] > 0).all() and (commitments["ReservedCovered"] > 0).all()


def test_tags_have_gaps_and_adjustments_are_apart(written) -> None:  # type: ignore[no-untyped-def]
    with load(written["focus"]) as bill:
        coverage = bill.tag_coverage(SPEND_TAG).to_pandas()
        assert any(s < 1 for s in coverage["CoverageShare"]) and (coverage["TaggedCost"] > 0).all()
        assert all(0 <= s <= 1 for s in coverage["CoverageShare"])
        untagged = bill.untagged_resources(SPEND_TAG, 5).to_pandas()
        assert len(untagged) == 5
        adjustments = bill.credits_refunds_tax().to_pandas()
        kinds = Counter(adjustments["Kind"])
        assert kinds["Credit"] >= 2 and kinds["Tax"] >= 2 and kinds["Adjustment"] == 2


def test_tax_and_credits_are_booked_as_a_real_cur_books_them(written) -> None:  # type: ignore[no-untyped-def]
    """Tax per account and product code, on that product's charges; a credit against the usage it offsets and
    never more than it; summaries by service show Tax / Credit / Refund as their own rows."""
    with load(written["cur"]) as bill:
        per = bill.sql(
            "SELECT x_BillingPeriod AS p, SubAccountId AS a, x_ProductCode AS c, "
            "sum(BilledCost) FILTER (WHERE ChargeCategory = 'Tax') AS tax, "
            "sum(BilledCost) FILTER (WHERE ChargeCategory = 'Credit') AS credit, "
            "sum(BilledCost) FILTER (WHERE ChargeCategory IN ('Usage')) AS usage, "
            "sum(BilledCost) FILTER (WHERE ChargeCategory NOT IN ('Tax', 'Credit', 'Adjustment')) AS billed "
            "FROM billing GROUP BY ALL"
        ).to_pandas()
        by_service = bill.summary(by=["SubAccountId", "ServiceName"], metric="BilledCost").to_pandas()
    for row in per.itertuples(index=False):
        if row.tax is not None and row.tax == row.tax:
            assert row.tax == (row.billed * Decimal("0.08")).quantize(Decimal("0.000001")), row
        if row.credit is not None and row.credit == row.credit:
            assert -row.credit <= row.usage, row  # a credit covers at most the usage it offsets
    assert per["tax"].notna().sum() > len(set(per["a"]))  # more than one tax line per account
    services = dict(zip(zip(by_service["SubAccountId"], by_service["ServiceName"], strict=True),
                        by_service["BilledCost"], strict=True))  # fmt: skip
    assert {s for _, s in services} >= {"Tax", "Credit", "Refund"}
    assert all(cost >= 0 for (_, s), cost in services.items() if s not in ("Credit", "Refund"))


def test_demo_step_writes_loads_and_prints(scenario, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from rich.console import Console

    out = io.StringIO()
    hours = scenario.hours(6)
    ctx = SimpleNamespace(
        out_dir=tmp_path, scenario=scenario, first_hour=hours[0], last_hour=hours[-1], hours=6,
        console=Console(file=out, width=160), results={}, fmt="table",
    )  # fmt: skip
    demo_step(ctx)
    text = out.getvalue()
    assert "Sandbox bill by account and service" in text and "Amazon Elastic Compute Cloud" in text
    for account in scenario.accounts:
        assert account.id in text
    assert (tmp_path / "bill" / "cur").is_dir() and (tmp_path / "billing" / "_awscost_billing.json").is_file()
    with load(tmp_path / "billing") as bill:
        assert bill.total("BilledCost") == bill_totals(build_lines(scenario, hours))["BilledCost"]
    assert ctx.results["billing"]["BilledCost"] == bill_totals(build_lines(scenario, hours))["BilledCost"]


def test_loading_the_cur_twice_replaces(written, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ds = tmp_path / "ds"
    first = load_into([written["cur"]], ds)
    second = load_into([written["cur"]], ds)
    assert first["periods"].keys() == second["periods"].keys()
    for period in first["periods"]:
        assert first["periods"][period]["rows"] == second["periods"][period]["rows"]
        assert Decimal(first["periods"][period]["BilledCost"]) == Decimal(
            second["periods"][period]["BilledCost"]
        )
