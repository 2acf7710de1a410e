"""`awscost budgets apply`: the AWS Budgets of [budgets], applied twice against the sandbox (moto over HTTP, its
layer answering the subscriber reads moto lacks) with the second run changing nothing; UpdateBudget's exact
request through botocore's Stubber (moto has no UpdateBudget); prune; hand-made budgets untouched; bad
config as one ConfigError naming the file and key."""

from __future__ import annotations

import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from awscost.core.config import load_settings
from awscost.core.errors import ConfigError
from awscost.jobs import run_job
from awscost.jobs.base import Context
from awscost.jobs.budgets_apply import Params
from awscost.reports import budgets
from awscost_sandbox.server import SandboxServer

PAYER = "123456789012"  # the sandbox's account for its default keys
CONFIG = """
[[report.audience]]
name = "payments"
accounts = ["111111111111", "222222222222"]
[report.audience.tags]
"user:team" = ["payments"]

[budgets]
notify_sns = "arn:aws:sns:us-east-1:123456789012:cost-alerts"
notify_emails = ["finops@example.com"]

[budgets.account."111111111111"]
monthly = "1200.00"

[budgets.audience.payments]
monthly = 5000
notify_emails = ["payments@example.com", "finops@example.com"]
forecast_thresholds = [100, 120]
"""
COST_TYPES = {
    "IncludeTax": True,
    "IncludeSubscription": True,
    "UseBlended": False,
    "IncludeRefund": True,
    "IncludeCredit": True,
    "IncludeUpfront": True,
    "IncludeRecurring": True,
    "IncludeOtherSubscription": True,
    "IncludeSupport": True,
    "IncludeDiscount": True,
    "UseAmortized": True,
}


@pytest.fixture()
def server() -> Iterator[SandboxServer]:
    with SandboxServer() as srv, pytest.MonkeyPatch.context() as mp:
        for var in list(os.environ):
            if var.startswith(("AWS_", "AWSCOST_")):
                mp.delenv(var)
        for name, value in srv.env().items():
            mp.setenv(name, value)
        yield srv


def _settings(tmp_path: Path, text: str = CONFIG) -> Any:
    path = tmp_path / "awscost.toml"
    path.write_text(text)
    return load_settings(path)


def _apply(server: SandboxServer, settings: Any, **kw: Any) -> Any:
    ctx = Context(settings, session_factory=lambda: server.session())
    return run_job("budgets_apply", ctx, Params(**kw))


def _subscribers(client: Any, name: str) -> dict[tuple[str, float], list[tuple[str, str]]]:
    out = {}
    for n in client.describe_notifications_for_budget(AccountId=PAYER, BudgetName=name)["Notifications"]:
        subs = client.describe_subscribers_for_notification(AccountId=PAYER, BudgetName=name, Notification=n)
        out[(n["NotificationType"], n["Threshold"])] = sorted(
            (s["SubscriptionType"], s["Address"]) for s in subs["Subscribers"]
        )
    return out


def test_apply_twice_the_second_run_changes_nothing(server: SandboxServer, tmp_path: Path) -> None:
    client = server.client("budgets")
    hand_made = {
        "BudgetName": "team-manual",
        "BudgetLimit": {"Amount": "10", "Unit": "USD"},
        "TimeUnit": "MONTHLY",
        "BudgetType": "COST",
    }
    client.create_budget(AccountId=PAYER, Budget=hand_made)
    settings = _settings(tmp_path)

    first = _apply(server, settings)
    assert first.account == PAYER
    assert first.to_json()["created"] == ["awscost-account-111111111111", "awscost-audience-payments"]
    held = {b["BudgetName"]: b for b in client.describe_budgets(AccountId=PAYER)["Budgets"]}
    assert set(held) == {"team-manual", "awscost-account-111111111111", "awscost-audience-payments"}
    account = held["awscost-account-111111111111"]
    assert account["BudgetLimit"] == {"Amount": "1200.00", "Unit": "USD"}
    assert (account["TimeUnit"], account["BudgetType"]) == ("MONTHLY", "COST")
    assert account["CostFilters"] == {"LinkedAccount": ["111111111111"]}
    assert account["CostTypes"] == COST_TYPES  # EffectiveCost: amortized, as the reports
    audience = held["awscost-audience-payments"]
    assert audience["CostFilters"] == {
        "LinkedAccount": ["111111111111", "222222222222"],
        "TagKeyValue": ["user:team$payments"],
    }
    sns = ("SNS", "arn:aws:sns:us-east-1:123456789012:cost-alerts")
    assert _subscribers(client, "awscost-account-111111111111") == {
        ("ACTUAL", 80.0): [("EMAIL", "finops@example.com"), sns],
        ("ACTUAL", 100.0): [("EMAIL", "finops@example.com"), sns],
        ("FORECASTED", 100.0): [("EMAIL", "finops@example.com"), sns],
    }
    both = [("EMAIL", "finops@example.com"), ("EMAIL", "payments@example.com"), sns]
    assert _subscribers(client, "awscost-audience-payments") == {
        ("ACTUAL", 80.0): both,
        ("ACTUAL", 100.0): both,
        ("FORECASTED", 100.0): both,
        ("FORECASTED", 120.0): both,
    }

    second = _apply(server, settings)
    assert not second.changed
    assert second.to_json()["unchanged"] == ["awscost-account-111111111111", "awscost-audience-payments"]
    assert [c.action for c in second.changes] == ["unchanged", "unchanged"]
    after = {b["BudgetName"]: b for b in client.describe_budgets(AccountId=PAYER)["Budgets"]}
    assert {n: b["LastUpdatedTime"] for n, b in after.items()} == {
        n: b["LastUpdatedTime"] for n, b in held.items()
    }  # nothing written


