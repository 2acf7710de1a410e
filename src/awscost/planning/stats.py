"""Vectorised per-series statistics of hourly usage (numpy).

A *series* is one (kind, account, region, usage key). Its history is a row of a float matrix with one column
per UTC hour of the window: the key's count where an item exists for that hour (0 where the item exists but
the key is absent: the type ran zero that hour), NaN where no item exists at all (the hour was not
collected; reported as missing, never counted as zero). The original dropped absent keys as NaN, which
pushed min and P5 up.

Everything works on a row-sorted copy (NaN sorts last), so one sort serves every quantile and the planner.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from awscost.core.timeutil import HOUR, floor_hour
from awscost.usage import kinds as catalog

if TYPE_CHECKING:
    from awscost.store.base import UsageItem

QUANTILES: dict[str, float] = {"p5": 0.05, "p50": 0.50, "p90": 0.90, "p95": 0.95}


@dataclass(frozen=True)
class SeriesKey:
    kind: str
    account: str
    region: str
    key: str


@dataclass
class HourlyMatrix:
    """Rows = series, columns = hours [start, start + n_hours)."""

    keys: list[SeriesKey]
    start: datetime
    values: Any  # np.ndarray (n_series, n_hours) float32, NaN = hour not collected

    @property
    def n_hours(self) -> int:
        return int(self.values.shape[1])

    def hours(self) -> list[datetime]:
        return [self.start + i * HOUR for i in range(self.n_hours)]


def build_matrix(
    items: Iterable[UsageItem],
    start: datetime,
    end: datetime,
    *,
    key_filter: Any = None,
    daily_kinds: Collection[str] = catalog.DAILY_KINDS,
) -> HourlyMatrix:
    """Hourly matrix of every (kind, account, region, key) in `items` over [start, end).

    An hour is *observed* for a series when an item of its (kind, account, region) exists for that hour; a key
    absent from an observed item counts 0. `key_filter(kind, key) -> bool` drops keys (e.g. spot usage).
    Kinds collected once a day (`daily_kinds`, or items with attrs granularity "day") stand for every hour
    of their UTC day: a cluster seen at the daily sample is taken to run all day.
    """
    import numpy as np

    start, end = floor_hour(start), floor_hour(end)
    n_hours = max(0, int((end - start) / HOUR))
    # resource -> observed hour indices, and (resource, key) -> {hour index: count}
    observed: dict[tuple[str, str, str], set[int]] = {}
    cells: dict[SeriesKey, dict[int, float]] = {}
    for item in items:
        if item.kind in daily_kinds or item.attrs.get("granularity") in ("day", "daily"):
            first = int((item.time.replace(hour=0) - start) / HOUR)
            span = [i for i in range(first, first + 24) if 0 <= i < n_hours]
        else:
            idx = int((item.time - start) / HOUR)
            span = [idx] if 0 <= idx < n_hours else []
        if not span:
            continue
        res = (item.kind, item.account, item.region)
        observed.setdefault(res, set()).update(span)
        for key, count in item.usage.items():
            if key_filter is not None and not key_filter(item.kind, key):
                continue
            cell = cells.setdefault(SeriesKey(*res, key), {})
            for idx in span:
                cell[idx] = float(count)
    keys = sorted(cells, key=lambda k: (k.kind, k.region, k.key, k.account))
    values = np.full((len(keys), n_hours), np.nan, dtype=np.float32)
    for row, sk in enumerate(keys):
        seen = observed[(sk.kind, sk.account, sk.region)]
        if seen:
            values[row, sorted(seen)] = 0.0
        for idx, count in cells[sk].items():
            values[row, idx] = count
    return HourlyMatrix(keys, start, values)


def missing_value(arr: Any) -> int | None:
    """The marker of a missing hour: NaN for float matrices (None here), the dtype's maximum for integer ones.

    Whole-unit counts fit an int16 matrix whose missing hours hold 32767: numpy sorts 16-bit integers with a
    radix sort, about twice as fast as float32, and the marker sorts last like NaN does."""
    import numpy as np

    return int(np.iinfo(arr.dtype).max) if arr.dtype.kind in "iu" else None


def observed_counts(arr: Any) -> Any:
    import numpy as np

    marker = missing_value(arr)
    mask = np.isnan(arr) if marker is None else arr == marker
    return (arr.shape[1] - np.count_nonzero(mask, axis=1)).astype(np.int64)


def row_totals(arr: Any, n_missing: Any) -> Any:
    """Per row: the sum of the observed hours (usage is never negative)."""
    import numpy as np

    marker = missing_value(arr)
    if marker is None:
        # fmax(NaN, 0) is 0: one pass, where nansum copies the matrix first
        return np.fmax(arr, 0).sum(axis=1, dtype=np.float64)
    return (arr.sum(axis=1, dtype=np.int64) - marker * np.asarray(n_missing, dtype=np.int64)).astype(
        np.float64
    )


def to_int16(values: Any) -> Any | None:
    """The int16 form (missing = 32767) of a float matrix of whole counts below 32767; None otherwise."""
    import numpy as np

    arr = np.asarray(values)
    if arr.dtype.kind in "iu":
        return arr
    missing = np.isnan(arr)
    filled = np.where(missing, 0, arr)
    if filled.size and (
        filled.min() < 0 or filled.max() >= 32767 or not np.array_equal(filled, np.floor(filled))
    ):
        return None
    out = filled.astype(np.int16)
    out[missing] = 32767
    return out


def sort_rows(values: Any) -> tuple[Any, Any]:
    """(row-sorted copy with missing hours last, observed-hours count per row)."""
    import numpy as np

    arr = np.asarray(values)
    n_obs = observed_counts(arr)
    small_int = arr.dtype.kind in "iu" and arr.dtype.itemsize <= 2
    return np.sort(arr, axis=1, kind="stable" if small_int else None), n_obs


def quantile_sorted(sorted_rows: Any, n_obs: Any, q: float) -> Any:
    """Per-row quantile, linear interpolation (numpy's default) over the observed prefix; NaN if none."""
    import numpy as np

    n = np.asarray(n_obs)
    if sorted_rows.shape[1] == 0:
        return np.full(n.shape, np.nan)
    pos = q * np.maximum(n - 1, 0).astype(np.float64)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, np.maximum(n - 1, 0))
    frac = pos - lo
    a = np.take_along_axis(sorted_rows, lo[:, None], axis=1)[:, 0].astype(np.float64)
    b = np.take_along_axis(sorted_rows, hi[:, None], axis=1)[:, 0].astype(np.float64)
    out = a + (b - a) * frac
    return np.where(n > 0, out, np.nan)


