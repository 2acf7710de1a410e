"""Prices: the dated snapshot, the Price List API (Stubber, real Price List shape), the store cache."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from awscost.planning import pricing
from awscost.planning.pricing.api import (
    API_SOURCE,
    fetch_prices,
    load_price_book,
    parse_price_item,
    write_cache,
)
from awscost.planning.pricing.book import snapshot_book, snapshot_date
from awscost.store import open_store
from conftest import refdata


def offer_file_items(path: Path) -> list[str]:
    """An offer file (products + terms maps) as GetProducts' PriceList entries (one JSON string each)."""
    offer = json.loads(path.read_text())
    items = []
    for sku, product in offer["products"].items():
        terms = {
            kind: {k: v for k, v in by_sku.get(sku, {}).items()} for kind, by_sku in offer["terms"].items()
        }
        items.append(
            json.dumps(
                {
                    "product": product,
                    "serviceCode": offer["offerCode"],
                    "terms": {k: v for k, v in terms.items() if v},
                    "version": offer["version"],
                    "publicationDate": offer["publicationDate"],
                }
            )
        )
    return items


def reserved_term(sku: str, code: str, length: str, option: str, upfront: str, hourly: str) -> dict[str, Any]:
    """A Reserved term in the Price List shape (as in the AmazonEC2 offer file)."""
    dims = {
        f"{sku}.{code}.2TG2D8R56U": {
            "unit": "Quantity",
            "description": "Upfront Fee",
            "pricePerUnit": {"USD": upfront},
            "rateCode": f"{sku}.{code}.2TG2D8R56U",
            "appliesTo": [],
        },
        f"{sku}.{code}.6YS6EN2CT7": {
            "unit": "Hrs",
            "endRange": "Inf",
            "description": "Linux/UNIX (Amazon VPC), m5.large reserved instance applied",
            "pricePerUnit": {"USD": hourly},
            "rateCode": f"{sku}.{code}.6YS6EN2CT7",
            "beginRange": "0",
            "appliesTo": [],
        },
    }
    return {
        f"{sku}.{code}": {
            "priceDimensions": dims,
            "sku": sku,
            "effectiveDate": "2024-05-01T00:00:00Z",
            "offerTermCode": code,
            "termAttributes": {
                "LeaseContractLength": length,
                "OfferingClass": "standard",
                "PurchaseOption": option,
            },
        }
    }


def m5_large_item() -> str:
    sku = "3DG6WFZ5QW4JAAHJ"
    attrs = {
        "servicecode": "AmazonEC2",
        "regionCode": "us-east-1",
        "instanceType": "m5.large",
        "tenancy": "Shared",
        "operatingSystem": "Linux",
        "preInstalledSw": "NA",
        "licenseModel": "No License required",
        "capacitystatus": "Used",
        "marketoption": "OnDemand",
        "usagetype": "BoxUsage:m5.large",
        "operation": "RunInstances",
    }
    reserved: dict[str, Any] = {}
    reserved.update(reserved_term(sku, "4NA7Y494T4", "1yr", "No Upfront", "0", "0.0600000000"))
    reserved.update(reserved_term(sku, "HU7G6KETJZ", "1yr", "Partial Upfront", "257", "0.0290000000"))
    reserved.update(reserved_term(sku, "6QCMYABX3D", "1yr", "All Upfront", "503", "0.0000000000"))
    on_demand = {
        f"{sku}.JRTCKXETXF": {
            "priceDimensions": {
                f"{sku}.JRTCKXETXF.6YS6EN2CT7": {
                    "unit": "Hrs",
                    "description": "$0.096 per On Demand Linux m5.large Instance Hour",
                    "pricePerUnit": {"USD": "0.0960000000"},
                    "beginRange": "0",
                    "endRange": "Inf",
                    "appliesTo": [],
                    "rateCode": f"{sku}.JRTCKXETXF.6YS6EN2CT7",
                }
            },
            "sku": sku,
            "effectiveDate": "2024-05-01T00:00:00Z",
            "offerTermCode": "JRTCKXETXF",
            "termAttributes": {},
        }
    }
    return json.dumps(
        {
            "product": {"productFamily": "Compute Instance", "attributes": attrs, "sku": sku},
            "serviceCode": "AmazonEC2",
            "terms": {"OnDemand": on_demand, "Reserved": reserved},
            "version": "20261120000000",
            "publicationDate": "2026-11-20T00:00:00Z",
        }
    )


