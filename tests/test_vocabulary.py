"""One OS and DB-engine vocabulary: every source's table knows every name, and every module that reads a source
agrees with it (a name one knows and another does not fails here)."""

from __future__ import annotations

import csv
from typing import Any

import pytest

from awscost.core import vocabulary as v
from awscost.core.vocabulary import from_image, from_platform_details
from conftest import refdata


@pytest.mark.parametrize(
    ("details", "os_name"),
    [
        ("Linux/UNIX", "linux"),
        ("Linux/UNIX (Amazon VPC)", "linux"),
        ("Red Hat Enterprise Linux", "rhel"),
        ("Red Hat Enterprise Linux with HA", "rhel-ha"),
        # A product of its own (RunInstances:1014, its own price): not plain rhel-sql-std.
        ("Red Hat Enterprise Linux with SQL Server Standard and HA", "rhel-ha-sql-std"),
        ("Red Hat Enterprise Linux with SQL Server Enterprise", "rhel-sql-ent"),
        ("Red Hat BYOL Linux", "rhel-byol"),
        ("SUSE Linux", "suse"),
        ("SUSE Linux (Amazon VPC)", "suse"),
        ("Ubuntu Pro", "ubuntu-pro"),
        ("Windows", "windows"),
        ("Windows BYOL", "windows-byol"),
        ("Windows with SQL Server Web", "windows-sql-web"),
        ("Windows with SQL Server Standard", "windows-sql-std"),
        ("Windows with SQL Server Enterprise (Amazon VPC)", "windows-sql-ent"),
        ("Windows with SQL Server Express", "windows"),  # Express is free: billed as Windows
        ("Linux with SQL Server Web", "linux-sql-web"),
        ("Linux with SQL Server Standard", "linux-sql-std"),
        ("Linux with SQL Server Enterprise", "linux-sql-ent"),
        ("", None),
        ("Plan 9", None),
    ],
)
def test_platform_details_vocabulary(details: str, os_name: str | None) -> None:
    assert from_platform_details(details) == os_name


@pytest.mark.parametrize(
    ("image", "os_name"),
    [
        ({"Name": "CentOS-7-x86_64-GenericCloud", "Description": "CentOS 7"}, "linux"),  # not rhel
        ({"Name": "RHEL-8.6.0_HVM-20220503-x86_64", "Description": "Provided by Red Hat, Inc."}, "rhel"),
        ({"Name": "suse-sles-15-sp4-v20220621-hvm-ssd-x86_64"}, "suse"),
        (
            {"Name": "Windows_Server-2019-English-Full-SQL_2019_Web-2022.06.15", "Platform": "windows"},
            "windows-sql-web",
        ),
        ({"Name": "whatever", "PlatformDetails": "Windows with SQL Server Enterprise"}, "windows-sql-ent"),
        ({"Name": "golden-42", "Description": "team image"}, "unknown"),
    ],
)
def test_image_os(image: dict[str, Any], os_name: str) -> None:
    assert from_image(image) == os_name


def test_every_source_table_knows_every_os_and_nothing_else() -> None:
    names = set(v.OS_NAMES)
    assert len(names) == len(v.OPERATING_SYSTEMS)
    for table in (v.BY_PLATFORM, v.BY_OPERATION, v.BY_PRICE_LIST):
        assert set(table.values()) == names, table
    assert len(v.BY_OPERATION) == len(names)  # one usage-operation code per product
    assert len(v.BY_PRICE_LIST) == len(names)


def test_every_source_table_knows_every_engine_and_nothing_else() -> None:
    names = set(v.ENGINE_NAMES)
    for table in (v.BY_RESERVED, v.BY_FAMILY):
        assert set(table.values()) == names, table


def _price_item(os_row: v.OperatingSystem) -> dict[str, Any]:
    os_, sw, lic = os_row.price_list
    attrs = {
        "servicecode": "AmazonEC2",
        "regionCode": "us-east-1",
        "instanceType": "m5.large",
        "tenancy": "Shared",
        "operatingSystem": os_,
        "preInstalledSw": sw,
        "licenseModel": lic,
        "capacitystatus": "Used",
        "marketoption": "OnDemand",
    }
    term = {"priceDimensions": {"d": {"unit": "Hrs", "pricePerUnit": {"USD": "0.1"}}}}
    return {"product": {"attributes": attrs}, "terms": {"OnDemand": {"t": term}}}


