"""`awscost demo`: start the sandbox, seed it, run the REAL collector hour by hour over HTTP, show the result.

The demo is a registry of steps (`STEPS`: name -> "module:function", each `step(ctx: DemoContext) -> None`,
imported when it runs), run in order while the sandbox server is up. The first collects; later capabilities (bill
loading, RI workbook, service costs ...) add their own step to the list.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from awscost.core.config import Settings
from awscost.core.errors import AwsCostError, InputError
from awscost.core.registry import Registry
from awscost.core.timeutil import HOUR, format_hour
from awscost_sandbox.scenario import Scenario, default_scenario
from awscost_sandbox.seed import ROLE_NAME, apply_fleet, seed_organization
from awscost_sandbox.server import SandboxServer

DEFAULT_HOURS = 18  # with every step: 80 s measured on 2 cores with another build running
MAX_HOURS = 24 * 60


class DemoError(AwsCostError):
    """Some demo steps failed (their messages were printed); the others ran."""

    exit_code = 1


Step = Callable[["DemoContext"], None]
STEPS: Registry[Step] = Registry("demo step")
STEPS.add("collect", "awscost_sandbox.demo:collect_step")  # A: the real collector, every simulated hour
STEPS.add("summary", "awscost_sandbox.demo:summary_step")
STEPS.add("bill", "awscost_sandbox.bill:demo_step")  # D: the scenario's bill (CUR + FOCUS), cost by account
STEPS.add("ri", "awscost_sandbox.ri:demo_step")  # B: RI/SP plan and the AwsRIUsageReport workbook
STEPS.add("services", "awscost_sandbox.containers:demo_step")  # C: micro-service cost from container logs
STEPS.add("reports", "awscost_sandbox.reports:demo_step")  # B: cost reports mailed, archived, written
STEPS.add("history", "awscost_sandbox.history:demo_step")  # six months of daily bill with injected anomalies
STEPS.add("usage-history", "awscost_sandbox.usage_history:demo_step")  # the hourly items of its last weeks
STEPS.add("anomalies", "awscost_sandbox.history:anomalies_step")  # B: the anomaly scans of those histories

# Steps whose heavy part is a pure function of the scenario's seed and the demo's last hour, written to files
# of their own: run_demo starts them in a process apart before the first step (the collect and report steps
# keep one core busy; these take the other), and the step itself only waits for it and reports. About 15 s
# of the default demo's two-minute budget.
BACKGROUND: Registry[Callable[[int, datetime, str], Any]] = Registry("demo background work")
BACKGROUND.add("history", "awscost_sandbox.history:prepare_apart")
BACKGROUND.add("usage-history", "awscost_sandbox.usage_history:prepare_apart")


@dataclass
class DemoContext:
    out_dir: Path
    hours: int
    scenario: Scenario
    server: SandboxServer
    store_url: str
    settings: Settings
    console: Console
    first_hour: datetime
    last_hour: datetime
    # Filled by collect_step: one CollectionSummary per collection run, and API calls made to seed the fleet.
    summaries: list[Any] = field(default_factory=list)
    seed_calls: int = 0
    fmt: str = "table"  # table: rich tables on the console; json|jsonl|csv: summary rows on stdout
    results: dict[str, Any] = field(default_factory=dict)  # free space for steps to hand data to later ones
    # Step name -> the Future of its work started apart before the first step (BACKGROUND); the step takes it.
    background: dict[str, Any] = field(default_factory=dict)


@contextmanager
def sandbox_environment(server: SandboxServer) -> Iterator[None]:
    """Point boto3's standard environment at the sandbox (and away from any real profile), then restore it.

    The collector takes its endpoint and credentials from that environment, as it does against real AWS.
    """
    import boto3

    saved = {k: v for k, v in os.environ.items() if k.startswith("AWS_") or k == "MOTO_ACCOUNT_ID"}
    for key in saved:
        del os.environ[key]
    os.environ.update(server.env())
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    # boto3's default session keeps the credentials it first resolved: one made under an earlier environment
    # would call as another account (an SES identity verified in one account, mail sent from another).
    boto3.DEFAULT_SESSION = None
    try:
        yield
    finally:
        for key in [k for k in os.environ if k.startswith("AWS_") or k == "MOTO_ACCOUNT_ID"]:
            del os.environ[key]
        os.environ.update(saved)
        boto3.DEFAULT_SESSION = None


def write_demo_config(ctx: DemoContext) -> Path:
    """An awscost.toml beside the results, so every command reads the demo's store and organization."""
    names = "\n".join(f'"{a.id}" = "{a.name}"' for a in ctx.scenario.accounts)
    text = (
        "# Written by `awscost demo`: the sandbox's store and organization.\n"
        "[awscost]\n"
        f'store = "{ctx.store_url}"\n'
        f'org_name = "{ctx.scenario.org_name}"\n'
        f"accounts = [{', '.join(repr(a) for a in ctx.scenario.account_ids)}]\n"
        f"regions = [{', '.join(repr(r) for r in ctx.scenario.regions)}]\n"
        f'role_name = "{ROLE_NAME}"\n\n'
        f"[accounts.names]\n{names}\n\n"
        # The front ends' billing dataset (awscost dashboard): the report step's.
        f'[billing]\ndataset = "{ctx.out_dir / "report-billing"}"\n'
    ).replace("'", '"')
    from awscost_sandbox.reports import report_toml

    text += "\n" + report_toml(ctx)
    path = ctx.out_dir / "awscost.toml"
    path.write_text(text, encoding="utf-8")
    return path


