"""`awscost usage backfill --from-billing DATASET`: the command over the library, on the sandbox's bill."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from awscost.entrypoints.cli import cli
from awscost.store import open_store


def test_backfill_command_rebuilds_hours_from_a_loaded_dataset(tmp_path: Path) -> None:
    from awscost_sandbox.bill import write_bill
    from awscost_sandbox.scenario import default_scenario

    scenario = default_scenario()
    hours = scenario.hours(4)
    bill = write_bill(scenario, hours, tmp_path / "bill", formats=("cur",))
    runner = CliRunner()
    loaded = runner.invoke(cli, ["billing", "load", str(bill["cur"]), "--into", str(tmp_path / "ds")])
    assert loaded.exit_code == 0, loaded.output
    store_url = f"sqlite:///{tmp_path / 'awscost.db'}"

    result = runner.invoke(
        cli,
        [
            "usage",
            "backfill",
            "--from-billing",
            str(tmp_path / "ds"),
            "--store",
            store_url,
            "--format",
            "json",
        ],
    )

    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    written = {r["kind"]: r["items_written"] for r in rows}
    assert set(written) == {"ec2", "ec2os", "rds", "elasticache", "es", "redshift", "dynamodb"}
    store = open_store(store_url)
    org = list(store.query(kind="ec2os", account="org"))
    # Every billed hour of every region is there, org-wide, equal to the scenario's running instances.
    assert sorted({(i.region, i.time) for i in org}) == sorted(
        (r, h) for r in scenario.regions for h in hours
    )
    for item in org:
        expected: dict[str, int] = {}
        for unit in scenario.fleet_at(item.time):
            if unit.kind == "ec2" and unit.region == item.region:
                key = f"{'spot-' if unit.spot else ''}{unit.os}-{unit.type}"
                expected[key] = expected.get(key, 0) + unit.count
        assert dict(item.usage) == expected, (item.region, item.time)
        assert item.attrs["source"] == "billing"
    assert sum(written.values()) == len(list(store.query()))
    store.close()


def test_backfill_rejects_a_kind_it_cannot_rebuild(tmp_path: Path) -> None:
    (tmp_path / "ds").mkdir()
    result = CliRunner().invoke(
        cli, ["usage", "backfill", "--from-billing", str(tmp_path / "ds"), "--kinds", "ri-ec2"]
    )
    assert result.exit_code == 2
    assert "cannot backfill ri-ec2" in result.output
