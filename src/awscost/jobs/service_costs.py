"""Job `service_costs` (C): each micro-service's cost from container usage logs, conserved to the cent.

Reads the inputs (any container usage format, streamed to Parquet), prices every host-hour (the billing
dataset's amortized EffectiveCost when given, else on-demand prices: `prices` over the price book; Fargate
tasks by their rates), allocates each host-hour to its containers exactly, checks the conservation, and stores
the hourly results as `svc-cost` items for the cost reports.

Inputs are files, directories or `s3://bucket/prefix/` locations (the deployed daily rule reads
`s3://<DataBucket>/containers/`: containers/s3_inputs.py downloads the log objects into the run's temporary
directory and the same readers read them; what the result says about an input names its s3:// URL); `dataset`
is a local billing dataset or one in S3 (what the deployed billing ingest writes, reached with [billing.s3]).
Everything downloaded is removed when the run ends, so a warm Lambda container keeps nothing in /tmp.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from awscost.containers.claims import Conflict
from awscost.containers.ec2_hosts import IAM_PERMISSIONS
from awscost.containers.s3_inputs import Fetched, fetch_inputs
from awscost.core.errors import InputError, StoreError
from awscost.jobs.base import Context, Job, Rule


@dataclass(frozen=True)
class Params:
    inputs: tuple[str, ...]  # container usage files, directories or s3://bucket/prefix/ locations
    dataset: str | None = (
        None  # billing dataset (a directory or s3://): hosts cost their amortized EffectiveCost
    )
    by: Literal["service", "cluster", "account"] = "service"
    granularity: Literal["hour", "day"] = "day"
    idle: Literal["separate", "share"] = "separate"
    prices: dict[str, Decimal] = field(default_factory=dict)  # instance type -> on-demand $/h, over the book
    fargate_prices: str | None = None  # an AmazonECS Price List offer file for the Fargate rates
    cpu_weight: Decimal = Decimal(9)
    mem_weight: Decimal = Decimal(1)
    step_seconds: int | None = None  # seconds a sampling round stands for; None: each host's median interval
    describe_hosts: bool = False  # ask EC2 the type of hosts the input names only by instance id
    overrides: bool = True  # use the service overrides in the store's map table
    save: bool = True  # store hourly results as svc-cost items
    # What the inputs may not say themselves:
    host_id: str | None = None
    instance_type: str | None = None
    region: str | None = None
    account: str | None = None
    cluster: str | None = None
    time: datetime | None = None  # of `docker stats` lines without a time prefix
    label: str | None = None  # the Docker label that names the service; None: the config's service_label

    def __post_init__(self) -> None:
        if not self.inputs:
            raise InputError("no container usage inputs given", param="inputs")
        for name in ("cpu_weight", "mem_weight"):
            if not getattr(self, name).is_finite():
                raise InputError(f"{name} must be a finite number, not {getattr(self, name)}", param=name)
        for itype, usd in self.prices.items():
            if not usd.is_finite() or usd < 0:
                raise InputError(f"the price of {itype} must be a number >= 0, not {usd}", param="prices")


@dataclass(frozen=True)
class ServiceCostRow:
    """One line of the result: a service (or cluster / account, or __idle__) in one period, in USD."""

    name: str
    period: date | datetime  # the day, or the UTC hour
    cpu_cost: Decimal
    memory_cost: Decimal
    total_cost: Decimal
    share_of_host: Decimal  # of the cost of the host-hours it ran on (idle: of all host-hours)


@dataclass(frozen=True)
class UnpricedHost:
    host_id: str
    instance_type: str | None
    region: str | None
    hours: int
    reason: str


@dataclass(frozen=True)
class Result:
    by: str
    granularity: str
    rows: tuple[ServiceCostRow, ...]
    priced: dict[str, int]  # host-hours by price source: billing | on-demand | fargate
    sources: tuple[str, ...]  # where the prices came from, one line each
    unpriced: tuple[UnpricedHost, ...] = ()
    hostless_samples: int = 0  # samples naming no host: not allocated
    capacity_unknown: tuple[str, ...] = ()  # hosts of unknown size: no idle cost for them
    malformed: tuple[str, ...] = ()  # input lines skipped, "file:line: reason"
    # host-hours not allocated because their inputs disagree within the hour (awscost.containers.claims)
    conflicts: tuple[Conflict, ...] = ()
    stored: int = 0  # svc-cost items written

    def table(self) -> list[dict[str, Any]]:
        """Rows for printing: <by>, period, cpu_cost, memory_cost, total_cost, share_of_host."""
        return [
            {
                self.by: r.name,
                "period": r.period,
                "cpu_cost": r.cpu_cost,
                "memory_cost": r.memory_cost,
                "total_cost": r.total_cost,
                "share_of_host": r.share_of_host,
            }
            for r in self.rows
        ]

    def to_json(self) -> dict[str, Any]:
        import json

        from awscost.core.output import dumps

        body = {
            "by": self.by,
            "granularity": self.granularity,
            "rows": self.table(),
            "priced": self.priced,
            "sources": list(self.sources),
            "unpriced": [u.__dict__ for u in self.unpriced],
            "hostless_samples": self.hostless_samples,
            "capacity_unknown": list(self.capacity_unknown),
            "malformed": list(self.malformed),
            "conflicts": [c.to_json() for c in self.conflicts],
            "stored": self.stored,
        }
        out: dict[str, Any] = json.loads(dumps(body))
        return out


class NothingPricedError(InputError):
    """No host-hour could be priced; `result` holds what was read (unpriced hosts, hostless samples)."""

    def __init__(self, message: str, *, result: Result, **kw: Any) -> None:
        self.result = result
        super().__init__(message, **kw)


class NotStoredError(StoreError):
    """The costs were computed (`result`) but could not be stored: a front end still shows them."""

    def __init__(self, message: str, *, result: Result, **kw: Any) -> None:
        self.result = result
        super().__init__(message, **kw)


def _on_demand(prices: dict[str, Decimal]) -> tuple[Any, str]:
    """The on-demand price lookup: the given prices, else the price book (API cache over the snapshot)."""
    from awscost.planning import pricing

    def lookup(instance_type: str, region: str) -> Decimal | None:
        if instance_type in prices:
            return prices[instance_type]
        value = pricing.on_demand_hourly("ec2", instance_type, region, os="linux")
        return None if value is None else Decimal(value)

    label = f"on-demand: awscost.planning.pricing ({pricing.snapshot_label()} unless refreshed)"
    return lookup, ("given prices, else " if prices else "") + label


def _fargate(params: Params) -> Any:
    from awscost.containers import allocation as alloc
    from awscost.planning import pricing

    if params.fargate_prices:
        return alloc.FargateRates.from_offer_file(params.fargate_prices, params.region)

    def lookup(region: str) -> Any:
        found = pricing.fargate_rates(region)
        if found is None:
            return None
        cpu, mem, label = found
        return alloc.FargateRates(Decimal(cpu), Decimal(mem), source=str(label))

    return lookup


def read_samples(
    ctx: Context, params: Params, *, parquet: Path | None = None, fetched: Fetched | None = None
) -> Any:
    """The normalized samples of the inputs (a `ReadResult`; streamed to Parquet files in `parquet` when
    given): what the inputs do not say from the params, the service label from the params or the config's
    [containers] service_label, service overrides from the store's map table when `params.overrides` (a store
    is opened only for that, and never created). s3:// inputs are downloaded first (`fetched`, when the caller
    did so into its own work directory; else into a temporary one, removed once read), and what the result
    says of an input names its URL."""
    from contextlib import nullcontext

    from awscost.billing.s3 import is_s3
    from awscost.containers.identity import store_lookup
    from awscost.containers.inputs import read_container_inputs
    from awscost.containers.readers import ReadContext

    if fetched is None and any(is_s3(i) for i in params.inputs):
        with tempfile.TemporaryDirectory(prefix="awscost-containers-") as tmp:
            return read_samples(ctx, params, parquet=parquet, fetched=fetch_inputs(params.inputs, Path(tmp)))
    read_ctx = ReadContext(
        host_id=params.host_id,
        instance_type=params.instance_type,
        region=params.region,
        account=params.account,
        cluster=params.cluster,
        time=params.time,
    )
    label = params.label or ctx.settings.section("containers").get("service_label")
    with ctx.optional_store() if params.overrides else nullcontext() as store:
        lookup = store_lookup(store) if store is not None else None
        try:
            read = read_container_inputs(
                fetched.paths if fetched is not None else params.inputs,
                read_ctx,
                label=str(label) if label else None,
                lookup=lookup,
                parquet=parquet,
            )
        except InputError as exc:
            if fetched is None or not fetched.names:
                raise
            # "no usable container samples in <the downloads>": said of the inputs as given, by their URLs
            downloaded = any(local in (exc.where or "") for local in fetched.names)
            raise InputError(
                fetched.name(exc.message),
                where=", ".join(params.inputs) if downloaded else exc.where,
                hint=fetched.name(exc.hint) if exc.hint else None,
                param=exc.param,
            ) from None
    if fetched is not None and fetched.names:
        read.malformed = [replace(m, file=fetched.name(m.file)) for m in read.malformed]
        for sample in read.samples:  # in memory only when not streamed to Parquet
            if sample.source_file:
                sample.source_file = fetched.name(sample.source_file)
    return read


def _s3_options(ctx: Context, dataset: str) -> Any:
    """A dataset in S3 is reached with [billing.s3], as the cost report reaches it."""
    from awscost.billing.s3 import S3Options, is_s3

    return S3Options.from_settings(ctx.settings) if is_s3(dataset) else None


def _named_conflict(conflict: Conflict, fetched: Fetched) -> Conflict:
    """The conflict with each downloaded input named by its s3:// URL."""
    if not fetched.names:
        return conflict
    values = tuple((v, tuple(fetched.name(f) for f in files)) for v, files in conflict.values)
    return replace(conflict, values=values)


