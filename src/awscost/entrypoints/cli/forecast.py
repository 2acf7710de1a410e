"""`awscost forecast`: the month-end forecast per account or service from the bill (job forecast), and Cost
Explorer's GetCostForecast beside it (`--compare ce`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import click

from awscost.core.config import Settings
from awscost.core.output import dumps, emit
from awscost.core.timeutil import parse_time
from awscost.entrypoints.cli._common import (
    bill_source_options,
    format_option,
    job_context,
    run_job,
    with_settings,
)


@click.command("forecast")
@click.option(
    "--by",
    type=click.Choice(["account", "service"]),
    default="account",
    show_default=True,
    help="The series.",
)
@bill_source_options
@click.option("--month", default=None, help="The month to forecast (YYYY-MM; default: the month of --as-of).")
@click.option(
    "--as-of",
    "as_of",
    default=None,
    help="The first day not known (YYYY-MM-DD; default: the day after the bill's last whole day).",
)
@click.option(
    "--metric", type=click.Choice(["EffectiveCost", "BilledCost"]), default="EffectiveCost", show_default=True
)
@click.option("--level", type=float, default=0.8, show_default=True, help="The interval's level.")
@click.option(
    "--compare",
    type=click.Choice(["none", "ce"]),
    default="none",
    show_default=True,
    help="ce: Cost Explorer's GetCostForecast beside each series ($0.01 a request).",
)
@click.option(
    "--top", type=int, default=10, show_default=True, help="With --compare ce: the largest series asked."
)
@click.option("--today", default=None, help="With --compare ce: the UTC day of the run (default today).")
@format_option(formats=("table", "json"))
@with_settings
def forecast(settings: Settings, fmt: str, as_of: str | None, today: str | None, **options: Any) -> None:
    """Forecast the month's total per account or service from the bill's daily cost, with intervals.

    Each series (and the total) goes through the cost report's forecaster: a weekday pattern and trend of
    the last 8 weeks, an interval back-tested on the same history (docs/forecast.md); recurring charges are
    added as billed. JSON: money as decimal strings."""
    from awscost.jobs.forecast import Params

    params = Params(
        as_of=parse_time(as_of, where="--as-of").date() if as_of else None,
        today=parse_time(today, where="--today").date() if today else None,
        files=tuple(options.pop("files")),
        **options,
    )
    with job_context(settings, "forecasting the bill") as ctx:
        result = run_job("forecast", ctx, params)
    if fmt == "json":
        click.echo(dumps(result.to_json()))
        return
    f = result.forecasts
    known = f.series[0].days_known if f.series else 0
    left = f.series[0].days_left if f.series else 0
    currency = f.currency or "no cost"
    if result.comparison is None:
        rows = [
            {
                f.by: s.key,
                "to date": s.actual.quantize(Decimal("0.01")),
                "forecast": s.total,
                f"low {s.level:.0%}": s.low,
                f"high {s.level:.0%}": s.high,
                "method": "run-rate (under 7 days)" if s.fallback else ("fees carried" if s.carried else ""),
            }
            for s in f.series
        ]
        emit(
            rows,
            "table",
            title=f"Forecast of {f.month} per {f.by}, {f.metric}, {known} days known, {left} left ({currency})",
        )
    else:
        c = result.comparison
        cent = Decimal("0.01")

        def cents(v: Decimal | None) -> Decimal | None:
            return None if v is None else v.quantize(cent)

        rows = [
            {
                f.by: r.key,
                "awscost": r.ours,
                f"awscost {r.level:.0%}": f"{r.ours_low} .. {r.ours_high}",
                "Cost Explorer": cents(r.ce) if r.ce is not None else (r.error or "").split(": ", 2)[-1][:60],
                "CE 80%": f"{cents(r.ce_low)} .. {cents(r.ce_high)}" if r.ce is not None else "",
                "difference": cents(r.difference) if r.difference is not None else "",
                "%": f"{r.difference / r.ours:+.1%}" if r.difference is not None and r.ours else "",
            }
            for r in c.rows
        ]
        emit(
            rows,
            "table",
            title=f"Forecast of {f.month} per {f.by}: awscost ({f.metric} of the bill) and Cost Explorer "
            f"({c.metric}), {known} days known, {left} left ({currency})",
        )
        click.echo(c.why)
        click.echo(f"Cost Explorer: {c.calls} request{'s' if c.calls != 1 else ''}, ${c.cost} at $0.01 each")
        for note in c.notes:
            click.echo(f"note: {note}")
    click.echo(f"source: {f.source}, as of {f.as_of} (the first day not known)")
    for note in f.notes:
        click.echo(f"note: {note}")
