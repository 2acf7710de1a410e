"""The collector under faults: the real `awscost collect` over the sandbox, through a fault-injecting proxy
(tests/fault_proxy.py) that answers chosen calls (by account, region, service, action) with throttling, 429,
5xx, AccessDenied, a reset or no answer at all; a service pointed at a closed port for connection refused.
Each test asserts the exit code, the failed units and what is stored: the account items of every unit that
did not fail, identical to a clean run, and org totals that are the sum of the stored account items with
`missing_accounts` naming the rest. Timeouts, attempts and the deadline are short so the suite stays fast."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from awscost.core.errors import EXIT_PARTIAL_FAILURE
from awscost.entrypoints.cli import cli
from awscost.store import open_store
from awscost.store.base import UsageItem
from fault_proxy import FaultProxy, Rule, closed_port

ROLE = "OrganizationAccountAccessRole"
KINDS = "ec2,es,dynamodb,rds"
AT = "2026-11-02T00:00:00Z"


@dataclass
class Sandbox:
    env: dict[str, str]  # boto3's environment, the endpoint being the proxy
    direct: dict[str, str]  # the same, straight to the sandbox
    proxy: FaultProxy
    accounts: list[str]
    regions: list[str]
    org: str
    baseline: dict[str, UsageItem]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    from awscost_sandbox.seed import apply_fleet, seed_organization
    from awscost_sandbox.server import SandboxServer

    with SandboxServer() as server:
        seed_organization(server)
        sc = server.scenario
        server.clock = sc.start
        apply_fleet(server, sc, sc.start)
        proxy = FaultProxy(server.endpoint, server.access_key, sc.management.id).start()
        direct = {
            **server.env(),
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWSCOST_ORG_NAME": sc.org_name,
        }
        box = Sandbox(
            {**direct, "AWS_ENDPOINT_URL": proxy.endpoint},
            direct,
            proxy,
            list(sc.account_ids),
            list(sc.regions),
            sc.org_name,
            {},
        )
        with pytest.MonkeyPatch.context() as mp:
            for var in list(os.environ):
                if var.startswith(("AWS_", "AWSCOST_")):
                    mp.delenv(var)
            for k, v in box.env.items():
                mp.setenv(k, v)
            mp.chdir(tmp_path_factory.mktemp("faults"))
            code, _ = collect(box, tmp_path_factory.mktemp("baseline") / "base.db")
            assert code == 0
            box.baseline = stored(tmp_path_factory.getbasetemp() / "baseline0" / "base.db")
            try:
                yield box
            finally:
                proxy.stop()


def collect(
    box: Sandbox, db: Path, *extra: str, accounts: str | None = None, env: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    args = [
        "collect",
        "--kinds",
        KINDS,
        "--accounts",
        accounts or ",".join(box.accounts),
        "--role-name",
        ROLE,
        "--regions",
        ",".join(box.regions),
        "--at",
        AT,
        "--store",
        f"sqlite:///{db}",
        "--format",
        "json",
        *extra,
    ]
    result = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout)


def stored(db: Path) -> dict[str, UsageItem]:
    with open_store(f"sqlite:///{db}") as store:
        return {i.aws_resource: i for i in store.query()}


def failed_units(out: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(f["account"], f["region"], f["kind"]) for f in out["failures"]}


def assert_consistent(box: Sandbox, items: dict[str, UsageItem], failed: set[tuple[str, str, str]]) -> None:
    """Every unit that did not fail is stored as in the clean run; every org total is the sum of the stored
    account items, naming the accounts without one."""
    for resource, want in box.baseline.items():
        kind, account, region = resource.split(":")
        if account == box.org:
            continue
        if (account, region, kind) in failed:
            assert resource not in items
        else:
            assert dict(items[resource].usage) == dict(want.usage), resource
    for resource, total in items.items():
        kind, account, region = resource.split(":")
        if account != box.org:
            continue
        members = [items.get(f"{kind}:{a}:{region}") for a in box.accounts]
        expected: dict[str, int] = {}
        for m in members:
            for k, v in (m.usage if m else {}).items():
                expected[k] = expected.get(k, 0) + int(v)
        assert dict(total.usage) == expected, resource
        assert total.attrs["missing_accounts"] == sorted(
            a for a, m in zip(box.accounts, members, strict=True) if m is None
        )


def test_transient_throttling_and_5xx_are_retried_to_the_clean_result(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.proxy.set_rules(
        Rule("throttle", service="ec2", region="us-west-2", times=3),
        Rule("429", service="dynamodb", times=2),
        Rule("503", service="es", account=sandbox.accounts[1], times=2),
    )
    code, out = collect(sandbox, tmp_path / "x.db")
    assert len(sandbox.proxy.log) == 7  # every fault was served, and retried past
    assert code == 0 and out["failures"] == []
    assert {r: dict(i.usage) for r, i in stored(tmp_path / "x.db").items()} == {
        r: dict(i.usage) for r, i in sandbox.baseline.items()
    }


@pytest.mark.parametrize(
    ("fault", "rule", "reason"),
    [
        ("throttle", {"service": "ec2", "region": "eu-west-1"}, "RequestLimitExceeded"),
        ("429", {"service": "dynamodb", "account": "333344445555"}, "TooManyRequestsException"),
        ("503", {"service": "es", "region": "us-west-2", "account": "222233334444"}, "ServiceUnavailable"),
        (
            "denied",
            {"service": "rds", "account": "222233334444", "action": "DescribeDBInstances"},
            "AccessDenied",
        ),
        ("reset", {"service": "es", "region": "us-east-1"}, "Connection was closed"),
    ],
)
def test_persistent_fault_fails_only_its_units(
    sandbox: Sandbox, tmp_path: Path, fault: str, rule: dict[str, str], reason: str
) -> None:
    sandbox.proxy.set_rules(Rule(fault, **rule))
    code, out = collect(sandbox, tmp_path / "x.db", env={"AWS_MAX_ATTEMPTS": "2"})
    assert code == EXIT_PARTIAL_FAILURE
    failed = failed_units(out)
    service_kind = {"ec2": "ec2", "dynamodb": "dynamodb", "es": "es", "rds": "rds"}[rule["service"]]
    want = {
        (a, r, service_kind)
        for a in sandbox.accounts
        for r in sandbox.regions
        if rule.get("account", a) == a and rule.get("region", r) == r
    }
    assert failed == want
    assert all(reason in f["reason"] for f in out["failures"]), out["failures"]
    items = stored(tmp_path / "x.db")
    assert_consistent(sandbox, items, failed)
    # The org total of a faulted kind x region names the accounts it lacks; where all failed there is none.
    for account, region, kind in failed:
        total = items.get(f"{kind}:{sandbox.org}:{region}")
        if all((a, region, kind) in failed for a in sandbox.accounts):
            assert total is None
        else:
            assert total is not None and account in total.attrs["missing_accounts"]


def test_assume_role_denied_in_one_account(sandbox: Sandbox, tmp_path: Path) -> None:
    management, member = sandbox.accounts[0], sandbox.accounts[2]
    sandbox.proxy.set_rules(Rule("denied", service="sts", action="AssumeRole"))
    code, out = collect(sandbox, tmp_path / "x.db", accounts=f"{management},{member}")
    assert code == EXIT_PARTIAL_FAILURE
    assert {f[0] for f in failed_units(out)} == {member}
    assert out["units_ok"] == out["units_total"] // 2
    assert all("sts:AssumeRole" in f["reason"] and "AccessDenied" in f["reason"] for f in out["failures"])
    total = stored(tmp_path / "x.db")[f"ec2:{sandbox.org}:us-east-1"]
    assert total.attrs["accounts"] == [management] and total.attrs["missing_accounts"] == [member]


def test_connection_refused_for_one_service(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.proxy.set_rules()
    started = time.monotonic()
    code, out = collect(
        sandbox,
        tmp_path / "x.db",
        env={"AWS_ENDPOINT_URL_OPENSEARCH": f"http://127.0.0.1:{closed_port()}", "AWS_MAX_ATTEMPTS": "2"},
    )
    assert code == EXIT_PARTIAL_FAILURE
    failed = failed_units(out)
    assert failed == {(a, r, "es") for a in sandbox.accounts for r in sandbox.regions}
    assert all("endpoint unreachable" in f["reason"] for f in out["failures"])
    assert_consistent(sandbox, stored(tmp_path / "x.db"), failed)
    assert time.monotonic() - started < 30


def test_black_holed_endpoint_times_out_per_attempt(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.proxy.set_rules(Rule("blackhole", service="es", region="eu-west-1"))
    started = time.monotonic()
    # 2 s, not less: on a loaded 2-core machine a sound call through the proxy can take a second, and a
    # shorter timeout then fails units that are not black-holed.
    code, out = collect(
        sandbox, tmp_path / "x.db", env={"AWSCOST_READ_TIMEOUT": "2", "AWS_MAX_ATTEMPTS": "2"}
    )
    elapsed = time.monotonic() - started
    assert code == EXIT_PARTIAL_FAILURE
    failed = failed_units(out)
    assert failed == {(a, "eu-west-1", "es") for a in sandbox.accounts}
    assert all("Read timeout" in f["reason"] for f in out["failures"]), out["failures"]
    assert_consistent(sandbox, stored(tmp_path / "x.db"), failed)
    assert elapsed < 30  # 2 attempts x 2 s and a backoff, not botocore's 60 s x 9


def test_deadline_reports_unfinished_units_and_writes_what_finished(sandbox: Sandbox, tmp_path: Path) -> None:
    # The read timeout is the default (30 s): only the deadline ends the wait.
    sandbox.proxy.set_rules(Rule("blackhole", service="es", region="us-west-2", account="222233334444"))
    # The deadline leaves the other units ample time on a loaded machine (at 2 s, a fresh CI machine once
    # ran out of it for five healthy units too): only the black-holed unit must be cut off by it.
    started = time.monotonic()
    code, out = collect(sandbox, tmp_path / "x.db", env={"AWSCOST_DEADLINE": "8"})
    elapsed = time.monotonic() - started
    assert code == EXIT_PARTIAL_FAILURE
    assert elapsed < 25  # the deadline, not the 30 s read timeout, ended the wait
    assert out["failures"] == [
        {
            "account": "222233334444",
            "region": "us-west-2",
            "kind": "es",
            "reason": "deadline: not finished within the run's deadline of 8 s",
        }
    ]
    items = stored(tmp_path / "x.db")
    assert_consistent(sandbox, items, failed_units(out))
    assert items[f"es:{sandbox.org}:us-west-2"].attrs["missing_accounts"] == ["222233334444"]


def test_rerun_of_a_complete_hour_with_one_account_failing_keeps_the_complete_total(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """Probe C15: the org total stays the sum of the stored account items, the earlier run's included."""
    db = tmp_path / "x.db"
    sandbox.proxy.set_rules()
    assert collect(sandbox, db)[0] == 0
    complete = stored(db)
    sandbox.proxy.set_rules(Rule("denied", service="ec2", account="222233334444"))
    code, out = collect(sandbox, db, env={"AWS_MAX_ATTEMPTS": "2"})
    assert code == EXIT_PARTIAL_FAILURE
    assert {(f[0], f[2]) for f in failed_units(out)} == {("222233334444", "ec2")}
    again = stored(db)
    for region in sandbox.regions:
        resource = f"ec2:{sandbox.org}:{region}"
        assert dict(again[resource].usage) == dict(complete[resource].usage)
        assert again[resource].attrs["missing_accounts"] == []
        assert "222233334444" in again[resource].attrs["accounts"]


