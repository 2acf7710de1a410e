"""Sandbox answers to Cost Explorer's GetCostAndUsage and GetCostForecast, computed from the sandbox's bill.

Sandbox only (never on a production path). Importing this module registers both operations in the layer,
where they take precedence over moto's own GetCostAndUsage (which answers only results injected beforehand).

The bill is `awscost_sandbox.bill.build_lines` for the hours that exist: from the scenario's start up to the
layer's simulated clock (its hour included), per billing month, memoized. A report's `--source ce` and
`--source billing` then agree to the cent on a bill written for the same hours: AmortizedCost is the bill's
EffectiveCost, UnblendedCost its BilledCost, each amount summed exactly and written with full precision
(Cost Explorer itself shows amounts with up to ten decimals; the sandbox never rounds them further).

Answered: DAILY granularity; GroupBy up to two of LINKED_ACCOUNT, SERVICE, RECORD_TYPE and TAG:key; Filter
with Dimensions (LINKED_ACCOUNT, SERVICE, RECORD_TYPE), Tags (Values, or MatchOptions ABSENT), And, Or,
Not; paging with NextPageToken past PAGE_SIZE groups. Days carry what the bill dates on them: a month's
fees, tax, credit and refund are on its first day, as the bill's ChargePeriodStart has them. SERVICE is
Cost Explorer's service name, not the bill's product name (`ce_service`); RECORD_TYPE is the bill's line item
type (RIFee, DiscountedUsage ...). The payer sees every account; a member account its own.

GetCostForecast: the mean daily cost of the month's hours so far (its hourly lines; the monthly fee, tax and
credit lines left out) times the days asked, with an interval from the spread of its complete days.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from awscost.core.timeutil import HOUR, floor_hour
from awscost_sandbox.layer import LayerError, current, page, register

PAGE_SIZE = 100  # groups per page (GetCostAndUsage takes no page size; a module constant, for tests)
DIMENSIONS = ("LINKED_ACCOUNT", "SERVICE", "RECORD_TYPE")
# The metrics the sandbox can answer, as (bill metric): no blended rates or discounts in the sandbox bill,
# so blended and net equal unblended, net amortized equals amortized.
METRICS = {
    "AmortizedCost": "effective",
    "NetAmortizedCost": "effective",
    "UnblendedCost": "billed",
    "NetUnblendedCost": "billed",
    "BlendedCost": "billed",
}
FORECAST_METRICS = {
    "AMORTIZED_COST": "effective",
    "NET_AMORTIZED_COST": "effective",
    "UNBLENDED_COST": "billed",
    "NET_UNBLENDED_COST": "billed",
    "BLENDED_COST": "billed",
}


# Cost Explorer's SERVICE is not the bill's product name for EC2 and tax. It splits AmazonEC2 by usage type:
# instance-hours (BoxUsage, SpotUsage, DedicatedUsage, HostUsage; reserved or Savings Plan covered alike, and
# a reservation's recurring fee, HeavyUsage) are "Amazon Elastic Compute Cloud - Compute" (the console's
# "EC2-Instances"); the rest of AmazonEC2 (EBS volumes and snapshots, NAT gateways, Elastic IPs, data
# transfer, CPU credits ...) is "EC2 - Other". It adds all taxes into one "Tax" service. Other services keep
# their product names ("Amazon Relational Database Service", "Savings Plans for AWS Compute usage" ...).
# Sources: the Vantage cloud cost handbook's "EC2-Other" page (handbook.vantage.sh/aws/services/
# ec2-other-pricing: EBS, snapshots, CPU credits, NAT gateways, data transfer, idle Elastic IPs); "What is
# EC2-Other" (dev.to/brianpregan: the console's EC2-Instances is "Amazon Elastic Compute Cloud - Compute",
# and with EC2-Other makes all of AmazonEC2); Cost Explorer's chart rules on taxes, "Cost Explorer adds all
# taxes together as a single component of your costs" (quoted at help.archera.ai/en/articles/5708553).
# Where a promotional credit on EC2 lands is not documented: the rule below puts it in EC2 - Other.
EC2_COMPUTE = "Amazon Elastic Compute Cloud - Compute"
EC2_OTHER = "EC2 - Other"
TAX = "Tax"
INSTANCE_USAGE = ("BoxUsage", "SpotUsage", "DedicatedUsage", "HostUsage", "ReservedHostUsage", "HeavyUsage")


def ce_service(line_type: str, product_code: str, product_name: str, usage_type: str) -> str:
    """Cost Explorer's SERVICE of a bill line. The sandbox bill's EC2 lines are instance-hours and their
    reservations' fees (Compute); it holds no EBS, NAT gateway or data transfer line, so EC2 - Other comes
    only of a promotional credit on EC2 (no usage type), when the credit lands there."""
    if line_type == "Tax":
        return TAX
    if product_code == "AmazonEC2":
        # "USW2-BoxUsage:m5.large": the region prefix, then the usage, then the instance type.
        usage = usage_type.split(":", 1)[0].rsplit("-", 1)[-1]
        return EC2_COMPUTE if usage in INSTANCE_USAGE else EC2_OTHER
    return product_name or product_code


@dataclass(frozen=True)
class _Row:
    """The bill's lines of one day, account, Cost Explorer service, line item type and tag set, summed."""

    day: date
    account: str
    service: str
    record_type: str
    tags: tuple[tuple[str, str], ...]  # Cost Explorer tag keys (no `user:` prefix) -> values
    effective: Decimal
    billed: Decimal
    hourly: bool  # an hour's line (not a month's fee, tax, credit or refund)


