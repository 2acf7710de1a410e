"""The month-end forecast per account and per service (anomalies/forecast.py): the report's forecaster per
series of a real CUR layout's daily cost, recurring fees added as billed, short series on the run-rate, a
month with nothing yet, one currency; the job and `awscost forecast`; the back-test against the naive
run-rate on synthetic bills of a fixed seed."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import anomaly_bills as ab
from awscost.anomalies import forecast as fc
from awscost.billing import load, load_into
from awscost.billing.forecast import forecast_month
from awscost.core.config import Settings
from awscost.core.errors import InputError
from awscost.entrypoints.cli import cli
from awscost.jobs import Context, run_job
from awscost.jobs.forecast import Params

OCT = date(2026, 10, 1)
SUPPORT = "AWS Support (Business)"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("forecast-bill")
    load_into([ab.write(root)], root / "dataset")
    return root / "dataset"


def flat(first: date, days: int, cost: str = "100") -> list[tuple[date, Decimal]]:
    return [(first + timedelta(days=k), Decimal(cost)) for k in range(days)]


# ---------------------------------------------------------------- one series
def test_a_fee_on_the_1st_is_added_as_billed_not_forecast_as_a_rate() -> None:
    fee = [(OCT, Decimal(900)), (date(2026, 9, 1), Decimal(900))]
    costs = [(d, c + dict(fee).get(d, Decimal(0))) for d, c in flat(date(2026, 8, 6), 70)]  # to Oct 14
    got = fc.forecast_series(costs, fee, month=OCT, as_of=date(2026, 10, 15))
    assert got is not None
    assert (got.days_known, got.days_left, got.actual, got.recurring) == (14, 17, Decimal(2300), Decimal(900))
    assert got.total == Decimal(900 + 31 * 100)  # a flat $100/day and the one fee: exact
    # No error on the back-test of a flat usage: the interval is the cents of the points' rounding.
    assert got.total - got.low == got.high - got.total == Decimal("0.09")
    assert "recurring charges 900.00 added as billed" in got.method
    # Fed as a day of its own (the report's forecaster alone), the fee widens the back-tested interval.
    alone = forecast_month([(d, c) for d, c in costs if d < date(2026, 10, 15)])
    assert alone.high - alone.low > 0


def test_a_month_with_nothing_yet_is_forecast_whole_with_last_months_fees_carried() -> None:
    fee = [(date(2026, 9, 1), Decimal(900))]
    costs = [(d, c + dict(fee).get(d, Decimal(0))) for d, c in flat(date(2026, 8, 1), 61)]  # to Sep 30
    got = fc.forecast_series(costs, fee, month=OCT, as_of=OCT)
    assert got is not None and (got.days_known, got.days_left, got.actual) == (0, 31, Decimal(0))
    assert got.carried and got.recurring == Decimal(900)
    assert got.total == Decimal(900 + 31 * 100)
    assert "carried from the month before" in got.method


def test_new_spend_with_under_seven_days_uses_the_run_rate_and_says_so() -> None:
    got = fc.forecast_series(flat(date(2026, 10, 10), 4, "50"), month=OCT, as_of=date(2026, 10, 14))
    assert got is not None and got.fallback and got.method.startswith("run-rate of 4 days")
    assert got.total == Decimal(50 * 4 + 50 * 18)
    assert got.actual < got.low < got.total < got.high


def test_a_series_that_stopped_forecasts_nothing_more_and_one_without_cost_is_left_out() -> None:
    stopped = flat(date(2026, 8, 6), 40)  # to Sep 14
    got = fc.forecast_series(stopped, month=OCT, as_of=date(2026, 10, 15))
    assert got is not None and got.actual == 0 and got.total == 0 and got.low == 0
    assert fc.forecast_series(flat(date(2026, 6, 1), 10), month=OCT, as_of=date(2026, 10, 15)) is None


def test_the_forecaster_takes_the_month_after_the_series_and_nothing_else() -> None:
    series = flat(date(2026, 8, 5), 57)  # to Sep 30
    got = forecast_month(series, month=OCT)
    assert (got.month, got.days_observed, got.days_remaining, got.actual) == ("2026-10", 0, 31, Decimal(0))
    assert forecast_month(series, month=date(2026, 9, 1)).days_remaining == 0
    with pytest.raises(InputError, match="forecasts 2026-09 or 2026-10, not 2026-11-01"):
        forecast_month(series, month=date(2026, 11, 1))
    with pytest.raises(InputError, match="forecasts 2026-09, not 2026-10-01"):
        forecast_month(series[:-1], month=OCT)


# ---------------------------------------------------------------- a bill
def test_per_account_and_service_from_the_bill_with_the_total_forecast_apart(dataset: Path) -> None:
    with load(dataset) as bill:
        by_account = fc.forecast_bill(bill, as_of=date(2026, 10, 15))
        by_service = fc.forecast_bill(bill, by="service", as_of=date(2026, 10, 15))
        daily = bill.daily_costs(start=OCT, end=date(2026, 10, 15))
    month_to_date = sum((Decimal(r["Cost"]) for r in daily), Decimal(0))
    for got in (by_account, by_service):
        assert (got.month, got.as_of, got.currency, got.metric) == (
            "2026-10",
            date(2026, 10, 15),
            "USD",
            "EffectiveCost",
        )
        *parts, total = got.series
        assert total.group == "total" and total.actual == month_to_date == sum(s.actual for s in parts)
        assert all((s.days_known, s.days_left, s.month) == (14, 17, "2026-10") for s in got.series)
        assert [s.total for s in parts] == sorted((s.total for s in parts), reverse=True)
        assert all(s.low <= s.total <= s.high and s.actual <= s.low for s in got.series)
        assert "do not add up" in got.notes[0]
    assert {s.key for s in by_account.series} == {ab.PAYER, ab.TEAM_A, ab.TEAM_B, "total"}
    assert {s.key for s in by_service.series} == {
        "Amazon Elastic Compute Cloud", "Amazon Relational Database Service", SUPPORT, "total"
    }  # fmt: skip
    # The support fee is the payer's: billed on the 1st, nothing more forecast for it.
    support = next(s for s in by_service.series if s.key == SUPPORT)
    assert support.actual == support.recurring == support.total == Decimal(900)
    payer = next(s for s in by_account.series if s.key == ab.PAYER)
    assert payer.total == Decimal(900)
    # Team B runs steady: the days left are forecast at about its daily cost so far.
    team_b = next(s for s in by_account.series if s.key == ab.TEAM_B)
    per_day = (team_b.total - team_b.actual) / team_b.days_left
    assert abs(per_day - team_b.actual / 14) < Decimal("0.05") * team_b.actual / 14


def test_the_default_is_the_bills_last_whole_day_and_a_past_month_is_as_it_ended(dataset: Path) -> None:
    with load(dataset) as bill:
        now = fc.forecast_bill(bill)
        september = fc.forecast_bill(bill, month=date(2026, 9, 1))
        with pytest.raises(InputError, match="2026-11 has nothing of it"):
            fc.forecast_bill(bill, month=date(2026, 11, 1))
        with pytest.raises(InputError, match="is not in 2026-10"):
            fc.forecast_bill(bill, month=OCT, as_of=date(2026, 11, 2))
    assert (now.month, now.as_of, now.last_day) == ("2026-10", date(2026, 10, 24), date(2026, 10, 23))
    assert september.as_of == OCT
    assert all(s.days_left == 0 and s.total == s.actual.quantize(fc.CENT) for s in september.series)


def test_two_currencies_are_an_error(tmp_path: Path) -> None:
    from test_cost_truth import write_cur

    lines = [
        {"lineItem/LineItemType": "Usage", "lineItem/UnblendedCost": "100", "lineItem/UsageAmount": "1"},
        {"lineItem/LineItemType": "Usage", "lineItem/UnblendedCost": "100", "lineItem/UsageAmount": "1",
         "lineItem/CurrencyCode": "EUR", "lineItem/UsageAccountId": "222222222222"},
    ]  # fmt: skip
    with load(write_cur(tmp_path / "fx.csv", lines)) as bill, pytest.raises(InputError, match="2 currencies"):
        fc.forecast_bill(bill, as_of=date(2024, 3, 6))  # the bill's one day, 2024-03-05


# ---------------------------------------------------------------- the job and the command line
def run(dataset: Path, **kw: Any) -> Any:
    return run_job("forecast", Context(Settings()), Params(dataset=str(dataset), **kw))


def test_the_job_and_the_command_line_give_the_same_figures_as_decimal_strings(dataset: Path) -> None:
    job = run(dataset, by="service", as_of=date(2026, 10, 15)).to_json()
    args = ["forecast", "--dataset", str(dataset), "--by", "service", "--as-of", "2026-10-15"]
    result = CliRunner().invoke(cli, [*args, "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    assert got == job
    assert got["source"].startswith("the bill (") and got["source"].endswith(
        "daily EffectiveCost per service"
    )
    total = got["series"][-1]
    assert total["key"] == "total" and Decimal(total["forecast"]) > Decimal(total["actual"])
    assert all(isinstance(s[k], str) for s in got["series"] for k in ("actual", "forecast", "low", "high"))
    table = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert table.exit_code == 0, table.output
    assert (
        "Forecast of 2026-10 per service" in table.stdout and "14 days known, 17 left (USD)" in table.stdout
    )
    assert SUPPORT in table.stdout and "note: the total is forecast as a series of its own" in table.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--month", "2026-13"], "not a month: '2026-13'"),
        (["--level", "1.5"], "level must be between 0 and 1"),
        ([], "no billing data given"),
    ],
)
def test_bad_options_are_one_line_errors(dataset: Path, args: list[str], message: str) -> None:
    data = ["--dataset", str(dataset)] if args else []
    result = CliRunner().invoke(cli, ["forecast", *data, *args])
    assert result.exit_code != 0 and isinstance(result.exception, InputError)
    assert message in str(result.exception)


# ---------------------------------------------------------------- the back-test
@pytest.mark.parametrize("events", [0.0, 1.0])
def test_on_synthetic_bills_the_forecaster_beats_the_naive_run_rate_with_an_honest_interval(
    events: float,
) -> None:
    from awscost.anomalies.synthetic import daily_series, generate

    series, recurring = daily_series(generate(11, series=12, events_per_series=events))
    trials = fc.backtest(series, recurring, cuts=(7, 14, 21))
    s = fc.score(trials)
    assert s.trials == len(trials) > 300  # 12 series x about ten months x three cut days
    assert {t.cut for t in trials} == {7, 14, 21}
    # Steps and drops (events) hurt both; the fees on the 1st and the weekday pattern only the naive.
    assert s.mape < s.naive_mape / (1 if events else 2) and s.median_ape < s.naive_median_ape
    assert 0.75 <= s.coverage <= 0.97  # the 80 % interval, conservative rather than tight
    if not events:  # not only the fees on the 1st: the weekday pattern and trend of the usage too
        assert s.mape < s.naive_usage_mape


def test_a_month_without_eight_weeks_before_it_is_not_back_tested() -> None:
    with pytest.raises(InputError, match="8 weeks of history"):
        fc.score(fc.backtest({"a": flat(date(2026, 8, 1), 61)}))
