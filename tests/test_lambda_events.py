"""The Lambda handler runs each registered job from an event fixture in tests/events/, as deployed: settings from
AWSCOST_* variables only, AWS the sandbox (moto over HTTP, with its layer answering Cost Explorer and the Price
List) as boto3's standard environment. The analytics jobs with their S3 inputs and outputs:
tests/test_lambda_jobs.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from awscost.core.errors import AwsAccessError, AwsCostError
from awscost.jobs import JOBS
from awscost.jobs.results import latest_result
from awscost.store import open_store
from awscost.usage.kinds import resolve_kinds

EVENTS = Path(__file__).parent / "events"
HOUR = "2026-11-09T12:00:00Z"


def event(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return loaded


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The sandbox, seeded and at the fixtures' hour, and the environment the stack gives the function."""
    import awscost_sandbox.ce  # noqa: F401  (the layer answers Cost Explorer)
    from awscost.core.timeutil import parse_hour
    from awscost_sandbox.demo import demo_settings, sandbox_environment
    from awscost_sandbox.seed import apply_fleet, seed_organization
    from awscost_sandbox.server import SandboxServer

    store = f"sqlite:///{tmp_path_factory.mktemp('lambda') / 'awscost.db'}"
    with SandboxServer() as server:
        seed_organization(server)  # before the environment is taken: it holds the management account's keys
        hour = parse_hour(HOUR)
        server.clock = hour
        apply_fleet(server, server.scenario, hour)
        settings = demo_settings(server.scenario, store)
        environment = {
            "AWSCOST_STORE": store,
            "AWSCOST_ORG_NAME": settings.org_name,
            "AWSCOST_ACCOUNTS": ",".join(settings.accounts),
            "AWSCOST_ROLE_NAME": str(settings.role_name),
            "AWSCOST_REGIONS": ",".join(settings.regions),
        }
        with sandbox_environment(server), pytest.MonkeyPatch.context() as mp:
            mp.chdir(tmp_path_factory.mktemp("task"))  # like /var/task: no awscost.toml here
            mp.delenv("AWSCOST_CONFIG", raising=False)
            for name, value in environment.items():
                mp.setenv(name, value)
            yield store


def handle(name: str) -> dict[str, Any]:
    from awscost.entrypoints.lambda_handler import handler

    return handler(event(name))


def test_every_registered_job_has_an_event_fixture_and_every_fixture_a_job() -> None:
    named = {str(event(p.stem).get("job") or event(p.stem).get("action")) for p in EVENTS.glob("*.json")}
    assert named == set(JOBS)


def test_collect_hourly_and_the_daily_alias(deployed: str) -> None:
    result = handle("collect_hourly")
    assert result["failures"] == [] and result["time"] == HOUR and result["items_written"] > 0
    assert result["kinds"] == resolve_kinds("hourly")
    daily = handle("collect_daily_action")  # `action`, as the first deployed schedules send it
    assert daily["failures"] == [] and "ri-ec2" in daily["kinds"]
    with open_store(deployed) as store:
        assert list(store.query(kind="ec2os", account="sandbox-org"))
        saved = latest_result(store, "collect")
    assert saved is not None and saved.params["kinds"] == "daily" and saved.result == daily


