"""Reserved Instances and Savings Plans planned together, against the usage each would actually cover.

AWS prices each usage hour in a fixed order: reservations first; then Savings Plans, EC2 Instance plans
before Compute plans, each plan applied to the eligible usage with the highest discount (the lowest SP rate /
on-demand rate) first until its hourly commitment is used up; what is left is paid on demand. So a Savings
Plan already owned changes what a new reservation is worth: where the plan would have covered the usage the
reservation takes, the reservation saves only what the freed commitment finds to cover elsewhere, and where
the plan has nothing else to cover, nothing at all (the commitment is paid whether it is used or not).

This module models that order exactly over an hourly history of EC2 reservation groups (`Model`: usage in
group units, the RI level owned, on-demand and RI rates per unit, and the Savings Plans owned as `Pool`s in
the order AWS applies them), and plans against it:

- `with_commitment` sizes a new Compute Savings Plan (applied after the owned ones) for what a purchase of
  reservations leaves on demand: the hourly cost is convex in the commitment and its slope known exactly
  (1 - the average value of a marginal commitment dollar), so the best size is read off one sort.
- `plan_reservations` buys, per group, the RIs that pay against what is paid today, with the new commitment
  sized anew for every candidate (`new_ratio`): the two trade off, since usage a reservation would take can
  be what keeps a larger, better-used commitment busy. It starts from the stand-alone break-even plan (a
  Savings Plan, owned or new, can only lower what an RI is worth, so that plan bounds the answer) and from
  nothing, and moves purchase steps: ranked by the first-order change of the hourly cost (marginal values
  propagated back through the plans, `_marginals`), applied in damped batches and kept only when the exact
  cost falls; a final pass tries single steps, exchanges between groups and pairs exactly. The result is a
  plan none of those moves improves; on small random cases checked against every purchase it is the
  cheapest, bar rare cases a little above it (tests/test_commitments.py).
- `plan_together` is that plan and its commitment; `sequential_savings` values each purchase against what is
  paid today (each group's on top of the ones listed before it; they add up to the plan's total);
  `utilization` is what share of each plan's commitment the usage uses.

Costs are $ per observed hour (float, inside the numeric kernel; the plan rounds money to cents). Hours where
no group was observed are left out; in the others a group without an observation counts no usage, as the
Savings Plan row always counted it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

# Relative tolerance of commitment comparisons ($ of commitment per $ committed).
_TOL = 1e-9
COMMITMENT_STEP = 0.001  # $/hour: the finest commitment AWS sells


@dataclass(frozen=True)
class Pool:
    """One Savings Plan commitment (or several of one key, summed), as AWS applies it."""

    name: str  # the `sp` usage key ("compute/1y/no", "ec2instance/1y/no/eu-west-1/m5"), or "new ..."
    commitment: float  # $/hour
    ratio: Any  # np.ndarray (groups,): SP rate / on-demand rate; NaN where the plan does not apply


@dataclass
class Model:
    """The hourly history the plans are set against (groups x observed hours)."""

    usage: Any  # np.ndarray (E, N) float64, group units
    base: Any  # (E,) reserved units counted on before any purchase
    on_demand: Any  # (E,) $ per unit-hour
    reserved: Any  # (E,) effective $ per unit-hour of a new reservation (NaN: none offered)
    step: Any  # (E,) smallest purchase, in group units
    pools: list[Pool] = field(default_factory=list)

    @property
    def hours(self) -> int:
        return int(self.usage.shape[1])


def model(
    values: Any, base: Any, on_demand: Any, reserved: Any, step: Any, pools: Sequence[Pool] = ()
) -> Model:
    """A Model from a usage matrix with NaN for hours not collected (see the module docstring)."""
    import numpy as np

    arr = np.asarray(values, dtype=np.float64).reshape(len(np.atleast_1d(base)), -1)
    seen = ~np.all(np.isnan(arr), axis=0) if arr.shape[0] else np.zeros(arr.shape[1], dtype=bool)
    usage = np.nan_to_num(arr[:, seen], nan=0.0)
    return Model(
        usage,
        np.asarray(base, dtype=np.float64),
        np.asarray(on_demand, dtype=np.float64),
        np.asarray(reserved, dtype=np.float64),
        np.asarray(step, dtype=np.float64),
        list(pools),
    )


@dataclass
class _Stage:
    order: Any  # group indices the pool applies to, highest discount first
    rate: Any  # SP $ per unit-hour of those groups
    demand: Any  # (n, N) commitment $ the residual usage would take
    covered: Any  # (n, N) commitment $ the pool spent on it
    commitment: float


def _order(pool: Pool, on_demand: Any) -> tuple[Any, Any]:
    import numpy as np

    ratio = np.asarray(pool.ratio, dtype=np.float64)
    ok = np.flatnonzero(np.isfinite(ratio) & (ratio > 0) & np.isfinite(on_demand) & (on_demand > 0))
    order = ok[np.argsort(ratio[ok], kind="stable")]
    return order, ratio[order] * on_demand[order]


def _forward(m: Model, levels: Any, pools: Sequence[Pool]) -> tuple[Any, list[_Stage]]:
    """Apply the pools in order to the usage above `levels`: the residual on-demand units and each stage."""
    import numpy as np

    rem = np.maximum(m.usage - np.asarray(levels, dtype=np.float64)[:, None], 0.0)
    stages = []
    for pool in pools:
        order, rate = _order(pool, m.on_demand)
        if pool.commitment <= 0 or order.size == 0:
            stages.append(_Stage(order[:0], rate[:0], np.zeros((0, m.hours)), np.zeros((0, m.hours)), 0.0))
            continue
        demand = rem[order] * rate[:, None]
        # what the commitment leaves of each group's need once the groups before it (and it) are served
        left = np.cumsum(demand, axis=0)
        left -= pool.commitment
        np.clip(left, 0.0, demand, out=left)
        rem[order] = left / rate[:, None]
        stages.append(_Stage(order, rate, demand, demand - left, float(pool.commitment)))
    return rem, stages


def on_demand_hourly(m: Model, levels: Any, pools: Sequence[Pool] | None = None) -> Any:
    """$ paid on demand in each observed hour with reservations up to `levels` and the pools applied."""
    rem, _ = _forward(m, levels, m.pools if pools is None else pools)
    return m.on_demand @ rem


def hourly_cost(m: Model, extra: Any, pools: Sequence[Pool] | None = None) -> float:
    """Average $/hour of what changes with a plan: on-demand spend left, plus the new reservations' cost.
    What is owned (reservations, Savings Plans) is paid either way and left out; a new commitment is the
    caller's to add."""
    import numpy as np

    extra = np.asarray(extra, dtype=np.float64)
    if m.hours == 0:
        return float(np.nansum(extra * m.reserved))
    od = on_demand_hourly(m, m.base + extra, pools)
    return float(od.mean() + np.nansum(np.where(extra > 0, extra * m.reserved, 0.0)))


