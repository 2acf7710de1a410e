"""Break-even-optimal reserved capacity, vectorised over many series (numpy).

Why a quantile and not P95: the n-th reserved unit (beyond those owned) costs its effective hourly rate r
every hour and saves the on-demand rate d in each hour where usage reaches owned + n. It pays off exactly when
share(hours with usage >= owned + n) >= r / d, the *break-even ratio*. That share falls as n grows, so the
optimum is the largest such n: a quantile of the hourly distribution set by the price ratio. Savings are
concave in n, so on the history it was planned on this plan is never beaten by any other count, P95 included.

All functions take a matrix of hourly usage (series x hours, NaN = hour not collected) or its row-sorted copy
(`awscost.planning.stats.sort_rows`), and per-series vectors for owned units and prices. Units may be
normalized (size-flexible families): `granularity` is the smallest purchasable step in those units.
"""

from __future__ import annotations

from typing import Any

from awscost.planning.stats import describe_sorted, missing_value, observed_counts, row_totals, sort_rows

# Fewer observed hours than this and a series gets no recommendation (said so in its row).
MIN_HOURS = 24 * 7


def _matrix(values: Any) -> Any:
    """Integer matrices (missing = dtype max, see stats.missing_value) stay as they are; others float32."""
    import numpy as np

    arr = np.asarray(values)
    return arr if arr.dtype.kind in "iu" else arr.astype(np.float32, copy=False)


def required_hours(n_obs: Any, breakeven: Any) -> Any:
    """Smallest integer m with m / n_obs >= breakeven (the same float comparison as `share >= breakeven`)."""
    import numpy as np

    n = np.asarray(n_obs, dtype=np.int64)
    b = np.asarray(breakeven, dtype=np.float64)
    nf = np.maximum(n, 1).astype(np.float64)
    with np.errstate(invalid="ignore"):
        m = np.ceil(b * nf)
        m = np.where(np.isfinite(m), m, n + 1).astype(np.int64)
        m = np.clip(m, 0, n + 1)
        # ceil(b*N) can be off by one against m/N >= b in floating point: settle it with that comparison.
        m = np.where((m > 0) & ((m - 1) / nf >= b), m - 1, m)
        m = np.where((m <= n) & (m / nf < b), m + 1, m)
    return m


def optimal_level(sorted_rows: Any, n_obs: Any, breakeven: Any) -> Any:
    """Per row: the largest level L with share(usage >= L) >= breakeven, i.e. the m-th largest observed value.

    -inf where no level qualifies (breakeven > 1, or no observed hours); breakeven <= 0 is treated as
    "cover the maximum"; NaN where breakeven is unknown (no price).
    """
    import numpy as np

    n = np.asarray(n_obs, dtype=np.int64)
    b = np.asarray(breakeven, dtype=np.float64)
    m = np.maximum(required_hours(n, b), 1)  # breakeven <= 0: every level up to the max qualifies
    ok = (m <= n) & (n > 0)
    idx = np.clip(n - m, 0, max(sorted_rows.shape[1] - 1, 0))
    if sorted_rows.shape[1] == 0:
        vals = np.full(n.shape, -np.inf)
    else:
        vals = np.take_along_axis(sorted_rows, idx[:, None], axis=1)[:, 0].astype(np.float64)
    level = np.where(ok, vals, -np.inf)
    return np.where(np.isnan(b), np.nan, level)


