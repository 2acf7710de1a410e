"""`awscost ri plan|backtest|compare|stats|ce-fetch`: break-even-optimal reservations, the P95 rule, and AWS's
view. `plan`, `backtest` and `compare` run the ri_plan job; `ce-fetch` the ce_fetch job."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from awscost.core.config import Settings
from awscost.core.output import emit
from awscost.core.timeutil import parse_time
from awscost.entrypoints.cli._common import csv_list, format_option, job_context, run_job, with_settings
from awscost.usage.kinds import PLANNED_KINDS

if TYPE_CHECKING:
    from awscost.planning.plan import PlanResult

TABLE_COLUMNS = (
    "kind",
    "region",
    "key",
    "hours",
    "p95",
    "owned",
    "expiring_30d",
    "breakeven",
    "recommended",
    "recommended_units",
    "p95_rule",
    "p95_rule_units",
    "monthly_savings",
    "p95_monthly_savings",
    "note",
)
KINDS_HELP = f"Comma-separated usage kinds (default {','.join(PLANNED_KINDS)})."


def plan_options(func: Any) -> Any:
    for option in reversed(
        [
            click.option(
                "--lookback",
                "lookback",
                type=click.IntRange(1, 3660),
                default=30,
                show_default=True,
                help="Days of hourly history to plan on.",
            ),
            click.option("--term", type=click.Choice(["1y", "3y"]), default="1y", show_default=True),
            click.option(
                "--payment",
                type=click.Choice(["no", "partial", "all"]),
                default="no",
                show_default=True,
                help="Upfront payment option.",
            ),
            click.option("--kinds", default=None, help=KINDS_HELP),
            click.option(
                "--account",
                default=None,
                help="Plan one account's usage (default: the organization-wide total).",
            ),
            click.option(
                "--until",
                default=None,
                help="Last hour of the history (UTC, inclusive; default the current hour).",
            ),
            click.option(
                "--min-hours",
                "min_hours",
                type=click.IntRange(1, None),
                default=168,
                show_default=True,
                help="Series with fewer observed hours get no recommendation.",
            ),
        ]
    ):
        func = option(func)
    return func


def plan_params(options: dict[str, Any]) -> Any:
    """The shared plan options as the ri_plan job's Params (parsed once, here at the edge)."""
    from awscost.jobs.ri_plan import Params

    return Params(
        lookback=options["lookback"],
        term=options["term"],
        payment=options["payment"],
        kinds=tuple(csv_list(options.get("kinds")) or ()) or None,
        account=options.get("account"),
        until=parse_time(options["until"], where="--until") if options.get("until") else None,
        min_hours=options["min_hours"],
    )


def _plan(settings: Settings, options: dict[str, Any]) -> PlanResult:
    """Run the ri_plan job; its notes (price source, fallbacks) go to stderr."""
    with job_context(settings, "planning") as ctx:
        result: PlanResult = run_job("ri_plan", ctx, plan_params(options))
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    return result


@click.group()
def ri() -> None:
    """Reserved Instances / Savings Plans planning: the break-even-optimal count per series."""


def _derived_note(result: Any) -> str:
    from awscost.planning.pricing import derived_count

    n = derived_count(r.price_source for r in result.all_rows)
    return f" ({n} rows priced with a derived rate, see docs/prices.md)" if n else ""


@ri.command()
@plan_options
@with_settings
@format_option()
def plan(settings: Settings, fmt: str, **options: Any) -> None:
    """One row per series (kind x region x key, size-flexible families in normalized units).

    `recommended` is the largest count n with share(hours with usage >= owned + n) >= breakeven, where
    breakeven = reserved effective hourly / on-demand hourly; `p95_rule` is what reserving up to P95
    would buy.
    Reservations expiring within 30 days are planned as gone. Notes (price source, fallbacks) go to stderr.
    """
    result = _plan(settings, options)
    rows = [r.to_dict() for r in result.all_rows]
    if fmt == "table":
        total = result.totals()
        title = (
            f"RI plan ({result.term}, {result.payment} upfront): "
            f"${total['monthly_savings']}/month on the table "
            f"(P95 rule: ${total['p95_monthly_savings']}/month); prices: "
            + (", ".join(result.price_sources()) or "none")
            + _derived_note(result)
        )
        emit(rows, fmt, columns=TABLE_COLUMNS, title=title)
    else:
        emit(rows, fmt)


