"""awscost's anomalies of the bill next to AWS Cost Anomaly Detection's (cost_explorer.py): who caught what,
who was first, and why the other did not.

Two events are the same anomaly when they are of the same account and service (AWS's service in the bill's
name) and their days overlap; each is paired at most once, the largest overlap first. Per pair:

- when each first knew. awscost: its event's first day, when that day's bill lands and the scan runs on it
  (BILL_LAG after the day ends: the CUR is refreshed like Cost Explorer, from the same billing pipeline, so
  the same 12 hours as cost_explorer.DATA_LAG; the daily job scans each delivery). AWS: `aws_detected` of its
  first day (the next of its three runs a day after the same data lands; GetAnomalies does not say when).
- `hours_earlier`: how many hours awscost knew before AWS (negative: AWS first). On the same first day the
  difference is the wait for AWS's next run; where AWS's first day is later (a ramp it flags once it is
  large), it is that many days more.
- `impact_difference`: awscost's total impact less AWS's.
- for an event one side alone caught, the likely reason (`reason`): a decrease (AWS reports increases only),
  new spend (AWS needs ten days of a service's history), AWS's 90 days of retention, days outside the bill,
  or the other side's thresholds.

The bill signal is awscost's; the usage signal's earlier warning is counted elsewhere (issue 15 item 2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from awscost.anomalies.cost_explorer import DATA_LAG, RETENTION_DAYS, AwsAnomaly
from awscost.anomalies.detect import Anomaly

BILL_LAG = DATA_LAG  # a day's bill lands this long after the day ends, and is scanned then
DAY = timedelta(days=1)
NEW_SERVICE_DAYS = 10  # "10 days of historical service usage data is needed before anomalies can be detected"


def bill_detected(first_day: date) -> datetime:
    """When awscost's scan of the bill flags an event starting on `first_day`."""
    return datetime.combine(first_day + DAY, time(), UTC) + BILL_LAG


@dataclass(frozen=True)
class Pair:
    account_id: str
    service: str
    caught_by: str  # both | awscost | aws
    awscost: Anomaly | None
    aws: AwsAnomaly | None
    reason: str | None = None  # why the other side did not catch it

    @property
    def awscost_detected(self) -> datetime | None:
        return bill_detected(date.fromisoformat(self.awscost.date)) if self.awscost else None

    @property
    def aws_detected(self) -> datetime | None:
        return self.aws.detected if self.aws else None

    @property
    def hours_earlier(self) -> int | None:
        mine, theirs = self.awscost_detected, self.aws_detected
        if mine is None or theirs is None:
            return None
        return int((theirs - mine) / timedelta(hours=1))

    @property
    def impact_difference(self) -> Decimal | None:
        if self.awscost is None or self.aws is None:
            return None
        return self.awscost.impact_total - self.aws.anomaly.impact_total

    @property
    def date(self) -> str:
        return min(e.date for e in (self.awscost, self.aws.anomaly if self.aws else None) if e is not None)

    def row(self) -> dict[str, object]:
        """Its row of the side-by-side table (`awscost anomalies compare`, the demo)."""

        def when(t: datetime | None) -> str:
            return f"{t:%Y-%m-%d %H:%M}" if t else ""

        hours, diff = self.hours_earlier, self.impact_difference
        return {
            "account": self.account_id,
            "service": self.service,
            "caught by": self.caught_by,
            "awscost knew": when(self.awscost_detected),
            "AWS knew": when(self.aws_detected),
            "hours earlier": "" if hours is None else hours,
            "awscost $": self.awscost.impact_total if self.awscost else "",
            "AWS $": self.aws.anomaly.impact_total if self.aws else "",
            "Δ $": "" if diff is None else diff,
        }

    def to_json(self) -> dict[str, object]:
        def when(t: datetime | None) -> str | None:
            return t.strftime("%Y-%m-%dT%H:%M:%SZ") if t else None

        diff = self.impact_difference
        return {
            "account_id": self.account_id,
            "service": self.service,
            "caught_by": self.caught_by,
            "awscost": self.awscost.to_json() if self.awscost else None,
            "aws": self.aws.to_json() if self.aws else None,
            "awscost_detected": when(self.awscost_detected),
            "aws_detected": when(self.aws_detected),
            "hours_earlier": self.hours_earlier,
            "impact_difference": None if diff is None else str(diff),
            "reason": self.reason,
        }