def units_to_buy(level: Any, owned: Any, granularity: Any = 1.0) -> Any:
    """Largest multiple n of `granularity` with owned + n <= level, floored at 0 (NaN stays NaN)."""
    import numpy as np

    g = np.asarray(granularity, dtype=np.float64)
    lvl = np.asarray(level, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        steps = np.floor((lvl - np.asarray(owned, dtype=np.float64)) / g + 1e-9)
        n = np.where(np.isnan(lvl), np.nan, np.maximum(steps, 0) * g)
    return n


def _settle_chunks(
    arr: Any, owned: Any, rec: Any, breakeven: Any, granularity: Any, n_obs: Any, enough: Any
) -> Any:
    """Exact optimum when a purchase step is coarser than a unit (size-flexible groups bought in sizes).

    A step of g units pays when the usage it would cover, averaged over its g units and the hours, reaches
    the break-even ratio. Usage share at the step's top can fall below break-even while that average does
    not, so the optimum is the quantile answer or one step more: test that one step, on those rows only.
    With g = 1 and whole-unit usage both rules are the same and nothing is computed here.
    """
    import numpy as np

    g = np.asarray(granularity, dtype=np.float64) * np.ones(arr.shape[0])
    rows = np.flatnonzero((g != 1.0) & enough & np.isfinite(breakeven) & (n_obs > 0))
    if rows.size == 0:
        return rec
    sub = arr[rows]
    base = owned[rows] + rec[rows]
    gained = covered_units(sub, base + g[rows]) - covered_units(sub, base)
    use = gained / (g[rows] * n_obs[rows])
    out = np.array(rec, dtype=np.float64, copy=True)
    out[rows] = np.where(use >= breakeven[rows], rec[rows] + g[rows], rec[rows])
    return out


def p95_rule(p95: Any, owned: Any, granularity: Any = 1.0) -> Any:
    """The seed's rule of thumb: reserve enough to cover the P95 hour (rounded up to a purchasable step)."""
    import numpy as np

    g = np.asarray(granularity, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        steps = np.ceil((np.asarray(p95, dtype=np.float64) - np.asarray(owned, dtype=np.float64)) / g - 1e-9)
        return np.where(np.isnan(p95), np.nan, np.maximum(steps, 0) * g)


def covered_units(values: Any, level: Any, n_missing: Any = None) -> Any:
    """Per row: sum over observed hours of min(usage, level) (the unit-hours a reservation level covers)."""
    import numpy as np

    arr = np.asarray(values)
    lvl = np.asarray(level, dtype=np.float64) * np.ones(arr.shape[0])
    if n_missing is None:
        n_missing = arr.shape[1] - observed_counts(arr)
    marker = missing_value(arr)
    if marker is None:
        # fmin ignores NaN (a missing hour yields the level itself): one pass instead of nansum's copy
        cap = lvl.astype(arr.dtype)
        summed = np.fmin(arr, cap[:, None]).sum(axis=1, dtype=np.float64)
    else:
        # the missing marker is the dtype's maximum, so min(marker, level) is the level too
        whole = bool(np.all(lvl == np.floor(lvl))) and bool(np.all(lvl < marker))
        cap = np.clip(lvl, 0, marker).astype(arr.dtype) if whole else lvl.astype(np.float32)
        summed = np.minimum(arr, cap[:, None]).sum(axis=1, dtype=np.float64)
    return summed - cap.astype(np.float64) * np.asarray(n_missing, dtype=np.float64)


def plan_costs(
    values: Any,
    owned: Any,
    extra: Any,
    on_demand: Any,
    reserved_effective: Any,
    *,
    _known: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Replay a history against buying `extra` units beyond `owned`.

    Returns per row: on-demand cost of usage beyond owned with and without the purchase, the purchase's cost,
    the savings (without - with) and the utilization of the extra units. Owned reservations are sunk costs
    and left out. `_known` passes hours/total/covered_owned already computed by the caller.
    """
    import numpy as np

    arr = np.asarray(values)
    known = _known or {}
    n_obs = known.get("hours")
    if n_obs is None:
        n_obs = observed_counts(arr)
    n_obs = np.asarray(n_obs, dtype=np.float64)
    missing = arr.shape[1] - n_obs
    total = known.get("total")
    if total is None:
        total = row_totals(arr, missing)
    o = np.asarray(owned, dtype=np.float64) * np.ones(arr.shape[0])
    x = np.nan_to_num(np.asarray(extra, dtype=np.float64)) * np.ones(arr.shape[0])
    d = np.asarray(on_demand, dtype=np.float64)
    r = np.asarray(reserved_effective, dtype=np.float64)
    cov_owned = known.get("covered_owned")
    if cov_owned is None:
        cov_owned = covered_units(arr, o, missing)
    cov_plan = covered_units(arr, o + x, missing) if np.any(x > 0) else cov_owned
    od_without = d * (total - cov_owned)
    od_with = d * (total - cov_plan)
    reserved_cost = x * r * n_obs
    with np.errstate(invalid="ignore", divide="ignore"):
        utilization = np.where(x > 0, (cov_plan - cov_owned) / (x * np.maximum(n_obs, 1)), np.nan)
    return {
        "hours": n_obs,
        "on_demand_cost": od_without,
        "plan_cost": od_with + reserved_cost,
        "savings": od_without - od_with - reserved_cost,
        "utilization": utilization,
        "covered_owned": cov_owned,
        "total_usage": total,
    }


def plan(
    values: Any,
    owned: Any,
    on_demand: Any,
    reserved_effective: Any,
    *,
    granularity: Any = 1.0,
    min_hours: int = MIN_HOURS,
    owned_now: Any = None,
) -> dict[str, Any]:
    """Plan every row of an hourly matrix. `owned` is what the plan counts on (owned minus what expires
    soon); `owned_now` (default `owned`) is what coverage is measured against. Returns arrays: the
    statistics (hours, missing, min, p5, mean, p50, p90, p95, max), breakeven, level, recommended,
    p95_rule, hourly savings of each on this history (savings_opt, savings_p95), expected
    utilization of the recommended units, coverage by owned units, and enough_history (False rows
    recommend 0)."""
    import numpy as np

    arr = _matrix(values)
    sorted_rows, n_obs = sort_rows(arr)
    stats = describe_sorted(sorted_rows, n_obs, arr.shape[1])
    d = np.asarray(on_demand, dtype=np.float64) * np.ones(arr.shape[0])
    r = np.asarray(reserved_effective, dtype=np.float64) * np.ones(arr.shape[0])
    o = np.asarray(owned, dtype=np.float64) * np.ones(arr.shape[0])
    with np.errstate(invalid="ignore", divide="ignore"):
        breakeven = np.where(d > 0, r / d, np.nan)
    level = optimal_level(sorted_rows, n_obs, breakeven)
    enough = n_obs >= min_hours
    rec = np.where(enough, units_to_buy(level, o, granularity), np.where(np.isnan(breakeven), np.nan, 0.0))
    rec = _settle_chunks(arr, o, rec, breakeven, granularity, n_obs, enough)
    p95 = np.where(enough, p95_rule(stats["p95"], o, granularity), 0.0)
    opt = plan_costs(arr, o, rec, d, r, _known={"hours": n_obs, "total": stats["total"]})
    known = {"hours": n_obs, "total": stats["total"], "covered_owned": opt["covered_owned"]}
    alt = plan_costs(arr, o, p95, d, r, _known=known)
    hours = np.maximum(n_obs, 1)
    covered_now = opt["covered_owned"]
    if owned_now is not None:
        covered_now = covered_units(arr, np.asarray(owned_now, dtype=np.float64) * np.ones(arr.shape[0]))
    with np.errstate(invalid="ignore", divide="ignore"):
        coverage = np.where(opt["total_usage"] > 0, covered_now / opt["total_usage"], np.nan)
    out = dict(stats)
    out.update(
        owned=o,
        breakeven=breakeven,
        level=level,
        recommended=rec,
        p95_rule=p95,
        savings_opt=opt["savings"] / hours,
        savings_p95=alt["savings"] / hours,
        utilization=opt["utilization"],
        coverage=coverage,
        enough_history=enough,
    )
    return out


def backtest(
    values: Any,
    owned: Any,
    on_demand: Any,
    reserved_effective: Any,
    *,
    split: float = 2 / 3,
    granularity: Any = 1.0,
    min_hours: int = MIN_HOURS,
) -> dict[str, Any]:
    """Plan on the first `split` of the hours, replay the rest. Per row: the counts each rule bought and the
    realized cost of all-on-demand (beyond owned), of the optimal plan and of the P95 plan on the replay
    hours, plus the in-sample savings of both (where optimal >= P95 always holds)."""
    import numpy as np

    arr = _matrix(values)
    cut = round(arr.shape[1] * split)
    train, test = arr[:, :cut], arr[:, cut:]
    planned = plan(train, owned, on_demand, reserved_effective, granularity=granularity, min_hours=min_hours)
    d = np.asarray(on_demand, dtype=np.float64) * np.ones(arr.shape[0])
    r = np.asarray(reserved_effective, dtype=np.float64) * np.ones(arr.shape[0])
    o = planned["owned"]
    opt = plan_costs(test, o, planned["recommended"], d, r)
    alt = plan_costs(test, o, planned["p95_rule"], d, r)
    return {
        "train_hours": planned["hours"],
        "test_hours": opt["hours"],
        "recommended": planned["recommended"],
        "p95_rule": planned["p95_rule"],
        "train_savings_opt": planned["savings_opt"] * np.maximum(planned["hours"], 1),
        "train_savings_p95": planned["savings_p95"] * np.maximum(planned["hours"], 1),
        "cost_on_demand": opt["on_demand_cost"],
        "cost_opt": opt["plan_cost"],
        "cost_p95": alt["plan_cost"],
        "savings_opt": opt["savings"],
        "savings_p95": alt["savings"],
    }
