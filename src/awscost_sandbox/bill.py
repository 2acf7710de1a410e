"""The sandbox's bill: a legacy CUR (gzip CSV + manifest, real column layout) and a FOCUS export, both
derived from the same line items of the sandbox fleet, so the two formats must load to the same totals.

Lines: Usage (on-demand and Spot), DiscountedUsage (covered by the scenario's RIs) and their RIFee,
SavingsPlanCoveredUsage / SavingsPlanNegation / SavingsPlanRecurringFee (one Compute Savings Plan in the
management account), Tax, Credit and Refund. Resources keep their tags, so those without
`user:Spend_Category` show up as gaps in tag coverage.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from awscost.core import vocabulary
from awscost.core.timeutil import HOUR, floor_hour
from awscost_sandbox.scenario import DEFAULT_OD_PRICE, OD_PRICE, OS_PRICE_EXTRA

Q = Decimal("0.0000000001")  # every money value is rounded once, to 10 places, before it is written

# The scenario's illustrative on-demand prices ($/hour, one table for the fleet and its bill; not a price
# source: awscost.planning.pricing is). Types not listed cost DEFAULT_RATE.
RATES: dict[str, Decimal] = {k: Decimal(v) for k, v in OD_PRICE.items()}
DEFAULT_RATE = Decimal(DEFAULT_OD_PRICE)
OS_EXTRA = OS_PRICE_EXTRA
SPOT_FACTOR = Decimal("0.3")
RCU_RATE, WCU_RATE = Decimal("0.00013"), Decimal("0.00065")
TAX_RATE = Decimal("0.08")
CREDIT = Decimal("-25.00")
REFUND = Decimal("-3.50")
REPORT = "sandbox-cur"

PRODUCT = {
    "ec2": ("AmazonEC2", "Amazon Elastic Compute Cloud", "BoxUsage", "RunInstances", "Hrs"),
    "rds": ("AmazonRDS", "Amazon Relational Database Service", "InstanceUsage", "CreateDBInstance", "Hrs"),
    "elasticache": ("AmazonElastiCache", "Amazon ElastiCache", "NodeUsage", "CreateCacheCluster", "Hrs"),
    "es": ("AmazonES", "Amazon OpenSearch Service", "ESInstance", "ESDomain", "Hrs"),
    "redshift": ("AmazonRedshift", "Amazon Redshift", "Node", "RunComputeNode", "Hrs"),
    "dynamodb": ("AmazonDynamoDB", "Amazon DynamoDB", "", "CommittedThroughput", "ReadCapacityUnit-Hrs"),
}
REGION_PREFIX = {"us-east-1": "", "us-west-2": "USW2-", "eu-west-1": "EU-"}

# The legacy CUR columns written, in the order AWS writes them (a subset of a real report's columns).
CUR_COLUMNS = (
    "identity/LineItemId",
    "identity/TimeInterval",
    "bill/InvoiceId",
    "bill/InvoicingEntity",
    "bill/BillingEntity",
    "bill/BillType",
    "bill/PayerAccountId",
    "bill/BillingPeriodStartDate",
    "bill/BillingPeriodEndDate",
    "lineItem/UsageAccountId",
    "lineItem/LineItemType",
    "lineItem/UsageStartDate",
    "lineItem/UsageEndDate",
    "lineItem/ProductCode",
    "lineItem/UsageType",
    "lineItem/Operation",
    "lineItem/AvailabilityZone",
    "lineItem/ResourceId",
    "lineItem/UsageAmount",
    "lineItem/NormalizationFactor",
    "lineItem/NormalizedUsageAmount",
    "lineItem/CurrencyCode",
    "lineItem/UnblendedRate",
    "lineItem/UnblendedCost",
    "lineItem/BlendedRate",
    "lineItem/BlendedCost",
    "lineItem/LineItemDescription",
    "lineItem/TaxType",
    "lineItem/LegalEntity",
    "product/ProductName",
    "product/cacheEngine",
    "product/databaseEngine",
    "product/instanceType",
    "product/location",
    "product/operatingSystem",
    "product/productFamily",
    "product/region",
    "product/regionCode",
    "product/servicecode",
    "product/sku",
    "product/usagetype",
    "pricing/RateCode",
    "pricing/RateId",
    "pricing/currency",
    "pricing/publicOnDemandCost",
    "pricing/publicOnDemandRate",
    "pricing/term",
    "pricing/unit",
    "reservation/AmortizedUpfrontCostForUsage",
    "reservation/AmortizedUpfrontFeeForBillingPeriod",
    "reservation/EffectiveCost",
    "reservation/EndTime",
    "reservation/ModificationStatus",
    "reservation/NumberOfReservations",
    "reservation/RecurringFeeForUsage",
    "reservation/ReservationARN",
    "reservation/StartTime",
    "reservation/SubscriptionId",
    "reservation/TotalReservedUnits",
    "reservation/UnitsPerReservation",
    "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod",
    "reservation/UnusedQuantity",
    "reservation/UnusedRecurringFee",
    "reservation/UpfrontValue",
    "savingsPlan/TotalCommitmentToDate",
    "savingsPlan/SavingsPlanARN",
    "savingsPlan/SavingsPlanRate",
    "savingsPlan/UsedCommitment",
    "savingsPlan/SavingsPlanEffectiveCost",
    "savingsPlan/AmortizedUpfrontCommitmentForBillingPeriod",
    "savingsPlan/RecurringCommitmentForBillingPeriod",
)


def q(value: Decimal) -> Decimal:
    return value.quantize(Q, rounding=ROUND_HALF_EVEN)


# The bill writer formats millions of cells from a few thousand distinct hours and amounts: the caches keep
# the demo's hourly CUR from spending most of its time in strftime and quantize.
@lru_cache(maxsize=1 << 16)
def _money_text(value: Decimal) -> str:
    return format(q(value), "f")


def money(value: Decimal | None) -> str:
    return "" if value is None else _money_text(value)


@lru_cache(maxsize=1 << 14)
def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=1 << 12)
def _sku(parts: tuple[str | None, ...]) -> str:
    key = "|".join(str(p) for p in parts)
    return hashlib.sha1(key.encode()).hexdigest()[:16].upper()


@lru_cache(maxsize=1 << 12)
def _month(dt: datetime) -> str:
    return f"{dt.year:04d}-{dt.month:02d}"


@lru_cache(maxsize=1 << 12)
def period_of(hour: datetime) -> tuple[datetime, datetime]:
    start = hour.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


def rate_of(kind: str, itype: str, os: str | None) -> Decimal:
    base = RATES.get(itype, DEFAULT_RATE)
    return base + OS_EXTRA.get(os or "linux", Decimal(0)) if kind == "ec2" else base


@dataclass
class Line:
    """One bill line in legacy-CUR terms; both writers render from it."""

    account: str
    kind: str  # ec2, rds, ..., or "tax"/"credit"/"refund"/"rifee"/"spfee"
    line_type: str
    start: datetime
    end: datetime
    region: str | None = None
    az: str | None = None
    resource: str | None = None
    itype: str | None = None
    os: str | None = None
    engine: str | None = None
    usage_type: str = ""
    operation: str = ""
    amount: Decimal = Decimal(0)
    rate: Decimal = Decimal(0)
    unblended: Decimal = Decimal(0)
    public_cost: Decimal = Decimal(0)
    public_rate: Decimal | None = None
    description: str = ""
    product_code: str = ""
    product_name: str = ""
    unit: str = "Hrs"
    tags: dict[str, str] | None = None
    ri_arn: str | None = None
    ri_effective: Decimal | None = None
    ri_recurring: Decimal | None = None
    ri_amortized: Decimal | None = None
    ri_unused_recurring: Decimal | None = None
    ri_unused_amortized: Decimal | None = None
    ri_units: Decimal | None = None
    sp_arn: str | None = None
    sp_effective: Decimal | None = None
    sp_rate: Decimal | None = None
    sp_total: Decimal | None = None
    sp_used: Decimal | None = None

    @property
    def sku(self) -> str | None:
        """A Price List SKU as AWS writes one (16 characters), the same for the same product and price;
        tax, credit and refund lines have none."""
        if self.line_type in ("Tax", "Credit", "Refund"):
            return None
        parts = (
            self.product_code,
            self.usage_type,
            self.operation,
            self.region,
            self.itype,
            self.os,
            self.engine,
        )
        return _sku(parts)

    @property
    def rate_code(self) -> str | None:
        """`SKU.OfferTermCode.RateCode`: on-demand (JRTCKXETXF) or the commitment's term."""
        sku = self.sku
        if sku is None:
            return None
        term = (
            "JRTCKXETXF"
            if not (self.ri_arn or self.sp_arn)
            else "4NA7Y494T4"
            if self.ri_arn
            else "SPCOMPUTE1"
        )
        return f"{sku}.{term}.6YS6EN2CT7"

    @property
    def effective(self) -> Decimal:
        """EffectiveCost by the FOCUS conversion rules (what the readers must reproduce)."""
        if self.line_type == "DiscountedUsage":
            return q(self.ri_effective or Decimal(0))
        if self.line_type == "RIFee":
            return q(self.ri_unused_amortized or Decimal(0)) + q(self.ri_unused_recurring or Decimal(0))
        if self.line_type == "SavingsPlanCoveredUsage":
            return q(self.sp_effective or Decimal(0))
        if self.line_type == "SavingsPlanNegation":
            return Decimal(0)
        if self.line_type == "SavingsPlanRecurringFee":
            return q(self.sp_total or Decimal(0)) - q(self.sp_used or Decimal(0))
        return q(self.unblended)


