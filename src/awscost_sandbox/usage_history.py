"""The sandbox's usage history: the hourly items the collector would have stored over the last USAGE_DAYS of
the bill history (history.py), with the bill history's instance injections running in it, so the usage
signal (awscost.anomalies.usage) has a baseline and catches them hours before the bill.

Every hour, for every account x region of the scenario: one item per hourly kind (ec2 `type:AZ`, ec2os
`os-type`, spot under `spot-`; rds `class:engine`, `multi_az-` for Multi-AZ; elasticache node type; dynamodb
provisioned read / write capacity and table count), and at 00:00 the daily kinds (es instance type, redshift
node type of the clusters not paused), with the organization's total of each kind x region, as the collect
job writes them (usage/runner.py org_totals); an empty item where nothing runs. The counts are the
scenario's fleet (`fleet_at`), the same fleet the bill history is built from, without the bill's trend draw
(its on-demand resource-days dropped at random: the bill's detail, not a fleet change). On top of it the
injections of kind "instances" (the runaway autoscaling group, the forgotten cluster): their instances
counted, Linux, in the region's first AZ, for the hours they run. The data-transfer spike is not usage the
collector sees (it waits for the bill) and the quiet drop removes the bill's on-demand lines, not instances.

Written through the store API into its own store (`out_dir/history-usage.db`), apart from the demo's
`awscost.db`: the demo collects in November, months after this history ends.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from awscost.store.base import Store, UsageItem
from awscost_sandbox.history import INJECTED, Injection, window

HOUR = timedelta(hours=1)
USAGE_DAYS = 84  # twelve weeks: the hour-of-week baseline's 31 days before the first instance injection
HOURLY_KINDS = ("ec2", "ec2os", "rds", "elasticache", "dynamodb")
DAILY_KINDS = ("es", "redshift")


def usage_window(last_day: date) -> tuple[datetime, datetime]:
    """[first hour, end hour) of the usage history: the USAGE_DAYS ending with the bill history's last day."""
    end = datetime.combine(last_day, datetime.min.time(), UTC) + timedelta(days=1)
    return end - timedelta(days=USAGE_DAYS), end


def _usage(unit: Any) -> Iterator[tuple[str, str, int]]:
    """(kind, usage key, count) of one fleet unit, as the collectors key it."""
    if unit.kind == "ec2":
        spot = "spot-" if unit.spot else ""
        yield "ec2", f"{spot}{unit.type}:{unit.az}", unit.count
        yield "ec2os", f"{spot}{unit.os or 'linux'}-{unit.type}", unit.count
    elif unit.kind == "rds":
        yield "rds", f"{'multi_az-' if unit.multi_az else ''}{unit.type}:{unit.engine}", unit.count
    elif unit.kind in ("elasticache", "es", "redshift"):
        yield unit.kind, unit.type, unit.count
    elif unit.kind == "dynamodb" and not unit.on_demand:
        yield "dynamodb", "read_capacity", unit.read_capacity
        yield "dynamodb", "write_capacity", unit.write_capacity
        yield "dynamodb", "table_count", 1


def _running(inj: Injection, hour: datetime) -> int:
    if inj.kind != "instances" or not inj.start <= hour < (inj.end or hour + HOUR):
        return 0
    return inj.count_on(hour.date())


def items_at(scenario: Any, hour: datetime, injections: Iterable[Injection] = INJECTED) -> list[UsageItem]:
    """The items the collector would store for `hour`: hourly kinds, daily ones at 00:00, the org totals."""
    kinds = HOURLY_KINDS + (DAILY_KINDS if hour.hour == 0 else ())
    usage: dict[tuple[str, str, str], dict[str, int]] = {
        (kind, account, region): {}
        for kind in kinds
        for account in scenario.account_ids
        for region in scenario.regions
    }
    for unit in scenario.fleet_at(hour):
        for kind, key, count in _usage(unit):
            cell = usage.get((kind, unit.account, unit.region))
            if cell is not None and count:
                cell[key] = cell.get(key, 0) + count
    for inj in injections:
        n = _running(inj, hour)
        if n:
            for kind, key in (
                ("ec2", f"{inj.instance_type}:{inj.region}a"),
                ("ec2os", f"linux-{inj.instance_type}"),
            ):
                cell = usage[(kind, inj.account, inj.region)]
                cell[key] = cell.get(key, 0) + n
    items = [UsageItem(k, a, r, hour, u) for (k, a, r), u in usage.items()]
    totals: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for (kind, _, region), counts in usage.items():
        total = totals[(kind, region)]
        for key, count in counts.items():
            total[key] = total.get(key, 0) + count
    accounts = sorted(scenario.account_ids)
    items += [
        UsageItem(
            kind, scenario.org_name, region, hour, counts, {"accounts": accounts, "missing_accounts": []}
        )
        for (kind, region), counts in totals.items()
    ]
    return items