def describe_sorted(sorted_rows: Any, n_obs: Any, n_hours: int) -> dict[str, Any]:
    """Columns hours, missing, min, p5, mean, p50, p90, p95, max (arrays, one entry per row)."""
    import numpy as np

    n = np.asarray(n_obs)
    if sorted_rows.shape[1] == 0:
        nan = np.full(n.shape, np.nan)
        out0: dict[str, Any] = {"hours": n, "missing": n_hours - n, "total": np.zeros(n.shape)}
        out0.update({c: nan for c in ("min", "mean", "max", *QUANTILES)})
        return out0
    has = n > 0
    last = np.maximum(n - 1, 0)
    out: dict[str, Any] = {"hours": n, "missing": n_hours - n}
    out["min"] = np.where(has, sorted_rows[:, 0].astype(np.float64), np.nan)
    for name, q in QUANTILES.items():
        out[name] = quantile_sorted(sorted_rows, n, q)
    with np.errstate(invalid="ignore", divide="ignore"):
        total = row_totals(sorted_rows, n_hours - n)
        out["mean"] = np.where(has, total / np.maximum(n, 1), np.nan)
    out["max"] = np.where(
        has, np.take_along_axis(sorted_rows, last[:, None], axis=1)[:, 0].astype(np.float64), np.nan
    )
    out["total"] = total
    return out


def describe(values: Any) -> dict[str, Any]:
    """Statistics of every row of an hourly matrix (NaN = missing hour)."""
    import numpy as np

    arr = np.asarray(values)
    if arr.ndim != 2:
        raise ValueError("describe() needs a 2-D matrix (series x hours)")
    sorted_rows, n_obs = sort_rows(arr)
    return describe_sorted(sorted_rows, n_obs, arr.shape[1])


STAT_COLUMNS: Sequence[str] = ("hours", "missing", "min", "p5", "mean", "p50", "p90", "p95", "max")
