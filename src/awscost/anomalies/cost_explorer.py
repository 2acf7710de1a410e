"""AWS Cost Anomaly Detection, read through Cost Explorer (`ce`), as awscost's anomaly events (issue 15, item 4).

Two calls, both paginated by NextPageToken (botocore's paginators): GetAnomalyMonitors (the account's
monitors), then GetAnomalies per monitor (MonitorArn, DateInterval). AWS's DateInterval selects anomalies
whose *AnomalyEndDate* falls in it (both ends inclusive, unlike GetCostAndUsage), and AWS keeps anomalies 90
days. Each AWS anomaly becomes an `Anomaly` (detect.py's event) labelled source "ce" (`AwsAnomaly` keeps
what only AWS says: its monitor, root causes, feedback):

    id            AnomalyId
    date, start   AnomalyStartDate (its day; 00:00Z: AWS works in whole days)
    end           the day after AnomalyEndDate; None while open (its end is the last day the monitor had
                  evaluated: LastEvaluatedDate, less the day of data it waits for)
    account_id    the largest root cause's LinkedAccount
    service       its Service (else the monitor's DimensionValue), in the bill's name when `service_names`
                  maps it (Cost Explorer's "Amazon Elastic Compute Cloud - Compute" is the bill's EC2)
    impact_total  Impact.TotalImpact (MaxImpact when absent); expected, actual: TotalExpectedSpend,
                  TotalActualSpend; the per-day figures are those over the anomaly's days
    score         AnomalyScore.MaxScore (AWS's own scale, not awscost's robust z-score)
    explanation   one sentence from the root causes (service, usage type, region, account, contribution)

Money is Decimal, from AWS's doubles through their shortest repr, rounded to cents.

When AWS found it (`detected`): GetAnomalies says when an anomaly started, not when it was detected. AWS's
documentation bounds it ("After your billing data is processed, AWS Cost Anomaly Detection runs approximately
three times a day ... Cost Explorer, which has a delay of up to 24 hours ... it can take up to 24 hours to
detect an anomaly after a usage occurs", docs.aws.amazon.com/cost-management/latest/userguide/manage-ad.html);
the model here, `aws_detected`: a day's cost is in Cost Explorer DATA_LAG (12 h, half of the documented bound)
after the day ends, and the first of AWS's runs (RUN_HOURS, three a day) after that flags it. The sandbox
emulates AWS with the same model (awscost_sandbox/ce_anomalies.py).

AWS Cost Anomaly Detection reports spend *increases* only ("detect and receive alerts on abnormal or sudden
spend increases", its FAQ): a drop is awscost's alone.

Errors: throttling (LimitExceededException, ThrottlingException) is retried by the client's adaptive retries
(aws/session.py); what still fails is an AwsAccessError naming the operation, the account when known and the
permission (ce:GetAnomalyMonitors, ce:GetAnomalies) for AccessDeniedException. Boto3 and the standard library.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from awscost.anomalies.detect import CENT, Anomaly
from awscost.core.errors import AwsAccessError

SOURCE = "ce"
REGION = "us-east-1"  # Cost Explorer's endpoint
RETENTION_DAYS = 90  # "Anomalies are available for up to 90 days" (GetAnomalies)
DATA_LAG = timedelta(hours=12)  # a day's cost reaches Cost Explorer this long after the day ends (up to 24 h)
RUN_HOURS = (0, 8, 16)  # AWS's runs, "approximately three times a day": modelled every eight hours, UTC
DAY = timedelta(days=1)
PERMISSIONS = ("ce:GetAnomalyMonitors", "ce:GetAnomalies")


def aws_detected(first_day: date) -> datetime:
    """When AWS's first run after Cost Explorer holds `first_day` flags an anomaly starting that day."""
    ready = datetime.combine(first_day + DAY, time(), UTC) + DATA_LAG
    day = datetime.combine(ready.date(), time(), UTC)
    runs = [day + timedelta(hours=h) for h in RUN_HOURS] + [day + DAY + timedelta(hours=RUN_HOURS[0])]
    return next(r for r in runs if r >= ready)


@dataclass(frozen=True)
class Monitor:
    arn: str
    name: str
    type: str  # DIMENSIONAL | CUSTOM
    dimension: str | None  # SERVICE | LINKED_ACCOUNT | TAG | COST_CATEGORY (a dimensional monitor)
    last_evaluated: date | None


@dataclass(frozen=True)
class RootCause:
    service: str
    region: str
    account: str
    account_name: str
    usage_type: str
    contribution: Decimal | None


