"""The anomaly log and its notices: a scan records each event in the store (a re-run updates it, never
duplicates it), publishes one SNS notice per event and another only when it has grown, at most
`max_notifications` a run, never for an acknowledged event; `[anomalies]` sets the thresholds.

SNS is moto's over HTTP with an SQS queue subscribed, so the notices are read back as a subscriber gets them."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner

import anomaly_bills as ab
from awscost.anomalies import events
from awscost.anomalies.config import anomaly_settings
from awscost.anomalies.detect import Anomaly
from awscost.billing import load_into
from awscost.core.config import Settings, load_settings
from awscost.core.errors import ConfigError, InputError
from awscost.entrypoints.cli import cli
from awscost.jobs import Context, run_job
from awscost.jobs.anomaly_scan import Params
from awscost.store import open_store

NOW = datetime(2026, 10, 24, 8, tzinfo=UTC)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("anomaly-log")
    load_into([ab.write(root)], root / "dataset")
    return root / "dataset"


@pytest.fixture()
def topic(aws: str) -> tuple[str, str]:
    """A topic with a queue subscribed (raw delivery off: the queue gets the SNS envelope, as a subscriber
    sees Subject and MessageAttributes)."""
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    arn = sns.create_topic(Name="awscost-anomalies")["TopicArn"]
    queue = sqs.create_queue(QueueName="notices")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
    return arn, queue


def received(queue: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    out = []
    while True:
        got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return out
        for m in got:
            out.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])


def settings(tmp_path: Path, toml: str = "") -> Settings:
    path = tmp_path / "awscost.toml"
    path.write_text(f'[awscost]\nstore = "sqlite:///{tmp_path / "store.db"}"\n{toml}')
    return load_settings(path)


def scan(s: Settings, dataset: Path, now: datetime = NOW, **kw: Any) -> Any:
    return run_job("anomaly_scan", Context(s, clock=lambda: now), Params(dataset=str(dataset), **kw))


def test_a_rerun_updates_the_event_and_sends_no_second_notice(
    dataset: Path, tmp_path: Path, topic: tuple[str, str]
) -> None:
    arn, queue = topic
    s = settings(tmp_path)
    first = scan(s, dataset, notify=arn)
    (event,) = first.anomalies
    assert first.status == {event.id: "new"} and first.notified == [event.id] and not first.failed
    (notice,) = received(queue)
    assert notice["TopicArn"] == arn
    assert notice["Subject"] == f"awscost anomaly +${event.impact_per_day}/day {event.service} in {ab.TEAM_A}"
    assert notice["Message"].startswith(event.explanation)
    assert f"awscost anomalies ack {event.id}" in notice["Message"]
    attrs = {k: v["Value"] for k, v in notice["MessageAttributes"].items()}
    assert attrs == {
        "anomaly_id": event.id,
        "account_id": ab.TEAM_A,
        "service": event.service,
        "kind": event.kind,
        "source": "billing",
    }
    again = scan(s, dataset, now=NOW + timedelta(hours=1), notify=arn)
    assert again.status == {event.id: "known"} and again.notified == [] and received(queue) == []
    with open_store(s.store) as store:
        (logged,) = list(events.logged(store))
    assert logged.first_seen == NOW.isoformat() and logged.last_seen == (NOW + timedelta(hours=1)).isoformat()
    assert logged.notified is not None and logged.notified["count"] == 1
    assert logged.event == event.to_json()


def _event(impact_total: str, days: int = 3, account: str = "111122223333") -> Anomaly:
    total = Decimal(impact_total)
    return Anomaly(
        id=f"e{account[-4:]}{days:02d}",
        kind="step",
        date="2026-10-01",
        start="2026-10-01T00:00:00Z",
        end=None,
        account_id=account,
        service="Amazon Elastic Compute Cloud",
        days=days,
        expected=Decimal("100.00"),
        actual=Decimal("100.00") + total / days,
        impact_per_day=(total / days).quantize(Decimal("0.01")),
        impact_total=total,
        score=9.5,
        explanation=f"+${total / days}/day: a test event",
    )


def test_an_open_event_is_notified_again_only_when_it_has_grown_by_the_configured_share(
    tmp_path: Path,
) -> None:
    with open_store(f"sqlite:///{tmp_path / 's.db'}") as store:
        (t,) = events.record(store, "billing", [_event("300")], NOW)
        assert t.status == "new"
        events.mark_notified(store, t, NOW)
        assert [x.status for x in events.record(store, "billing", [_event("440")], NOW)] == ["known"]
        (t,) = events.record(store, "billing", [_event("450")], NOW)  # +50 % of the 300 notified
        assert t.status == "grown" and events.due([t]) == [t]
        events.mark_notified(store, t, NOW)
        # growth counts from the last notice (450), and a 25 % setting notifies sooner
        (t,) = events.record(store, "billing", [_event("560")], NOW, growth=Decimal(25))
        assert t.status == "known"
        (t,) = events.record(store, "billing", [_event("563")], NOW, growth=Decimal(25))
        assert t.status == "grown"
        # a drop grows in absolute value
        (d,) = events.record(store, "billing", [_event("-200", account="999988887777")], NOW)
        events.mark_notified(store, d, NOW)
        (d,) = events.record(store, "billing", [_event("-300", account="999988887777")], NOW)
        assert d.status == "grown"
        assert len(list(events.logged(store))) == 2


def test_an_acknowledged_event_is_never_raised_again(
    dataset: Path, tmp_path: Path, topic: tuple[str, str]
) -> None:
    arn, queue = topic
    s = settings(tmp_path)
    (event,) = scan(s, dataset, record=True, notify="").anomalies  # recorded, no topic: not yet notified
    env = {"AWSCOST_STORE": s.store}
    ack = CliRunner().invoke(
        cli, ["anomalies", "ack", event.id[:8], "--by", "alice", "--note", "FIN-42"], env=env
    )
    assert ack.exit_code == 0, ack.output
    assert f"acknowledged billing:{event.id}" in ack.stdout and "by alice" in ack.stdout
    later = scan(s, dataset, now=NOW + timedelta(days=1), notify=arn)
    assert later.status == {event.id: "acked"} and later.notified == [] and received(queue) == []
    listed = CliRunner().invoke(cli, ["anomalies", "list", "--format", "json"], env=env)
    (item,) = json.loads(listed.stdout)
    assert item["ack"]["by"] == "alice" and item["ack"]["note"] == "FIN-42" and item["notified"] is None
    # grown or not, acknowledged stays acknowledged
    with open_store(s.store) as store:
        bigger = replace(event, impact_total=event.impact_total * 10)
        (t,) = events.record(store, "billing", [bigger], NOW + timedelta(days=2))
        assert t.status == "acked" and events.due([t]) == []


def test_ack_names_what_it_cannot_find(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 's.db'}") as store:
        events.record(store, "billing", [_event("300"), _event("300", days=4)], NOW)  # e333303, e333304
        with pytest.raises(InputError, match="no recorded anomaly"):
            events.acknowledge(store, "ffffffff", "bob", "", NOW)
        with pytest.raises(InputError, match="ambiguous"):
            events.acknowledge(store, "e1", "bob", "", NOW)
        with pytest.raises(InputError, match="2 recorded anomalies match"):
            events.acknowledge(store, "e33330", "bob", "", NOW)
        first = events.acknowledge(store, "E333303", "bob", "", NOW)
        assert first.ack == {"by": "bob", "at": NOW.isoformat(), "note": ""}
        assert events.acknowledge(store, "e333303", "carol", "", NOW + timedelta(hours=1)).ack == first.ack
    missing = CliRunner().invoke(
        cli, ["anomalies", "ack", "abcdef12"], env={"AWSCOST_STORE": "sqlite:///nope/x.db"}
    )
    assert missing.exit_code != 0


def test_a_bad_day_sends_at_most_max_notifications(tmp_path: Path, topic: tuple[str, str]) -> None:
    from awscost.anomalies.notify import publish

    arn, queue = topic
    many = [_event(str(100 * (i + 3)), days=i + 1) for i in range(7)]
    with open_store(f"sqlite:///{tmp_path / 's.db'}") as store:
        tracked = events.record(store, "billing", many, NOW)
        sent = publish(boto3.client("sns"), arn, store, events.due(tracked), NOW, most=3)
        assert len(sent.notified) == 2 and len(sent.summarized) == 5 and not sent.failed
        # the largest singly, the rest in one summary
        assert sent.notified == [t.id for t in sorted(tracked, key=lambda t: -t.impact_total)[:2]]
        again = events.record(store, "billing", many, NOW + timedelta(hours=1))
        assert events.due(again) == []  # the summarized ones count as notified
    notices = received(queue)
    assert len(notices) == 3
    (summary,) = [n for n in notices if n["MessageAttributes"]["kind"]["Value"] == "summary"]
    assert summary["Subject"] == "awscost: 5 more cost anomalies"
    assert summary["Message"].startswith("5 more anomalies were found in this run, $2,500 of impact")


def test_a_failed_notice_fails_the_run_and_is_sent_by_the_next(
    dataset: Path, tmp_path: Path, topic: tuple[str, str]
) -> None:
    arn, queue = topic
    s = settings(tmp_path)
    gone = arn.replace("awscost-anomalies", "deleted-topic")
    first = scan(s, dataset, notify=gone)
    assert first.notified == [] and len(first.failed) == 1 and "NotFound" in first.failed[0]
    assert (
        first.to_json()["failed"] == first.failed
    )  # the saved result is a failure (jobs/results.failure_of)
    second = scan(s, dataset, now=NOW + timedelta(hours=1), notify=arn)
    assert second.notified == [first.anomalies[0].id] and len(received(queue)) == 1


def test_the_config_sets_thresholds_overrides_and_the_topic(dataset: Path, tmp_path: Path) -> None:
    s = settings(
        tmp_path,
        '[anomalies]\nmin_impact = "50"\nscore = 6\nrenotify_growth = 25\nmax_notifications = 4\n'
        'notify_sns = "arn:aws:sns:us-east-1:111122223333:awscost-anomalies"\n'
        f'[anomalies.account."{ab.TEAM_A}"]\nmin_impact = "20000"\n'
        '[anomalies.service."Amazon Relational Database Service"]\nscore = 8\n',
    )
    config = anomaly_settings(s)
    assert config.renotify_growth == 25 and config.max_notifications == 4
    assert config.thresholds.of(ab.TEAM_A, "Amazon Elastic Compute Cloud") == (Decimal(20000), 6.0)
    assert config.thresholds.of(ab.TEAM_B, "Amazon Relational Database Service") == (Decimal(50), 8.0)
    assert config.thresholds.of(ab.TEAM_A, "Amazon Relational Database Service") == (Decimal(20000), 8.0)
    # the cluster's account asks for $20,000/day: nothing is raised there ...
    assert scan(s, dataset, notify="").anomalies == []
    # ... and a lower global threshold given to the run does not lower an account's override
    assert scan(s, dataset, notify="", min_impact=Decimal(10)).anomalies == []


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("min_impact = 50.5", "TOML float"),
        ("score = 0", "above 0"),
        ("renotify = 5", "unknown key 'renotify'"),
        ('notify_sns = "my-topic"', "not an SNS topic ARN"),
        ("max_notifications = 0", "from 1 to 100"),
        ('[anomalies.account."12"]\nscore = 3', "12"),
        ('[anomalies.service."AWS Lambda"]', "changes nothing"),
        ('[anomalies.service."AWS Lambda"]\nimpact = "5"', "unknown key 'impact'"),
    ],
)
def test_a_bad_config_names_the_file_and_key(tmp_path: Path, toml: str, message: str) -> None:
    if not toml.startswith("["):
        toml = f"[anomalies]\n{toml}"
    with pytest.raises(ConfigError, match=message) as err:
        anomaly_settings(settings(tmp_path, toml))
    assert "awscost.toml" in str(err.value.where)


def test_params_refuse_what_cannot_work(dataset: Path) -> None:
    with pytest.raises(InputError, match="not an SNS topic ARN"):
        Params(dataset=str(dataset), notify="alerts")
    with pytest.raises(InputError, match="need the anomaly log"):
        Params(dataset=str(dataset), notify="arn:aws:sns:us-east-1:111122223333:t", record=False)
    with pytest.raises(InputError, match="instead of since"):
        Params(dataset=str(dataset), days=7, since=date(2026, 10, 1))


def test_days_counts_back_from_the_clock(dataset: Path, tmp_path: Path) -> None:
    s = settings(tmp_path)
    assert len(scan(s, dataset, days=14, notify="").anomalies) == 1  # 2026-10-10 is 14 days before NOW
    assert scan(s, dataset, days=13, notify="").anomalies == []


def test_the_reports_movers_section_lists_the_recorded_anomalies_of_its_period(
    dataset: Path, tmp_path: Path
) -> None:
    s = settings(tmp_path)
    (event,) = scan(s, dataset, notify="").anomalies
    out = tmp_path / "out"
    args = ["report", "cost", "--dataset", str(dataset), "--period", "2026-10-01..2026-10-23"]
    env = {"AWSCOST_STORE": s.store}
    result = CliRunner().invoke(cli, [*args, "--out", str(out), "--today", "2026-10-24"], env=env)
    assert result.exit_code == 0, result.output
    (doc,) = out.glob("*/*/cost-report.json")
    (listed,) = json.loads(doc.read_text())["sections"]["movers"]["anomalies"]
    assert listed["id"] == event.id and listed["explanation"] == event.explanation
    assert listed["source"] == "billing" and listed["acknowledged"] is False
    html = next(out.glob("*/*/cost-report.html")).read_text()
    assert "Cost anomalies in the period" in html and "38 × r6g.2xlarge" in html
    # a period before the event lists none and says so
    september = ["--period", "2026-09-01..2026-09-30", "--format", "json"]
    before = CliRunner().invoke(cli, ["report", "cost", "--dataset", str(dataset), *september], env=env)
    assert before.exit_code == 0, before.output
    assert "anomalies" not in json.loads(before.stdout)["sections"]["movers"]