def utilization(m: Model, levels: Any, pools: Sequence[Pool] | None = None) -> list[float | None]:
    """Per pool, the share of its commitment the usage above `levels` uses over the history."""
    import numpy as np

    chosen = m.pools if pools is None else pools
    _, stages = _forward(m, levels, chosen)
    out: list[float | None] = []
    for pool, stage in zip(chosen, stages, strict=True):
        if pool.commitment <= 0 or m.hours == 0:
            out.append(None)
            continue
        out.append(float(np.sum(stage.covered)) / (pool.commitment * m.hours))
    return out


def _marginals(m: Model, levels: Any, pools: Sequence[Pool]) -> tuple[Any, Any]:
    """Per group and hour, the first-order value of one unit less residual usage (`v`, what a reservation
    unit on top saves) and the cost of one unit more (`w`, what giving up the top reserved unit costs),
    propagated back through the pools: a covered unit frees (or takes) commitment at the pool's frontier."""
    import numpy as np

    _, stages = _forward(m, levels, pools)
    n_hours = m.hours
    cols = np.arange(n_hours)
    v = np.repeat(m.on_demand[:, None], n_hours, axis=1)
    w = v.copy()
    for stage in reversed(stages):
        n = stage.order.size
        if n == 0:
            continue
        tol = _TOL * max(stage.commitment, 1.0)
        rate = stage.rate[:, None]
        uncovered = stage.demand - stage.covered > tol
        spent = np.cumsum(stage.covered, axis=0)
        slack = stage.commitment - spent[-1] > tol
        vn, wn = v[stage.order], w[stage.order]
        # a freed commitment dollar goes to the first usage left uncovered (worth its next value per $)
        front = np.argmax(uncovered, axis=0)
        lam = np.where(~slack & uncovered.any(axis=0), vn[front, cols] / stage.rate[front], 0.0)
        covered_top = (stage.demand > tol) & ~uncovered
        v[stage.order] = np.where(covered_top, rate * lam[None, :], vn)
        # a dollar taken comes from the last usage the pool covered (which then costs its next value per $)
        positive = stage.covered > tol
        last = n - 1 - np.argmax(positive[::-1], axis=0)
        mu = np.where(~slack & positive.any(axis=0), wn[last, cols] / stage.rate[last], 0.0)
        room = stage.commitment - spent > tol  # commitment left after this group's share
        w[stage.order] = np.where(room, rate * mu[None, :], wn)
    return v, w


