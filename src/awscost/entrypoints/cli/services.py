"""`awscost services allocate`: each micro-service's cost from container usage logs, conserved to the cent."""

from __future__ import annotations

import tempfile
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click

from awscost.core.config import Settings
from awscost.core.errors import InputError, StoreError
from awscost.core.output import emit
from awscost.entrypoints.cli._common import format_option, with_settings
from awscost.entrypoints.cli.containers import input_options, read_from_options


@click.group()
def services() -> None:
    """Micro-service cost from container usage."""


def _prices(values: tuple[str, ...]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for v in values:
        itype, sep, usd = v.partition("=")
        try:
            if not sep or not itype:
                raise InvalidOperation
            out[itype.strip()] = Decimal(usd.strip())
        except InvalidOperation:
            raise InputError(
                f"{v!r} is not TYPE=USD_PER_HOUR", where="--price", hint="e.g. m5.large=0.096"
            ) from None
    return out


@services.command()
@input_options
@click.option(
    "--dataset",
    type=click.Path(exists=True, file_okay=False),
    default=None,
    help="Billing dataset: hosts cost their amortized EffectiveCost (else on-demand prices).",
)
@click.option(
    "--by", type=click.Choice(["service", "cluster", "account"]), default="service", show_default=True
)
@click.option("--granularity", type=click.Choice(["hour", "day"]), default="day", show_default=True)
@click.option(
    "--idle",
    type=click.Choice(["separate", "share"]),
    default="separate",
    show_default=True,
    help="Idle host cost as its own __idle__ line, or shared in proportion to the services' cost.",
)
@click.option(
    "--price",
    "prices",
    multiple=True,
    metavar="TYPE=USD",
    help="On-demand hourly price of an instance type (repeatable); beats the pricing module.",
)
@click.option(
    "--fargate-prices",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="AmazonECS Price List offer file (JSON) for Fargate vCPU-hour and GB-hour rates.",
)
@click.option("--cpu-weight", type=str, default="9", show_default=True, help="Cost weight of one vCPU.")
@click.option("--mem-weight", type=str, default="1", show_default=True, help="Cost weight of one GiB.")
@click.option(
    "--step",
    type=int,
    default=None,
    help="Seconds each sampling round stands for (default: each host's median sampling interval).",
)
@click.option(
    "--describe-hosts",
    is_flag=True,
    help="Ask EC2 (DescribeInstances) the type of hosts the input names only by instance id.",
)
@click.option("--no-overrides", is_flag=True, help="Ignore the service overrides in the store's map table.")
@click.option(
    "--save/--no-save",
    default=True,
    show_default=True,
    help="Store hourly results (kind svc-cost, micro-USD per service) for the cost reports.",
)
@format_option()
@with_settings
def allocate(
    settings: Settings,
    fmt: str,
    dataset: str | None,
    by: str,
    granularity: str,
    idle: str,
    prices: tuple[str, ...],
    fargate_prices: str | None,
    cpu_weight: str,
    mem_weight: str,
    step: int | None,
    no_overrides: bool,
    describe_hosts: bool,
    save: bool,
    **opts: Any,
) -> None:
    """Allocate each host-hour's cost to the services on it (INPUTS: container usage files or directories).

    Rows: service (or cluster/account), period, cpu_cost, memory_cost, total_cost, share_of_host. Costs are
    USD; services + __idle__ add up to the hosts' cost exactly. Hosts without a price are listed on stderr.
    """
    from awscost.containers import allocation as alloc

    try:
        options = alloc.Options(
            step_seconds=step, cpu_weight=Decimal(cpu_weight), mem_weight=Decimal(mem_weight), idle=idle
        )
    except InvalidOperation:
        raise InputError("weights must be decimal numbers", where="--cpu-weight/--mem-weight") from None
    # Option errors before any (possibly long) reading.
    manual = _prices(prices)
    fargate: Any = alloc.default_fargate_lookup()
    if fargate_prices:
        fargate = alloc.FargateRates.from_offer_file(fargate_prices, opts.get("region"))
    with tempfile.TemporaryDirectory(prefix="awscost-containers-") as tmp:
        samples = Path(tmp) / "samples"
        result = read_from_options(settings, opts, use_store=not no_overrides, parquet=samples)
        allocation = _allocate(samples, result, opts, options, manual, fargate, dataset, describe_hosts)
    _report(allocation, opts, by, granularity, fmt, settings, save, prices)


def _allocate(
    samples: Path,
    result: Any,
    opts: dict[str, Any],
    options: Any,
    manual: dict[str, Decimal],
    fargate: Any,
    dataset: str | None,
    describe_hosts: bool,
) -> Any:
    from awscost.containers import allocation as alloc

    fallback = alloc.default_price_lookup()

    def price(itype: str, region: str) -> Decimal | None:
        return manual[itype] if itype in manual else fallback(itype, region)

    host_cost = None
    if dataset:
        host_cost = alloc.billing_host_costs(dataset, result.hosts)
    host_types = None
    if describe_hosts:
        from awscost.containers.ec2_hosts import describe_instance_types

        host_types = describe_instance_types(alloc.hosts_without_type(str(samples)), opts.get("region"))
    return alloc.allocate(
        str(samples), options=options, price=price, host_cost=host_cost, fargate=fargate,
        host_types=host_types,
    )  # fmt: skip


def _pricing_label() -> str:
    try:
        from awscost.planning.pricing import snapshot_date
    except ImportError:
        return ""
    return f"on-demand: awscost.planning.pricing (snapshot {snapshot_date()} unless refreshed)"


def _report(
    allocation: Any,
    opts: dict[str, Any],
    by: str,
    granularity: str,
    fmt: str,
    settings: Settings,
    save: bool,
    prices: tuple[str, ...],
) -> None:
    from awscost.containers import allocation as alloc

    broken = alloc.check_conservation(allocation)
    if broken:  # never expected: a bug, so say so loudly rather than print wrong money
        raise RuntimeError("allocation not conserved: " + "; ".join(broken[:3]))
    rows = alloc.summarize(allocation, by=by, granularity=granularity)
    for u in allocation.unpriced.values():
        click.echo(
            f"awscost: warning: host {u.host_id} ({u.instance_type or '?'}, {u.region or '?'}) unpriced for "
            f"{u.hours} hour(s): {u.reason}; its containers are not costed",
            err=True,
        )
    if allocation.hosts:
        kinds: dict[str, int] = {}
        for h in allocation.hosts:
            kinds[h.cost_source] = kinds.get(h.cost_source, 0) + 1
        parts = [f"{n} {k}" for k, n in sorted(kinds.items())]
        sources = sorted(allocation.sources)
        if "on-demand" in kinds:
            sources += [("--price, else " if prices else "") + _pricing_label()]
        note = f" ({'; '.join(x for x in sources if x)})" if any(sources) else ""
        click.echo(f"awscost: host-hours priced: {', '.join(parts)}{note}", err=True)
    if allocation.hostless_samples:
        click.echo(
            f"awscost: warning: {allocation.hostless_samples} sample(s) name no host and were not allocated "
            "(give --host-id for inputs such as ECS task metadata/stats read on an EC2 host)",
            err=True,
        )
    if not allocation.hosts:
        raise InputError(
            "no host could be priced, so no service cost was computed",
            where=", ".join(opts["inputs"]),
            hint="give --price TYPE=USD, --instance-type/--region, --fargate-prices or --dataset",
        )
    for host in sorted(allocation.capacity_unknown):
        click.echo(f"awscost: warning: host {host}: size unknown, no idle cost computed for it", err=True)
    emit(rows, fmt, columns=[by, "period", "cpu_cost", "memory_cost", "total_cost", "share_of_host"],
         title=f"cost by {by} ({granularity})")  # fmt: skip
    if save and allocation.services:
        from awscost.store import open_store

        try:
            store = open_store(settings.store)
            n = store.put_items(alloc.to_usage_items(allocation, granularity="hour"))
            store.close()
        except StoreError:
            raise
        except Exception as exc:  # a backend failure of any kind is reported as a store error, with the URL
            raise StoreError(f"results not stored: {exc}", where=settings.store) from None
        click.echo(f"{n} svc-cost item(s) stored in {settings.store}", err=True)
