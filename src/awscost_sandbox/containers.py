"""Sandbox container logs: what the snapshot agent would write on the scenario's container hosts, and the demo
step that allocates them to services.

Hosts are the scenario's EC2 units tagged Role=container-host (their ids, types, accounts and regions, hour by
hour, so a host that churns out stops logging). Each cluster runs a fixed set of services; every host of the
cluster runs one task of a deterministic subset of them, with usage following the region's business hours.
Lines use the agent's own format (`awscost containers snapshot`): the real reader and allocator run on them.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from awscost.containers.readers import AGENT_SCHEMA

# cluster -> [(service, reserved vCPU, reserved GiB, typical vCPU use, typical GiB use)]
SERVICES: dict[str, list[tuple[str, float, float, float, float]]] = {
    "prod-services": [
        ("storefront", 0.5, 1.0, 0.35, 0.7),
        ("checkout", 0.5, 1.0, 0.25, 0.8),
        ("catalog", 0.25, 2.0, 0.2, 1.6),
        ("search", 1.0, 3.0, 0.9, 2.5),
        ("notifications", 0.25, 0.5, 0.05, 0.2),
    ],
    "prod-services-eu": [
        ("storefront", 0.5, 1.0, 0.3, 0.7),
        ("sessions", 0.25, 1.5, 0.15, 1.2),
        ("checkout", 0.5, 1.0, 0.2, 0.8),
    ],
    "staging-services": [
        ("storefront", 0.25, 0.5, 0.05, 0.3),
        ("checkout", 0.25, 0.5, 0.05, 0.3),
        ("ci-runner", 0.0, 0.0, 1.2, 2.0),  # no reservation: pays for what it uses
    ],
}
HOST_ROLE = "container-host"
CLUSTER_TAG = "ecs:cluster-name"


def _unit_float(*parts: object) -> float:
    """A stable number in [0, 1) from its inputs (no global random state: same scenario, same logs)."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def container_hosts(scenario: Any, hour: datetime) -> list[tuple[Any, str, str]]:
    """(unit, host id, cluster) for every container host running in `hour`."""
    out: list[tuple[Any, str, str]] = []
    for unit in scenario.fleet_at(hour):
        tags = dict(unit.tags or {})
        if unit.kind == "ec2" and tags.get("Role") == HOST_ROLE:
            cluster = tags.get(CLUSTER_TAG, "default")
            out.extend((unit, host_id, cluster) for host_id in unit.ids)
    return out


def _busy(scenario: Any, region: str, hour: datetime) -> float:
    try:
        return float(scenario.business_hours(region, hour))
    except (AttributeError, TypeError):
        return 0.5


def agent_lines(scenario: Any, hours: Iterable[datetime], step_minutes: int = 5) -> Iterable[dict[str, Any]]:
    """Agent records for every container on every container host, every `step_minutes`, over `hours`."""
    for hour in hours:
        for unit, host_id, cluster in container_hosts(scenario, hour):
            busy = _busy(scenario, unit.region, hour)
            services = SERVICES.get(cluster, SERVICES["staging-services"])
            for idx, (svc, res_cpu, res_mem, cpu, mem) in enumerate(services):
                if _unit_float(host_id, svc, "placed") > 0.75 and idx:  # not every service on every host
                    continue
                cid = hashlib.sha256(f"{host_id}/{svc}".encode()).hexdigest()[:64]
                for minute in range(0, 60, step_minutes):
                    ts = hour + timedelta(minutes=minute)
                    wobble = 0.8 + 0.4 * _unit_float(cid, ts.isoformat())
                    load = (0.4 + 0.8 * busy) * wobble
                    yield {
                        "awscost": AGENT_SCHEMA,
                        "timestamp": ts.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
                        "host_id": host_id,
                        "instance_type": unit.type,
                        "region": unit.region,
                        "account": unit.account,
                        "container_id": cid,
                        "container_name": f"ecs-{svc}-{cid[:6]}",
                        "service": None,
                        "cluster": cluster,
                        "cpu_reserved_vcpu": res_cpu,
                        "cpu_used_vcpu": round(cpu * load, 4),
                        "mem_reserved_gb": res_mem,
                        "mem_used_gb": round(mem * (0.9 + 0.1 * math.sin(minute / 10)) * wobble, 4),
                        "launch_type": "EC2",
                        "host_vcpu": None,
                        "host_mem_gb": None,
                        "image": f"{unit.account}.dkr.ecr.{unit.region}.amazonaws.com/{svc}:latest",
                        "labels": {"com.amazonaws.ecs.cluster": cluster,
                                   "com.amazonaws.ecs.task-definition-family": svc},
                    }  # fmt: skip