def _step_bands(m: Model, levels: Any) -> tuple[Any, Any]:
    """Usage each group's next purchase step would take (above `levels`) and its top owned step gives back."""
    import numpy as np

    lv = np.asarray(levels, dtype=np.float64)[:, None]
    step = m.step[:, None]
    add = np.clip(m.usage - lv, 0.0, step)
    remove = np.clip(m.usage - (lv - step), 0.0, step)
    return add, remove


def with_commitment(
    m: Model, extra: Any, ratio: Any, pools: Sequence[Pool] | None = None, *, step: float = COMMITMENT_STEP
) -> tuple[float, float]:
    """The best new Savings Plan commitment for reservations `extra` (a multiple of `step`, applied after the
    owned pools) and the hourly cost with it: `hourly_cost` + the commitment.

    The new plan is the last one applied, so the usage it sees does not depend on its size. A marginal
    commitment dollar covers the first usage, in discount order, it has not covered yet, worth 1 / (its SP
    ratio) in on-demand spend, and nothing in an hour it already covers. Summed over the groups those values
    telescope: worth(c) = sum_k drop_k * share of hours whose need for the first k groups exceeds c, where
    drop_k is the fall in value from group k to the next. The cost falls while worth(c) >= $1, so the best
    commitment is the largest need where the sorted sum reaches 1 (then the cheaper neighbour on the grid)."""
    import numpy as np

    chosen = m.pools if pools is None else pools
    extra = np.asarray(extra, dtype=np.float64)
    rem, _ = _forward(m, m.base + extra, chosen)
    left = m.on_demand @ rem
    ri_cost = float(np.nansum(np.where(extra > 0, extra * m.reserved, 0.0)))
    order, rate = _order(Pool("new", 0.0, ratio), m.on_demand)
    if order.size == 0 or m.hours == 0:
        return 0.0, (float(left.mean()) if m.hours else 0.0) + ri_cost
    demand = rem[order] * rate[:, None]
    need = np.cumsum(demand, axis=0)
    value = 1.0 / np.asarray(ratio, dtype=np.float64)[order]
    drop = value - np.append(value[1:], 0.0)
    flat = need.ravel()  # group-major: group k's hours are flat[k * N:(k + 1) * N]
    rank = np.argsort(-flat, kind="stable")
    weight = np.cumsum(np.repeat(drop / m.hours, m.hours)[rank])
    reached = np.flatnonzero(weight >= 1.0 - 1e-12)
    best = float(flat[rank[reached[0]]]) if reached.size else 0.0

    def cost(c: float) -> float:
        covered = np.clip(c - (need - demand), 0.0, demand)
        return float((left - (covered * value[:, None]).sum(axis=0)).mean()) + c

    grid = {np.floor(best / step + 1e-9) * step, np.ceil(best / step - 1e-9) * step}
    found = min((cost(c), c) for c in grid if c >= 0)
    return round(found[1], 6), found[0] + ri_cost