def test_a_changed_config_is_applied_and_then_stable(server: SandboxServer, tmp_path: Path) -> None:
    _apply(server, _settings(tmp_path))
    changed = CONFIG.replace('monthly = "1200.00"', 'monthly = "1500"').replace(
        'notify_emails = ["finops@example.com"]', 'notify_emails = ["cfo@example.com"]'
    )
    settings = _settings(tmp_path, changed)
    dry = _apply(server, settings, dry_run=True)
    assert dry.to_json()["updated"] == ["awscost-account-111111111111"]
    assert dry.changes[0].changes == ["amount 1200.00 USD -> 1500 USD", "notifications"]
    assert (
        _apply(server, settings, dry_run=True).to_json()["updated"] == dry.to_json()["updated"]
    )  # nothing done

    applied = _apply(server, settings)
    assert applied.to_json()["updated"] == ["awscost-account-111111111111"]
    client = server.client("budgets")
    budget = client.describe_budget(AccountId=PAYER, BudgetName="awscost-account-111111111111")["Budget"]
    assert budget["BudgetLimit"] == {"Amount": "1500", "Unit": "USD"}
    sns = ("SNS", "arn:aws:sns:us-east-1:123456789012:cost-alerts")
    assert set(map(tuple, _subscribers(client, "awscost-account-111111111111").values())) == {
        (("EMAIL", "cfo@example.com"), sns)
    }
    assert not _apply(server, settings).changed


def test_update_budget_sends_the_whole_budget_exactly() -> None:
    """moto has no UpdateBudget: the request is checked by botocore's Stubber against the real model."""
    client = boto3.client(
        "budgets", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    )
    notification = {
        "NotificationType": "ACTUAL",
        "ComparisonOperator": "GREATER_THAN",
        "Threshold": 100.0,
        "ThresholdType": "PERCENTAGE",
        "NotificationState": "OK",
    }
    name = "awscost-account-111111111111"
    with Stubber(client) as stub:
        stub.add_response(
            "describe_budgets",
            {
                "Budgets": [
                    {
                        "BudgetName": name,
                        "BudgetLimit": {"Amount": "1000.0", "Unit": "USD"},  # AWS writes it back so
                        "CostFilters": {"LinkedAccount": ["111111111111"]},
                        "CostTypes": COST_TYPES,
                        "TimeUnit": "MONTHLY",
                        "BudgetType": "COST",
                    },
                    {
                        "BudgetName": "made-by-hand",
                        "BudgetLimit": {"Amount": "5", "Unit": "USD"},
                        "TimeUnit": "MONTHLY",
                        "BudgetType": "COST",
                    },
                ]
            },
            {"AccountId": PAYER},
        )
        stub.add_response(
            "describe_notifications_for_budget",
            {"Notifications": [notification]},
            {"AccountId": PAYER, "BudgetName": name},
        )
        stub.add_response(
            "describe_subscribers_for_notification",
            {"Subscribers": [{"SubscriptionType": "EMAIL", "Address": "finops@example.com"}]},
            {"AccountId": PAYER, "BudgetName": name, "Notification": notification},
        )
        stub.add_response(
            "update_budget",
            {},
            {
                "AccountId": PAYER,
                "NewBudget": {
                    "BudgetName": name,
                    "BudgetLimit": {"Amount": "1250.50", "Unit": "USD"},
                    "CostFilters": {"LinkedAccount": ["111111111111"]},
                    "CostTypes": COST_TYPES,
                    "TimeUnit": "MONTHLY",
                    "BudgetType": "COST",
                },
            },
        )
        held = budgets.actual(client, PAYER)
        assert set(held) == {name}  # the hand-made budget is not awscost's
        entry = budgets.BudgetEntry(
            "account",
            "111111111111",
            Decimal("1250.50"),
            budgets.Notify(emails=("finops@example.com",), actual=(Decimal(100),), forecast=()),
            "test",
        )
        wanted = budgets.desired(budgets.BudgetSettings((entry,)), {}, lambda unit: [])
        changes = budgets.plan(wanted, held, prune=False)
        assert [(c.action, c.changes) for c in changes] == [("update", ["amount 1000.0 USD -> 1250.50 USD"])]
        budgets.apply(client, PAYER, wanted, held, changes)  # exactly one UpdateBudget, nothing else
        stub.assert_no_pending_responses()


