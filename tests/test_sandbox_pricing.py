"""The sandbox's Price List and Savings Plans rates (the packaged snapshot re-served, awscost_sandbox.pricing),
through real boto3 clients over HTTP: GetProducts' pages and filters, the awscost client reading back exactly
the snapshot's rates, and `pricing_refresh` filling the store's cache through the Lambda handler."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest

from awscost.planning.pricing.api import API_SOURCE, fetch_prices, load_price_book, read_cache
from awscost.planning.pricing.book import Price, snapshot_book
from awscost.planning.pricing.savings_plans import fetch_savings_plans_rates
from awscost.store import open_store
from awscost_sandbox.server import SandboxServer

M5 = [
    {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "us-east-1"},
    {"Type": "TERM_MATCH", "Field": "instanceType", "Value": "m5.large"},
]


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    from awscost_sandbox.demo import sandbox_environment

    with SandboxServer() as srv, sandbox_environment(srv):
        yield srv


def pricing(server: SandboxServer) -> Any:
    return server.client("pricing", "us-east-1")


def rates(price: Price | None) -> tuple[Any, ...]:
    """What a price charges (not where it came from): on-demand, reserved, Savings Plans, Fargate rates."""
    assert price is not None
    return price.on_demand, dict(price.reserved), dict(price.savings_plans), dict(price.extra)


def snapshot_prices(service: str, region: str, itype: str) -> list[Price]:
    return [p for p in snapshot_book().select(service, region) if p.type == itype]


def test_get_products_pages_through_next_token_and_filters(server: SandboxServer) -> None:
    client = pricing(server)
    pages = list(
        client.get_paginator("get_products").paginate(
            ServiceCode="AmazonEC2", Filters=M5, FormatVersion="aws_v1", PaginationConfig={"PageSize": 2}
        )
    )
    items = [json.loads(i) for p in pages for i in p["PriceList"]]
    # one product per OS the snapshot prices m5.large for, two to a page
    assert len(items) == len(snapshot_prices("ec2", "us-east-1", "m5.large")) >= 5
    assert all(len(p["PriceList"]) == 2 for p in pages[:-1]) and "NextToken" not in pages[-1]
    assert len({i["product"]["sku"] for i in items}) == len(items)
    for item in items:
        attrs = item["product"]["attributes"]
        assert (attrs["instanceType"], attrs["regionCode"], attrs["servicecode"]) == (
            "m5.large",
            "us-east-1",
            "AmazonEC2",
        )
        assert item["product"]["productFamily"] == "Compute Instance"
        (od,) = item["terms"]["OnDemand"].values()
        (dim,) = od["priceDimensions"].values()
        assert dim["unit"] == "Hrs" and dim["rateCode"].startswith(f"{item['product']['sku']}.JRTCKXETXF.")
        assert "awscost sandbox: the packaged snapshot" in dim["description"]  # labelled as what it is
        for term in item["terms"]["Reserved"].values():
            assert set(term["termAttributes"]) == {"LeaseContractLength", "OfferingClass", "PurchaseOption"}
    windows = client.get_products(
        ServiceCode="AmazonEC2",
        Filters=[*M5, {"Type": "TERM_MATCH", "Field": "operatingSystem", "Value": "Windows"}],
        FormatVersion="aws_v1",
    )["PriceList"]
    sw = {json.loads(i)["product"]["attributes"]["preInstalledSw"] for i in windows}
    assert sw == {"NA", "SQL Std", "SQL Ent", "SQL Web"}
    none_of = client.get_products(
        ServiceCode="AmazonEC2",
        Filters=[*M5, {"Type": "NONE_OF", "Field": "operatingSystem", "Value": "Windows,RHEL"}],
    )["PriceList"]
    assert {json.loads(i)["product"]["attributes"]["operatingSystem"] for i in none_of} == {"Linux", "SUSE"}
    family = client.get_products(
        ServiceCode="AmazonRDS",
        Filters=[
            {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "eu-west-1"},
            {"Type": "TERM_MATCH", "Field": "productFamily", "Value": "Database Instance"},
            {"Type": "CONTAINS", "Field": "instanceType", "Value": "db.r5."},
        ],
        MaxResults=100,
    )
    types = {json.loads(i)["product"]["attributes"]["instanceType"] for i in family["PriceList"]}
    assert "db.r5.large" in types and all(t.startswith("db.r5.") for t in types)


def test_get_products_errors_as_aws_names_them(server: SandboxServer) -> None:
    client = pricing(server)
    with pytest.raises(client.exceptions.NotFoundException, match="AmazonS3"):
        client.get_products(ServiceCode="AmazonS3")
    with pytest.raises(client.exceptions.InvalidParameterException, match="FormatVersion"):
        client.get_products(ServiceCode="AmazonEC2", Filters=M5, FormatVersion="aws_v2")
    with pytest.raises(client.exceptions.InvalidNextTokenException):
        client.get_products(ServiceCode="AmazonEC2", Filters=M5, NextToken="not-a-token")


def test_the_pricing_client_reads_back_the_snapshots_rates_for_every_scenario_type(
    server: SandboxServer,
) -> None:
    groups = {(g.kind, g.region, g.type) for g in server.scenario._groups if g.kind != "dynamodb"}
    wanted = sorted(groups) + [("fargate", r, None) for r in server.scenario.regions]
    result = fetch_prices(pricing(server), wanted)
    assert result.ok and result.calls == len(wanted)
    by_key = {p.key: p for p in result.fetched}
    book = snapshot_book()
    for kind, region, itype in groups:
        expected = snapshot_prices(kind, region, itype)
        assert expected, (kind, region, itype)
        for price in expected:
            got = by_key[price.key]
            # exact: the same Decimal rates (the API's "0.0960000000" is the snapshot's 0.096)
            assert (got.on_demand, dict(got.reserved)) == (price.on_demand, dict(price.reserved))
            assert got.source == API_SOURCE and got.date == book.date
    for region in server.scenario.regions:
        for arch in ("x86_64", "arm64"):
            fargate = book.fargate_rates(region, arch)
            assert fargate is not None and by_key[fargate.key].extra == fargate.extra


def test_savings_plans_offering_rates_page_and_equal_the_snapshots(server: SandboxServer) -> None:
    client = server.client("savingsplans", "us-east-1")
    wanted = sorted({(g.region, g.type) for g in server.scenario._groups if g.kind == "ec2"})
    result = fetch_savings_plans_rates(client, wanted, date=str(snapshot_book().date))
    assert result.ok
    got = {p.key: p.savings_plans for p in result.fetched}
    for region, itype in wanted:
        for price in snapshot_prices("ec2", region, itype):
            assert got[price.key] == price.savings_plans and len(price.savings_plans) == 12
    # paging: nextToken pages hold what one call returns, in order
    kwargs: dict[str, Any] = {
        "savingsPlanTypes": ["Compute"],
        "savingsPlanPaymentOptions": ["No Upfront"],
        "filters": [
            {"name": "region", "values": ["eu-west-1"]},
            {"name": "instanceFamily", "values": ["m5"]},
        ],
    }
    whole = client.describe_savings_plans_offering_rates(**kwargs)["searchResults"]
    paged: list[dict[str, Any]] = []
    token = None
    while True:
        page = client.describe_savings_plans_offering_rates(
            **kwargs, maxResults=40, **({"nextToken": token} if token else {})
        )
        paged += page["searchResults"]
        token = page.get("nextToken")
        if not token:
            break
    assert paged == whole and len(whole) > 40
    for r in whole:
        props = {p["name"]: p["value"] for p in r["properties"]}
        assert props["region"] == "eu-west-1" and props["instanceType"].startswith("m5.")
        offering = r["savingsPlanOffering"]
        assert (offering["planType"], offering["paymentOption"], offering["durationSeconds"]) in {
            ("Compute", "No Upfront", 31536000),
            ("Compute", "No Upfront", 94608000),
        }
        assert r["usageType"] == f"EU-BoxUsage:{props['instanceType']}" and Decimal(r["rate"]) > 0
    with pytest.raises(botocore.exceptions.ClientError, match="productId"):
        client.describe_savings_plans_offering_rates(filters=[{"name": "productId", "values": ["x"]}])


def test_pricing_refresh_through_the_lambda_handler_fills_the_price_cache(
    server: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from awscost.entrypoints.lambda_handler import handler

    store_url = f"sqlite:///{tmp_path / 'awscost.db'}"
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AWSCOST_CONFIG", raising=False)
    monkeypatch.setenv("AWSCOST_STORE", store_url)
    monkeypatch.setenv("AWSCOST_ORG_NAME", server.scenario.org_name)
    monkeypatch.setenv("AWSCOST_REGIONS", ",".join(server.scenario.regions))
    types = sorted({g.type for g in server.scenario._groups if g.kind in ("ec2", "rds")})
    result = handler({"job": "pricing_refresh", "services": ["ec2", "rds"], "types": types})
    assert result["failed"] == [] and result["fallback"] is None and result["queries"] > len(types)
    with open_store(store_url) as store:
        cached = {p.key: p for p in read_cache(store)}
        book = load_price_book(store)
    assert result["cached"] == len(cached)
    for g in server.scenario._groups:
        if g.kind not in ("ec2", "rds"):
            continue
        variant = (g.os or "linux") if g.kind == "ec2" else (g.engine or "")
        expected = snapshot_book().lookup(g.kind, g.type, g.region, variant)
        price = book.lookup(g.kind, g.type, g.region, variant)
        assert price is not None and price.key in cached and price.source == API_SOURCE
        # on-demand, reserved and (EC2) Savings Plans rates: the snapshot's, to the last digit
        assert rates(price) == rates(expected)
    assert "Price List API cache" in book.notes[0]