def best_commitment(m: Model, extra: Any, ratio: Any, *, step: float = COMMITMENT_STEP) -> float:
    """The new Savings Plan commitment ($/h) for what the reservations `extra` and the owned pools leave on
    demand (see `with_commitment`)."""
    return with_commitment(m, extra, ratio, step=step)[0]


@dataclass
class _Objective:
    """What a candidate purchase costs per hour: on-demand left plus the new reservations, and with `ratio`
    the new Savings Plan too, sized anew for every candidate (the two trade off: a reservation taken away
    can leave usage a larger commitment covers at a better average)."""

    m: Model
    pools: list[Pool]
    ratio: Any = None  # the new plan's SP ratios per group; None: no new plan

    def cost(self, extra: Any) -> float:
        if self.ratio is None:
            return hourly_cost(self.m, extra, self.pools)
        return with_commitment(self.m, extra, self.ratio, self.pools)[1]

    def applied(self, extra: Any) -> list[Pool]:
        """The pools as applied to this purchase: the owned ones, then the new plan at its best size."""
        if self.ratio is None:
            return self.pools
        c = with_commitment(self.m, extra, self.ratio, self.pools)[0]
        return [*self.pools, Pool("new", c, self.ratio)]


def plan_reservations(
    m: Model,
    upper: Any,
    pools: Sequence[Pool] | None = None,
    *,
    new_ratio: Any = None,
    start: Any = None,
    max_rounds: int = 10_000,
) -> Any:
    """Units to buy per group (multiples of `m.step`, 0 <= extra <= upper) minimizing the hourly cost with
    the pools applied after the reservations, and with `new_ratio` a new Savings Plan sized for each
    purchase. `upper` is the stand-alone break-even plan (NaN: buy nothing)."""
    import numpy as np

    goal = _Objective(m, list(m.pools if pools is None else pools), new_ratio)
    top = np.nan_to_num(np.asarray(upper, dtype=np.float64), nan=0.0)
    top = np.where(np.isfinite(m.reserved) & np.isfinite(m.on_demand), np.maximum(top, 0.0), 0.0)
    if m.hours == 0 or not top.size:
        return top * 0
    if new_ratio is None and all(p.commitment <= 0 for p in goal.pools):
        return top  # nothing to share: the stand-alone plan is the answer
    # The cost is convex in the purchases, but on whole steps a local search can stop short: search down
    # from the stand-alone plan and up from nothing (and from `start`), keep the cheapest.
    starts = [top, np.zeros_like(top)]
    if start is not None:
        starts.append(np.clip(np.nan_to_num(np.asarray(start, dtype=np.float64)), 0, top))
    found = [_search(goal, s.copy(), top, max_rounds) for s in starts]
    return min(found, key=goal.cost)


def _steps_to_move(m: Model, extra: Any, top: Any, v: Any, w: Any) -> Any:
    """Per group, how many steps to buy (> 0) or give up (< 0) by the first-order values `v`, `w`: the
    k-th step up pays while its usage band, valued at v, is worth its cost; the k-th step down while the
    band it gives back, valued at w, costs less than the step. Band usage falls with k, so each count is a
    bisection. The values are those of the current purchase, so the counts overshoot: the caller damps."""
    import numpy as np

    levels = m.base + extra
    buy = m.reserved * m.step
    eps = 1e-12

    def gain(k: Any, up: bool) -> Any:
        lo = levels + (k - 1) * m.step if up else levels - k * m.step
        band = np.clip(m.usage - lo[:, None], 0.0, m.step[:, None])
        return (v * band).mean(axis=1) - buy if up else buy - (w * band).mean(axis=1)

    out = []
    for up, most in ((True, (top - extra) / m.step), (False, extra / m.step)):
        lo = np.zeros(len(extra), dtype=np.int64)
        hi = np.floor(np.nan_to_num(most) + 1e-9).astype(np.int64) + 1
        while np.any(hi - lo > 1):
            active = hi - lo > 1
            mid = (lo + hi) // 2
            ok = active & (gain(np.maximum(mid, 1), up) > eps)
            lo, hi = np.where(ok, mid, lo), np.where(active & ~ok, mid, hi)
        out.append(lo)
    return np.where(out[0] > 0, out[0], -out[1])