@dataclass(frozen=True)
class AwsAnomaly:
    """One AWS anomaly: awscost's event shape, and what only AWS says of it."""

    anomaly: Anomaly
    monitor: Monitor
    dimension_value: str
    root_causes: tuple[RootCause, ...]
    detected: datetime  # aws_detected(its first day): AWS does not say when it found it
    feedback: str | None
    current_score: float

    def to_json(self) -> dict[str, object]:
        return {
            **self.anomaly.to_json(),
            "source": SOURCE,
            "detected": self.detected.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "monitor": self.monitor.name,
            "monitor_arn": self.monitor.arn,
            "dimension_value": self.dimension_value,
            "root_causes": [
                {
                    "account_id": r.account,
                    "account_name": r.account_name,
                    "service": r.service,
                    "region": r.region,
                    "usage_type": r.usage_type,
                    "contribution": None if r.contribution is None else str(r.contribution),
                }
                for r in self.root_causes
            ],
            "feedback": self.feedback,
        }


@dataclass(frozen=True)
class CeScan:
    anomalies: list[AwsAnomaly]
    monitors: list[Monitor]
    start: date
    end: date
    calls: int
    warnings: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------------------------ calls
_HINTS = {
    "AccessDeniedException": "the caller needs {perm} (Cost Anomaly Detection answers in the account that owns "
    "the monitors: the management account for the organization's)",
    "DataUnavailableException": "Cost Explorer has no data yet (enabled less than a day ago)",
    "LimitExceededException": "Cost Explorer's request rate was exceeded even after the client's retries; "
    "try again later",
    "ThrottlingException": "Cost Explorer throttled the calls even after the client's retries; try again later",
    "UnknownMonitorException": "the monitor was deleted while it was read; run again",
    "InvalidNextTokenException": "a page token expired between pages; run again",
}


def _error(operation: str, exc: BotoCoreError | ClientError, account: str | None) -> AwsAccessError:
    where = f"ce {REGION}" + (f", account {account}" if account else "")
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code", "Error"))
        hint = _HINTS.get(code)
        return AwsAccessError(
            f"Cost Explorer {operation} failed: {code}: {err.get('Message', '')}".rstrip(": "),
            where=where,
            hint=hint.format(perm=f"ce:{operation}") if hint else None,
        )
    return AwsAccessError(f"Cost Explorer {operation} failed: {exc}", where=where)


def _pages(
    client: Any, operation: str, request: Mapping[str, Any], whoami: Callable[[], str | None]
) -> tuple[list[Mapping[str, Any]], int]:
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")
    out: list[Mapping[str, Any]] = []
    try:
        for page in client.get_paginator(snake).paginate(**request):
            out.append(page)
    except (BotoCoreError, ClientError) as exc:
        denied = isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in (
            "AccessDeniedException",
            "AccessDenied",
        )
        raise _error(operation, exc, whoami() if denied else None) from None
    return out, max(1, len(out))


# ------------------------------------------------------------------------------------------------ mapping
def _money(value: Any) -> Decimal | None:
    if value is None:
        return None
    return Decimal(repr(float(value))).quantize(CENT)


def _day(text: str) -> date:
    """AnomalyStartDate / AnomalyEndDate: `YYYY-MM-DD`, optionally with `T00:00:00Z` (the model's pattern)."""
    try:
        return date.fromisoformat(str(text)[:10])
    except ValueError:
        raise AwsAccessError(
            f"Cost Explorer answered an unreadable date {text!r}", where=f"ce {REGION}"
        ) from None


def monitor_of(m: Mapping[str, Any]) -> Monitor:
    last = m.get("LastEvaluatedDate")
    return Monitor(
        arn=str(m.get("MonitorArn", "")),
        name=str(m["MonitorName"]),
        type=str(m["MonitorType"]),
        dimension=m.get("MonitorDimension"),
        last_evaluated=_day(last) if last else None,
    )


def root_causes(items: Sequence[Mapping[str, Any]]) -> tuple[RootCause, ...]:
    """AWS's root causes, largest contribution first."""
    causes = [
        RootCause(
            service=str(r.get("Service", "")),
            region=str(r.get("Region", "")),
            account=str(r.get("LinkedAccount", "")),
            account_name=str(r.get("LinkedAccountName", "")),
            usage_type=str(r.get("UsageType", "")),
            contribution=_money((r.get("Impact") or {}).get("Contribution")),
        )
        for r in items
    ]
    return tuple(sorted(causes, key=lambda c: -(c.contribution or Decimal(0))))


def explanation(
    impact_per_day: Decimal, causes: Sequence[RootCause], dimension_value: str, first: date
) -> str:
    """One sentence from AWS's root causes, in the shape of awscost's (explain.py)."""
    size = f"{'+' if impact_per_day >= 0 else '-'}${abs(impact_per_day):,}/day"
    if not causes:
        return f"{size} on {dimension_value or 'the monitor'}: AWS named no root cause, started {first}"
    top = causes[0]
    what = top.usage_type or top.service or dimension_value
    parts = [f"{what} in {top.region}" if top.region else what]
    if top.account:
        parts.append(f"account {top.account}" + (f" ({top.account_name})" if top.account_name else ""))
    if top.contribution is not None:
        parts.append(f"${top.contribution:,} of it (AWS's root cause)")
    more = f", {len(causes) - 1} more root cause{'s' if len(causes) > 2 else ''}" if len(causes) > 1 else ""
    return f"{size}: {', '.join(parts)}{more}, started {first}"


