"""Sandbox answers to GetAnomalyMonitors and GetAnomalies: AWS Cost Anomaly Detection EMULATED on the bill
history's injected anomalies (history.INJECTED), as AWS would report them. Sandbox only.

One monitor, of the management account, named as an emulation ("awscost sandbox: EMULATED AWS services
monitor", the ARN's id says `sandbox-emulated`): an AWS services monitor (DIMENSIONAL, SERVICE). A member
account has no monitor and sees no anomaly (monitors belong to the account that made them).

Its detections are derived, never written down: per injection of the history (`history_for` of the layer's
clock, the same history the demo loads), the daily cost of the injection's account x Cost Explorer service
(ce_costs.ce_service; usage lines, not the month's fees) and the injection's own cost that day
(History.injected). The emulation's assumptions, since AWS's model is unpublished:

- expected spend: the series without the injection (AWS's model is given a perfect expectation, so the
  differences shown are latency, granularity and explanation, not a worse forecast);
- sensitivity: a day is anomalous when its increase is at least MIN_IMPACT dollars and MIN_SHARE of the
  expected spend; consecutive such days are one anomaly (a ramp starts when it is large enough);
- increases only: AWS Cost Anomaly Detection reports spend increases ("abnormal or sudden spend increases",
  its FAQ), so the quiet drop is never reported;
- latency (awscost.anomalies.cost_explorer.aws_detected, the one model awscost uses to say when AWS knew):
  a day is in Cost Explorer 12 h after it ends and AWS's next run (00, 08, 16 UTC) flags it; an anomaly is
  listed once the clock is past that, its end the last day evaluated by the clock;
- retention: an anomaly that ended more than 90 days before the clock is no longer listed, as AWS's;
- what AWS says: amounts rounded to cents, AnomalyScore the largest day's increase over its expected spend
  (AWS's own scale is unpublished), one root cause (service, region, linked account and its name, usage
  type, contribution: the whole impact), dates as `YYYY-MM-DDT00:00:00Z`, DimensionValue the service.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from awscost.anomalies.cost_explorer import RETENTION_DAYS, RUN_HOURS, aws_detected
from awscost_sandbox.ce_costs import ce_service
from awscost_sandbox.history import INJECTED, PERIOD_TYPES, History, _injected_lines, history_for, window
from awscost_sandbox.layer import LayerError, current, page, register

MONITOR_NAME = "awscost sandbox: EMULATED AWS services monitor"
MIN_IMPACT = Decimal(100)  # dollars of increase a day (the emulation's assumption, see above)
MIN_SHARE = Decimal("0.2")  # and this share of the day's expected spend
CENT = Decimal("0.01")
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Detection:
    """One emulated AWS anomaly of one injection."""

    name: str
    account: str
    service: str  # Cost Explorer's
    region: str
    usage_type: str
    days: tuple[tuple[date, Decimal, Decimal], ...]  # (day, actual, expected), its evaluated days


def _money(value: Decimal) -> float:
    return float(value.quantize(CENT))


def _day(d: date) -> str:
    return f"{d.isoformat()}T00:00:00Z"


def monitor_arn(payer: str) -> str:
    return f"arn:aws:ce::{payer}:anomalymonitor/sandbox-emulated-{uuid.uuid5(uuid.NAMESPACE_URL, payer)}"


def _series(history: History) -> dict[tuple[str, str, date], Decimal]:
    """Usage cost per (account, Cost Explorer service, day) of the history (net unblended, as AWS watches)."""
    out: dict[tuple[str, str, date], Decimal] = defaultdict(Decimal)
    for ln in history.lines:
        if ln.line_type in PERIOD_TYPES:
            continue
        service = ce_service(ln.line_type, ln.product_code or "", ln.product_name or "", ln.usage_type or "")
        out[(ln.account, service, ln.start.date())] += ln.unblended
    return out


def detections(history: History, clock: datetime) -> list[Detection]:
    """What the emulated monitor has found by `clock` in `history`."""
    series = _series(history)
    out = []
    for inj in INJECTED:
        costs = history.injected.get(inj.name)
        if not costs:
            continue
        # The injection's own lines (history's builder of them) say its Cost Explorer service.
        own = next((ln for d in sorted(costs) for ln in _injected_lines(inj, d)), None)
        if own is None:  # a stop adds no line: it only removes spend, and AWS reports increases only
            continue
        service = ce_service(
            own.line_type, own.product_code or "", own.product_name or "", own.usage_type or ""
        )
        run: list[tuple[date, Decimal, Decimal]] = []
        for day, increase in sorted(costs.items()):
            actual = series.get((inj.account, service, day), Decimal(0))
            expected = actual - increase
            # Listed once AWS's run after the day's data landed has seen it.
            if increase >= MIN_IMPACT and increase >= MIN_SHARE * expected and aws_detected(day) <= clock:
                if run and run[-1][0] != day - DAY:
                    out.append(
                        Detection(inj.name, inj.account, service, inj.region, inj.usage_type, tuple(run))
                    )
                    run = []
                run.append((day, actual, expected))
        if run:
            out.append(Detection(inj.name, inj.account, service, inj.region, inj.usage_type, tuple(run)))
    return [
        d
        for d in out
        if aws_detected(d.days[0][0]) <= clock
        and d.days[-1][0] >= clock.date() - timedelta(days=RETENTION_DAYS)
    ]


def _anomaly(d: Detection, arn: str, names: dict[str, str]) -> dict[str, Any]:
    increases = [actual - expected for _, actual, expected in d.days]
    total = sum(increases, Decimal(0))
    actual = sum((a for _, a, _ in d.days), Decimal(0))
    expected = sum((e for _, _, e in d.days), Decimal(0))
    scores = [inc / e if e > 0 else Decimal(1) for inc, (_, _, e) in zip(increases, d.days, strict=True)]
    return {
        "AnomalyId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{arn}/{d.name}/{d.days[0][0]}")),
        "AnomalyStartDate": _day(d.days[0][0]),
        "AnomalyEndDate": _day(d.days[-1][0]),
        "DimensionValue": d.service,
        "RootCauses": [
            {
                "Service": d.service,
                "Region": d.region,
                "LinkedAccount": d.account,
                "LinkedAccountName": names.get(d.account, ""),
                "UsageType": d.usage_type,
                "Impact": {"Contribution": _money(total)},
            }
        ],
        "AnomalyScore": {
            "MaxScore": round(float(max(scores)), 2),
            "CurrentScore": round(float(scores[-1]), 2),
        },
        "Impact": {
            "MaxImpact": _money(max(increases)),
            "TotalImpact": _money(total),
            "TotalActualSpend": _money(actual),
            "TotalExpectedSpend": _money(expected),
            "TotalImpactPercentage": round(float(total / expected * 100), 2) if expected > 0 else None,
        },
        "MonitorArn": arn,
    }


def _state(account: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """The payer's monitor and its anomalies by the clock; None for another account."""
    ctx = current()
    scenario = ctx.scenario
    payer = scenario.management.id
    if account != payer:
        return None
    first, last = window(ctx.clock)
    history = history_for(scenario, first, last)
    arn = monitor_arn(payer)
    names = {a.id: a.name for a in scenario.accounts}
    anomalies = [_anomaly(d, arn, names) for d in detections(history, ctx.clock)]
    for a in anomalies:
        a["Impact"] = {k: v for k, v in a["Impact"].items() if v is not None}
    services = {s for (_, s, _) in _series(history)}
    evaluated = max(_runs(ctx.clock), default=ctx.clock)
    monitor = {
        "MonitorArn": arn,
        "MonitorName": MONITOR_NAME,
        "CreationDate": first.isoformat(),
        "LastUpdatedDate": first.isoformat(),
        "LastEvaluatedDate": evaluated.date().isoformat(),
        "MonitorType": "DIMENSIONAL",
        "MonitorDimension": "SERVICE",
        "DimensionalValueCount": len(services),
    }
    return monitor, anomalies


