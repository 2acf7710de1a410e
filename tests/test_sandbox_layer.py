"""The reservation layer answers what moto lacks, from the scenario, through real boto3 clients over HTTP."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import botocore.exceptions
import pytest

from awscost.core import vocabulary
from awscost_sandbox import layer
from awscost_sandbox.scenario import SandboxReservation, Scenario, default_scenario
from awscost_sandbox.server import SandboxServer

PROD = "222233334444"


class ManyReservations(Scenario):
    """The default scenario plus 45 extra RDS reservations in one place, to page through."""

    def reservations(self) -> list[SandboxReservation]:
        base = super().reservations()
        template = next(r for r in base if r.kind == "ri-rds")
        extra = [
            dataclasses.replace(template, id=f"paging-{i:03d}", account=PROD, region="eu-west-1")
            for i in range(45)
        ]
        return base + extra


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(ManyReservations()) as srv:
        yield srv


def _expected(
    sc: Scenario, kind: str, account: str, region: str, clock: Any
) -> dict[str, tuple[str, int, str]]:
    return {
        r.id: (r.type, r.count, "active" if r.active_at(clock) else "retired")
        for r in sc.reservations()
        if (r.kind, r.account, r.region) == (kind, account, region) and r.start <= clock
    }


def _places(sc: Scenario, kind: str) -> list[tuple[str, str]]:
    return sorted({(r.account, r.region) for r in sc.reservations() if r.kind == kind})


def test_ec2_reserved_instances_per_account(server: SandboxServer) -> None:
    sc = server.scenario
    for account, region in _places(sc, "ri-ec2"):
        got = server.client("ec2", region, account).describe_reserved_instances()["ReservedInstances"]
        assert {
            r["ReservedInstancesId"]: (r["InstanceType"], r["InstanceCount"], r["State"]) for r in got
        } == _expected(sc, "ri-ec2", account, region, server.clock)
        for r in got:
            assert r["End"] - r["Start"] == timedelta(seconds=r["Duration"])
            assert vocabulary.from_platform_details(r["ProductDescription"]) is not None  # a name AWS uses
    # The expired reservation is listed as retired, and the state filter leaves it out.
    expired = next(r for r in sc.reservations() if r.end <= sc.start)
    ec2 = server.client("ec2", expired.region, expired.account)
    states = {
        r["ReservedInstancesId"]: r["State"] for r in ec2.describe_reserved_instances()["ReservedInstances"]
    }
    assert states[expired.id] == "retired"
    active = ec2.describe_reserved_instances(Filters=[{"Name": "state", "Values": ["active"]}])
    assert expired.id not in {r["ReservedInstancesId"] for r in active["ReservedInstances"]}


def test_other_accounts_see_none_of_them(server: SandboxServer) -> None:
    # The caller's own keys are moto's default account, which holds no reservation.
    ec2 = server.client("ec2", "us-east-1")
    assert ec2.describe_reserved_instances()["ReservedInstances"] == []
    staging = "333344445555"
    got = server.client("rds", "eu-west-1", staging).describe_reserved_db_instances()["ReservedDBInstances"]
    assert got == []


def test_rds_elasticache_redshift_reservations(server: SandboxServer) -> None:
    sc = server.scenario
    for kind, service, op, key, id_key, type_key, count_key in (
        (
            "ri-rds",
            "rds",
            "describe_reserved_db_instances",
            "ReservedDBInstances",
            "ReservedDBInstanceId",
            "DBInstanceClass",
            "DBInstanceCount",
        ),
        (
            "ri-elasticache",
            "elasticache",
            "describe_reserved_cache_nodes",
            "ReservedCacheNodes",
            "ReservedCacheNodeId",
            "CacheNodeType",
            "CacheNodeCount",
        ),
        (
            "ri-redshift",
            "redshift",
            "describe_reserved_nodes",
            "ReservedNodes",
            "ReservedNodeId",
            "NodeType",
            "NodeCount",
        ),
    ):
        places = _places(sc, kind)
        assert places
        for account, region in places:
            client = server.client(service, region, account)
            got = [r for page in client.get_paginator(op).paginate() for r in page[key]]
            assert {r[id_key]: (r[type_key], r[count_key], r["State"]) for r in got} == _expected(
                sc, kind, account, region, server.clock
            )


def test_rds_reservations_page_with_marker(server: SandboxServer) -> None:
    rds = server.client("rds", "eu-west-1", PROD)
    first = rds.describe_reserved_db_instances(MaxRecords=20)
    assert len(first["ReservedDBInstances"]) == 20 and first["Marker"]
    pages = list(
        rds.get_paginator("describe_reserved_db_instances").paginate(PaginationConfig={"PageSize": 20})
    )
    ids = [r["ReservedDBInstanceId"] for p in pages for r in p["ReservedDBInstances"]]
    assert len(pages) == 3 and len(ids) == len(set(ids)) == len(
        _expected(server.scenario, "ri-rds", PROD, "eu-west-1", server.clock)
    )
    with pytest.raises(botocore.exceptions.ClientError) as err:
        rds.describe_reserved_db_instances(MaxRecords=5)
    assert err.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_opensearch_and_es_reservations(server: SandboxServer) -> None:
    sc = server.scenario
    places = _places(sc, "ri-es")
    assert places
    for account, region in places:
        want = _expected(sc, "ri-es", account, region, server.clock)
        got = server.client("opensearch", region, account).describe_reserved_instances()["ReservedInstances"]
        assert {
            r["ReservedInstanceId"]: (r["InstanceType"], r["InstanceCount"], r["State"].lower()) for r in got
        } == want
        legacy = server.client("es", region, account).describe_reserved_elasticsearch_instances()
        items = legacy["ReservedElasticsearchInstances"]
        assert {r["ReservedElasticsearchInstanceId"]: r["ElasticsearchInstanceCount"] for r in items} == {
            k: v[1] for k, v in want.items()
        }
        assert all(r["ElasticsearchInstanceType"].endswith(".elasticsearch") for r in items)
    account, region = places[0]
    page = server.client("opensearch", region, account).describe_reserved_instances(MaxResults=1)
    assert len(page["ReservedInstances"]) == 1


def test_states_follow_the_simulated_clock(server: SandboxServer) -> None:
    sc = server.scenario
    soon = min((r for r in sc.active_reservations(sc.start) if r.kind == "ri-ec2"), key=lambda r: r.end)
    ec2 = server.client("ec2", soon.region, soon.account)

    def state() -> str:
        got = ec2.describe_reserved_instances(ReservedInstancesIds=[soon.id])["ReservedInstances"]
        return str(got[0]["State"])

    assert state() == "active"
    server.clock = soon.end
    try:
        assert state() == "retired"
    finally:
        server.clock = sc.start


def test_moto_still_answers_everything_else(server: SandboxServer) -> None:
    ddb = server.client("dynamodb", "us-west-2", PROD)
    assert ddb.list_tables()["TableNames"] == []
    assert server.client("sts", account=PROD).get_caller_identity()["Account"] == PROD


def test_register_adds_a_json_protocol_operation(server: SandboxServer) -> None:
    seen: list[tuple[str, str, dict[str, Any]]] = []

    def coverage(params: dict[str, Any], account: str, region: str) -> dict[str, Any]:
        seen.append((account, region, params))
        ctx = layer.current()
        return {
            "CoveragesByTime": [],
            "Total": {"CoverageHours": {"CoverageHoursPercentage": str(len(ctx.scenario.accounts))}},
        }

    previous = layer.HANDLERS.get(("ce", "GetReservationCoverage"))  # sandbox/ce.py's, loaded at start
    layer.register("ce", "GetReservationCoverage", coverage)
    try:
        ce = server.client("ce", "us-east-1", PROD)
        resp = ce.get_reservation_coverage(TimePeriod={"Start": "2026-11-01", "End": "2026-11-02"})
        assert resp["Total"]["CoverageHours"]["CoverageHoursPercentage"] == "4"
        assert seen[0][:2] == (PROD, "us-east-1")
        assert seen[0][2]["TimePeriod"] == {"Start": "2026-11-01", "End": "2026-11-02"}
    finally:
        layer.unregister("ce", "GetReservationCoverage")
        if previous is not None:
            layer.register("ce", "GetReservationCoverage", previous)
    from botocore.model import OperationNotFoundError

    with pytest.raises(OperationNotFoundError):
        layer.register("ce", "NoSuchOperation", coverage)


def test_default_scenario_server_env(server: SandboxServer) -> None:
    env = server.env()
    assert env["AWS_ENDPOINT_URL"] == server.endpoint and env["AWS_ACCESS_KEY_ID"]
    assert isinstance(default_scenario(), Scenario)


def test_a_handler_bug_is_an_aws_shaped_500(server: SandboxServer) -> None:
    def broken(params: dict[str, Any], account: str, region: str) -> dict[str, Any]:
        raise KeyError("oops")

    previous = layer.HANDLERS.get(("redshift", "DescribeReservedNodeOfferings"))
    layer.register("redshift", "DescribeReservedNodeOfferings", broken)
    try:
        client = server.client("redshift", "us-east-1", PROD)
        with pytest.raises(botocore.exceptions.ClientError) as err:
            client.describe_reserved_node_offerings()
        assert err.value.response["Error"]["Code"] == "InternalFailure"
        assert "KeyError" in err.value.response["Error"]["Message"]
    finally:
        layer.unregister("redshift", "DescribeReservedNodeOfferings")
        if previous is not None:
            layer.register("redshift", "DescribeReservedNodeOfferings", previous)


def test_savings_plans_of_the_owner_with_state_filter_and_paging(server: SandboxServer) -> None:
    sc = server.scenario
    owned = sc.savings_plans()
    assert owned
    for account in sc.account_ids:
        client = server.client("savingsplans", "us-east-1", account)
        got = client.describe_savings_plans(states=["active"])["savingsPlans"]
        mine = [p for p in owned if p.account == account and p.active_at(server.clock)]
        assert [(g["savingsPlanId"], g["commitment"], g["savingsPlanType"]) for g in got] == [
            (p.id, str(p.commitment), p.type) for p in mine
        ]
    plan = owned[0]
    client = server.client("savingsplans", "eu-west-1", plan.account)  # a global API: any signing region
    [answer] = client.describe_savings_plans(savingsPlanIds=[plan.id])["savingsPlans"]
    assert answer["savingsPlanArn"] == plan.arn and answer["termDurationInSeconds"] == plan.term_seconds
    assert answer["start"] < answer["end"] and answer["state"] == "active"
    assert client.describe_savings_plans(states=["retired"])["savingsPlans"] == []
    typed = client.describe_savings_plans(filters=[{"name": "savings-plan-type", "values": ["EC2Instance"]}])
    assert typed["savingsPlans"] == []
    # the page size is checked as AWS checks it
    with pytest.raises(botocore.exceptions.ClientError) as err:
        client.describe_savings_plans(maxResults=5000)
    assert err.value.response["Error"]["Code"] in ("ValidationException", "InvalidParameterValue")