def test_metrics_are_published_and_logged_before_the_result_is_saved(
    deployed: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A collection that ran reaches CloudWatch (the missed-hour alarm) even if saving its result fails, and
    its summary line keeps what Logs Insights queries read (kinds, accounts, regions)."""
    import boto3

    import awscost.jobs as jobs
    from awscost.core.errors import StoreError

    def broken(*args: Any, **kwargs: Any) -> None:
        raise StoreError("the map table is gone", where="job-result:collect")

    monkeypatch.setattr(jobs, "save_latest", broken)
    with caplog.at_level("INFO", logger="awscost"), pytest.raises(StoreError):
        handle("collect_hourly")
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    names = {m["MetricName"] for m in cloudwatch.list_metrics(Namespace="awscost")["Metrics"]}
    assert {"ItemsWritten", "FailedUnits", "ApiCalls"} <= names
    summary = next(json.loads(r.message) for r in caplog.records if '"collect_summary"' in r.message)
    assert summary["kinds"] == resolve_kinds("hourly") and summary["accounts"]


def test_ce_fetch_stores_cost_explorer_answers(deployed: str) -> None:
    result = handle("ce_fetch")
    assert result["day"] == "2026-11-10" and result["items_written"] > 0
    assert {"ce-cov", "ce-util", "ce-rec-7", "ce-rec-60"} <= set(result["by_kind"])


def test_pricing_refresh_caches_the_sandboxs_price_list(deployed: str) -> None:
    # The sandbox's Price List is the packaged snapshot re-served (awscost_sandbox.pricing): m5.large's
    # products, one per OS, and their Savings Plans rates are fetched and cached.
    from awscost.planning.pricing.api import read_cache

    result = handle("pricing_refresh")
    assert result["failed"] == [] and result["fallback"] is None
    assert result["queries"] == 2  # GetProducts, then DescribeSavingsPlansOfferingRates
    with open_store(deployed) as store:
        cached = read_cache(store)
    assert result["cached"] == len(cached) > 1
    assert {(p.type, p.region) for p in cached} == {("m5.large", "us-east-1")}
    assert all(p.savings_plans for p in cached)


def test_pricing_refresh_says_in_one_line_that_the_price_list_is_unreachable(deployed: str) -> None:
    # Without the layer's Price List, moto answers GetProducts with an HTTP 500: the job fails in one line.
    from awscost.planning.pricing.api import read_cache
    from awscost.planning.pricing.book import snapshot_label
    from awscost_sandbox import layer, pricing

    with open_store(deployed) as store:
        old = len(read_cache(store))  # what an earlier test's refresh cached, if one ran
    fallback = f"the cache ({old} prices) and {snapshot_label()}" if old else snapshot_label()
    layer.unregister("pricing", "GetProducts")
    try:
        with pytest.raises(AwsAccessError) as err:
            handle("pricing_refresh")
    finally:
        layer.register("pricing", "GetProducts", pricing.get_products)
    line = err.value.render()
    assert "\n" not in line
    assert line.startswith("pricing:GetProducts us-east-1: Price List API unreachable, nothing fetched")
    assert line.endswith(f"; prices come from {fallback}")


def test_ri_plan_plans_on_what_was_collected(deployed: str) -> None:
    result = handle("ri_plan")
    keys = {(r["kind"], r["region"]) for r in result["rows"]}
    assert ("ec2os", "us-east-1") in keys and result["term"] == "1y"
    assert result["price_sources"] and all(r["hours"] >= 1 for r in result["rows"])


def test_a_job_whose_extra_the_zip_lacks_says_which(deployed: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "numpy", None)  # as in the collector's zip: boto3 only
    with pytest.raises(AwsCostError) as err:
        handle("ri_plan")
    assert err.value.render() == (
        "job ri_plan needs the analyze extra (numpy is not installed) (pip install 'awscost[analyze]')"
    )


REPORT_CONFIG = """
[report]
bucket = "awscost-reports"
mail_from = "finops@example.com"
ses_region = "us-east-1"

[[report.audience]]
name = "payments"
recipients = ["payments@example.com"]
accounts = ["222233334444"]
schedule = "weekly"

[[report.audience]]
name = "finance"
recipients = ["cfo@example.com"]
accounts = "all"
schedule = "monthly"
"""


def test_the_report_job_reads_awscost_toml_from_s3_and_sends_what_is_due(
    deployed: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Lambda environment holds 4 KB: the audiences come from an awscost.toml in S3. On Monday the 9th the
    daily rule sends the weekly audience its last week (from Cost Explorer); the monthly one is not due."""
    import boto3

    s3 = boto3.client("s3", region_name="us-east-1")
    for bucket in ("awscost-config", "awscost-reports"):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket="awscost-config", Key="prod/awscost.toml", Body=REPORT_CONFIG.encode())
    ses = boto3.client("ses", region_name="us-east-1")
    ses.verify_email_identity(EmailAddress="finops@example.com")
    sent_before = ses.get_send_quota()["SentLast24Hours"]
    monkeypatch.setenv("AWSCOST_CONFIG", "s3://awscost-config/prod/awscost.toml")
    result = handle("report")
    assert (
        result["failed"] == 0
        and result["failures"] == []
        and result["source"] == "Cost Explorer GetCostAndUsage"
    )
    assert [(r["audience"], r["period"]) for r in result["reports"]] == [
        ("payments", "2026-11-02..2026-11-08")
    ]
    # The sandbox's Cost Explorer holds nothing before the scenario's month: the week before is said to be
    # partly covered rather than compared as if it were whole.
    assert "the previous period is only partly covered" in result["reports"][0]["headline"]
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="awscost-reports")["Contents"]}
    assert "reports/payments/2026-11-02..2026-11-08/cost-report.html" in keys
    assert result["reports"][0]["delivery"]["sent"] == ["payments@example.com"]
    assert (
        ses.get_send_quota()["SentLast24Hours"] > sent_before
    )  # SES took it (parsed back in test_report_job)
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    metrics = cloudwatch.list_metrics(Namespace="awscost", Dimensions=[{"Name": "Job", "Value": "report"}])
    assert {m["MetricName"] for m in metrics["Metrics"]} == {
        "Reports",
        "MailsSent",
        "FailedReports",
        "Failures",
    }