def _ri_arn(r: Any) -> str:
    service = {
        "ri-ec2": "ec2",
        "ri-rds": "rds",
        "ri-elasticache": "elasticache",
        "ri-es": "es",
        "ri-redshift": "redshift",
    }
    return f"arn:aws:{service.get(r.kind, 'ec2')}:{r.region}:{r.account}:reserved-instances/{r.id}"


def _matches(r: Any, unit: Any) -> bool:
    return (
        r.kind == f"ri-{unit.kind}"
        and r.account == unit.account
        and r.region == unit.region
        and r.type == unit.type
        and (r.os or None) == (unit.os or None if unit.kind == "ec2" else r.os or None)
        and (unit.kind != "rds" or (r.engine or None) == (unit.engine or None))
    )


def rifee_line(r: Any, pstart: datetime, pend: datetime, units: Decimal, unused: Decimal) -> Line:
    """A reservation's RIFee line of a billing period: `units` reserved unit-hours, `unused` of them unused."""
    amortized = q(Decimal(r.fixed_price) * 3600 / r.duration_seconds)
    recurring = q(Decimal(r.usage_price))
    code, name = PRODUCT[r.kind.removeprefix("ri-")][:2]
    return Line(
        r.account,
        "rifee",
        "RIFee",
        pstart,
        pend,
        r.region,
        None,
        None,
        r.type,
        r.os,
        r.engine,
        f"HeavyUsage:{r.type}",
        "RunInstances",
        units,
        recurring,
        q(recurring * units),
        Decimal(0),
        None,
        f"{r.offering_type} reservation fee for {r.count} x {r.type}",
        code,
        name,
        "Hrs",
        None,
        ri_arn=_ri_arn(r),
        ri_amortized=q(amortized * units),
        ri_unused_recurring=q(recurring * unused),
        ri_unused_amortized=q(amortized * unused),
        ri_units=units,
    )


