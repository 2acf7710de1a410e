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
        for dim, usage_only in (("ChargeKind", False), ("ServiceName", True)):
            got = ce_cube.compare(dim, Scope(), period, before, metric, usage_only=usage_only)
            assert got == bill_cube.compare(dim, Scope(), period, before, metric, usage_only=usage_only)
        kinds = {c.key for c in ce_cube.compare("ChargeKind", Scope(), period, before, metric)}
        assert kinds == {"Usage", "Fee", "Tax", "Credit", "Refund"}
        # Per service within each kind, by the bill's names (Cost Explorer's mapped back); tax alone is
        # one amount, as Cost Explorer books it ("Tax"), where the bill splits it per service.
        for kind in kinds - {"Tax"}:
            where: dict[str, str | None] = {"ChargeKind": kind}
            got = ce_cube.compare("ServiceName", Scope(), period, before, metric, where_extra=where)
            assert got == bill_cube.compare("ServiceName", Scope(), period, before, metric, where_extra=where)
        [tax] = ce_cube.compare(
            "ServiceName", Scope(), period, before, metric, where_extra={"ChargeKind": "Tax"}
        )
        bill_tax = bill_cube.compare(
            "ServiceName", Scope(), period, before, metric, where_extra={"ChargeKind": "Tax"}
        )
        assert tax.key is None and len(bill_tax) > 1 and tax.cost == sum(t.cost for t in bill_tax) > 0
        services = {c.key for c in ce_cube.compare("ServiceName", Scope(), period, before, metric)}
        assert "Amazon Elastic Compute Cloud" in services
        assert not services & {cex.EC2_COMPUTE, cex.EC2_OTHER, cex.TAX_SERVICE}
        # Tag coverage: Cost Explorer's per-tag answer against the bill's tags.
        ce_cov = ce_cube.coverage(TAG, Scope(), FIRST, END, metric)
        assert ce_cov == bill_cube.coverage(TAG, Scope(), FIRST, END, metric)
        assert any(0 < c.covered < c.total for c in ce_cov)
        assert ce_cube.account_names() == {a.id: a.name for a in sandbox.scenario.accounts}


def test_the_sandbox_answers_cost_explorers_service_names(sandbox: Any, ce_costs: cex.CeCosts) -> None:
    from awscost_sandbox.ce_costs import ce_service

    # SERVICE as Cost Explorer names it, asked over HTTP like any client.
    answer = sandbox.client("ce").get_cost_and_usage(
        TimePeriod={"Start": FIRST.isoformat(), "End": END.isoformat()},
        Granularity="DAILY",
        Metrics=["UnblendedCost"],
        GroupBy=[{"Type": "DIMENSION", "Key": "SERVICE"}],
    )
    names = {g["Keys"][0] for r in answer["ResultsByTime"] for g in r["Groups"]}
    assert {cex.EC2_COMPUTE, cex.TAX_SERVICE, "Savings Plans for AWS Compute usage"} <= names
    assert {"Amazon Relational Database Service", "Amazon DynamoDB", "Amazon ElastiCache"} <= names
    assert "Amazon Elastic Compute Cloud" not in names  # the bill's product name, not Cost Explorer's
    # The sandbox bill's EC2 lines are instance-hours and RI fees; the rest of AmazonEC2 is EC2 - Other.
    assert ce_service("Usage", "AmazonEC2", "Amazon Elastic Compute Cloud", "USW2-SpotUsage:m5.large") == (
        cex.EC2_COMPUTE
    )
    assert ce_service("RIFee", "AmazonEC2", "Amazon Elastic Compute Cloud", "HeavyUsage:m5.large") == (
        cex.EC2_COMPUTE
    )
    for usage_type in ("USE1-EBS:VolumeUsage.gp3", "NatGateway-Hours", "EU-DataTransfer-Out-Bytes", ""):
        assert ce_service("Usage", "AmazonEC2", "Amazon Elastic Compute Cloud", usage_type) == cex.EC2_OTHER
    assert ce_service("Tax", "AmazonRDS", "Amazon Relational Database Service", "") == cex.TAX_SERVICE
    # What the fetch saw, and the bill's name each got in the cube, said in the cube's note.
    assert ce_costs.services[cex.EC2_COMPUTE] == "Amazon Elastic Compute Cloud"
    assert ce_costs.services[cex.TAX_SERVICE] is None
    assert ce_costs.services["Amazon Relational Database Service"] == "Amazon Relational Database Service"
    with ce_costs.cube() as cube:
        note = cube.note("ServiceName") or ""
        assert f"'{cex.EC2_COMPUTE}' (instance-hours) counted under Amazon Elastic Compute Cloud" in note
        assert "'Tax' is the charge Tax" in note and "EC2 - Other" not in note  # none in the sandbox bill
        assert "beyond 14 days" in (cube.note("ResourceId") or "")


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


