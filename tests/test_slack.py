"""`/awscost` in Slack (entrypoints/slack) over the dashboard's data (a real legacy-CUR layout, its anomaly
log, 48 collected hours, a saved RI plan): requests signed exactly as Slack signs them, sent over HTTP to the
app on 127.0.0.1, answered through a local receiver standing in for `response_url`; every subcommand's figures
compared with the report job's own for the same period and audience; the refusals (signature, header, replay,
size, user, audience) proven not to run the command."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import anomaly_bills as ab
import dashboard_data
import slack_harness as sh
from awscost.core.config import Settings, load_settings
from awscost.entrypoints.slack.answer import Responder, responder
from awscost.entrypoints.slack.app import MAX_BODY, create_app
from awscost.entrypoints.slack.quick import WORKING, Asked
from awscost.jobs import Context, run_job, save_latest
from awscost.jobs.report import Params as ReportParams
from awscost.jobs.ri_plan import Params as PlanParams
from awscost.store import open_store
from awscost.store.base import UsageItem

TODAY = date(2026, 10, 24)
ORG_USER, ML_USER, STRANGER = "U0ORGADMIN", "U0MLLEAD", "U0NOBODY"
WEB_CHANNEL = "C0WEBTEAM"


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Settings]:
    root = tmp_path_factory.mktemp("slack")
    dataset, store_url = dashboard_data.make(root)
    path = root / "awscost.toml"
    path.write_text(
        f'[awscost]\nstore = "{store_url}"\n[billing]\ndataset = "{dataset}"\n'
        f'[[report.audience]]\nname = "ml"\naccounts = ["{ab.TEAM_B}"]\n'
        f'[[report.audience]]\nname = "web"\naccounts = ["{ab.TEAM_A}"]\n'
        f'[slack]\nalerts_channel = "C0ALERTS"\n[slack.users]\n{ORG_USER} = "organization"\n'
        f'{ML_USER} = "ml"\n[slack.channels]\n{WEB_CHANNEL} = "web"\n'
    )
    settings = load_settings(path)
    # The OS-level counts of the same instances (the kind the RI plan and the usage section read), per account
    # and as the organization's total: a plan with something to buy.
    last = dashboard_data.LAST_HOUR
    with open_store(store_url) as store:
        store.put_items(
            UsageItem("ec2os", account, "us-east-1", last - timedelta(hours=h), {"linux-m5.large": n})
            for h in range(48)
            for account, n in ((ab.TEAM_A, 200), (ab.TEAM_B, 90), (settings.org_name, 290))
        )
    ctx = Context(settings)
    params = PlanParams(lookback=2, until=dashboard_data.LAST_HOUR, min_hours=1)
    save_latest(ctx, "ri_plan", params, run_job("ri_plan", ctx, params))
    return dataset, settings


class Counting(Responder):
    """The Responder, counting the commands it was asked to answer (what the refusals must leave at 0)."""

    asked: list[str]

    def answer(self, asked: Asked) -> dict[str, Any]:
        self.asked.append(asked.text)
        return super().answer(asked)


@pytest.fixture(scope="module")
def slack(data: tuple[Path, Settings]) -> Iterator[tuple[str, sh.Receiver, Counting]]:
    _dataset, settings = data
    base = responder(settings, today=TODAY)
    counting = Counting(base.settings, base.config, base.reports, TODAY)
    counting.asked = []
    app = create_app(counting.config, sh.SECRET, "xoxb-test", answer=counting.answer)
    with sh.receiver() as receiver, sh.served(app) as url:
        yield url, receiver, counting


def ask(
    slack: tuple[str, sh.Receiver, Counting], text: str, user: str = ORG_USER, channel: str = "C0GENERAL"
) -> tuple[dict[str, Any], str]:
    """Send `text` signed; (the acknowledgement's JSON, the answer's text as posted to response_url)."""
    import json

    url, receiver, _ = slack
    count = len(receiver.posts)
    body = sh.command_body(text, user, channel, f"{receiver.url}/respond/{count}")
    started = time.monotonic()
    status, ack = sh.post(url, body, sh.sign(body))
    assert status == 200, ack
    assert time.monotonic() - started < 3  # Slack's limit for the acknowledgement
    acked = json.loads(ack)
    if acked.get("text") != WORKING:
        return acked, sh.text_of(acked)
    path, message, _headers = receiver.wait(count + 1)[count]
    assert path == f"/respond/{count}" and message["response_type"] == "ephemeral"
    assert message["replace_original"] is False
    return acked, sh.text_of(message)


def report(
    settings: Settings,
    dataset: Path,
    period: str,
    audience: str | None = None,
    accounts: tuple[str, ...] = (),
    tag_key: str | None = None,
) -> Any:
    (one,) = run_job(
        "report",
        Context(settings),
        ReportParams(
            audience=audience,
            period=period,
            dataset=str(dataset),
            today=TODAY,
            accounts=accounts,
            tag_key=tag_key,
            render=False,
        ),
    ).reports
    assert one.error is None, one.error
    return one.report


def number(value: Any) -> str:
    from awscost.reports.render.formats import number as as_text

    return as_text(value)


def money(value: Any) -> str:
    return f"{Decimal(str(value)):,.2f}"


def test_cost_for_every_period_and_grouping_equals_the_report(
    slack: Any, data: tuple[Path, Settings]
) -> None:
    dataset, settings = data
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    for text, period in (
        ("cost", "month-to-date"),
        ("cost mtd by account", "month-to-date"),
        ("cost yesterday by service", f"{yesterday}..{yesterday}"),
        ("cost last-month", "last-month"),
        ("cost 2026-09 by service", "2026-09"),
    ):
        _ack, said = ask(slack, text)
        doc = report(settings, dataset, period).data
        assert doc["period"]["label"] in said, (text, said)
        assert f"{money(doc['total']['cost'])} USD" in said, (text, said)
        if "by service" not in text:
            for row in doc["accounts"]:
                assert f"*{row['name']}*  {money(row['cost'])}" in said, (text, row)
        if "by account" not in text:
            for row in doc["services"]:
                assert f"*{row['service']}*  {money(row['cost'])}" in said, (text, row)
    # by tag: the report's coverage tag, its cost per value, its share and the per-account covered cost
    _ack, said = ask(slack, "cost by tag Spend_Category")
    tags = report(settings, dataset, "month-to-date").section("tags")
    assert "Usage cost tagged" in said and "Coverage per account" in said
    assert "Usage cost per user:Spend_Category value" in said
    values = {row["value"]: row["cost"] for row in tags.data["values"]}
    assert {"web", "batch", dashboard_data.EVIL} <= set(values)  # the bill's three teams
    assert sum(Decimal(v) for v in values.values()) == Decimal(tags.data["total_cost"])  # it adds up
    for value, cost in values.items():
        if value != dashboard_data.EVIL:  # a script tag value is escaped in Slack's mrkdwn (below)
            assert f"*{value or '(untagged)'}*  {money(cost)}" in said, (value, said)
    for row in tags.data["by_account"]:
        assert money(row["covered_cost"]) in said
    # another tag than the coverage tag: the same report with its Tags section measuring that key (this bill
    # carries no `team` tag: all of its usage cost is untagged)
    _ack, said = ask(slack, "cost by tag team")
    team = report(settings, dataset, "month-to-date", tag_key="user:team").section("tags")
    assert team.data["tag"] == "user:team" and team.data["covered_cost"] == "0"
    assert [row["value"] for row in team.data["values"]] == [None]
    assert "Usage cost per user:team value" in said
    assert f"*(untagged)*  {money(team.data['total_cost'])}" in said
    assert money(team.data["total_cost"]) == money(tags.data["total_cost"])


def test_top_anomalies_forecast_usage_and_ri_equal_the_report(
    slack: Any, data: tuple[Path, Settings]
) -> None:
    dataset, settings = data
    model = report(settings, dataset, "month-to-date")
    movers = model.section("movers")
    _ack, said = ask(slack, "top")
    for mover in movers.data["services"]:
        assert (
            f"{mover['key']}*  {'+' if Decimal(mover['change']) >= 0 else ''}{money(mover['change'])}" in said
        )
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in said and "<script>" not in said  # a tag value is text

    _ack, said = ask(slack, "anomalies")
    (event,) = movers.data["anomalies"]
    assert event["date"] == "2026-10-10" and f"*{event['date']}*" in said
    assert f"{money(event['impact_total'])} USD" in said and event["service"] in said

    _ack, said = ask(slack, "forecast")
    forecast = model.section("cost").data["forecast"]
    assert f"{money(forecast['total'])} USD" in said
    assert f"{money(forecast['low'])} .. {money(forecast['high'])}" in said

    _ack, said = ask(slack, "usage ec2 us-east-1")
    assert "2026-10-23 23:00Z" in said
    assert f"*{ab.TEAM_A}* us-east-1: 200" in said and f"*{ab.TEAM_B}* us-east-1: 90" in said
    _ack, said = ask(slack, "usage ec2 eu-west-1")
    assert "_none collected_" in said and ab.TEAM_A not in said.split("Reservable")[0]

    _ack, said = ask(slack, "ri")
    savings = model.section("savings")
    assert savings.unavailable is None
    (monthly, upfront) = savings.figures
    assert f"Monthly savings of the plan*\n{money(monthly.value)} USD" in said
    assert f"Upfront payment*\n{money(upfront.value)} USD" in said
    assert monthly.value is not None and monthly.value > 0
    assert "Commitment coverage" in said  # the usage section's figures beside the plan
    plan = next(t for t in savings.tables if t.name == "plan")
    assert plan.rows
    for row in plan.rows:  # group, kind, region, recommended, monthly savings: the report's cells
        assert f"*{row[2]}*  {row[0]} · {row[1]} · {number(row[5])} · {money(row[7])}" in said, (row, said)

    _ack, said = ask(slack, "usage ec2os")
    hours = next(t for t in model.section("usage").tables if t.name == "hours")
    mine = [r for r in hours.rows if r[0] == "ec2os"]
    assert mine
    for row in mine:  # name, region, hours, previous hours, change
        assert f"*{row[2]}*  {row[3]} · {number(row[5])} · {number(row[6])}" in said, (row, said)


def test_help_and_mistakes_are_answered_at_once_naming_the_word(slack: Any) -> None:
    _url, _receiver, counting = slack
    before = len(counting.asked)
    acked, said = ask(slack, "help")
    assert (
        acked["response_type"] == "ephemeral" and "/awscost cost [yesterday|mtd|last-month|YYYY-MM]" in said
    )
    for text, word in (
        ("costs", "`costs` is not a command"),
        ("cost next-week", "`next-week` is not understood here"),
        ("cost 2026-13", "`2026-13` is not a period"),
        ("cost by region", "`region` is not a grouping"),
        ("cost account", "`account` needs an account's name or 12-digit id"),
        ("usage", "`usage` needs a kind"),
        ("usage ec2 mars-1", "`mars-1` is not a region"),
        ("ri now", "`ri` takes no more words, not `now`"),
        ("cost by <!channel>", "`&lt;!channel&gt;` is not a grouping"),
    ):
        _acked, said = ask(slack, text)
        assert word in said and "Try `/awscost help`" in said, (text, said)
        assert "Traceback" not in said
    assert len(counting.asked) == before  # answered in the acknowledgement: nothing handed to the work
    _ack, said = ask(slack, "cost 2020-01")  # the report job's own error, in one line
    assert "the source holds no cost for 2020-01" in said and "Traceback" not in said
    _ack, said = ask(slack, "cost account nosuchteam")
    assert "no account named `nosuchteam` among the accounts you may see" in said
    _ack, said = ask(slack, "usage gpu")  # a kind is checked against the catalog after the ack
    assert "`gpu` is not a usage kind: " in said and "ec2" in said


def test_who_sees_what(slack: Any, data: tuple[Path, Settings]) -> None:
    dataset, settings = data
    _url, _receiver, counting = slack
    before = len(counting.asked)
    _acked, said = ask(slack, "cost", user=STRANGER)
    assert "You are not allowed to see AWS costs here" in said and len(counting.asked) == before
    # the ml lead sees the ml audience's account only, whatever the account filter says
    ml = report(settings, dataset, "month-to-date", audience="ml").data
    _ack, said = ask(slack, "cost", user=ML_USER)
    assert f"{money(ml['total']['cost'])} USD" in said and ab.TEAM_B in said and ab.TEAM_A not in said
    _ack, said = ask(slack, f"cost account {ab.TEAM_A}", user=ML_USER)
    assert f"account {ab.TEAM_A} is not in the audience ml" in said and "16,185.33" not in said
    _ack, said = ask(slack, f"top account {ab.TEAM_A}", user=ML_USER)
    assert "is not in the audience ml" in said
    _ack, said = ask(slack, "anomalies", user=ML_USER)  # the anomaly is TEAM_A's
    assert "2026-10-10" not in said
    _ack, said = ask(slack, "usage ec2", user=ML_USER)
    assert f"*{ab.TEAM_B}* us-east-1: 90" in said and ab.TEAM_A not in said
    _ack, said = ask(slack, "ri", user=ML_USER)
    assert "made for the whole organization" in said and "Monthly savings" not in said
    # account NAME narrows: the organization's admin asks for one account
    one = report(settings, dataset, "month-to-date", accounts=(ab.TEAM_B,)).data
    _ack, said = ask(slack, f"cost account {ab.TEAM_B}")
    assert f"{money(one['total']['cost'])} USD" in said and ab.TEAM_A not in said
    assert f"Cost of {ab.TEAM_B}, 2026-10-01..2026-10-23: organization" in said
    # a channel's mapping applies to whoever is not mapped; a user's own mapping wins over it
    web = report(settings, dataset, "month-to-date", audience="web").data
    _ack, said = ask(slack, "cost", user=STRANGER, channel=WEB_CHANNEL)
    assert f"{money(web['total']['cost'])} USD" in said and ab.TEAM_B not in said
    _ack, said = ask(slack, "cost", user=ML_USER, channel=WEB_CHANNEL)
    assert f"{money(ml['total']['cost'])} USD" in said and ab.TEAM_A not in said


def test_refused_requests_never_run_the_command(slack: Any) -> None:
    url, receiver, counting = slack
    before_asked, before_posts = len(counting.asked), len(receiver.posts)
    body = sh.command_body("cost", ORG_USER, "C0GENERAL", f"{receiver.url}/never")
    good = sh.sign(body)
    cases = {
        "wrong signature": (body, sh.sign(body, secret="not-the-signing-secret")),
        "changed body": (body.replace("cost", "top"), good),
        "no signature": (body, {k: v for k, v in good.items() if k != "X-Slack-Signature"}),
        "no timestamp": (body, {k: v for k, v in good.items() if k != "X-Slack-Request-Timestamp"}),
        "replay": (body, sh.sign(body, ts=int(time.time()) - 6 * 60)),
    }
    for name, (sent, headers) in cases.items():
        status, text = sh.post(url, sent, headers)
        assert status == 401, (name, status, text)
    big = body + "&text=" + "x" * MAX_BODY
    status, text = sh.post(url, big, sh.sign(big))
    assert status == 400 and "request body over" in text
    time.sleep(0.5)  # a lazy listener, had one been started, would have posted by now
    assert len(counting.asked) == before_asked and len(receiver.posts) == before_posts
    # and the same request, signed right, is answered
    _ack, said = ask(slack, "cost")
    assert "Total EffectiveCost" in said


def test_the_config_is_checked(tmp_path: Path) -> None:
    from awscost.core.errors import ConfigError
    from awscost.entrypoints.slack.config import slack_settings

    path = tmp_path / "awscost.toml"
    for text, message in (
        ('[slack.users]\nU0A = "nobody"\n', "unknown audience 'nobody'"),
        ('[slack.users]\nbob = "organization"\n', "'bob' is not a Slack user id"),
        ('[slack]\nalerts_channel = "general"\n', "not a Slack channel id"),
        ('[slack]\ntoken = "xoxb-secret"\n', "unknown key 'token'"),
    ):
        path.write_text(text)
        with pytest.raises(ConfigError, match=message):
            slack_settings(load_settings(path))
