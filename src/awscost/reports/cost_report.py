"""The cost report of one audience: its scope, the registry's sections over a cost cube, the headline, the
JSON document and the footer. Rendering (render/) and delivery (deliver/) take the `Report` from here.

Nobody sees a figure outside their scope: every section asks the cube with the audience's `Scope` (accounts
∩ tag filters), and what carries no tags (the usage store, the organization's plan) is shown only for the
accounts wholly in scope.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from awscost.billing.cube import CostCube, Scope
from awscost.core.errors import AwsAccessError, AwsCostError, InputError
from awscost.reports.config import Audience
from awscost.reports.model import Provenance, Report, Section
from awscost.reports.periods import Comparison
from awscost.reports.sections import SECTIONS, SectionContext
from awscost.reports.sections.cost import change_json


def scope_of(audience: Audience, org_units: Callable[[str], Iterable[str]] | None = None) -> Scope:
    """The audience's accounts (OU ids resolved to their accounts, recursively) ∩ its tag filters."""
    if audience.accounts is None:
        return Scope.of(None, audience.tags)
    accounts = set(audience.account_ids)
    for unit in audience.org_units:
        if org_units is None:
            raise InputError(
                f"audience {audience.name} names the OU {unit}, but Organizations cannot be asked here",
                where=f"report.audience ({audience.name}).accounts",
            )
        accounts.update(org_units(unit))
    return Scope.of(accounts, audience.tags)


def whole_accounts(audience: Audience, scope: Scope) -> frozenset[str] | None:
    """The accounts whose every figure is in scope: with a tag filter none is (the store has no tags)."""
    if audience.tags:
        return frozenset()
    return scope.accounts


def preliminary(as_of: datetime | None, period_end: date) -> bool:
    """The bill of the period is not closed: the source does not yet cover the month of its last day."""
    if as_of is None:
        return True
    last = period_end - timedelta(days=1)
    month_end = (last.replace(day=28) + timedelta(days=4)).replace(day=1)
    return as_of.replace(tzinfo=None) < datetime.combine(month_end, time(0))


def check_covered(cube: CostCube, comparison: Comparison) -> None:
    """A period the source does not cover is an error, not a report of zeros."""
    first, last = cube.first_day(), cube.last_day()
    current = comparison.current
    if first is None or last is None:
        raise InputError(f"the source holds no cost for {current.label}", where=cube.source)
    if current.start > last or current.last_day < first:
        raise InputError(
            f"the source covers {first}..{last}, not the period {current.label}",
            where=cube.source,
            hint="pick a period inside it (--period YYYY-MM or START..END)",
        )


def partly_covered(cube: CostCube, comparison: Comparison) -> date | None:
    """The source's first day when it begins after the previous period starts, else None."""
    first = cube.first_day()
    return first if first is not None and first > comparison.previous.start else None


def build_report(
    cube: CostCube,
    audience: Audience,
    comparison: Comparison,
    *,
    scope: Scope,
    metric: str,
    tag_key: str,
    names: dict[str, str],
    generated_at: datetime,
    store: Any | None = None,
    saved: Callable[[str], Any] = lambda job: None,
    forecast: Callable[[SectionContext], Any] | None = None,
    sections: Iterable[str] | None = None,
    # (start, end, regions=None) -> the bill's commitment figures per account (sections/commitments.py)
    commitments: Callable[..., list[Any]] | None = None,
    today: date | None = None,  # the run's day (default: the day generated_at falls on)
    budgets: Callable[[], Any] | None = None,  # the budgets to show (reports/budgets.py ReportBudget)
) -> Report:
    check_covered(cube, comparison)
    if scope.regions is not None and commitments is not None:
        # The bill's commitment lines of the viewer's regions alone, as every other bill figure.
        commitments = functools.partial(commitments, regions=scope.regions)
    totals = cube.totals(scope, comparison.current.start, comparison.current.end, metric)
    currency = max(totals, key=lambda c: (abs(totals[c]), c)) if totals else "USD"
    ctx = SectionContext(
        cube=cube,
        audience=audience,
        scope=scope,
        comparison=comparison,
        metric=metric,
        currency=currency,
        tag_key=tag_key,
        names=names,
        whole_accounts=whole_accounts(audience, scope),
        store=store,
        saved=saved,
        forecast=forecast,
        commitments=commitments,
        today=today or generated_at.date(),
        budgets=budgets,
    )
    built: list[Section] = []
    for name in sections or SECTIONS.names():
        build = SECTIONS.get(name)
        try:
            built.append(build(ctx))
        except (AwsCostError, AwsAccessError) as exc:
            # One section that cannot be filled is said in its place; the others still go out.
            failed = Section(name, name.title())
            failed.unavailable = exc.render()
            built.append(failed)
    cost = next(s for s in built if s.name == "cost")
    total = cost.data["total"]
    change = Decimal(total["change"])
    pct = f" ({'+' if change >= 0 else ''}{total['change_pct']} %)" if total["change_pct"] is not None else ""
    headline = (
        f"{metric} {Decimal(total['cost']):,.2f} {currency} for {comparison.current.label}, "
        f"{'+' if change >= 0 else '-'}{abs(change):,.2f}{pct} vs {comparison.previous.label}"
    )
    covered_from = partly_covered(cube, comparison)
    if covered_from is not None:
        # A change against days the source does not hold is not like for like: said, not hidden.
        headline += f" (the source starts on {covered_from}: the previous period is only partly covered)"
        cost.notes.insert(
            0,
            f"The source holds cost from {covered_from} on: the previous period {comparison.previous.label} "
            "is only partly covered, so its changes are not like for like.",
        )
    as_of = cube.as_of()
    provenance = Provenance(
        source=cube.source,
        metric=metric,
        period=f"{comparison.current.label} (compared with {comparison.previous.label}), UTC",
        as_of=as_of.replace(tzinfo=UTC) if as_of is not None and as_of.tzinfo is None else as_of,
        preliminary=preliminary(as_of, comparison.current.end),
        price_source=ctx.extra.get("price_source"),
        generated_at=generated_at,
    )
    tags = next((s for s in built if s.name == "tags"), None)
    data: dict[str, Any] = {
        "audience": audience.name,
        "period": comparison.current.to_json(),
        "previous_period": {
            **comparison.previous.to_json(),
            "covered_from": None if covered_from is None else covered_from.isoformat(),
        },
        "metric": metric,
        "currency": currency,
        "source": cube.source,
        "total": total,
        "accounts": cost.data.get("accounts", []),
        "services": cost.data.get("services", []),
        "tag_coverage": {k: v for k, v in (tags.data if tags else {}).items() if k != "untagged"},
        "sections": {
            s.name: s.data if s.unavailable is None else {"unavailable": s.unavailable} for s in built
        },
        "regions": None if scope.regions is None else sorted(scope.regions),
        "as_of": provenance.as_of.isoformat() if provenance.as_of else None,
        "preliminary": provenance.preliminary,
        "generated_at": generated_at.isoformat(),
    }
    if "totals_by_currency" in cost.data:
        data["totals_by_currency"] = cost.data["totals_by_currency"]
    title = f"AWS cost {comparison.current.label}: {audience.name}"
    if scope.regions is not None:
        title += f" in {', '.join(sorted(scope.regions))}"
    return Report(audience.name, title, headline, built, provenance, data, ctx.whole_accounts)


__all__ = [
    "build_report",
    "change_json",
    "check_covered",
    "partly_covered",
    "preliminary",
    "scope_of",
    "whole_accounts",
]