def _days(event: Anomaly) -> tuple[date, date]:
    first = date.fromisoformat(event.date)
    return first, first + (event.days - 1) * DAY


def _overlap(a: tuple[date, date], b: tuple[date, date]) -> int:
    return max(0, (min(a[1], b[1]) - max(a[0], b[0])).days + 1)


def compare(
    bill: Sequence[Anomaly],
    aws: Sequence[AwsAnomaly],
    *,
    as_of: datetime,
    bill_days: tuple[date | None, date | None] = (None, None),
) -> list[Pair]:
    """Pair awscost's events of the bill with AWS's; then each side's unpaired ones with a reason. `as_of`:
    when AWS was asked (its retention counts back from it); `bill_days`: the days the bill's series cover."""
    candidates = []
    for i, mine in enumerate(bill):
        for j, theirs in enumerate(aws):
            if (mine.account_id, mine.service) != (theirs.anomaly.account_id, theirs.anomaly.service):
                continue
            shared = _overlap(_days(mine), _days(theirs.anomaly))
            if shared:
                candidates.append((-shared, mine.date, i, j))
    paired: dict[int, int] = {}
    taken: set[int] = set()
    for _, _, i, j in sorted(candidates):
        if i not in paired and j not in taken:
            paired[i] = j
            taken.add(j)
    out = [Pair(bill[i].account_id, bill[i].service, "both", bill[i], aws[j]) for i, j in paired.items()]
    for i, mine in enumerate(bill):
        if i not in paired:
            out.append(Pair(mine.account_id, mine.service, "awscost", mine, None, _not_aws(mine, as_of)))
    for j, theirs in enumerate(aws):
        if j not in taken:
            event = theirs.anomaly
            out.append(
                Pair(event.account_id, event.service, "aws", None, theirs, _not_ours(event, bill_days))
            )
    return sorted(out, key=lambda p: (p.date, p.account_id, p.service, p.caught_by))


def _not_aws(event: Anomaly, as_of: datetime) -> str:
    if event.impact_total < 0:
        return "a decrease: AWS Cost Anomaly Detection reports spend increases only"
    last = _days(event)[1]
    if last < as_of.date() - timedelta(days=RETENTION_DAYS):
        return f"ended {last}, more than {RETENTION_DAYS} days before {as_of:%Y-%m-%d}: AWS keeps anomalies 90 days"
    if event.kind == "new":
        return f"new spend: AWS needs {NEW_SERVICE_DAYS} days of a service's history before it detects on it"
    return "AWS did not flag it (its model and sensitivity are its own and unpublished)"


def _not_ours(event: Anomaly, bill_days: tuple[date | None, date | None]) -> str:
    first, last = _days(event)
    lo, hi = bill_days
    if lo is None or hi is None:
        return "the bill holds no days to compare with"
    if last < lo or first > hi:
        return f"outside the bill's days ({lo} .. {hi})"
    return "awscost did not flag it: below its thresholds (impact per day and score) on the bill's daily cost"


def summary(pairs: Sequence[Pair]) -> dict[str, object]:
    both = [p for p in pairs if p.caught_by == "both"]
    leads = sorted(h for p in both if (h := p.hours_earlier) is not None)
    return {
        "both": len(both),
        "awscost_only": sum(p.caught_by == "awscost" for p in pairs),
        "aws_only": sum(p.caught_by == "aws" for p in pairs),
        "median_hours_earlier": leads[len(leads) // 2] if leads else None,
    }


__all__ = ["BILL_LAG", "Pair", "bill_detected", "compare", "summary"]
