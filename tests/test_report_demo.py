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