def spfee_line(plan: Any, pstart: datetime, pend: datetime, hours: Decimal, used: Decimal) -> Line:
    """A Savings Plan's recurring fee line of a billing period: `hours` of commitment, `used` of it used."""
    total = q(plan.commitment * hours)
    years = plan.term_seconds // 31536000
    kind = "Compute" if plan.type == "Compute" else "EC2 Instance"
    return Line(
        plan.account,
        "spfee",
        "SavingsPlanRecurringFee",
        pstart,
        pend,
        None,
        None,
        plan.arn,
        None,
        None,
        None,
        f"{'ComputeSP' if plan.type == 'Compute' else 'EC2InstanceSP'}:{years}yr{plan.payment.replace(' ', '')}",
        "",
        hours,
        plan.commitment,
        total,
        Decimal(0),
        None,
        f"{years} year {plan.payment} {kind} Savings Plan",
        "ComputeSavingsPlans",
        "Savings Plans for AWS Compute usage",
        "Hrs",
        None,
        sp_arn=plan.arn,
        sp_total=total,
        sp_used=used,
    )


def savings_plan_applies(plan: Any, unit: Any) -> bool:
    """A Compute plan covers any on-demand EC2 instance; an EC2 Instance plan its region and family only."""
    if unit.kind != "ec2" or unit.spot:
        return False
    if plan.type == "EC2Instance":
        return bool(plan.region == unit.region and unit.type.split(".")[0] == plan.family)
    return bool(plan.type == "Compute")


def savings_plan_use(scenario: Any, hour: datetime) -> dict[str, Decimal]:
    """Per Savings Plan active in `hour`, the commitment ($) its covered usage used, exactly as the bill
    applies it (`build_lines` uses this too): reservations first, then the plans in scenario order, each
    instance-hour wholly on the first plan with enough commitment left."""
    return _allocate(scenario, hour)[1]


def savings_plan_spend(scenario: Any, hour: datetime) -> list[tuple[Any, Decimal, Any]]:
    """Every instance-hour of `hour` a Savings Plan could cover (on-demand EC2 that no reservation covered):
    (the fleet unit, its on-demand rate, the plan that covered it or None), as the bill applies them."""
    fleet = scenario.fleet_at(hour)
    covered, _ = _allocate(scenario, hour, fleet)
    out = []
    for i, unit in enumerate(fleet):
        if unit.kind != "ec2" or unit.spot:
            continue
        rate = rate_of(unit.kind, unit.type, unit.os)
        for rid in unit.ids:
            cover = covered.get((i, rid))
            if cover is None or hasattr(cover, "commitment"):
                out.append((unit, rate, cover))
    return out


def _allocate(
    scenario: Any, hour: datetime, fleet: list[Any] | None = None
) -> tuple[dict[tuple[int, str], Any], dict[str, Decimal]]:
    """How the bill pays each instance-hour of `hour`: (fleet index, resource id) -> the reservation or
    Savings Plan that covers it (absent: on demand), and per active plan the commitment used."""
    active = [r for r in scenario.reservations() if r.start <= hour < r.end]
    plans = [p for p in scenario.savings_plans() if p.active_at(hour)]
    free = {r.id: r.count for r in active}
    left = {p.id: p.commitment for p in plans}
    used = {p.id: Decimal(0) for p in plans}
    out: dict[tuple[int, str], Any] = {}
    for i, unit in enumerate(scenario.fleet_at(hour) if fleet is None else fleet):
        if unit.kind == "dynamodb" or unit.spot:
            continue
        rate = rate_of(unit.kind, unit.type, unit.os) * (2 if unit.kind == "rds" and unit.multi_az else 1)
        for rid in unit.ids:
            ri = next((r for r in active if free[r.id] > 0 and _matches(r, unit)), None)
            if ri is not None:
                free[ri.id] -= 1
                out[(i, rid)] = ri
                continue
            for plan in plans:
                cost = q(rate * plan.discount)
                if savings_plan_applies(plan, unit) and cost <= left[plan.id]:
                    left[plan.id] -= cost
                    used[plan.id] += cost
                    out[(i, rid)] = plan
                    break
    return out, used


