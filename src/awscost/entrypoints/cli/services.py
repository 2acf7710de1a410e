"""`awscost services allocate`: each micro-service's cost from container usage logs, conserved to the cent."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import click

from awscost.core.config import Settings
from awscost.core.errors import InputError
from awscost.core.output import emit
from awscost.entrypoints.cli._common import format_option, job_context, run_job, with_settings
from awscost.entrypoints.cli.containers import (
    LocalOrS3Path,
    input_options,
    read_context_params,
    warn_malformed,
)


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


def _decimal(text: str, flag: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise InputError(f"{text!r} is not a decimal number", where=flag)
    return value


@services.command()
@input_options
@click.option(
    "--dataset",
    type=LocalOrS3Path(exists=True, file_okay=False),
    default=None,
    help="Billing dataset (a directory or s3://): hosts cost their amortized EffectiveCost (else on-demand).",
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
    "step_seconds",
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
    step_seconds: int | None,
    no_overrides: bool,
    describe_hosts: bool,
    save: bool,
    **opts: Any,
) -> None:
    """Allocate each host-hour's cost to the services on it (INPUTS: container usage files, directories or
    s3://bucket/prefix/ locations).

    Rows: service (or cluster/account), period, cpu_cost, memory_cost, total_cost, share_of_host. Costs are
    USD; services + __idle__ add up to the hosts' cost exactly. Hosts without a price, and host-hours whose
    inputs disagree (two instance types or services in one hour), are listed on stderr.
    """
    from awscost.jobs.service_costs import NothingPricedError, NotStoredError, Params

    params = Params(
        dataset=dataset,
        # click.Choice checked these three against the Params' literals
        by=by,  # type: ignore[arg-type]
        granularity=granularity,  # type: ignore[arg-type]
        idle=idle,  # type: ignore[arg-type]
        prices=_prices(prices),
        fargate_prices=fargate_prices,
        cpu_weight=_decimal(cpu_weight, "--cpu-weight"),
        mem_weight=_decimal(mem_weight, "--mem-weight"),
        step_seconds=step_seconds,
        describe_hosts=describe_hosts,
        overrides=not no_overrides,
        save=save,
        **read_context_params(opts),
    )
    try:
        with job_context(settings, "allocating") as ctx:
            result = run_job("service_costs", ctx, params)
    except NothingPricedError as exc:
        _warn(exc.result)
        raise
    except NotStoredError as exc:  # the costs are right, only storing them failed: show them, then fail
        _show(exc.result, fmt)
        raise
    _show(result, fmt)
    if result.stored:
        click.echo(f"{result.stored} svc-cost item(s) stored in {settings.store}", err=True)


def _show(result: Any, fmt: str) -> None:
    _warn(result)
    emit(
        result.table(),
        fmt,
        columns=[result.by, "period", "cpu_cost", "memory_cost", "total_cost", "share_of_host"],
        title=f"cost by {result.by} ({result.granularity})",
    )


def _warn(result: Any) -> None:
    """What the run could not price or read, on stderr (the rows go to stdout)."""
    warn_malformed(result.malformed)
    for u in result.unpriced:
        click.echo(
            f"awscost: warning: host {u.host_id} ({u.instance_type or '?'}, {u.region or '?'}) unpriced for "
            f"{u.hours} hour(s): {u.reason}; its containers are not costed "
            "(give --price TYPE=USD, --instance-type/--region, --fargate-prices or --dataset)",
            err=True,
        )
    if result.priced:
        parts = [f"{n} {k}" for k, n in result.priced.items()]
        note = f" ({'; '.join(result.sources)})" if result.sources else ""
        click.echo(f"awscost: host-hours priced: {', '.join(parts)}{note}", err=True)
    if result.hostless_samples:
        click.echo(
            f"awscost: warning: {result.hostless_samples} sample(s) name no host and were not allocated "
            "(give --host-id for inputs such as ECS task metadata/stats read on an EC2 host)",
            err=True,
        )
    for host in result.capacity_unknown:
        click.echo(f"awscost: warning: host {host}: size unknown, no idle cost computed for it", err=True)
    if result.conflicts:
        held = len({(c.host_id, c.hour) for c in result.conflicts})
        click.echo(
            f"awscost: warning: {held} host-hour(s) not allocated: their inputs disagree within the hour "
            "(drop or fix the file that is wrong; a service can be set with a map-table override):",
            err=True,
        )
        for c in result.conflicts[:10]:
            click.echo(f"  {c}", err=True)
        if len(result.conflicts) > 10:
            click.echo(f"  ... and {len(result.conflicts) - 10} more", err=True)
