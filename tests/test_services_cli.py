"""`awscost services allocate` and `awscost containers samples` through the real CLI entry point."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from awscost.entrypoints.cli import main
from awscost.store import open_store
from conftest import refdata

DATA = Path(__file__).parent / "data" / "containers"


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def _entry(ctx: click.Context) -> None:
    """Runs `awscost.entrypoints.cli.main` (the wrapper that turns user errors into one line and an exit code)."""
    main(list(ctx.args))


def run(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(_entry, args, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


# One t3.medium host's docker stats, priced on demand.
ONE_HOST = [
    "services",
    "allocate",
    str(DATA / "docker_stats.log"),
    "--host-id",
    "i-1",
    "--instance-type",
    "t3.medium",
    "--region",
    "us-east-1",
    "--account",
    "222233334444",
    "--price",
    "t3.medium=0.0416",
]


def test_allocate_json_and_stored(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'a.db'}"
    code, out, err = run(
        [
            *ONE_HOST,
            "--format",
            "json",
            "--store",
            store,
            "--granularity",
            "hour",
        ]
    )
    assert code == 0, err
    rows = json.loads(out)
    assert [r["service"] for r in rows] == ["__idle__", "worker-1", "web-1"]
    assert sum(Decimal(r["total_cost"]) for r in rows) == Decimal("0.00138667")
    assert rows[0]["period"] == "2026-11-26T10:00:00Z"
    assert "3 malformed input line(s) skipped" in err and "docker_stats.log:4: not JSON" in err
    items = list(open_store(store).query(kind="svc-cost"))
    assert len(items) == 1 and sum(items[0].usage.values()) == 1387


def test_overrides_from_the_map_table(tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path / 'b.db'}"
    s = open_store(store_url)
    s.put_map("container:web-1", {"service": "storefront"})
    s.close()
    code, out, err = run(
        [
            "services",
            "allocate",
            str(DATA / "docker_stats.log"),
            "--host-id",
            "i-1",
            "--instance-type",
            "t3.medium",
            "--region",
            "us-east-1",
            "--price",
            "t3.medium=0.0416",
            "--format",
            "csv",
            "--store",
            store_url,
            "--no-save",
        ]
    )
    assert code == 0, err
    assert out.splitlines()[0] == "service,period,cpu_cost,memory_cost,total_cost,share_of_host"
    assert any(line.startswith("storefront,2026-11-26,") for line in out.splitlines())


def test_unpriced_host_exits_non_zero_with_one_line(tmp_path: Path) -> None:
    code, _out, err = run(
        [
            "services",
            "allocate",
            str(DATA / "docker_stats.log"),
            "--host-id",
            "i-1",
            "--instance-type",
            "x9.huge",
            "--region",
            "us-east-1",
            "--store",
            f"sqlite:///{tmp_path / 'c.db'}",
        ]
    )
    assert code == 2
    assert "host i-1 (x9.huge, us-east-1) unpriced for 1 hour(s)" in err
    assert "awscost: error:" in err and "Traceback" not in err


def test_fargate_and_refdata_directory(tmp_path: Path) -> None:
    offer = refdata("opencost/ecs-pricing-us-east-1.json")
    code, out, err = run(
        [
            "services",
            "allocate",
            str(DATA / "insights_fargate.jsonl"),
            "--fargate-prices",
            str(offer),
            "--price",
            "m5.large=0.096",
            "--instance-type",
            "m5.large",
            "--region",
            "us-east-1",
            "--by",
            "cluster",
            "--format",
            "json",
            "--store",
            f"sqlite:///{tmp_path / 'd.db'}",
            "--step",
            "3600",
        ]
    )
    assert code == 0, err
    rows = {r["cluster"]: r for r in json.loads(out)}
    assert {"prod", "CWAgent", "__idle__"} <= set(rows)
    assert "CpuUtilized='lots'" in err


@pytest.mark.parametrize("bad", [["--step", "0"], ["--price", "m5.large"], ["--cpu-weight", "x"]])
def test_bad_options_are_user_errors(bad: list[str], tmp_path: Path) -> None:
    code, _, err = run(
        [
            "services",
            "allocate",
            str(DATA / "docker_stats.log"),
            "--host-id",
            "i-1",
            "--no-save",
            "--store",
            f"sqlite:///{tmp_path / 'e.db'}",
            *bad,
        ]
    )
    assert code == 2 and "awscost: error:" in err


def test_containers_samples_table(tmp_path: Path) -> None:
    code, out, err = run(
        [
            "containers",
            "samples",
            str(refdata("otel-awsecscontainermetrics")),
            "--format",
            "jsonl",
            "--store",
            f"sqlite:///{tmp_path / 'f.db'}",
        ]
    )
    assert code == 0, err
    rows = [json.loads(x) for x in out.splitlines()]
    assert sorted(r["service"] for r in rows) == [
        "daemon-app-monitor",
        "three-nginx",
        "three-nginx",
        "three-nginx",
        "web-frontend-service",
    ]


def test_service_label_from_the_config_file(tmp_path: Path) -> None:
    cfg = tmp_path / "awscost.toml"
    cfg.write_text(
        '[awscost]\nstore = "sqlite:///%s"\n\n[containers]\nservice_label = "team.service"\n'
        % (tmp_path / "g.db")
    )
    code, out, err = run(
        [
            "services",
            "allocate",
            str(DATA / "agent_labels.jsonl"),
            "--config",
            str(cfg),
            "--price",
            "m5.large=0.096",
            "--format",
            "json",
            "--no-save",
        ]
    )
    assert code == 0, err
    assert {r["service"] for r in json.loads(out)} == {"payments", "redis", "__idle__"}
    code, out, err = run(
        [
            "services",
            "allocate",
            str(DATA / "agent_labels.jsonl"),
            "--price",
            "m5.large=0.096",
            "--format",
            "json",
            "--no-save",
            "--store",
            f"sqlite:///{tmp_path / 'h.db'}",
        ]
    )
    assert {r["service"] for r in json.loads(out)} == {"api", "redis", "__idle__"}  # compose label by default


def test_samples_without_a_host_are_reported(tmp_path: Path) -> None:
    code, _out, err = run(
        [
            "services",
            "allocate",
            str(refdata("otel-awsecscontainermetrics")),
            "--price",
            "m5.large=0.096",
            "--store",
            f"sqlite:///{tmp_path / 'i.db'}",
        ]
    )
    assert code == 2
    assert "5 sample(s) name no host and were not allocated (give --host-id" in err
    assert "no host could be priced" in err


def test_prices_from_the_pricing_module_when_not_given(tmp_path: Path) -> None:
    import awscost.planning.pricing as pricing

    assert pricing.on_demand_hourly("AmazonEC2", "t3.medium", "us-east-1") == Decimal("0.0416")
    code, out, err = run(
        [
            "services",
            "allocate",
            str(DATA / "docker_stats.log"),
            "--host-id",
            "i-1",
            "--instance-type",
            "t3.medium",
            "--region",
            "us-east-1",
            "--format",
            "json",
            "--no-save",
            "--store",
            f"sqlite:///{tmp_path / 'j.db'}",
        ]
    )
    assert code == 0, err
    assert sum(Decimal(r["total_cost"]) for r in json.loads(out)) == Decimal("0.00138667")
    assert "host-hours priced: 1 on-demand (on-demand: awscost.planning.pricing" in err
    # Fargate tasks without --fargate-prices: the pricing module's Fargate rates for the task's region.
    code, out, err = run(
        [
            "services",
            "allocate",
            str(DATA / "insights_fargate.jsonl"),
            "--format",
            "json",
            "--no-save",
            "--store",
            f"sqlite:///{tmp_path / 'j.db'}",
            "--step",
            "3600",
        ]
    )
    assert code == 0, err
    assert "1 fargate" in err and "unpriced" in err  # the EC2 host there has no type: listed, not zero


def test_results_stored_per_hour_and_runs_add_up(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'k.db'}"
    later = tmp_path / "later.jsonl"
    later.write_text((DATA / "agent_labels.jsonl").read_text().replace("T10:00:01", "T11:00:01"))
    for path in (DATA / "agent_labels.jsonl", later):
        code, _out, err = run(
            [
                "services",
                "allocate",
                str(path),
                "--price",
                "m5.large=0.096",
                "--store",
                store,
                "--format",
                "csv",
            ]
        )
        assert code == 0, err
    items = list(open_store(store).query(kind="svc-cost"))
    assert [i.time_key for i in items] == ["2026-11-26T10:00:00Z", "2026-11-26T11:00:00Z"]
    # One 1-minute round in each hour: 0.096 / 60 = 0.0016 USD = 1600 micro-USD per item.
    assert [sum(i.usage.values()) for i in items] == [1600, 1600]


def test_dataset_prices_hosts_from_the_bill(tmp_path: Path) -> None:
    from awscost.billing import load_into
    from awscost_sandbox.bill import write_bill
    from awscost_sandbox.containers import write_logs
    from awscost_sandbox.scenario import default_scenario

    scenario = default_scenario()
    hours = scenario.hours(2)
    load_into([write_bill(scenario, hours, tmp_path / "bill", formats=("cur",))["cur"]], tmp_path / "billing")
    logs = write_logs(scenario, hours, tmp_path / "logs")
    code, out, err = run(
        [
            "services",
            "allocate",
            *map(str, logs),
            "--dataset",
            str(tmp_path / "billing"),
            "--by",
            "account",
            "--format",
            "json",
            "--store",
            f"sqlite:///{tmp_path / 'l.db'}",
        ]
    )
    assert code == 0, err
    assert "host-hours priced:" in err and " billing" in err and "on-demand" not in err
    rows = json.loads(out)
    assert {r["account"] for r in rows} == {"222233334444", "333344445555", "__idle__"}
    assert all(Decimal(r["total_cost"]) > 0 for r in rows)


ALLOCATE = [*ONE_HOST, "--no-overrides", "--format", "csv"]


def test_costs_that_cannot_be_stored_are_still_shown_before_the_error(aws: str) -> None:
    # The DynamoDB store's table does not exist: the costs are right, only storing them fails (exit 3).
    code, out, err = run([*ALLOCATE, "--store", "dynamodb://NoSuchTable?region=us-east-1"])
    assert code == 3, err
    assert out.splitlines()[0] == "service,period,cpu_cost,memory_cost,total_cost,share_of_host"
    assert any(line.startswith("__idle__,") for line in out.splitlines())
    assert "awscost: error:" in err and "Traceback" not in err


def test_no_overrides_reads_no_store_even_a_broken_one(tmp_path: Path) -> None:
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not a database")
    for args in (
        [*ALLOCATE[:-2], "--no-save"],
        ["containers", "samples", str(DATA / "docker_stats.log"), "--host-id", "i-1", "--no-overrides"],
    ):
        code, _, err = run([*args, "--store", f"sqlite:///{broken}"])
        assert code == 0, (args, err)


def test_weights_that_are_not_numbers_are_one_line_errors(tmp_path: Path) -> None:
    for weight in ("NaN", "Infinity", "lots"):
        code, _, err = run([*ALLOCATE, "--cpu-weight", weight, "--store", f"sqlite:///{tmp_path / 'a.db'}"])
        assert code == 2 and err.startswith(
            f"awscost: error: --cpu-weight: '{weight}' is not a decimal number"
        ), err


def test_conflicting_inputs_are_listed_and_their_hours_held_out(tmp_path: Path) -> None:
    """Two files disagree on host i-0a1's instance type in the same hour: that hour is not allocated, the
    warning names the host, the hour, both values and both files; the job's result carries the conflict."""
    from awscost.core.config import Settings
    from awscost.jobs.base import Context
    from awscost.jobs.service_costs import Params
    from awscost.jobs.service_costs import run as run_service_costs

    lines = (DATA / "agent_labels.jsonl").read_text()
    large = tmp_path / "large.jsonl"
    large.write_text(lines + lines.replace("T10:00:01", "T11:00:01"))
    xlarge = tmp_path / "xlarge.jsonl"
    xlarge.write_text(lines.replace('"m5.large"', '"m5.xlarge"'))
    prices = ["--price", "m5.large=0.096", "--price", "m5.xlarge=0.192"]
    args = ["services", "allocate", str(xlarge), str(large), *prices, "--no-save", "--format", "json"]
    code, out, err = run([*args, "--granularity", "hour", "--store", f"sqlite:///{tmp_path / 'm.db'}"])
    assert code == 0, err
    assert {r["period"] for r in json.loads(out)} == {"2026-11-26T11:00:00Z"}  # hour 10 held out
    assert "1 host-hour(s) not allocated: their inputs disagree within the hour" in err
    assert (
        f"host i-0a1 2026-11-26T10:00Z: instance_type is 'm5.large' in {large}; 'm5.xlarge' in {xlarge}"
        in err
    )
    settings = Settings(store=f"sqlite:///{tmp_path / 'm.db'}")
    params = Params(inputs=(str(large), str(xlarge)), prices={"m5.large": Decimal("0.096")}, save=False)
    body = run_service_costs(Context(settings), params).to_json()
    assert body["conflicts"] == [
        {
            "host_id": "i-0a1",
            "hour": "2026-11-26T10:00:00Z",
            "container_id": None,
            "attribute": "instance_type",
            "values": {"m5.large": [str(large)], "m5.xlarge": [str(xlarge)]},
        }
    ]