def pricing_client() -> Any:
    return boto3.client(
        "pricing",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        endpoint_url=None,
    )


def test_snapshot_is_dated_and_prices_every_sandbox_type() -> None:
    from awscost_sandbox.scenario import default_scenario

    book = snapshot_book()
    # dated by its newest price: m5.large us-east-1's on-demand rate, from Karpenter's table of 2026-07-20
    m5 = book.lookup("ec2", "m5.large", "us-east-1")
    assert (
        m5 is not None and m5.origin["on_demand"] == f"karpenter {snapshot_date()}" == "karpenter 2026-07-20"
    )
    assert (
        m5 is not None
        and m5.on_demand == Decimal("0.096")
        and m5.source_label == f"snapshot {snapshot_date()}"
    )
    for term in ("1y", "3y"):
        for pay in ("no", "partial", "all"):
            rate = m5.reserved_rate(term, pay)
            assert rate is not None and 0 < rate.effective_hourly < m5.on_demand
    assert m5.reserved_rate("3y", "all").effective_hourly < m5.reserved_rate("1y", "all").effective_hourly  # type: ignore[union-attr]
    unpriced = set()
    for g in default_scenario()._groups:
        if g.kind == "dynamodb":
            continue
        variant = g.os or "linux" if g.kind == "ec2" else g.engine or ""
        price = book.lookup(g.kind, g.type, g.region, variant)
        if price is None or price.on_demand is None or price.reserved_rate("1y", "no") is None:
            unpriced.add((g.kind, g.type, g.os))
    # Every type x OS the sandbox runs has a snapshot price (Graviton groups run Linux only).
    assert unpriced == set()


def test_windows_license_is_flat_per_type_and_not_discounted_by_reservations() -> None:
    book = snapshot_book()

    def uplift(itype: str, os_name: str = "windows") -> Decimal:
        linux, other = book.lookup("ec2", itype, "us-east-1"), book.lookup("ec2", itype, "us-east-1", os_name)
        assert linux and other and linux.on_demand and other.on_demand
        lic = other.on_demand - linux.on_demand
        # the licence is paid in full under a reservation: the reserved rate carries it undiscounted
        for k in ("1y/no", "3y/no", "1y/all"):
            assert other.reserved[k].effective_hourly - linux.reserved[k].effective_hourly == pytest.approx(
                lic, abs=Decimal("0.000002")
            )
        return lic

    assert uplift("m5.large") == Decimal("0.092")  # 2 vCPU x $0.046
    # burstable types carry a much smaller licence (the old snapshot added a flat +0.092: t2.micro 0.1036)
    assert uplift("t2.micro") == Decimal("0.0046") and uplift("t3.micro") == Decimal("0.0092")
    # SQL Server Standard is licensed per vCPU with a minimum of 4: +$0.48/h on a 2-vCPU type
    assert uplift("m5.large", "windows-sql-std") - uplift("m5.large") == Decimal("0.48")


def test_module_helpers_for_other_areas() -> None:
    assert pricing.on_demand_hourly("ec2", "c5.large", "us-west-2") == Decimal("0.085")
    assert pricing.on_demand_hourly("AmazonRDS", "db.m5.large", "us-east-1", os="postgres") == Decimal(
        "0.178"
    )
    assert pricing.on_demand_hourly("ec2", "x9.huge", "us-east-1") is None
    rates = pricing.fargate_rates("us-east-1")
    assert rates is not None and rates[:2] == (Decimal("0.04048"), Decimal("0.004445"))
    assert rates[2] == f"snapshot {snapshot_date()}"  # the AmazonECS offer file's
    eu = pricing.fargate_rates("eu-west-1")
    assert eu is not None and eu[2] == f"snapshot {snapshot_date()}, derived"  # us-east-1's x the EC2 ratio


