"""History on day one: rebuild hourly usage items from the bill's hourly usage lines.

`backfill_from_billing(bill, store, org_name=...)` reads the canonical billing table (awscost.billing) and
writes items of kinds ec2, ec2os, rds, elasticache, es, redshift and dynamodb, per account and org-wide,
for every hour the bill covers, never overwriting an hour (or, for the daily kinds es/redshift, a day) that
was collected live. Backfilled items carry attrs {"source": "billing"}.

What the bill says, per kind (legacy CUR / CUR 2.0 / FOCUS with the x_ columns):
    ec2 / ec2os   AmazonEC2 *BoxUsage:<type>, *SpotUsage:<type> (spot- prefix), instance-hours per hour;
                  OS from the operation code (RunInstances:0002 = windows ...) or the product's OS
    rds           AmazonRDS *InstanceUsage:<class> / *Multi-AZUsage:<class> (multi_az- prefix), engine
    elasticache   AmazonElastiCache *NodeUsage:<node type>
    es            AmazonES *ESInstance:<instance type>            (daily: the day's largest hourly count)
    redshift      AmazonRedshift *Node:<node type>                 (daily, likewise)
    dynamodb      AmazonDynamoDB *ReadCapacityUnit-Hrs / *WriteCapacityUnit-Hrs -> read_capacity /
                  write_capacity (table_count is not in a bill and is left out)
Usage lines are Usage, DiscountedUsage (covered by a reservation) and SavingsPlanCoveredUsage; the
SavingsPlanNegation line that mirrors each covered line is not usage and is skipped.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from awscost.core import vocabulary
from awscost.core.timeutil import floor_hour
from awscost.store.base import UsageItem
from awscost.usage import kinds as catalog

BACKFILL_KINDS = catalog.BACKFILL_KINDS
DAILY = frozenset(k for k in BACKFILL_KINDS if catalog.cadence(k) == "daily")
# The bill's product codes of those kinds (the catalog's AWS service codes), in catalog order.
PRODUCTS = tuple(dict.fromkeys(str(catalog.spec(k).price_code) for k in BACKFILL_KINDS))
USAGE_LINE_TYPES = ("Usage", "DiscountedUsage", "SavingsPlanCoveredUsage")

QUERY = """
SELECT SubAccountId AS account, RegionId AS region, AvailabilityZone AS az,
       date_trunc('hour', ChargePeriodStart) AS hour,
       x_ProductCode AS product, x_UsageType AS usage_type, x_Operation AS operation,
       x_InstanceType AS itype, x_OperatingSystem AS os, x_Engine AS engine,
       sum(ConsumedQuantity) AS qty
FROM billing
WHERE x_ProductCode IN ({products})
  AND coalesce(x_LineItemType, 'Usage') IN ({line_types})
  AND ChargeCategory = 'Usage'
  AND ChargePeriodEnd - ChargePeriodStart <= INTERVAL 1 HOUR
  {window}
GROUP BY ALL
"""


@dataclass
class BackfillResult:
    written: int = 0
    skipped_collected: int = 0  # items (resource x hour/day) already collected live, left untouched
    first_hour: datetime | None = None
    last_hour: datetime | None = None
    by_kind: Counter[str] = field(default_factory=Counter)
    unrecognized: Counter[str] = field(default_factory=Counter)  # usage types of those products not mapped


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def ec2_os(operation: str, os_text: str) -> str:
    """The OS from the usage operation's code (`RunInstances:0002` = windows), else from the product's OS
    text (`product/operatingSystem`, Price List spelling), else linux (plain `RunInstances` is Linux/UNIX)."""
    if ":" in operation:
        return vocabulary.from_operation(operation) or vocabulary.UNKNOWN
    text = os_text.strip()
    if not text:
        return "linux"
    if text.lower() in vocabulary.OS_NAMES:  # an export that already writes our vocabulary
        return text.lower()
    # Price List names (RHEL, SUSE), else product names (Red Hat Enterprise Linux) and their old spellings.
    return vocabulary.from_price_list(text) or vocabulary.from_platform_details(text) or vocabulary.UNKNOWN


def rds_engine(text: str) -> str:
    """The engine from the bill's `product/databaseEngine` (Price List spelling, or already ours)."""
    return vocabulary.engine_from_family(text) or text.strip().lower().replace(" ", "-")


# (bill product code, usage-type word) -> the kind whose key is the plain type (elasticache, es, redshift ...).
_PLAIN_KEYED = {
    (str(s.price_code), s.bill_usage): s.name for s in catalog.CATALOG if s.bill_usage and s.price_code
}


def usage_keys(row: dict[str, Any]) -> list[tuple[str, str, float]]:
    """(kind, usage key, count) for one aggregated bill row; [] when it is not instance/capacity usage."""
    product, usage_type = _text(row["product"]), _text(row["usage_type"])
    word, _, utype = usage_type.rpartition(":")
    word = word.split("-", 1)[1] if "-" in word and word.split("-", 1)[0].isupper() else word
    itype = _text(row["itype"]) or utype
    qty = float(row["qty"] or 0)
    if product == "AmazonEC2" and word in ("BoxUsage", "SpotUsage", "DedicatedUsage"):
        spot = "spot-" if word == "SpotUsage" else ""
        os_name = ec2_os(_text(row["operation"]), _text(row["os"]))
        az = _text(row["az"])
        out = [("ec2os", f"{spot}{os_name}-{itype}", qty)]
        if az:
            out.append(("ec2", f"{spot}{itype}:{az}", qty))
        return out
    if product == "AmazonRDS" and word in ("InstanceUsage", "Multi-AZUsage"):
        prefix = "multi_az-" if word == "Multi-AZUsage" else ""
        return [("rds", f"{prefix}{itype}:{rds_engine(_text(row['engine']))}", qty)]
    plain = _PLAIN_KEYED.get((product, word))  # kinds keyed by the type alone, from the catalog
    if plain is not None:
        return [(plain, itype, qty)]
    if product == "AmazonDynamoDB" and usage_type.endswith(("ReadCapacityUnit-Hrs", "WriteCapacityUnit-Hrs")):
        key = "read_capacity" if usage_type.endswith("ReadCapacityUnit-Hrs") else "write_capacity"
        return [("dynamodb", key, qty)]
    return []