@pytest.mark.parametrize("os_row", v.OPERATING_SYSTEMS, ids=lambda o: o.name)
def test_every_reader_of_an_os_source_agrees(os_row: v.OperatingSystem) -> None:
    from awscost.planning.explorer import recommendation_key
    from awscost.planning.flex import key_info
    from awscost.planning.pricing.api import parse_price_item
    from awscost.planning.pricing.savings_plans import parse_rate
    from awscost.usage.backfill import ec2_os
    from awscost.usage.transfer import normalise_legacy_key

    name = os_row.name
    op = "RunInstances" + (f":{os_row.operation}" if os_row.operation else "")
    assert v.from_platform_details(os_row.platform) == name
    assert v.from_operation(op) == name
    assert v.from_price_list(*os_row.price_list) == name
    # The Price List, as the pricing module parses it.
    price = parse_price_item(_price_item(os_row), date="2026-11-01")
    assert price is not None and price.variant == name
    # A Savings Plans rate names the product as PlatformDetails does.
    rate = {
        "savingsPlanOffering": {
            "planType": "Compute",
            "paymentOption": "No Upfront",
            "durationSeconds": 31536000,
        },
        "properties": [
            {"name": "region", "value": "us-east-1"},
            {"name": "instanceType", "value": "m5.large"},
            {"name": "productDescription", "value": os_row.platform},
            {"name": "tenancy", "value": "shared"},
        ],
        "usageType": "BoxUsage:m5.large",
        "unit": "Hrs",
        "rate": "0.05",
    }
    sp = parse_rate(rate, date="2026-11-01")
    assert sp is not None and sp.variant == name
    # Cost Explorer's recommendation Platform.
    details = {
        "EC2InstanceDetails": {"Platform": os_row.platform, "InstanceType": "m5.large", "Region": "us-east-1"}
    }
    assert recommendation_key("ec2", details) == ("ec2os", "us-east-1", f"{name}-m5.large")
    # A bill: the operation code, and the Price List OS text where the bill gives no code.
    assert ec2_os(op, "") == name
    if os_row.price_list[2] != "Bring your own license":  # a bill's OS text alone names the licensed product
        assert ec2_os("", os_row.price_list[0] if os_row.price_list[1] == "NA" else "") in (name, "linux")
    # The original system's items, keyed by the RI product description.
    assert normalise_legacy_key("ri-ec2", f"{os_row.platform}-m5.large")[0] == f"{name}-m5.large"
    # Size flexibility is decided by the same row.
    assert key_info("ec2os", f"{name}-m5.large").flexible is os_row.size_flexible


@pytest.mark.parametrize("engine", v.ENGINES, ids=lambda e: e.name)
def test_every_reader_of_an_engine_source_agrees(engine: v.Engine) -> None:
    from awscost.planning.explorer import recommendation_key
    from awscost.planning.flex import key_info
    from awscost.planning.pricing.api import parse_price_item
    from awscost.usage.backfill import rds_engine

    name = engine.name
    assert v.engine_from_reserved(engine.reserved) == name
    assert v.engine_from_reserved(engine.reserved + "(li)") == name
    assert v.engine_from_family(engine.family, engine.edition) == name
    attrs = {
        "servicecode": "AmazonRDS",
        "regionCode": "us-east-1",
        "instanceType": "db.m5.large",
        "databaseEngine": engine.family,
        "deploymentOption": "Single-AZ",
    }
    if engine.edition:
        attrs["databaseEdition"] = engine.edition
    term = {"priceDimensions": {"d": {"unit": "Hrs", "pricePerUnit": {"USD": "0.2"}}}}
    price = parse_price_item({"product": {"attributes": attrs}, "terms": {"OnDemand": {"t": term}}}, date="x")
    assert price is not None and price.variant == name
    details = {
        "RDSInstanceDetails": {
            "DatabaseEngine": engine.family,
            "DatabaseEdition": engine.edition or "",
            "InstanceType": "db.m5.large",
            "Region": "us-east-1",
            "DeploymentOption": "Single-AZ",
        }
    }
    assert recommendation_key("rds", details) == ("rds", "us-east-1", f"db.m5.large:{name}")
    assert rds_engine(name) == name  # a bill that already writes the engine name
    if engine.edition is None:
        assert rds_engine(engine.family) == name
    assert key_info("rds", f"db.m5.large:{name}").flexible is engine.size_flexible


def test_the_price_list_sample_names_each_product_as_its_operation_code() -> None:
    """AWS's own offer file: every compute product's OS / software / licence triple and its usage operation
    name the same OS in our vocabulary."""
    path = refdata("aws-prices/price-list-api-shapes/AmazonEC2_offer_sample_20250912225308.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith('"SKU"'))
    seen = 0
    for row in csv.DictReader(lines[header:]):
        if row.get("Product Family") != "Compute Instance" or not row.get("operation", "").startswith(
            "RunInstances"
        ):
            continue
        by_price = v.from_price_list(row["Operating System"], row["Pre Installed S/W"], row["License Model"])
        assert by_price is not None, row["Operating System"]
        assert by_price == v.from_operation(row["operation"]), (row["operation"], by_price)
        seen += 1
    assert seen >= 10
