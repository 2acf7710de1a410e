"""The sandbox's AWS Price List (`pricing:GetProducts`) and Savings Plans rates
(`savingsplans:DescribeSavingsPlansOfferingRates`): THE PACKAGED PRICE SNAPSHOT RE-SERVED, not AWS's prices.

Sandbox only (never on a production path). moto has no backend for either API, so without this module the
`pricing_refresh` job could only fail in the sandbox. Importing it registers both operations in the layer.

What is served is awscost's own packaged snapshot (`awscost.planning.pricing.book.snapshot_book`, every
service and region it holds, the scenario's types and regions among them), turned back into the answers the
real APIs give: GetProducts' `PriceList` is a list of JSON strings, each one offer-file product (`product`
with `productFamily`, `sku` and `attributes`; `terms.OnDemand` / `terms.Reserved`, each term with
`termAttributes` and `priceDimensions` in AWS's rate-code layout: `<sku>.<offerTermCode>.<rateCode>`, unit
`Hrs` or `Quantity`, `pricePerUnit.USD` as a string), shaped like a real item of the AmazonEC2 offer. So what
the job fetches equals the snapshot to the last digit, and the job runs here as it does against AWS. Every
price dimension's description says where its number really comes from ("awscost sandbox: the packaged
snapshot 2026-07-20, ec2shop 2025-04-04", or "..., derived ri-payment"): the awscost client cannot keep that
label (a Price List price is the API's), so a cache filled in the sandbox names "aws-price-list-api
<snapshot date>" as its source; the dimension descriptions are where to look.

What it does not serve: products the snapshot has no price for (DynamoDB reserved capacity, Multi-AZ RDS,
Valkey, dedicated tenancy, spot), other service codes than the priced kinds' (NotFoundException), and Savings
Plans rates other than EC2's. Filters: every FilterType of the API (TERM_MATCH and EQUALS compare the value
exactly, CONTAINS is a substring, ANY_OF / NONE_OF a comma list), on `productFamily`, `sku` or a product
attribute; a product without the attribute does not match.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple

from awscost.core import vocabulary
from awscost.planning.pricing.api import SERVICE_CODES
from awscost.planning.pricing.book import Price, ReservedRate, SnapshotBook, snapshot_book
from awscost_sandbox.layer import LayerError, page, register

CODE_SERVICE = {code: service for service, code in SERVICE_CODES.items()}
FORMAT_VERSION = "aws_v1"

# AWS's offer term codes (the same in every offer file) and rate codes of a term's price dimensions.
ON_DEMAND_TERM = "JRTCKXETXF"
RESERVED_TERMS = {
    "1y/no": "4NA7Y494T4",
    "1y/partial": "HU7G6KETJZ",
    "1y/all": "6QCMYABX3D",
    "3y/no": "BPH4J8HBKS",
    "3y/partial": "38NPMPTW36",
    "3y/all": "NQ3QZPMQV9",
}
HOURLY_RATE, UPFRONT_RATE = "6YS6EN2CT7", "2TG2D8R56U"
LEASE = {"1y": "1yr", "3y": "3yr"}
PURCHASE = {"no": "No Upfront", "partial": "Partial Upfront", "all": "All Upfront"}
TERM_SECONDS = {"1y": 31536000, "3y": 94608000}
PLAN_TYPE = {"compute": "Compute", "ec2instance": "EC2Instance"}

# The usage-type prefix of each region ("USW2-BoxUsage:m5.large"; us-east-1 has none, but Fargate's USE1-).
USAGE_PREFIX = {
    "us-east-1": "",
    "us-east-2": "USE2-",
    "us-west-1": "USW1-",
    "us-west-2": "USW2-",
    "ca-central-1": "CAN1-",
    "ca-west-1": "CAN2-",
    "sa-east-1": "SAE1-",
    "eu-west-1": "EU-",
    "eu-west-2": "EUW2-",
    "eu-west-3": "EUW3-",
    "eu-central-1": "EUC1-",
    "eu-central-2": "EUC2-",
    "eu-north-1": "EUN1-",
    "eu-south-1": "EUS1-",
    "eu-south-2": "EUS2-",
    "ap-northeast-1": "APN1-",
    "ap-northeast-2": "APN2-",
    "ap-northeast-3": "APN3-",
    "ap-southeast-1": "APS1-",
    "ap-southeast-2": "APS2-",
    "ap-south-1": "APS3-",
    "ap-east-1": "APE1-",
    "me-south-1": "MES1-",
    "me-central-1": "MEC1-",
    "af-south-1": "AFS1-",
    "us-gov-west-1": "UGW1-",
    "us-gov-east-1": "UGE1-",
}
SERVICE_NAMES = {
    "ec2": "Amazon Elastic Compute Cloud",
    "rds": "Amazon Relational Database Service",
    "elasticache": "Amazon ElastiCache",
    "es": "Amazon OpenSearch Service",
    "redshift": "Amazon Redshift",
    "fargate": "Amazon Elastic Container Service",
    "dynamodb": "Amazon DynamoDB",
}
# ElastiCache's Redis and Memcached nodes cost the same (the snapshot holds one price per node type).
CACHE_ENGINES = {"Redis": "CreateCacheCluster:0002", "Memcached": "CreateCacheCluster:0001"}


def _prefix(region: str, service: str = "") -> str:
    if service == "fargate" and region == "us-east-1":
        return "USE1-"
    return USAGE_PREFIX.get(region, "")


def _sku(*parts: str) -> str:
    """A 16-character SKU as AWS writes them, the same for the same product."""
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return "".join("ABCDEFGHJKLMNPQRSTUVWXYZ23456789"[b % 32] for b in digest[:16])


def _usd(value: Decimal, hourly: bool = True) -> str:
    """A price as the offer files write it: hourly rates with 10 decimals ("0.0960000000"), upfront fees
    as they are ("294"); never rounded (a rate with more decimals keeps them)."""
    if hourly and value == value.quantize(Decimal("1e-10")):
        return f"{value:.10f}"
    return str(value)


def _products_of(price: Price) -> list[tuple[str, dict[str, str], dict[str, Decimal]]]:
    """(productFamily, attributes, on-demand rates by usage type) of the offer products behind one price."""
    svc, region, itype = price.service, price.region, price.type
    common = {
        "servicecode": SERVICE_CODES[svc],
        "servicename": SERVICE_NAMES.get(svc, SERVICE_CODES[svc]),
        "location": vocabulary.REGION_NAMES.get(region, region),
        "locationType": "AWS Region",
        "regionCode": region,
    }
    prefix = _prefix(region, svc)
    od = {} if price.on_demand is None else {"": price.on_demand}
    if svc == "ec2":
        os_ = vocabulary.os_entry(price.variant)
        if os_ is None or price.tenancy != "shared":
            return []
        operating_system, software, licence = os_.price_list
        attrs = common | {
            "instanceType": itype,
            "instanceFamily": itype.split(".")[0],
            "tenancy": "Shared",
            "operatingSystem": operating_system,
            "preInstalledSw": software,
            "licenseModel": licence,
            "capacitystatus": "Used",
            "marketoption": "OnDemand",
            "usagetype": f"{prefix}BoxUsage:{itype}",
            "operation": "RunInstances" + (f":{os_.operation}" if os_.operation else ""),
        }
        return [("Compute Instance", attrs, od)]
    if svc == "rds":
        engine = vocabulary.engine_entry(price.variant)
        if engine is None:
            return []
        attrs = common | {
            "instanceType": itype,
            "databaseEngine": engine.family,
            "deploymentOption": "Single-AZ",
            "usagetype": f"{prefix}InstanceUsage:{itype}",
            "operation": "CreateDBInstance",
        }
        if engine.edition:
            attrs["databaseEdition"] = engine.edition
        return [("Database Instance", attrs, od)]
    if svc == "elasticache":
        return [
            (
                "Cache Instance",
                common
                | {
                    "instanceType": itype,
                    "cacheEngine": engine,
                    "usagetype": f"{prefix}NodeUsage:{itype}",
                    "operation": operation,
                },
                od,
            )
            for engine, operation in CACHE_ENGINES.items()
        ]
    if svc == "es":
        attrs = common | {
            "instanceType": itype,
            "usagetype": f"{prefix}ESInstance:{itype}",
            "operation": "ESDomain",
        }
        return [("Amazon OpenSearch Service Instance", attrs, od)]
    if svc == "redshift":
        attrs = common | {
            "instanceType": itype,
            "usagetype": f"{prefix}Node:{itype}",
            "operation": "RunComputeNode:0001",
        }
        return [("Compute Instance", attrs, od)]
    if svc == "fargate":
        # Fargate has no instance types: one product per vCPU-hour and one per GB-hour, per architecture.
        arm = "-ARM" if itype == "arm64" else ""
        out = []
        for key, usage, extra in (
            ("vcpu_hour", f"{prefix}Fargate{arm}-vCPU-Hours:perCPU", {"cputype": "perCPU"}),
            ("gb_hour", f"{prefix}Fargate{arm}-GB-Hours", {"memorytype": "perGB"}),
        ):
            if key in price.extra:
                attrs = common | {"tenancy": "Shared", "usagetype": usage, "operation": ""} | extra
                if arm:
                    attrs["cpuArchitecture"] = "ARM"
                out.append(("Compute", attrs, {key: price.extra[key]}))
        return out
    return []  # DynamoDB: the snapshot holds no DynamoDB prices


class Product(NamedTuple):
    sku: str
    family: str  # productFamily
    attrs: dict[str, str]
    price: Price  # the snapshot's price behind it
    rates: tuple[tuple[str, Decimal], ...]  # its on-demand rates: ("", $/h), or Fargate's ("vcpu_hour", $/h)


@lru_cache(maxsize=256)
def _catalog(service: str, region: str) -> tuple[Product, ...]:
    """The snapshot's products of one service and region, in a stable order (pages must not shift between
    calls)."""
    out = []
    for price in sorted(snapshot_book().select(service, region), key=lambda p: p.key):
        for family, attrs, rates in _products_of(price):
            sku = _sku(
                attrs["servicecode"],
                attrs["regionCode"],
                attrs["usagetype"],
                attrs.get("operation", ""),
                attrs.get("operatingSystem", ""),
                attrs.get("preInstalledSw", ""),
                attrs.get("databaseEngine", ""),
                attrs.get("databaseEdition", ""),
            )
            out.append(Product(sku, family, attrs, price, tuple(rates.items())))
    return tuple(out)


def _label(book: SnapshotBook, price: Price, field: str) -> str:
    origin = price.origin.get(field)
    return f"awscost sandbox: the packaged {book.label}" + (f", {origin}" if origin else "")


def _dimension(
    sku: str, term: str, rate: str, unit: str, usd: str, description: str, ranged: bool
) -> dict[str, Any]:
    dim: dict[str, Any] = {"unit": unit}
    if ranged:
        dim["endRange"] = "Inf"
    dim.update(
        {
            "description": description,
            "appliesTo": [],
            "rateCode": f"{sku}.{term}.{rate}",
        }
    )
    if ranged:
        dim["beginRange"] = "0"
    dim["pricePerUnit"] = {"USD": usd}
    return dim


def _item(product: Product) -> str:
    """One PriceList entry: the offer-file product as the JSON string GetProducts returns."""
    sku, family, attrs, price, rates = product
    book = snapshot_book()
    date = f"{book.date}T00:00:00Z"
    what = f"{attrs.get('operatingSystem', '')} {attrs.get('instanceType') or attrs['usagetype']}".strip()
    on_demand: dict[str, Any] = {}
    for key, usd in rates:
        field = key or "on_demand"
        unit = "hours" if price.service == "fargate" else "Hrs"
        desc = f"${usd} per On Demand {what} Hour ({_label(book, price, field)})"
        on_demand[f"{sku}.{ON_DEMAND_TERM}"] = {
            "priceDimensions": {
                f"{sku}.{ON_DEMAND_TERM}.{HOURLY_RATE}": _dimension(
                    sku, ON_DEMAND_TERM, HOURLY_RATE, unit, _usd(usd), desc, True
                )
            },
            "sku": sku,
            "effectiveDate": date,
            "offerTermCode": ON_DEMAND_TERM,
            "termAttributes": {},
        }
    reserved: dict[str, Any] = {}
    for key, code in RESERVED_TERMS.items():
        r: ReservedRate | None = price.reserved.get(key)
        if r is None:
            continue
        label = _label(book, price, key)
        dims = {}
        if r.payment != "no":
            dims[f"{sku}.{code}.{UPFRONT_RATE}"] = _dimension(
                sku,
                code,
                UPFRONT_RATE,
                "Quantity",
                _usd(r.upfront, hourly=False),
                f"Upfront Fee ({label})",
                False,
            )
        dims[f"{sku}.{code}.{HOURLY_RATE}"] = _dimension(
            sku, code, HOURLY_RATE, "Hrs", _usd(r.hourly), f"{what} reserved instance applied ({label})", True
        )
        reserved[f"{sku}.{code}"] = {
            "priceDimensions": dims,
            "sku": sku,
            "effectiveDate": date,
            "offerTermCode": code,
            "termAttributes": {
                "LeaseContractLength": LEASE[r.term],
                "OfferingClass": "standard",
                "PurchaseOption": PURCHASE[r.payment],
            },
        }
    terms: dict[str, Any] = {"OnDemand": on_demand} if on_demand else {}
    if reserved:
        terms["Reserved"] = reserved
    doc = {
        "product": {"productFamily": family, "attributes": dict(attrs), "sku": sku},
        "serviceCode": attrs["servicecode"],
        "terms": terms,
        "version": f"{str(book.date).replace('-', '')}000000",
        "publicationDate": date,
    }
    return json.dumps(doc)


# --- GetProducts ---------------------------------------------------------------------------------------------
def _field(product: Product, name: str) -> str | None:
    if name == "productFamily":
        return product.family
    if name == "sku":
        return product.sku
    return product.attrs.get(name)


def _matches(value: str | None, kind: str, wanted: str) -> bool:
    if kind == "NONE_OF":
        return value is None or value not in {v.strip() for v in wanted.split(",")}
    if value is None:
        return False
    if kind in ("TERM_MATCH", "EQUALS"):
        return value == wanted
    if kind == "CONTAINS":
        return wanted in value
    if kind == "ANY_OF":
        return value in {v.strip() for v in wanted.split(",")}
    raise LayerError("InvalidParameterException", f"unknown filter type {kind!r}")


def get_products(params: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    code = str(params.get("ServiceCode") or "")
    service = CODE_SERVICE.get(code)
    if service is None:
        raise LayerError(
            "NotFoundException",
            f"the sandbox's Price List (the packaged snapshot) serves {sorted(CODE_SERVICE)}, not {code!r}",
        )
    version = params.get("FormatVersion") or FORMAT_VERSION
    if version != FORMAT_VERSION:
        raise LayerError(
            "InvalidParameterException", f"FormatVersion must be {FORMAT_VERSION}, not {version!r}"
        )
    filters = [
        (str(f["Field"]), str(f.get("Type") or "TERM_MATCH"), str(f["Value"]))
        for f in params.get("Filters") or []
    ]
    # A region filter spares parsing every region of the snapshot.
    regions = [v for name, kind, v in filters if name == "regionCode" and kind in ("TERM_MATCH", "EQUALS")]
    book = snapshot_book()
    candidates = regions[:1] if regions else book.regions(service)
    items = [
        entry
        for r in candidates
        for entry in _catalog(service, r)
        if all(_matches(_field(entry, name), kind, v) for name, kind, v in filters)
    ]
    try:
        chunk, token = page(items, params, limit_key="MaxResults", token_key="NextToken", minimum=1)
    except LayerError as exc:
        code = "InvalidNextTokenException" if "NextToken" in exc.message else "InvalidParameterException"
        raise LayerError(code, exc.message) from None
    return {"FormatVersion": FORMAT_VERSION, "PriceList": [_item(entry) for entry in chunk], **token}


# --- DescribeSavingsPlansOfferingRates -------------------------------------------------------------------------
RATE_FILTERS = ("region", "instanceFamily", "instanceType", "productDescription", "tenancy")


def _offering(plan: str, term: str, payment: str, family: str, region: str) -> dict[str, Any]:
    """The plan offering a rate belongs to: Compute plans have one per term and payment, EC2 Instance plans one
    per family and region too."""
    years = {"1y": "1 year", "3y": "3 year"}[term]
    scope: tuple[str, ...] = ()
    if plan == "compute":
        description = f"{years} {PURCHASE[payment]} Compute Savings Plan"
    else:
        scope = (family, region)
        description = f"{years} {PURCHASE[payment]} {family} EC2 Instance Savings Plan in {region}"
    offering_id = uuid.uuid5(uuid.NAMESPACE_URL, "awscost-sandbox:" + ":".join((plan, term, payment, *scope)))
    return {
        "offeringId": str(offering_id),
        "paymentOption": PURCHASE[payment],
        "planType": PLAN_TYPE[plan],
        "durationSeconds": TERM_SECONDS[term],
        "currency": "USD",
        "planDescription": description,
    }


@lru_cache(maxsize=256)
def _rates(region: str) -> tuple[dict[str, Any], ...]:
    out = []
    for price in sorted(snapshot_book().select("ec2", region), key=lambda p: p.key):
        os_ = vocabulary.os_entry(price.variant)
        if os_ is None or price.tenancy != "shared":
            continue
        family = price.type.split(".")[0]
        for key, rate in sorted(price.savings_plans.items()):
            plan, term, payment = key.split("/")
            if plan not in PLAN_TYPE:
                continue
            out.append(
                {
                    "savingsPlanOffering": _offering(plan, term, payment, family, region),
                    "rate": str(rate),
                    "unit": "Hrs",
                    "productType": "EC2",
                    "serviceCode": "AmazonEC2",
                    "usageType": f"{_prefix(region)}BoxUsage:{price.type}",
                    "operation": "RunInstances" + (f":{os_.operation}" if os_.operation else ""),
                    "properties": [
                        {"name": "region", "value": region},
                        {"name": "instanceType", "value": price.type},
                        {"name": "instanceFamily", "value": family},
                        {"name": "productDescription", "value": os_.platform},
                        {"name": "tenancy", "value": "shared"},
                    ],
                }
            )
    return tuple(out)


def describe_offering_rates(params: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    filters = {str(f["name"]): set(f.get("values") or []) for f in params.get("filters") or []}
    unknown = sorted(set(filters) - set(RATE_FILTERS))
    if unknown:
        raise LayerError("ValidationException", f"the sandbox does not filter offering rates by {unknown}")
    wanted = {
        "planType": set(params.get("savingsPlanTypes") or []),
        "paymentOption": set(params.get("savingsPlanPaymentOptions") or []),
        "offeringId": set(params.get("savingsPlanOfferingIds") or []),
    }
    top = {
        "productType": set(params.get("products") or []),
        "serviceCode": set(params.get("serviceCodes") or []),
        "usageType": set(params.get("usageTypes") or []),
        "operation": set(params.get("operations") or []),
    }
    regions = sorted(filters.get("region") or snapshot_book().regions("ec2"))
    items = []
    for r in regions:
        for rate in _rates(r):
            offering = rate["savingsPlanOffering"]
            props = {p["name"]: p["value"] for p in rate["properties"]}
            if any(values and offering[k] not in values for k, values in wanted.items()):
                continue
            if any(values and rate[k] not in values for k, values in top.items()):
                continue
            if any(values and props.get(k) not in values for k, values in filters.items()):
                continue
            items.append(rate)
    try:
        chunk, token = page(
            items,
            params,
            limit_key="maxResults",
            token_key="nextToken",
            default=1000,
            minimum=1,
            maximum=1000,
        )
    except LayerError as exc:
        raise LayerError("ValidationException", exc.message) from None
    return {"searchResults": chunk, **token}


register("pricing", "GetProducts", get_products)
register("savingsplans", "DescribeSavingsPlansOfferingRates", describe_offering_rates)
