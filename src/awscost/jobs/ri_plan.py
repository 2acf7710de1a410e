"""Job `ri_plan` (B): the break-even-optimal reservations to buy per group, and the Compute Savings Plan for
the EC2 spend left after them, from the store's hourly history and the price book (API cache over snapshot).

Needs the `analyze` extra (numpy), which the collector's Lambda zip does not hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from awscost.core.errors import InputError
from awscost.jobs.base import Context, Job, Rule
from awscost.planning.plan import PlanResult
from awscost.planning.ri import MIN_HOURS
from awscost.usage.kinds import PLANNED_KINDS


@dataclass(frozen=True)
class Params:
    lookback: int = 30  # days of hourly history to plan on
    term: Literal["1y", "3y"] = "1y"
    payment: Literal["no", "partial", "all"] = "no"
    kinds: tuple[str, ...] | None = None  # None: every planned kind
    account: str | None = None  # None: the organization-wide total
    until: datetime | None = None  # the last hour of the history (inclusive); None: the current hour
    min_hours: int = MIN_HOURS  # groups with fewer observed hours get no recommendation
    renew_days: Literal[0, 30, 90] = 30  # reservations ending within this are planned as gone

    def __post_init__(self) -> None:
        if not 1 <= self.lookback <= 3660:
            raise InputError(f"lookback {self.lookback} days is not from 1 to 3660", param="lookback")
        if self.min_hours < 1:
            raise InputError(f"min_hours {self.min_hours} is below 1", param="min_hours")


def plan(ctx: Context, params: Params) -> PlanResult:
    """The plan, from the store (which must exist: planning never creates one)."""
    from awscost.planning.plan import plan_from_store
    from awscost.planning.pricing import load_price_book

    with ctx.store(must_exist=True) as store:
        book = load_price_book(store)
        return plan_from_store(
            store,
            org_name=ctx.settings.org_name,
            book=book,
            account=params.account,
            kinds=list(params.kinds or PLANNED_KINDS),
            lookback_days=params.lookback,
            term=params.term,
            payment=params.payment,
            until=params.until,
            renew_days=params.renew_days,
            min_hours=params.min_hours,
            now=ctx.now(),
        )


@dataclass(frozen=True)
class Comparison:
    """Our plan beside Cost Explorer's latest stored recommendation (`day`; None when none is stored)."""

    plan: PlanResult
    rows: list[dict[str, Any]]
    day: date | None


def compare(ctx: Context, params: Params, *, ce_lookback: Literal[7, 60] = 7) -> Comparison:
    """The plan, and per group how it differs from Cost Explorer's recommendation of `ce_lookback` days."""
    from awscost.planning.explorer import compare_stored

    result = plan(ctx, params)
    with ctx.store(must_exist=True) as store:
        rows, day = compare_stored(
            store,
            result,
            account=params.account or ctx.settings.org_name,
            ce_lookback=ce_lookback,
            plan_lookback_days=params.lookback,
        )
    return Comparison(result, rows, day)


JOB: Job[Params, PlanResult] = Job(
    name="ri_plan",
    params=Params,
    run=plan,
    description="The break-even-optimal RI and Savings Plan purchases from the hourly usage history.",
    schedule="daily",
    extra="analyze",
    needs=("numpy",),
    rules=(Rule("daily", "cron(0 7 * * ? *)", {"job": "ri_plan"}),),
    uses=("store",),
    memory_mb=2048,
)