def anomaly_of(
    a: Mapping[str, Any], monitor: Monitor, service_names: Mapping[str, str] | None = None
) -> AwsAnomaly:
    """One GetAnomalies item as awscost's event."""
    names = service_names or {}
    first_text = a.get("AnomalyStartDate") or a.get("AnomalyEndDate")
    if not first_text:  # both are optional in the model; an anomaly without a day cannot be placed
        raise AwsAccessError(
            f"Cost Explorer GetAnomalies answered anomaly {a.get('AnomalyId')} without its dates",
            where=f"ce {REGION}",
        )
    first = _day(first_text)
    last = _day(a["AnomalyEndDate"]) if a.get("AnomalyEndDate") else first
    days = max(1, (last - first).days + 1)
    impact = a["Impact"]
    total = _money(impact.get("TotalImpact"))
    if total is None:
        total = _money(impact["MaxImpact"]) or Decimal(0)
    actual, expected = _money(impact.get("TotalActualSpend")), _money(impact.get("TotalExpectedSpend"))
    if actual is None and expected is not None:
        actual = expected + total
    if expected is None:
        expected = (actual - total) if actual is not None else Decimal(0)
    if actual is None:
        actual = expected + total
    causes = root_causes(a.get("RootCauses") or [])
    dimension_value = str(a.get("DimensionValue") or "")
    service = causes[0].service if causes and causes[0].service else dimension_value
    # Open while its last day is the last the monitor could evaluate (a day's data comes the next day).
    open_ = monitor.last_evaluated is not None and last >= monitor.last_evaluated - DAY
    per_day = (total / days).quantize(CENT)
    score = a["AnomalyScore"]
    event = Anomaly(
        id=str(a["AnomalyId"]),
        kind="drop" if total < 0 else ("spike" if days == 1 and not open_ else "step"),
        date=first.isoformat(),
        start=f"{first.isoformat()}T00:00:00Z",
        end=None if open_ else f"{(last + DAY).isoformat()}T00:00:00Z",
        account_id=causes[0].account if causes else "",
        service=names.get(service, service),
        days=days,
        expected=(expected / days).quantize(CENT),
        actual=(actual / days).quantize(CENT),
        impact_per_day=per_day,
        impact_total=total,
        score=float(score["MaxScore"]),
        explanation=explanation(per_day, causes, dimension_value, first),
    )
    return AwsAnomaly(
        anomaly=event,
        monitor=monitor,
        dimension_value=dimension_value,
        root_causes=causes,
        detected=aws_detected(first),
        feedback=a.get("Feedback"),
        current_score=float(score.get("CurrentScore", score["MaxScore"])),
    )


# ------------------------------------------------------------------------------------------------ scan
def scan(
    client: Any,
    start: date,
    end: date,
    *,
    service_names: Mapping[str, str] | None = None,
    min_impact: Decimal | None = None,
    whoami: Callable[[], str | None] = lambda: None,
) -> CeScan:
    """AWS's anomalies whose last day is in [start, end] (inclusive), of every monitor of the account,
    largest total impact first; with `min_impact`, only those of at least that many dollars a day.
    `whoami` names the caller's account in an access error (called only then)."""
    pages, calls = _pages(client, "GetAnomalyMonitors", {}, whoami)
    monitors = [monitor_of(m) for p in pages for m in p.get("AnomalyMonitors", [])]
    warnings: list[str] = []
    if not monitors:
        warnings.append(
            "the account has no Cost Anomaly Detection monitor: AWS detects nothing until one is created "
            "(Billing and Cost Management console, Cost Anomaly Detection; the AWS services monitor)"
        )
    found: dict[str, AwsAnomaly] = {}
    interval = {"StartDate": start.isoformat(), "EndDate": end.isoformat()}
    for monitor in monitors:
        request = {"MonitorArn": monitor.arn, "DateInterval": interval}
        pages, n = _pages(client, "GetAnomalies", request, whoami)
        calls += n
        for p in pages:
            for item in p.get("Anomalies", []):
                event = anomaly_of(item, monitor, service_names)
                found.setdefault(event.anomaly.id, event)  # a monitor listed twice answers twice
    out = sorted(found.values(), key=lambda e: (-e.anomaly.impact_total, e.anomaly.id))
    if min_impact is not None:
        out = [e for e in out if e.anomaly.impact_per_day >= min_impact]
    return CeScan(out, monitors, start, end, calls, warnings)


__all__ = [
    "DATA_LAG",
    "PERMISSIONS",
    "REGION",
    "RETENTION_DAYS",
    "RUN_HOURS",
    "SOURCE",
    "AwsAnomaly",
    "CeScan",
    "Monitor",
    "RootCause",
    "anomaly_of",
    "aws_detected",
    "scan",
]