def _tags(unit: Any) -> dict[str, str]:
    return {(k if ":" in k else f"user:{k}"): str(v) for k, v in unit.tags.items() if v not in (None, "")}


def build_lines(scenario: Any, hours: list[datetime]) -> list[Line]:
    """Every line of the bill for the given hours (usage per resource-hour; fees, tax, credit per period)."""
    lines: list[Line] = []
    hours = sorted({floor_hour(h) for h in hours})
    management = next(a.id for a in scenario.accounts if a.management)
    plans = list(scenario.savings_plans())
    ri_used: dict[tuple[str, str], int] = defaultdict(
        int
    )  # (reservation id, period) -> covered instance-hours
    ri_hours: dict[tuple[str, str], int] = defaultdict(int)  # active hours in period
    sp_used: dict[tuple[str, str], Decimal] = defaultdict(Decimal)  # (plan id, period) -> commitment used
    sp_hours: dict[tuple[str, str], int] = defaultdict(int)  # active hours in period
    reservations = list(scenario.reservations())
    for hour in hours:
        end = hour + HOUR
        period = hour.strftime("%Y-%m")
        active = [r for r in reservations if r.start <= hour < r.end]
        for r in active:
            ri_hours[(r.id, period)] += 1
        for plan in plans:
            if plan.active_at(hour):
                sp_hours[(plan.id, period)] += 1
        fleet = scenario.fleet_at(hour)
        covered, _ = _allocate(scenario, hour, fleet)
        for index, unit in enumerate(fleet):
            code, pname, usage_word, operation, unit_name = PRODUCT[unit.kind]
            prefix = REGION_PREFIX.get(unit.region, "")
            tags = _tags(unit)
            if unit.kind == "dynamodb":
                for cap, rate, word in (
                    (unit.read_capacity, RCU_RATE, "ReadCapacityUnit-Hrs"),
                    (unit.write_capacity, WCU_RATE, "WriteCapacityUnit-Hrs"),
                ):
                    if unit.on_demand or not cap:
                        continue
                    cost = q(rate * cap)
                    lines.append(
                        Line(
                            unit.account,
                            unit.kind,
                            "Usage",
                            hour,
                            end,
                            unit.region,
                            None,
                            f"arn:aws:dynamodb:{unit.region}:{unit.account}:table/{unit.type}",
                            None,
                            None,
                            None,
                            f"{prefix}{word}",
                            operation,
                            Decimal(cap),
                            rate,
                            cost,
                            cost,
                            rate,
                            f"${rate} per {word} for {unit.type}",
                            code,
                            pname,
                            word,
                            tags,
                        )
                    )
                continue
            rate = rate_of(unit.kind, unit.type, unit.os)
            word_here = usage_word
            if unit.kind == "rds" and unit.multi_az:
                # AWS bills a Multi-AZ DB instance as Multi-AZUsage:<class>, at twice the single-AZ rate
                # (a standby in a second AZ).
                word_here, rate = "Multi-AZUsage", rate * 2
            for rid in unit.ids:
                usage_type = f"{prefix}{'SpotUsage' if unit.spot else word_here}:{unit.type}"
                base = {
                    "account": unit.account,
                    "kind": unit.kind,
                    "start": hour,
                    "end": end,
                    "region": unit.region,
                    "az": unit.az,
                    "resource": rid,
                    "itype": unit.type,
                    "os": unit.os,
                    "engine": unit.engine,
                    "usage_type": usage_type,
                    "operation": _operation(operation, unit.kind, unit.os),
                    "amount": Decimal(1),
                    "product_code": code,
                    "product_name": pname,
                    "unit": unit_name,
                    "tags": tags,
                    "public_cost": q(rate),
                    "public_rate": rate,
                }
                if unit.spot:
                    spot = q(rate * SPOT_FACTOR)
                    lines.append(
                        Line(
                            line_type="Usage",
                            rate=spot,
                            unblended=spot,
                            description=f"Spot {unit.type} instance-hour",
                            **base,
                        )
                    )
                    continue
                cover = covered.get((index, rid))
                if cover is not None and not hasattr(cover, "commitment"):  # a reservation
                    ri = cover
                    ri_used[(ri.id, period)] += 1
                    amortized = q(Decimal(ri.fixed_price) * 3600 / ri.duration_seconds)
                    lines.append(
                        Line(
                            line_type="DiscountedUsage",
                            rate=Decimal(0),
                            unblended=Decimal(0),
                            description=f"{unit.type} reserved instance applied",
                            ri_arn=_ri_arn(ri),
                            ri_effective=amortized + q(Decimal(ri.usage_price)),
                            ri_recurring=q(Decimal(ri.usage_price)),
                            ri_amortized=amortized,
                            **base,
                        )
                    )
                    continue
                if cover is not None:  # a Savings Plan
                    sp_cost = q(rate * cover.discount)
                    sp_used[(cover.id, period)] += sp_cost
                    od = q(rate)
                    lines.append(
                        Line(
                            line_type="SavingsPlanCoveredUsage",
                            rate=rate,
                            unblended=od,
                            description=f"{unit.type} covered by Savings Plan",
                            sp_arn=cover.arn,
                            sp_effective=sp_cost,
                            sp_rate=sp_cost,
                            **base,
                        )
                    )
                    neg = dict(base, public_cost=Decimal(0))
                    lines.append(
                        Line(
                            line_type="SavingsPlanNegation",
                            rate=rate,
                            unblended=-od,
                            description=f"SavingsPlanNegation used by AccountId : {unit.account}",
                            sp_arn=cover.arn,
                            **neg,
                        )
                    )
                    continue
                od = q(rate)
                lines.append(
                    Line(
                        line_type="Usage",
                        rate=rate,
                        unblended=od,
                        description=f"${rate} per On Demand {unit.type} instance-hour",
                        **base,
                    )
                )
    periods = sorted({h.strftime("%Y-%m") for h in hours})
    for period in periods:
        pstart, pend = period_of(datetime.strptime(period, "%Y-%m").replace(tzinfo=UTC))
        for r in reservations:
            n_hours = ri_hours.get((r.id, period), 0)
            if not n_hours:
                continue
            unit_hours = n_hours * r.count
            used = ri_used.get((r.id, period), 0)
            unused = unit_hours - used
            lines.append(rifee_line(r, pstart, pend, Decimal(unit_hours), Decimal(unused)))
        for plan in plans:
            n_hours = sp_hours.get((plan.id, period), 0)
            if not n_hours:
                continue
            lines.append(spfee_line(plan, pstart, pend, Decimal(n_hours), q(sp_used[(plan.id, period)])))
        # Tax per account and product code, on what that product cost, as a real CUR books it; a credit
        # against the charges it offsets (a promotional credit covers at most what the account was billed,
        # its largest products first), never as one EC2 line.
        per_product: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
        usage: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)  # what a credit may offset
        for line in lines:
            if _month(line.start) == period and line.line_type not in ("Tax", "Credit", "Refund"):
                key = (line.account, line.product_code, line.product_name)
                per_product[key] += line.unblended
                if line.line_type not in ("RIFee", "SavingsPlanRecurringFee", "SavingsPlanUpfrontFee", "Fee"):
                    usage[key] += line.unblended  # credits do not pay for commitments
        for (account, code, name), amount in sorted(per_product.items()):
            tax = q(amount * TAX_RATE)
            if tax <= 0:
                continue
            lines.append(
                Line(
                    account,
                    "tax",
                    "Tax",
                    pstart,
                    pend,
                    unblended=tax,
                    amount=Decimal(1),
                    description=f"Tax of {name} for the sandbox bill",
                    product_code=code,
                    product_name=name,
                    unit="",
                )
            )
        accounts = [a.id for a in scenario.accounts]
        left = -CREDIT
        offsets = sorted(
            (
                (amount, code, name)
                for (account, code, name), amount in usage.items()
                if account == management
            ),
            reverse=True,
        )
        for amount, code, name in offsets:
            applied = min(left, q(amount))
            if applied <= 0:
                break
            left -= applied
            lines.append(
                Line(
                    management,
                    "credit",
                    "Credit",
                    pstart,
                    pend,
                    unblended=-applied,
                    amount=Decimal(1),
                    description="AWS Promotional credit",
                    product_code=code,
                    product_name=name,
                    unit="",
                )
            )
        lines.append(
            Line(
                accounts[-1],
                "refund",
                "Refund",
                pstart,
                pend,
                unblended=REFUND,
                amount=Decimal(1),
                description="Refund for an unintended RDS snapshot charge",
                product_code="AmazonRDS",
                product_name="Amazon Relational Database Service",
                unit="",
            )
        )
    return lines


