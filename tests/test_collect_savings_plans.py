"""Savings Plans owned (kind `sp`). moto has no Savings Plans backend, so the collector runs against botocore's
Stubber, which checks our request and the answers against the real service model; the runner collects the
kind once per account (region "global") against the sandbox layer, which answers over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from awscost.aws.accounts import Account
from awscost.core.config import Settings
from awscost.store import open_store
from awscost.store.base import listed
from awscost.usage.collectors.base import CollectContext
from awscost.usage.kinds import COLLECTORS, GLOBAL_KINDS, GLOBAL_REGION, resolve_kinds
from awscost.usage.runner import run_collection

HOUR = datetime(2026, 11, 26, 10, tzinfo=UTC)


class Fixed:
    def __init__(self, client: Any) -> None:
        self.client = client
        self.asked: list[tuple[str, str | None]] = []

    def get(self, service: str, region: str | None = None) -> Any:
        self.asked.append((service, region))
        return self.client


def plan(pid: str, kind: str, commitment: str, state: str = "active", **kw: Any) -> dict[str, Any]:
    return {
        "savingsPlanId": pid,
        "savingsPlanArn": f"arn:aws:savingsplans::111111111111:savingsplan/{pid}",
        "savingsPlanType": kind,
        "state": state,
        "start": "2026-01-15T08:30:00.000Z",
        "end": "2027-01-15T08:30:00.000Z",
        "paymentOption": kw.get("payment", "No Upfront"),
        "termDurationInSeconds": kw.get("term", 31536000),
        "currency": "USD",
        "commitment": commitment,
        "upfrontPaymentAmount": kw.get("upfront", "0"),
        "recurringPaymentAmount": commitment,
        "productTypes": ["EC2"],
        **({"region": kw["region"], "ec2InstanceFamily": kw["family"]} if "family" in kw else {}),
    }


def test_sp_is_global_daily_and_collected_once_per_account() -> None:
    assert {"sp"} == GLOBAL_KINDS and "sp" in resolve_kinds("daily") and "sp" not in resolve_kinds("hourly")


def test_active_plans_by_what_they_apply_to_in_micro_usd() -> None:
    client = boto3.client(
        "savingsplans", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    clients = Fixed(client)
    with Stubber(client) as stub:
        stub.add_response(
            "describe_savings_plans",
            {
                "savingsPlans": [
                    plan("sp-1", "Compute", "1.5"),
                    plan("sp-2", "Compute", "0.125"),
                    plan("sp-3", "EC2Instance", "0.40", payment="All Upfront", term=94608000, upfront="10512",
                         region="eu-west-1", family="m5"),
                ],
                "nextToken": "page-2",
            },
            {"states": ["active"], "maxResults": 1000},
        )  # fmt: skip
        stub.add_response(
            "describe_savings_plans",
            # a plan that turned retired between the pages is not counted
            {"savingsPlans": [plan("sp-4", "Compute", "9", state="retired")]},
            {"states": ["active"], "maxResults": 1000, "nextToken": "page-2"},
        )
        ctx = CollectContext(Account("111111111111", "a"), GLOBAL_REGION, HOUR, clients)
        obs = COLLECTORS.get("sp")(ctx)
        stub.assert_no_pending_responses()
    # the API's one endpoint, whatever region the unit is in
    assert clients.asked == [("savingsplans", "us-east-1")]
    assert obs.usage == {"compute/1y/no": 1_625_000, "ec2instance/3y/all/eu-west-1/m5": 400_000}
    details = {d["id"]: d for d in obs.attrs["savings_plans"]}
    assert set(details) == {"sp-1", "sp-2", "sp-3"}
    assert details["sp-3"] == {
        "id": "sp-3",
        "arn": "arn:aws:savingsplans::111111111111:savingsplan/sp-3",
        "key": "ec2instance/3y/all/eu-west-1/m5",
        "type": "EC2Instance",
        "commitment": "0.40",
        "currency": "USD",
        "term": "3y",
        "payment": "All Upfront",
        "start": "2026-01-15T08:30:00Z",
        "end": "2027-01-15T08:30:00Z",
        "region": "eu-west-1",
        "family": "m5",
        "upfront": "10512",
        "recurring": "0.40",
    }
    assert details["sp-1"]["commitment"] == "1.5" and details["sp-1"]["region"] is None


def test_a_commitment_that_is_not_a_number_names_the_plan() -> None:
    client = boto3.client(
        "savingsplans", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    with Stubber(client) as stub:
        stub.add_response("describe_savings_plans", {"savingsPlans": [plan("sp-x", "Compute", "lots")]})
        ctx = CollectContext(Account("111111111111", "a"), GLOBAL_REGION, HOUR, Fixed(client))
        with pytest.raises(ValueError, match="sp-x: commitment 'lots'"):
            COLLECTORS.get("sp")(ctx)


def test_runner_collects_sp_once_per_account_with_an_org_total(tmp_path: Any) -> None:
    from awscost_sandbox.demo import sandbox_environment
    from awscost_sandbox.scenario import default_scenario
    from awscost_sandbox.seed import ROLE_NAME, seed_organization
    from awscost_sandbox.server import SandboxServer

    scenario = default_scenario()
    store = open_store(f"sqlite:///{tmp_path / 'sp.db'}")
    with SandboxServer(scenario) as server, sandbox_environment(server):
        seed_organization(server)
        summary = run_collection(
            Settings(org_name=scenario.org_name),
            kinds="sp,ri-ec2",
            accounts=scenario.account_ids,
            regions=["us-east-1", "eu-west-1"],
            at=HOUR,
            store=store,
            role_name=ROLE_NAME,
        )
    assert summary.ok, summary.failures
    # ri-ec2 per account x region; sp once per account
    assert summary.units_total == len(scenario.account_ids) * (2 + 1)
    items = {i.aws_resource: i for i in store.query(kind="sp")}
    store.close()
    assert set(items) == {f"sp:{a}:global" for a in [*scenario.account_ids, scenario.org_name]}
    owned = scenario.savings_plans()
    assert owned and all(p.type == "Compute" for p in owned)
    expected = int(sum(p.commitment for p in owned) * 1_000_000)
    total = items[f"sp:{scenario.org_name}:global"]
    assert dict(total.usage) == {"compute/1y/no": expected}
    # The org total holds per-key totals; its plans are read from the accounts' items.
    assert "savings_plans" not in total.attrs
    with open_store(f"sqlite:///{tmp_path / 'sp.db'}") as again:
        assert [(d["id"], d["account"]) for d in listed(again, total, "savings_plans")] == [
            (p.id, p.account) for p in owned
        ]
    assert dict(items[f"sp:{scenario.management.id}:global"].usage) == {"compute/1y/no": expected}
    assert all(not items[f"sp:{a}:global"].usage for a in scenario.account_ids if a != scenario.management.id)
