"""Cost Panda: every AWS billing format (legacy CUR, CUR 2.0, FOCUS 1.x, DBR) in one canonical table.

    import awscost.billing as billing
    bill = billing.load("bills/")            # files, directories, CUR manifests, or a dataset dir
    bill.summary(by=["SubAccountId", "ServiceName"], metric="EffectiveCost")
    bill.sql("SELECT ServiceName, sum(BilledCost) FROM billing GROUP BY 1").to_pandas()

Analyses and `sql()` return a `Frame` (billing/frame.py: rows of Python values, exact Decimal money) with
`.to_pandas()` / `.to_arrow()` for a notebook. DuckDB is imported on first use, not here; pandas only by
`to_pandas()`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from awscost.billing.bill import Bill

__all__ = ["Bill", "load", "load_into"]


def load(paths: Any, **kwargs: Any) -> Bill:
    from awscost.billing.bill import load as _load

    return _load(paths, **kwargs)


def load_into(paths: Any, into: Any, **kwargs: Any) -> dict[str, Any]:
    from awscost.billing.bill import load_into as _load_into

    return _load_into(paths, into, **kwargs)


def __getattr__(name: str) -> Any:
    if name == "Bill":
        from awscost.billing.bill import Bill

        return Bill
    raise AttributeError(name)