def test_parses_the_real_ec2_offer_excerpt() -> None:
    items = offer_file_items(refdata("opencost/ec2-pricing-us-east-1-excerpt.json"))
    parsed = [parse_price_item(i) for i in items]
    priced = [p for p in parsed if p is not None]
    # the Capacity Block SKU (marketoption CapacityBlock, $0) is not an on-demand price
    assert len(priced) == 1
    p = priced[0]
    assert (p.service, p.region, p.type, p.variant, p.tenancy) == (
        "ec2",
        "us-east-1",
        "p4d.24xlarge",
        "linux",
        "shared",
    )
    assert p.on_demand == Decimal("32.7726000000")
    assert p.source_label == f"{API_SOURCE} 2024-05-28"


def test_parses_the_real_ecs_offer_for_fargate_rates() -> None:
    from awscost.planning.pricing.api import merge_prices

    items = offer_file_items(refdata("opencost/ecs-pricing-us-east-1.json"))
    prices = merge_prices(p for p in (parse_price_item(i) for i in items) if p is not None)
    by_arch = {p.type: p.extra for p in prices}
    assert by_arch["x86_64"] == {"vcpu_hour": Decimal("0.0404800000"), "gb_hour": Decimal("0.0044450000")}
    assert by_arch["arm64"]["vcpu_hour"] == Decimal("0.0323800000")


def test_get_products_pages_through_next_token_with_stubber(tmp_path: Path) -> None:
    client = pricing_client()
    excerpt = offer_file_items(refdata("opencost/ec2-pricing-us-east-1-excerpt.json"))
    filters = [
        {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "us-east-1"},
        {"Type": "TERM_MATCH", "Field": "tenancy", "Value": "Shared"},
        {"Type": "TERM_MATCH", "Field": "capacitystatus", "Value": "Used"},
        {"Type": "TERM_MATCH", "Field": "instanceType", "Value": "m5.large"},
    ]
    base = {"ServiceCode": "AmazonEC2", "Filters": filters, "FormatVersion": "aws_v1", "MaxResults": 100}
    with Stubber(client) as stub:
        stub.add_response(
            "get_products",
            {"FormatVersion": "aws_v1", "PriceList": [m5_large_item()], "NextToken": "t1"},
            base,
        )
        stub.add_response(
            "get_products", {"FormatVersion": "aws_v1", "PriceList": excerpt[:1]}, {**base, "NextToken": "t1"}
        )
        result = fetch_prices(client, [("ec2", "us-east-1", "m5.large")])
        stub.assert_no_pending_responses()
    assert result.ok and result.calls == 1
    by_type = {p.type: p for p in result.fetched}
    m5 = by_type["m5.large"]
    assert m5.on_demand == Decimal("0.0960000000")
    assert m5.reserved_rate("1y", "partial") is not None
    assert m5.reserved["1y/partial"].upfront == Decimal("257") and m5.reserved[
        "1y/partial"
    ].hourly == Decimal("0.029")
    assert m5.reserved["1y/all"].effective_hourly == Decimal("503") / 8760
    assert m5.date == "2026-11-20"

    store = open_store(f"sqlite:///{tmp_path / 'p.db'}")
    write_cache(store, result.fetched)
    book = load_price_book(store)
    price = book.lookup("ec2", "m5.large", "us-east-1")
    assert price is not None and price.source_label == "aws-price-list-api 2026-11-20"
    assert price.reserved["1y/no"].hourly == Decimal("0.06")
    # the snapshot derived m5.large's 1y partial-upfront rate; the API's replaces it, and a plan row says so
    assert snapshot_book().lookup("ec2", "m5.large", "us-east-1").is_derived("1y/partial")  # type: ignore[union-attr]
    assert price.label_for("on_demand", "1y/partial") == "aws-price-list-api 2026-11-20"
    # what the API did not answer still comes from the snapshot, and the book says so
    c5 = book.lookup("ec2", "c5.large", "us-east-1")
    assert c5 is not None and c5.source == "snapshot"
    assert "cache" in book.notes[0]


