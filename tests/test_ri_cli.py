"""`awscost ri plan|backtest` and `awscost pricing show|refresh` through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from awscost.entrypoints.cli import cli
from awscost.planning.pricing.book import snapshot_date
from test_ri_plan import END, ORG, fill


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWSCOST_ORG_NAME", ORG)
    monkeypatch.setenv("COLUMNS", "250")  # rich sizes tables to the terminal
    monkeypatch.delenv("AWSCOST_CONFIG", raising=False)
    return fill(tmp_path)


def test_ri_plan_json_rows_carry_the_required_fields(env: str) -> None:
    res = CliRunner().invoke(
        cli,
        [
            "ri",
            "plan",
            "--store",
            env,
            "--until",
            END.isoformat(),
            "--format",
            "json",
            "--payment",
            "partial",
        ],
    )
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    required = {
        "kind",
        "region",
        "key",
        "hours",
        "p95",
        "owned",
        "breakeven",
        "recommended",
        "p95_rule",
        "monthly_savings",
        "price_source",
    }
    assert rows and all(required <= set(r) for r in rows)
    m5 = next(r for r in rows if r["key"] == "linux-m5.*")
    assert m5["recommended"] == 24 and m5["payment"] == "partial" and float(m5["upfront"]) > 0
    assert "snapshot" in res.stderr  # the price source is said


def test_ri_plan_table_and_csv(env: str) -> None:
    table = CliRunner().invoke(cli, ["ri", "plan", "--store", env, "--until", END.isoformat()])
    assert table.exit_code == 0 and "on the table" in table.stdout and "linux-m5.*" in table.stdout
    csv_out = CliRunner().invoke(
        cli, ["ri", "plan", "--store", env, "--until", END.isoformat(), "--format", "csv"]
    )
    header = csv_out.stdout.splitlines()[0].split(",")
    # The columns keep the order they had before plan rows were typed: history first, then the purchase.
    assert header[:12] == [
        "kind",
        "region",
        "key",
        "account",
        "flexible",
        "unit",
        "hours",
        "missing",
        "min",
        "p5",
        "mean",
        "p50",
    ]
    assert header[-5:] == ["break_even_months", "utilization", "owned_utilization", "price_source", "note"]


def test_ri_backtest_and_bad_kind(env: str) -> None:
    res = CliRunner().invoke(
        cli,
        ["ri", "backtest", "--store", env, "--until", END.isoformat(), "--format", "json", "--term", "3y"],
    )
    assert res.exit_code == 0, res.output
    rows = {r["key"]: r for r in json.loads(res.stdout)}
    assert float(rows["linux-m5.*"]["savings_optimal"]) > 0
    bad = CliRunner().invoke(cli, ["ri", "plan", "--store", env, "--kinds", "ec2,bogus"])
    assert bad.exit_code != 0 and "--kinds" in str(bad.exception)


def test_pricing_show_names_sources(env: str) -> None:
    res = CliRunner().invoke(
        cli, ["pricing", "show", "--store", env, "--type", "m5.large", "--format", "json"]
    )
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    # every region the public data prices m5.large in, each price with its source and each rate's origin
    assert {"us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"} <= {r["region"] for r in rows}
    assert all(r["source"] == f"snapshot {snapshot_date()}" for r in rows)
    use1 = next(r for r in rows if r["region"] == "us-east-1" and r["variant"] == "linux")
    assert use1["on_demand"] == "0.096" and "karpenter 2026-07-20: on_demand" in use1["origin"]
    assert "1y/partial" in use1["derived"].split() and "1y/no" not in use1["derived"].split()


def test_pricing_refresh_against_an_unreachable_api_falls_back(aws: str, env: str) -> None:
    # moto has no Price List backend: the emulated endpoint answers 500, as an outage would
    res = CliRunner().invoke(
        cli,
        [
            "pricing",
            "refresh",
            "--store",
            env,
            "--types",
            "m5.large",
            "--services",
            "ec2",
            "--regions",
            "us-east-1",
        ],
    )
    assert res.exit_code != 0
    assert "unreachable" in str(res.exception) and f"snapshot {snapshot_date()}" in str(res.exception)
    # Why each query failed is still said before the error (one line per query, at most five).
    assert res.stderr.startswith("warning: ec2 us-east-1 m5.large: ")


def test_pricing_refresh_with_nothing_to_price_says_so(env: str) -> None:
    # the store ran nothing in ap-south-1, and Fargate is not asked for: no query to make
    from awscost.core.errors import InputError

    res = CliRunner().invoke(
        cli, ["pricing", "refresh", "--store", env, "--services", "ec2,rds", "--regions", "ap-south-1"]
    )
    assert isinstance(res.exception, InputError) and res.exception.exit_code == 2
    assert str(res.exception).startswith("--types: no instance types to price")


def test_ri_compare_sets_stored_ce_recommendations_beside_our_plan(env: str) -> None:
    from decimal import Decimal

    from awscost.planning.explorer import recommendation_items
    from awscost.store import open_store

    rec = {
        "kind": "ec2os",
        "region": "us-east-1",
        "key": "linux-m5.xlarge",
        "count": Decimal(2),
        "lookback_days": 7,
    }
    store = open_store(env)
    store.put_items(recommendation_items([rec], ORG, END.date()))
    store.close()
    res = CliRunner().invoke(
        cli, ["ri", "compare", "--store", env, "--until", END.isoformat(), "--format", "json"]
    )
    assert res.exit_code == 0, res.output
    rows = {r["key"]: r for r in json.loads(res.stdout)}
    m5 = rows["linux-m5.*"]
    assert (m5["ours"], m5["aws"], m5["aws_purchase"]) == (24.0, 16.0, "2 x linux-m5.xlarge")
    assert "lookback: AWS 7 days, ours 30 days" in m5["why"]
    empty = CliRunner().invoke(
        cli, ["ri", "compare", "--store", env, "--ce-lookback", "60", "--until", END.isoformat()]
    )
    assert empty.exit_code == 0 and "ce-fetch" in empty.stderr


def test_min_hours_option_lets_a_young_series_be_planned(env: str) -> None:
    args = ["ri", "plan", "--store", env, "--until", END.isoformat(), "--format", "json"]
    default = {r["key"]: r for r in json.loads(CliRunner().invoke(cli, args).stdout)}
    assert "too little history: 98 h < 168 h" in default["db.m5.*:postgres"]["note"]
    relaxed = {r["key"]: r for r in json.loads(CliRunner().invoke(cli, [*args, "--min-hours", "48"]).stdout)}
    young = relaxed["db.m5.*:postgres"]
    assert young["note"] is None and young["recommended"] == 8  # Multi-AZ db.m5.large: 8 units
    assert young["recommended_units"] == "1 x multi_az-db.m5.large:postgres"


def test_ri_stats_per_account_and_org(env: str) -> None:
    res = CliRunner().invoke(
        cli,
        ["ri", "stats", "--store", env, "--until", END.isoformat(), "--kinds", "ec2os", "--format", "json"],
    )
    assert res.exit_code == 0, res.output
    rows = {(r["account"], r["key"]): r for r in json.loads(res.stdout)}
    acct = rows[("111122223333", "linux-m5.large")]
    assert (acct["min"], acct["p95"], acct["max"]) == (1, 1, 1)
    org = rows[(ORG, "linux-m5.large")]
    assert (org["min"], org["max"], org["p50"]) == (4, 8, 4) and org["missing"] == 15
    assert (ORG, "spot-linux-c5.large") in rows  # statistics keep spot usage; only planning drops it


def test_ce_fetch_says_when_cost_explorer_fails(aws: str, env: str) -> None:
    # moto answers Cost Explorer's coverage call with HTTP 500 (not implemented), like an outage would
    res = CliRunner().invoke(cli, ["ri", "ce-fetch", "--store", env, "--days", "1"])
    assert res.exit_code != 0 and "Cost Explorer call failed" in str(res.exception)
