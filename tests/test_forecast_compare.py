"""awscost's forecast per account and service beside Cost Explorer's GetCostForecast (reports/forecast_compare):
over HTTP against the sandbox's Cost Explorer layer, which forecasts from the same sandbox bill the dataset
is loaded from, and against botocore's Stubber for what the sandbox does not do (an account refused, a
series without data) and the exact requests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from click.testing import CliRunner

import anomaly_bills as ab
from awscost.anomalies.forecast import forecast_bill
from awscost.billing import load, load_into
from awscost.entrypoints.cli import cli
from awscost.reports import cost_explorer as cex
from awscost.reports.forecast_compare import compare, expression

HOURS = 169  # from the scenario's start (Monday 2026-11-02 00:00) to 2026-11-09 00:00: a week whole
TODAY = date(2026, 11, 9)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    import awscost_sandbox.ce_costs  # noqa: F401  (the layer answers GetCostForecast)
    from awscost_sandbox.seed import seed_organization
    from awscost_sandbox.server import SandboxServer

    with SandboxServer() as server:
        seed_organization(server)  # the clients then call as the management (payer) account
        server.clock = server.scenario.hours(HOURS)[-1]
        yield server


@pytest.fixture(scope="module")
def dataset(sandbox: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from awscost_sandbox.bill import write_bill

    root = tmp_path_factory.mktemp("compare")
    written = write_bill(sandbox.scenario, sandbox.scenario.hours(HOURS), root / "bill", ("cur",))
    load_into([written["cur"]], root / "dataset")
    return root / "dataset"


def forecasts(dataset: Path, by: str) -> Any:
    with load(dataset) as bill:
        return forecast_bill(bill, by=by)  # type: ignore[arg-type]


@pytest.mark.parametrize("by", ["account", "service"])
def test_each_series_is_asked_with_its_filter_and_the_requests_are_priced(
    sandbox: Any, dataset: Path, by: str
) -> None:
    ours = forecasts(dataset, by)
    assert (ours.month, ours.as_of) == ("2026-11", TODAY)
    got = compare(sandbox.client("ce"), ours, today=TODAY, top=20)
    *parts, total = got.rows
    assert total.key == "total" and len(parts) == len(ours.series) - 1 == got.of == got.asked - 1
    # A series of month-long lines alone (the Savings Plan's fee on the 1st) has no hourly cost for the
    # sandbox to forecast from: DataUnavailable, that row's error; every other row is answered.
    unanswered = [r for r in got.rows if r.ce is None]
    assert all("DataUnavailableException" in str(r.error) for r in unanswered)
    assert [r.key for r in unanswered] == ([] if by == "account" else ["Savings Plans for AWS Compute usage"])
    assert got.calls == len(got.rows) and got.cost == Decimal("0.01") * len(got.rows)
    assert (got.start, got.end, got.metric) == (TODAY, date(2026, 12, 1), "AMORTIZED_COST")
    # The sandbox forecasts the month's hourly lines at their mean rate: linear, so the series' forecasts
    # of the days left add up to the total's (a bill service asked under each of Cost Explorer's names).
    actual = {s.key: s.actual for s in ours.series}
    rest = sum(r.ce - actual[r.key] for r in parts if r.ce is not None)
    assert total.ce is not None and abs(rest - (total.ce - actual["total"])) < Decimal("0.000001")
    # Both forecast the same steady fleet: Cost Explorer's inside awscost's interval, within 5 %.
    assert total.ours_low < total.ce < total.ours_high
    assert abs(total.ce - total.ours) < Decimal("0.05") * total.ours
    assert total.difference == total.ce - total.ours
    assert "AMORTIZED_COST" in got.why and "EffectiveCost" in got.why and "80%" in got.why
    if by == "service":
        ec2 = next(r for r in parts if r.key == cex.EC2)
        assert ec2.ce is not None and ec2.ce > actual[cex.EC2]
        assert any("EC2 - Other" in n for n in got.notes)


def test_only_the_largest_series_are_asked_and_it_says_so(sandbox: Any, dataset: Path) -> None:
    ours = forecasts(dataset, "service")
    got = compare(sandbox.client("ce"), ours, today=TODAY, top=2)
    assert [r.key for r in got.rows] == [s.key for s in ours.series[:2]] + ["total"]
    assert got.calls == 3 and got.cost == Decimal("0.03")
    assert f"the 2 largest of {len(ours.series) - 1} service series (and the total) asked" in got.notes[0]


def test_the_command_line_shows_both_with_the_difference_and_the_cost(sandbox: Any, dataset: Path) -> None:
    from awscost_sandbox.demo import sandbox_environment

    args = ["forecast", "--dataset", str(dataset), "--compare", "ce", "--today", TODAY.isoformat()]
    with sandbox_environment(sandbox):
        table = CliRunner().invoke(cli, args, catch_exceptions=False)
        data = CliRunner().invoke(cli, [*args, "--format", "json"], catch_exceptions=False)
    assert table.exit_code == 0 and data.exit_code == 0, table.output + data.output
    text = " ".join(table.stdout.split())
    assert "awscost (EffectiveCost of the bill) and Cost Explorer (AMORTIZED_COST)" in text
    assert "Cost Explorer: 5 requests, $0.05 at $0.01 each" in text  # four accounts and the total
    got = json.loads(data.stdout)["cost_explorer"]
    assert got["requests"] == 5 and got["cost"] == "0.05" and len(got["rows"]) == 5
    assert all(
        Decimal(r["difference"])
        == Decimal(r["cost_explorer"]["forecast"]) - Decimal(r["awscost"]["forecast"])
        for r in got["rows"]
    )


# ---------------------------------------------------------------- Stubber: the requests, refusals, no data
@pytest.fixture(scope="module")
def bill_forecasts(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("stub")
    load_into([ab.write(root)], root / "dataset")
    with load(root / "dataset") as bill:
        return forecast_bill(bill, as_of=date(2026, 10, 15))


def answer(mean: str, low: str, high: str) -> dict[str, Any]:
    return {
        "Total": {"Amount": mean, "Unit": "USD"},
        "ForecastResultsByTime": [
            {
                "TimePeriod": {"Start": "2026-10-15", "End": "2026-11-01"},
                "MeanValue": mean,
                "PredictionIntervalLowerBound": low,
                "PredictionIntervalUpperBound": high,
            }
        ],
    }


def request(account: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "TimePeriod": {"Start": "2026-10-15", "End": "2026-11-01"},
        "Metric": "AMORTIZED_COST",
        "Granularity": "MONTHLY",
        "PredictionIntervalLevel": 80,
    }
    if account is not None:
        out["Filter"] = {"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": [account]}}
    return out


def test_an_account_refused_and_one_without_data_are_their_rows_and_the_rest_is_asked(
    bill_forecasts: Any,
) -> None:
    ce = boto3.client("ce", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    first, second, third, total = (s.key for s in bill_forecasts.series)
    assert total == "total"
    with Stubber(ce) as stub:
        stub.add_client_error(
            "get_cost_forecast", "AccessDeniedException", "not yours", 400, expected_params=request(first)
        )
        stub.add_client_error(
            "get_cost_forecast", "DataUnavailableException", "no data", 400, expected_params=request(second)
        )
        stub.add_response("get_cost_forecast", answer("1000.5", "900", "1100"), request(third))
        stub.add_response("get_cost_forecast", answer("9000", "8000", "10000"), request(None))
        got = compare(ce, bill_forecasts, today=date(2026, 10, 15))
        stub.assert_no_pending_responses()
    rows = {r.key: r for r in got.rows}
    assert rows[first].ce is None and "AccessDeniedException" in str(rows[first].error)
    assert rows[second].ce is None and "DataUnavailableException" in str(rows[second].error)
    mtd = {s.key: s.actual for s in bill_forecasts.series}
    assert (rows[third].ce, rows[third].ce_low, rows[third].ce_high) == (
        mtd[third] + Decimal("1000.5"), mtd[third] + 900, mtd[third] + 1100
    )  # fmt: skip
    assert rows["total"].ce == mtd["total"] + 9000 and rows["total"].difference is not None
    assert got.calls == 4 and got.cost == Decimal("0.04")  # refused requests were sent too
    assert json.loads(json.dumps(got.to_json()))["rows"][0]["error"].startswith(
        "ce us-east-1: Cost Explorer GetCostForecast failed: AccessDeniedException"
    )


def test_a_late_run_says_which_days_neither_side_holds_and_a_past_month_asks_nothing(
    bill_forecasts: Any,
) -> None:
    ce = boto3.client("ce", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(ce) as stub:
        for _ in bill_forecasts.series:
            stub.add_response("get_cost_forecast", answer("10", "9", "11"))
        late = compare(ce, bill_forecasts, today=date(2026, 10, 20))
    assert late.start == date(2026, 10, 20)
    assert any("the days 2026-10-15 .. 2026-10-19 are in neither" in n for n in late.notes)
    with Stubber(ce):  # nothing queued: any request would fail
        past = compare(ce, bill_forecasts, today=date(2026, 11, 3))
    assert past.calls == 0 and past.start is None and all(r.ce is None and r.error is None for r in past.rows)
    assert "2026-10 is complete" in past.notes[0]


def test_a_service_is_asked_under_each_of_cost_explorers_names() -> None:
    assert expression("service", cex.EC2) == {
        "Dimensions": {"Key": "SERVICE", "Values": [cex.EC2_COMPUTE, cex.EC2_OTHER]}
    }
    assert expression("service", "Amazon Relational Database Service") == {
        "Dimensions": {"Key": "SERVICE", "Values": ["Amazon Relational Database Service"]}
    }
    assert expression("total", "total") is None
