"""The cost report's month-to-date figures as CloudWatch series, within a bound on how many.

Each series (a metric name and one set of dimension values) is a custom metric at $0.30 a month, so the
number is bounded (`[metrics] max_series`, default 50). From the report documents of the organization (first)
and of each configured audience (cost_report.build_report's `data`, so every value is the report's own):

    MonthToDateCost  Audience=<name>   the audience's month-to-date total ("total.cost")
    ForecastCost     Audience=<name>   its month-end forecast (the cost section's "forecast.total")
    TagCoverage      Audience=<name>   the share of its usage cost carrying the coverage tag, 0-1
    MonthToDateCost  Account=<id>      the organization's cost per account: the largest accounts, the rest
                                       summed as Account=other

The audiences' series come first, the organization's before the others, in the configured order; the accounts
get what the bound leaves: all of them when they fit, else the largest (bound - 1) and `other`. What does not
fit is named in `left_out`, never silently dropped. Values are in the report's currency.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

OTHER = "other"


@dataclass(frozen=True)
class CostSeries:
    name: str
    dimensions: tuple[tuple[str, str], ...]
    value: Decimal
    unit: str = "None"  # CloudWatch has no currency unit

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "dimensions": dict(self.dimensions), "value": str(self.value)}


@dataclass
class SeriesPlan:
    series: list[CostSeries]
    left_out: list[str] = field(default_factory=list)  # what the bound kept out, in words
    currency: str | None = None


def _audience_series(doc: Mapping[str, Any]) -> list[CostSeries]:
    dims = (("Audience", str(doc["audience"])),)
    out = [CostSeries("MonthToDateCost", dims, Decimal(doc["total"]["cost"]))]
    forecast = (doc.get("sections", {}).get("cost") or {}).get("forecast")
    if forecast and forecast.get("total") is not None:
        out.append(CostSeries("ForecastCost", dims, Decimal(str(forecast["total"]))))
    share = (doc.get("tag_coverage") or {}).get("share")
    if share is not None:
        out.append(CostSeries("TagCoverage", dims, Decimal(str(share))))
    return out


def account_series(doc: Mapping[str, Any], room: int) -> tuple[list[CostSeries], int]:
    """The organization's month-to-date cost per account in at most `room` series (the largest accounts, the
    rest as `other`), and how many accounts were summed into `other`."""
    costs = [(str(a["account_id"]), Decimal(a["cost"])) for a in doc.get("accounts", [])]
    costs = [(a, c) for a, c in costs if c]  # an account with cost only in the previous period has none now
    costs.sort(key=lambda ac: (-ac[1], ac[0]))
    if room <= 0:
        return [], len(costs)
    if len(costs) <= room:
        kept, rest = costs, []
    elif room == 1:
        kept, rest = [], costs
    else:
        kept, rest = costs[: room - 1], costs[room - 1 :]
    out = [CostSeries("MonthToDateCost", (("Account", a),), c) for a, c in kept]
    if rest:
        out.append(
            CostSeries("MonthToDateCost", (("Account", OTHER),), sum((c for _, c in rest), Decimal(0)))
        )
    return out, len(rest)


def cost_series(
    organization: Mapping[str, Any] | None, audiences: Sequence[Mapping[str, Any]], max_series: int
) -> SeriesPlan:
    """The series of the organization's report document and the audiences', at most `max_series`. Without
    the organization's (it failed) there is no account series."""
    documents = [*([organization] if organization is not None else []), *audiences]
    plan = SeriesPlan([], currency=str(documents[0].get("currency") or "") or None if documents else None)
    for doc in documents:
        wanted = _audience_series(doc)
        room = max_series - len(plan.series)
        if len(wanted) > room:
            plan.left_out.append(f"audience {doc['audience']} (no room for its {len(wanted)} series)")
            continue
        plan.series.extend(wanted)
    if organization is None:
        return plan
    accounts, summed = account_series(organization, max_series - len(plan.series))
    plan.series.extend(accounts)
    if summed:
        where = "Account=other" if accounts else "no account series: the audiences' took the bound"
        plan.left_out.append(f"{summed} account(s) summed ({where})")
    return plan


__all__ = ["OTHER", "CostSeries", "SeriesPlan", "account_series", "cost_series"]