def test_a_repeated_account_id_counts_once(sandbox: Sandbox, tmp_path: Path) -> None:
    """Probe C16: `--accounts A,B,B` collects B once; its org total is A + B."""
    sandbox.proxy.set_rules()
    a, b = sandbox.accounts[0], sandbox.accounts[1]
    code, out = collect(sandbox, tmp_path / "x.db", accounts=f"{a},{b},{b}")
    assert code == 0 and out["accounts"] == [a, b]
    assert out["units_total"] == 2 * len(sandbox.regions) * len(KINDS.split(","))
    items = stored(tmp_path / "x.db")
    for region in sandbox.regions:
        want: dict[str, int] = {}
        for acct in (a, b):
            for k, v in items[f"ec2:{acct}:{region}"].usage.items():
                want[k] = want.get(k, 0) + int(v)
        assert dict(items[f"ec2:{sandbox.org}:{region}"].usage) == want
        assert items[f"ec2:{sandbox.org}:{region}"].attrs["accounts"] == [a, b]


def test_two_collects_of_one_hour_at_once_into_one_sqlite_store(sandbox: Sandbox, tmp_path: Path) -> None:
    """An hourly and a daily run (or two of one hour) overlapping: the items and org totals stay whole."""
    db = tmp_path / "x.db"
    env = {**os.environ, **sandbox.direct, "PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = [
        sys.executable,
        "-m",
        "awscost",
        "collect",
        "--accounts",
        ",".join(sandbox.accounts),
        "--role-name",
        ROLE,
        "--regions",
        ",".join(sandbox.regions),
        "--at",
        AT,
        "--store",
        f"sqlite:///{db}",
        "--format",
        "json",
    ]
    runs = [
        subprocess.Popen([*cmd, "--kinds", KINDS], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE),
        subprocess.Popen([*cmd, "--kinds", KINDS], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE),
        subprocess.Popen([*cmd, "--kinds", "ec2"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE),
    ]
    for run in runs:
        _, err = run.communicate(timeout=120)
        assert run.returncode == 0, err.decode()
    items = stored(db)
    assert {r: dict(i.usage) for r, i in items.items()} == {
        r: dict(i.usage) for r, i in sandbox.baseline.items()
    }
    assert_consistent(sandbox, items, set())


def test_python_m_awscost_exits_5_when_units_failed(sandbox: Sandbox, tmp_path: Path) -> None:
    """`python -m awscost` keeps the command's exit status (it was always 0: click returns it from main)."""
    sandbox.proxy.set_rules(Rule("denied", service="ec2", account=sandbox.accounts[1]))
    env = {**os.environ, **sandbox.env, "AWS_MAX_ATTEMPTS": "2", "PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = [
        sys.executable,
        "-m",
        "awscost",
        "collect",
        "--kinds",
        "ec2",
        "--accounts",
        ",".join(sandbox.accounts),
    ]
    cmd += [
        "--role-name",
        ROLE,
        "--regions",
        "us-east-1",
        "--at",
        AT,
        "--store",
        f"sqlite:///{tmp_path / 'x.db'}",
    ]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == EXIT_PARTIAL_FAILURE, done.stderr