def test_unreachable_api_is_reported_and_the_snapshot_answers(tmp_path: Path) -> None:
    client = pricing_client()
    with Stubber(client) as stub:
        stub.add_client_error("get_products", "AccessDeniedException", "not authorized", 400)
        result = fetch_prices(client, [("rds", "us-east-1", "db.m5.large")])
    assert not result.ok and "AccessDeniedException" in result.failed[0]
    book = load_price_book(open_store(f"sqlite:///{tmp_path / 'empty.db'}"))
    assert "snapshot" in book.notes[0]
    assert book.on_demand_hourly("rds", "db.m5.large", "us-east-1", "postgres") == Decimal("0.178")


def test_refresh_asks_for_the_types_the_store_saw_not_the_snapshots(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from awscost.planning.pricing.api import services_of_type, wanted_prices
    from awscost.store.base import UsageItem

    store = open_store(f"sqlite:///{tmp_path / 'w.db'}")
    t = datetime(2026, 11, 20, 5, tzinfo=UTC)
    store.put_items(
        [
            UsageItem("ec2os", "acme", "ap-south-1", t, {"linux-x9.huge": 1, "spot-linux-c5.large": 3}),
            UsageItem("rds", "acme", "ap-south-1", t, {"multi_az-db.m5.large:postgres": 1}),
        ]
    )
    wanted = wanted_prices(store, org_name="acme", until=datetime(2026, 11, 21, tzinfo=UTC))
    # what runs (and Fargate in the regions it runs in); not the snapshot's ~46,000 prices, one query each
    assert wanted == [
        ("ec2", "ap-south-1", "x9.huge"),
        ("fargate", "ap-south-1", None),
        ("rds", "ap-south-1", "db.m5.large"),
    ]
    assert ("ec2", "ap-south-1", "c5.large") not in wanted  # spot usage is never reserved
    only = wanted_prices(
        None, org_name="acme", types=["db.r5.large", "m6g.large.search", "ra3.xlplus", "t3.micro"]
    )
    assert only == [
        ("ec2", "us-east-1", "t3.micro"),
        ("es", "us-east-1", "m6g.large.search"),
        ("rds", "us-east-1", "db.r5.large"),
        ("redshift", "us-east-1", "ra3.xlplus"),
    ]
    assert wanted_prices(None, org_name="acme", services=["ec2"]) == []
    assert services_of_type("cache.r6g.large") == ["elasticache"]
    assert [services_of_type(t) for t in ("db.r6g.large", "ra3.xlplus", "r6g.large.search", "m5.large")] == [
        ["rds"],
        ["redshift"],
        ["es"],
        ["ec2"],
    ]


def sp_result(plan: str, payment: str, seconds: int, rate: str) -> dict[str, Any]:
    return {
        "savingsPlanOffering": {
            "offeringId": f"{plan}-{payment}-{seconds}",
            "paymentOption": payment,
            "planType": plan,
            "durationSeconds": seconds,
            "currency": "USD",
            "planDescription": f"{seconds // 31536000} year {payment} {plan}",
        },
        "rate": rate,
        "unit": "Hrs",
        "productType": "EC2",
        "serviceCode": "AmazonEC2",
        "usageType": "BoxUsage:m5.large",
        "operation": "RunInstances",
        "properties": [
            {"name": "region", "value": "us-east-1"},
            {"name": "instanceType", "value": "m5.large"},
            {"name": "productDescription", "value": "Linux/UNIX"},
            {"name": "tenancy", "value": "shared"},
        ],
    }


def test_savings_plans_rates_from_the_savings_plans_api() -> None:
    from awscost.planning.pricing.api import merge_prices, parse_price_item
    from awscost.planning.pricing.savings_plans import fetch_savings_plans_rates

    client = boto3.client(
        "savingsplans", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    expected = {
        "savingsPlanTypes": ["Compute", "EC2Instance"],
        "products": ["EC2"],
        "serviceCodes": ["AmazonEC2"],
        "filters": [
            {"name": "region", "values": ["us-east-1"]},
            {"name": "instanceType", "values": ["m5.large"]},
            {"name": "tenancy", "values": ["shared"]},
        ],
        "maxResults": 1000,
    }
    with Stubber(client) as stub:
        stub.add_response(
            "describe_savings_plans_offering_rates",
            {"searchResults": [sp_result("Compute", "No Upfront", 31536000, "0.0690")], "nextToken": "k"},
            expected,
        )
        stub.add_response(
            "describe_savings_plans_offering_rates",
            {"searchResults": [sp_result("EC2Instance", "All Upfront", 94608000, "0.0365")]},
            {**expected, "nextToken": "k"},
        )
        sp = fetch_savings_plans_rates(client, [("us-east-1", "m5.large")], date="2026-11-20")
        stub.assert_no_pending_responses()
    assert sp.ok and len(sp.fetched) == 1
    assert dict(sp.fetched[0].savings_plans) == {
        "compute/1y/no": Decimal("0.0690"),
        "ec2instance/3y/all": Decimal("0.0365"),
    }
    od = parse_price_item(m5_large_item())
    assert od is not None
    merged = merge_prices([od, *sp.fetched])
    assert len(merged) == 1 and merged[0].on_demand == Decimal("0.0960000000")
    assert merged[0].savings_plans["compute/1y/no"] == Decimal("0.0690") and merged[0].reserved


def test_elasticache_prices_ignore_valkey_and_rds_multi_az_rows() -> None:
    def item(service: str, attrs: dict[str, str], usd: str) -> str:
        sku = "SKU" + usd.replace(".", "")
        return json.dumps(
            {
                "product": {
                    "sku": sku,
                    "attributes": {"servicecode": service, "regionCode": "us-east-1", **attrs},
                },
                "terms": {
                    "OnDemand": {
                        f"{sku}.JRTCKXETXF": {
                            "priceDimensions": {
                                f"{sku}.JRTCKXETXF.6YS6EN2CT7": {"unit": "Hrs", "pricePerUnit": {"USD": usd}}
                            },
                            "termAttributes": {},
                        }
                    }
                },
            }
        )

    redis = parse_price_item(
        item("AmazonElastiCache", {"instanceType": "cache.m5.large", "cacheEngine": "Redis"}, "0.156")
    )
    valkey = parse_price_item(
        item("AmazonElastiCache", {"instanceType": "cache.m5.large", "cacheEngine": "Valkey"}, "0.125")
    )
    assert redis is not None and redis.on_demand == Decimal("0.156") and valkey is None
    single = {"instanceType": "db.m5.large", "databaseEngine": "PostgreSQL", "deploymentOption": "Single-AZ"}
    multi = {**single, "deploymentOption": "Multi-AZ"}
    pg = parse_price_item(item("AmazonRDS", single, "0.178"))
    assert pg is not None and (pg.variant, pg.on_demand) == ("postgres", Decimal("0.178"))
    assert (
        parse_price_item(item("AmazonRDS", multi, "0.356")) is None
    )  # twice Single-AZ, derived by the planner


def test_an_unreachable_api_is_given_up_after_a_few_failures() -> None:
    client = pricing_client()
    wanted = [("ec2", "us-east-1", t) for t in ("m5.large", "c5.large", "r5.large", "t3.micro", "t3.small")]
    with Stubber(client) as stub:
        for _ in range(3):
            stub.add_client_error("get_products", "ServiceUnavailableException", "down", 503)
        result = fetch_prices(client, wanted)
        stub.assert_no_pending_responses()  # exactly three calls were made
    assert len(result.failed) == 4 and result.failed[-1].startswith("2 more queries not tried")


def dynamodb_item(
    sku: str, region: str, prefix: str, unit: str, on_demand: str, reserved: dict[str, tuple[str, str]]
) -> str:
    """A DynamoDB provisioned-capacity product as GetProducts returns it: the AmazonDynamoDB offer's
    attribute names (productFamily "Provisioned IOPS", group DDB-ReadUnits / DDB-WriteUnits, usagetype
    "[prefix-]ReadCapacityUnit-Hrs", operation CommittedThroughput), terms in the EC2 item's structure
    (../shared/refdata/aws-prices/price-list-api-shapes), the on-demand rate tiered behind a free tier and the
    reserved capacity sold as "Heavy Utilization" (upfront + hourly). The figures are test figures, not AWS's.
    """
    read = unit == "ReadCapacityUnit-Hrs"
    attrs = {
        "servicecode": "AmazonDynamoDB",
        "servicename": "Amazon DynamoDB",
        "location": "US East (N. Virginia)" if region == "us-east-1" else "EU (Ireland)",
        "locationType": "AWS Region",
        "regionCode": region,
        "group": "DDB-ReadUnits" if read else "DDB-WriteUnits",
        "groupDescription": f"Provisioned {'read' if read else 'write'} units",
        "usagetype": f"{prefix}{unit}",
        "operation": "CommittedThroughput",
    }
    od_code = f"{sku}.JRTCKXETXF"
    on_demand_term = {
        od_code: {
            "priceDimensions": {
                f"{od_code}.FREE": {
                    "unit": unit,
                    "beginRange": "0",
                    "endRange": "18600",
                    "description": "$0.00 per hour for 25 units of capacity for a month (free tier)",
                    "pricePerUnit": {"USD": "0.0000000000"},
                    "appliesTo": [],
                    "rateCode": f"{od_code}.FREE",
                },
                f"{od_code}.PAID": {
                    "unit": unit,
                    "beginRange": "18600",
                    "endRange": "Inf",
                    "description": "per capacity unit-hour beyond the free tier",
                    "pricePerUnit": {"USD": on_demand},
                    "appliesTo": [],
                    "rateCode": f"{od_code}.PAID",
                },
            },
            "sku": sku,
            "effectiveDate": "2026-11-01T00:00:00Z",
            "offerTermCode": "JRTCKXETXF",
            "termAttributes": {},
        }
    }
    reserved_terms: dict[str, Any] = {}
    for length, (upfront, hourly) in reserved.items():
        code = f"{sku}.RC{length}"
        reserved_terms[code] = {
            "priceDimensions": {
                f"{code}.2TG2D8R56U": {
                    "unit": "Quantity",
                    "description": "Upfront Fee",
                    "pricePerUnit": {"USD": upfront},
                    "appliesTo": [],
                    "rateCode": f"{code}.2TG2D8R56U",
                },
                f"{code}.6YS6EN2CT7": {
                    "unit": unit,
                    "beginRange": "0",
                    "endRange": "Inf",
                    "description": "reserved capacity applied",
                    "pricePerUnit": {"USD": hourly},
                    "appliesTo": [],
                    "rateCode": f"{code}.6YS6EN2CT7",
                },
            },
            "sku": sku,
            "effectiveDate": "2026-11-01T00:00:00Z",
            "offerTermCode": f"RC{length}",
            "termAttributes": {"LeaseContractLength": length, "PurchaseOption": "Heavy Utilization"},
        }
    return json.dumps(
        {
            "product": {"productFamily": "Provisioned IOPS", "attributes": attrs, "sku": sku},
            "serviceCode": "AmazonDynamoDB",
            "terms": {"OnDemand": on_demand_term, "Reserved": reserved_terms},
            "version": "20261120000000",
            "publicationDate": "2026-11-20T00:00:00Z",
        }
    )


def test_refresh_fetches_dynamodb_capacity_rates_and_reserved_capacity(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from awscost.planning.pricing.api import wanted_prices
    from awscost.store.base import UsageItem

    store = open_store(f"sqlite:///{tmp_path / 'ddb.db'}")
    t = datetime(2026, 11, 20, 5, tzinfo=UTC)
    store.put_items(
        [
            UsageItem(
                "dynamodb",
                "acme",
                "eu-west-1",
                t,
                {"read_capacity": 900, "write_capacity": 80, "table_count": 3},
            )
        ]
    )
    wanted = wanted_prices(
        store, org_name="acme", services=["dynamodb"], until=datetime(2026, 11, 21, tzinfo=UTC)
    )
    assert wanted == [("dynamodb", "eu-west-1", None)]  # one query prices both units of the region
    rc = {"1yr": ("0.25", "0.0000300000"), "3yr": ("0.30", "0.0000190000")}
    read = dynamodb_item("RCUSKU", "eu-west-1", "EU-", "ReadCapacityUnit-Hrs", "0.0001470000", rc)
    write = dynamodb_item(
        "WCUSKU",
        "eu-west-1",
        "EU-",
        "WriteCapacityUnit-Hrs",
        "0.0007350000",
        {"1yr": ("1.25", "0.0001500000")},
    )
    # Standard-IA tables and global tables' replicated writes have no reserved capacity: never priced
    ia = dynamodb_item("IASKU", "eu-west-1", "EU-IA-", "ReadCapacityUnit-Hrs", "0.0001840000", {})
    client = pricing_client()
    filters = [
        {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "eu-west-1"},
        {"Type": "TERM_MATCH", "Field": "productFamily", "Value": "Provisioned IOPS"},
    ]
    expected = {
        "ServiceCode": "AmazonDynamoDB",
        "Filters": filters,
        "FormatVersion": "aws_v1",
        "MaxResults": 100,
    }
    with Stubber(client) as stub:
        stub.add_response(
            "get_products", {"FormatVersion": "aws_v1", "PriceList": [read, ia, write]}, expected
        )
        result = fetch_prices(client, wanted)
        stub.assert_no_pending_responses()
    assert result.ok and result.calls == 1
    by_type = {p.type: p for p in result.fetched}
    assert set(by_type) == {"read_capacity", "write_capacity"}
    rcu = by_type["read_capacity"]
    assert (rcu.service, rcu.region, rcu.variant) == ("dynamodb", "eu-west-1", "")
    assert rcu.on_demand == Decimal("0.000147")  # the rate beyond the free tier, per RCU-hour
    assert rcu.reserved["1y/partial"] == pricing.ReservedRate(
        "1y", "partial", Decimal("0.25"), Decimal("0.00003")
    )
    assert rcu.reserved["3y/partial"].upfront == Decimal("0.30")
    assert set(by_type["write_capacity"].reserved) == {"1y/partial"}

    write_cache(store, result.fetched)
    book = load_price_book(store)
    found = book.lookup("dynamodb", "write_capacity", "eu-west-1")
    assert found is not None and found.on_demand == Decimal("0.000735")
    assert found.source_label == "aws-price-list-api 2026-11-20"


def test_dynamodb_usage_types_without_a_region_prefix_and_replicated_writes() -> None:
    # us-east-1's usage types carry no region prefix; replicated writes (global tables) are never reserved
    plain = parse_price_item(dynamodb_item("A", "us-east-1", "", "WriteCapacityUnit-Hrs", "0.0007", {}))
    assert plain is not None and (plain.type, plain.on_demand) == ("write_capacity", Decimal("0.0007"))
    assert (
        parse_price_item(dynamodb_item("B", "us-east-1", "Repl", "WriteCapacityUnit-Hrs", "0.001", {}))
        is None
    )
    free_only = dynamodb_item("C", "us-east-1", "", "ReadCapacityUnit-Hrs", "0", {})
    assert parse_price_item(free_only) is None  # nothing beyond the free tier: no rate to plan with


def test_dynamodb_reserved_rates_stated_per_block_of_100_are_read_per_unit() -> None:
    """AWS's pricing page states reserved capacity per 100 units ($30 upfront + $0.0025/h per 100 RCU in
    us-east-1, against $0.00013 per RCU-hour on demand); a rate at or above the on-demand unit rate can only
    be per block, and the book holds unit rates. (Test figures in that shape, not AWS's offer.)"""
    item = dynamodb_item("D", "us-east-1", "", "ReadCapacityUnit-Hrs", "0.00013", {"1yr": ("30", "0.0025")})
    price = parse_price_item(item)
    assert price is not None
    assert price.reserved["1y/partial"] == pricing.ReservedRate(
        "1y", "partial", Decimal("0.3"), Decimal("0.000025")
    )
    per_unit = parse_price_item(
        dynamodb_item("E", "us-east-1", "", "ReadCapacityUnit-Hrs", "0.00013", {"1yr": ("0.30", "0.000025")})
    )
    assert per_unit is not None and per_unit.reserved == price.reserved