@ri.command()
@plan_options
@click.option(
    "--split",
    type=click.FloatRange(0.1, 0.9),
    default=2 / 3,
    show_default=True,
    help="Share of the history to plan on; the rest is replayed.",
)
@with_settings
@format_option()
def backtest(settings: Settings, fmt: str, split: float, **options: Any) -> None:
    """Plan on the first part of the history, replay the rest: realized cost of all-on-demand, the optimal
    plan and the P95 plan."""
    from awscost.planning.plan import backtest_rows

    result = _plan(settings, options)
    emit(backtest_rows(result, split=split), fmt, title="Back-test: realized savings on the replayed hours")


@ri.command("ce-fetch")
@click.option(
    "--days", type=click.IntRange(1, 90), default=7, show_default=True, help="Days of coverage/utilization."
)
@click.option("--term", type=click.Choice(["1y", "3y"]), default="1y", show_default=True)
@click.option("--payment", type=click.Choice(["no", "partial", "all"]), default="all", show_default=True)
@click.option("--day", default=None, help="The day to store the results under (UTC date; default today).")
@with_settings
def ce_fetch(settings: Settings, days: int, term: str, payment: str, day: str | None) -> None:
    """Fetch Cost Explorer coverage, utilization and RI recommendations (7 and 60 days) into the store as
    ce-cov, ce-util, ce-rec-7 and ce-rec-60 items (account = the organization name)."""
    from awscost.jobs.ce_fetch import Params

    params = Params(
        days=days,
        term=term,  # type: ignore[arg-type]
        payment=payment,  # type: ignore[arg-type]
        day=parse_time(day, where="--day").date() if day else None,
    )
    with job_context(settings, "Cost Explorer") as ctx:
        result = run_job("ce_fetch", ctx, params)
    click.echo(f"stored {result.items_written} Cost Explorer items")


@ri.command()
@plan_options
@click.option(
    "--ce-lookback",
    type=click.Choice(["7", "60"]),
    default="7",
    show_default=True,
    help="Which stored Cost Explorer recommendation (ce-rec-7 / ce-rec-60) to compare with.",
)
@with_settings
@format_option()
def compare(settings: Settings, fmt: str, ce_lookback: str, **options: Any) -> None:
    """Our plan beside Cost Explorer's latest stored recommendation, per group, with why they differ."""
    from awscost.jobs.ri_plan import compare as compare_plan

    with job_context(settings, "planning") as ctx:
        found = compare_plan(ctx, plan_params(options), ce_lookback=7 if ce_lookback == "7" else 60)
    for note in found.plan.notes:
        click.echo(f"note: {note}", err=True)
    if found.day is None:
        click.echo(
            f"note: no ce-rec-{ce_lookback} items in the store: run `awscost ri ce-fetch` first", err=True
        )
    emit(found.rows, fmt, title=f"Our plan vs Cost Explorer ({ce_lookback}-day lookback)")


@ri.command()
@click.option(
    "--lookback", type=click.IntRange(1, 3660), default=30, show_default=True, help="Days of history."
)
@click.option("--kinds", default=None, help=KINDS_HELP)
@click.option("--account", default=None, help="One account (or the organization name); default all of them.")
@click.option("--until", default=None, help="End of the history (UTC; default now).")
@with_settings
@format_option()
def stats(
    settings: Settings, fmt: str, lookback: int, kinds: str | None, account: str | None, until: str | None
) -> None:
    """Hours observed, min, P5, mean, P50, P90, P95, max per series, per account and organization-wide."""
    from awscost.planning.plan import usage_statistics
    from awscost.store import open_store

    with open_store(settings.store, read_only=True) as store:
        rows = usage_statistics(
            store,
            kinds=csv_list(kinds) or list(PLANNED_KINDS),
            account=account,
            lookback_days=lookback,
            until=parse_time(until, where="--until") if until else None,
        )
    emit(rows, fmt, title=f"Hourly usage statistics, last {lookback} days")