def test_settings_come_from_s3_or_ssm_and_a_missing_one_is_one_line(deployed: str) -> None:
    import boto3

    from awscost.core.config import load_settings
    from awscost.core.errors import ConfigError

    text = '[awscost]\norg_name = "from-remote"\n' + REPORT_CONFIG
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="awscost-settings")
    s3.put_object(Bucket="awscost-settings", Key="awscost.toml", Body=text.encode())
    ssm = boto3.client("ssm", region_name="us-east-1")
    ssm.put_parameter(Name="/finops/awscost-config", Value=text, Type="SecureString", Tier="Advanced")
    for location in ("s3://awscost-settings/awscost.toml", "ssm:/finops/awscost-config"):
        settings = load_settings(location, env={})
        assert settings.org_name == "from-remote" and settings.config_path == location
        assert [a["name"] for a in settings.section("report")["audience"]] == ["payments", "finance"]
    for location in ("s3://awscost-settings/nope.toml", "ssm:/finops/nope", "s3://awscost-settings"):
        with pytest.raises(ConfigError) as err:
            load_settings(location, env={})
        line = err.value.render()
        assert "\n" not in line and location in line
    s3.put_object(Bucket="awscost-settings", Key="bad.toml", Body=b"[awscost\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings("s3://awscost-settings/bad.toml", env={})


def test_the_health_job_publishes_from_what_the_other_jobs_saved(deployed: str) -> None:
    """After the collections above: collect succeeded (its result saved at the wall clock's now), while the
    samples of the fixtures' hour (2026-11-09) are older than the health job's window, so every kind is overdue."""
    import boto3

    result = handle("health")
    jobs = {j["job"]: j for j in result["jobs"]}
    assert jobs["collect"]["status"] == "ok" and jobs["report"]["schedule"] == "daily"
    assert "ec2" in result["overdue_kinds"] and result["published"] >= 1
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    listed = cloudwatch.list_metrics(Namespace="awscost", MetricName="SecondsSinceLastSuccess")["Metrics"]
    assert [{"Name": "Job", "Value": "collect"}] in [m["Dimensions"] for m in listed]
    handler_metrics = cloudwatch.list_metrics(
        Namespace="awscost", Dimensions=[{"Name": "Job", "Value": "health"}]
    )
    assert {"OverdueJobs", "OverdueKinds"} <= {m["MetricName"] for m in handler_metrics["Metrics"]}
