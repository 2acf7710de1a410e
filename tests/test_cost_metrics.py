"""The cost metrics job on the sandbox's bill: every series read back from the emulated CloudWatch equals the
cost report's own figure (month-to-date per audience and account, month-end forecast, tag coverage), and the
bound on the number of series holds (the largest accounts kept, the rest summed as `other`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from awscost.core.errors import ConfigError

HOURS = 40  # Monday 2026-11-02 00:00 .. Tuesday 15:00
TODAY = date(2026, 11, 3)
REPORT = {
    "audience": [
        {"name": "managers", "recipients": ["cto@example.com"], "accounts": "all"},
        {
            "name": "ml",
            "recipients": ["ml@example.com"],
            "accounts": ["222233334444", "333344445555"],
            "tags": {"user:Spend_Category": ["ml"]},
            "schedule": "weekly",
        },
    ],
}


@pytest.fixture(scope="module")
def bill(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    from awscost_sandbox.bill import write_bill
    from awscost_sandbox.demo import sandbox_environment
    from awscost_sandbox.seed import seed_organization
    from awscost_sandbox.server import SandboxServer

    with SandboxServer() as server:
        seed_organization(server)
        server.clock = server.scenario.hours(HOURS)[-1]
        with sandbox_environment(server):
            written = write_bill(
                server.scenario, server.scenario.hours(HOURS), tmp_path_factory.mktemp("b"), ("cur",)
            )
            yield written["cur"]


def context(tmp_path: Path, now: datetime, **raw: Any) -> Any:
    from awscost.core.config import Settings
    from awscost.jobs import Context

    settings = replace(Settings(store=f"sqlite:///{tmp_path / 's.db'}"), raw={"report": REPORT, **raw})
    return Context(settings, clock=lambda: now)


def report_documents(ctx: Any, cur: Path) -> dict[str, dict[str, Any]]:
    """The report job's month-to-date documents of the organization and of each audience."""
    from awscost.jobs import run_job
    from awscost.jobs.report import Params

    common = {"files": (str(cur),), "period": "month-to-date", "today": TODAY}
    docs = {"organization": run_job("report", ctx, Params(**common)).reports[0].document}
    for audience in ("managers", "ml"):
        docs[audience] = run_job("report", ctx, Params(audience=audience, **common)).reports[0].document
    return docs


def read_back(now: datetime) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every awscost series but the handler's (Job=...), with its one value around `now`."""
    import boto3

    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    listed = [
        m
        for m in cloudwatch.list_metrics(Namespace="awscost")["Metrics"]
        if m["Dimensions"][0]["Name"] in ("Audience", "Account")
    ]
    queries = [
        {"Id": f"m{i}", "MetricStat": {"Metric": m, "Period": 60, "Stat": "Maximum"}}
        for i, m in enumerate(listed)
    ]
    answer = cloudwatch.get_metric_data(
        MetricDataQueries=queries, StartTime=now - timedelta(minutes=5), EndTime=now + timedelta(minutes=5)
    )
    values = {r["Id"]: r["Values"] for r in answer["MetricDataResults"]}
    out = {}
    for i, m in enumerate(listed):
        assert len(values[f"m{i}"]) == 1, m
        out[(m["MetricName"], tuple((d["Name"], d["Value"]) for d in m["Dimensions"]))] = values[f"m{i}"][0]
    return out


def test_series_equal_the_reports_figures(bill: Path, tmp_path: Path) -> None:
    import urllib.request

    from awscost.jobs import run_job
    from awscost.jobs.cost_metrics import Params

    now = datetime.now(UTC).replace(microsecond=0)
    ctx = context(tmp_path, now)
    docs = report_documents(ctx, bill)
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")).read()
    result = run_job("cost_metrics", ctx, Params(files=(str(bill),), today=TODAY, publish=True))
    assert result.failures == [] and result.left_out == [] and result.month == "2026-11"
    expected: dict[tuple[str, tuple[tuple[str, str], ...]], Decimal] = {}
    for name, doc in docs.items():
        dims = (("Audience", name),)
        expected[("MonthToDateCost", dims)] = Decimal(doc["total"]["cost"])
        expected[("ForecastCost", dims)] = Decimal(doc["sections"]["cost"]["forecast"]["total"])
        expected[("TagCoverage", dims)] = Decimal(doc["tag_coverage"]["share"])
    accounts = [a for a in docs["organization"]["accounts"] if Decimal(a["cost"])]
    assert len(accounts) == 4
    for a in accounts:
        expected[("MonthToDateCost", (("Account", a["account_id"]),))] = Decimal(a["cost"])
    assert Decimal(docs["ml"]["total"]["cost"]) < Decimal(docs["managers"]["total"]["cost"])
    assert result.published == len(expected) == 13
    assert read_back(now) == {key: float(value) for key, value in expected.items()}
    # The job's own result says what it published, exactly (the series' values as the report's strings).
    shown = {
        (s["name"], tuple(s["dimensions"].items())): Decimal(s["value"]) for s in result.to_json()["series"]
    }
    assert shown == expected


