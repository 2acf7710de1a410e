"""The command line's front door: help, init, and one-line errors with non-zero exits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from awscost.entrypoints.cli import COMMANDS, cli


def test_every_registered_command_module_exists_and_has_help() -> None:
    runner = CliRunner()
    for name in COMMANDS:
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "Usage:" in result.output


def test_init_writes_a_config(tmp_path: Path) -> None:
    runner = CliRunner()
    target = tmp_path / "awscost.toml"
    result = runner.invoke(cli, ["init", "--path", str(target)])
    assert result.exit_code == 0
    assert target.read_text().startswith("# awscost configuration")


def test_config_error_is_one_line_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "awscost.toml"
    bad.write_text("[awscost]\nregions = ['atlantis-1']\n")
    proc = subprocess.run(
        [sys.executable, "-m", "awscost", "usage", "show", "--config", str(bad)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"awscost: error: {bad}: awscost.regions: 'atlantis-1' is not an AWS region name (like us-east-1)"
    ]


def test_iam_policy_is_the_registry_and_valid_json() -> None:
    import json

    from awscost.usage.kinds import iam_actions

    result = CliRunner().invoke(cli, ["iam-policy", "--kinds", "ec2,rds"])
    assert result.exit_code == 0, result.output
    policy = json.loads(result.output)
    # the describes on "*"; AssumeRole never there (tests/test_injection.py: scoped to the member role)
    assert policy["Statement"][0]["Action"] == [
        a for a in iam_actions(["ec2", "rds"]) if a != "sts:AssumeRole"
    ]
    assert "ec2:DescribeInstances" in policy["Statement"][0]["Action"]
    member = json.loads(CliRunner().invoke(cli, ["iam-policy", "--member"]).output)
    assert "sts:AssumeRole" not in member["Statement"][0]["Action"]
    bad = CliRunner().invoke(cli, ["iam-policy", "--kinds", "ec3"])
    assert bad.exit_code != 0 and "unknown kind 'ec3'" in str(bad.exception)


def test_reading_a_store_that_does_not_exist_is_an_error_not_an_empty_store(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "awscost.db"
    for args in (
        ["usage", "show"],
        ["usage", "gaps"],
        ["store", "info"],
        ["ri", "plan"],
        ["report", "ri", "--out", str(tmp_path / "r.xlsx")],
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "awscost", *args, "--store", f"sqlite:///{missing}"],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 3, (args, proc.stderr)
        assert proc.stderr.startswith(f"awscost: error: {missing}: no store here"), (args, proc.stderr)
        assert not missing.parent.exists() and not (tmp_path / "r.xlsx").exists()


def test_commands_that_only_read_leave_no_store_behind(tmp_path: Path) -> None:
    """In an empty folder (the default store is ./awscost.db), reading samples or prices creates nothing."""
    logs = Path(__file__).parent / "data" / "containers" / "docker_stats.log"
    for args in (
        ["containers", "samples", str(logs), "--host-id", "i-1", "--time", "2026-11-26T10:00:00Z"],
        ["pricing", "show", "--type", "m5.large"],
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "awscost", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            check=False,
        )
        assert proc.returncode == 0, (args, proc.stderr)
        assert list(tmp_path.iterdir()) == [], (args, list(tmp_path.iterdir()))


def test_usage_filters_reject_unknown_kinds_and_malformed_accounts(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'a.db'}"
    CliRunner().invoke(cli, ["store", "init", "--store", store])
    cases = {
        ("--kind", "ec3"): "--kind: unknown kind 'ec3'",
        (
            "--account",
            "12345",
        ): "--account: '12345' is neither a 12-digit account id nor an organization name",
    }
    for args, message in cases.items():
        proc = subprocess.run(
            [sys.executable, "-m", "awscost", "usage", "show", *args, "--store", store],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 2 and proc.stderr.startswith(f"awscost: error: {message}"), proc.stderr
    ok = CliRunner().invoke(
        cli, ["usage", "show", "--kind", "svc-cost", "--account", "sandbox-org", "--store", store]
    )
    assert ok.exit_code == 0, ok.output
