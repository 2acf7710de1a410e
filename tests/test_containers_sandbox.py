"""Sandbox container logs on the scenario's container hosts, allocated with prices and with the bill."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

from rich.console import Console

from awscost.containers import allocation as alloc
from awscost.containers import read_inputs
from awscost.core.config import Settings
from awscost.jobs.results import latest_result
from awscost.store import open_store
from awscost_sandbox.containers import container_hosts, demo_step, sandbox_prices, write_logs
from awscost_sandbox.scenario import default_scenario


def test_logs_cover_every_container_host_and_allocate_exactly(tmp_path: Path) -> None:
    scenario = default_scenario()
    hours = scenario.hours(3)
    paths = write_logs(scenario, hours, tmp_path / "logs")
    result = read_inputs(paths)
    assert result.malformed == []
    hosts = {h for hour in hours for _, h, _ in container_hosts(scenario, hour)}
    assert hosts and {s.host_id for s in result.samples} == hosts
    a = alloc.allocate(result.samples, options=alloc.Options(step_seconds=300), price=sandbox_prices())
    assert alloc.check_conservation(a) == [] and not a.unpriced
    host_hours = sum(len(container_hosts(scenario, hour)) for hour in hours)
    assert len(a.hosts) == host_hours
    services = {s.service for s in a.services}
    assert {"storefront", "checkout", "search", alloc.IDLE} <= services


def test_demo_step_with_the_sandbox_bill(tmp_path: Path) -> None:
    from awscost.billing import load_into
    from awscost_sandbox.bill import write_bill

    scenario = default_scenario()
    hours = scenario.hours(2)
    written = write_bill(scenario, hours, tmp_path / "bill", formats=("cur",))
    load_into([written["cur"]], tmp_path / "billing")
    out = io.StringIO()
    ctx = SimpleNamespace(
        out_dir=tmp_path,
        scenario=scenario,
        first_hour=hours[0],
        last_hour=hours[-1],
        store_url=f"sqlite:///{tmp_path / 'demo.db'}",
        settings=Settings(store=f"sqlite:///{tmp_path / 'demo.db'}"),
        console=Console(file=out, width=160),
        results={},
    )
    demo_step(ctx)
    text = " ".join(out.getvalue().split())
    assert "Top services by cost" in text and "sandbox bill (EffectiveCost)" in text and "storefront" in text
    a = ctx.results["containers"]["allocation"]
    assert alloc.check_conservation(a) == [] and all(h.cost_source == "billing" for h in a.hosts)
    # The host costs are the bill's: compare one host-hour with the bill's own EffectiveCost.
    from awscost.billing import load

    h = a.hosts[0]
    with load(tmp_path / "billing") as bill:
        frame = bill.sql(
            f"select sum(EffectiveCost) from billing where ResourceId = '{h.host_id}' "
            f"and ChargePeriodStart = TIMESTAMP '{h.hour:%Y-%m-%d %H:%M:%S}'"
        ).to_pandas()
    assert alloc.from_units(h.cost_units) == Decimal(str(frame.iloc[0, 0])).quantize(alloc.UNIT)
    items = list(open_store(ctx.store_url).query(kind="svc-cost"))
    assert items and all(i.attrs["unit"] == "micro-USD" for i in items)
    # The service_costs job's result over the same logs and bill is saved as its latest (what the reports'
    # Services section and the dashboard read), and its services cost what the allocation above says.
    with open_store(ctx.store_url) as store:
        saved = latest_result(store, "service_costs")
    assert saved is not None and saved.result["by"] == "service"
    by_job: dict[str, Decimal] = {}
    for row in saved.result["rows"]:
        by_job[row["service"]] = by_job.get(row["service"], Decimal(0)) + Decimal(str(row["total_cost"]))
    by_step: dict[str, Decimal] = {}
    for r in alloc.summarize(a, by="service", granularity="day"):
        by_step[r["service"]] = by_step.get(r["service"], Decimal(0)) + r["total_cost"]
    assert by_job == by_step and by_job["storefront"] > 0