def _line_id(i: int, line: Line) -> str:
    return hashlib.sha1(
        f"{i}:{line.account}:{line.resource}:{line.start}:{line.line_type}".encode()
    ).hexdigest()[:52]


def cur_row(i: int, line: Line, payer: str, tag_keys: list[str]) -> list[str]:
    pstart, pend = period_of(line.start)
    row = {
        "identity/LineItemId": _line_id(i, line),
        "identity/TimeInterval": f"{iso(line.start)}/{iso(line.end)}",
        "bill/InvoicingEntity": "Amazon Web Services, Inc.",
        "bill/BillingEntity": "AWS",
        "bill/BillType": "Anniversary",
        "bill/PayerAccountId": payer,
        "bill/BillingPeriodStartDate": iso(pstart),
        "bill/BillingPeriodEndDate": iso(pend),
        "lineItem/UsageAccountId": line.account,
        "lineItem/LineItemType": line.line_type,
        "lineItem/UsageStartDate": iso(line.start),
        "lineItem/UsageEndDate": iso(line.end),
        "lineItem/ProductCode": line.product_code,
        "lineItem/UsageType": line.usage_type,
        "lineItem/Operation": line.operation,
        "lineItem/AvailabilityZone": line.az or "",
        "lineItem/ResourceId": line.resource or "",
        "lineItem/UsageAmount": str(line.amount),
        "lineItem/CurrencyCode": "USD",
        "lineItem/UnblendedRate": money(line.rate),
        "lineItem/UnblendedCost": money(line.unblended),
        "lineItem/BlendedRate": money(line.rate),
        "lineItem/BlendedCost": money(line.unblended),
        "lineItem/LineItemDescription": line.description,
        "lineItem/TaxType": "Sales Tax" if line.line_type == "Tax" else "",
        "lineItem/LegalEntity": "Amazon Web Services, Inc.",
        "product/ProductName": line.product_name,
        "product/cacheEngine": line.engine or "" if line.kind == "elasticache" else "",
        "product/databaseEngine": _engine_family(line.engine) if line.kind == "rds" else "",
        "product/instanceType": line.itype or "" if line.kind in PRODUCT else "",
        "product/location": vocabulary.REGION_NAMES.get(line.region or "", ""),
        "product/operatingSystem": _price_list_os(line.os) if line.kind == "ec2" else "",
        "product/region": line.region or "",
        "product/regionCode": line.region or "",
        "product/servicecode": line.product_code,
        "product/usagetype": line.usage_type,
        "pricing/currency": "USD",
        "pricing/publicOnDemandCost": money(line.public_cost) if line.kind in PRODUCT else "",
        "pricing/publicOnDemandRate": money(line.public_rate) if line.public_rate is not None else "",
        "pricing/term": "Reserved" if line.ri_arn and line.line_type == "DiscountedUsage" else "OnDemand",
        "pricing/unit": line.unit,
        "reservation/AmortizedUpfrontCostForUsage": money(line.ri_amortized)
        if line.line_type == "DiscountedUsage"
        else "",
        "reservation/AmortizedUpfrontFeeForBillingPeriod": money(line.ri_amortized)
        if line.line_type == "RIFee"
        else "",
        "reservation/EffectiveCost": money(line.ri_effective),
        "reservation/RecurringFeeForUsage": money(line.ri_recurring),
        "reservation/ReservationARN": line.ri_arn or "",
        "reservation/TotalReservedUnits": money(line.ri_units) if line.ri_units is not None else "",
        "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod": money(line.ri_unused_amortized),
        "reservation/UnusedRecurringFee": money(line.ri_unused_recurring),
        "savingsPlan/TotalCommitmentToDate": money(line.sp_total),
        "savingsPlan/SavingsPlanARN": line.sp_arn or "",
        "savingsPlan/SavingsPlanRate": money(line.sp_rate),
        "savingsPlan/UsedCommitment": money(line.sp_used),
        "savingsPlan/SavingsPlanEffectiveCost": money(line.sp_effective),
        "savingsPlan/RecurringCommitmentForBillingPeriod": money(line.sp_total),
        "product/sku": line.sku or "",
        "pricing/RateCode": line.rate_code or "",
    }
    tags = line.tags or {}
    return [row.get(c, "") for c in CUR_COLUMNS] + [tags.get(k, "") for k in tag_keys]


