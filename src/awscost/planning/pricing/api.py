"""The AWS Price List Query API (`pricing:GetProducts`) as a price source, and its cache in the store.

GetProducts answers `PriceList`: a list of JSON *strings*, each one product of the offer file with
`product.attributes` and `terms.OnDemand` / `terms.Reserved` (each term: `termAttributes` and
`priceDimensions` with `unit` "Hrs" or "Quantity" and `pricePerUnit.USD`). Pages follow `NextToken`.
The service is answered from us-east-1 (also eu-central-1, ap-south-1), whatever region is priced.

Cached prices live in the store's map table under `price:<service>:<region>:<type>:<variant>:<tenancy>`,
and `price-meta:api` records when the cache was filled.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from awscost.aws.paging import follow_token
from awscost.core import vocabulary
from awscost.planning.pricing.book import (
    CAPACITY_PAYMENT,
    Price,
    PriceBook,
    ReservedRate,
    canonical_service,
    snapshot_book,
    snapshot_label,
)
from awscost.usage import kinds as catalog

API_SOURCE = "aws-price-list-api"
PRICING_REGION = "us-east-1"
CACHE_PREFIX = "price:"
META_ID = "price-meta:api"

# The services the price book holds: those of the kinds the planner plans (from the kinds catalog), and
# Fargate for the container tasks (its Price List code is ECS's).
SERVICE_CODES = {
    catalog.service(kind): str(catalog.spec(kind).price_code) for kind in catalog.PLANNED_KINDS
} | {"fargate": "AmazonECS"}
_PAYMENT = {"No Upfront": "no", "Partial Upfront": "partial", "All Upfront": "all"}
_TERM = {"1yr": "1y", "3yr": "3y", "1 yr": "1y", "3 yr": "3y"}
# DynamoDB provisioned capacity in the AmazonDynamoDB offer: product family "Provisioned IOPS", `group`
# DDB-ReadUnits / DDB-WriteUnits, `usagetype` "[EUW1-]ReadCapacityUnit-Hrs" (operation CommittedThroughput);
# the Standard-IA table class ("IA-...") and replicated write units of global tables ("Repl...") have no
# reserved capacity and are left out. Priced per capacity unit-hour, under the usage keys' names.
DDB_FAMILY = "Provisioned IOPS"
_DDB_GROUPS = {"DDB-ReadUnits": "read_capacity", "DDB-WriteUnits": "write_capacity"}
_DDB_USAGE = {"read_capacity": "ReadCapacityUnit-Hrs", "write_capacity": "WriteCapacityUnit-Hrs"}


def ec2_os(attrs: Mapping[str, Any]) -> str | None:
    """Price List operatingSystem + preInstalledSw + licenseModel -> the OS vocabulary; None for what we do
    not track."""
    return vocabulary.from_price_list(
        str(attrs.get("operatingSystem", "")),
        str(attrs.get("preInstalledSw", "NA")),
        str(attrs.get("licenseModel", "")),
    )


def _usd(dim: Mapping[str, Any]) -> Decimal | None:
    try:
        return Decimal(str(dim["pricePerUnit"]["USD"]))
    except (KeyError, InvalidOperation, TypeError):
        return None


def parse_price_item(item: str | Mapping[str, Any], *, date: str | None = None) -> Price | None:
    """One PriceList entry -> a Price, or None for products we do not price (capacity blocks, BYOL, ...)."""
    doc: Mapping[str, Any] = json.loads(item) if isinstance(item, str) else item
    product = doc.get("product") or {}
    attrs: Mapping[str, Any] = product.get("attributes") or {}
    service = canonical_service(str(attrs.get("servicecode") or doc.get("serviceCode") or ""))
    region = str(attrs.get("regionCode") or "")
    if not region:
        return None
    pub = date or str(doc.get("publicationDate") or "")[:10] or datetime.now(UTC).strftime("%Y-%m-%d")
    tenancy = str(attrs.get("tenancy") or "Shared").lower()
    variant = ""
    itype = str(attrs.get("instanceType") or "")
    extra: dict[str, Decimal] = {}
    if service == "ec2":
        if (
            attrs.get("capacitystatus", "Used") != "Used"
            or attrs.get("marketoption", "OnDemand") != "OnDemand"
        ):
            return None
        os_name = ec2_os(attrs)
        if os_name is None:
            return None
        variant = os_name
    elif service == "rds":
        engine = vocabulary.engine_from_family(
            str(attrs.get("databaseEngine", "")), str(attrs.get("databaseEdition") or "") or None
        )
        if engine is None:
            return None
        if attrs.get("deploymentOption") not in (None, "Single-AZ"):
            return None  # Multi-AZ is priced as twice Single-AZ by the planner; one row per class+engine
        variant = engine
    elif service == "fargate":
        usage = str(attrs.get("usagetype", ""))
        if "Fargate" not in usage or "Windows" in usage:
            return None
        itype = "arm64" if "ARM" in usage else "x86_64"
        variant = "linux"
    elif service == "elasticache":
        # Redis and Memcached nodes cost the same; Valkey's lower price must not stand in for them.
        if str(attrs.get("cacheEngine", "Redis")).lower() not in ("redis", "memcached"):
            return None
    elif service == "dynamodb":
        itype = _dynamodb_type(product, attrs) or ""
    elif service not in SERVICE_CODES:  # any other priced kind: one price per instance / node type
        return None
    if not itype:
        return None

    terms = doc.get("terms") or {}
    on_demand: Decimal | None = None
    for term in (terms.get("OnDemand") or {}).values():
        for dim in (term.get("priceDimensions") or {}).values():
            usd = _usd(dim)
            if usd is None:
                continue
            if service == "fargate":
                usage = str(attrs.get("usagetype", ""))
                extra["vcpu_hour" if "vCPU" in usage else "gb_hour"] = usd
            elif service == "dynamodb":
                # tiered: the free tier's units at 0, then the rate every further unit-hour pays
                if str(dim.get("endRange", "Inf")) == "Inf" and usd > 0:
                    on_demand = usd
            elif str(dim.get("unit", "")).lower() in ("hrs", "hours", "hour"):
                on_demand = usd
    reserved: dict[str, ReservedRate] = {}
    for term in (terms.get("Reserved") or {}).values():
        ta = term.get("termAttributes") or {}
        if str(ta.get("OfferingClass", "standard")).lower() != "standard":
            continue
        t = _TERM.get(str(ta.get("LeaseContractLength", "")))
        option = str(ta.get("PurchaseOption", ""))
        p = (
            CAPACITY_PAYMENT
            if service == "dynamodb" and option == "Heavy Utilization"
            else _PAYMENT.get(option)
        )
        if t is None or p is None:
            continue
        upfront, hourly = Decimal(0), Decimal(0)
        for dim in (term.get("priceDimensions") or {}).values():
            usd = _usd(dim)
            if usd is None:
                continue
            if str(dim.get("unit")) == "Quantity":
                upfront = usd
            else:
                hourly = usd
        if service == "dynamodb" and on_demand is not None and hourly >= on_demand:
            # AWS sells reserved capacity in blocks of 100 units and its pricing page states the rates per
            # block; a rate at or above the on-demand unit rate can only be per block (no reservation costs
            # more per hour than on demand). The book holds unit rates.
            upfront, hourly = upfront / DDB_BLOCK, hourly / DDB_BLOCK
        reserved[f"{t}/{p}"] = ReservedRate(t, p, upfront, hourly)
    if on_demand is None and not reserved and not extra:
        return None
    return Price(service, region, itype, variant, tenancy, on_demand, reserved, {}, extra, API_SOURCE, pub)


DDB_BLOCK = Decimal(100)


def _dynamodb_type(product: Mapping[str, Any], attrs: Mapping[str, Any]) -> str | None:
    """A DynamoDB product's usage key (read_capacity / write_capacity) when it is Standard-class provisioned
    capacity, else None."""
    if str(product.get("productFamily") or "") != DDB_FAMILY:
        return None
    key = _DDB_GROUPS.get(str(attrs.get("group") or ""))
    usage = str(attrs.get("usagetype") or "")
    if key is None or "IA-" in usage or "Repl" in usage:
        return None
    # us-east-1's usage type has no region prefix; the others are "<prefix>-ReadCapacityUnit-Hrs"
    return key if usage == _DDB_USAGE[key] or usage.endswith("-" + _DDB_USAGE[key]) else None


def merge_prices(prices: Iterable[Price]) -> list[Price]:
    """Fargate vCPU and GB rates arrive as separate products: fold rows sharing a key into one."""
    merged: dict[tuple[str, ...], Price] = {}
    for p in prices:
        old = merged.get(p.key)
        if old is None:
            merged[p.key] = p
            continue
        merged[p.key] = Price(
            p.service,
            p.region,
            p.type,
            p.variant,
            p.tenancy,
            p.on_demand if p.on_demand is not None else old.on_demand,
            {**old.reserved, **p.reserved},
            {**old.savings_plans, **p.savings_plans},
            {**old.extra, **p.extra},
            p.source,
            max(p.date, old.date),
            {**old.origin, **p.origin},
        )
    return list(merged.values())


def get_products(client: Any, service_code: str, filters: Mapping[str, str]) -> Iterator[str]:
    """Every PriceList entry (a JSON string) for TERM_MATCH `filters`, following NextToken."""
    kwargs: dict[str, Any] = {
        "ServiceCode": service_code,
        "Filters": [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in filters.items()],
        "FormatVersion": "aws_v1",
        "MaxResults": 100,
    }
    yield from follow_token(client.get_products, kwargs, "PriceList")


def _filters(service: str, region: str, itype: str | None) -> dict[str, str]:
    f = {"regionCode": region}
    if service == "ec2":
        f.update(tenancy="Shared", capacitystatus="Used")
    if service == "fargate":
        return f
    if service == "dynamodb":
        return f | {"productFamily": DDB_FAMILY}  # both capacity units, their on-demand and reserved terms
    if itype:
        f["instanceType"] = itype
    return f


@dataclass
class RefreshResult:
    fetched: list[Price] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "service region type: error"
    calls: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed


# Consecutive failures, before any success, after which the API is taken as unreachable.
GIVE_UP_AFTER = 3


def fetch_prices(
    client: Any, wanted: Sequence[tuple[str, str, str | None]], *, date: str | None = None
) -> RefreshResult:
    """Query the API for each (service, region, instance type or None for all) and parse what comes back.

    When the first queries all fail the API is unreachable: the rest are not tried (each would wait for
    its own retries) and are reported as failed with that reason."""
    from botocore.exceptions import BotoCoreError, ClientError

    from awscost.aws.errors import failure_reason

    result = RefreshResult()
    out: list[Price] = []
    for n, (service, region, itype) in enumerate(wanted):
        if result.calls == 0 and len(result.failed) >= GIVE_UP_AFTER:
            result.failed.append(f"{len(wanted) - n} more queries not tried: the API looks unreachable")
            break
        svc = canonical_service(service)
        code = SERVICE_CODES.get(svc)
        if code is None:
            result.failed.append(f"{svc} {region} {itype or '*'}: no Price List service code")
            continue
        try:
            for item in get_products(client, code, _filters(svc, region, itype)):
                price = parse_price_item(item, date=date)
                if price is not None:
                    out.append(price)
            result.calls += 1
        except (BotoCoreError, ClientError) as exc:
            result.failed.append(f"{svc} {region} {itype or '*'}: {failure_reason(exc)}")
    result.fetched = merge_prices(out)
    return result


def services_of_type(itype: str) -> list[str]:
    """The priced services whose type names look like `itype` (the catalog's type patterns); EC2 when none
    does. A name two services share (RDS's and MemoryDB's `db.` types, say) is asked of both."""
    import re

    found = sorted(
        {
            catalog.service(kind)
            for kind in catalog.PLAN_KINDS
            if catalog.spec(kind).type_pattern and re.search(str(catalog.spec(kind).type_pattern), itype)
        }
    )
    return found or ["ec2"]


def wanted_prices(
    store: Any | None,
    *,
    org_name: str,
    services: Sequence[str] | None = None,
    regions: Sequence[str] | None = None,
    types: Sequence[str] | None = None,
    lookback_days: int = 7,
    until: datetime | None = None,
) -> list[tuple[str, str, str | None]]:
    """(service, region, type) to ask the API for: the given types (in `regions`, default us-east-1), else
    every type the store saw org-wide in the `lookback_days` before `until`, in the regions it saw them in
    (or only `regions`), and Fargate's rates in each of those regions.

    Not the snapshot's types: it prices every type of every region the public data has (tens of thousands of
    queries); what a refresh is for is the prices of what runs."""
    from awscost.core.timeutil import current_hour
    from awscost.planning.flex import key_info

    svcs = {canonical_service(s) for s in services} if services else set(SERVICE_CODES)
    out: set[tuple[str, str, str | None]] = set()
    if types:
        for region in regions or ["us-east-1"]:
            out.update((svc, region, t) for t in types for svc in services_of_type(t) if svc in svcs)
        return sorted(out, key=lambda w: (w[0], w[1], w[2] or ""))
    seen_regions: set[str] = set(regions or ())
    if store is not None:
        end = until or current_hour() + timedelta(hours=1)
        for kind in catalog.PLANNED_KINDS:
            capacity = bool(catalog.spec(kind).capacity_block)
            for item in store.query(
                kind=kind, account=org_name, since=end - timedelta(days=lookback_days), until=end
            ):
                if regions and item.region not in regions:
                    continue
                seen_regions.add(item.region)
                for key in item.usage:
                    info = key_info(kind, key)
                    if info.reservable and catalog.service(kind) in svcs:
                        # reserved capacity: one query prices every unit of the region
                        out.add((catalog.service(kind), item.region, None if capacity else info.type))
    if "fargate" in svcs:
        out.update(("fargate", region, None) for region in seen_regions or {"us-east-1"})
    return sorted(out, key=lambda w: (w[0], w[1], w[2] or ""))


def cache_id(price: Price) -> str:
    return CACHE_PREFIX + ":".join(price.key)


def write_cache(store: Any, prices: Iterable[Price], *, fetched_at: datetime | None = None) -> int:
    n = 0
    for p in prices:
        store.put_map(cache_id(p), p.to_json())
        n += 1
    when = (fetched_at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    store.put_map(META_ID, {"fetched_at": when, "count": n, "source": API_SOURCE})
    return n


def read_cache(store: Any) -> list[Price]:
    out = []
    for _id, attrs in store.scan_map(CACHE_PREFIX):
        try:
            out.append(Price.from_json(attrs, source=API_SOURCE, date=str(attrs.get("date", ""))))
        except (KeyError, InvalidOperation, TypeError, ValueError, IndexError):
            continue  # a damaged cache row is skipped; the snapshot still answers for it
    return out


def pricing_client(session: Any = None) -> Any:
    """A Price List client (of `session`, default the standard chain); few retries, since an unreachable API
    falls back to the cache or the snapshot."""
    from awscost.aws.session import client, client_config, make_session

    return client(session or make_session(), "pricing", PRICING_REGION, config=client_config(2, 4))


def load_price_book(store: Any | None = None) -> PriceBook:
    """The snapshot, overlaid with the store's API cache where present. `notes` say which sources answered."""
    snapshot = snapshot_book()
    book = PriceBook(base=snapshot, notes=snapshot.notes)
    if store is None:
        book.notes.append(f"prices from {snapshot_label()}")
        return book
    cached = read_cache(store)
    meta = store.get_map(META_ID) or {}
    if cached:
        book.add(cached)
        book.notes.append(
            f"prices from the Price List API cache ({len(cached)} prices, fetched "
            f"{meta.get('fetched_at', '?')}), {snapshot_label()} for the rest"
        )
    else:
        book.notes.append(f"no Price List API cache in the store: prices from {snapshot_label()}")
    return book
