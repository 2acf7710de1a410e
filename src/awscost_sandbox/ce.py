"""Sandbox answers to the Cost Explorer operations moto lacks, computed from the scenario.

Sandbox only (never on a production path). Importing this module registers, in the sandbox layer:
GetReservationCoverage, GetReservationUtilization, GetReservationPurchaseRecommendation,
GetSavingsPlansPurchaseRecommendation, GetSavingsPlansUtilization and GetSavingsPlansCoverage (the Savings
Plans' use as the sandbox bill applies them). Usage comes from `scenario.fleet_at(hour)` (spot excluded), owned
reservations from `scenario.active_reservations(hour)`, up to the layer's simulated clock.

The recommendation imitates what Cost Explorer is known to do, so that its differences from our plan are the
real ones: it looks back 7/30/60 days, counts each instance type on its own (no size flexibility across the
family), counts reservations that are about to expire as owned, and prices with the packaged snapshot. The
payer (management account) sees the whole Organization; a member account sees its own usage.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from awscost.core import vocabulary
from awscost.core.timeutil import HOUR, floor_hour
from awscost.usage import kinds as catalog
from awscost_sandbox.layer import LayerError, current, page, register
from awscost_sandbox.scenario import FleetUnit, SandboxReservation

# Cost Explorer's service name -> the fleet's kind (the service name), from awscost's catalog; plus the
# name OpenSearch had before its rename.
SERVICE_KIND = {s.ce_service: str(s.service) for s in catalog.CATALOG if s.ce_service}
SERVICE_KIND["Amazon Elasticsearch Service"] = "es"
LOOKBACK_DAYS = {"SEVEN_DAYS": 7, "THIRTY_DAYS": 30, "SIXTY_DAYS": 60}
TERM = {"ONE_YEAR": "1y", "THREE_YEARS": "3y"}
PAYMENT = {"NO_UPFRONT": "no", "PARTIAL_UPFRONT": "partial", "ALL_UPFRONT": "all"}


def _s(value: float | Decimal) -> str:
    return f"{float(value):.2f}"


def _unit_key(kind: str, type: str, os: str | None, engine: str | None, multi_az: bool) -> tuple[str, ...]:
    return (kind, type, os or "", engine or "" if kind == "rds" else "", "multi" if multi_az else "")


def _fleet_key(u: FleetUnit) -> tuple[str, ...]:
    return _unit_key(u.kind, u.type, u.os if u.kind == "ec2" else None, u.engine, u.multi_az)


def _ri_key(r: SandboxReservation) -> tuple[str, ...]:
    return _unit_key(
        r.kind.removeprefix("ri-"), r.type, r.os if r.kind == "ri-ec2" else None, r.engine, r.multi_az
    )


def _visible(account: str, owner: str) -> bool:
    ctx = current()
    return account == ctx.scenario.management.id or account == owner


def _hours(start: datetime, end: datetime) -> Iterable[datetime]:
    clock = current().clock
    h = floor_hour(start)
    while h < end and h <= clock:
        yield h
        h += HOUR


_FLEET: dict[tuple[int, datetime], list[FleetUnit]] = {}


def _fleet(hour: datetime) -> list[FleetUnit]:
    """scenario.fleet_at, memoized: every CE operation walks the same hours again."""
    scenario = current().scenario
    key = (scenario.seed, hour)  # the scenario is a pure function of its seed
    found = _FLEET.get(key)
    if found is None:
        if len(_FLEET) > 20_000:
            _FLEET.clear()
        found = _FLEET[key] = scenario.fleet_at(hour)
    return found


def _usage(kind: str, account: str, hour: datetime) -> dict[tuple[str, tuple[str, ...]], int]:
    """(region, unit key) -> running count of `kind` visible to `account` in that hour."""
    out: dict[tuple[str, tuple[str, ...]], int] = defaultdict(int)
    for u in _fleet(hour):
        if u.kind == kind and not u.spot and _visible(account, u.account):
            out[(u.region, _fleet_key(u))] += u.count
    return out


def _owned(kind: str, account: str, hour: datetime) -> dict[tuple[str, tuple[str, ...]], int]:
    out: dict[tuple[str, tuple[str, ...]], int] = defaultdict(int)
    for r in current().scenario.active_reservations(hour):
        if r.kind == f"ri-{kind}" and _visible(account, r.account):
            out[(r.region, _ri_key(r))] += r.count
    return out


def _service_filter(params: dict[str, Any]) -> str:
    dims = (params.get("Filter") or {}).get("Dimensions") or {}
    if dims.get("Key") != "SERVICE" or not dims.get("Values"):
        raise LayerError("ValidationException", "the sandbox needs a SERVICE dimension filter")
    service = SERVICE_KIND.get(dims["Values"][0])
    if service is None:
        raise LayerError("ValidationException", f"service {dims['Values'][0]!r} has no reservations")
    return service


def _days(params: dict[str, Any]) -> list[datetime]:
    tp = params["TimePeriod"]
    start = datetime.strptime(tp["Start"], "%Y-%m-%d").replace(tzinfo=UTC)
    end = datetime.strptime(tp["End"], "%Y-%m-%d").replace(tzinfo=UTC)
    out = []
    d = start
    while d < end:
        out.append(d)
        d += timedelta(days=1)
    return out


def reservation_coverage(params: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    kind = _service_filter(params)
    by_time = []
    for day in _days(params):
        per_region: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for h in _hours(day, day + timedelta(days=1)):
            owned = _owned(kind, account, h)
            for (reg, key), n in _usage(kind, account, h).items():
                covered = min(n, owned.get((reg, key), 0))
                per_region[reg][0] += n
                per_region[reg][1] += covered
        groups = [
            {
                "Attributes": {"region": reg},
                "Coverage": {
                    "CoverageHours": {
                        "OnDemandHours": _s(total - covered),
                        "ReservedHours": _s(covered),
                        "TotalRunningHours": _s(total),
                        "CoverageHoursPercentage": _s(100 * covered / total if total else 0),
                    }
                },
            }
            for reg, (total, covered) in sorted(per_region.items())
        ]
        end = day + timedelta(days=1)
        by_time.append(
            {"TimePeriod": {"Start": f"{day:%Y-%m-%d}", "End": f"{end:%Y-%m-%d}"}, "Groups": groups}
        )
    chunk, token = page(
        by_time, params, limit_key="MaxResults", token_key="NextPageToken", default=31, minimum=1
    )
    return {"CoveragesByTime": chunk, **token}


def reservation_utilization(params: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    kind = _service_filter(params)
    by_time = []
    for day in _days(params):
        purchased = used = 0.0
        for h in _hours(day, day + timedelta(days=1)):
            usage = _usage(kind, account, h)
            for key, n in _owned(kind, account, h).items():
                purchased += n
                used += min(n, usage.get(key, 0))
        pct = 100 * used / purchased if purchased else 0.0
        end = day + timedelta(days=1)
        total = {
            "UtilizationPercentage": _s(pct),
            "PurchasedHours": _s(purchased),
            "TotalActualHours": _s(used),
            "UnusedHours": _s(purchased - used),
        }
        by_time.append({"TimePeriod": {"Start": f"{day:%Y-%m-%d}", "End": f"{end:%Y-%m-%d}"}, "Total": total})
    chunk, token = page(
        by_time, params, limit_key="MaxResults", token_key="NextPageToken", default=31, minimum=1
    )
    return {"UtilizationsByTime": chunk, **token}


def _instance_details(kind: str, region: str, key: tuple[str, ...]) -> dict[str, Any]:
    _, itype, os_name, engine, multi = key
    os_row = vocabulary.os_entry(os_name or "linux")
    engine_row = vocabulary.engine_entry(engine)
    if kind == "ec2":
        return {
            "EC2InstanceDetails": {
                "Family": itype.split(".")[0],
                "InstanceType": itype,
                "Region": region,
                "Platform": os_row.platform if os_row else "Linux/UNIX",
                "Tenancy": "shared",
                "CurrentGeneration": True,
                "SizeFlexEligible": bool(os_row and os_row.size_flexible),
            }
        }
    if kind == "rds":
        return {
            "RDSInstanceDetails": {
                "Family": itype.rsplit(".", 1)[0],
                "InstanceType": itype,
                "Region": region,
                "DatabaseEngine": engine_row.family if engine_row else engine,
                "DatabaseEdition": (engine_row.edition or "") if engine_row else "",
                "DeploymentOption": "Multi-AZ" if multi else "Single-AZ",
                "LicenseModel": "No license required",
                "CurrentGeneration": True,
                "SizeFlexEligible": bool(engine_row and engine_row.size_flexible),
            }
        }
    if kind == "elasticache":
        return {
            "ElastiCacheInstanceDetails": {"NodeType": itype, "Region": region, "CurrentGeneration": True}
        }
    if kind == "es":
        cls, size = itype.split(".")[:2]
        return {"ESInstanceDetails": {"InstanceClass": cls, "InstanceSize": size, "Region": region}}
    return {"RedshiftInstanceDetails": {"NodeType": itype, "Region": region, "CurrentGeneration": True}}


def _lookback_matrix(
    kind: str, account: str, days: int
) -> tuple[list[tuple[str, tuple[str, ...]]], Any, Any]:
    import numpy as np

    clock = current().clock
    hours = list(_hours(clock - timedelta(days=days) + HOUR, clock + HOUR))
    series: dict[tuple[str, tuple[str, ...]], list[float]] = {}
    for i, h in enumerate(hours):
        for key, n in _usage(kind, account, h).items():
            series.setdefault(key, [0.0] * len(hours))[i] = n
    keys = sorted(series)
    owned_now = _owned(kind, account, clock)
    matrix = np.array([series[k] for k in keys], dtype=np.float32).reshape(len(keys), len(hours))
    owned = np.array([owned_now.get(k, 0) for k in keys], dtype=np.float64)
    return keys, matrix, owned


def purchase_recommendation(params: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    import numpy as np

    from awscost.planning import ri
    from awscost.planning.pricing.book import snapshot_book

    service = SERVICE_KIND.get(params["Service"])
    if service is None:
        raise LayerError("ValidationException", f"unsupported service {params['Service']!r}")
    days = LOOKBACK_DAYS.get(params.get("LookbackPeriodInDays", "SEVEN_DAYS"), 7)
    term = TERM[params.get("TermInYears", "ONE_YEAR")]
    payment = PAYMENT[params.get("PaymentOption", "ALL_UPFRONT")]
    keys, matrix, owned = _lookback_matrix(service, account, days)
    book = snapshot_book()
    od = np.full(len(keys), np.nan)
    rsv = np.full(len(keys), np.nan)
    rates = []
    for i, (reg, key) in enumerate(keys):
        kind, itype, os_name, engine, multi = key
        price = book.lookup(kind, itype, reg, os_name if kind == "ec2" else engine)
        rate = None if price is None or price.on_demand is None else price.reserved_rate(term, payment)
        rates.append((price, rate))
        if price is not None and price.on_demand is not None and rate is not None:
            mult = 2 if multi else 1
            od[i], rsv[i] = float(price.on_demand) * mult, float(rate.effective_hourly) * mult
    planned = ri.plan(matrix, owned, od, rsv, min_hours=24)
    details = []
    for i, (reg, key) in enumerate(keys):
        n = planned["recommended"][i]
        if not np.isfinite(n) or n <= 0:
            continue
        price, rate = rates[i]
        assert price is not None and rate is not None and price.on_demand is not None
        mult = 2 if key[4] else 1
        monthly_savings = float(planned["savings_opt"][i]) * 730
        upfront = float(rate.upfront) * mult * float(n)
        monthly_od = float(price.on_demand) * mult * float(n) * 730
        details.append(
            {
                "AccountId": account,
                "InstanceDetails": _instance_details(key[0], reg, key),
                "RecommendedNumberOfInstancesToPurchase": f"{int(n)}",
                "MinimumNumberOfInstancesUsedPerHour": _s(planned["min"][i]),
                "MaximumNumberOfInstancesUsedPerHour": _s(planned["max"][i]),
                "AverageNumberOfInstancesUsedPerHour": _s(planned["mean"][i]),
                "AverageUtilization": _s(100 * float(planned["utilization"][i])),
                "EstimatedBreakEvenInMonths": _s(
                    upfront / (monthly_savings + upfront / 12) if upfront else 0
                ),
                "CurrencyCode": "USD",
                "EstimatedMonthlySavingsAmount": _s(monthly_savings),
                "EstimatedMonthlySavingsPercentage": _s(
                    100 * monthly_savings / monthly_od if monthly_od else 0
                ),
                "EstimatedMonthlyOnDemandCost": _s(monthly_od),
                "UpfrontCost": _s(upfront),
                "RecurringStandardMonthlyCost": _s(float(rate.hourly) * mult * float(n) * 730),
            }
        )
    chunk, token = page(
        details, params, limit_key="PageSize", token_key="NextPageToken", default=10, minimum=1
    )
    rec = {
        "AccountScope": params.get("AccountScope", "PAYER"),
        "LookbackPeriodInDays": params.get("LookbackPeriodInDays", "SEVEN_DAYS"),
        "TermInYears": params.get("TermInYears", "ONE_YEAR"),
        "PaymentOption": params.get("PaymentOption", "ALL_UPFRONT"),
        "RecommendationDetails": chunk,
    }
    stamp = current().clock.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "Metadata": {"RecommendationId": f"sandbox-{service}-{days}", "GenerationTimestamp": stamp},
        "Recommendations": [rec] if chunk else [],
        **token,
    }


def savings_plans_recommendation(params: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    import numpy as np

    from awscost.planning import ri
    from awscost.planning.pricing.book import snapshot_book
    from awscost_sandbox.bill import savings_plan_spend

    days = LOOKBACK_DAYS.get(params.get("LookbackPeriodInDays", "SEVEN_DAYS"), 7)
    term = TERM[params.get("TermInYears", "ONE_YEAR")]
    payment = PAYMENT[params.get("PaymentOption", "NO_UPFRONT")]
    plan = "compute" if params.get("SavingsPlansType", "COMPUTE_SP") == "COMPUTE_SP" else "ec2instance"
    book = snapshot_book()
    # As Cost Explorer does, on the on-demand spend the reservations and Savings Plans owned left uncovered
    # (the bill's own allocation of them), priced with the snapshot.
    clock = current().clock
    hours = list(_hours(clock - timedelta(days=days) + HOUR, clock + HOUR))
    spend = np.zeros(len(hours))
    sp_cost = np.zeros(len(hours))
    for t, h in enumerate(hours):
        for unit, _rate, cover in savings_plan_spend(current().scenario, h):
            if cover is not None or not _visible(account, unit.account):
                continue
            price = book.lookup("ec2", unit.type, unit.region, unit.os or "linux")
            if (
                price is None
                or price.on_demand is None
                or f"{plan}/{term}/{payment}" not in price.savings_plans
            ):
                continue
            spend[t] += float(price.on_demand)
            sp_cost[t] += float(price.savings_plans[f"{plan}/{term}/{payment}"])
    ratio = float(sp_cost.sum() / spend.sum()) if spend.sum() > 0 else 1.0
    out = ri.plan(spend[None, :], 0.0, 1.0, ratio, granularity=0.001 / ratio, min_hours=24)
    level = float(out["recommended"][0])
    details = []
    if level > 0:
        details.append(
            {
                "AccountId": account,
                "HourlyCommitmentToPurchase": f"{level * ratio:.3f}",
                "EstimatedMonthlySavingsAmount": _s(float(out["savings_opt"][0]) * 730),
                "EstimatedSavingsPercentage": _s(100 * (1 - ratio)),
                "EstimatedAverageUtilization": _s(100 * float(out["utilization"][0])),
                "UpfrontCost": _s(level * ratio * 8760 if payment == "all" else 0),
                "CurrentAverageHourlyOnDemandSpend": _s(float(spend.mean()) if spend.size else 0),
                "CurrentMinimumHourlyOnDemandSpend": _s(float(spend.min()) if spend.size else 0),
                "CurrentMaximumHourlyOnDemandSpend": _s(float(spend.max()) if spend.size else 0),
                "CurrencyCode": "USD",
            }
        )
    return {
        "Metadata": {
            "RecommendationId": f"sandbox-sp-{days}",
            "LookbackPeriodInDays": params.get("LookbackPeriodInDays", "SEVEN_DAYS"),
        },
        "SavingsPlansPurchaseRecommendation": {
            "AccountScope": params.get("AccountScope", "PAYER"),
            "SavingsPlansType": params.get("SavingsPlansType", "COMPUTE_SP"),
            "TermInYears": params.get("TermInYears", "ONE_YEAR"),
            "PaymentOption": params.get("PaymentOption", "NO_UPFRONT"),
            "LookbackPeriodInDays": params.get("LookbackPeriodInDays", "SEVEN_DAYS"),
            "SavingsPlansPurchaseRecommendationDetails": details,
        },
    }


def _plans_visible(account: str) -> list[Any]:
    ctx = current()
    return [p for p in ctx.scenario.savings_plans() if _visible(account, p.account)]


def savings_plans_utilization(params: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    """Per day, the commitment of the Savings Plans the caller sees (the payer: all) and how much of it the
    bill's allocation used (`awscost_sandbox.bill.savings_plan_use`)."""
    from awscost_sandbox.bill import savings_plan_use

    plans = {p.id: p for p in _plans_visible(account)}
    by_time = []
    grand = [Decimal(0), Decimal(0), Decimal(0)]  # total, used, on-demand equivalent
    for day in _days(params):
        total = used = od_equivalent = Decimal(0)
        for h in _hours(day, day + timedelta(days=1)):
            for pid, spent in savings_plan_use(current().scenario, h).items():
                if pid in plans:
                    total += plans[pid].commitment
                    used += spent
                    od_equivalent += spent / plans[pid].discount
        if not total:
            continue
        for i, v in enumerate((total, used, od_equivalent)):
            grand[i] += v
        by_time.append(
            {
                "TimePeriod": {"Start": f"{day:%Y-%m-%d}", "End": f"{day + timedelta(days=1):%Y-%m-%d}"},
                **_sp_utilization(total, used, od_equivalent),
            }
        )
    return {"SavingsPlansUtilizationsByTime": by_time, "Total": _sp_utilization(*grand)}