_MEMO: dict[tuple[int, datetime, datetime], tuple[Any, list[_Row]]] = {}


def _month(day: date) -> datetime:
    return datetime(day.year, day.month, 1, tzinfo=UTC)


def _next_month(start: datetime) -> datetime:
    return (start + timedelta(days=32)).replace(day=1)


def _existing(month: datetime) -> tuple[datetime, datetime] | None:
    """The first and last hour of `month` that exist: the scenario's start to the clock."""
    ctx = current()
    first = max(month, floor_hour(ctx.scenario.start))
    last = min(_next_month(month) - HOUR, floor_hour(ctx.clock))
    return (first, last) if first <= last else None


def month_rows(month: datetime) -> list[_Row]:
    """The bill of `month`'s existing hours, summed per day, account, service, line type and tags."""
    from awscost_sandbox.bill import build_lines, q

    span = _existing(month)
    if span is None:
        return []
    scenario = current().scenario
    key = (id(scenario), *span)
    found = _MEMO.get(key)
    if found is not None and found[0] is scenario:
        return found[1]
    first, last = span
    hours = [first + i * HOUR for i in range((last - first) // HOUR + 1)]
    sums: dict[tuple[Any, ...], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for line in build_lines(scenario, hours):
        tags = tuple(sorted((k.removeprefix("user:"), v) for k, v in (line.tags or {}).items()))
        hourly = line.end - line.start <= HOUR
        cell = sums[
            (
                line.start.date(),
                line.account,
                ce_service(line.line_type, line.product_code, line.product_name, line.usage_type),
                line.line_type,
                tags,
                hourly,
            )
        ]
        # What the bill's readers load: BilledCost is the unblended cost as written (10 places), the
        # EffectiveCost the FOCUS conversion of the line (`Line.effective`, also rounded once).
        cell[0] += line.effective
        cell[1] += q(line.unblended)
    rows = [
        _Row(day, account, service, rtype, tags, eff, billed, hourly)
        for (day, account, service, rtype, tags, hourly), (eff, billed) in sorted(sums.items())
    ]
    if len(_MEMO) > 16:
        _MEMO.clear()
    _MEMO[key] = (scenario, rows)
    return rows


def _visible(account: str, owner: str) -> bool:
    return account == current().scenario.management.id or account == owner


def _days(params: dict[str, Any]) -> tuple[date, date]:
    tp = params.get("TimePeriod") or {}
    try:
        start, end = date.fromisoformat(str(tp["Start"])[:10]), date.fromisoformat(str(tp["End"])[:10])
    except (KeyError, ValueError):
        raise LayerError("ValidationException", f"TimePeriod must give Start and End days: {tp}") from None
    if not start < end:
        raise LayerError("ValidationException", "Start date must be before End date")
    return start, end


def _rows(account: str, start: date, end: date) -> list[_Row]:
    out: list[_Row] = []
    month = _month(start)
    while month.date() < end:
        out += [r for r in month_rows(month) if start <= r.day < end and _visible(account, r.account)]
        month = _next_month(month)
    return out


def _dimension(row: _Row, key: str) -> str:
    if key == "LINKED_ACCOUNT":
        return row.account
    if key == "SERVICE":
        return row.service
    if key == "RECORD_TYPE":
        return row.record_type
    raise LayerError("ValidationException", f"the sandbox answers dimension {key!r} not; known: {DIMENSIONS}")


def matches(expr: dict[str, Any], row: _Row) -> bool:
    """Whether `row` passes a Cost Explorer Expression."""
    if expr.get("And"):
        return all(matches(e, row) for e in expr["And"])
    if expr.get("Or"):
        return any(matches(e, row) for e in expr["Or"])
    if expr.get("Not"):
        return not matches(expr["Not"], row)
    if expr.get("Dimensions"):
        dims = expr["Dimensions"]
        return _dimension(row, str(dims.get("Key"))) in set(dims.get("Values") or [])
    if expr.get("Tags"):
        tags = expr["Tags"]
        value = dict(row.tags).get(str(tags.get("Key")))
        options = tags.get("MatchOptions") or ["EQUALS"]
        if "ABSENT" in options:
            return not value
        values = set(tags.get("Values") or [])
        return value in values or (not value and "" in values)
    raise LayerError("ValidationException", f"the sandbox cannot filter with {sorted(expr)}")


def _group_keys(params: dict[str, Any]) -> list[tuple[str, str]]:
    groups = [(str(g.get("Type")), str(g.get("Key"))) for g in params.get("GroupBy") or []]
    if len(groups) > 2:
        raise LayerError("ValidationException", "GroupBy takes at most two groups")
    for kind, key in groups:
        if kind not in ("DIMENSION", "TAG") or (kind == "DIMENSION" and key not in DIMENSIONS):
            raise LayerError("ValidationException", f"the sandbox cannot group by {kind} {key}")
    return groups


def _key(row: _Row, kind: str, key: str) -> str:
    if kind == "TAG":
        return f"{key}${dict(row.tags).get(key, '')}"  # "Team$web"; "Team$" untagged
    return _dimension(row, key)


def _amounts(values: Iterable[tuple[str, Decimal]], metrics: list[str]) -> dict[str, Any]:
    sums = {"effective": Decimal(0), "billed": Decimal(0)}
    for field, amount in values:
        sums[field] += amount
    return {m: {"Amount": _s(sums[METRICS[m]]), "Unit": "USD"} for m in metrics}


def _s(value: Decimal) -> str:
    """Full precision, no exponent, no trailing zeros of the scale (what the bill sums to)."""
    text = format(value.normalize(), "f") if value else "0"
    return text


def cost_and_usage(params: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    if params.get("Granularity", "DAILY") != "DAILY":
        raise LayerError("ValidationException", "the sandbox answers DAILY granularity only")
    metrics = list(params.get("Metrics") or [])
    unknown = [m for m in metrics if m not in METRICS]
    if not metrics or unknown:
        raise LayerError(
            "ValidationException", f"the sandbox answers the metrics {sorted(METRICS)}: {unknown}"
        )
    start, end = _days(params)
    groups = _group_keys(params)
    flt = params.get("Filter")
    rows = [r for r in _rows(account, start, end) if flt is None or matches(flt, r)]
    by_day: dict[date, dict[tuple[str, ...], list[_Row]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        by_day[r.day][tuple(_key(r, kind, key) for kind, key in groups)].append(r)
    items: list[dict[str, Any]] = []
    day = start
    while day < end:
        cells = by_day.get(day, {})
        if not groups or not cells:  # the day's total, or a day without cost
            items.append({"day": day, "keys": None, "rows": cells.get((), [])})
        else:
            items += [{"day": day, "keys": list(keys), "rows": cells[keys]} for keys in sorted(cells)]
        day += timedelta(days=1)
    # GetCostAndUsage has no page-size parameter ("MaxResults" is never given): PAGE_SIZE groups a page.
    chunk, token = page(
        items, params, limit_key="MaxResults", token_key="NextPageToken", default=PAGE_SIZE, minimum=1
    )
    clock_month = _month(current().clock.date())
    results: list[dict[str, Any]] = []
    for item in chunk:
        if not results or results[-1]["_day"] != item["day"]:
            d = item["day"]
            results.append(
                {
                    "_day": d,
                    "TimePeriod": {"Start": d.isoformat(), "End": (d + timedelta(days=1)).isoformat()},
                    "Total": {},
                    "Groups": [],
                    "Estimated": _month(d) >= clock_month,
                }
            )
        values = [(f, getattr(r, f)) for r in item["rows"] for f in ("effective", "billed")]
        if item["keys"] is None:
            if not groups:
                results[-1]["Total"] = _amounts(values, metrics)
            continue
        results[-1]["Groups"].append({"Keys": item["keys"], "Metrics": _amounts(values, metrics)})
    for result in results:
        del result["_day"]
    answer: dict[str, Any] = {
        "GroupDefinitions": [{"Type": kind, "Key": key} for kind, key in groups],
        "ResultsByTime": results,
        "DimensionValueAttributes": [],
        **token,
    }
    if ("DIMENSION", "LINKED_ACCOUNT") in groups:
        names = {a.id: a.name for a in current().scenario.accounts}
        seen = sorted({r.account for r in rows})
        answer["DimensionValueAttributes"] = [
            {"Value": a, "Attributes": {"description": names.get(a, a)}} for a in seen
        ]
    return answer


def cost_forecast(params: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    metric = FORECAST_METRICS.get(str(params.get("Metric")))
    if metric is None:
        raise LayerError("ValidationException", f"the sandbox forecasts {sorted(FORECAST_METRICS)}")
    granularity = params.get("Granularity", "MONTHLY")
    if granularity not in ("MONTHLY", "DAILY"):
        raise LayerError("ValidationException", "Granularity must be DAILY or MONTHLY")
    start, end = _days(params)
    clock = floor_hour(current().clock)
    if start < clock.date():
        raise LayerError("ValidationException", "Start date must be equal to or later than the current date")
    level = int(params.get("PredictionIntervalLevel") or 80)
    if not 51 <= level <= 99:
        raise LayerError("ValidationException", "PredictionIntervalLevel must be between 51 and 99")
    month = _month(clock.date())
    span = _existing(month)
    flt = params.get("Filter")
    rows = [
        r
        for r in (_rows(account, month.date(), clock.date() + timedelta(days=1)) if span else [])
        if r.hourly and (flt is None or matches(flt, r))
    ]
    if span is None or not rows:
        raise LayerError("DataUnavailableException", "no cost in the month so far to forecast from")
    hours = (span[1] - span[0]) // HOUR + 1
    total = sum((getattr(r, metric) for r in rows), Decimal(0))
    daily = total * 24 / hours
    # The spread of the complete days so far; with fewer than two, a tenth of the mean.
    per_day: dict[date, Decimal] = defaultdict(Decimal)
    for r in rows:
        per_day[r.day] += getattr(r, metric)
    first_whole = span[0].date() + timedelta(days=1 if span[0].hour else 0)
    complete = [v for d, v in per_day.items() if first_whole <= d < clock.date()]
    spread = Decimal(str(statistics.stdev(complete))) if len(complete) >= 2 else daily / 10
    z = Decimal(str(round(statistics.NormalDist().inv_cdf(0.5 + level / 200), 6)))
    periods: list[dict[str, Any]] = []
    grand = Decimal(0)
    d = start
    while d < end:
        stop = min(end, _next_month(_month(d)).date()) if granularity == "MONTHLY" else d + timedelta(days=1)
        n = Decimal((stop - d).days)
        mean = _q(daily * n)
        grand += mean
        half = z * spread * n.sqrt()
        periods.append(
            {
                "TimePeriod": {"Start": d.isoformat(), "End": stop.isoformat()},
                "MeanValue": _s(mean),
                "PredictionIntervalLowerBound": _s(_q(mean - half)),
                "PredictionIntervalUpperBound": _s(_q(mean + half)),
            }
        )
        d = stop
    return {"Total": {"Amount": _s(grand), "Unit": "USD"}, "ForecastResultsByTime": periods}


def _q(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.0000000001"))


register("ce", "GetCostAndUsage", cost_and_usage)
register("ce", "GetCostForecast", cost_forecast)