def test_the_bound_keeps_the_largest_accounts_and_sums_the_rest(bill: Path, tmp_path: Path) -> None:
    import urllib.request

    from awscost.jobs import run_job
    from awscost.jobs.cost_metrics import Params

    now = datetime.now(UTC).replace(microsecond=0)
    ctx = context(tmp_path, now, metrics={"max_series": 8})
    accounts = [a for a in report_documents(ctx, bill)["organization"]["accounts"] if Decimal(a["cost"])]
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")).read()
    result = run_job("cost_metrics", ctx, Params(files=(str(bill),), today=TODAY, publish=True))
    # organization 3 + managers 3 = 6; ml's three no longer fit; the 2 left: the largest account and `other`.
    assert result.left_out == [
        "audience ml (no room for its 3 series)",
        "3 account(s) summed (Account=other)",
    ]
    published = read_back(now)
    assert len(published) == result.published == 8
    top = max(accounts, key=lambda a: Decimal(a["cost"]))
    rest = sum((Decimal(a["cost"]) for a in accounts if a is not top), Decimal(0))
    assert published[("MonthToDateCost", (("Account", top["account_id"]),))] == float(Decimal(top["cost"]))
    assert published[("MonthToDateCost", (("Account", "other"),))] == float(rest)
    assert not [k for k in published if k[1] == (("Audience", "ml"),)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[metrics]\nmax_series = 0\n", "metrics.max_series: must be an integer from 1 to 1000, not 0"),
        ('[metrics]\nmax_series = "50"\n', "metrics.max_series: must be an integer from 1 to 1000, not '50'"),
        ("[metrics]\nmax_series = true\n", "metrics.max_series: must be an integer from 1 to 1000, not True"),
        ("[metrics]\nseries = 5\n", "metrics.series: unknown key 'series' (known keys: max_series)"),
    ],
)
def test_a_bad_metrics_table_is_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    from awscost.core.config import load_settings, max_series

    path = tmp_path / "awscost.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_settings(path, env={})
    assert err.value.render().startswith(f"{path}: {message}")
    path.write_text("[metrics]\nmax_series = 12\n")
    assert max_series(load_settings(path, env={})) == 12


def test_the_handler_runs_the_scheduled_event_on_a_dataset_in_s3(
    bill: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As deployed: the event of tests/events (the stack's rule, with a fixed day), the dataset the billing
    ingest keeps in the stack's bucket, settings from the environment alone."""
    import json

    import boto3

    from awscost.core.config import Settings
    from awscost.entrypoints.lambda_handler import handler
    from awscost.jobs import Context, run_job
    from awscost.jobs.billing_load import Params as LoadParams

    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="awscost-data")
    run_job(
        "billing_load", Context(Settings()), LoadParams(paths=(str(bill),), into="s3://awscost-data/billing/")
    )
    monkeypatch.chdir(tmp_path)  # like /var/task: no awscost.toml
    monkeypatch.delenv("AWSCOST_CONFIG", raising=False)
    monkeypatch.setenv("AWSCOST_STORE", f"sqlite:///{tmp_path / 's.db'}")
    event = json.loads((Path(__file__).parent / "events" / "cost_metrics.json").read_text())
    result = handler(event)
    # Without [report] audiences: the organization's three series and one per account.
    names = sorted((s["name"], *s["dimensions"]) for s in result["series"])
    assert result["failures"] == [] and result["published"] == len(names) == 3 + 4
    assert names[:3] == [
        ("ForecastCost", "Audience"),
        ("MonthToDateCost", "Account"),
        ("MonthToDateCost", "Account"),
    ]
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    mine = cloudwatch.list_metrics(Namespace="awscost", Dimensions=[{"Name": "Job", "Value": "cost_metrics"}])
    assert {"Series", "FailedAudiences"} <= {m["MetricName"] for m in mine["Metrics"]}
