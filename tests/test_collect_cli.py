"""`awscost collect` end to end: moto server, real sqlite store, the CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

from awscost.core.errors import EXIT_PARTIAL_FAILURE
from awscost.entrypoints.cli import cli, main
from awscost.store import open_store

MEMBER = "111111111111"


@pytest.fixture()
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray ./awscost.toml
    return tmp_path


def test_collect_kinds_accounts_role_regions_at_then_store_has_hand_counts(aws: str, workdir: Path) -> None:
    creds = boto3.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{MEMBER}:role/Reader", RoleSessionName="setup"
    )["Credentials"]
    member_ec2 = boto3.client(
        "ec2",
        region_name="us-west-2",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    member_ec2.run_instances(
        ImageId="ami-04681a1dbd79675a5",
        MinCount=3,
        MaxCount=3,
        InstanceType="t3.large",
        Placement={"AvailabilityZone": "us-west-2b"},
    )
    boto3.client("redshift", region_name="us-west-2").create_cluster(
        ClusterIdentifier="dw",
        NodeType="dc2.large",
        NumberOfNodes=2,
        MasterUsername="admin",
        MasterUserPassword="Passw0rd1",
        ClusterType="multi-node",
    )
    db = workdir / "awscost.db"
    result = CliRunner().invoke(
        cli,
        [
            "collect",
            "--kinds",
            "ec2,ec2os,redshift",
            "--accounts",
            f"123456789012,{MEMBER}",
            "--role-name",
            "Reader",
            "--regions",
            "us-west-2",
            "--at",
            "2026-11-26T10:45:00Z",
            "--store",
            f"sqlite:///{db}",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["time"] == "2026-11-26T10:00:00Z"
    assert summary["units_ok"] == summary["units_total"] == 6 and summary["failures"] == []
    assert summary["items_written"] == 6 + 3
    store = open_store(f"sqlite:///{db}")
    got = {i.aws_resource: dict(i.usage) for i in store.query()}
    store.close()
    assert got == {
        "ec2:123456789012:us-west-2": {},
        f"ec2:{MEMBER}:us-west-2": {"t3.large:us-west-2b": 3},
        "ec2:org:us-west-2": {"t3.large:us-west-2b": 3},
        "ec2os:123456789012:us-west-2": {},
        f"ec2os:{MEMBER}:us-west-2": {"linux-t3.large": 3},
        "ec2os:org:us-west-2": {"linux-t3.large": 3},
        "redshift:123456789012:us-west-2": {"dc2.large": 2},
        f"redshift:{MEMBER}:us-west-2": {},
        "redshift:org:us-west-2": {"dc2.large": 2},
    }


def test_partial_failure_exits_5_and_lists_failures(aws: str, workdir: Path) -> None:
    # An account that is not the caller's and no role name: that account's units fail, the caller's succeed.
    result = CliRunner().invoke(
        cli,
        [
            "collect",
            "--kinds",
            "dynamodb",
            "--accounts",
            f"123456789012,{MEMBER}",
            "--regions",
            "us-east-1",
            "--store",
            f"sqlite:///{workdir / 'a.db'}",
        ],
    )
    assert result.exit_code == EXIT_PARTIAL_FAILURE
    assert "1/2 units ok" in result.output
    assert "Failures" in result.output and MEMBER in result.output and "no role name" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kinds", "lambda"], "--kinds: unknown kind 'lambda'"),
        (["--regions", "mars-1"], "--regions: 'mars-1' is not an AWS region name"),
        (["--regions", "us-mars-1"], "--regions: unknown region 'us-mars-1'"),
        (["--accounts", "12345"], "--accounts: account id '12345' is not 12 digits"),
        (["--at", "yesterday"], "--at: 'yesterday' is not an ISO 8601 time"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    aws: str, workdir: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["collect", "--store", f"sqlite:///{workdir / 'a.db'}", *args])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("awscost: error: ") and message in err and len(err.strip().splitlines()) == 1


def test_help_documents_options_and_exit_codes() -> None:
    result = CliRunner().invoke(cli, ["collect", "--help"])
    assert result.exit_code == 0
    for option in (
        "--kinds",
        "--accounts",
        "--role-name",
        "--external-id",
        "--regions",
        "--at",
        "--store",
        "--config",
        "--format",
    ):
        assert option in result.output
    assert f"{EXIT_PARTIAL_FAILURE} some account/region/kind units failed" in result.output


def test_progress_bar_on_a_terminal_keeps_stdout_clean(
    aws: str, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import awscost.entrypoints.cli._common as command

    monkeypatch.setattr(command, "_interactive", lambda: True)
    calls: list[int] = []
    real_bar = command._progress_bar

    def bar(label: str) -> object:
        calls.append(1)
        return real_bar(label)

    monkeypatch.setattr(command, "_progress_bar", bar)
    result = CliRunner().invoke(
        cli,
        [
            "collect",
            "--kinds",
            "rds",
            "--regions",
            "us-east-1,us-west-2",
            "--format",
            "json",
            "--store",
            f"sqlite:///{workdir / 'a.db'}",
        ],
    )
    assert result.exit_code == 0, result.output
    assert calls == [1]
    assert json.loads(result.stdout)["units_ok"] == 2


def test_table_summary_line(aws: str, workdir: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "collect",
            "--kinds",
            "rds",
            "--regions",
            "us-east-1",
            "--at",
            "2026-11-26T07:00:00Z",
            "--store",
            f"sqlite:///{workdir / 'a.db'}",
        ],
    )
    assert result.exit_code == 0
    # 2 calls: sts:GetCallerIdentity (which account is "self") and one rds:DescribeDBInstances page.
    assert result.output == (
        f"2026-11-26T07:00:00Z: 2 items written to sqlite:///{workdir / 'a.db'}; 1/1 units ok "
        "(1 accounts x 1 regions x 1 kinds); 2 API calls\n"
    )


def _member_session(account: str) -> boto3.Session:
    creds = boto3.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/Reader", RoleSessionName="setup"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name="us-east-1",
    )


def test_collect_then_usage_export_gives_hand_counts_for_every_emulated_kind(aws: str, workdir: Path) -> None:
    """Two member accounts populated through AssumeRole; collect every kind moto emulates; export."""
    a, b = "111111111111", "222222222222"
    sa, sb = _member_session(a), _member_session(b)
    sa.client("ec2").run_instances(
        ImageId="ami-1812c061",
        MinCount=2,
        MaxCount=2,
        InstanceType="m5.xlarge",
        Placement={"AvailabilityZone": "us-east-1c"},
    )
    sb.client("ec2").run_instances(
        ImageId="ami-760aaa0f",
        MinCount=1,
        MaxCount=1,
        InstanceType="m5.xlarge",
        Placement={"AvailabilityZone": "us-east-1c"},
    )
    common = {"AllocatedStorage": 20, "MasterUsername": "admin", "MasterUserPassword": "Passw0rd1"}
    sa.client("rds").create_db_instance(
        DBInstanceIdentifier="db1", Engine="postgres", DBInstanceClass="db.m5.large", MultiAZ=True, **common
    )
    sb.client("rds").create_db_instance(
        DBInstanceIdentifier="db1", Engine="postgres", DBInstanceClass="db.m5.large", MultiAZ=True, **common
    )
    sa.client("dynamodb").create_table(
        TableName="t",
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        ProvisionedThroughput={"ReadCapacityUnits": 25, "WriteCapacityUnits": 5},
    )
    sb.client("elasticache").create_cache_cluster(
        CacheClusterId="mc", Engine="memcached", CacheNodeType="cache.m5.large", NumCacheNodes=2
    )
    sa.client("opensearch").create_domain(
        DomainName="search", ClusterConfig={"InstanceType": "r6g.large.search", "InstanceCount": 3}
    )
    sb.client("redshift").create_cluster(
        ClusterIdentifier="dw",
        NodeType="ra3.xlplus",
        NumberOfNodes=2,
        MasterUsername="admin",
        MasterUserPassword="Passw0rd1",
        ClusterType="multi-node",
    )
    store = f"sqlite:///{workdir / 'awscost.db'}"
    runner = CliRunner()
    collected = runner.invoke(
        cli,
        [
            "collect",
            "--kinds",
            "hourly,es,redshift",
            "--accounts",
            f"{a},{b}",
            "--role-name",
            "Reader",
            "--regions",
            "us-east-1",
            "--at",
            "2026-11-26T10:00:00Z",
            "--store",
            store,
            "--format",
            "json",
        ],
    )
    assert collected.exit_code == 0, collected.output
    exported = runner.invoke(cli, ["usage", "export", "--store", store, "--format", "jsonl"])
    assert exported.exit_code == 0, exported.output
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    assert {line["time"] for line in lines} == {"2026-11-26T10:00:00Z"}
    got = {line["awsResource"]: line["usage"] for line in lines if line["usage"]}
    assert got == {
        f"ec2:{a}:us-east-1": {"m5.xlarge:us-east-1c": 2},
        f"ec2:{b}:us-east-1": {"m5.xlarge:us-east-1c": 1},
        "ec2:org:us-east-1": {"m5.xlarge:us-east-1c": 3},
        f"ec2os:{a}:us-east-1": {"windows-sql-std-m5.xlarge": 2},
        f"ec2os:{b}:us-east-1": {"linux-m5.xlarge": 1},
        "ec2os:org:us-east-1": {"windows-sql-std-m5.xlarge": 2, "linux-m5.xlarge": 1},
        f"rds:{a}:us-east-1": {"multi_az-db.m5.large:postgres": 1},
        f"rds:{b}:us-east-1": {"multi_az-db.m5.large:postgres": 1},
        "rds:org:us-east-1": {"multi_az-db.m5.large:postgres": 2},
        f"dynamodb:{a}:us-east-1": {"read_capacity": 25, "write_capacity": 5, "table_count": 1},
        "dynamodb:org:us-east-1": {"read_capacity": 25, "write_capacity": 5, "table_count": 1},
        f"elasticache:{b}:us-east-1": {"cache.m5.large": 2},
        "elasticache:org:us-east-1": {"cache.m5.large": 2},
        f"es:{a}:us-east-1": {"r6g.large.search": 3},
        "es:org:us-east-1": {"r6g.large.search": 3},
        f"redshift:{b}:us-east-1": {"ra3.xlplus": 2},
        "redshift:org:us-east-1": {"ra3.xlplus": 2},
    }
    # Every account x kind was written, the empty ones too (an empty sample is not a missing hour).
    assert len(lines) == 7 * 3


def test_no_credentials_is_one_line_exit_4(
    aws: str, workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata lookup on a dev machine
    with pytest.raises(SystemExit) as exited:
        main(["collect", "--regions", "us-east-1", "--store", f"sqlite:///{workdir / 'a.db'}"])
    assert exited.value.code == 4
    err = capsys.readouterr().err.strip()
    assert err == "awscost: error: credentials: sts:GetCallerIdentity failed: Unable to locate credentials"