FOCUS_HEADER = (
    "AvailabilityZone",
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "CommitmentDiscountCategory",
    "CommitmentDiscountId",
    "CommitmentDiscountName",
    "CommitmentDiscountStatus",
    "CommitmentDiscountType",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "ListUnitPrice",
    "PricingCategory",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "RegionId",
    "RegionName",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "ServiceCategory",
    "ServiceName",
    "SkuId",
    "SkuPriceId",
    "SubAccountId",
    "SubAccountName",
    "Tags",
    "x_UsageType",
    "x_Operation",
    "x_ServiceCode",
)
CATEGORY = {
    "Usage": "Usage",
    "DiscountedUsage": "Usage",
    "SavingsPlanCoveredUsage": "Usage",
    "SavingsPlanNegation": "Usage",
    "RIFee": "Purchase",
    "SavingsPlanRecurringFee": "Purchase",
    "Tax": "Tax",
    "Credit": "Credit",
    "Refund": "Adjustment",
}


def focus_rows(line: Line, payer: str, names: dict[str, str]) -> list[list[str]]:
    """A line's FOCUS rows: one, or for a commitment fee two, as the spec's scenarios have it (the Purchase
    with EffectiveCost 0; the unused commitment, 0 when fully used, on a Usage row of its own)."""
    rows = [focus_row(line, payer, names)]
    if line.line_type in ("RIFee", "SavingsPlanRecurringFee"):
        rows.append(focus_row(line, payer, names, unused=True))
    return rows


