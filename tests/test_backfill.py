"""Backfill: usage items rebuilt from the bill's hourly usage lines; never overwriting collected hours."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from awscost.store import open_store
from awscost.store.base import UsageItem
from awscost.usage.backfill import backfill_from_billing, rebuild_items, usage_keys

COLLECTED_HOURS = 3
BILLED_HOURS = 6


def row(**kw: Any) -> dict[str, Any]:
    base = {
        "account": "111122223333",
        "region": "us-west-2",
        "az": None,
        "hour": datetime(2026, 11, 2, 5),
        "product": "AmazonEC2",
        "usage_type": "",
        "operation": "",
        "itype": None,
        "os": None,
        "engine": None,
        "qty": 1,
    }
    base.update(kw)
    return base


def test_usage_keys_from_real_cur_usage_types() -> None:
    win = row(
        usage_type="USW2-BoxUsage:m5.large",
        operation="RunInstances:0002",
        az="us-west-2a",
        qty=3,
        os="Windows",
    )
    assert usage_keys(win) == [("ec2os", "windows-m5.large", 3.0), ("ec2", "m5.large:us-west-2a", 3.0)]
    spot = row(usage_type="SpotUsage:c5.large", operation="RunInstances", os="Linux", az="us-east-1b")
    assert usage_keys(spot)[0] == ("ec2os", "spot-linux-c5.large", 1.0)
    sql = row(usage_type="EU-BoxUsage:m5.2xlarge", operation="RunInstances:0006")
    assert usage_keys(sql)[0][1] == "windows-sql-std-m5.2xlarge"
    multi = row(
        product="AmazonRDS",
        usage_type="EU-Multi-AZUsage:db.m5.large",
        engine="PostgreSQL",
        operation="CreateDBInstance:0014",
    )
    assert usage_keys(multi) == [("rds", "multi_az-db.m5.large:postgres", 1.0)]
    aurora = row(product="AmazonRDS", usage_type="InstanceUsage:db.r6g.large", engine="Aurora MySQL")
    assert usage_keys(aurora) == [("rds", "db.r6g.large:aurora-mysql", 1.0)]
    # Without an operation code the product's OS text decides, in the Price List's or the product's spelling.
    for text, os_name in (
        ("RHEL", "rhel"),
        ("Red Hat Enterprise Linux", "rhel"),
        ("SLES", "suse"),
        ("Plan 9", "unknown"),
    ):
        assert usage_keys(row(usage_type="BoxUsage:m5.large", os=text))[0][1] == f"{os_name}-m5.large"
    rcu = row(product="AmazonDynamoDB", usage_type="EU-ReadCapacityUnit-Hrs", qty=80)
    assert usage_keys(rcu) == [("dynamodb", "read_capacity", 80.0)]
    assert usage_keys(row(usage_type="DataTransfer-Out-Bytes")) == []


def test_rebuild_sums_accounts_into_the_org_and_daily_kinds_take_the_day() -> None:
    rows = [
        row(account="111122223333", usage_type="BoxUsage:t3.large", os="Linux", az="us-west-2a", qty=2),
        row(account="222233334444", usage_type="BoxUsage:t3.large", os="Linux", az="us-west-2b", qty=1),
        row(product="AmazonRedshift", usage_type="USW2-Node:dc2.large", qty=2, hour=datetime(2026, 11, 2, 3)),
        row(product="AmazonRedshift", usage_type="USW2-Node:dc2.large", qty=4, hour=datetime(2026, 11, 2, 9)),
    ]
    items = {(i.aws_resource, i.time_key): i for i in rebuild_items(rows, "acme")}
    assert items[("ec2os:acme:us-west-2", "2026-11-02T05:00:00Z")].usage == {"linux-t3.large": 3}
    assert items[("ec2:acme:us-west-2", "2026-11-02T05:00:00Z")].usage == {
        "t3.large:us-west-2a": 2,
        "t3.large:us-west-2b": 1,
    }
    day = items[("redshift:111122223333:us-west-2", "2026-11-02T00:00:00Z")]
    assert day.usage == {"dc2.large": 4} and day.attrs == {"source": "billing", "granularity": "day"}


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    """The demo: the real collector over HTTP for the first hours of the scenario, then the RI step (which
    backfills the day before collection from the bill); and the sandbox bill of the first hours."""
    import awscost_sandbox.ri as ri_workbook
    from awscost_sandbox.bill import write_bill
    from awscost_sandbox.demo import run_demo

    out = tmp_path_factory.mktemp("backfill")
    console = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ri_workbook, "DEMO_HISTORY_DAYS", 1)
        ctx = run_demo(
            COLLECTED_HOURS,
            out,
            Console(file=console, width=200),
            steps=["collect", "ri"],
        )
    ctx.results["console"] = console.getvalue()
    bill = write_bill(ctx.scenario, ctx.scenario.hours(BILLED_HOURS), out / "bill", formats=("cur",))
    yield ctx, bill["cur"]


def test_demo_step_backfills_the_day_before_collection(collected: tuple[Any, Path]) -> None:
    ctx, _cur = collected
    assert "backfilled" in ctx.results["console"] and "AwsRIUsageReport.xlsx" in ctx.results["console"]
    store = open_store(ctx.store_url)
    earlier = list(store.query(kind="ec2os", account=ctx.settings.org_name, until=ctx.first_hour))
    store.close()
    assert len({i.time for i in earlier}) == 24 and all(i.attrs.get("source") == "billing" for i in earlier)
    m5 = next(
        r for r in ctx.results["ri_report"]["rows"] if r.key == "linux-m5.*" and r.region == "us-east-1"
    )
    assert m5.hours == 24 + COLLECTED_HOURS  # one history: billed day + collected hours


def test_bill_and_collected_hours_agree_and_collected_hours_are_kept(collected: tuple[Any, Path]) -> None:
    from awscost.billing import load

    ctx, cur = collected
    org = ctx.settings.org_name
    store = open_store(ctx.store_url)
    before = {(i.aws_resource, i.time): i for i in store.query(since=ctx.first_hour)}
    with load([cur]) as bill:
        from awscost.usage.backfill import PRODUCTS, QUERY, USAGE_LINE_TYPES

        frame = bill.sql(
            QUERY.format(
                products=", ".join(f"'{p}'" for p in PRODUCTS),
                line_types=", ".join(f"'{t}'" for t in USAGE_LINE_TYPES),
                window="",
            )
        ).to_pandas()
        rebuilt = {(i.aws_resource, i.time): i for i in rebuild_items(frame.to_dict("records"), org)}
        result = backfill_from_billing(bill, store, org_name=org)

    # where both exist, the bill says what the collector saw (hourly kinds; dynamodb's table_count aside)
    compared = 0
    for (res, t), live in before.items():
        kind = res.split(":")[0]
        if kind not in ("ec2", "ec2os", "rds", "elasticache", "dynamodb") or (res, t) not in rebuilt:
            continue
        expected = {k: v for k, v in live.usage.items() if k != "table_count" and v}
        assert dict(rebuilt[(res, t)].usage) == expected, (res, t)
        compared += 1
    assert compared >= 5 * 4 * 3  # kinds x (accounts + org, where present) x hours

    after = {(i.aws_resource, i.time): i for i in store.query(since=ctx.first_hour)}
    for key, live in before.items():
        assert after[key] == live  # collected hours never overwritten
    new = {k: v for k, v in after.items() if k not in before}
    assert new and all(v.attrs.get("source") == "billing" for v in new.values())
    assert {t.hour for _, t in new if t.hour >= COLLECTED_HOURS} == set(range(COLLECTED_HOURS, BILLED_HOURS))
    assert result.written == len(new) and result.skipped_collected > 0
    # idempotent: a second backfill writes the same billing items again, nothing more
    again = backfill_from_billing(cur, store, org_name=org)
    assert again.written == result.written and len(list(store.query(since=ctx.first_hour))) == len(after)
    store.close()


def test_sandbox_bill_marks_multi_az_usage(collected: tuple[Any, Path]) -> None:
    from awscost.billing import load
    from awscost.usage.backfill import PRODUCTS, QUERY, USAGE_LINE_TYPES

    ctx, cur = collected
    with load([cur]) as bill:
        frame = bill.sql(
            QUERY.format(
                products=", ".join(f"'{p}'" for p in PRODUCTS),
                line_types=", ".join(f"'{t}'" for t in USAGE_LINE_TYPES),
                window="",
            )
        ).to_pandas()
    keys = {k for i in rebuild_items(frame.to_dict("records"), "o") if i.kind == "rds" for k in i.usage}
    multi = {
        f"multi_az-{u.type}:{u.engine}"
        for u in ctx.scenario.fleet_at(ctx.first_hour)
        if u.kind == "rds" and u.multi_az
    }
    assert multi and multi <= keys


def test_backfilled_history_plans(collected: tuple[Any, Path]) -> None:
    from awscost.planning.plan import plan_from_store
    from awscost.planning.pricing.book import snapshot_book

    ctx, _cur = collected
    store = open_store(ctx.store_url)
    plan = plan_from_store(
        store,
        org_name=ctx.settings.org_name,
        book=snapshot_book(),
        until=ctx.scenario.hours(BILLED_HOURS)[-1],
        lookback_days=1,
        min_hours=BILLED_HOURS,
    )
    store.close()
    m5 = next(r for r in plan.rows if r.kind == "ec2os" and r.region == "us-east-1" and r.key == "linux-m5.*")
    # the 24-hour window ending at the last billed hour: backfilled before, collected, backfilled after
    assert m5.hours == 24 and m5.missing == 0
    assert isinstance(m5.recommended, float)


def test_items_are_usage_items() -> None:
    assert all(isinstance(i, UsageItem) for i in rebuild_items([row(usage_type="BoxUsage:t3.large")], "o"))


def test_hours_where_a_series_ran_nothing_are_zero_not_missing() -> None:
    # Account 222 runs c5.large only in hour 1; the bill covers hours 0-2 (account 111 runs all three).
    rows = [
        row(
            account="111111111111",
            usage_type="BoxUsage:m5.large",
            os="Linux",
            az="us-west-2a",
            hour=datetime(2026, 11, 2, h),
        )
        for h in range(3)
    ] + [
        row(
            account="222222222222",
            usage_type="BoxUsage:c5.large",
            os="Linux",
            az="us-west-2a",
            hour=datetime(2026, 11, 2, 1),
        )
    ]
    items = {(i.aws_resource, i.time.hour): dict(i.usage) for i in rebuild_items(rows, "acme")}
    assert items[("ec2os:222222222222:us-west-2", 0)] == {}
    assert items[("ec2os:222222222222:us-west-2", 1)] == {"linux-c5.large": 1}
    assert items[("ec2os:222222222222:us-west-2", 2)] == {}
    assert items[("ec2os:acme:us-west-2", 1)] == {"linux-c5.large": 1, "linux-m5.large": 1}
    assert len([k for k in items if k[0] == "ec2:222222222222:us-west-2"]) == 3