def run(ctx: Context, params: Params) -> Result:
    from awscost.containers import allocation as alloc

    options = alloc.Options(
        step_seconds=params.step_seconds,
        cpu_weight=params.cpu_weight,
        mem_weight=params.mem_weight,
        idle=params.idle,
    )
    fargate = _fargate(params)  # a bad offer file is an error before any (possibly long) reading
    price, price_label = _on_demand(params.prices)
    with tempfile.TemporaryDirectory(prefix="awscost-containers-") as tmp:
        samples = Path(tmp) / "samples"
        # s3:// inputs are downloaded first: a missing or refused location fails before any reading.
        fetched = fetch_inputs(params.inputs, Path(tmp) / "inputs")
        read = read_samples(ctx, params, parquet=samples, fetched=fetched)
        host_cost = (
            alloc.billing_host_costs(params.dataset, read.hosts, s3_options=_s3_options(ctx, params.dataset))
            if params.dataset
            else None
        )
        host_types = None
        if params.describe_hosts:
            from awscost.containers.ec2_hosts import describe_instance_types

            host_types = describe_instance_types(alloc.hosts_without_type(str(samples)), params.region)
        allocation = alloc.allocate(
            str(samples),
            options=options,
            price=price,
            host_cost=host_cost,
            fargate=fargate,
            host_types=host_types,
        )
    broken = alloc.check_conservation(allocation)
    if broken:  # never expected: a bug, so say so loudly rather than print wrong money
        raise RuntimeError("allocation not conserved: " + "; ".join(broken[:3]))
    unpriced = tuple(
        UnpricedHost(u.host_id, u.instance_type, u.region, u.hours, u.reason)
        for u in allocation.unpriced.values()
    )
    priced = dict(sorted(Counter(h.cost_source for h in allocation.hosts).items()))
    sources = sorted(allocation.sources)
    if "on-demand" in priced:
        sources.append(price_label)
    rows = tuple(
        ServiceCostRow(
            str(r[params.by]),
            r["period"],
            r["cpu_cost"],
            r["memory_cost"],
            r["total_cost"],
            r["share_of_host"],
        )
        for r in alloc.summarize(allocation, by=params.by, granularity=params.granularity)
    )
    result = Result(
        by=params.by,
        granularity=params.granularity,
        rows=rows,
        priced=priced,
        sources=tuple(sources),
        unpriced=unpriced,
        hostless_samples=allocation.hostless_samples,
        capacity_unknown=tuple(sorted(allocation.capacity_unknown)),
        malformed=tuple(str(m) for m in read.malformed),
        conflicts=tuple(_named_conflict(c, fetched) for c in allocation.conflicts),
    )
    if not allocation.hosts:
        raise NothingPricedError(
            "no host could be priced, so no service cost was computed",
            result=result,
            where=", ".join(params.inputs),
            hint="give prices, the instance type and region, Fargate prices or a billing dataset"
            + (", and resolve the conflicting inputs listed above" if allocation.conflicts else ""),
        )
    stored = 0
    if params.save and allocation.services:
        try:
            with ctx.store() as store:
                stored = store.put_items(alloc.to_usage_items(allocation, granularity="hour"))
        except StoreError as exc:
            raise NotStoredError(exc.message, result=result, where=exc.where, hint=exc.hint) from None
        except Exception as exc:  # a backend failure of any kind is reported as a store error, with the URL
            raise NotStoredError(
                f"results not stored: {exc}", result=result, where=ctx.settings.store
            ) from None
    return replace(result, stored=stored)


JOB: Job[Params, Result] = Job(
    name="service_costs",
    params=Params,
    run=run,
    description="Each micro-service's cost from container usage logs, reconciled to the hosts' cost.",
    schedule="daily",
    iam_actions=IAM_PERMISSIONS,  # only with describe_hosts
    extra="billing",
    needs=("duckdb", "pyarrow"),
    rules=(
        Rule(
            "daily",
            "cron(30 8 * * ? *)",
            {
                "job": "service_costs",
                "inputs": ["s3://${DataBucket}/containers/"],
                "dataset": "s3://${DataBucket}/billing/",
            },
        ),
    ),
    uses=("store", "data"),
    memory_mb=2048,
    ephemeral_mb=2048,  # it downloads every retained log under containers/ (the bucket keeps them 90 days)
)
