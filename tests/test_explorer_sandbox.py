"""The Cost Explorer client against the sandbox's CE answers (real boto3 over HTTP through the layer)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from awscost.planning import explorer


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    import awscost_sandbox.ce  # noqa: F401  (registers the CE operations in the layer)
    from awscost_sandbox.seed import seed_organization
    from awscost_sandbox.server import SandboxServer

    with SandboxServer() as server:
        seed_organization(server)  # the clients then call as the management (payer) account
        server.clock = server.scenario.start + timedelta(days=9, hours=12)
        yield server


def test_coverage_and_utilization_from_the_scenario(sandbox: Any) -> None:
    ce = sandbox.client("ce")
    start = sandbox.scenario.start.date()
    cov = explorer.reservation_coverage(ce, start + timedelta(days=1), start + timedelta(days=3), "ec2")
    regions = {r["region"] for r in cov}
    assert regions == set(sandbox.scenario.regions)
    assert all(0 <= r["coverage_pct"] <= 100 and r["total_hours"] >= r["reserved_hours"] for r in cov)
    assert any(r["reserved_hours"] > 0 for r in cov)
    util = explorer.reservation_utilization(ce, start + timedelta(days=1), start + timedelta(days=3), "rds")
    assert len(util) == 2 and all(0 <= r["utilization_pct"] <= 100 for r in util)


def test_savings_plans_utilization_and_coverage_are_the_bills(sandbox: Any) -> None:
    from decimal import Decimal

    from awscost_sandbox.bill import savings_plan_spend, savings_plan_use

    sc = sandbox.scenario
    ce = sandbox.client("ce")
    day = sc.start.date() + timedelta(days=2)
    [used] = explorer.savings_plans_utilization(ce, day, day + timedelta(days=1))
    hours = [sc.start + timedelta(days=2, hours=h) for h in range(24)]
    spent = sum((sum(savings_plan_use(sc, h).values(), Decimal(0)) for h in hours), Decimal(0))
    owned = sum(p.commitment for p in sc.savings_plans()) * 24
    # the sandbox bill's own allocation, to the cent, and the commitment it was measured against
    assert used["total_commitment"] == owned.quantize(Decimal("0.01"))
    assert used["used_commitment"] == spent.quantize(Decimal("0.01"))
    assert Decimal(0) < used["utilization_pct"] <= 100
    cov = explorer.savings_plans_coverage(ce, day, day + timedelta(days=1))
    assert {r["region"] for r in cov} == set(sc.regions)
    covered = sum((rate for h in hours for *_, rate, plan in savings_plan_spend(sc, h) if plan), Decimal(0))
    assert sum(r["covered_spend"] for r in cov) == pytest.approx(covered, abs=Decimal("0.03"))
    # (each amount rounded to the cent, as Cost Explorer shows them)
    assert all(
        abs(r["total_cost"] - r["covered_spend"] - r["on_demand_cost"]) <= Decimal("0.01") for r in cov
    )
    # a member account owns no plan: nothing to report
    member = next(a.id for a in sc.accounts if not a.management)
    assert explorer.savings_plans_utilization(sandbox.client("ce", account=member), day, day) == []


def test_savings_plans_recommendation_counts_the_plans_owned(sandbox: Any) -> None:
    """As Cost Explorer does: the recommendation is for the on-demand spend the plans owned leave, so without
    the sandbox's plan the same fleet would need more commitment (asked of the handler itself for the
    plan-less scenario: a second server would reset the one this module shares)."""
    from decimal import Decimal

    from awscost_sandbox import ce, layer
    from awscost_sandbox.scenario import Scenario

    class NoPlans(Scenario):
        def savings_plans(self) -> list[Any]:
            return []

    def recommended(rec: dict[str, Any]) -> Decimal:
        details = rec["SavingsPlansPurchaseRecommendation"]["SavingsPlansPurchaseRecommendationDetails"]
        return Decimal(details[0]["HourlyCommitmentToPurchase"]) if details else Decimal(0)

    params = {"LookbackPeriodInDays": "SEVEN_DAYS", "TermInYears": "ONE_YEAR", "PaymentOption": "NO_UPFRONT"}
    payer = sandbox.scenario.management.id
    token = layer._current.set(layer.LayerContext(NoPlans(), sandbox.clock))
    try:
        without = recommended(ce.savings_plans_recommendation(params, payer, "us-east-1"))
    finally:
        layer._current.reset(token)
    [mine] = explorer.savings_plans_recommendation(sandbox.client("ce"), lookback_days=7) or [
        {"hourly_commitment": Decimal(0)}
    ]
    # (the bill charges the plan's rate on the sandbox's own prices, the recommendation prices with the
    # snapshot: the two commitments differ by about, not exactly, the plan owned)
    owned = sum(p.commitment for p in sandbox.scenario.savings_plans())
    assert without > 0 and 0 < without - mine["hourly_commitment"] < 2 * owned


def test_recommendations_page_through_the_layer_and_compare(sandbox: Any) -> None:
    ce = sandbox.client("ce")
    recs = explorer.ri_recommendations(ce, "ec2", lookback_days=7, term="1y", payment="all")
    assert recs, "the scenario runs steady EC2 usage beyond its reservations"
    assert all(
        r["kind"] == "ec2os" and r["count"] > 0 and r["region"] in sandbox.scenario.regions for r in recs
    )
    # PageSize 1 makes the layer page: the client must follow NextPageToken to get them all
    paged = list(
        explorer.pages(
            ce.get_reservation_purchase_recommendation,
            Service=explorer.CE_SERVICE["ec2"],
            LookbackPeriodInDays="SEVEN_DAYS",
            TermInYears="ONE_YEAR",
            PaymentOption="ALL_UPFRONT",
            PageSize=1,
        )
    )
    assert len(paged) == len(recs) > 1
    # a member account sees only its own usage
    member = next(a.id for a in sandbox.scenario.accounts if not a.management)
    own = explorer.ri_recommendations(sandbox.client("ce", account=member), "ec2", lookback_days=7)
    assert all(r["account"] == member for r in own) and sum(r["count"] for r in own) < sum(
        r["count"] for r in recs
    )
    sp = explorer.savings_plans_recommendation(ce, lookback_days=7)
    assert all(r["hourly_commitment"] >= 0 for r in sp)
    items = explorer.recommendation_items(recs, "sandbox-org", sandbox.clock.date())
    assert {i.kind for i in items} == {"ce-rec-7"}


def test_ri_ce_fetch_stores_daily_items_from_the_sandbox(
    sandbox: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from click.testing import CliRunner

    from awscost.entrypoints.cli import cli
    from awscost.store import open_store

    for k, v in sandbox.env().items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("AWSCOST_ORG_NAME", "sandbox-org")
    url = f"sqlite:///{tmp_path / 'ce.db'}"
    day = (sandbox.clock + timedelta(days=1)).date().isoformat()
    res = CliRunner().invoke(cli, ["ri", "ce-fetch", "--store", url, "--days", "2", "--day", day])
    assert res.exit_code == 0, res.output
    store = open_store(url)
    kinds = {i.kind for i in store.query()}
    store.close()
    assert kinds == {"ce-cov", "ce-util", "ce-rec-7", "ce-rec-60"}
    out = CliRunner().invoke(
        cli, ["ri", "compare", "--store", url, "--until", sandbox.clock.isoformat(), "--format", "json"]
    )
    rows = json.loads(out.stdout)
    # no usage history in this store: every AWS recommendation is listed, with that reason
    assert rows and all(r["ours"] is None and "no usage" in r["why"] for r in rows)