def focus_row(line: Line, payer: str, names: dict[str, str], *, unused: bool = False) -> list[str]:
    pstart, pend = period_of(line.start)
    category = "Usage" if unused else CATEGORY[line.line_type]
    sp, ri = line.sp_arn, line.ri_arn
    status = (
        "Used"
        if line.line_type in ("DiscountedUsage", "SavingsPlanCoveredUsage", "SavingsPlanNegation")
        else "Unused"
        if unused
        else None
    )
    fee = line.line_type in ("RIFee", "SavingsPlanRecurringFee")
    # The prices as AWS's FOCUS export states them (the README's cost truth table): ContractedCost before
    # commitment discounts (RI-covered usage at its public on-demand cost, a negation and the unused row 0);
    # a fee at its own rate as list price; tax, credit and refund without price or quantity.
    contracted: Decimal = line.unblended
    contracted_price: Decimal | None = line.rate
    list_cost: Decimal = line.public_cost
    list_price: Decimal | None = line.public_rate
    quantity: Decimal | None = line.amount
    if line.line_type == "DiscountedUsage":
        contracted, contracted_price = line.public_cost, line.public_rate or Decimal(0)
    elif line.line_type == "SavingsPlanNegation" or unused:
        contracted, contracted_price, list_cost, list_price = Decimal(0), Decimal(0), Decimal(0), Decimal(0)
        quantity = Decimal(0) if unused else line.amount
    elif fee:
        list_cost, list_price = line.unblended, line.rate
    elif line.line_type in ("Tax", "Credit", "Refund"):
        contracted_price = list_price = quantity = None
    row: dict[str, Any] = {
        "AvailabilityZone": line.az,
        "BilledCost": money(Decimal(0) if unused else line.unblended),
        "BillingAccountId": payer,
        "BillingAccountName": names.get(payer),
        "BillingCurrency": "USD",
        "BillingPeriodEnd": iso(pend),
        "BillingPeriodStart": iso(pstart),
        "ChargeCategory": category,
        "ChargeDescription": line.description,
        "ChargeFrequency": "Recurring"
        if category == "Purchase"
        else "One-Time"
        if category != "Usage"
        else "Usage-Based",
        "ChargePeriodEnd": iso(line.end),
        "ChargePeriodStart": iso(line.start),
        "CommitmentDiscountCategory": "Spend" if sp else "Usage" if ri else None,
        "CommitmentDiscountId": sp or ri,
        "CommitmentDiscountStatus": status,
        "CommitmentDiscountType": "Savings Plan" if sp else "Reserved Instances (RI)" if ri else None,
        "ConsumedQuantity": str(line.amount) if category == "Usage" and not unused else None,
        "ConsumedUnit": line.unit if category == "Usage" and not unused else None,
        "ContractedCost": money(contracted),
        "ContractedUnitPrice": money(contracted_price) if contracted_price is not None else None,
        "EffectiveCost": money(line.effective if unused else Decimal(0) if fee else line.effective),
        "InvoiceIssuerName": "Amazon Web Services, Inc.",
        "ListCost": money(list_cost),
        "ListUnitPrice": money(list_price) if list_price is not None else None,
        "PricingCategory": (
            "Committed"
            if status in ("Used", "Unused")
            else "Dynamic"
            if "SpotUsage" in line.usage_type
            else "Standard"
            if category in ("Usage", "Purchase")
            else None
        ),
        "PricingQuantity": None if quantity is None else str(quantity),
        "PricingUnit": (line.unit or None) if quantity is not None else None,
        "ProviderName": "AWS",
        "PublisherName": "Amazon Web Services, Inc.",
        "RegionId": line.region,
        "RegionName": vocabulary.REGION_NAMES.get(line.region or ""),
        "ResourceId": (sp or ri) if unused else line.resource,
        "ServiceCategory": None,
        "ServiceName": line.product_name or line.product_code,
        "SkuId": line.sku,
        "SkuPriceId": line.rate_code,
        "SubAccountId": line.account,
        "SubAccountName": names.get(line.account),
        "Tags": json.dumps(line.tags, sort_keys=True) if line.tags else None,
        "x_UsageType": line.usage_type or None,
        "x_Operation": line.operation or None,
        "x_ServiceCode": line.product_code or None,
    }
    from awscost.billing.readers._sql import SERVICE_CATEGORY

    row["ServiceCategory"] = SERVICE_CATEGORY.get(line.product_code, "Other")
    return ["NULL" if row.get(c) is None else str(row[c]) for c in FOCUS_HEADER]


# The bill names OS and engine as AWS's bills do (usage operation code, Price List names), not in awscost's
# vocabulary, so reading it back exercises the same translation a real CUR needs.
def _operation(operation: str, kind: str, os_name: str | None) -> str:
    row = vocabulary.os_entry(os_name or "linux") if kind == "ec2" else None
    return f"{operation}:{row.operation}" if row is not None and row.operation else operation


def _price_list_os(os_name: str | None) -> str:
    row = vocabulary.os_entry(os_name or "linux")
    return row.price_list[0] if row is not None else (os_name or "")


def _engine_family(engine: str | None) -> str:
    row = vocabulary.engine_entry(engine or "")
    return row.family if row is not None else (engine or "")


def write_cur_period(rows: Iterable[list[str]], header: list[str], out_dir: Path, period: str) -> Path:
    """One CUR delivery of a period as AWS lays it out: `<report>/<YYYYMMDD-YYYYMMDD>/<assembly>/...csv.gz`
    plus `<report>/<YYYYMMDD-YYYYMMDD>/<report>-Manifest.json`; returns the manifest."""
    pstart, pend = period_of(datetime.strptime(period, "%Y-%m").replace(tzinfo=UTC))
    span = f"{pstart:%Y%m%d}-{pend:%Y%m%d}"
    assembly = hashlib.sha1(f"{REPORT}:{period}".encode()).hexdigest()[:8]
    folder = out_dir / REPORT / span
    (folder / assembly).mkdir(parents=True, exist_ok=True)
    key = f"{REPORT}/{span}/{assembly}/{REPORT}-00001.csv.gz"
    with gzip.open(out_dir / key, "wt", encoding="utf-8", newline="", compresslevel=6) as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    manifest = {
        "assemblyId": assembly,
        "account": "",
        "columns": [{"category": c.split("/")[0], "name": c.split("/", 1)[1]} for c in header],
        "charset": "UTF-8",
        "compression": "GZIP",
        "contentType": "text/csv",
        "reportId": hashlib.sha1(REPORT.encode()).hexdigest(),
        "reportName": REPORT,
        "billingPeriod": {"start": f"{pstart:%Y%m%dT%H%M%S}.000Z", "end": f"{pend:%Y%m%dT%H%M%S}.000Z"},
        "bucket": "sandbox-billing",
        "reportKeys": [key],
    }
    path = folder / f"{REPORT}-Manifest.json"
    path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return path


