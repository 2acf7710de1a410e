"""Health from the store: each job's last success against its schedule (a failed run is no success, and does
not hide the last one), each kind's last sample hour; `awscost health` (table, JSON, exit status); the health
job's SecondsSinceLastSuccess read back from the moto server's CloudWatch."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from awscost.core.config import Settings
from awscost.core.errors import StoreError
from awscost.core.timeutil import floor_hour
from awscost.jobs.health import health_of
from awscost.jobs.results import failure_of, last_success, save_failure, save_result
from awscost.store import UsageItem, open_store

NOW = datetime(2026, 11, 3, 12, 50, tzinfo=UTC)
ACCOUNT, REGION = "111122223333", "us-east-1"
OK = {"items_written": 3, "failures": []}
FAILED_UNITS = {"items_written": 2, "failures": [{"kind": "rds", "account": ACCOUNT, "error": "denied"}]}


def sample(kind: str, at: datetime) -> UsageItem:
    return UsageItem(kind, ACCOUNT, REGION, floor_hour(at), {"m5.large": 1}, {})


def fill(url: str, now: datetime) -> None:
    """A store where collect is fine, ce_fetch overdue, report failing (but recently fine), billing_load
    never succeeded, pricing_refresh never ran; ec2 and es fresh, rds overdue."""
    with open_store(url) as store:
        save_result(store, "collect", {"kinds": "hourly"}, OK, now - timedelta(minutes=45))
        save_result(store, "ce_fetch", {}, {"items_written": 4}, now - timedelta(hours=30))
        save_result(store, "report", {}, {"failed": 0, "failures": []}, now - timedelta(hours=3))
        save_result(
            store, "report", {}, {"failed": 1, "failures": [{"audience": "ml"}]}, now - timedelta(hours=1)
        )
        save_failure(store, "billing_load", {}, "s3://bills: access denied", now - timedelta(minutes=30))
        store.put_items(
            [
                *(sample("ec2", now - timedelta(hours=h)) for h in range(0, 5)),
                sample("rds", now - timedelta(hours=3)),
                sample("rds", now - timedelta(days=20)),
                sample("es", now - timedelta(hours=20)),
                # Written by jobs a day after the hours they cover: watched by those jobs' last success.
                sample("svc-cost", now - timedelta(hours=30)),
                sample("ce-cov", now - timedelta(hours=40)),
            ]
        )


def test_failures_are_no_success_and_keep_the_last_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    fill(url, NOW)
    with open_store(url) as store:
        assert failure_of(FAILED_UNITS) == "1 failed unit(s)"
        assert failure_of({"failed": ["ec2 query"], "cached": 3}) == "1 failed: ec2 query"
        assert last_success(store, "report") == NOW - timedelta(hours=3)
        assert last_success(store, "billing_load") is None
        health = health_of(store, NOW)
    jobs = {j.job: j for j in health.jobs}
    named = ("collect", "ce_fetch", "report", "billing_load", "pricing_refresh", "health")
    assert {n: jobs[n].status for n in named} == {
        "collect": "ok",
        "ce_fetch": "overdue",
        "report": "failing",
        "billing_load": "overdue",
        "pricing_refresh": "never",
        "health": "never",
    }
    assert jobs["collect"].seconds_since == 45 * 60 and jobs["report"].seconds_since == 3 * 3600
    assert jobs["report"].failure == "1 failed unit(s)"
    assert jobs["billing_load"].failure == "s3://bills: access denied"
    assert health.overdue_jobs == ["ce_fetch", "billing_load"]
    kinds = {k.kind: k for k in health.kinds}
    assert {k: (v.cadence, v.overdue) for k, v in kinds.items()} == {
        "ec2": ("hourly", False),
        "es": ("daily", False),
        "rds": ("hourly", True),
    }
    assert kinds["ec2"].last_hour == floor_hour(NOW) and kinds["ec2"].seconds_since == 50 * 60
    assert kinds["rds"].seconds_since == 3 * 3600 + 50 * 60  # the sample 20 days back is outside the window
    # Only scheduled jobs that succeeded once, and kinds with a sample, have a SecondsSinceLastSuccess.
    assert sorted((tuple(d.dimensions.items()), d.value) for d in health.metric_data()) == sorted(
        [
            ((("Job", "collect"),), 45 * 60.0),
            ((("Job", "ce_fetch"),), 30 * 3600.0),
            ((("Job", "report"),), 3 * 3600.0),
            ((("Kind", "ec2"),), 50 * 60.0),
            ((("Kind", "es"),), 20 * 3600.0 + 50 * 60),
            ((("Kind", "rds"),), 3 * 3600.0 + 50 * 60),
        ]
    )


def test_a_kind_silent_for_the_whole_window_is_overdue(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    with open_store(url) as store:
        store.put_items([sample("redshift", NOW - timedelta(days=9))])
        (kind,) = health_of(store, NOW).kinds
    assert (kind.kind, kind.cadence, kind.last_hour, kind.overdue) == ("redshift", "daily", None, True)


def cli(url: str, *args: str) -> Any:
    from awscost.entrypoints.cli import cli as root

    return CliRunner().invoke(root, ["health", "--store", url, *args])


def test_cli_json_and_exit_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./awscost.toml
    now = datetime.now(UTC)
    url = f"sqlite:///{tmp_path / 'bad.db'}"
    fill(url, now)
    bad = cli(url, "--format", "json")
    assert bad.exit_code == 8, bad.output
    doc = json.loads(bad.stdout)
    assert doc["overdue_jobs"] == ["ce_fetch", "billing_load"] and doc["overdue_kinds"] == ["rds"]
    report = next(j for j in doc["jobs"] if j["job"] == "report")
    assert report["status"] == "failing" and report["seconds_since_last_success"] == pytest.approx(
        3 * 3600, abs=60
    )
    table = cli(url)
    assert table.exit_code == 8 and "overdue: ce_fetch, billing_load, kind rds" in table.stderr
    assert "Collection per kind" in table.stdout and "never" in table.stdout

    fine = f"sqlite:///{tmp_path / 'fine.db'}"
    with open_store(fine) as store:
        save_result(store, "collect", {"kinds": "hourly"}, OK, now - timedelta(minutes=10))
        store.put_items([sample("ec2", now)])
    ok = cli(fine)
    assert ok.exit_code == 0, ok.output
    assert "nothing overdue" in ok.stderr
    missing = cli(f"sqlite:///{tmp_path / 'none.db'}")
    assert isinstance(missing.exception, StoreError) and "no store here" in str(missing.exception)
    assert not (tmp_path / "none.db").exists()


def test_health_job_publishes_to_cloudwatch(aws: str, tmp_path: Path) -> None:
    import boto3

    from awscost.jobs import Context, run_event
    from awscost.jobs.results import latest_result

    now = datetime.now(UTC).replace(microsecond=0)
    url = f"sqlite:///{tmp_path / 's.db'}"
    fill(url, now)
    ctx = Context(Settings(store=url), clock=lambda: now)
    run = run_event(ctx, {"job": "health", "publish": True})
    assert run.result.published == 6
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    listed = cloudwatch.list_metrics(Namespace="awscost", MetricName="SecondsSinceLastSuccess")["Metrics"]
    dims = sorted(tuple((d["Name"], d["Value"]) for d in m["Dimensions"]) for m in listed)
    assert dims == [
        (("Job", "ce_fetch"),),
        (("Job", "collect"),),
        (("Job", "report"),),
        (("Kind", "ec2"),),
        (("Kind", "es"),),
        (("Kind", "rds"),),
    ]

    def value(name: str, dim: str, of: str) -> list[float]:
        answer = cloudwatch.get_metric_data(
            MetricDataQueries=[
                {
                    "Id": "m",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": "awscost",
                            "MetricName": name,
                            "Dimensions": [{"Name": dim, "Value": of}],
                        },
                        "Period": 60,
                        "Stat": "Maximum",
                    },
                }
            ],
            StartTime=now - timedelta(minutes=5),
            EndTime=now + timedelta(minutes=5),
        )
        return [float(v) for v in answer["MetricDataResults"][0]["Values"]]

    assert value("SecondsSinceLastSuccess", "Job", "collect") == [45 * 60.0]
    assert value("SecondsSinceLastSuccess", "Job", "ce_fetch") == [30 * 3600.0]
    assert value("SecondsSinceLastSuccess", "Kind", "rds") == [3 * 3600.0 + now.minute * 60 + now.second]
    # The handler's part: one dimension set, the overdue counts (an alarm on either watches everything).
    dims_values = run.job.metrics(run.params, run.result)
    assert dims_values == ({"Job": "health"}, {"OverdueJobs": 2, "OverdueKinds": 1})
    # Its own result is saved as any job's: the next health run sees the health job succeed.
    with open_store(url) as store:
        saved = latest_result(store, "health")
        assert saved is not None and saved.result["overdue_jobs"] == ["ce_fetch", "billing_load"]
        assert next(j for j in health_of(store, now).jobs if j.job == "health").status == "ok"


def test_health_reads_the_collectors_markers_not_the_usage_table(tmp_path: Path) -> None:
    """One GetItem per kind instead of a Scan of the usage table every hour; markers only move forward."""
    from awscost.core.timeutil import parse_hour
    from awscost.store import open_store
    from awscost.usage.freshness import kind_freshness
    from awscost.usage.runner import mark_collected

    with open_store(f"sqlite:///{tmp_path / 'markers.db'}") as store:
        mark_collected(store, ["ec2", "rds"], parse_hour("2026-11-09T12:00:00Z"))
        mark_collected(store, ["ec2"], parse_hour("2026-11-01T00:00:00Z"))  # a backfill of an older hour
        assert store.get_map("collected:ec2") == {"hour": "2026-11-09T12:00:00Z"}

        def no_query(*args: object, **kwargs: object) -> None:
            raise AssertionError("health read the usage items")

        store.query = no_query  # type: ignore[method-assign]
        fresh = {f.kind: f for f in kind_freshness(store, parse_hour("2026-11-09T15:00:00Z"))}
    assert set(fresh) == {"ec2", "rds"}
    assert fresh["ec2"].seconds_since == 3 * 3600 and fresh["ec2"].overdue  # hourly: more than 2 h