def test_a_region_filter_is_refused_where_cost_explorer_gives_no_region(
    bill_cube: CostCube, ce_costs: cex.CeCosts
) -> None:
    from awscost.core.errors import InputError

    every = bill_cube.totals(Scope(), FIRST, END, "EffectiveCost")["USD"]
    regions = {r: bill_cube.totals(Scope(regions=frozenset({r})), FIRST, END, "EffectiveCost") for r in
               ("us-east-1", "eu-west-1", "ap-south-2")}  # fmt: skip
    assert 0 < regions["us-east-1"]["USD"] < every and regions["ap-south-2"] == {}
    with ce_costs.cube() as cube:
        with pytest.raises(InputError, match="no cost per region"):
            cube.totals(Scope(regions=frozenset({"us-east-1"})), FIRST, END, "EffectiveCost")
        with pytest.raises(InputError, match="not per region"):
            cube.coverage(TAG, Scope(regions=frozenset({"us-east-1"})), FIRST, END, "EffectiveCost")


def test_forecast_from_the_month_so_far(sandbox: Any) -> None:
    ce = sandbox.client("ce")
    today = sandbox.clock.date()
    mean, low, high = cex.forecast(ce, today, date(2026, 12, 1), "EffectiveCost")
    assert low < mean < high and mean > 0
    billed, *_ = cex.forecast(ce, today, date(2026, 12, 1), "BilledCost")
    assert billed > 0 and billed != mean  # reservations' amortization makes the two differ
    with pytest.raises(AwsAccessError, match=r"GetCostForecast.*ValidationException"):
        cex.forecast(ce, today - timedelta(days=1), date(2026, 12, 1), "EffectiveCost")


def test_a_report_from_ce_says_what_it_lacks_and_lists_the_bills_services(
    bill_cube: CostCube, ce_costs: cex.CeCosts
) -> None:
    from datetime import UTC, datetime

    from awscost.reports.config import organization_audience
    from awscost.reports.cost_report import build_report
    from awscost.reports.periods import resolve

    audience = organization_audience()
    comparison = resolve("2026-11-03..2026-11-03", today=date(2026, 11, 4))  # against the 2nd
    with ce_costs.cube() as ce_cube:
        reports = [
            build_report(
                cube,
                audience,
                comparison,
                scope=Scope(),
                metric="EffectiveCost",
                tag_key=TAG,
                names={},
                generated_at=datetime(2026, 11, 4, tzinfo=UTC),
                sections=["cost", "movers", "tags"],
            )
            for cube in (bill_cube, ce_cube)
        ]
    bill, ce = (r.data for r in reports)
    assert bill["services"] == ce["services"] and len(ce["services"]) > 3  # the bill's names, to the cent
    assert bill["accounts"] == ce["accounts"]
    [services] = [t for t in reports[1].section("cost").tables if t.name == "services"]
    assert f"'{cex.EC2_COMPUTE}' (instance-hours) counted under Amazon Elastic Compute Cloud" in (
        services.note or ""
    )
    [bill_services] = [t for t in reports[0].section("cost").tables if t.name == "services"]
    assert "Cost Explorer" not in (bill_services.note or "")
    # Each section Cost Explorer cannot fill says so in its place.
    movers = reports[1].section("movers").notes
    assert "Usage types: Cost Explorer is asked per account and service" in " ".join(movers)
    assert any(
        n.startswith("Resources: Cost Explorer has no resource-level history beyond 14 days") for n in movers
    )
    tags = reports[1].section("tags").notes
    assert any(
        "Untagged resources: Cost Explorer has no resource-level history beyond 14 days" in n for n in tags
    )
    assert not [n for n in reports[0].section("movers").notes if "Cost Explorer" in n]


def test_compare_many_is_compare_of_each_dimension_in_one_scan(bill_cube: CostCube) -> None:
    """The movers' drill-down asks its dimensions in one GROUPING SETS scan (`compare` is its one-set case):
    the same changes, in the same order, as one `compare` per dimension, with and without a narrowing group."""
    dims = ["ServiceName", "UsageType", "RegionId", "ResourceId", "SubAccountId", f"Tags.{TAG}"]
    period, before = (FIRST + timedelta(days=1), END), (FIRST, FIRST + timedelta(days=1))
    service = bill_cube.compare("ServiceName", Scope(), period, before, "EffectiveCost")[0].key
    for where in (None, {"ServiceName": service}):
        for usage_only in (True, False):
            many = bill_cube.compare_many(
                dims, Scope(), period, before, "BilledCost", usage_only=usage_only, where_extra=where
            )
            for dim in dims:
                one = bill_cube.compare(
                    dim, Scope(), period, before, "BilledCost", usage_only=usage_only, where_extra=where
                )
                assert many[dim] == one and one, (dim, where, usage_only)
