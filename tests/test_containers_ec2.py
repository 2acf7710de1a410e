"""Instance types of hosts named only by id, from EC2 (moto server over HTTP, real boto3 client)."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import click
from click.testing import CliRunner

from awscost.containers.ec2_hosts import describe_instance_types
from awscost.entrypoints.cli import main

DATA = Path(__file__).parent / "data" / "containers"


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def _entry(ctx: click.Context) -> None:
    main(list(ctx.args))


def _instances(region: str, itype: str, n: int) -> list[str]:
    ec2 = boto3.client("ec2", region_name=region)
    # One of moto's built-in Amazon Linux AMIs (describing them all would take seconds).
    out = ec2.run_instances(ImageId="ami-04681a1dbd79675a5", MinCount=n, MaxCount=n, InstanceType=itype)
    return [i["InstanceId"] for i in out["Instances"]]


def test_describe_instance_types_per_region(aws: str) -> None:
    east = _instances("us-east-1", "m5.large", 2)
    west = _instances("eu-west-1", "c5.xlarge", 1)
    types = describe_instance_types(
        [
            (east[0], "us-east-1"),
            (east[1], None),
            (west[0], "eu-west-1"),
            ("task/prod/abc", "us-east-1"),
            ("i-0000000000000dead", "us-east-1"),
        ],
        default_region="us-east-1",
    )
    assert types == {east[0]: "m5.large", east[1]: "m5.large", west[0]: "c5.xlarge"}  # unknown id: absent


def test_allocate_describes_hosts_named_only_by_id(aws: str, tmp_path: Path) -> None:
    (host,) = _instances("us-east-1", "m5.large", 1)
    events = [json.loads(x) for x in (DATA / "insights_fargate.jsonl").read_text().splitlines()[3:4]]
    events[0]["EC2InstanceId"] = host
    path = tmp_path / "insights.jsonl"
    path.write_text(json.dumps(events[0]) + "\n")
    args = [
        "services",
        "allocate",
        str(path),
        "--region",
        "us-east-1",
        "--price",
        "m5.large=0.096",
        "--no-save",
        "--format",
        "json",
        "--store",
        f"sqlite:///{tmp_path / 'x.db'}",
        "--step",
        "3600",
    ]
    without = CliRunner().invoke(_entry, args)
    assert without.exit_code == 2 and "no instance type/region in the input" in without.stderr
    described = CliRunner().invoke(_entry, [*args, "--describe-hosts"])
    assert described.exit_code == 0, described.stderr
    rows = {r["service"]: r for r in json.loads(described.stdout)}
    assert set(rows) == {"cwagent-demo", "__idle__"}
    # m5.large 2 vCPU / 8 GiB at 0.096: cwagent reserves 128 CPU units (0.125 vCPU) and 256 MiB.
    assert rows["cwagent-demo"]["cpu_cost"] == "0.00415385"  # 0.096 x 18/26 x 0.125/2
    assert rows["cwagent-demo"]["memory_cost"] == "0.00092308"  # 0.096 x 8/26 x 0.25/8
