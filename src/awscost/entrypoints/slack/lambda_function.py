"""The Slack function's handler (behind a Lambda Function URL, AuthType NONE: the request is Slack's only if
its signature is): bolt and boto3 only, so a cold start fits Slack's 3 seconds; nothing of pandas, DuckDB or
the reports is imported here.

Environment:
    AWSCOST_SLACK_SIGNING_SECRET  the NAME of the signing secret: a Secrets Manager secret (`NAME` or
                                  `secretsmanager:NAME`) or an SSM SecureString (`ssm:/NAME`)
    AWSCOST_SLACK_BOT_TOKEN       the bot token's NAME, the same way (optional: a reply needs no token)
    AWSCOST_ANALYTICS_FUNCTION    the analytics function, invoked asynchronously (InvocationType Event)
                                  with `{"slack": {text, user_id, channel_id, team_id, response_url}}`
    AWSCOST_CONFIG                awscost.toml ([slack] users and channels) in S3 or SSM

`help`, a mistake and a refusal are answered in the acknowledgement; anything else is acknowledged ("working
on it") and handed on: the analytics function answers through the response_url (answer.answer_event).

Subscribed to the stack's anomaly topic, it also posts each notice (an SNS record) to `[slack] alerts_channel`
with the bot token.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from typing import Any

from awscost.entrypoints.slack.app import MAX_BODY, create_app, dispatch, refused
from awscost.entrypoints.slack.quick import Asked

log = logging.getLogger("awscost.slack")
SIGNING_SECRET = "AWSCOST_SLACK_SIGNING_SECRET"
BOT_TOKEN = "AWSCOST_SLACK_BOT_TOKEN"
ANALYTICS = "AWSCOST_ANALYTICS_FUNCTION"
_held: dict[str, Any] = {}  # the app of a warm container: its secrets read once


def secret(reference: str) -> str:
    """A secret's value by its name: `ssm:NAME` (a SecureString, decrypted) or a Secrets Manager secret."""
    import boto3

    if reference.startswith("ssm:"):
        answer = boto3.client("ssm").get_parameter(Name=reference[4:], WithDecryption=True)
        return str(answer["Parameter"]["Value"])
    answer = boto3.client("secretsmanager").get_secret_value(
        SecretId=reference.removeprefix("secretsmanager:")
    )
    return str(answer["SecretString"])


def lambda_client() -> Any:
    import boto3

    return boto3.client("lambda")


def hand_off(asked: Asked) -> None:
    """The command to the analytics function, asynchronously: Invoke returns once Lambda has queued it."""
    lambda_client().invoke(
        FunctionName=os.environ[ANALYTICS],
        InvocationType="Event",
        Payload=json.dumps({"slack": asked.to_json()}).encode("utf-8"),
    )


def _setup() -> tuple[Any, str | None]:
    """[slack] and the bot token (None without one), read once per container."""
    if "config" not in _held:
        from awscost.core.config import load_settings
        from awscost.entrypoints.slack.config import slack_settings

        _held["config"] = slack_settings(load_settings(os.environ.get("AWSCOST_CONFIG")))
        token = os.environ.get(BOT_TOKEN)
        _held["token"] = secret(token) if token else None
    return _held["config"], _held["token"]


def app() -> Any:
    if "app" not in _held:
        config, token = _setup()
        _held["app"] = create_app(
            config,
            secret(os.environ[SIGNING_SECRET]),
            token,
            hand_off=hand_off,
            process_before_response=True,  # Lambda may freeze the process once the response is returned
        )
    return _held["app"]


def post_notices(event: dict[str, Any]) -> dict[str, Any]:
    """Each anomaly notice of an SNS event posted to the alerts channel; a refused post fails the invocation
    (SNS retries it, then the dead-letter queue keeps it)."""
    from slack_sdk import WebClient

    from awscost.core.errors import ConfigError
    from awscost.entrypoints.slack.alerts import notice_message

    config, token = _setup()
    if not config.alerts_channel or not token:
        raise ConfigError(
            "anomaly notices reach the Slack function, but it has no alerts channel or bot token",
            where="[slack] alerts_channel / SlackBotTokenName",
        )
    client = WebClient(token=token, base_url=os.environ.get("SLACK_API_URL", WebClient.BASE_URL))
    posted = 0
    for record in event["Records"]:
        notice = record["Sns"]
        client.chat_postMessage(
            channel=config.alerts_channel,
            **notice_message(str(notice.get("Subject") or "awscost: cost anomaly"), str(notice["Message"])),
        )
        posted += 1
    log.info(json.dumps({"event": "slack_alerts", "posted": posted, "channel": config.alerts_channel}))
    return {"posted": posted}


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """A Function URL request (payload format 2.0) -> bolt -> the HTTP response; or anomaly notices (SNS)."""
    records = event.get("Records")
    if isinstance(records, list) and records and records[0].get("EventSource") == "aws:sns":
        return post_notices(event)
    body = event.get("body") or ""
    if len(body) > MAX_BODY * 4 // 3 + 4:  # refused before it is decoded (base64 is 4/3 of the bytes)
        response = refused(400, f"request body over {MAX_BODY} bytes")
    else:
        raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode("utf-8")
        response = dispatch(app(), raw, dict(event.get("headers") or {}), event.get("rawQueryString") or "")
    return {
        "statusCode": response.status,
        "headers": {k: v[0] for k, v in response.headers.items() if v},
        "body": response.body,
    }


__all__ = ["hand_off", "handler", "secret"]