def test_allocate_and_samples_read_s3_locations_as_local_files(aws: str, tmp_path: Path) -> None:
    """An s3:// input is listed, downloaded and read as the local file (containers/s3_inputs.py); the samples
    name their object, and a missing bucket is one line naming it."""
    import boto3

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="awscost-logs")
    s3.upload_file(str(DATA / "docker_stats.log"), "awscost-logs", "containers/i-1/docker_stats.log")
    store = ["--store", f"sqlite:///{tmp_path / 'a.db'}", "--no-save"]
    code, here, err = run([*ALLOCATE, *store])
    assert code == 0, err
    remote = [*ALLOCATE[:2], "s3://awscost-logs/containers/", *ALLOCATE[3:]]
    code, there, err = run([*remote, *store])
    assert code == 0, err
    assert there == here and "__idle__," in there

    args = ["containers", "samples", "--host-id", "i-1", "--no-overrides", "--format", "json", *store[:2]]
    code, out, err = run([*args, "s3://awscost-logs/containers/i-1/docker_stats.log"])
    assert code == 0, err
    files = {r["source_file"] for r in json.loads(out)}
    assert files == {"s3://awscost-logs/containers/i-1/docker_stats.log"}

    code, _, err = run([*remote[:2], "s3://no-such-logs/containers/", *remote[3:], *store])
    assert code == 2 and err == "awscost: error: s3://no-such-logs/containers/: ListBucket: no such bucket\n"