def write_usage_history(
    scenario: Any, store: Store, first: datetime, end: datetime, injections: Iterable[Injection] = INJECTED
) -> int:
    """Write the hours [first, end) into `store`; the number of items written."""
    injections = tuple(injections)
    written = 0
    hour = first
    batch: list[UsageItem] = []
    while hour < end:
        batch += items_at(scenario, hour, injections)
        hour += HOUR
        if len(batch) >= 50_000 or hour >= end:  # a few large transactions: commits cost more than rows
            written += store.put_items(batch)
            batch = []
    return written


def prepare(scenario: Any, last_hour: datetime, out_dir: Path) -> tuple[Path, datetime, datetime, int, float]:
    """Write the usage history into out_dir/history-usage.db: (its path, first hour, end, items, seconds)."""
    import time

    from awscost.store import open_store

    began = time.perf_counter()
    _, last = window(last_hour)
    first, end = usage_window(last)
    path = Path(out_dir) / "history-usage.db"
    path.unlink(missing_ok=True)  # a re-run writes it anew
    with open_store(f"sqlite:///{path}") as store:
        n = write_usage_history(scenario, store, first, end)
    return path, first, end, n, time.perf_counter() - began


def prepare_apart(
    seed: int, last_hour: datetime, out_dir: str
) -> tuple[Path, datetime, datetime, int, float]:
    """`prepare` in a process of its own, started before the demo's first step (as history.prepare_apart)."""
    from awscost_sandbox.scenario import default_scenario

    return prepare(default_scenario(seed), last_hour, Path(out_dir))


def demo_step(ctx: Any) -> None:
    """Write the usage history into out_dir/history-usage.db (after the bill history step), or take what the
    background process wrote."""
    pending = ctx.background.pop("usage-history", None)
    if pending is not None:
        path, first, end, n, seconds = pending.result()
    else:
        path, first, end, n, seconds = prepare(ctx.scenario, ctx.last_hour, ctx.out_dir)
    url = f"sqlite:///{path}"
    ctx.results["usage_history"] = {"store": url, "first": first, "end": end}
    ctx.console.print(
        f"[bold]Usage history[/] (hourly, as the collector stores it) {first:%Y-%m-%d %H:00} .. "
        f"{end - HOUR:%Y-%m-%d %H:00}: {n:,} items in {path} ({seconds:.1f} s)"
    )


def anomalies_lines(ctx: Any) -> None:
    """The usage signal over the usage history (job anomaly_scan, source usage), confirmed by the bill
    history: each instance injection against the usage event that caught it, with the bill's verdict and the
    hours of early warning; the other injections as what waits for the bill; anything else flagged."""
    from awscost.jobs import run_job
    from awscost.jobs.anomaly_scan import Params
    from awscost.jobs.base import Context

    history = ctx.results.get("usage_history")
    if history is None:
        return
    settings = ctx.settings.with_overrides(store=history["store"])
    dataset = ctx.results["history"]["dataset"]
    result = run_job("anomaly_scan", Context(settings), Params(source="usage", dataset=str(dataset)))
    ctx.results["usage_anomalies"] = result
    verdicts = {c.usage_id: c for c in result.confirmations}
    ctx.console.print(
        f"[bold]Usage signal[/] (hourly counts x list prices, {result.series} account x kind x region series, "
        f"{result.first_day} .. {result.last_day}): {len(result.anomalies)} found"
    )
    caught: set[str] = set()
    for injection in (i for i in INJECTED if i.name in ctx.results["history"]["injected"]):
        if injection.kind != "instances":
            why = {
                "transfer": "data transfer is not usage the collector counts",
                "stop": "the sandbox removes its on-demand lines from the bill, not instances from the fleet",
            }.get(injection.kind, "not in the usage history")
            ctx.console.print(f"  {injection.name}: {why}: the bill's to catch")
            continue
        match = next(
            (
                u
                for u in result.anomalies
                if (u.anomaly.account_id, u.region, u.anomaly.service)
                == (injection.account, injection.region, injection.service)
                and timedelta(0) <= u.start - injection.start <= timedelta(hours=1)
            ),
            None,
        )
        if match is None:
            ctx.console.print(f"  [red]{injection.name}[/] ({injection.start:%Y-%m-%d %H:00}): not caught")
            continue
        caught.add(match.anomaly.id)
        verdict = verdicts.get(match.anomaly.id)
        ctx.console.print(
            f"  [bold]{injection.name}[/] injected {injection.start:%Y-%m-%d %H:00}, flagged in the hour "
            f"{match.start:%Y-%m-%d %H:00} (known {match.known_at:%H:00}): {match.anomaly.explanation}"
        )
        if verdict is not None:
            ctx.console.print(f"    bill: {verdict.note}")
    for other in (u for u in result.anomalies if u.anomaly.id not in caught):
        verdict = verdicts.get(other.anomaly.id)
        ctx.console.print(
            f"  [yellow]not injected[/] {other.anomaly.start[:16]}Z {other.anomaly.account_id} {other.kind} "
            f"{other.region}: {other.anomaly.explanation}" + (f"; bill: {verdict.status}" if verdict else "")
        )
