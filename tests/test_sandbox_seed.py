"""Seeding: the Organization under the scenario's ids, and moto's resources reconciled hour by hour."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest

from awscost.core.timeutil import HOUR
from awscost_sandbox.scenario import Scenario
from awscost_sandbox.seed import ROLE_NAME, apply_fleet, moto_instance_ids, seed_organization
from awscost_sandbox.serve import run_sandbox
from awscost_sandbox.server import SandboxServer

PROD = "222233334444"


@pytest.fixture(scope="module")
def seeded() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        seed_organization(server)
        yield server


def test_organization_has_the_scenario_accounts(seeded: SandboxServer) -> None:
    sc = seeded.scenario
    org = seeded.client("organizations")
    accounts = org.list_accounts()["Accounts"]
    assert sorted(a["Id"] for a in accounts) == sorted(sc.account_ids)
    assert org.describe_organization()["Organization"]["MasterAccountId"] == sc.management.id
    # The keys in server.env() are the management account's own.
    assert seeded.client("sts").get_caller_identity()["Account"] == sc.management.id
    member = next(a for a in sc.accounts if not a.management)
    sts = seeded.client("sts", account=member.id)
    assert sts.get_caller_identity()["Account"] == member.id
    assert seeded.env()["AWS_ACCESS_KEY_ID"] == seeded.access_key != "sandbox"
    assert ROLE_NAME == "OrganizationAccountAccessRole"


def _moto_counts(server: SandboxServer, sc: Scenario, account: str, region: str) -> dict[str, int]:
    ec2 = server.client("ec2", region, account)
    running = [
        i
        for r in ec2.describe_instances(Filters=[{"Name": "instance-state-name", "Values": ["running"]}])[
            "Reservations"
        ]
        for i in r["Instances"]
    ]
    rds = server.client("rds", region, account).describe_db_instances()["DBInstances"]
    caches = server.client("elasticache", region, account).describe_cache_clusters()["CacheClusters"]
    clusters = server.client("redshift", region, account).describe_clusters()["Clusters"]
    tables = server.client("dynamodb", region, account).list_tables()["TableNames"]
    return {
        "ec2": len(running),
        "rds": len(rds),
        "elasticache": sum(c["NumCacheNodes"] for c in caches),
        "redshift": sum(c["NumberOfNodes"] for c in clusters if c["ClusterStatus"] != "paused"),
        "dynamodb": len(tables),
    }


def _scenario_counts(sc: Scenario, account: str, region: str, hour) -> dict[str, int]:  # type: ignore[no-untyped-def]
    out = dict.fromkeys(("ec2", "rds", "elasticache", "redshift", "dynamodb"), 0)
    for u in sc.fleet_at(hour):
        if (u.account, u.region) == (account, region) and u.kind in out:
            out[u.kind] += u.count
    return out


def test_apply_fleet_reconciles_with_few_calls(seeded: SandboxServer) -> None:
    sc = seeded.scenario
    first = apply_fleet(seeded, sc, sc.start)
    assert first.launched == sum(u.count for u in sc.fleet_at(sc.start) if u.kind == "ec2")
    assert apply_fleet(seeded, sc, sc.start).calls == 0  # nothing changed, nothing called
    # Jump to Monday afternoon in the US: autoscaling, windows of projects, a resumed Redshift cluster.
    later = sc.start + 20 * HOUR
    step = apply_fleet(seeded, sc, later)
    assert step.launched and step.calls < first.calls
    assert seeded.clock == later
    for account, region in [("222233334444", "us-east-1"), ("444455556666", "us-west-2")]:
        assert _moto_counts(seeded, sc, account, region) == _scenario_counts(sc, account, region, later)
    # Each scenario instance maps to a running moto instance of its type.
    prod_east = [u for u in sc.fleet_at(later) if (u.kind, u.account, u.region) == ("ec2", PROD, "us-east-1")]
    ids = moto_instance_ids(seeded, PROD, "us-east-1")
    ec2 = seeded.client("ec2", "us-east-1", PROD)
    found = {
        i["InstanceId"]: i["InstanceType"]
        for r in ec2.describe_instances(InstanceIds=[ids[x] for u in prod_east for x in u.ids])[
            "Reservations"
        ]
        for i in r["Instances"]
    }
    assert all(found[ids[x]] == u.type for u in prod_east for x in u.ids)
    # The ad-hoc Redshift cluster is paused at night and running in the working day.
    night = sc.start + timedelta(days=1, hours=10)  # 02:00 in us-west-2
    assert sc.paused_at(night)
    apply_fleet(seeded, sc, night)
    adhoc = seeded.client("redshift", "us-west-2", "444455556666").describe_clusters(
        ClusterIdentifier="adhoc"
    )
    assert adhoc["Clusters"][0]["ClusterStatus"] == "paused"
    assert _moto_counts(seeded, sc, "444455556666", "us-west-2") == _scenario_counts(
        sc, "444455556666", "us-west-2", night
    )


def _control(server: SandboxServer, method: str, body: dict[str, str] | None = None, path: str = "hour"):  # type: ignore[no-untyped-def]
    import json
    import urllib.error
    import urllib.request

    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{server.endpoint}/awscost-sandbox/{path}", data=data, method=method)
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_control_api_moves_the_clock_and_the_fleet(seeded: SandboxServer) -> None:
    sc = seeded.scenario
    target = sc.start + 3 * HOUR
    status, answer = _control(seeded, "POST", {"hour": "2026-11-02T03:30:00Z"})
    assert status == 200 and answer["hour"] == "2026-11-02T03:00:00Z" and answer["calls"] > 0
    assert seeded.clock == target
    assert _control(seeded, "GET") == (200, {"hour": "2026-11-02T03:00:00Z"})
    assert _moto_counts(seeded, sc, PROD, "us-east-1") == _scenario_counts(sc, PROD, "us-east-1", target)
    status, answer = _control(seeded, "POST", {"hour": "yesterday"})
    assert status == 400 and "ISO 8601" in answer["error"]
    assert _control(seeded, "GET", path="nothing")[0] == 404


# The tests below start servers of their own. moto keeps ONE state per process and a server start resets it,
# so every test using the module's `seeded` server must come before them.


def test_run_sandbox_prints_what_to_export() -> None:
    stop = threading.Event()
    shown: list[str] = []

    def ready(lines: list[str]) -> None:
        shown.extend(lines)
        stop.set()

    run_sandbox(port=0, ready=ready, stop=stop)
    text = "\n".join(shown)
    assert "export AWS_ENDPOINT_URL=http://127.0.0.1:" in text
    assert "export AWS_ACCESS_KEY_ID=" in text and "111122223333 management (management)" in text
    assert "awscost collect --kinds all" in text and "fleet: dynamodb 5" in text


def test_reset_forgets_the_fleet_and_the_keys() -> None:
    with SandboxServer() as server:
        seed_organization(server)
        sc = server.scenario
        member = next(a.id for a in sc.accounts if not a.management)
        ddb = server.client("dynamodb", "eu-west-1", member)
        ddb.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        server.reset()
        assert server.env()["AWS_ACCESS_KEY_ID"] == "sandbox"
        assert server.client("dynamodb", "eu-west-1", member).list_tables()["TableNames"] == []
        seed_organization(server)  # seeding again after a reset starts from nothing
        assert server.client("sts").get_caller_identity()["Account"] == sc.management.id


def test_a_busy_port_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    from awscost.entrypoints.cli import main

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(SystemExit) as exit_info:
            main(["sandbox", "--port", str(port)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("awscost: error: --port: cannot listen on 127.0.0.1:") and "\n" not in err