def _as_utc(value: Any) -> datetime:
    dt = value.to_pydatetime() if hasattr(value, "to_pydatetime") else value
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return floor_hour(dt)


def rebuild_items(
    rows: Iterable[dict[str, Any]], org_name: str, result: BackfillResult | None = None
) -> list[UsageItem]:
    """Per-account and org-wide items from aggregated bill rows (hourly; es/redshift one per UTC day)."""
    result = result if result is not None else BackfillResult()
    hourly: dict[tuple[str, str, str, datetime], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row in rows:
        keys = usage_keys(row)
        if not keys:
            result.unrecognized[_text(row["usage_type"])] += 1
            continue
        hour = _as_utc(row["hour"])
        account, region = _text(row["account"]), _text(row["region"])
        if not account or not region:
            continue
        for kind, key, qty in keys:
            hourly[(kind, account, region, hour)][key] += qty
            hourly[(kind, org_name, region, hour)][key] += qty
            result.first_hour = min(result.first_hour or hour, hour)
            result.last_hour = max(result.last_hour or hour, hour)
    # An hour the bill covers in which a series ran nothing is a zero, not a missing hour (as a collected
    # hour with nothing running writes an empty item). Only hours that carry some usage line are filled, so
    # a daily-granularity bill (every line at midnight) does not invent 23 empty hours a day.
    covered = {hour for (_, _, _, hour) in hourly}
    for kind, account, region in {(k, a, r) for (k, a, r, _) in hourly}:
        for hour in covered:
            _ = hourly[(kind, account, region, hour)]  # a defaultdict: creates the empty usage
    daily: dict[tuple[str, str, str, datetime], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    items: list[UsageItem] = []
    for (kind, account, region, hour), usage in hourly.items():
        if kind in DAILY:
            day = daily[(kind, account, region, hour.replace(hour=0))]
            for key, qty in usage.items():
                day[key] = max(day[key], qty)  # a cluster that ran in the day, at its largest
            continue
        items.append(UsageItem(kind, account, region, hour, _ints(usage), {"source": "billing"}))
    for (kind, account, region, day_start), usage in daily.items():
        attrs = {"source": "billing", "granularity": "day"}
        items.append(UsageItem(kind, account, region, day_start, _ints(usage), attrs))
    return items


def _ints(usage: dict[str, float]) -> dict[str, int | float]:
    return {k: int(v) if float(v).is_integer() else round(float(v), 6) for k, v in sorted(usage.items())}


def backfill_from_billing(
    bill: Any,
    store: Any,
    *,
    org_name: str,
    kinds: Iterable[str] = BACKFILL_KINDS,
    since: datetime | None = None,
    until: datetime | None = None,
    prefer: str | None = None,
) -> BackfillResult:
    """Write the usage items the bill implies, skipping every (resource, hour) — or (resource, day) for the
    daily kinds — that the store already holds. `bill`: an awscost.billing Bill, or a path it can load
    (`prefer`: the format to keep where files of two formats hold the same month, as `billing.load`)."""
    from awscost.billing import load

    own = not hasattr(bill, "sql")
    opened = load(Path(bill), prefer=prefer) if own else bill
    try:
        window = ""
        if since is not None:
            window += f"AND ChargePeriodStart >= TIMESTAMP '{floor_hour(since):%Y-%m-%d %H:%M:%S}' "
        if until is not None:
            window += f"AND ChargePeriodStart < TIMESTAMP '{floor_hour(until):%Y-%m-%d %H:%M:%S}' "
        sql = QUERY.format(
            products=", ".join(f"'{p}'" for p in PRODUCTS),
            line_types=", ".join(f"'{t}'" for t in USAGE_LINE_TYPES),
            window=window,
        )
        frame = opened.sql(sql)
    finally:
        if own:
            opened.close()
    result = BackfillResult()
    wanted = set(kinds)
    items = [i for i in rebuild_items(frame.to_dicts(), org_name, result) if i.kind in wanted]
    if not items or result.first_hour is None or result.last_hour is None:
        return result
    start = result.first_hour.replace(hour=0)
    end = result.last_hour + timedelta(days=1)
    fresh = []
    for kind in sorted({i.kind for i in items}):
        live: set[tuple[str, Any]] = set()
        for item in store.query(kind=kind, since=start, until=end):
            if item.attrs.get("source") == "billing":
                continue  # an earlier backfill: rewriting it is idempotent
            live.add((item.aws_resource, item.time.date() if kind in DAILY else item.time))
        for item in (i for i in items if i.kind == kind):
            slot = (item.aws_resource, item.time.date() if kind in DAILY else item.time)
            if slot in live:
                result.skipped_collected += 1
            else:
                fresh.append(item)
                result.by_kind[kind] += 1
    result.written = store.put_items(fresh)
    return result


__all__ = ["BACKFILL_KINDS", "BackfillResult", "backfill_from_billing", "rebuild_items", "usage_keys"]