def demo_settings(scenario: Scenario, store_url: str) -> Settings:
    return Settings(
        store=store_url,
        org_name=scenario.org_name,
        accounts=tuple(scenario.account_ids),
        role_name=ROLE_NAME,
        regions=tuple(scenario.regions),
        account_names={a.id: a.name for a in scenario.accounts},
    )


def run_demo(
    hours: int = DEFAULT_HOURS,
    out_dir: Path | str = "awscost-demo",
    console: Console | None = None,
    *,
    steps: Registry[Step] | Sequence[str] | None = None,
    seed: int = 7,
    fmt: str = "table",
) -> DemoContext:
    """Run the demo steps against a fresh sandbox; the usage samples land in `out_dir/awscost.db`.

    `steps`: names of STEPS to run (default all), or a registry of other steps (tests)."""
    if not 1 <= hours <= MAX_HOURS:
        raise InputError(f"hours must be between 1 and {MAX_HOURS}, got {hours}", where="--hours")
    console = console or Console()
    out = Path(out_dir).resolve()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the output directory: {exc.strerror}", where=str(out)) from None
    scenario = default_scenario(seed)
    store_url = f"sqlite:///{out / 'awscost.db'}"
    hours_list = scenario.hours(hours)
    with SandboxServer(scenario) as server, sandbox_environment(server):
        seed_organization(server)
        ctx = DemoContext(
            out_dir=out,
            hours=hours,
            scenario=scenario,
            server=server,
            store_url=store_url,
            settings=demo_settings(scenario, store_url),
            console=console,
            first_hour=hours_list[0],
            last_hour=hours_list[-1],
            fmt=fmt,
        )
        failed: list[str] = []
        registry = steps if isinstance(steps, Registry) else STEPS
        names = list(steps) if steps is not None and not isinstance(steps, Registry) else registry.names()
        with _background(ctx, [] if isinstance(steps, Registry) else names):
            for target in names:
                _run_step(ctx, registry, target, failed)
        ctx.results["failed_steps"] = failed
    config = write_demo_config(ctx)
    if fmt == "table":
        until = format_hour(ctx.last_hour)
        console.print(
            f"\n[bold]Explore the results[/bold] (the demo wrote {config}):\n"
            f"  export AWSCOST_CONFIG={config}\n"
            f"  awscost usage show --kind ec2os --account {scenario.org_name} --format csv\n"
            f"  awscost ri plan --until {until} --lookback 30\n"
            f"  awscost billing summary --dataset {out / 'billing'} --by SubAccountId,ServiceName\n"
            f"  awscost billing tags --dataset {out / 'billing'}\n"
            f"  awscost anomalies detect --dataset {out / 'history-billing'}\n"
            f"  awscost report cost --all-audiences --dataset {out / 'report-billing'} --period last-month "
            f"--today {ctx.last_hour:%Y-%m-%d} --out {out / 'reports'}\n"
            "  awscost dashboard   # http://127.0.0.1:8000/: the same figures in the browser"
        )
    if failed:
        raise DemoError(f"{len(failed)} demo step(s) failed: {', '.join(failed)}", where="awscost demo")
    return ctx


