"""Job `pricing_refresh`: ask the AWS Price List API (and the Savings Plans rates API) for the prices the
planner and the service costs need, and cache them in the store's map table over the packaged snapshot.

Boto3 only. When the API is unreachable nothing is cached, the run fails with one line, and every price keeps
coming from the cache of an earlier run or the snapshot, which each output names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from awscost.core.errors import AwsAccessError, InputError
from awscost.core.timeutil import floor_hour
from awscost.jobs.base import Context, Job, Rule


@dataclass(frozen=True)
class Params:
    services: tuple[str, ...] | None = (
        None  # ec2, rds, elasticache, es, redshift, dynamodb, fargate; None: all
    )
    regions: tuple[str, ...] | None = None  # None: the settings', else those the store saw types in
    types: tuple[str, ...] | None = None  # instance / node types; None: those the store saw (last 7 days)

    def __post_init__(self) -> None:
        # An empty list given is a mistake (`--regions ","`), never "all": only None is.
        for name in ("services", "regions", "types"):
            if getattr(self, name) == ():
                raise InputError(f"no {name} given", param=name, hint="a comma list, or leave the option out")


@dataclass(frozen=True)
class Result:
    cached: int  # prices written to the cache
    queries: int  # Price List / Savings Plans queries that answered
    failed: tuple[str, ...] = ()  # "service region type: reason", one per query that failed
    fallback: str | None = None  # where the prices of the failed queries come from

    def to_json(self) -> dict[str, Any]:
        return {
            "cached": self.cached,
            "queries": self.queries,
            "failed": list(self.failed),
            "fallback": self.fallback,
        }


class NothingFetchedError(AwsAccessError):
    """The API answered no query: `failed` says why each failed (a front end may show them)."""

    def __init__(self, message: str, *, failed: tuple[str, ...], **kw: Any) -> None:
        self.failed = failed
        super().__init__(message, **kw)


def run(ctx: Context, params: Params) -> Result:
    from awscost.aws.session import client, client_config
    from awscost.planning.pricing.api import (
        PRICING_REGION,
        fetch_prices,
        merge_prices,
        pricing_client,
        read_cache,
        wanted_prices,
        write_cache,
    )
    from awscost.planning.pricing.book import snapshot_label
    from awscost.planning.pricing.savings_plans import fetch_savings_plans_rates

    session = ctx.session()
    with ctx.store() as store:
        wanted = wanted_prices(
            store,
            org_name=ctx.settings.org_name,
            services=list(params.services) if params.services else None,
            regions=list(params.regions or ctx.settings.regions) or None,
            types=list(params.types) if params.types else None,
            until=floor_hour(ctx.now()) + timedelta(hours=1),  # the job's clock, not the machine's
        )
        if not wanted:
            raise InputError(
                "no instance types to price: the store saw none of the planned kinds in the last 7 days",
                param="types",
                hint="name the types, or collect first",
            )
        result = fetch_prices(pricing_client(session), wanted)
        ec2 = sorted({(p.region, p.type) for p in result.fetched if p.service == "ec2"})
        if ec2:
            # Savings Plans rates join the on-demand/reserved prices just fetched (never stand alone).
            sp_client = client(session, "savingsplans", "us-east-1", config=client_config(2, 4))
            date = max(p.date for p in result.fetched)
            sp = fetch_savings_plans_rates(sp_client, ec2, date=date)
            keys = {p.key for p in result.fetched}
            result.fetched = merge_prices([*result.fetched, *(p for p in sp.fetched if p.key in keys)])
            result.failed += sp.failed
            result.calls += sp.calls
        cached = write_cache(store, result.fetched) if result.fetched else 0
        fallback = None
        if result.failed:
            old = read_cache(store)
            fallback = f"the cache ({len(old)} prices) and {snapshot_label()}" if old else snapshot_label()
    if result.failed and not result.fetched:
        raise NothingFetchedError(
            f"Price List API unreachable, nothing fetched ({result.failed[0].split(': ', 1)[-1]});"
            f" prices come from {fallback}",
            failed=tuple(result.failed),
            where=f"pricing:GetProducts {PRICING_REGION}",
        )
    return Result(cached, result.calls, tuple(result.failed), fallback)


def price_book(ctx: Context) -> Any:
    """The prices in use: the packaged snapshot overlaid with the store's API cache where a store exists
    (reading prices never creates one). `notes` say which sources answered."""
    from awscost.planning.pricing import load_price_book

    with ctx.optional_store() as store:
        return load_price_book(store)


JOB: Job[Params, Result] = Job(
    name="pricing_refresh",
    params=Params,
    run=run,
    description="Refresh prices from the AWS Price List and Savings Plans APIs into the store's cache.",
    schedule="weekly",
    iam_actions=("pricing:GetProducts", "savingsplans:DescribeSavingsPlansOfferingRates"),
    rules=(Rule("weekly", "cron(0 3 ? * MON *)", {"job": "pricing_refresh"}),),
    uses=("store",),
)
