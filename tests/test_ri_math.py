"""The break-even-optimal planner and the per-series statistics, on matrices built directly."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from awscost.planning import ri
from awscost.planning.stats import build_matrix, describe
from awscost.store.base import UsageItem


def naive_recommended(usage: list[float], owned: float, breakeven: float) -> int:
    """The definition: the largest n >= 0 with share(hours with usage >= n + owned) >= breakeven."""
    hours = len(usage)
    best = 0
    for n in range(0, int(max(usage, default=0)) + 2):
        share = sum(1 for u in usage if u >= n + owned) / hours
        if share >= breakeven:
            best = n
    return best


def test_statistics_count_absent_keys_as_zero_and_missing_hours_apart() -> None:
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    items = [
        UsageItem("ec2os", "org", "us-east-1", t0, {"linux-m5.large": 4, "linux-t3.micro": 1}),
        UsageItem("ec2os", "org", "us-east-1", t0 + timedelta(hours=1), {"linux-m5.large": 2}),
        # hour 2 not collected at all
        UsageItem("ec2os", "org", "us-east-1", t0 + timedelta(hours=3), {"linux-m5.large": 6}),
    ]
    m = build_matrix(items, t0, t0 + timedelta(hours=4))
    assert [k.key for k in m.keys] == ["linux-m5.large", "linux-t3.micro"]
    st_ = describe(m.values)
    assert list(st_["hours"]) == [3, 3]
    assert list(st_["missing"]) == [1, 1]
    assert st_["min"][1] == 0.0  # absent key = ran zero, not missing (the original's P5/min defect)
    assert st_["max"][0] == 6.0 and st_["mean"][0] == pytest.approx(4.0)
    assert st_["p50"][0] == 4.0
    assert st_["p95"][1] == pytest.approx(np.percentile([1, 0, 0], 95))


def test_statistics_match_numpy_percentiles() -> None:
    rng = np.random.default_rng(1)
    values = rng.poisson(7, (20, 500)).astype(np.float32)
    values[rng.random(values.shape) < 0.1] = np.nan
    got = describe(values)
    for q, name in ((5, "p5"), (50, "p50"), (90, "p90"), (95, "p95")):
        np.testing.assert_allclose(got[name], np.nanpercentile(values, q, axis=1), rtol=1e-6)
    np.testing.assert_allclose(got["mean"], np.nanmean(values, axis=1), rtol=1e-6)
    np.testing.assert_array_equal(got["hours"], np.count_nonzero(~np.isnan(values), axis=1))


def test_break_even_quantile_beats_p95_on_a_spiky_series() -> None:
    # 10 units all the time, 20 units 10% of the time: with a 0.6 break-even, the 11th..20th unit is idle 90%.
    usage = np.array([[10.0] * 900 + [20.0] * 100])
    out = ri.plan(usage, owned=0, on_demand=0.1, reserved_effective=0.06)
    assert out["breakeven"][0] == pytest.approx(0.6)
    assert out["recommended"][0] == 10
    assert out["p95_rule"][0] == 20
    # optimal saves 10 x 0.04 $/h; P95 adds 10 units at 0.06 $/h used 10% of hours at 0.1: loses 0.05 $/h
    assert out["savings_opt"][0] == pytest.approx(0.4)
    assert out["savings_p95"][0] == pytest.approx(0.4 - 10 * 0.06 + 10 * 0.1 * 0.1)
    assert out["utilization"][0] == pytest.approx(1.0)


def test_owned_reservations_are_subtracted_and_too_little_history_recommends_nothing() -> None:
    usage = np.array([[5.0] * 200, [5.0] * 10 + [np.nan] * 190])
    out = ri.plan(usage, owned=np.array([3.0, 0.0]), on_demand=1.0, reserved_effective=0.5)
    assert list(out["recommended"]) == [2, 0]
    assert list(out["enough_history"]) == [True, False]
    assert out["coverage"][0] == pytest.approx(0.6)


def test_no_price_leaves_the_series_listed_with_no_recommendation() -> None:
    out = ri.plan(np.array([[3.0] * 200]), owned=0, on_demand=np.nan, reserved_effective=np.nan)
    assert math.isnan(out["breakeven"][0]) and math.isnan(out["recommended"][0])
    assert out["p95"][0] == 3.0


def test_normalized_units_step_by_granularity() -> None:
    # normalized units of a family; the smallest size bought is a large (4 units)
    usage = np.array([[14.0] * 300])
    out = ri.plan(usage, owned=2.0, on_demand=0.024, reserved_effective=0.015, granularity=4.0)
    assert out["recommended"][0] == 12.0  # 2 owned + 12 <= 14, 16 would overshoot


def test_backtest_reports_the_three_policies() -> None:
    rng = np.random.default_rng(3)
    usage = (10 + rng.integers(0, 2, (1, 3000)) * rng.integers(0, 15, (1, 3000))).astype(np.float32)
    bt = ri.backtest(usage, owned=0, on_demand=0.1, reserved_effective=0.062)
    assert bt["train_hours"][0] == 2000 and bt["test_hours"][0] == 1000
    assert bt["train_savings_opt"][0] >= bt["train_savings_p95"][0]
    assert bt["cost_on_demand"][0] == pytest.approx(0.1 * float(np.sum(usage[0, 2000:], dtype=np.float64)))
    assert bt["savings_opt"][0] == pytest.approx(bt["cost_on_demand"][0] - bt["cost_opt"][0])
    assert bt["savings_opt"][0] > 0


histories = st.lists(st.integers(min_value=0, max_value=12), min_size=1, max_size=80)


@settings(max_examples=300, deadline=None)
@given(
    usage=histories,
    owned=st.integers(min_value=0, max_value=6),
    breakeven=st.floats(min_value=0.01, max_value=1.2, allow_nan=False),
)
def test_recommended_is_the_largest_n_meeting_break_even(
    usage: list[int], owned: int, breakeven: float
) -> None:
    d = 1.0
    row = np.array([usage], dtype=np.float32)
    out = ri.plan(row, owned=owned, on_demand=d, reserved_effective=breakeven * d, min_hours=1)
    assert out["recommended"][0] == naive_recommended([float(u) for u in usage], owned, out["breakeven"][0])
    # on its own planning history the optimal plan never loses to the P95 rule (savings are concave in n)
    assert out["savings_opt"][0] >= out["savings_p95"][0] - 1e-9


@settings(max_examples=100, deadline=None)
@given(
    usage=st.lists(st.one_of(st.none(), st.integers(min_value=0, max_value=9)), min_size=1, max_size=60),
    breakeven=st.floats(min_value=0.05, max_value=1.0),
)
def test_missing_hours_are_excluded_from_the_share(usage: list[int | None], breakeven: float) -> None:
    row = np.array([[np.nan if u is None else u for u in usage]], dtype=np.float32)
    observed = [float(u) for u in usage if u is not None]
    out = ri.plan(row, owned=0, on_demand=1.0, reserved_effective=breakeven, min_hours=1)
    if not observed:
        assert out["recommended"][0] == 0
    else:
        assert out["recommended"][0] == naive_recommended(observed, 0, out["breakeven"][0])


def test_daily_kinds_stand_for_their_whole_day() -> None:
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    items = [
        UsageItem("redshift", "org", "us-east-1", t0 + timedelta(hours=7), {"dc2.large": 2}),
        UsageItem("redshift", "org", "us-east-1", t0 + timedelta(days=2, hours=7), {"dc2.large": 3}),
    ]
    m = build_matrix(items, t0, t0 + timedelta(days=3))
    row = m.values[0]
    assert list(row[:24]) == [2.0] * 24 and np.isnan(row[24:48]).all() and list(row[48:]) == [3.0] * 24


@settings(max_examples=200, deadline=None)
@given(
    usage=st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=60),
    owned=st.integers(min_value=0, max_value=16),
    step=st.sampled_from([1.0, 2.0, 4.0, 8.0]),
    breakeven=st.floats(min_value=0.05, max_value=1.0),
)
def test_normalized_units_buy_the_savings_maximizing_number_of_steps(
    usage: list[int], owned: int, step: float, breakeven: float
) -> None:
    """Bought in steps of g units, the plan is the best multiple of g on its history (brute force), and
    with g = 1 it is the break-even quantile of the property above."""
    row = np.array([usage], dtype=np.float32)
    out = ri.plan(
        row, owned=owned, on_demand=1.0, reserved_effective=breakeven, granularity=step, min_hours=1
    )
    r = float(out["breakeven"][0])

    def savings(n: float) -> float:
        return sum(min(u, owned + n) - min(u, owned) for u in usage) - n * r * len(usage)

    candidates = [j * step for j in range(0, int(max(usage) / step) + 3)]
    best = max(savings(n) for n in candidates)
    assert savings(float(out["recommended"][0])) == pytest.approx(best, abs=1e-6)
    assert out["savings_opt"][0] >= out["savings_p95"][0] - 1e-9
    if step == 1.0:
        assert out["recommended"][0] == naive_recommended([float(u) for u in usage], owned, r)


@settings(max_examples=150, deadline=None)
@given(
    usage=st.lists(st.one_of(st.none(), st.integers(min_value=0, max_value=50)), min_size=1, max_size=80),
    owned=st.integers(min_value=0, max_value=20),
    step=st.sampled_from([1.0, 4.0]),
    breakeven=st.floats(min_value=0.05, max_value=1.0),
)
def test_int16_matrices_plan_exactly_like_float_ones(
    usage: list[int | None], owned: int, step: float, breakeven: float
) -> None:
    from awscost.planning.stats import to_int16

    floats = np.array([[np.nan if u is None else u for u in usage]], dtype=np.float32)
    ints = to_int16(floats)
    assert ints is not None and ints.dtype == np.int16
    a = ri.plan(floats, owned, 1.0, breakeven, granularity=step, min_hours=1)
    b = ri.plan(ints, owned, 1.0, breakeven, granularity=step, min_hours=1)
    for key in (
        "hours",
        "missing",
        "min",
        "p5",
        "mean",
        "p50",
        "p95",
        "max",
        "recommended",
        "p95_rule",
        "savings_opt",
        "savings_p95",
        "utilization",
        "coverage",
    ):
        np.testing.assert_allclose(a[key], b[key], rtol=1e-9, atol=1e-9, err_msg=key, equal_nan=True)


def test_to_int16_refuses_what_it_cannot_hold() -> None:
    from awscost.planning.stats import to_int16

    assert to_int16(np.array([[0.25, 1.0]])) is None
    assert to_int16(np.array([[40000.0]])) is None
    assert to_int16(np.array([[-1.0]])) is None
    assert to_int16(np.array([[3.0, np.nan]])).tolist() == [[3, 32767]]  # type: ignore[union-attr]
