"""AWS Cost Anomaly Detection as the sandbox emulates it (awscost_sandbox/ce_anomalies.py) on the bill history's
injected anomalies, read by real boto3 over HTTP (through the fault proxy, for throttling and AccessDenied),
and `awscost anomalies detect --source ce` / `compare` end to end against the history's dataset."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from awscost.anomalies import cost_explorer as cad
from awscost.entrypoints.cli import cli
from awscost.reports.cost_explorer import SERVICE_NAMES
from fault_proxy import FaultProxy, Rule

DEMO_LAST_HOUR = datetime(2026, 11, 2, 17, tzinfo=UTC)  # the default demo's last hour


@dataclass
class Box:
    server: Any
    proxy: FaultProxy
    history: Any
    dataset: Path


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Box]:
    from awscost.billing import load_into
    from awscost_sandbox.history import history_for, window, write_history
    from awscost_sandbox.seed import seed_organization
    from awscost_sandbox.server import SandboxServer

    with SandboxServer() as server:
        seed_organization(server)
        server.clock = DEMO_LAST_HOUR
        history = history_for(server.scenario, *window(DEMO_LAST_HOUR))
        out = tmp_path_factory.mktemp("history")
        load_into([write_history(history, server.scenario, out / "bill")], out / "dataset")
        proxy = FaultProxy(server.endpoint, server.access_key, server.scenario.management.id).start()
        with pytest.MonkeyPatch.context() as mp:
            for var in list(os.environ):
                if var.startswith(("AWS_", "AWSCOST_")):
                    mp.delenv(var)
            for k, v in {**server.env(), "AWS_ENDPOINT_URL": proxy.endpoint}.items():
                mp.setenv(k, v)
            mp.setenv("AWS_CONFIG_FILE", os.devnull)
            mp.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
            try:
                yield Box(server, proxy, history, out / "dataset")
            finally:
                proxy.stop()


@pytest.fixture()
def ce(box: Box) -> Any:
    from awscost.aws.session import client, make_session

    box.proxy.set_rules()
    return client(make_session(), "ce", "us-east-1")


def test_the_emulated_monitor_reports_the_injected_cluster_as_aws_would(box: Box, ce: Any) -> None:
    from awscost_sandbox.ce_anomalies import MIN_IMPACT, MONITOR_NAME

    found = cad.scan(ce, date(2026, 3, 1), DEMO_LAST_HOUR.date(), service_names=SERVICE_NAMES)
    (monitor,) = found.monitors
    assert monitor.name == MONITOR_NAME and "EMULATED" in monitor.name and "sandbox-emulated" in monitor.arn
    assert (monitor.type, monitor.dimension, monitor.last_evaluated) == (
        "DIMENSIONAL",
        "SERVICE",
        date(2026, 11, 2),
    )
    # The runaway group (ended 2026-07-24) and the transfer spike (2026-05-13) ended more than 90 days before
    # the clock: AWS no longer lists them. The quiet drop is a decrease: AWS never reports it.
    (cluster,) = found.anomalies
    injected = box.history.injected["forgotten-cluster"]
    # Its first day (14:00, $95.76) is below the emulated sensitivity: AWS's anomaly starts the day after.
    first = min(d for d, v in injected.items() if v >= MIN_IMPACT)
    assert first == date(2026, 8, 19) and injected[date(2026, 8, 18)] < MIN_IMPACT
    a = cluster.anomaly
    assert (a.date, a.end, a.days) == ("2026-08-19", "2026-09-01T00:00:00Z", 13)  # the history ends 08-31
    total = sum((v for d, v in injected.items() if d >= first), Decimal(0))
    assert a.impact_total == total.quantize(Decimal("0.01"))
    assert (a.account_id, a.service) == ("444455556666", "Amazon Elastic Compute Cloud")
    (cause,) = cluster.root_causes
    assert (cause.usage_type, cause.region, cause.service) == (
        "EU-BoxUsage:r5.xlarge",
        "eu-west-1",
        "Amazon Elastic Compute Cloud - Compute",
    )
    assert cause.account_name == next(x.name for x in box.server.scenario.accounts if x.id == "444455556666")
    assert cluster.detected == datetime(2026, 8, 20, 16, tzinfo=UTC)
    # DateInterval selects by the last day, both ends inclusive.
    assert cad.scan(ce, date(2026, 8, 31), date(2026, 8, 31)).anomalies
    assert not cad.scan(ce, date(2026, 9, 1), DEMO_LAST_HOUR.date()).anomalies


def test_detections_wait_for_the_data_and_the_next_run_and_are_increases_only(box: Box) -> None:
    from awscost_sandbox.ce_anomalies import detections

    first = date(2026, 8, 19)
    seen = cad.aws_detected(first)
    assert seen - datetime.combine(first, datetime.min.time(), UTC) > timedelta(days=1)  # a day or more late
    assert not [
        d for d in detections(box.history, seen - timedelta(hours=1)) if d.name == "forgotten-cluster"
    ]
    (cluster,) = [d for d in detections(box.history, seen) if d.name == "forgotten-cluster"]
    assert [day for day, _, _ in cluster.days] == [first]  # its end is the last day evaluated
    # On 2026-09-01 the runaway group is within the 90 days; its ramp is flagged once it is large enough.
    sept = {d.name: d for d in detections(box.history, datetime(2026, 9, 1, tzinfo=UTC))}
    assert set(sept) == {"forgotten-cluster", "runaway-autoscaling-group"}
    ramp = box.history.injected["runaway-autoscaling-group"]
    assert sept["runaway-autoscaling-group"].days[0][0] == date(2026, 7, 16)  # $21.50, $73.73, then $147.46
    assert [ramp[date(2026, 7, d)] < 100 for d in (14, 15, 16)] == [True, True, False]
    spring = {d.name for d in detections(box.history, datetime(2026, 5, 20, tzinfo=UTC))}
    assert spring == {"data-transfer-spike"}
    every = {
        d.name
        for c in range(0, 200, 5)
        for d in detections(box.history, datetime(2026, 5, 1, tzinfo=UTC) + timedelta(days=c))
    }
    assert "quiet-drop" not in every


def test_a_member_account_has_no_monitor(box: Box) -> None:
    member = box.server.client("ce", "us-east-1", account="333344445555")
    found = cad.scan(member, date(2026, 3, 1), DEMO_LAST_HOUR.date())
    assert found.monitors == [] and found.anomalies == []
    assert "no Cost Anomaly Detection monitor" in found.warnings[0]


def test_throttling_is_retried_by_the_client(box: Box, ce: Any) -> None:
    box.proxy.set_rules(Rule("throttle", service="ce", action="GetAnomalies", times=2))
    found = cad.scan(ce, date(2026, 3, 1), DEMO_LAST_HOUR.date())
    assert len(found.anomalies) == 1
    assert [entry[0] for entry in box.proxy.log] == ["throttle", "throttle"]


def test_access_denied_names_the_account_and_permission(box: Box, capsys: pytest.CaptureFixture[str]) -> None:
    from awscost.entrypoints.cli import main

    box.proxy.set_rules(Rule("denied", service="ce", action="GetAnomalyMonitors"))
    try:
        with pytest.raises(SystemExit) as exit_:
            main(["anomalies", "detect", "--source", "ce"])
    finally:
        box.proxy.set_rules()
    assert exit_.value.code == 4
    text = " ".join(capsys.readouterr().err.split())
    assert "AccessDeniedException" in text and "ce:GetAnomalyMonitors" in text
    assert f"account {box.server.scenario.management.id}" in text


def test_detect_and_compare_commands(box: Box) -> None:
    box.proxy.set_rules()
    since = "2026-03-01"
    listed = CliRunner().invoke(
        cli, ["anomalies", "detect", "--source", "ce", "--since", since, "--format", "json"]
    )
    assert listed.exit_code == 0, listed.output
    (item,) = json.loads(listed.stdout)
    assert item["source"] == "ce" and item["monitor"].startswith("awscost sandbox: EMULATED")
    assert item["date"] == "2026-08-19" and item["service"] == "Amazon Elastic Compute Cloud"
    table = CliRunner().invoke(cli, ["anomalies", "detect", "--source", "ce", "--since", since])
    assert table.exit_code == 0 and "AWS Cost Anomaly Detection: 1 monitor(s)" in table.output

    args = ["anomalies", "compare", "--dataset", str(box.dataset), "--since", since]
    done = CliRunner().invoke(cli, [*args, "--format", "json"])
    assert done.exit_code == 0, done.output
    doc = json.loads(done.stdout)
    pairs = {(p["caught_by"], p["account_id"], (p["awscost"] or p["aws"])["date"]): p for p in doc["pairs"]}
    both = pairs[("both", "444455556666", "2026-08-18")]  # awscost from the cluster's first day
    assert both["aws"]["date"] == "2026-08-19"
    assert (
        both["awscost_detected"] == "2026-08-19T12:00:00Z" and both["aws_detected"] == "2026-08-20T16:00:00Z"
    )
    assert both["hours_earlier"] == 28
    assert Decimal(both["impact_difference"]) == Decimal(both["awscost"]["impact_total"]) - Decimal(
        both["aws"]["impact_total"]
    )
    assert "increases only" in pairs[("awscost", "222233334444", "2026-06-08")]["reason"]  # the quiet drop
    assert "90 days" in pairs[("awscost", "222233334444", "2026-05-13")]["reason"]  # the transfer spike
    assert doc["summary"] == {"both": 1, "awscost_only": 3, "aws_only": 0, "median_hours_earlier": 28}
    shown = CliRunner().invoke(cli, args)
    assert shown.exit_code == 0 and "increases only" in " ".join(shown.output.split())
