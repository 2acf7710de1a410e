"""`--source ce` against `--source billing` on the sandbox: Cost Explorer's GetCostAndUsage as the sandbox
answers it from its bill (real boto3 over HTTP through the layer), and the bill written for the same hours,
loaded by the billing readers. Both cubes must agree exactly (Decimal, no tolerance) per account and day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from awscost.billing.cube import CostCube, Scope
from awscost.core.errors import AwsAccessError
from awscost.reports import cost_explorer as cex

TAG = "user:Spend_Category"
HOURS = 40  # from the scenario's start (Monday 2026-11-02 00:00): two days and a part
FIRST, END = date(2026, 11, 1), date(2026, 11, 5)  # the 1st holds the month's fees, tax, credit, refund


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    from awscost_sandbox.seed import seed_organization
    from awscost_sandbox.server import SandboxServer

    with SandboxServer() as server:
        seed_organization(server)  # the clients then call as the management (payer) account
        server.clock = server.scenario.hours(HOURS)[-1]
        yield server


@pytest.fixture(scope="module")
def bill_cube(sandbox: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CostCube]:
    from awscost.billing import load
    from awscost_sandbox.bill import write_bill

    written = write_bill(
        sandbox.scenario, sandbox.scenario.hours(HOURS), Path(tmp_path_factory.mktemp("bill")), ("cur",)
    )
    with load(written["cur"]) as bill:
        cube = CostCube.from_bill(bill, FIRST, END, tag_keys=[TAG])
        yield cube


@pytest.fixture(scope="module")
def ce_costs(sandbox: Any) -> cex.CeCosts:
    import awscost_sandbox.ce_costs as handlers

    old, handlers.PAGE_SIZE = handlers.PAGE_SIZE, 25  # the answers then come in several pages
    try:
        return cex.fetch_costs(sandbox.client("ce"), FIRST, END, metric="EffectiveCost", tag_key=TAG)
    finally:
        handlers.PAGE_SIZE = old


@pytest.mark.parametrize("metric", ["EffectiveCost", "BilledCost"])
def test_ce_and_the_bill_agree_to_the_cent(
    bill_cube: CostCube, ce_costs: cex.CeCosts, sandbox: Any, metric: str
) -> None:
    with ce_costs.cube() as ce_cube:
        whole = bill_cube.totals(Scope(), FIRST, END, metric)
        assert whole["USD"] > Decimal(100)
        assert ce_cube.totals(Scope(), FIRST, END, metric) == whole
        accounts = sandbox.scenario.account_ids
        assert (
            bill_cube.accounts(Scope(), FIRST, END) == ce_cube.accounts(Scope(), FIRST, END) == set(accounts)
        )
        for account in accounts:
            scope = Scope.of([account])
            assert ce_cube.totals(scope, FIRST, END, metric) == bill_cube.totals(scope, FIRST, END, metric)
            assert ce_cube.daily(scope, FIRST, END, metric) == bill_cube.daily(scope, FIRST, END, metric)
        days = [d for d, _, _ in ce_cube.daily(Scope(), FIRST, END, metric)]
        assert days == [FIRST, date(2026, 11, 2), date(2026, 11, 3)]
        # Kept apart alike (fees, tax, credit, refund), and the usage of each service.
        period = (FIRST, END)
        before = (FIRST - timedelta(days=4), FIRST)
        for dim, usage_only in (("ChargeKind", False), ("ServiceName", True), ("ServiceName", False)):
            got = ce_cube.compare(dim, Scope(), period, before, metric, usage_only=usage_only)
            assert got == bill_cube.compare(dim, Scope(), period, before, metric, usage_only=usage_only)
        kinds = {c.key for c in ce_cube.compare("ChargeKind", Scope(), period, before, metric)}
        assert kinds == {"Usage", "Fee", "Tax", "Credit", "Refund"}
        # Tag coverage: Cost Explorer's per-tag answer against the bill's tags.
        ce_cov = ce_cube.coverage(TAG, Scope(), FIRST, END, metric)
        assert ce_cov == bill_cube.coverage(TAG, Scope(), FIRST, END, metric)
        assert any(0 < c.covered < c.total for c in ce_cov)
        assert ce_cube.account_names() == {a.id: a.name for a in sandbox.scenario.accounts}


def test_the_answers_paged_and_a_second_fetch_is_cached(ce_costs: cex.CeCosts, sandbox: Any) -> None:
    from awscost_sandbox import layer

    # Every server answers these (not moto, whose GetCostAndUsage is empty unless results are injected).
    assert "awscost_sandbox.ce_costs" in layer.EXTENSIONS
    # One request by record type, one per charge kind (5), one by tag: 7 requests, more calls with pages.
    assert ce_costs.calls > 7
    assert set(ce_costs.record_types) == {
        "Usage",
        "DiscountedUsage",
        "SavingsPlanCoveredUsage",
        "SavingsPlanNegation",
        "RIFee",
        "SavingsPlanRecurringFee",
        "Tax",
        "Credit",
        "Refund",
    }
    source = cex.CostExplorerSource(sandbox.client("ce"))
    first = source.fetch_costs(FIRST, END, tag_key=TAG)
    again = source.fetch_costs(FIRST, END, tag_key=TAG)
    assert first.calls == 7 and again.calls == 0 and again.rows == first.rows
    assert sorted(first.rows, key=repr) == sorted(ce_costs.rows, key=repr)  # paging changed nothing


def test_a_scope_filters_as_the_bill(bill_cube: CostCube, sandbox: Any) -> None:
    accounts = sorted(a.id for a in sandbox.scenario.accounts if not a.management)[:2]
    costs = cex.fetch_costs(
        sandbox.client("ce"), FIRST, END, accounts=frozenset(accounts), tags={TAG: frozenset({"ml"})}
    )
    assert {r.account_id for r in costs.rows} <= set(accounts)
    scope = Scope.of(accounts, {TAG: ["ml"]})
    with costs.cube() as cube:
        for metric in ("EffectiveCost", "BilledCost"):
            got = cube.totals(Scope(), FIRST, END, metric)
            assert got == bill_cube.totals(scope, FIRST, END, metric) and got["USD"] > 0
    # A member account sees its own cost only.
    member = accounts[0]
    own = cex.fetch_costs(sandbox.client("ce", account=member), FIRST, END)
    assert {r.account_id for r in own.rows} == {member}
    with own.cube() as cube:
        assert cube.totals(Scope(), FIRST, END, "BilledCost") == bill_cube.totals(
            Scope.of([member]), FIRST, END, "BilledCost"
        )


def test_forecast_from_the_month_so_far(sandbox: Any) -> None:
    ce = sandbox.client("ce")
    today = sandbox.clock.date()
    mean, low, high = cex.forecast(ce, today, date(2026, 12, 1), "EffectiveCost")
    assert low < mean < high and mean > 0
    billed, *_ = cex.forecast(ce, today, date(2026, 12, 1), "BilledCost")
    assert billed > 0 and billed != mean  # reservations' amortization makes the two differ
    with pytest.raises(AwsAccessError, match=r"GetCostForecast.*ValidationException"):
        cex.forecast(ce, today - timedelta(days=1), date(2026, 12, 1), "EffectiveCost")
