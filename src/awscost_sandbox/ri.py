"""The demo's RI step: history from the sandbox bill, Cost Explorer answers from the sandbox, the workbook."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from awscost.core.timeutil import HOUR

# Days of history the demo rebuilds from the sandbox's bill when it collected less than a week itself.
DEMO_HISTORY_DAYS = 14


def demo_history(ctx: Any, days: int) -> Any:
    """History on day one, in the demo: the sandbox bill of the `days` before the first collected hour,
    backfilled into the store (collected hours are never overwritten)."""
    from awscost.billing import load
    from awscost.store import open_store
    from awscost.usage.backfill import backfill_from_billing
    from awscost_sandbox.bill import write_bill

    first = ctx.first_hour - timedelta(days=days)
    hours = [first + i * HOUR for i in range(days * 24)]
    written = write_bill(ctx.scenario, hours, Path(ctx.out_dir) / "bill-history", formats=("cur",))
    with open_store(ctx.store_url) as store, load([written["cur"]]) as bill:
        result = backfill_from_billing(bill, store, org_name=ctx.settings.org_name)
    ctx.console.print(
        f"backfilled {result.written} usage items from the bill of the {days} days before collection "
        f"({', '.join(f'{k} {n}' for k, n in sorted(result.by_kind.items()))})"
    )
    return result


def demo_step(ctx: Any) -> None:
    """The demo's RI step: history from the bill when less than a week was collected, Cost Explorer answers
    from the sandbox into the store, then the workbook and the top recommendations on the console.
    ctx is awscost_sandbox.demo.DemoContext."""
    import math

    import awscost_sandbox.ce  # noqa: F401  (registers the sandbox's Cost Explorer answers)
    from awscost.jobs import JOBS, save_latest
    from awscost.jobs.base import Context
    from awscost.jobs.ce_fetch import Params as CeParams
    from awscost.jobs.ri_report import Params as ReportParams
    from awscost.planning.ri import MIN_HOURS
    from awscost_sandbox.demo import sandbox_environment

    collected = int((ctx.last_hour - ctx.first_hour) / HOUR) + 1
    history = DEMO_HISTORY_DAYS if collected < MIN_HOURS else 0
    if history:
        demo_history(ctx, history)
    # The real jobs against the sandbox as boto3's standard environment. Their days and hours are the
    # simulated ones, given explicitly; the clock stays the wall clock, so the workbook says when it was made.
    job_ctx = Context(ctx.settings)
    hours = collected + history * 24
    lookback = max(1, math.ceil(hours / 24))
    out = str(Path(ctx.out_dir) / "AwsRIUsageReport.xlsx")
    with sandbox_environment(ctx.server):
        JOBS.get("ce_fetch").run(job_ctx, CeParams(day=ctx.last_hour.date() + timedelta(days=1)))
        report = JOBS.get("ri_report").run(
            job_ctx, ReportParams(out=out, lookback=lookback, until=ctx.last_hour)
        )
    path, plan = report.path, report.plan
    # The workbook's plan is the ri_plan job's (jobs/ri_report.py runs ri_plan.plan): saved as that job's
    # latest, as the deployed ri_plan rule's run would be, for the reports' savings and the dashboard.
    save_latest(job_ctx, "ri_plan", ReportParams(out=out, lookback=lookback, until=ctx.last_hour), plan)
    ctx.results["ri_report"] = {"path": path, "rows": plan.rows, "plan": plan}
    top = sorted(
        (r for r in plan.rows if (r.monthly_savings or 0) > 0), key=lambda r: -(r.monthly_savings or 0)
    )[:5]
    ctx.console.print(f"[bold]RI workbook[/bold] {path}")
    if not top:
        short = sum(1 for r in plan.rows if "too little history" in str(r.note or ""))
        ctx.console.print(
            f"no reservation to recommend yet: {short} of {len(plan.rows)} groups have less than a"
            f" week of history ({hours} hours); run the demo with more hours"
        )
    sp = plan.savings_plan
    if sp is not None:
        used = f", {sp.owned_utilization:.1%} used after the RIs" if sp.owned_utilization is not None else ""
        ctx.console.print(
            f"  Savings Plans: ${sp.owned:g}/h owned{used}; add {sp.purchase()} ({sp.term}, {sp.payment} "
            f"upfront), ${sp.monthly_savings}/month"
        )
    for r in top:
        # Both purchases in instances, a size-flexible family's normalized units in brackets.
        ctx.console.print(
            f"  {r.kind} {r.region} {r.key}: buy {r.purchase()} ({r.term}, {r.payment} upfront), "
            f"${r.monthly_savings}/month (P95 rule: {r.purchase('p95_rule')} -> "
            f"${r.p95_monthly_savings}/month)"
        )
    # Reserved capacity is priced by the Price List API alone (the snapshot's sources have no DynamoDB rates),
    # and the sandbox's Price List re-serves the snapshot (awscost_sandbox.pricing), so it has none either: its
    # rows have the statistics and say how to get the prices.
    from awscost.usage.kinds import CAPACITY_KINDS

    unpriced = [r for r in plan.rows if r.kind in CAPACITY_KINDS and r.recommended is None]
    if unpriced:
        ctx.console.print(
            f"  reserved capacity: {len(unpriced)} DynamoDB rows (read / write units x region) have no price: "
            "the sandbox's Price List is the packaged snapshot, which has no DynamoDB rates; against AWS, "
            "`awscost pricing refresh --services dynamodb` fetches them"
        )
