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


def test_backfill_from_a_cur_and_a_focus_export_of_one_month_needs_prefer(tmp_path: Path) -> None:
    """Both exports of the same month as loose files would count each hour twice: refused (exit 2, naming
    the flag) unless --prefer says which format to keep; kept, the items are the CUR's alone."""
    import shutil

    from awscost_sandbox.bill import write_bill
    from awscost_sandbox.scenario import default_scenario

    scenario = default_scenario()
    written = write_bill(scenario, scenario.hours(3), tmp_path / "written")
    # Loose files side by side (a CUR delivered with its manifest would win over loose files by itself).
    for fmt in ("cur", "focus"):
        for n, part in enumerate(sorted(written[fmt].rglob("*.csv.gz"))):
            (tmp_path / "bill" / fmt).mkdir(parents=True, exist_ok=True)
            shutil.copy(part, tmp_path / "bill" / fmt / f"{fmt}-{n}.csv.gz")
    runner = CliRunner()

    def backfill(source: Path, store: str, *extra: str) -> object:
        return runner.invoke(
            cli,
            [
                "usage",
                "backfill",
                "--from-billing",
                str(source),
                "--store",
                store,
                "--format",
                "json",
                *extra,
            ],
        )

    from awscost.core.errors import InputError

    refused = backfill(tmp_path / "bill", f"sqlite:///{tmp_path / 'a.db'}")
    error = refused.exception  # type: ignore[attr-defined]
    # main() prints it as one line and exits 2 (the error's exit code), as for `billing summary`
    assert isinstance(error, InputError) and error.exit_code == 2
    assert error.render().startswith("--prefer: ") and "count it twice" in error.render()
    assert len(list(open_store(f"sqlite:///{tmp_path / 'a.db'}").query())) == 0  # nothing half-written
    both = backfill(tmp_path / "bill", f"sqlite:///{tmp_path / 'b.db'}", "--prefer", "cur")
    assert both.exit_code == 0, both.output  # type: ignore[attr-defined]
    alone = backfill(tmp_path / "bill" / "cur", f"sqlite:///{tmp_path / 'c.db'}")
    assert alone.exit_code == 0, alone.output  # type: ignore[attr-defined]
    assert json.loads(both.stdout) == json.loads(alone.stdout)  # type: ignore[attr-defined]
    with open_store(f"sqlite:///{tmp_path / 'b.db'}") as b, open_store(f"sqlite:///{tmp_path / 'c.db'}") as c:
        assert sorted(
            (i.kind, i.account, i.region, i.time, sorted(i.usage.items())) for i in b.query()
        ) == sorted((i.kind, i.account, i.region, i.time, sorted(i.usage.items())) for i in c.query())