def _search(goal: _Objective, extra: Any, top: Any, max_rounds: int) -> Any:
    """Descend from `extra`: every group's first-order move at once, damped until the exact cost falls; when
    no damping helps, one group's step at a time; then `_polish`."""
    import numpy as np

    m = goal.m
    cost = goal.cost(extra)
    eps = 1e-12
    for _ in range(max_rounds):
        levels = m.base + extra
        v, w = _marginals(m, levels, goal.applied(extra))
        steps = _steps_to_move(m, extra, top, v, w)
        if not np.any(steps):
            break
        moved = False
        share = 1.0
        while not moved:  # every group's move at once, then smaller ones
            scaled = np.sign(steps) * np.ceil(np.abs(steps) * share)
            trial = np.clip(extra + scaled * m.step, 0.0, top)
            found = goal.cost(trial)
            if found < cost - eps * max(1.0, abs(cost)):
                extra, cost, moved = trial, found, True
            elif np.max(np.abs(scaled)) <= 1:
                break
            share /= 2
        if moved:
            continue
        # one group at a time, the most valuable first (by the first-order value of its one step)
        add, remove = _step_bands(m, levels)
        buy = m.reserved * m.step
        net = np.where(steps > 0, (v * add).mean(axis=1) - buy, buy - (w * remove).mean(axis=1))
        for j in [int(j) for j in np.argsort(-net, kind="stable") if steps[j] != 0]:
            trial = extra.copy()
            trial[j] = min(max(trial[j] + np.sign(steps[j]) * m.step[j], 0.0), top[j])
            found = goal.cost(trial)
            if found < cost - eps * max(1.0, abs(cost)):
                extra, cost, moved = trial, found, True
                break
        if not moved:
            break
    return _polish(goal, extra, top, cost)


# Exchanges are tried among this many groups, those whose next step the commitment changes most.
EXCHANGE_GROUPS = 12


def _delta(
    m: Model, extra: Any, trial: Any, changed: Sequence[int], pools: Sequence[Pool], od_now: Any
) -> float:
    """hourly_cost(trial) - hourly_cost(extra) with fixed pools, computed on the hours where a changed group's
    usage reaches into the steps that changed (elsewhere nothing moves: the same usage is reserved)."""
    import numpy as np

    low = np.minimum(extra, trial)[changed] + m.base[changed]
    hours = np.flatnonzero(np.any(m.usage[changed] > low[:, None], axis=0))
    ri = float(np.sum((trial - extra)[changed] * m.reserved[changed]))
    if hours.size == 0:
        return ri
    part = Model(m.usage[:, hours], m.base, m.on_demand, m.reserved, m.step)
    after = m.on_demand @ _forward(part, m.base + trial, pools)[0]
    return float((after - od_now[hours]).sum()) / m.hours + ri