def write_logs(scenario: Any, hours: list[datetime], out_dir: Path, step_minutes: int = 5) -> list[Path]:
    """One JSON-lines file per UTC day under out_dir; returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    handles: dict[str, Any] = {}
    try:
        for rec in agent_lines(scenario, hours, step_minutes):
            day = rec["timestamp"][:10]
            fh = handles.get(day)
            if fh is None:
                fh = handles[day] = (out_dir / f"containers-{day}.jsonl").open("w", encoding="utf-8")
            fh.write(json.dumps(rec, separators=(",", ":")) + "\n")
    finally:
        for fh in handles.values():
            fh.close()
    return sorted(out_dir / f"containers-{d}.jsonl" for d in handles)


def sandbox_prices() -> Any:
    """The sandbox bill's own on-demand rates, so service costs agree with the sandbox bill."""
    from awscost_sandbox.bill import rate_of

    def price(instance_type: str, region: str) -> Decimal | None:
        return Decimal(rate_of("ec2", instance_type, "linux"))

    return price


def demo_step(ctx: Any) -> None:
    """Write the container logs for the demo's hours, allocate them (the bill's EffectiveCost when the billing
    step wrote a dataset, else the sandbox rates), store the results and print the top services."""
    from rich.table import Table

    from awscost.containers import allocation as alloc
    from awscost.containers import read_inputs

    hours = []
    h = ctx.first_hour
    while h <= ctx.last_hour:
        hours.append(h)
        h += timedelta(hours=1)
    paths = write_logs(ctx.scenario, hours, Path(ctx.out_dir) / "containers", step_minutes=5)
    result = read_inputs(paths)
    dataset = Path(ctx.out_dir) / "billing"
    host_cost = None
    source = "sandbox on-demand rates"
    if dataset.exists():
        host_cost = alloc.billing_host_costs(dataset, {s.host_id for s in result.samples if s.host_id})
        source = "sandbox bill (EffectiveCost)"
    allocation = alloc.allocate(
        result.samples, options=alloc.Options(step_seconds=300), price=sandbox_prices(), host_cost=host_cost
    )
    rows = alloc.summarize(allocation, by="service", granularity="day")
    totals: dict[str, Decimal] = {}
    for r in rows:
        totals[r["service"]] = totals.get(r["service"], Decimal(0)) + r["total_cost"]
    host_total = sum((alloc.from_units(hh.cost_units) for hh in allocation.hosts), Decimal(0))
    try:
        from awscost.store import open_store

        with open_store(ctx.store_url) as store:
            store.put_items(alloc.to_usage_items(allocation))
    except Exception as exc:  # the demo goes on; the table below is still right
        ctx.console.print(f"[yellow]service costs not stored: {exc}[/yellow]")
    table = Table(
        title=f"Top services by cost ({len(hours)} h, {len(result.samples):,} container samples)",
        caption=f"priced from the {source}; hosts {host_total:,.2f} USD = services + __idle__",
    )
    for col in ("Service", "Cost USD", "Share"):
        table.add_column(col, justify="left" if col == "Service" else "right")
    for name, cost in sorted(totals.items(), key=lambda kv: -kv[1])[:10]:
        share = cost / host_total if host_total else Decimal(0)
        table.add_row(name, f"{cost:,.4f}", f"{share:.1%}")
    ctx.console.print(table)
    if allocation.unpriced:
        ctx.console.print(f"[yellow]{len(allocation.unpriced)} container host(s) unpriced[/yellow]")
    ctx.results["containers"] = {"allocation": allocation, "logs": paths}
    _save_job_result(ctx, paths, dataset if dataset.exists() else None)


def _save_job_result(ctx: Any, paths: list[Path], dataset: Path | None) -> None:
    """The service_costs job over the same logs and bill, its result saved as the job's latest: what the
    reports' Services section and the dashboard show (they read saved job results, never compute one)."""
    from awscost.jobs import Context, run_job, save_latest
    from awscost.jobs.service_costs import Params

    job_ctx = Context(ctx.settings)
    params = Params(
        inputs=tuple(str(p) for p in paths),
        dataset=None if dataset is None else str(dataset),
        step_seconds=300,
        save=False,  # the hourly svc-cost items are stored above already
    )
    save_latest(job_ctx, "service_costs", params, run_job("service_costs", job_ctx, params))
