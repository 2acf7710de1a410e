"""The front ends' reports (views/reports.py): built through the report job once per audience x period x
accounts, kept while the data under them is unchanged, built again when a load swaps the dataset, a scan
records an anomaly, or the report is older than max_age."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

import anomaly_bills as ab
from awscost.billing import load_into
from awscost.core.config import Settings, load_settings
from awscost.core.errors import InputError
from awscost.jobs import Context, run_job
from awscost.jobs.anomaly_scan import Params as ScanParams
from awscost.views.reports import Ask, Reports, default_dataset

TODAY = date(2026, 10, 24)


@pytest.fixture()
def dataset(tmp_path: Path) -> Path:
    load_into([ab.write(tmp_path)], tmp_path / "dataset")
    return tmp_path / "dataset"


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_report_is_built_once_until_its_data_changes(dataset: Path, tmp_path: Path) -> None:
    settings = Settings(store=f"sqlite:///{tmp_path / 's.db'}")
    clock = Clock()
    reports = Reports(settings, str(dataset), max_age=300, clock=clock)
    ask = Ask(period="2026-10-01..2026-10-23", today=TODAY)
    first = reports.get(ask)
    assert reports.get(ask) is first and reports.builds == 1
    assert Decimal(first.data["total"]["cost"]) > 0
    # another account: another report
    one = reports.get(Ask(period=ask.period, accounts=(ab.TEAM_A,), today=TODAY))
    assert [a["account_id"] for a in one.data["accounts"]] == [ab.TEAM_A] and reports.builds == 2
    # a scan records an anomaly: the Movers section would show it, so the report is built again
    run_job("anomaly_scan", Context(settings), ScanParams(dataset=str(dataset), notify=""))
    assert reports.get(ask) is first  # within the second the version is held: no store scan per view
    clock.now += 1
    again = reports.get(ask)
    assert again is not first and reports.builds == 3
    assert again.data["sections"]["movers"]["anomalies"][0]["date"] == "2026-10-10"
    # a reload of the dataset swaps its marker
    load_into([ab.write(tmp_path / "bill2")], dataset)
    clock.now += 1
    assert reports.get(ask) is not again and reports.builds == 4
    # old enough: built again whatever the versions say
    clock.now += 301
    reports.get(ask)
    assert reports.builds == 5


def test_bad_asks_are_clear_errors(dataset: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="period"):
        Ask(period="next-week")
    reports = Reports(Settings(store=f"sqlite:///{tmp_path / 's.db'}"), str(tmp_path / "nothing"))
    with pytest.raises(InputError, match="not an awscost billing dataset"):
        reports.get(Ask(today=TODAY))


def test_the_default_dataset_is_the_billing_tables(tmp_path: Path) -> None:
    path = tmp_path / "awscost.toml"
    path.write_text('[billing]\ndataset = "s3://bucket/billing/"\n')
    assert default_dataset(load_settings(path)) == "s3://bucket/billing/"
    assert default_dataset(Settings()) is None