def write_bill(
    scenario: Any, hours: list[datetime], out_dir: Path, formats: tuple[str, ...] = ("cur", "focus")
) -> dict[str, Path]:
    """Write the sandbox bill for `hours`: {"cur": dir with report folders and manifests, "focus": dir of
    gzip CSV FOCUS exports, one per billing period}."""
    unknown = set(formats) - {"cur", "focus"}
    if unknown:
        from awscost.core.errors import InputError

        raise InputError(f"unknown bill format(s) {sorted(unknown)}", where="formats", hint="cur, focus")
    out_dir = Path(out_dir)
    lines = build_lines(scenario, hours)
    payer = next(a.id for a in scenario.accounts if a.management)
    names = {a.id: a.name for a in scenario.accounts}
    by_period: dict[str, list[tuple[int, Line]]] = defaultdict(list)
    for i, line in enumerate(lines):
        by_period[_month(line.start)].append((i, line))
    tag_keys = sorted({k for line in lines for k in (line.tags or {})})
    out: dict[str, Path] = {}
    if "cur" in formats:
        cur_dir = out_dir / "cur"
        header = list(CUR_COLUMNS) + [f"resourceTags/{k}" for k in tag_keys]
        for period, items in sorted(by_period.items()):
            write_cur_period((cur_row(i, ln, payer, tag_keys) for i, ln in items), header, cur_dir, period)
        out["cur"] = cur_dir
    if "focus" in formats:
        focus_dir = out_dir / "focus"
        focus_dir.mkdir(parents=True, exist_ok=True)
        for period, items in sorted(by_period.items()):
            with gzip.open(focus_dir / f"focus-{period}.csv.gz", "wt", encoding="utf-8", newline="") as fh:
                writer = csv.writer(fh, quoting=csv.QUOTE_MINIMAL)
                writer.writerow(FOCUS_HEADER)
                writer.writerows(r for _, ln in items for r in focus_rows(ln, payer, names))
        out["focus"] = focus_dir
    return out


def bill_totals(lines: Iterable[Line]) -> dict[str, Decimal]:
    """BilledCost and EffectiveCost sums of the generated lines (what a correct loader must report)."""
    items = list(lines)
    billed = sum((q(ln.unblended) for ln in items), Decimal(0))
    effective = sum((ln.effective for ln in items), Decimal(0))
    return {"BilledCost": billed, "EffectiveCost": effective}


def demo_step(ctx: Any) -> None:
    """The demo's billing step: write the bill for the demo's hours into out_dir/bill, load it into the
    dataset out_dir/billing, and print the cost by account and service (a rich table, or rows in ctx.fmt)."""
    from rich.table import Table

    from awscost.billing.bill import load, load_into
    from awscost.core.output import emit

    first, last = floor_hour(ctx.first_hour), floor_hour(ctx.last_hour)
    hours = [first + i * HOUR for i in range((last - first) // HOUR + 1)]
    written = write_bill(ctx.scenario, hours, Path(ctx.out_dir) / "bill")
    dataset = Path(ctx.out_dir) / "billing"
    load_into([written["cur"]], dataset)
    with load(dataset) as bill:
        frame = bill.summary(by=["SubAccountId", "ServiceName"], metric="EffectiveCost")
        billed, effective = bill.total("BilledCost"), bill.total("EffectiveCost")
    results = getattr(ctx, "results", None)
    if isinstance(results, dict):
        results["billing"] = {
            "dataset": dataset,
            "bill": written,
            "BilledCost": billed,
            "EffectiveCost": effective,
        }
    names = {a.id: a.name for a in ctx.scenario.accounts}
    rows = [
        {"SubAccountId": acc, "Account": names.get(acc, ""), "ServiceName": svc, "EffectiveCost": cost}
        for acc, svc, cost in frame.rows
    ]
    fmt = getattr(ctx, "fmt", "table")
    if fmt != "table":
        emit(rows, fmt)
        return
    table = Table(
        title=f"Sandbox bill by account and service: EffectiveCost {effective:,.2f} USD, "
        f"billed {billed:,.2f} USD"
    )
    table.add_column("Account")
    table.add_column("Service")
    table.add_column("EffectiveCost (USD)", justify="right")
    for r in rows:
        account = f"{r['SubAccountId']} ({r['Account']})" if r["SubAccountId"] else "-"
        table.add_row(account, str(r["ServiceName"] or "-"), f"{Decimal(r['EffectiveCost']):,.2f}")
    ctx.console.print(table)
