"""Reservation collectors. moto has no reservation inventories, so these run against botocore's Stubber,
which validates our parameters and the responses against the real service models. Responses are
shaped like the AWS documentation examples."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from awscost.aws.accounts import Account
from awscost.core.vocabulary import engine_from_reserved
from awscost.usage.collectors.base import CollectContext
from awscost.usage.kinds import COLLECTORS

HOUR = datetime(2026, 11, 26, 10, tzinfo=UTC)
START = datetime(2026, 1, 15, 8, 30, tzinfo=UTC)
ONE_YEAR = 31536000


class Fixed:
    def __init__(self, client: Any) -> None:
        self.client = client

    def get(self, service: str, region: str | None = None) -> Any:
        return self.client


def stubbed(service: str) -> tuple[Any, Stubber]:
    client = boto3.client(service, region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    return client, Stubber(client)


def collect(kind: str, client: Any) -> Any:
    ctx = CollectContext(Account("111111111111", "a"), "us-east-1", HOUR, Fixed(client), page_size=None)
    return COLLECTORS.get(kind)(ctx)


def ec2_ri(
    rid: str, itype: str, product: str, count: int, state: str = "active", **kw: Any
) -> dict[str, Any]:
    return {
        "ReservedInstancesId": rid,
        "InstanceType": itype,
        "ProductDescription": product,
        "InstanceCount": count,
        "State": state,
        "Start": START,
        "End": datetime(2027, 1, 15, 8, 30, tzinfo=UTC),
        "Duration": ONE_YEAR,
        "OfferingType": "All Upfront",
        "OfferingClass": "standard",
        "InstanceTenancy": "default",
        "Scope": kw.get("Scope", "Region"),
        **({"AvailabilityZone": kw["AvailabilityZone"]} if "AvailabilityZone" in kw else {}),
    }


def test_ri_ec2_keys_in_the_ec2os_vocabulary_with_scope_and_dates() -> None:
    client, stub = stubbed("ec2")
    stub.add_response(
        "describe_reserved_instances",
        {
            "ReservedInstances": [
                ec2_ri("ri-1", "t2.small", "Linux/UNIX", 2),
                ec2_ri(
                    "ri-2",
                    "t2.small",
                    "Linux/UNIX (Amazon VPC)",
                    1,
                    Scope="Availability Zone",
                    AvailabilityZone="us-east-1a",
                ),
                ec2_ri("ri-3", "m5.xlarge", "Windows with SQL Server Standard", 3),
                ec2_ri("ri-4", "m5.large", "SUSE Linux", 1),
                ec2_ri("ri-5", "m5.large", "Red Hat Enterprise Linux", 4),
                ec2_ri("ri-6", "c5.large", "Windows (Amazon VPC)", 5),
            ]
        },
        {"Filters": [{"Name": "state", "Values": ["active"]}]},
    )
    with stub:
        obs = collect("ri-ec2", client)
    assert obs.usage == {
        "linux-t2.small": 3,
        "windows-sql-std-m5.xlarge": 3,
        "suse-m5.large": 1,
        "rhel-m5.large": 4,
        "windows-c5.large": 5,
    }
    by_id = {r["id"]: r for r in obs.attrs["reservations"]}
    assert by_id["ri-2"] == {
        "id": "ri-2",
        "key": "linux-t2.small",
        "count": 1,
        "scope": "Availability Zone",
        "az": "us-east-1a",
        "start": "2026-01-15T08:30:00Z",
        "end": "2027-01-15T08:30:00Z",
        "offering_type": "All Upfront",
        "offering_class": "standard",
        "product": "Linux/UNIX (Amazon VPC)",
        "tenancy": "default",
    }
    assert by_id["ri-1"]["scope"] == "Region" and by_id["ri-1"]["az"] is None


def test_ri_ec2_ignores_anything_not_active_even_if_returned() -> None:
    client, stub = stubbed("ec2")
    stub.add_response(
        "describe_reserved_instances",
        {"ReservedInstances": [ec2_ri("ri-1", "t2.small", "Linux/UNIX", 2, state="retired")]},
        {"Filters": [{"Name": "state", "Values": ["active"]}]},
    )
    with stub:
        obs = collect("ri-ec2", client)
    assert obs.usage == {} and obs.attrs["reservations"] == []


def rds_ri(
    rid: str, cls: str, product: str, count: int, multi_az: bool, state: str = "active"
) -> dict[str, Any]:
    return {
        "ReservedDBInstanceId": rid,
        "ReservedDBInstancesOfferingId": "off-" + rid,
        "DBInstanceClass": cls,
        "StartTime": START,
        "Duration": ONE_YEAR,
        "FixedPrice": 1000.0,
        "UsagePrice": 0.0,
        "CurrencyCode": "USD",
        "DBInstanceCount": count,
        "ProductDescription": product,
        "OfferingType": "Partial Upfront",
        "MultiAZ": multi_az,
        "State": state,
        "RecurringCharges": [{"RecurringChargeAmount": 0.1, "RecurringChargeFrequency": "Hourly"}],
    }


def test_ri_rds_paginated_multi_az_as_prefix_engine_matches_instance_engine() -> None:
    client, stub = stubbed("rds")
    stub.add_response(
        "describe_reserved_db_instances",
        {
            "ReservedDBInstances": [
                rds_ri("r1", "db.r4.large", "aurora-mysql", 2, False),
                rds_ri("r2", "db.m5.large", "mysql", 1, True),
            ],
            "Marker": "page2",
        },
        {},
    )
    stub.add_response(
        "describe_reserved_db_instances",
        {
            "ReservedDBInstances": [
                rds_ri("r3", "db.m5.large", "postgresql", 3, False),
                rds_ri("r4", "db.m5.large", "oracle-se2(li)", 1, True),
                rds_ri("r5", "db.m5.large", "mysql", 9, False, state="retired"),
            ]
        },
        {"Marker": "page2"},
    )
    with stub:
        obs = collect("ri-rds", client)
        stub.assert_no_pending_responses()
    assert obs.usage == {
        "db.r4.large:aurora-mysql": 2,
        "multi_az-db.m5.large:mysql": 1,
        "db.m5.large:postgres": 3,
        "multi_az-db.m5.large:oracle-se2": 1,
    }
    r1 = next(r for r in obs.attrs["reservations"] if r["id"] == "r1")
    assert r1["start"] == "2026-01-15T08:30:00Z" and r1["end"] == "2027-01-15T08:30:00Z"


@pytest.mark.parametrize(
    ("product", "engine"),
    [
        ("postgresql", "postgres"),
        ("aurora-postgresql", "aurora-postgresql"),
        ("sqlserver-se(li)", "sqlserver-se"),
        ("oracle-ee(byol)", "oracle-ee"),
        ("mariadb", "mariadb"),
        ("aurora", "aurora-mysql"),  # the first Aurora (MySQL 5.6) reservations
    ],
)
def test_rds_engine_names_match_describe_db_instances(product: str, engine: str) -> None:
    assert engine_from_reserved(product) == engine


def test_ri_elasticache_paginated() -> None:
    client, stub = stubbed("elasticache")

    def node(rid: str, ntype: str, count: int, state: str = "active") -> dict[str, Any]:
        return {
            "ReservedCacheNodeId": rid,
            "ReservedCacheNodesOfferingId": "o",
            "CacheNodeType": ntype,
            "StartTime": START,
            "Duration": ONE_YEAR,
            "FixedPrice": 0.0,
            "UsagePrice": 0.0,
            "CacheNodeCount": count,
            "ProductDescription": "redis",
            "OfferingType": "No Upfront",
            "State": state,
        }

    stub.add_response(
        "describe_reserved_cache_nodes",
        {"ReservedCacheNodes": [node("c1", "cache.r4.large", 2)], "Marker": "m"},
        {},
    )
    stub.add_response(
        "describe_reserved_cache_nodes",
        {
            "ReservedCacheNodes": [
                node("c2", "cache.r4.large", 1),
                node("c3", "cache.m5.large", 4),
                node("c4", "cache.m5.large", 4, state="payment-pending"),
            ]
        },
        {"Marker": "m"},
    )
    with stub:
        obs = collect("ri-elasticache", client)
    assert obs.usage == {"cache.r4.large": 3, "cache.m5.large": 4}


def test_ri_es_follows_next_token() -> None:
    client, stub = stubbed("opensearch")

    def res(rid: str, itype: str, count: int, state: str = "active") -> dict[str, Any]:
        return {
            "ReservationName": "n-" + rid,
            "ReservedInstanceId": rid,
            "ReservedInstanceOfferingId": "o",
            "InstanceType": itype,
            "StartTime": START,
            "Duration": ONE_YEAR,
            "FixedPrice": 0.0,
            "UsagePrice": 0.0,
            "CurrencyCode": "USD",
            "InstanceCount": count,
            "State": state,
            "PaymentOption": "NO_UPFRONT",
        }

    stub.add_response(
        "describe_reserved_instances",
        {
            "ReservedInstances": [res("e1000000-0000-0000-0000-000000000000", "r6g.large.search", 3)],
            "NextToken": "t",
        },
        {"MaxResults": ANY},
    )
    stub.add_response(
        "describe_reserved_instances",
        {
            "ReservedInstances": [
                res("e2000000-0000-0000-0000-000000000000", "m4.large.elasticsearch", 2),
                res("e3000000-0000-0000-0000-000000000000", "m4.large.elasticsearch", 5, "retired"),
            ]
        },
        {"MaxResults": ANY, "NextToken": "t"},
    )
    with stub:
        obs = collect("ri-es", client)
    assert obs.usage == {"r6g.large.search": 3, "m4.large.elasticsearch": 2}


def test_ri_redshift_paginated() -> None:
    client, stub = stubbed("redshift")

    def node(rid: str, ntype: str, count: int, state: str = "active") -> dict[str, Any]:
        return {
            "ReservedNodeId": rid,
            "ReservedNodeOfferingId": "o",
            "NodeType": ntype,
            "StartTime": START,
            "Duration": ONE_YEAR,
            "FixedPrice": 0.0,
            "UsagePrice": 0.0,
            "CurrencyCode": "USD",
            "NodeCount": count,
            "State": state,
            "OfferingType": "All Upfront",
        }

    stub.add_response(
        "describe_reserved_nodes", {"ReservedNodes": [node("n1", "dc2.8xlarge", 4)], "Marker": "m"}, {}
    )
    stub.add_response(
        "describe_reserved_nodes",
        {"ReservedNodes": [node("n2", "dc2.large", 2), node("n3", "dc2.large", 7, "retired")]},
        {"Marker": "m"},
    )
    with stub:
        obs = collect("ri-redshift", client)
    assert obs.usage == {"dc2.8xlarge": 4, "dc2.large": 2}
