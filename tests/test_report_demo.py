"""The RI workbook demo step against a running sandbox (Cost Explorer through the layer)."""

from __future__ import annotations

import io
from collections import Counter
from datetime import timedelta
from pathlib import Path

import openpyxl
from rich.console import Console

from awscost.store import open_store
from awscost.store.base import UsageItem


def test_demo_step_writes_the_workbook_and_prints_top_recommendations(tmp_path: Path) -> None:
    from awscost_sandbox.demo import DemoContext, demo_settings
    from awscost_sandbox.ri import demo_step
    from awscost_sandbox.scenario import default_scenario
    from awscost_sandbox.seed import seed_organization
    from awscost_sandbox.server import SandboxServer

    scenario = default_scenario()
    hours = scenario.hours(9 * 24)
    store_url = f"sqlite:///{tmp_path / 'demo.db'}"
    # Org-wide ec2os history built straight from the scenario (the collector has its own tests).
    items = []
    for h in hours:
        per_region: dict[str, Counter[str]] = {r: Counter() for r in scenario.regions}
        for u in scenario.fleet_at(h):
            if u.kind == "ec2":
                per_region[u.region][f"{'spot-' if u.spot else ''}{u.os}-{u.type}"] += u.count
        items += [UsageItem("ec2os", scenario.org_name, r, h, dict(c)) for r, c in per_region.items()]
    # the Savings Plans owned, as the daily collection records them (its own tests: test_collect_savings_plans)
    plans = [
        {"id": p.id, "key": "compute/1y/no", "type": p.type, "commitment": str(p.commitment),
         "start": p.start.isoformat(), "end": p.end.isoformat()}
        for p in scenario.savings_plans()
    ]  # fmt: skip
    owned = int(sum(p.commitment for p in scenario.savings_plans()) * 1_000_000)
    items.append(
        UsageItem(
            "sp", scenario.org_name, "global", hours[-1], {"compute/1y/no": owned}, {"savings_plans": plans}
        )
    )
    store = open_store(store_url)
    store.put_items(items)
    store.close()
    out = io.StringIO()
    with SandboxServer(scenario) as server:
        seed_organization(server)
        server.clock = hours[-1]
        ctx = DemoContext(
            out_dir=tmp_path,
            hours=len(hours),
            scenario=scenario,
            server=server,
            store_url=store_url,
            settings=demo_settings(scenario, store_url),
            console=Console(file=out, width=200),
            first_hour=hours[0],
            last_hour=hours[-1],
        )
        demo_step(ctx)
    text = out.getvalue()
    assert "AwsRIUsageReport.xlsx" in text and "buy" in text and "/month" in text
    # Each recommendation line says both purchases in instances; a family's normalized units in brackets.
    lines = [line for line in text.splitlines() if ": buy " in line]
    assert lines
    for line in lines:
        bought, _, p95 = line.partition("(P95 rule: ")
        assert " x " in bought.partition(": buy ")[2] and " x " in p95, line
        if ".*" in line.split(": buy ")[0]:  # a size-flexible family
            assert bought.count("normalized units]") == 1 and p95.count("normalized units]") == 1, line
    wb = openpyxl.load_workbook(tmp_path / "AwsRIUsageReport.xlsx")
    assert "ec2os us-east-1" in wb.sheetnames
    # the sandbox's Cost Explorer answers were stored and shown
    assert wb["CE recommendations"].max_row > 1 and wb["CE coverage"].cell(2, 2).value == "ec2"
    keys = [c.value for c in wb["CE recommendations"]["D"]]
    assert "Compute Savings Plan ($/h)" in keys
    compared = {c.value for c in wb["Plan vs CE"]["C"]}
    assert "compute" in compared  # our Savings Plan commitment beside AWS's
    assert ctx.results["ri_report"]["rows"]
    # The plan counts the sandbox's Savings Plan: no recommended RI leaves it below 95% used, and the line
    # says so; Cost Explorer's measured utilization (the bill's, through the layer) is quoted beside ours.
    plan = ctx.results["ri_report"]["plan"]
    sp = plan.savings_plan
    assert sp is not None and sp.owned == float(sum(p.commitment for p in scenario.savings_plans()))
    assert sp.owned_utilization is not None and sp.owned_utilization >= 0.95
    assert f"${sp.owned:g}/h owned, {sp.owned_utilization:.1%} used after the RIs" in text
    assert "Cost Explorer:" in str(sp.note)
    # every EC2 purchase is at most what the stand-alone break-even rule buys
    for row in plan.rows:
        if row.kind == "ec2os" and "on its own" in str(row.note):
            assert row.recommended < float(str(row.note).rsplit(": ", 1)[1].split()[0])
    # and the store now holds the daily Cost Explorer items
    store = open_store(store_url)
    kinds = {i.kind for i in store.query(since=hours[0] - timedelta(days=8))} & {
        "ce-cov",
        "ce-util",
        "ce-rec-7",
        "ce-rec-60",
    }
    store.close()
    assert kinds == {"ce-cov", "ce-util", "ce-rec-7", "ce-rec-60"}
