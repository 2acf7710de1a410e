"""Section *Cost*: the total, per account and per service, against the previous comparable period; what is
kept apart from usage (fees, tax, credits, refunds); other providers; the daily trend and the month-end
forecast; and, for a month, the budgets against the actual and the forecast."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal
from typing import Any

from awscost.billing.cube import Scope
from awscost.core.errors import AwsCostError
from awscost.reports.model import Chart, Column, Figure, Section, Series, Table
from awscost.reports.sections import SectionContext
from awscost.reports.sections._common import CHANGE_COLUMNS, change_cells, in_currency


def pct(change: Decimal, previous: Decimal) -> str | None:
    """The change in percent for the JSON's change_pct (two decimals); None when there was nothing before."""
    if not previous:
        return None
    return str((change * 100 / previous).quantize(Decimal("0.01")))


def change_json(cost: Decimal, previous: Decimal) -> dict[str, Any]:
    return {
        "cost": str(cost),
        "previous": str(previous),
        "change": str(cost - previous),
        "change_pct": pct(cost - previous, previous),
    }


def build(ctx: SectionContext) -> Section:
    cube, scope, metric, cur = ctx.cube, ctx.scope, ctx.metric, ctx.currency
    section = Section("cost", "Cost")
    now = cube.totals(scope, *ctx.current, metric)
    before = cube.totals(scope, *ctx.previous, metric)
    cost, previous = now.get(cur, Decimal(0)), before.get(cur, Decimal(0))
    section.figures.append(Figure(f"Total {metric}", "money", cost, previous, cur))
    section.data["total"] = change_json(cost, previous)
    if ctx.regions is not None:
        section.notes.append(
            f"Narrowed to {', '.join(sorted(ctx.regions))}: the bill's charges without a region (tax, Savings "
            "Plans fees, global services such as CloudFront or Route 53) are not in these figures."
        )
    currencies = sorted(set(now) | set(before))
    if len(currencies) > 1:
        section.data["totals_by_currency"] = [
            {"currency": c, **change_json(now.get(c, Decimal(0)), before.get(c, Decimal(0)))}
            for c in currencies
        ]
        section.notes.append(
            f"The bill holds {len(currencies)} currencies ({', '.join(currencies)}); figures are in {cur}, "
            "the others are listed apart and never added."
        )

    accounts = in_currency(cube.compare("SubAccountId", scope, ctx.current, ctx.previous, metric), cur)
    section.tables.append(
        Table(
            "accounts",
            "Cost per account",
            (Column("account_id"), Column("name"), *CHANGE_COLUMNS),
            tuple((a.key, ctx.name_of(a.key), *change_cells(a)) for a in accounts),
        )
    )
    section.data["accounts"] = [
        {"account_id": a.key, "name": ctx.name_of(a.key), **change_json(a.cost, a.previous)} for a in accounts
    ]
    services = in_currency(
        cube.compare("ServiceName", scope, ctx.current, ctx.previous, metric, usage_only=True), cur
    )
    section.tables.append(
        Table(
            "services",
            "Usage cost per service",
            (Column("service"), *CHANGE_COLUMNS),
            tuple((s.key, *change_cells(s)) for s in services),
            note=" ".join(
                n
                for n in (
                    "Usage only: fees, tax, credits and refunds are in the next table, never in a service.",
                    cube.note("ServiceName"),  # a source that names services otherwise than the bill
                )
                if n
            ),
        )
    )
    section.data["services"] = [{"service": s.key, **change_json(s.cost, s.previous)} for s in services]
    apart = [
        c
        for c in in_currency(cube.compare("ChargeKind", scope, ctx.current, ctx.previous, metric), cur)
        if c.key != "Usage"
    ]
    if apart:
        section.tables.append(
            Table(
                "charges_apart",
                "Fees, tax, credits and refunds",
                (Column("charge"), *CHANGE_COLUMNS),
                tuple((c.key, *change_cells(c)) for c in apart),
            )
        )
    section.data["charges_apart"] = [{"charge": c.key, **change_json(c.cost, c.previous)} for c in apart]
    others = cube.by_provider(scope, ctx.current, ctx.previous, metric)
    if others:
        section.tables.append(
            Table(
                "other_providers",
                "Other providers (not in the AWS total)",
                (Column("provider"), Column("currency"), *CHANGE_COLUMNS),
                tuple((o.key, o.currency, *change_cells(o)) for o in others),
            )
        )
        section.data["other_providers"] = [
            {"provider": o.key, "currency": o.currency, **change_json(o.cost, o.previous)} for o in others
        ]
    forecast = ctx.forecast(ctx) if ctx.forecast is not None else None
    section.charts.append(_trend(ctx, (forecast or {}).get("daily") or ()))
    if forecast is not None:
        section.figures.append(
            Figure(
                f"Forecast for {forecast['month']} ({forecast['source']})",
                "money",
                forecast["total"],
                None,
                cur,
            )
        )
        section.data["forecast"] = {
            k: str(v) if isinstance(v, Decimal) else v for k, v in forecast.items() if k != "daily"
        }
        if forecast.get("daily"):
            section.data["forecast"]["daily"] = [
                {"day": d.isoformat(), "forecast": str(p), "low": str(lo), "high": str(hi)}
                for d, p, lo, hi in forecast["daily"]
            ]
        section.notes.append(
            f"Month-end forecast {forecast['total']:,.2f} {cur} ({int(forecast['level'] * 100)} % interval "
            f"{forecast['low']:,.2f} .. {forecast['high']:,.2f}); {forecast['source']}: {forecast['method']}."
        )
    if ctx.budgets is not None:
        _budgets(ctx, section, cost, forecast)
    return section