def _sp_utilization(total: Decimal, used: Decimal, od_equivalent: Decimal) -> dict[str, Any]:
    return {
        "Utilization": {
            "TotalCommitment": _s(total),
            "UsedCommitment": _s(used),
            "UnusedCommitment": _s(total - used),
            "UtilizationPercentage": _s(100 * used / total if total else 0),
        },
        "Savings": {"NetSavings": _s(od_equivalent - total), "OnDemandCostEquivalent": _s(od_equivalent)},
        "AmortizedCommitment": {
            "AmortizedRecurringCommitment": _s(total),
            "AmortizedUpfrontCommitment": "0.00",
            "TotalAmortizedCommitment": _s(total),
        },
    }


def savings_plans_coverage(params: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    """Per day and region, the on-demand-equivalent EC2 spend the Savings Plans covered and the on-demand
    spend left (usage reservations cover is not eligible), for the usage the caller sees."""
    from awscost_sandbox.bill import savings_plan_spend

    groups = [g.get("Key") for g in params.get("GroupBy") or []]
    if groups not in ([], ["REGION"]):
        raise LayerError(
            "ValidationException", f"the sandbox groups Savings Plans coverage by REGION only: {groups}"
        )
    rows = []
    for day in _days(params):
        per_region: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
        for h in _hours(day, day + timedelta(days=1)):
            for unit, rate, cover in savings_plan_spend(current().scenario, h):
                if _visible(account, unit.account):
                    per_region[unit.region if groups else "all"][0 if cover is not None else 1] += rate
        for reg, (covered, on_demand) in sorted(per_region.items()):
            total = covered + on_demand
            rows.append(
                {
                    "Attributes": {"region": reg} if groups else {},
                    "Coverage": {
                        "SpendCoveredBySavingsPlans": _s(covered),
                        "OnDemandCost": _s(on_demand),
                        "TotalCost": _s(total),
                        "CoveragePercentage": _s(100 * covered / total if total else 0),
                    },
                    "TimePeriod": {"Start": f"{day:%Y-%m-%d}", "End": f"{day + timedelta(days=1):%Y-%m-%d}"},
                }
            )
    chunk, token = page(rows, params, limit_key="MaxResults", token_key="NextToken", default=100, minimum=1)
    return {"SavingsPlansCoverages": chunk, **token}


register("ce", "GetReservationCoverage", reservation_coverage)
register("ce", "GetReservationUtilization", reservation_utilization)
register("ce", "GetReservationPurchaseRecommendation", purchase_recommendation)
register("ce", "GetSavingsPlansPurchaseRecommendation", savings_plans_recommendation)
register("ce", "GetSavingsPlansUtilization", savings_plans_utilization)
register("ce", "GetSavingsPlansCoverage", savings_plans_coverage)