def test_a_budget_removed_from_config_is_reported_and_deleted_only_with_prune(
    server: SandboxServer, tmp_path: Path
) -> None:
    client = server.client("budgets")
    client.create_budget(
        AccountId=PAYER,
        Budget={
            "BudgetName": "team-manual",
            "BudgetLimit": {"Amount": "10", "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
        },
    )
    _apply(server, _settings(tmp_path))
    fewer = CONFIG.split("[budgets.audience.payments]")[0]
    settings = _settings(tmp_path, fewer)
    kept = _apply(server, settings)
    assert kept.to_json()["not_in_config"] == ["awscost-audience-payments"] and not kept.changed
    names = {b["BudgetName"] for b in client.describe_budgets(AccountId=PAYER)["Budgets"]}
    assert names == {"team-manual", "awscost-account-111111111111", "awscost-audience-payments"}

    assert _apply(server, settings, prune=True, dry_run=True).to_json()["removed"] == [
        "awscost-audience-payments"
    ]
    pruned = _apply(server, settings, prune=True)
    assert pruned.to_json()["removed"] == ["awscost-audience-payments"]
    names = {b["BudgetName"] for b in client.describe_budgets(AccountId=PAYER)["Budgets"]}
    assert names == {"team-manual", "awscost-account-111111111111"}  # the hand-made one untouched
    assert not _apply(server, settings, prune=True).changed


def test_the_command_prints_what_changed_then_no_change(server: SandboxServer, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from awscost.entrypoints.cli import cli

    path = tmp_path / "awscost.toml"
    path.write_text(CONFIG)
    runner = CliRunner()
    first = runner.invoke(cli, ["budgets", "apply", "--config", str(path)])
    assert first.exit_code == 0, first.output
    assert first.stdout.count("created") == 2 and "awscost-audience-payments" in first.stdout
    second = runner.invoke(cli, ["budgets", "apply", "--config", str(path)])
    assert second.exit_code == 0 and "no change" in second.stderr
    assert second.stdout.count("unchanged") == 2


@pytest.mark.parametrize(
    ("body", "where", "message"),
    [
        (
            '[budgets.account."111111111111"]\nmonthly = 12.5\n',
            'budgets.account."111111111111".monthly',
            "TOML float",
        ),
        (
            '[budgets.account."111111111111"]\nmonthly = "12.345"\n',
            'budgets.account."111111111111".monthly',
            "two decimals",
        ),
        (
            '[budgets.account."111111111111"]\nmonthly = "-3"\n',
            'budgets.account."111111111111".monthly',
            "above 0",
        ),
        ('[budgets.account."111111111111"]\n', 'budgets.account."111111111111".monthly', "monthly amount"),
        ('[budgets.account."1111"]\nmonthly = "1"\n', 'budgets.account."1111"', "12 digits"),
        (
            '[budgets.account."111111111111"]\nmonthy = "1"\n',
            'budgets.account."111111111111".monthy',
            "unknown key",
        ),
        ('[budgets]\nnotify_sns = "sns:topic"\n', "budgets.notify_sns", "not an SNS topic ARN"),
        ('[budgets]\nnotify_emails = ["nobody"]\n', "budgets.notify_emails", "not a mail address"),
        ("[budgets]\nactual_thresholds = [50]\n", "budgets", "notify nobody"),
        (
            '[budgets]\nnotify_emails = ["a@b.example"]\nactual_thresholds = [0]\n',
            "budgets.actual_thresholds",
            "above 0",
        ),
        ('[budgets]\nmetric = "Cost"\n', "budgets.metric", "unknown metric"),
        ('[budgets.audience.nobody]\nmonthly = "1"\n', "budgets.audience.nobody", "unknown audience"),
        ("[budgets]\nprefix = 'x'\n", "budgets.prefix", "unknown key"),
    ],
)
def test_bad_config_is_one_error_naming_the_file_and_key(
    tmp_path: Path, body: str, where: str, message: str
) -> None:
    settings = _settings(tmp_path, body)
    with pytest.raises(ConfigError) as err:
        budgets.budget_settings(settings)
    assert err.value.where == f"{tmp_path / 'awscost.toml'}: {where}"
    assert message in err.value.message


def test_an_audience_on_two_tag_keys_cannot_be_one_budget(tmp_path: Path) -> None:
    from awscost.reports.config import report_settings

    settings = _settings(
        tmp_path,
        '[[report.audience]]\nname = "web"\naccounts = "all"\n[report.audience.tags]\n'
        '"user:team" = ["web"]\n"user:env" = ["prod"]\n[budgets.audience.web]\nmonthly = "100"\n',
    )
    config = budgets.budget_settings(settings)
    audiences = {a.name: a for a in report_settings(settings).audiences}
    with pytest.raises(ConfigError, match="a budget can filter on one") as err:
        budgets.desired(config, audiences, lambda unit: [])
    assert err.value.where == f"{tmp_path / 'awscost.toml'}: budgets.audience.web"


def _month_report(today: Any, period: str, budgets_of: Any, audience: Any = None) -> Any:
    from datetime import UTC, datetime, timedelta

    from awscost.billing.cube import CostCube, CostRow
    from awscost.reports.config import organization_audience
    from awscost.reports.cost_report import build_report, scope_of
    from awscost.reports.forecasting import bill_forecast
    from awscost.reports.periods import resolve

    start = today - timedelta(days=70)
    rows = []
    for i in range((today - start).days):
        day = start + timedelta(days=i)
        rows.append(CostRow(day, "USD", "111111111111", "Amazon EC2", Decimal("30.25"), Decimal("30.25")))
        rows.append(CostRow(day, "USD", "222222222222", "Amazon S3", Decimal("10"), Decimal("10")))
    audience = audience or organization_audience()
    with CostCube.from_rows(rows, start=start, end=today, source="test rows") as cube:
        return build_report(
            cube, audience, resolve(period, today=today), scope=scope_of(audience), metric="EffectiveCost",
            tag_key="user:t", names={"111111111111": "prod"}, generated_at=datetime(2026, 11, 13, 6, tzinfo=UTC),
            sections=["cost"], forecast=bill_forecast, budgets=budgets_of,
        )  # fmt: skip


def test_the_cost_report_shows_budget_vs_actual_vs_forecast(tmp_path: Path) -> None:
    from datetime import date

    settings = _settings(
        tmp_path,
        '[budgets.account."111111111111"]\nmonthly = "1000"\n'
        '[budgets.audience.organization]\nmonthly = "1500.00"\n',
    )
    config = budgets.budget_settings(settings)
    report = _month_report(
        date(2026, 11, 13), "month-to-date", lambda: budgets.report_budgets(config, "organization")
    )
    cost = report.section("cost")
    rows = {r["budget"]: r for r in cost.data["budgets"]}
    assert list(rows) == ["awscost-account-111111111111", "awscost-audience-organization"]
    account, whole = rows["awscost-account-111111111111"], rows["awscost-audience-organization"]
    # Actual: the report's own month to date (12 days); forecast: the bill's, a constant series to the cent.
    figures = ("monthly_budget", "actual", "forecast", "actual_of_budget", "forecast_of_budget")
    assert [Decimal(account[k]) for k in figures] == [
        1000,
        Decimal("363"),
        Decimal("907.5"),
        Decimal("0.363"),
        Decimal("0.9075"),
    ]
    assert account["scope"] == "account 111111111111 (prod)" and account["source"] == "awscost.toml [budgets]"
    assert (whole["actual"], whole["forecast"]) == (
        cost.data["total"]["cost"],
        cost.data["forecast"]["total"],
    )
    assert Decimal(whole["forecast"]) == Decimal("1207.50")
    assert whole["scope"] == "this report's scope"
    assert any(f.label == "Budget for 2026-11 (awscost.toml [budgets])" for f in cost.figures)
    assert any(
        n.startswith("Budget 1,500.00 USD: actual 483.00 (32.2 %), forecast 1,207.50") for n in cost.notes
    )
    table = next(t for t in cost.tables if t.name == "budgets")
    assert table.rows[0][2:7] == (
        Decimal(1000),
        Decimal("363.00"),
        Decimal("0.363"),
        Decimal("907.50"),
        Decimal("0.9075"),
    )

    closed = _month_report(
        date(2026, 11, 13), "2026-10", lambda: budgets.report_budgets(config, "organization")
    )
    october = {r["budget"]: r for r in closed.section("cost").data["budgets"]}
    assert Decimal(october["awscost-account-111111111111"]["actual"]) == Decimal("937.75")  # 31 days
    assert (
        october["awscost-account-111111111111"]["forecast"]
        == october["awscost-account-111111111111"]["actual"]
    )
    week = _month_report(
        date(2026, 11, 13), "last-week", lambda: budgets.report_budgets(config, "organization")
    )
    assert "budgets" not in week.section("cost").data  # a monthly budget says nothing of a week


def test_a_report_shows_no_account_budget_outside_its_scope_and_says_why_budgets_are_missing(
    tmp_path: Path,
) -> None:
    from datetime import date

    from awscost.core.errors import AwsAccessError
    from awscost.reports.config import Audience

    config = budgets.budget_settings(
        _settings(tmp_path, '[budgets.account."111111111111"]\nmonthly = "1000"\n')
    )
    other = Audience("storage", accounts=("222222222222",))
    report = _month_report(
        date(2026, 11, 13), "month-to-date", lambda: budgets.report_budgets(config, "storage"), other
    )
    assert "budgets" not in report.section("cost").data  # account 111111111111 is not this audience's to see

    def refused() -> Any:
        raise AwsAccessError("reading the budgets failed: AccessDenied", where="budgets us-east-1")

    failing = _month_report(date(2026, 11, 13), "month-to-date", refused)
    assert (
        failing.section("cost").notes[-1]
        == "Budgets not shown: budgets us-east-1: reading the budgets failed: AccessDenied"
    )


def test_the_budget_amounts_can_come_from_aws(server: SandboxServer, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    _apply(server, settings)
    client = server.client("budgets")
    client.update_budget(
        AccountId=PAYER,
        NewBudget={
            "BudgetName": "awscost-account-111111111111",
            "BudgetLimit": {"Amount": "999.0", "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
        },
    )
    amounts = budgets.held_amounts(client, PAYER)
    assert amounts == {
        "awscost-account-111111111111": Decimal("999.0"),
        "awscost-audience-payments": Decimal(5000),
    }
    shown = budgets.report_budgets(budgets.budget_settings(settings), "payments", amounts)
    assert [(b.name, b.account, b.amount, b.source) for b in shown] == [
        ("awscost-account-111111111111", "111111111111", Decimal("999.0"), "AWS Budgets (DescribeBudgets)"),
        ("awscost-audience-payments", None, Decimal(5000), "AWS Budgets (DescribeBudgets)"),
    ]


def test_the_lambda_handler_runs_the_event_fixture(
    server: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from awscost.entrypoints.lambda_handler import handler
    from awscost.jobs.results import latest_result
    from awscost.store import open_store

    (tmp_path / "awscost.toml").write_text(CONFIG)
    store = f"sqlite:///{tmp_path / 'awscost.db'}"
    monkeypatch.setenv("AWSCOST_CONFIG", str(tmp_path / "awscost.toml"))
    monkeypatch.setenv("AWSCOST_STORE", store)
    event = json.loads((Path(__file__).parent / "events" / "budgets_apply.json").read_text())
    result = handler(event)
    assert result["dry_run"] is True and result["account"] == PAYER
    assert result["created"] == ["awscost-account-111111111111", "awscost-audience-payments"]
    assert server.client("budgets").describe_budgets(AccountId=PAYER).get("Budgets", []) == []  # a dry run
    with open_store(store) as opened:
        saved = latest_result(opened, "budgets_apply")
    assert saved is not None and saved.result == result
