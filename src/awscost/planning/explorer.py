"""Cost Explorer: reservation coverage and utilization, RI and Savings Plans purchase recommendations.

Every call pages with NextPageToken (the original read only the first page). Daily results are stored as
usage items so trends can be plotted, with the kinds the original planned:

    ce-cov     region  -> {service: coverage % of running hours},  attrs["coverage"][service] = hours;
               service "savings-plans": % of eligible on-demand-equivalent spend the Savings Plans covered
    ce-util    "global" -> {service: utilization % of purchased hours}, attrs["utilization"][service] = totals;
               service "savings-plans": % of the Savings Plans' commitment used, with the $ owned and used
    ce-rec-7 / ce-rec-60   region -> {usage key: recommended count}, attrs["recommendations"] = details;
               region "global" -> {"compute-sp": hourly commitment $}, attrs["savings_plans"] = details

account = the payer account id or the organization name; time = the day (00:00 UTC). Usage keys use the
usage kinds' vocabulary (`linux-m5.large`, `multi_az-db.m5.large:postgres`, `cache.r6g.large` ...), so a
recommendation can be set against our own plan (`compare_with_plan`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from awscost.core import vocabulary
from awscost.core.errors import InputError
from awscost.store.base import UsageItem
from awscost.usage import kinds as catalog

if TYPE_CHECKING:
    from awscost.planning.plan import PlanResult, PlanRow

# From the kinds catalog: our service names -> Cost Explorer's SERVICE dimension values (and recommendation
# service names), and -> the usage kind whose reservations they are.
CE_SERVICE = {s.service: s.ce_service for s in catalog.CATALOG if s.ce_service and s.service}
SERVICE_KIND = {s.service: s.name for s in catalog.CATALOG if s.ce_service and s.service}
LOOKBACK = {7: "SEVEN_DAYS", 30: "THIRTY_DAYS", 60: "SIXTY_DAYS"}
TERM = {"1y": "ONE_YEAR", "3y": "THREE_YEARS"}
PAYMENT = {"no": "NO_UPFRONT", "partial": "PARTIAL_UPFRONT", "all": "ALL_UPFRONT"}


def _num(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _day(text: str) -> datetime:
    return datetime.strptime(text[:10], "%Y-%m-%d").replace(tzinfo=UTC)


def pages(call: Callable[..., Mapping[str, Any]], **kwargs: Any) -> Iterator[Mapping[str, Any]]:
    """Every response page of a Cost Explorer call, following NextPageToken."""
    while True:
        resp = call(**kwargs)
        yield resp
        token = resp.get("NextPageToken")
        if not token:
            return
        kwargs["NextPageToken"] = token


def _service(service: str) -> str:
    if service not in CE_SERVICE:
        raise InputError(f"unknown service {service!r}", param="service", hint=f"use {', '.join(CE_SERVICE)}")
    return CE_SERVICE[service]


def reservation_coverage(ce: Any, start: date, end: date, service: str) -> list[dict[str, Any]]:
    """Daily coverage of running hours by reservations, per region: one dict per (day, region)."""
    out = []
    for page in pages(
        ce.get_reservation_coverage,
        TimePeriod={"Start": start.isoformat(), "End": end.isoformat()},
        Granularity="DAILY",
        GroupBy=[{"Type": "DIMENSION", "Key": "REGION"}],
        Filter={"Dimensions": {"Key": "SERVICE", "Values": [_service(service)]}},
    ):
        for by_time in page.get("CoveragesByTime", []):
            day = by_time["TimePeriod"]["Start"][:10]
            for group in by_time.get("Groups", []):
                hours = group.get("Coverage", {}).get("CoverageHours", {})
                out.append(
                    {
                        "day": day,
                        "service": service,
                        "region": _attr(group, "region"),
                        "coverage_pct": _num(hours.get("CoverageHoursPercentage")),
                        "reserved_hours": _num(hours.get("ReservedHours")),
                        "on_demand_hours": _num(hours.get("OnDemandHours")),
                        "total_hours": _num(hours.get("TotalRunningHours")),
                    }
                )
    return out


def _attr(group: Mapping[str, Any], name: str) -> str | None:
    attrs = group.get("Attributes") or {}
    value = attrs.get(name) or attrs.get(name.upper())
    return None if value is None else str(value)


def reservation_utilization(ce: Any, start: date, end: date, service: str) -> list[dict[str, Any]]:
    """Daily utilization of purchased reservation hours: one dict per day."""
    out = []
    for page in pages(
        ce.get_reservation_utilization,
        TimePeriod={"Start": start.isoformat(), "End": end.isoformat()},
        Granularity="DAILY",
        Filter={"Dimensions": {"Key": "SERVICE", "Values": [_service(service)]}},
    ):
        for by_time in page.get("UtilizationsByTime", []):
            total = by_time.get("Total", {})
            out.append(
                {
                    "day": by_time["TimePeriod"]["Start"][:10],
                    "service": service,
                    "utilization_pct": _num(total.get("UtilizationPercentage")),
                    "purchased_hours": _num(total.get("PurchasedHours")),
                    "used_hours": _num(total.get("TotalActualHours")),
                    "unused_hours": _num(total.get("UnusedHours")),
                    "net_savings": _num(total.get("NetRISavings")),
                }
            )
    return out


# The service name Savings Plans rows carry in ce-cov / ce-util items, beside the reservations' services.
SAVINGS_PLANS = "savings-plans"


def savings_plans_utilization(ce: Any, start: date, end: date) -> list[dict[str, Any]]:
    """Daily utilization of the Savings Plans owned (all of them, the payer's view): one dict per day with
    the commitment ($) owned, used and unused over the day. GetSavingsPlansUtilization does not page."""
    resp = ce.get_savings_plans_utilization(
        TimePeriod={"Start": start.isoformat(), "End": end.isoformat()}, Granularity="DAILY"
    )
    out = []
    for by_time in resp.get("SavingsPlansUtilizationsByTime", []):
        util = by_time.get("Utilization") or {}
        savings = by_time.get("Savings") or {}
        out.append(
            {
                "day": by_time["TimePeriod"]["Start"][:10],
                "service": SAVINGS_PLANS,
                "utilization_pct": _num(util.get("UtilizationPercentage")),
                "total_commitment": _num(util.get("TotalCommitment")),
                "used_commitment": _num(util.get("UsedCommitment")),
                "unused_commitment": _num(util.get("UnusedCommitment")),
                "net_savings": _num(savings.get("NetSavings")),
                "on_demand_equivalent": _num(savings.get("OnDemandCostEquivalent")),
            }
        )
    return out


def savings_plans_coverage(ce: Any, start: date, end: date) -> list[dict[str, Any]]:
    """Daily coverage of eligible spend by Savings Plans, per region: the on-demand-equivalent spend the plans
    covered and what was paid on demand (usage reservations covered is not eligible spend)."""
    out = []
    kwargs: dict[str, Any] = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Granularity": "DAILY",
        "GroupBy": [{"Type": "DIMENSION", "Key": "REGION"}],
        "Metrics": ["SpendCoveredBySavingsPlans"],
    }
    while True:
        resp = ce.get_savings_plans_coverage(**kwargs)
        for row in resp.get("SavingsPlansCoverages", []):
            cov = row.get("Coverage") or {}
            attrs = row.get("Attributes") or {}
            out.append(
                {
                    "day": row["TimePeriod"]["Start"][:10],
                    "service": SAVINGS_PLANS,
                    "region": attrs.get("region") or attrs.get("REGION"),
                    "coverage_pct": _num(cov.get("CoveragePercentage")),
                    "covered_spend": _num(cov.get("SpendCoveredBySavingsPlans")),
                    "on_demand_cost": _num(cov.get("OnDemandCost")),
                    "total_cost": _num(cov.get("TotalCost")),
                }
            )
        token = resp.get("NextToken")
        if not token:
            return out
        kwargs["NextToken"] = token


def recommendation_key(service: str, details: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """(usage kind, region, usage key) of a recommendation's InstanceDetails, in our vocabulary."""
    if service == "ec2":
        d = details.get("EC2InstanceDetails") or {}
        os_name = vocabulary.from_platform_details(str(d.get("Platform") or ""))
        if os_name is None or not d.get("InstanceType"):
            return None
        return "ec2os", str(d.get("Region")), f"{os_name}-{d['InstanceType']}"
    if service == "rds":
        d = details.get("RDSInstanceDetails") or {}
        engine = vocabulary.engine_from_family(
            str(d.get("DatabaseEngine", "")), str(d.get("DatabaseEdition") or "") or None
        )
        if engine is None or not d.get("InstanceType"):
            return None
        prefix = "multi_az-" if str(d.get("DeploymentOption", "")).startswith("Multi-AZ") else ""
        return "rds", str(d.get("Region")), f"{prefix}{d['InstanceType']}:{engine}"
    if service == "es":
        d = details.get("ESInstanceDetails") or {}
        if not d.get("InstanceClass"):
            return None
        return "es", str(d.get("Region")), f"{d['InstanceClass']}.{d.get('InstanceSize')}.search"
    kind = SERVICE_KIND.get(service)
    spec = catalog.spec(kind) if kind else None
    if spec is not None and spec.ce_details:  # kinds keyed by the type alone (elasticache, redshift ...)
        section, field = spec.ce_details
        d = details.get(section) or {}
        return (kind, str(d.get("Region")), str(d[field])) if d.get(field) and kind else None
    return None


def ri_recommendations(
    ce: Any,
    service: str,
    *,
    lookback_days: int = 7,
    term: str = "1y",
    payment: str = "all",
    scope: str = "PAYER",
) -> list[dict[str, Any]]:
    """RI purchase recommendations, one dict per recommendation detail, keyed in our vocabulary."""
    if lookback_days not in LOOKBACK:
        raise InputError(f"lookback {lookback_days} days is not one of 7, 30, 60", param="lookback_days")
    kwargs: dict[str, Any] = {
        "Service": _service(service),
        "AccountScope": scope,
        "LookbackPeriodInDays": LOOKBACK[lookback_days],
        "TermInYears": TERM[term],
        "PaymentOption": PAYMENT[payment],
    }
    if service == "ec2":
        kwargs["ServiceSpecification"] = {"EC2Specification": {"OfferingClass": "STANDARD"}}
    out = []
    for page in pages(ce.get_reservation_purchase_recommendation, **kwargs):
        generated = (page.get("Metadata") or {}).get("GenerationTimestamp")
        for rec in page.get("Recommendations", []):
            for d in rec.get("RecommendationDetails", []):
                where = recommendation_key(service, d.get("InstanceDetails") or {})
                if where is None:
                    continue
                kind, region, key = where
                out.append(
                    {
                        "service": service,
                        "kind": kind,
                        "region": region,
                        "key": key,
                        "account": d.get("AccountId"),
                        "lookback_days": lookback_days,
                        "term": term,
                        "payment": payment,
                        "count": _num(d.get("RecommendedNumberOfInstancesToPurchase")) or Decimal(0),
                        "normalized_units": _num(d.get("RecommendedNormalizedUnitsToPurchase")),
                        "min_per_hour": _num(d.get("MinimumNumberOfInstancesUsedPerHour")),
                        "avg_per_hour": _num(d.get("AverageNumberOfInstancesUsedPerHour")),
                        "max_per_hour": _num(d.get("MaximumNumberOfInstancesUsedPerHour")),
                        "monthly_savings": _num(d.get("EstimatedMonthlySavingsAmount")),
                        "upfront": _num(d.get("UpfrontCost")),
                        "break_even_months": _num(d.get("EstimatedBreakEvenInMonths")),
                        "utilization_pct": _num(d.get("AverageUtilization")),
                        "generated": generated,
                    }
                )
    return out


def savings_plans_recommendation(
    ce: Any,
    *,
    plan_type: str = "COMPUTE_SP",
    lookback_days: int = 7,
    term: str = "1y",
    payment: str = "no",
    scope: str = "PAYER",
) -> list[dict[str, Any]]:
    """Savings Plans purchase recommendation details (hourly commitment, savings)."""
    out = []
    for page in pages(
        ce.get_savings_plans_purchase_recommendation,
        SavingsPlansType=plan_type,
        TermInYears=TERM[term],
        PaymentOption=PAYMENT[payment],
        AccountScope=scope,
        LookbackPeriodInDays=LOOKBACK[lookback_days],
    ):
        rec = page.get("SavingsPlansPurchaseRecommendation") or {}
        for d in rec.get("SavingsPlansPurchaseRecommendationDetails", []):
            out.append(
                {
                    "plan_type": plan_type,
                    "lookback_days": lookback_days,
                    "term": term,
                    "payment": payment,
                    "hourly_commitment": _num(d.get("HourlyCommitmentToPurchase")),
                    "monthly_savings": _num(d.get("EstimatedMonthlySavingsAmount")),
                    "savings_pct": _num(d.get("EstimatedSavingsPercentage")),
                    "utilization_pct": _num(d.get("EstimatedAverageUtilization")),
                    "upfront": _num(d.get("UpfrontCost")),
                    "avg_hourly_on_demand": _num(d.get("CurrentAverageHourlyOnDemandSpend")),
                }
            )
    return out


# --- items -------------------------------------------------------------------------------------------------
def _plain(row: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-safe copy (Decimal -> str) for item attributes."""
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in row.items()}


def coverage_items(rows: Iterable[Mapping[str, Any]], account: str) -> list[UsageItem]:
    by: dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]] = {}
    for r in rows:
        if r.get("coverage_pct") is None or not r.get("region"):
            continue
        usage, attrs = by.setdefault((str(r["day"]), str(r["region"])), ({}, {}))
        usage[str(r["service"])] = float(r["coverage_pct"])
        attrs[str(r["service"])] = _plain(r)
    return [
        UsageItem("ce-cov", account, region, _day(day), usage, {"coverage": attrs})
        for (day, region), (usage, attrs) in sorted(by.items())
    ]


def utilization_items(rows: Iterable[Mapping[str, Any]], account: str) -> list[UsageItem]:
    by: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for r in rows:
        if r.get("utilization_pct") is None:
            continue
        usage, attrs = by.setdefault(str(r["day"]), ({}, {}))
        usage[str(r["service"])] = float(r["utilization_pct"])
        attrs[str(r["service"])] = _plain(r)
    return [
        UsageItem("ce-util", account, "global", _day(day), usage, {"utilization": attrs})
        for day, (usage, attrs) in sorted(by.items())
    ]


def recommendation_items(rows: Iterable[Mapping[str, Any]], account: str, day: date) -> list[UsageItem]:
    """ce-rec-<lookback> items of one day, per (lookback, region)."""
    by: dict[tuple[int, str], tuple[dict[str, float], list[dict[str, Any]]]] = {}
    for r in rows:
        usage, details = by.setdefault((int(r["lookback_days"]), str(r["region"])), ({}, []))
        usage[str(r["key"])] = usage.get(str(r["key"]), 0.0) + float(r["count"])
        details.append(_plain(r))
    when = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return [
        UsageItem(f"ce-rec-{lookback}", account, region, when, usage, {"recommendations": details})
        for (lookback, region), (usage, details) in sorted(by.items())
    ]


def fetch_daily(
    ce: Any,
    *,
    account: str,
    today: date,
    services: Sequence[str] = tuple(CE_SERVICE),
    days: int = 7,
    term: str = "1y",
    payment: str = "all",
    lookbacks: Sequence[int] = (7, 60),
) -> list[UsageItem]:
    """The daily Cost Explorer collection: coverage and utilization (reservations per service, and the
    Savings Plans) of the last `days` days and the RI and Savings Plans recommendations for each lookback, as
    items ready for `store.put_items`."""
    start, end = today - timedelta(days=days), today
    cov: list[dict[str, Any]] = []
    util: list[dict[str, Any]] = []
    recs: list[dict[str, Any]] = []
    for service in services:
        cov += reservation_coverage(ce, start, end, service)
        util += reservation_utilization(ce, start, end, service)
        for lookback in lookbacks:
            recs += ri_recommendations(ce, service, lookback_days=lookback, term=term, payment=payment)
    # The Savings Plans owned, in the same items under the service name "savings-plans".
    cov += savings_plans_coverage(ce, start, end)
    util += savings_plans_utilization(ce, start, end)
    items = coverage_items(cov, account) + utilization_items(util, account)
    items += recommendation_items(recs, account, today)
    for lookback in lookbacks:
        sp = savings_plans_recommendation(ce, lookback_days=lookback, term=term, payment=payment)
        items += savings_plan_items(sp, account, today)
    return items


# How old a stored recommendation may be and still be set against a plan: Cost Explorer refreshes them daily,
# and the daily fetch may have missed a day or two. One window for every reader (command and workbook).
RECOMMENDATION_MAX_AGE = timedelta(days=7)


def stored_recommendations(
    store: Any, *, account: str, end: datetime, lookbacks: Sequence[int] = (7, 60)
) -> dict[int, list[UsageItem]]:
    """Per lookback, the ce-rec-<lookback> items of the latest day stored from RECOMMENDATION_MAX_AGE before
    the day of the history's last hour (`end` is exclusive) to the day after it (a fetch the next morning
    answers on the history up to then); lookbacks with none are absent."""
    last = end - timedelta(hours=1)
    until = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=2)
    since = until - timedelta(days=1) - RECOMMENDATION_MAX_AGE
    out: dict[int, list[UsageItem]] = {}
    for lookback in lookbacks:
        items = list(store.query(kind=f"ce-rec-{lookback}", account=account, since=since, until=until))
        if items:
            latest = max(i.time for i in items)
            out[lookback] = [i for i in items if i.time == latest]
    return out


def compare_stored(
    store: Any, plan: PlanResult, *, account: str, ce_lookback: int, plan_lookback_days: int
) -> tuple[list[dict[str, Any]], date | None]:
    """Our plan beside Cost Explorer's latest stored recommendation of `ce_lookback` days, and that
    recommendation's day (None when the store holds none in the window)."""
    latest = stored_recommendations(store, account=account, end=plan.inputs.end, lookbacks=(ce_lookback,))
    items = latest.get(ce_lookback, [])
    rows = compare_with_plan(plan.all_rows, items, plan_lookback_days=plan_lookback_days)
    return rows, items[0].time.date() if items else None


def stored_savings_plans_utilization(
    store: Any, *, account: str, end: datetime, days: int = 7
) -> tuple[float, str, str] | None:
    """Cost Explorer's utilization of the Savings Plans owned over the `days` stored before `end` (the
    commitment used / owned, summed over the days), with the first and last day; None when none is stored."""
    total = used = Decimal(0)
    seen: list[str] = []
    since = end - timedelta(days=days)
    for item in store.query(kind="ce-util", account=account, since=since, until=end):
        row = (item.attrs.get("utilization") or {}).get(SAVINGS_PLANS)
        if not row:
            continue
        owned, spent = _num(row.get("total_commitment")), _num(row.get("used_commitment"))
        if owned is None or spent is None:
            continue
        total, used = total + owned, used + spent
        seen.append(str(row.get("day") or item.time.date()))
    if not seen or total <= 0:
        return None
    return float(100 * used / total), min(seen), max(seen)


SP_KEY = "compute-sp"


def savings_plan_items(rows: Iterable[Mapping[str, Any]], account: str, day: date) -> list[UsageItem]:
    """ce-rec-<lookback> items in region "global": the recommended Compute Savings Plan commitment ($/h)."""
    by: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        if r.get("hourly_commitment") is not None:
            by.setdefault(int(r["lookback_days"]), []).append(_plain(r))
    when = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return [
        UsageItem(
            f"ce-rec-{lookback}",
            account,
            "global",
            when,
            {SP_KEY: round(sum(float(d["hourly_commitment"]) for d in details), 6)},
            {"savings_plans": details},
        )
        for lookback, details in sorted(by.items())
    ]


def compare_with_plan(
    plan_rows: Iterable[PlanRow], rec_items: Iterable[UsageItem], *, plan_lookback_days: int
) -> list[dict[str, Any]]:
    """Our recommendation beside AWS's per reservation group, with the reasons they differ.

    AWS's counts are folded into our groups (size-flexible families in normalized units) first.
    """
    from awscost.planning.flex import key_info

    aws: dict[tuple[str, str, str], dict[str, Any]] = {}
    for item in rec_items:
        lookback = int(item.kind.rsplit("-", 1)[1])
        for key, count in item.usage.items():
            if key == SP_KEY:
                slot = aws.setdefault(
                    ("savings-plan", "all", "compute"), {"units": 0.0, "keys": [], "lookback": lookback}
                )
                slot["units"] += float(count)
                slot["keys"].append(f"${count:g}/h Compute Savings Plan")
                continue
            info = key_info(_kind_of_key(item, key), key)
            slot = aws.setdefault(
                (info.kind, item.region, info.group), {"units": 0.0, "keys": [], "lookback": lookback}
            )
            slot["units"] += float(count) * info.factor
            slot["keys"].append(f"{count:g} x {key}")
    out = []
    seen = set()
    for r in plan_rows:
        if r.kind not in (*SERVICE_KIND.values(), "savings-plan"):
            continue
        k = (r.kind, r.region, r.key)
        seen.add(k)
        ours = float(r.recommended or 0.0)
        theirs = aws.get(k)
        out.append(_compare_row(k, ours, r, theirs, plan_lookback_days))
    for k, theirs in sorted(aws.items()):
        if k not in seen:
            out.append(_compare_row(k, None, None, theirs, plan_lookback_days))
    return out


def _kind_of_key(item: UsageItem, key: str) -> str:
    """The usage kind a ce-rec key belongs to, from the recommendation details stored beside it."""
    for d in item.attrs.get("recommendations") or []:
        if d.get("key") == key:
            return str(d.get("kind"))
    return "ec2os"


def _compare_row(
    k: tuple[str, str, str],
    ours: float | None,
    plan: PlanRow | None,
    theirs: Mapping[str, Any] | None,
    plan_lookback_days: int,
) -> dict[str, Any]:
    aws_units = None if theirs is None else round(float(theirs["units"]), 2)
    reasons = []
    if plan is None:
        reasons.append("no usage of this group in our history window")
    elif theirs is None and ours:
        reasons.append("AWS recommends nothing here")
    if theirs is not None and plan is not None and abs((ours or 0.0) - float(theirs["units"])) > 1e-6:
        if int(theirs["lookback"]) != plan_lookback_days:
            reasons.append(f"lookback: AWS {theirs['lookback']} days, ours {plan_lookback_days} days")
        if k[0] == "savings-plan":
            reasons.append(
                "ours covers only the EC2 spend left after our recommended RIs and the plans owned"
            )
        elif plan.flexible:
            reasons.append("size flexibility: we count the family's normalized units across all sizes")
        if plan.expiring_30d > 0:
            reasons.append(f"expirations: {plan.expiring_30d} units ending within 30 days planned as gone")
        reasons.append(f"rule: ours buys while share(usage >= owned+n) >= break-even {plan.breakeven}")
    return {
        "kind": k[0],
        "region": k[1],
        "key": k[2],
        "ours": ours,
        "aws": aws_units,
        "aws_purchase": None if theirs is None else ", ".join(theirs["keys"]),
        "aws_lookback_days": None if theirs is None else theirs["lookback"],
        "difference": None if ours is None or aws_units is None else round(ours - aws_units, 2),
        "why": "; ".join(reasons) if reasons else "agree",
    }