def _polish(goal: _Objective, extra: Any, top: Any, cost: float) -> Any:
    """Try one and two steps up and down of every group exactly, and exchanges (one group's step up,
    another's down by the same dollars of on-demand usage or one step more or less) among the groups the
    commitment touches most (then those nearest break-even), and both of two such groups up or down; apply
    each improvement found and scan again until none is left. The ranked moves are first-order estimates;
    this makes the answer one that none of these changes improves. Groups compete for the same commitment,
    so moving a purchase from one group to another can pay where neither step alone does."""
    import numpy as np

    m = goal.m
    n = len(extra)
    eps = 1e-12 * max(1.0, abs(cost))
    for _ in range(8 * n + 8):
        levels = m.base + extra
        applied = goal.applied(extra)
        od_now = on_demand_hourly(m, levels, applied)
        v, w = _marginals(m, levels, applied)
        add, remove = _step_bands(m, levels)
        # how far the commitment moves each group's next and last step from its stand-alone value
        od = m.on_demand[:, None]
        touched = ((od - v) * add).mean(axis=1) + ((od - w) * remove).mean(axis=1)
        # then the groups whose top or next step is nearest its break-even (a commitment not bought yet
        # touches nothing, but giving up such steps together may make one pay)
        buy = m.reserved * m.step
        margin = np.minimum(np.abs((v * add).mean(axis=1) - buy), np.abs(buy - (w * remove).mean(axis=1)))
        rank = np.lexsort((margin, -touched))
        near = [int(j) for j in rank[:EXCHANGE_GROUPS] if np.isfinite(m.reserved[j]) and top[j] > 0]
        # one or two steps of one group (two: with several plans the cost need not be convex in one group)
        moves: list[dict[int, float]] = [{j: float(k)} for k in (1, -1, 2, -2) for j in range(n)]
        for i in near:
            for j in near:
                if i == j:
                    continue
                same = m.on_demand[i] * m.step[i] / (m.on_demand[j] * m.step[j])
                for up in (1, 2):
                    for k in sorted({1, max(1, round(same * up)), max(1, round(same * up)) + 1}):
                        moves.append({i: float(up), j: -float(k)})
                if i < j:  # both together: what one gives up a larger commitment may cover with the other's
                    moves += [{i: 1.0, j: 1.0}, {i: -1.0, j: -1.0}]
        improved = False
        for move in moves:
            trial = extra.copy()
            for j, steps in move.items():
                if steps < 0 and extra[j] < m.step[j] - 1e-9:
                    break  # nothing of j to give up
                if steps > 0 and extra[j] + steps * m.step[j] > top[j] + 1e-9:
                    break  # beyond the stand-alone plan
                trial[j] = max(trial[j] + steps * m.step[j], 0.0)  # give up at most what j holds
            else:
                if goal.ratio is None:  # fixed pools: only the hours the move reaches change
                    change = _delta(m, extra, trial, list(move), applied, od_now)
                else:
                    change = goal.cost(trial) - cost
                if change < -eps:
                    extra, cost, improved = trial, cost + change, True
                    break
        if not improved:
            return extra
    return np.asarray(extra)


@dataclass
class Joint:
    """The plan of `plan_together`: RI units per group and the new commitment."""

    extra: Any  # (E,) units to buy
    commitment: float  # new Savings Plan $/h
    pool: Pool  # the new plan as applied (after the owned ones)
    cost: float  # hourly_cost + commitment


def plan_together(m: Model, upper: Any, ratio: Any, *, name: str = "new") -> Joint:
    """Reservations and a new Savings Plan together, after the owned pools: the purchase that minimizes the
    hourly cost with the commitment sized for it (`plan_reservations` with `new_ratio`)."""
    extra = plan_reservations(m, upper, new_ratio=ratio)
    commitment, cost = with_commitment(m, extra, ratio)
    return Joint(extra, commitment, Pool(name, commitment, ratio), cost)


def sequential_savings(
    m: Model, extra: Any, order: Sequence[int], pools: Sequence[Pool] | None = None
) -> Any:
    """Per group, the $/h its purchase saves against what is paid today, bought in `order` each on top of
    the ones before it (the values add up to the whole purchase's saving)."""
    import numpy as np

    chosen = m.pools if pools is None else pools
    extra = np.nan_to_num(np.asarray(extra, dtype=np.float64), nan=0.0)
    out = np.zeros(len(extra))
    current = np.zeros(len(extra))
    before = hourly_cost(m, current, chosen)
    for j in order:
        if extra[j] == 0:
            continue
        current[j] = extra[j]
        after = hourly_cost(m, current, chosen)
        out[j] = before - after
        before = after
    return out