def _runs(clock: datetime) -> list[datetime]:
    """AWS's runs of the clock's day up to the clock."""
    day = datetime.combine(clock.date(), datetime.min.time(), UTC)
    return [day + timedelta(hours=h) for h in RUN_HOURS if day + timedelta(hours=h) <= clock]


def get_anomaly_monitors(params: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    state = _state(account)
    monitors = [state[0]] if state else []
    wanted = params.get("MonitorArnList")
    if wanted:
        monitors = [m for m in monitors if m["MonitorArn"] in wanted]
        if not monitors:
            raise LayerError("UnknownMonitorException", f"Cost anomaly monitor {wanted[0]} does not exist")
    chunk, token = page(
        monitors, params, limit_key="MaxResults", token_key="NextPageToken", minimum=1, maximum=100
    )
    return {"AnomalyMonitors": chunk, **token}


_COMPARE = {
    "EQUAL": lambda v, a, b: v == a,
    "GREATER_THAN_OR_EQUAL": lambda v, a, b: v >= a,
    "LESS_THAN_OR_EQUAL": lambda v, a, b: v <= a,
    "GREATER_THAN": lambda v, a, b: v > a,
    "LESS_THAN": lambda v, a, b: v < a,
    "BETWEEN": lambda v, a, b: a <= v <= b,
}


def get_anomalies(params: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    interval = params["DateInterval"]
    start = date.fromisoformat(str(interval["StartDate"])[:10])
    end = date.fromisoformat(str(interval.get("EndDate") or current().clock.date().isoformat())[:10])
    if end < start:
        raise LayerError("ValidationException", "DateInterval's EndDate is before its StartDate")
    state = _state(account)
    anomalies = state[1] if state else []
    # AWS selects by the anomaly's last day: "The returned anomaly object will have an AnomalyEndDate in the
    # specified time range."
    anomalies = [a for a in anomalies if start <= date.fromisoformat(a["AnomalyEndDate"][:10]) <= end]
    if params.get("MonitorArn"):
        anomalies = [a for a in anomalies if a["MonitorArn"] == params["MonitorArn"]]
    if params.get("Feedback"):
        anomalies = [a for a in anomalies if a.get("Feedback") == params["Feedback"]]
    impact = params.get("TotalImpact")
    if impact:
        test = _COMPARE[impact["NumericOperator"]]
        lo, hi = float(impact["StartValue"]), float(impact.get("EndValue") or 0)
        anomalies = [a for a in anomalies if test(a["Impact"]["TotalImpact"], lo, hi)]
    anomalies.sort(key=lambda a: (a["AnomalyStartDate"], a["AnomalyId"]))
    chunk, token = page(
        anomalies, params, limit_key="MaxResults", token_key="NextPageToken", minimum=1, maximum=100
    )
    return {"Anomalies": chunk, **token}


register("ce", "GetAnomalyMonitors", get_anomaly_monitors)
register("ce", "GetAnomalies", get_anomalies)
