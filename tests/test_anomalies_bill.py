"""Anomalies from a real CUR layout: the bill's daily series per account x service, the detector, the
drill-down's one-line explanation, the job and the command line (json and table)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import anomaly_bills as ab
from awscost.billing import load, load_into
from awscost.core.config import Settings
from awscost.core.errors import InputError
from awscost.entrypoints.cli import cli
from awscost.jobs import Context, run_job
from awscost.jobs.anomaly_scan import Params


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("anomaly-bill")
    load_into([ab.write(root)], root / "dataset")
    return root / "dataset"


@pytest.fixture(autouse=True)
def _store_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The job records its events in the settings' store: the default one, ./awscost.db, under tmp_path."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AWSCOST_STORE", raising=False)
    monkeypatch.delenv("AWSCOST_CONFIG", raising=False)


def scan(dataset: Path, **kw: Any) -> Any:
    return run_job("anomaly_scan", Context(Settings()), Params(dataset=str(dataset), **kw))


def test_the_forgotten_cluster_is_the_one_anomaly_explained_in_one_sentence(dataset: Path) -> None:
    result = scan(dataset)
    (event,) = result.anomalies  # nothing else: not the fees on the 1st, not weekends, not the noise
    assert (event.account_id, event.service, event.date) == (
        ab.TEAM_A,
        "Amazon Elastic Compute Cloud",
        "2026-10-10",
    )
    assert event.kind == "step" and event.end is None  # still running at the bill's last day
    per_day = ab.CLUSTER["count"] * ab.CLUSTER["rate"] * 24
    assert abs(event.impact_per_day - per_day) < Decimal("0.1") * per_day  # the first day held 15 hours
    assert event.explanation.startswith(f"+${event.impact_per_day:,}/day: 38 × r6g.2xlarge in eu-west-1")
    assert "tag Spend_Category=search" in event.explanation
    assert "started 2026-10-10 09:00" in event.explanation and event.explanation.endswith("still open")
    assert result.series == 4 and result.currency == "USD"
    assert (result.first_day, result.last_day) == (date(2026, 8, 1), date(2026, 10, 23))


def test_the_series_are_the_bills_daily_cost_to_the_cent(dataset: Path) -> None:
    from awscost.anomalies.bill import series_of

    with load(dataset) as bill:
        data = series_of(bill)
        total = bill.total("EffectiveCost")
    assert sum(c for items in data.series.values() for _, c in items) == total  # nothing but usage and fees
    fee_days = [d for items in data.recurring.values() for d, _ in items]
    assert fee_days == [date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1)]


def test_re_running_gives_the_same_ids_and_since_keeps_later_events(dataset: Path) -> None:
    first, again = scan(dataset), scan(dataset, since=date(2026, 10, 1))
    assert [a.id for a in first.anomalies] == [a.id for a in again.anomalies]
    assert scan(dataset, since=date(2026, 10, 11)).anomalies == []  # it started the day before
    assert scan(dataset, min_impact=Decimal(5000)).anomalies == []  # below the $ minimum: not flagged


def test_without_the_cluster_nothing_is_flagged(tmp_path: Path) -> None:
    load_into([ab.write(tmp_path, with_cluster=False)], tmp_path / "ds")
    assert scan(tmp_path / "ds").anomalies == []


def test_the_command_line_prints_json_objects_and_a_table(dataset: Path) -> None:
    args = ["anomalies", "detect", "--dataset", str(dataset)]
    result = CliRunner().invoke(cli, [*args, "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (event,) = json.loads(result.stdout)
    assert event["date"] == "2026-10-10" and event["end"] is None
    assert event["start"] == "2026-10-10T09:00:00Z"  # the hourly bill's first hour of the cluster
    assert Decimal(event["impact_per_day"]) > 300 and isinstance(event["impact_total"], str)
    assert set(event) >= {
        "id",
        "date",
        "start",
        "end",
        "account_id",
        "service",
        "expected",
        "actual",
        "score",
    }
    table = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert table.exit_code == 0 and "38 × r6g.2xlarge" in table.stdout


def test_what_cannot_work_says_so(dataset: Path) -> None:
    with pytest.raises(InputError, match="not a billing dataset"):
        Params(source="ce", dataset=str(dataset))
    with pytest.raises(InputError, match="no billing data"):
        Params()
    result = CliRunner().invoke(cli, ["anomalies", "detect", "--source", "ce", "--dataset", str(dataset)])
    assert result.exit_code != 0 and "not a billing dataset" in str(result.output) + str(result.exception)