def _budgets(ctx: SectionContext, section: Section, cost: Decimal, forecast: dict[str, Any] | None) -> None:
    """Budget vs actual vs forecast, for a report of one calendar month (closed or to date): the audience's
    budget against the section's own total and forecast, each account budget (of the accounts wholly in
    scope) against that account's cost and forecast."""
    period = ctx.comparison.current
    month_end = (period.start.replace(day=1) + timedelta(days=32)).replace(day=1)
    if period.start.day != 1 or period.end > month_end or ctx.budgets is None:
        return  # a week or a range: a monthly budget says nothing of it
    if ctx.regions is not None:
        section.notes.append("Budgets are an audience's or an account's, not a region's: not shown here.")
        return
    try:
        budgets = list(ctx.budgets())
    except AwsCostError as exc:
        section.notes.append(f"Budgets not shown: {exc.render()}")
        return
    if not budgets:
        return
    if ctx.currency != "USD":
        section.notes.append(f"Budgets are in USD, this report in {ctx.currency}: they are not shown.")
        return
    closed = period.end == month_end
    rows: list[tuple[Any, ...]] = []
    for budget in budgets:
        if budget.account is None:
            actual, ahead = cost, forecast
            scope = "this report's scope"
        else:
            if ctx.whole_accounts is not None and budget.account not in ctx.whole_accounts:
                continue  # an account not wholly in scope: its cost is not this audience's to see
            one = Scope.of({budget.account})
            actual = ctx.cube.totals(one, *ctx.current, ctx.metric).get(ctx.currency, Decimal(0))
            ahead = None
            if forecast is not None and ctx.forecast is not None:
                ahead = ctx.forecast(dataclasses.replace(ctx, scope=one))
            scope = f"account {budget.account}" + (
                f" ({ctx.name_of(budget.account)})" if ctx.name_of(budget.account) != budget.account else ""
            )
        projected = actual if closed else (ahead or {}).get("total")
        rows.append(
            (
                budget.name,
                scope,
                budget.amount,
                actual,
                actual / budget.amount,
                projected,
                None if projected is None else projected / budget.amount,
                budget.source,
            )
        )
    if not rows:
        return
    section.tables.append(
        Table(
            "budgets",
            f"Budget vs actual vs forecast, {period.start:%Y-%m}",
            (
                Column("budget"),
                Column("scope"),
                Column("monthly_budget", "money", unit="USD"),
                Column("actual", "money", unit="USD"),
                Column("actual_of_budget", "ratio"),
                Column("forecast", "money", unit="USD"),
                Column("forecast_of_budget", "ratio"),
                Column("source"),
            ),
            tuple(rows),
            note=(
                "The month is closed: its forecast is its actual."
                if closed
                else "Actual and forecast are this report's own (its metric and source); the amount is the "
                "budget's, from its source. A forecast left empty is one this source cannot make for the row."
            ),
        )
    )
    section.data["budgets"] = [
        {
            "budget": r[0],
            "scope": r[1],
            "monthly_budget": str(r[2]),
            "actual": str(r[3]),
            "actual_of_budget": str(r[4].quantize(Decimal("0.0001"))),
            "forecast": None if r[5] is None else str(r[5]),
            "forecast_of_budget": None if r[6] is None else str(r[6].quantize(Decimal("0.0001"))),
            "source": r[7],
        }
        for r in rows
    ]
    own = next((r for r in rows if r[1] == "this report's scope"), None)
    if own is not None:
        section.figures.append(
            Figure(f"Budget for {period.start:%Y-%m} ({own[7]})", "money", own[2], None, "USD")
        )
        said = f"Budget {own[2]:,.2f} USD: actual {own[3]:,.2f} ({own[4] * 100:.1f} %)"
        if own[5] is not None and not closed:
            said += f", forecast {own[5]:,.2f} ({own[6] * 100:.1f} %)"
        section.notes.append(said + " of it.")


def _trend(ctx: SectionContext, forecast: Any = ()) -> Chart:
    """Daily cost of this period beside the previous one, day by day from each period's first day; with a
    month-end forecast, its days to the month's end drawn after the period, its interval shaded."""
    cur_days = _series(ctx, *ctx.current)
    prev_days = _series(ctx, *ctx.previous)
    n = max(ctx.comparison.current.days, ctx.comparison.previous.days)
    start = ctx.comparison.current.start
    ahead = {d: (p, lo, hi) for d, p, lo, hi in forecast if (d - start).days >= n}
    n += len(ahead)
    days = [start + timedelta(days=i) for i in range(n)]
    labels = tuple(d.strftime("%m-%d") for d in days)
    series = [
        Series("this period", tuple(cur_days[i] if i < len(cur_days) else None for i in range(n))),
        Series("previous period", tuple(prev_days[i] if i < len(prev_days) else None for i in range(n))),
    ]
    band = None
    if ahead:
        series.append(Series("forecast", tuple(ahead[d][0] if d in ahead else None for d in days)))
        low = tuple(ahead[d][1] if d in ahead else None for d in days)
        band = ("forecast", low, tuple(ahead[d][2] if d in ahead else None for d in days))
    return Chart(
        "daily_trend",
        f"Daily {ctx.metric}: {ctx.comparison.current.label} vs {ctx.comparison.previous.label}",
        "line",
        labels,
        tuple(series),
        ctx.currency,
        band=band,
    )


def _series(ctx: SectionContext, start: Any, end: Any) -> list[Decimal | None]:
    by_day = {d: v for d, c, v in ctx.cube.daily(ctx.scope, start, end, ctx.metric) if c == ctx.currency}
    days = (end - start).days
    return [by_day.get(start + timedelta(days=i), Decimal(0)) for i in range(days)]