@contextmanager
def _background(ctx: DemoContext, names: Sequence[str]) -> Iterator[None]:
    """Start the BACKGROUND work of the steps in `names` in one process apart (spawned: the server's threads
    are not forked), and shut it down after the last step (a step that never took its Future cancels it)."""
    wanted = [n for n in names if n in BACKGROUND]
    if not wanted:
        yield
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        for name in wanted:
            ctx.background[name] = pool.submit(
                BACKGROUND.get(name), ctx.scenario.seed, ctx.last_hour, str(ctx.out_dir)
            )
        try:
            yield
        finally:
            for future in ctx.background.values():
                future.cancel()
            ctx.background.clear()


def _run_step(ctx: DemoContext, registry: Registry[Step], target: str, failed: list[str]) -> None:
    """One step; one failing step does not cost the user the others (each writes its own outputs)."""
    console = ctx.console
    try:
        registry.get(target)(ctx)
    except AwsCostError as exc:
        console.print(f"[red]demo step {target} failed:[/] {exc.render()}")
        failed.append(target)
    except Exception:
        console.print(f"[red]demo step {target} failed with an internal error:[/]")
        console.print_exception()
        failed.append(target)


def collect_step(ctx: DemoContext) -> None:
    """Each simulated hour: move the fleet, then collect the hourly kinds; the daily kinds once a day."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from awscost.jobs import JOBS, Context
    from awscost.jobs.collect import Params as CollectParams

    scenario, console = ctx.scenario, ctx.console
    console.print(
        f"[bold]Sandbox[/] {ctx.server.endpoint}: organization {scenario.org_name!r}, "
        f"{len(scenario.accounts)} accounts, regions {', '.join(scenario.regions)}; "
        f"collecting {ctx.hours} simulated hours "
        f"{format_hour(ctx.first_hour)} .. {format_hour(ctx.last_hour)}"
    )
    # The collect job, as the hourly and daily schedules run it, on the simulated clock: the hour collected is
    # the current one (the job refuses an hour after its clock's).
    collect = JOBS.get("collect")
    job_ctx = Context(ctx.settings, clock=lambda: hour)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task("collecting", total=ctx.hours)
        day_done: set[tuple[int, int, int]] = set()
        hour = ctx.first_hour
        while hour <= ctx.last_hour:
            ctx.seed_calls += apply_fleet(ctx.server, scenario, hour).calls
            day = (hour.year, hour.month, hour.day)
            # The first hour of each simulated day also takes the daily kinds, in the same run.
            kinds = ["hourly"] if day in day_done else ["all"]
            day_done.add(day)
            for kind in kinds:
                params = CollectParams(
                    kinds=kind,
                    accounts=tuple(scenario.account_ids),
                    regions=tuple(scenario.regions),
                    at=hour,
                    role_name=ROLE_NAME,
                )
                summary = collect.run(job_ctx, params)
                ctx.summaries.append(summary)
                for failure in summary.failures:
                    console.print(
                        f"[yellow]failed[/] {failure.kind} {failure.account} {failure.region}: "
                        f"{failure.reason}"
                    )
            bar.update(task, advance=1, description=f"collecting {format_hour(hour)}")
            hour += HOUR
    items = sum(s.items_written for s in ctx.summaries)
    calls = sum(s.api_calls for s in ctx.summaries)
    failures = sum(len(s.failures) for s in ctx.summaries)
    console.print(
        f"collected: {len(ctx.summaries)} runs, {items} items written, {calls} API calls"
        f" ({ctx.seed_calls} more to move the fleet), {failures} failed units"
    )


def summary_step(ctx: DemoContext) -> None:
    """Print what the store now holds: items per kind, and a sample of the org-wide usage."""
    from rich.table import Table

    from awscost.store import open_store

    with open_store(ctx.store_url) as store:
        per_kind: Counter[str] = Counter()
        accounts: dict[str, set[str]] = defaultdict(set)
        keys: dict[str, set[str]] = defaultdict(set)
        org_units: dict[str, Counter[str]] = defaultdict(Counter)  # kind -> hour -> units (org-wide)
        for item in store.query(since=ctx.first_hour, until=ctx.last_hour + HOUR):
            per_kind[item.kind] += 1
            accounts[item.kind].add(item.account)
            keys[item.kind].update(item.usage)
            if item.account == ctx.settings.org_name:
                org_units[item.kind][item.time_key] += int(sum(item.usage.values()))
    rows = []
    for kind in sorted(per_kind):
        units = org_units[kind].values()
        rows.append(
            {
                "kind": kind,
                "items": per_kind[kind],
                "accounts": len(accounts[kind] - {ctx.settings.org_name}),
                "usage_keys": len(keys[kind]),
                "org_units_min": min(units, default=0),
                "org_units_max": max(units, default=0),
            }
        )
    ctx.results["summary_rows"] = rows
    if ctx.fmt != "table":
        from awscost.core.output import emit

        emit(rows, ctx.fmt)
        return
    table = Table(title=f"Usage samples in {ctx.out_dir / 'awscost.db'}")
    for col in ("kind", "items", "accounts", "usage keys", "org units min", "org units max"):
        table.add_column(col, justify="left" if col == "kind" else "right")
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    ctx.console.print(table)
    _print_ec2_sample(ctx)
    ctx.console.print(
        f"Explore: awscost usage show --store {ctx.store_url} --kind ec2 --account {ctx.settings.org_name}"
    )


def _print_ec2_sample(ctx: DemoContext) -> None:
    """Org-wide EC2 instances by OS and type (top rows) at the first hour and the busiest hour."""
    from rich.table import Table

    from awscost.store import open_store

    with open_store(ctx.store_url) as store:
        items = [
            i
            for i in store.query(
                kind="ec2os", account=ctx.settings.org_name, since=ctx.first_hour, until=ctx.last_hour + HOUR
            )
        ]
    if not items:
        return
    by_hour: dict[str, Counter[str]] = defaultdict(Counter)
    for item in items:
        for key, count in item.usage.items():
            by_hour[item.time_key][key] += int(count)
    first = min(by_hour)
    busiest = max(by_hour, key=lambda h: (sum(by_hour[h].values()), h))
    total = Counter[str]()
    for counts in by_hour.values():
        total.update(counts)
    table = Table(title=f"Org-wide EC2 instances (ec2os, all regions): {first} vs busiest hour {busiest}")
    for col in ("os-instanceType", first, busiest):
        table.add_column(col, justify="left" if col == "os-instanceType" else "right")
    for key, _ in total.most_common(12):
        table.add_row(key, str(by_hour[first][key]), str(by_hour[busiest][key]))
    table.add_row("[bold]all[/]", str(sum(by_hour[first].values())), str(sum(by_hour[busiest].values())))
    ctx.console.print(table)
