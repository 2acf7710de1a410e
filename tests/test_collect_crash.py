"""Crash consistency of `collect`: the process is SIGKILLed right after each store batch (and after the maps),
then the hour is collected again; the store must end exactly as a run that was never killed: nothing lost,
nothing counted twice, the org totals the sum of the account items.

The kill comes from a test-only hook in the runner: `AWSCOST_TEST_CRASH_AT=batch:N` kills the process
(SIGKILL, no cleanup) right after its N-th store batch is written, `AWSCOST_TEST_CRASH_AT=maps` after the
AMI map is written. Nothing sets it outside tests."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from awscost.store import open_store

ROLE = "OrganizationAccountAccessRole"
AT = "2026-11-02T00:00:00Z"
KINDS = "ec2,ec2os,dynamodb"


@pytest.fixture(scope="module")
def sandbox_env() -> Iterator[tuple[dict[str, str], list[str], list[str]]]:
    from awscost_sandbox.seed import apply_fleet, seed_organization
    from awscost_sandbox.server import SandboxServer

    with SandboxServer() as server:
        seed_organization(server)
        sc = server.scenario
        server.clock = sc.start
        apply_fleet(server, sc, sc.start)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AWSCOST_"))}
        env.update(server.env())
        env.update(
            AWS_CONFIG_FILE=os.devnull,
            AWS_SHARED_CREDENTIALS_FILE=os.devnull,
            AWSCOST_ORG_NAME=sc.org_name,
            PYTHONPATH=os.pathsep.join(sys.path),
        )
        yield env, list(sc.account_ids), list(sc.regions)


def run_collect(
    setup: tuple[dict[str, str], list[str], list[str]], db: Path, crash_at: str | None = None
) -> subprocess.CompletedProcess[str]:
    env, accounts, regions = setup
    env = dict(env)
    if crash_at:
        env["AWSCOST_TEST_CRASH_AT"] = crash_at
    cmd = [sys.executable, "-m", "awscost", "collect", "--kinds", KINDS, "--accounts", ",".join(accounts)]
    cmd += ["--role-name", ROLE, "--regions", ",".join(regions), "--at", AT, "--store", f"sqlite:///{db}"]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)


def snapshot(db: Path) -> tuple[dict[str, tuple[object, ...]], dict[str, object]]:
    """Every item (hour, usage, missing accounts) and every AMI's OS in the store."""
    with open_store(f"sqlite:///{db}") as store:
        items = {
            i.aws_resource: (i.time_key, sorted(i.usage.items()), sorted(i.attrs.get("missing_accounts", [])))
            for i in store.query()
        }
        # An AMI's OS, not which account happened to describe it first (that varies from run to run).
        maps = {id: attrs.get("os_type") for id, attrs in store.scan_map("")}
    return items, maps


def test_killed_after_each_store_batch_the_rerun_recovers(
    sandbox_env: tuple[dict[str, str], list[str], list[str]], tmp_path: Path
) -> None:
    clean_db = tmp_path / "clean.db"
    clean = run_collect(sandbox_env, clean_db)
    assert clean.returncode == 0, clean.stderr
    want = snapshot(clean_db)
    assert any(":sandbox-org:" in r for r in want[0]) and want[1]  # org totals and the AMI map are there

    def killed_then_rerun(step: str) -> bool:
        """Kill at `step`, check the store, re-run, compare; False when the run never reached `step`."""
        db = tmp_path / f"{step.replace(':', '-')}.db"
        crashed = run_collect(sandbox_env, db, step)
        if crashed.returncode == 0:
            return False
        assert crashed.returncode == -signal.SIGKILL, crashed.stderr
        with sqlite3.connect(db) as conn:  # what a kill leaves is a whole store, never a torn one
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        again = run_collect(sandbox_env, db)
        assert again.returncode == 0, again.stderr
        assert snapshot(db) == want, step
        return True

    batches = 0
    while killed_then_rerun(f"batch:{batches + 1}"):  # every batch boundary, until the run has no more
        batches += 1
        assert batches < 20
    assert batches >= 2  # the account items' batches and the org totals' batch
    assert killed_then_rerun("maps")
