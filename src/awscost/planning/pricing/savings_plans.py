"""Savings Plans rates from the Savings Plans API (`savingsplans:DescribeSavingsPlansOfferingRates`).

Each result is the $/hour a plan charges for one usage type (e.g. `BoxUsage:m5.large` under
`RunInstances` = Linux) with its properties (region, instanceType, productDescription, tenancy). They land
in `Price.savings_plans` as "<compute|ec2instance>/<1y|3y>/<no|partial|all>" and are cached with the rest.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from awscost.aws.paging import follow_token
from awscost.core import vocabulary
from awscost.planning.pricing.api import API_SOURCE, RefreshResult, merge_prices
from awscost.planning.pricing.book import Price

PLAN_TYPE = {"Compute": "compute", "EC2Instance": "ec2instance"}
PAYMENT = {"No Upfront": "no", "Partial Upfront": "partial", "All Upfront": "all"}
TERM_SECONDS = {31536000: "1y", 94608000: "3y"}


def offering_rates(client: Any, region: str, types: Sequence[str]) -> Iterator[dict[str, Any]]:
    """Every EC2 offering rate (shared tenancy) for `types` in `region`, following nextToken."""
    kwargs: dict[str, Any] = {
        "savingsPlanTypes": list(PLAN_TYPE),
        "products": ["EC2"],
        "serviceCodes": ["AmazonEC2"],
        "filters": [
            {"name": "region", "values": [region]},
            {"name": "instanceType", "values": list(types)},
            {"name": "tenancy", "values": ["shared"]},
        ],
        "maxResults": 1000,
    }
    yield from follow_token(
        client.describe_savings_plans_offering_rates, kwargs, "searchResults", "nextToken"
    )


def parse_rate(result: dict[str, Any], *, date: str) -> Price | None:
    """One search result -> a Price carrying only that Savings Plans rate (merged by key afterwards)."""
    offering = result.get("savingsPlanOffering") or {}
    plan = PLAN_TYPE.get(str(offering.get("planType")))
    payment = PAYMENT.get(str(offering.get("paymentOption")))
    term = TERM_SECONDS.get(int(offering.get("durationSeconds") or 0))
    props = {p.get("name"): p.get("value") for p in result.get("properties") or []}
    os_name = vocabulary.from_platform_details(str(props.get("productDescription") or ""))
    if None in (plan, payment, term, os_name) or not props.get("instanceType") or not props.get("region"):
        return None
    if str(result.get("unit", "Hrs")) != "Hrs" or not str(result.get("usageType", "")).count("BoxUsage"):
        return None
    try:
        rate = Decimal(str(result["rate"]))
    except (KeyError, InvalidOperation):
        return None
    return Price(
        "ec2",
        str(props["region"]),
        str(props["instanceType"]),
        str(os_name),
        str(props.get("tenancy") or "shared").lower(),
        None,
        {},
        {f"{plan}/{term}/{payment}": rate},
        {},
        API_SOURCE,
        date,
    )


def fetch_savings_plans_rates(
    client: Any, wanted: Sequence[tuple[str, str]], *, date: str, batch: int = 20
) -> RefreshResult:
    """Rates for (region, instance type) pairs, queried per region in batches of types."""
    from botocore.exceptions import BotoCoreError, ClientError

    from awscost.aws.errors import failure_reason

    result = RefreshResult()
    by_region: dict[str, list[str]] = {}
    for region, itype in wanted:
        by_region.setdefault(region, []).append(itype)
    found: list[Price] = []
    for region, types in sorted(by_region.items()):
        for i in range(0, len(types), batch):
            chunk = sorted(set(types[i : i + batch]))
            try:
                for r in offering_rates(client, region, chunk):
                    price = parse_rate(r, date=date)
                    if price is not None:
                        found.append(price)
                result.calls += 1
            except (BotoCoreError, ClientError) as exc:
                result.failed.append(f"savingsplans {region} {','.join(chunk)}: {failure_reason(exc)}")
    result.fetched = merge_prices(found)
    return result
