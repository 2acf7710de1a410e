"""Reserved Instances and Savings Plans together (planning/commitments.py): AWS's order of application, the
new commitment's size, the joint plan against every purchase on small cases, and its properties."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from awscost.planning import commitments as cm
from awscost.planning import ri

NAN = float("nan")


def test_plans_apply_after_reservations_highest_discount_first() -> None:
    # Two groups of one unit-hour each at $1/unit-h: A's SP rate 0.7, B's 0.9. $1.2/h of commitment covers all
    # of A ($0.70) and then $0.50 of B's $0.90 need: 5/9 of B's unit; the rest of B is paid on demand.
    usage = np.array([[1.0, 1.0], [1.0, 0.0]])
    m = cm.model(
        usage, [0, 0], [1.0, 1.0], [0.6, 0.6], [1, 1], [cm.Pool("compute", 1.2, np.array([0.7, 0.9]))]
    )
    od = cm.on_demand_hourly(m, m.base)
    assert od == pytest.approx([1 - 0.5 / 0.9, 0.0])
    # hour 2 has only A: $0.70 of the $1.20 is used
    assert cm.utilization(m, m.base) == [pytest.approx((1.2 + 0.7) / 2.4)]
    # a reservation on A comes first: the plan moves on to B (hour 1) or idles (hour 2)
    assert cm.on_demand_hourly(m, np.array([1.0, 0.0])) == pytest.approx([0.0, 0.0])
    assert cm.utilization(m, np.array([1.0, 0.0])) == [pytest.approx((0.9 + 0.0) / 2.4)]


def test_ec2_instance_plans_cover_their_groups_before_compute_plans() -> None:
    usage = np.array([[2.0], [2.0]])
    ec2_instance = cm.Pool("ec2instance/1y/no/eu-west-1/m5", 1.0, np.array([0.5, NAN]))  # group A only
    compute = cm.Pool("compute/1y/no", 1.0, np.array([0.7, 0.7]))
    m = cm.model(usage, [0, 0], [1.0, 1.0], [0.6, 0.6], [1, 1], [ec2_instance, compute])
    # EC2 Instance: $1 covers 2 units of A ($0.50 each); Compute: $1 covers 1/0.7 units of B
    assert cm.on_demand_hourly(m, m.base) == pytest.approx([2 - 1 / 0.7])
    assert cm.utilization(m, m.base) == [pytest.approx(1.0), pytest.approx(1.0)]


def test_an_owned_plan_that_would_sit_idle_keeps_the_usage_no_ri_is_bought_for_it() -> None:
    # A steady 4 units; the owned Savings Plan covers 2 of them every hour. Stand-alone, RIs for all 4 pay
    # (steady usage, break-even 0.63); with the plan, RIs for the 2 it covers would only idle it.
    usage = np.full((1, 200), 4.0)
    od, rsv = np.array([0.1]), np.array([0.063])
    pool = cm.Pool("compute/1y/no", 2 * 0.072, np.array([0.72]))
    m = cm.model(usage, [0], od, rsv, [1], [pool])
    standalone = ri.plan(usage, [0], od, rsv, min_hours=1)["recommended"]
    assert standalone.tolist() == [4.0]
    extra = cm.plan_reservations(m, standalone)
    assert extra.tolist() == [2.0]
    assert cm.utilization(m, m.base + extra) == [pytest.approx(1.0)]
    assert cm.utilization(m, m.base + standalone) == [pytest.approx(0.0)]  # what the old plan did
    # valued against what is paid today (the plan covering 2 units), not against on-demand
    [saving] = cm.sequential_savings(m, extra, [0])
    assert saving == pytest.approx(2 * (0.1 - 0.063))
    assert cm.hourly_cost(m, standalone) - cm.hourly_cost(m, extra) == pytest.approx(2 * 0.063)


def grid_best(m: cm.Model, extra: np.ndarray, ratio: np.ndarray, top: float) -> tuple[float, float]:
    """Cheapest commitment on the $0.001 grid up to `top`, by trying every one."""
    best = (np.inf, 0.0)
    for c in np.arange(0, top, 0.001):
        cost = cm.hourly_cost(m, extra, [*m.pools, cm.Pool("new", float(c), ratio)]) + float(c)
        best = min(best, (cost, float(c)))
    return best


def random_case(
    rng: np.random.Generator, groups: int, hours: int, pools: int
) -> tuple[cm.Model, np.ndarray, np.ndarray]:
    base = rng.integers(0, 6, (groups, 1))
    amp = rng.integers(0, 6, (groups, 1))
    busy = rng.random((groups, hours)) < rng.uniform(0.2, 0.9, (groups, 1))
    usage = np.maximum(base + amp * busy + rng.integers(-1, 2, (groups, hours)), 0).astype(float)
    owned = rng.integers(0, 3, groups).astype(float)
    od = rng.uniform(0.05, 0.5, groups)
    rsv = od * rng.uniform(0.55, 0.8, groups)
    owned_pools = []
    for k in range(pools):
        ratio = np.where(rng.random(groups) < 0.8, rng.uniform(0.6, 0.95, groups), NAN)
        owned_pools.append(cm.Pool(f"owned-{k}", float(rng.uniform(0, 1.5)), ratio))
    new_ratio = np.where(rng.random(groups) < 0.9, rng.uniform(0.6, 0.9, groups), NAN)
    m = cm.model(usage, owned, od, rsv, np.ones(groups), owned_pools)
    standalone = ri.plan(usage, owned, od, rsv, min_hours=1)["recommended"]
    return m, standalone, new_ratio


def test_the_new_commitment_is_the_cheapest_on_its_grid() -> None:
    rng = np.random.default_rng(11)
    for _ in range(25):
        m, standalone, ratio = random_case(
            rng, int(rng.integers(1, 4)), int(rng.integers(10, 40)), int(rng.integers(0, 3))
        )
        extra = np.floor(standalone * rng.random(len(standalone)))
        c, cost = cm.with_commitment(m, extra, ratio)
        best_cost, _ = grid_best(m, extra, ratio, top=4.0)
        assert cost == pytest.approx(best_cost, abs=1e-9)
        assert cost == pytest.approx(cm.hourly_cost(m, extra, [*m.pools, cm.Pool("n", c, ratio)]) + c)


def test_joint_plan_against_every_purchase_on_small_cases() -> None:
    """The local search against brute force: the cheapest in all but rare cases, never more than 0.5% above."""
    rng = np.random.default_rng(2026)
    cases = exact = 0
    for _ in range(150):
        m, standalone, ratio = random_case(
            rng, int(rng.integers(1, 4)), int(rng.integers(20, 50)), int(rng.integers(0, 3))
        )
        joint = cm.plan_together(m, standalone, ratio)
        best = min(
            cm.with_commitment(m, np.array(x, dtype=float), ratio)[1]
            for x in itertools.product(*[range(int(s) + 1) for s in standalone])
        )
        cases += 1
        exact += joint.cost <= best + 1e-9
        assert joint.cost <= best * 1.005 + 1e-12
        # and the purchases beyond the stand-alone plan never pay: it bounds the search
        beyond = min(
            cm.with_commitment(m, np.array(x, dtype=float), ratio)[1]
            for x in itertools.product(*[range(int(s) + 3) for s in standalone])
        )
        assert beyond == pytest.approx(best, abs=1e-12)
    assert exact >= 0.97 * cases


@st.composite
def cases(draw: st.DrawFn) -> tuple[cm.Model, np.ndarray, np.ndarray]:
    seed = draw(st.integers(0, 2**32 - 1))
    groups = draw(st.integers(1, 5))
    hours = draw(st.integers(1, 60))
    pools = draw(st.integers(0, 2))
    return random_case(np.random.default_rng(seed), groups, hours, pools)


@settings(max_examples=60, deadline=None)
@given(cases())
def test_joint_plan_never_costs_more_than_the_stand_alone_plan_or_nothing(case: tuple) -> None:  # type: ignore[type-arg]
    m, standalone, ratio = case
    joint = cm.plan_together(m, standalone, ratio)
    top = np.nan_to_num(standalone)
    assert np.all(joint.extra >= 0) and np.all(joint.extra <= top + 1e-9)
    assert np.allclose(joint.extra, np.round(joint.extra))  # whole steps
    assert joint.cost <= cm.with_commitment(m, top, ratio)[1] + 1e-9
    assert joint.cost <= cm.with_commitment(m, np.zeros_like(top), ratio)[1] + 1e-9
    # no single step up or down improves it
    for j in range(len(top)):
        for sign in (1, -1):
            moved = joint.extra.copy()
            moved[j] += sign
            if 0 <= moved[j] <= top[j]:
                assert cm.with_commitment(m, moved, ratio)[1] >= joint.cost - 1e-9


@settings(max_examples=80, deadline=None)
@given(cases())
def test_sequential_savings_add_up_to_the_plan_against_today(case: tuple) -> None:  # type: ignore[type-arg]
    m, standalone, _ = case
    extra = np.nan_to_num(standalone)
    savings = cm.sequential_savings(m, extra, list(range(len(extra)))[::-1])
    assert savings.sum() == pytest.approx(
        cm.hourly_cost(m, np.zeros_like(extra)) - cm.hourly_cost(m, extra), abs=1e-9
    )


@settings(max_examples=80, deadline=None)
@given(cases(), st.integers(0, 4))
def test_marginal_values_are_the_cost_slopes(case: tuple, which: int) -> None:  # type: ignore[type-arg]
    """v is what one unit less residual saves, w what one unit more costs: the cost's slopes on either side,
    checked by finite differences on a step far smaller than any allocation boundary in these cases."""
    m, standalone, _ = case
    j = which % len(standalone)
    levels = m.base + np.floor(np.nan_to_num(standalone) / 2)
    v, w = cm._marginals(m, levels, m.pools)
    eps = 1e-7
    for t in range(m.hours):
        if m.usage[j, t] <= levels[j] + eps:
            continue  # no residual usage of j in that hour to take away
        one = cm.Model(m.usage[:, t : t + 1], m.base, m.on_demand, m.reserved, m.step, m.pools)
        here = float(cm.on_demand_hourly(one, levels)[0])
        up = levels.copy()
        up[j] += eps
        down = levels.copy()
        down[j] -= eps
        saved = (here - float(cm.on_demand_hourly(one, up)[0])) / eps
        cost = (float(cm.on_demand_hourly(one, down)[0]) - here) / eps
        assert saved == pytest.approx(v[j, t], rel=1e-4, abs=1e-5)
        assert cost == pytest.approx(w[j, t], rel=1e-4, abs=1e-5)
