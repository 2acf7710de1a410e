"""The month-end forecast: weekly patterns, spikes, honest intervals, the short-history fallback, bad input."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from awscost.billing.forecast import MODELS, forecast_month
from awscost.core.errors import InputError

WEEK = [100.0, 104.0, 98.0, 102.0, 96.0, 61.0, 55.0]  # Monday .. Sunday, a business-hours fleet
HISTORY_START = date(2026, 10, 5)  # 8 weeks before December, a Monday
DEC = date(2026, 12, 1)


def series(until: date, noise: float = 0.0, seed: int = 0) -> list[tuple[date, Decimal]]:
    rng = np.random.default_rng(seed)
    out = []
    day = HISTORY_START
    while day <= until:
        value = WEEK[day.weekday()] * (1 + noise * rng.standard_normal())
        out.append((day, Decimal(f"{value:.4f}")))
        day += timedelta(days=1)
    return out


def month_total(values: list[tuple[date, Decimal]], month: date) -> Decimal:
    return sum((v for d, v in values if (d.year, d.month) == (month.year, month.month)), Decimal(0))


@pytest.mark.parametrize("model", sorted(MODELS))
def test_a_pure_weekly_pattern_is_forecast_to_the_cent(model: str) -> None:
    full = series(date(2026, 12, 31))
    got = forecast_month(series(date(2026, 12, 10)), model=model)
    truth = month_total(full, DEC)
    assert (got.month, got.days_observed, got.days_remaining) == ("2026-12", 10, 21)
    assert abs(got.month_total - truth) <= Decimal("0.05")
    assert got.actual == month_total(series(date(2026, 12, 10)), DEC)  # exact, not rounded
    assert got.low <= got.month_total <= got.high and got.high - got.low <= Decimal("0.10")
    # Per day: Saturday 12 December is the pattern's Saturday.
    day, point, low, high = got.daily[1]
    assert (
        day == date(2026, 12, 12) and abs(point - Decimal("61")) <= Decimal("0.01") and low <= point <= high
    )
    assert [d for d, *_ in got.daily] == [date(2026, 12, 11) + timedelta(days=k) for k in range(21)]


def test_a_spike_day_barely_moves_the_forecast_where_a_run_rate_takes_it_whole() -> None:
    plain = series(date(2026, 12, 10), noise=0.03, seed=3)
    spiked = [(d, v * 4 if d == date(2026, 12, 3) else v) for d, v in plain]  # one day +300 %
    before, after = forecast_month(plain), forecast_month(spiked)
    spike = spiked[-8][1] - plain[-8][1]
    assert spiked[-8][0] == date(2026, 12, 3)
    # The remaining days' forecast moves by under 1 %; the spike itself is in the month to date.
    rest_before, rest_after = before.month_total - before.actual, after.month_total - after.actual
    assert abs(rest_after - rest_before) / rest_before < Decimal("0.01")
    assert abs(after.month_total - before.month_total - spike) < Decimal("0.01") * before.month_total
    # A month-to-date run-rate extrapolates the spike over the 21 days left as well.
    run_rate = [after.actual / 10 * 31, before.actual / 10 * 31]
    assert run_rate[0] - run_rate[1] > 3 * spike


def test_the_interval_holds_the_truth_about_as_often_as_it_says() -> None:
    hits, n = 0, 120
    for seed in range(n):
        origin = date(2026, 12, 5 + seed % 20)
        full = series(date(2026, 12, 31), noise=0.12, seed=seed)
        got = forecast_month([(d, v) for d, v in full if d <= origin], level=0.8)
        hits += got.low <= month_total(full, DEC) <= got.high
    # 80 % nominal; the back-test quantiles are taken conservatively, never narrower.
    assert 0.75 <= hits / n <= 0.97, hits


@given(
    seed=st.integers(0, 10_000),
    last=st.integers(1, 31),
    history=st.integers(0, 70),
    noise=st.floats(0, 0.5),
    level=st.sampled_from([0.5, 0.8, 0.95]),
)
def test_forecast_properties(seed: int, last: int, history: int, noise: float, level: float) -> None:
    end = date(2026, 12, last)
    start = DEC - timedelta(days=history)
    rng = np.random.default_rng(seed)
    values = [
        (start + timedelta(days=k), Decimal(f"{max(0.0, 50 * (1 + noise * rng.standard_normal())):.6f}"))
        for k in range((end - start).days + 1)
    ]
    got = forecast_month(values, level=level)
    assert got == forecast_month(values, level=level)  # deterministic
    assert got.low <= got.month_total <= got.high
    assert got.days_observed == last and got.days_remaining == 31 - last == len(got.daily)
    assert got.actual == month_total(values, DEC)
    assert all(lo <= p <= hi for _, p, lo, hi in got.daily)
    assert got.month_total == (got.actual + sum((p for _, p, _, _ in got.daily), Decimal(0))).quantize(
        Decimal("0.01")
    )
    if last == 31:
        assert got.low == got.month_total == got.high


def test_too_short_a_history_falls_back_to_a_wide_run_rate() -> None:
    values = [(date(2026, 12, d), Decimal(v)) for d, v in ((1, "10"), (2, "12"), (3, "11"))]
    got = forecast_month(values)
    assert got.method.startswith("run-rate of 3 days") and "not back-tested" in got.method
    assert got.month_total == Decimal(33) + Decimal(11) * 28
    assert got.low <= Decimal(33) + Decimal(11) * 28 * Decimal("0.5")
    assert got.high >= Decimal(33) + Decimal(11) * 28 * Decimal("1.5")


def test_days_missing_inside_the_series_cost_nothing() -> None:
    values = [(d, v) for d, v in series(date(2026, 12, 10)) if d != date(2026, 12, 4)]
    got = forecast_month(values)
    assert got.actual == month_total(values, DEC) and got.days_observed == 10


def test_bad_input_is_refused_with_where() -> None:
    with pytest.raises(InputError, match="empty"):
        forecast_month([])
    with pytest.raises(InputError, match=r"series\[1\].*twice"):
        forecast_month([(DEC, Decimal(1)), (DEC, Decimal(2))])
    with pytest.raises(InputError, match=r"series\[0\].*not a cost"):
        forecast_month([(DEC, "x")])  # type: ignore[list-item]
    with pytest.raises(InputError, match="level"):
        forecast_month([(DEC, Decimal(1))], level=1.5)
    with pytest.raises(InputError, match="unknown model"):
        forecast_month([(DEC, Decimal(1))], model="prophet")


def test_a_month_to_date_report_draws_the_forecast_to_the_month_end_with_its_interval() -> None:
    """The report's trend chart carries the forecast's days after the period, each inside its band, and the
    month to date plus those days is the forecast's total, to the cent (the JSON lists the same days)."""
    from datetime import UTC, datetime

    from awscost.billing.cube import CostCube, CostRow
    from awscost.reports.config import organization_audience
    from awscost.reports.cost_report import build_report, scope_of
    from awscost.reports.forecasting import bill_forecast
    from awscost.reports.periods import resolve

    start, today = HISTORY_START, date(2026, 11, 13)
    rows = [CostRow(d, "USD", "111122223333", "Amazon EC2", v, v) for d, v in series(date(2026, 11, 12))]
    comparison = resolve("month-to-date", today=today)
    audience = organization_audience()
    with CostCube.from_rows(rows, start=start, end=today, source="test rows") as cube:
        report = build_report(
            cube, audience, comparison, scope=scope_of(audience), metric="EffectiveCost", tag_key="user:t",
            names={}, generated_at=datetime(2026, 11, 13, 6, tzinfo=UTC), sections=["cost"],
            forecast=bill_forecast,
        )  # fmt: skip
    cost = report.section("cost")
    chart = next(c for c in cost.charts if c.name == "daily_trend")
    assert chart.labels[0] == "11-01" and chart.labels[-1] == "11-30" and len(chart.labels) == 30
    names = [s.name for s in chart.series]
    assert names == ["this period", "previous period", "forecast"] and chart.band is not None
    ahead = dict(zip(chart.labels, chart.series[2].values, strict=True))
    assert all(ahead[f"11-{d:02d}"] is None for d in range(1, 13))
    points = [ahead[f"11-{d:02d}"] for d in range(13, 31)]
    assert all(p is not None for p in points)
    for p, lo, hi in zip(chart.series[2].values, chart.band[1], chart.band[2], strict=True):
        assert (p is None) == (lo is None) == (hi is None)
        assert p is None or lo <= p <= hi  # type: ignore[operator]
    data = cost.data["forecast"]
    month_to_date = sum(v for v in chart.series[0].values[:12] if v is not None)
    assert month_to_date + sum(points) == Decimal(data["total"])  # type: ignore[arg-type]
    assert [d["day"] for d in data["daily"]] == [f"2026-11-{d:02d}" for d in range(13, 31)]


def test_one_week_with_its_weekend_at_the_end_is_not_read_as_a_decline() -> None:
    """Under two weeks no weekday factor is estimable: a slope through Monday .. Sunday would be the weekend's
    dip, extended over the month; the trend model then holds the level (the median day) instead."""
    week = [(date(2026, 11, 2) + timedelta(days=k), Decimal(500 if k < 5 else 400)) for k in range(7)]
    got = forecast_month(week)
    assert got.days_remaining == 22 and got.month_total - got.actual == 22 * 500
