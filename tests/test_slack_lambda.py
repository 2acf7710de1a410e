"""The Slack Lambda (entrypoints/slack/lambda_function.py) as a Function URL invokes it: its secrets read by
name from Secrets Manager and SSM (moto server), a signed command acknowledged and handed to the analytics
function with one asynchronous Invoke (botocore Stubber: moto runs Lambda code in Docker), which answers
through the response_url (lambda_handler's `{"slack": ...}` event) with the report's figures; refusals hand
nothing on; its imports stay bolt + boto3."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

import anomaly_bills as ab
import dashboard_data
import slack_harness as sh
from awscost.entrypoints import lambda_handler
from awscost.entrypoints.slack import answer as answer_module
from awscost.entrypoints.slack import lambda_function as fn
from awscost.jobs import Context, run_job
from awscost.jobs.report import Params as ReportParams


def url_event(body: str, headers: dict[str, str], encode: bool = True) -> dict[str, Any]:
    return {
        "version": "2.0",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": {k.lower(): v for k, v in headers.items()},
        "body": base64.b64encode(body.encode()).decode() if encode else body,
        "isBase64Encoded": encode,
        "requestContext": {"http": {"method": "POST"}},
    }


@pytest.fixture()
def deployed(aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    dataset, store_url = dashboard_data.make(tmp_path)
    config = tmp_path / "awscost.toml"
    config.write_text(
        f'[awscost]\nstore = "{store_url}"\n[billing]\ndataset = "{dataset}"\n'
        f'[[report.audience]]\nname = "ml"\naccounts = ["{ab.TEAM_B}"]\n'
        '[slack]\nalerts_channel = "C0ALERTS"\n[slack.users]\nU0ORGADMIN = "organization"\nU0MLLEAD = "ml"\n'
    )
    boto3.client("secretsmanager").create_secret(Name="awscost/slack-signing", SecretString=sh.SECRET)
    boto3.client("ssm").put_parameter(Name="/finops/slack-bot", Value="xoxb-test", Type="SecureString")
    monkeypatch.setenv("AWSCOST_CONFIG", str(config))
    monkeypatch.setenv(fn.SIGNING_SECRET, "awscost/slack-signing")
    monkeypatch.setenv(fn.BOT_TOKEN, "ssm:/finops/slack-bot")
    monkeypatch.setenv(fn.ANALYTICS, "awscost-analytics")
    monkeypatch.setattr(fn, "_held", {})
    client = boto3.client("lambda")
    sent: list[dict[str, Any]] = []
    client.meta.events.register(
        "provide-client-params.lambda.Invoke", lambda params, **_: sent.append(params)
    )
    stubber = Stubber(client)
    monkeypatch.setattr(fn, "lambda_client", lambda: client)
    with stubber:
        yield dataset, config, stubber, sent, store_url


def test_a_signed_command_is_handed_on_and_answered_with_the_reports_figures(
    deployed: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset, config, stubber, sent, _store = deployed
    with sh.receiver() as response_url:
        stubber.add_response(
            "invoke",
            {"StatusCode": 202},
            {"FunctionName": "awscost-analytics", "InvocationType": "Event", "Payload": ANY},
        )
        body = sh.command_body("cost 2026-09 by service", "U0ORGADMIN", "C0GENERAL", f"{response_url.url}/r")
        acked = fn.handler(url_event(body, sh.sign(body)))
        assert acked["statusCode"] == 200 and "Working on it" in acked["body"]
        stubber.assert_no_pending_responses()
        (invoked,) = sent
        event = json.loads(invoked["Payload"])
        assert (
            event["slack"]["text"] == "cost 2026-09 by service" and event["slack"]["user_id"] == "U0ORGADMIN"
        )
        # the analytics function's handler answers it (a response_url of Slack's only, so the test's is allowed)
        monkeypatch.setattr(answer_module, "RESPONSE_URL_PREFIX", response_url.url)
        monkeypatch.setattr(answer_module, "_responders", {})
        assert lambda_handler.handler(event)["status"] == 200
        (_path, message, _headers) = response_url.wait(1)[0]
    from awscost.core.config import load_settings

    (one,) = run_job(
        "report",
        Context(load_settings(config)),
        ReportParams(period="2026-09", dataset=str(dataset), render=False),
    ).reports
    said = sh.text_of(message)
    assert f"{Decimal(one.document['total']['cost']):,.2f} USD" in said
    for row in one.document["services"]:
        assert f"*{row['service']}*  {Decimal(row['cost']):,.2f}" in said


def test_help_and_refusals_are_answered_by_the_slack_function_alone(deployed: Any) -> None:
    _dataset, _config, _stubber, sent, _store = deployed
    body = sh.command_body("help", "U0MLLEAD", "C0GENERAL", "https://hooks.slack.com/commands/1")
    acked = fn.handler(url_event(body, sh.sign(body), encode=False))
    assert acked["statusCode"] == 200 and "/awscost usage KIND [REGION]" in acked["body"]
    body = sh.command_body("cost", "U0STRANGER", "C0GENERAL", "https://hooks.slack.com/commands/1")
    assert "not allowed to see AWS costs" in fn.handler(url_event(body, sh.sign(body)))["body"]
    body = sh.command_body("cost", "U0ORGADMIN", "C0GENERAL", "https://hooks.slack.com/commands/1")
    assert fn.handler(url_event(body, sh.sign(body, secret="wrong")))["statusCode"] == 401
    assert fn.handler(url_event(body, sh.sign(body, ts=1)))["statusCode"] == 401
    headers = {k: v for k, v in sh.sign(body).items() if k != "X-Slack-Signature"}
    assert fn.handler(url_event(body, headers))["statusCode"] == 401
    big = body + "&x=" + "y" * 20000
    assert fn.handler(url_event(big, sh.sign(big)))["statusCode"] == 400
    assert sent == []  # nothing was handed on: the Stubber had no response queued, and none was asked


def test_a_response_url_not_slacks_is_refused() -> None:
    from awscost.core.errors import InputError

    with pytest.raises(InputError, match="is not Slack's"):
        answer_module.answer_event(
            {"text": "cost", "user_id": "U0A", "response_url": "http://169.254.169.254/"}
        )


def test_the_slack_function_imports_bolt_and_boto3_only() -> None:
    code = (
        "import sys, awscost.entrypoints.slack.lambda_function as f; "
        "heavy = sorted(m for m in ('pandas', 'duckdb', 'numpy', 'pyarrow', 'matplotlib', 'jinja2', 'sqlglot') "
        "if m in sys.modules); print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_the_stack_deploys_the_slack_function_behind_a_verified_public_url() -> None:
    from awscost.deploy import stack
    from test_infra import INFRA, _statements, load_template

    template = load_template(INFRA / "awscost.yaml")
    res = template["Resources"]
    for name in ("SlackSigningSecretName", "SlackBotTokenName", "SlackSecretStore"):
        assert name in template["Parameters"]
    assert {k for k, r in res.items() if r.get("Condition") == "HasSlack"} == {
        "SlackLogGroup",
        "SlackRole",
        "SlackFunction",
        "SlackFunctionUrl",
        "SlackFunctionUrlPermission",
        # the answers' own function, watched as a job's is
        "SlackAnswersLogGroup",
        "SlackAnswersRole",
        "SlackAnswersFunction",
        "SlackAnswersErrorsAlarm",
        "SlackAnswersThrottlesAlarm",
        "SlackAnswersDurationAlarm",
    }
    url = res["SlackFunctionUrl"]
    assert url["Properties"]["AuthType"] == "NONE"
    (skip,) = url["Metadata"]["checkov"]["skip"]
    assert skip["id"] == "CKV_AWS_258" and "verifies Slack's signature" in skip["comment"]
    fn = res["SlackFunction"]["Properties"]
    # from the collector zip (which carries bolt: tests/test_deploy_package.py), not the analytics image
    assert fn["Handler"] == stack.SLACK_HANDLER == "awscost.entrypoints.slack.lambda_function.handler"
    assert fn["Runtime"] == stack.RUNTIME and "ImageConfig" not in fn and "PackageType" not in fn
    assert fn["Code"] == {"S3Bucket": {"Ref": "CodeBucket"}, "S3Key": {"Ref": "CodeKey"}}
    env = fn["Environment"]["Variables"]
    assert env["AWSCOST_ANALYTICS_FUNCTION"] == {"Ref": "SlackAnswersFunction"}
    sts = {s["Sid"]: s for s in _statements(template, "SlackRole")}
    # It may hand work to the answers function and read its own secrets and config; nothing else.
    assert sts["HandOff"]["Action"] == "lambda:InvokeFunction"
    assert sts["HandOff"]["Resource"] == {"Fn::GetAtt": ["SlackAnswersFunction", "Arn"]}
    assert {s for s, st in sts.items() if st["Resource"] == "*"} == {"VpcNetworkInterfaces"}
    assert "Store" not in sts and "Data" not in sts
    subscription = res["SlackAnomalySubscription"]
    assert subscription["Condition"] == "HasSlackBotToken"
    assert subscription["Properties"]["TopicArn"] == {"Ref": "AnomalyTopic"}
    assert res["SlackAnomalyPermission"]["Properties"]["SourceArn"] == {"Ref": "AnomalyTopic"}
    secret = json.dumps(sts["SlackSigningSecret"])
    assert "secretsmanager:GetSecretValue" in secret or "ssm:GetParameter" in secret


def test_the_app_manifest_names_the_command_and_the_scopes_it_needs() -> None:
    import yaml

    from awscost.entrypoints.slack.app import COMMAND
    from awscost.entrypoints.slack.parse import SUBCOMMANDS

    path = Path(__file__).resolve().parents[1] / "infra" / "slack" / "manifest.yaml"
    manifest = yaml.safe_load(path.read_text())
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == COMMAND and command["should_escape"] is False
    assert all(name in command["usage_hint"] for name in SUBCOMMANDS)
    assert len(command["description"]) <= 100 and len(command["usage_hint"]) <= 1000
    assert manifest["oauth_config"]["scopes"]["bot"] == ["commands", "chat:write"]
    assert manifest["settings"]["socket_mode_enabled"] is False


def test_the_anomaly_topics_notices_are_posted_to_the_alerts_channel(
    deployed: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from awscost.anomalies.events import logged
    from awscost.anomalies.notify import body, subject
    from awscost.store import open_store

    _dataset, _config, _stubber, _sent, store_url = deployed
    with open_store(store_url) as store:
        (tracked,) = list(logged(store))
    record = {
        "EventSource": "aws:sns",
        "Sns": {"Subject": subject(tracked), "Message": body(tracked, {}), "MessageAttributes": {}},
    }
    with sh.receiver() as slack_api:
        slack_api.reply = {"ok": True, "channel": "C0ALERTS", "ts": "1.2"}
        monkeypatch.setenv("SLACK_API_URL", f"{slack_api.url}/api/")
        assert fn.handler({"Records": [record]}) == {"posted": 1}
        (path, message, headers) = slack_api.wait(1)[0]
    assert path == "/api/chat.postMessage" and headers["Authorization"] == "Bearer xoxb-test"
    assert message["channel"] == "C0ALERTS"
    said = sh.text_of(message)
    assert (
        "&lt;script&gt;" in said and "<script>" not in said and str(tracked.event["explanation"])[:20] in said
    )


def test_a_hand_off_that_fails_is_said_in_the_acknowledgement(deployed: Any) -> None:
    _dataset, _config, stubber, _sent, _store = deployed
    stubber.add_client_error("invoke", "TooManyRequestsException", "Rate exceeded", 429)
    body = sh.command_body("cost", "U0ORGADMIN", "C0GENERAL", "https://hooks.slack.com/commands/1")
    acked = fn.handler(url_event(body, sh.sign(body)))
    assert acked["statusCode"] == 200
    assert "could not start on this" in acked["body"] and "Working on it" not in acked["body"]


def test_the_analytics_side_says_a_missing_dataset_to_the_asker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "awscost.toml"
    config.write_text('[slack.users]\nU0ORGADMIN = "organization"\n')
    monkeypatch.setenv("AWSCOST_CONFIG", str(config))
    monkeypatch.delenv("AWSCOST_REPORT_BUCKET", raising=False)
    monkeypatch.setattr(answer_module, "_responders", {})
    with sh.receiver() as response_url:
        monkeypatch.setattr(answer_module, "RESPONSE_URL_PREFIX", response_url.url)
        event = {"slack": {"text": "cost", "user_id": "U0ORGADMIN", "response_url": f"{response_url.url}/r"}}
        lambda_handler.handler(event)
        (_path, message, _headers) = response_url.wait(1)[0]
    assert "no billing dataset to answer from" in sh.text_of(message)
    # deployed, the report function's bucket names it (the report job's rule reads the same)
    monkeypatch.setenv("AWSCOST_REPORT_BUCKET", "cost-data")
    assert answer_module.deployed_dataset() == "s3://cost-data/billing/"


def test_the_answers_run_beside_the_daily_report_on_a_read_only_role() -> None:
    from test_infra import INFRA, _statements, load_template

    template = load_template(INFRA / "awscost.yaml")
    res = template["Resources"]
    answers, report = res["SlackAnswersFunction"]["Properties"], res["ReportFunction"]["Properties"]
    # the report job's image, memory, timeout and environment; its own concurrency, not the report's one
    for key in ("Code", "ImageConfig", "MemorySize", "Timeout", "PackageType"):
        assert answers[key] == report[key], key
    assert report["ReservedConcurrentExecutions"] == 1 and answers["ReservedConcurrentExecutions"] == 2
    env = answers["Environment"]["Variables"]
    assert env["AWSCOST_REPORT_BUCKET"] == {"Ref": "DataBucket"}  # the stack's dataset, as the report reads
    assert env["AWSCOST_STORE"] == report["Environment"]["Variables"]["AWSCOST_STORE"]
    sts = {s["Sid"]: s for s in _statements(template, "SlackAnswersRole")}
    actions = {
        a for st in sts.values() for a in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])
    }
    writes = {a for a in actions if a.split(":")[1].startswith(("Put", "Delete", "Update", "Send", "Batch"))}
    # its log, its failed events and (in a VPC) its network interfaces; nothing of the data
    assert writes == {"logs:PutLogEvents", "sqs:SendMessage", "ec2:DeleteNetworkInterface"}
    assert "ses:SendRawEmail" not in actions and not any(a.startswith("ce:") for a in actions)
    assert set(sts) == {
        "NoResourceLevelPermissions", "StoreRead", "DataRead", "DataKey", "Budgets", "Config", "Logs",
        "DeadLetters", "VpcNetworkInterfaces",
    }  # fmt: skip
