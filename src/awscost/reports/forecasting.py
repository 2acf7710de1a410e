"""The month-end forecast a cost report shows, from the bill's daily history (billing/forecast.py). Cost
Explorer's own forecast (GetCostForecast) is used instead when the source is Cost Explorer."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from awscost.reports.sections import SectionContext


def bill_forecast(ctx: SectionContext) -> dict[str, Any] | None:
    """The forecast of the month the period ends in, when the period is part of a month still running
    (month-to-date); None for a closed period (last month, a week, a range)."""
    from awscost.billing.forecast import forecast_month

    period = ctx.comparison.current
    month_start = period.last_day.replace(day=1)
    month_end = (month_start + timedelta(days=32)).replace(day=1)
    if period.start != month_start or period.end >= month_end:
        return None
    history = max(ctx.cube.start, month_start - timedelta(days=56))
    by_day = {
        d: v for d, c, v in ctx.cube.daily(ctx.scope, history, period.end, ctx.metric) if c == ctx.currency
    }
    if not by_day:
        return None
    # Every day up to the period's last, a day without cost as 0 (the forecast reads a gapless series).
    first = min(by_day)
    series = [
        (first + timedelta(days=i), by_day.get(first + timedelta(days=i), Decimal(0)))
        for i in range((period.end - first).days)
    ]
    result = forecast_month(series)
    return {
        "month": f"{month_start:%Y-%m}",
        "total": result.month_total,
        "low": result.low,
        "high": result.high,
        "level": result.level,
        "method": result.method,
        "source": "awscost forecast from the bill's daily history",
        "daily": result.daily,  # (day, point, low, high) of each day left: the trend chart's band
    }
