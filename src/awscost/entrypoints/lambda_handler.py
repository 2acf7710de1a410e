"""The one AWS Lambda entry point: `event["action"]` -> a library call.

Scheduled by EventBridge (infra/awscost.yaml): `{"action": "collect", "kinds": "hourly"}` every hour
and `{"action": "collect", "kinds": "daily"}` once a day. Settings come from AWSCOST_* environment
variables set by the stack (AWSCOST_STORE=dynamodb://AWSCost?region=..., AWSCOST_ACCOUNTS, ...).

Imports stay boto3 + standard library so a collector cold-starts fast and its zip stays small. After each
run the handler publishes CloudWatch metrics (namespace `awscost`): ItemsWritten, FailedUnits, ApiCalls.
The stack alarms on FailedUnits > 0 and on a missing ItemsWritten datapoint (a missed hour is visible).
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from awscost.core.errors import AwsCostError

log = logging.getLogger("awscost")
log.setLevel(os.environ.get("AWSCOST_LOG_LEVEL", "INFO"))

METRIC_NAMESPACE = "awscost"
ACTIONS = ("collect",)


def _publish_metrics(summary: dict[str, Any], kinds: str) -> None:
    import boto3

    cloudwatch = boto3.client("cloudwatch")
    dims = [{"Name": "Kinds", "Value": kinds}]
    values = {
        "ItemsWritten": summary["items_written"],
        "FailedUnits": len(summary["failures"]),
        "ApiCalls": summary["api_calls"],
    }
    cloudwatch.put_metric_data(
        Namespace=METRIC_NAMESPACE,
        MetricData=[
            {"MetricName": name, "Dimensions": dims, "Value": value, "Unit": "Count"}
            for name, value in values.items()
        ],
    )


def collect(event: dict[str, Any]) -> dict[str, Any]:
    from awscost.core.config import load_settings
    from awscost.core.timeutil import parse_hour
    from awscost.store import open_store
    from awscost.usage.runner import run_collection

    settings = load_settings(os.environ.get("AWSCOST_CONFIG"))
    kinds = str(event.get("kinds", "hourly"))
    at = parse_hour(str(event["at"]), where="event.at") if event.get("at") else None
    regions = event.get("regions")
    store = open_store(settings.store)
    try:
        summary = run_collection(
            settings,
            kinds=kinds,
            accounts=event.get("accounts"),
            regions=list(regions) if regions else None,
            at=at,
            store=store,
            role_name=settings.role_name,
            external_id=settings.external_id,
        )
    finally:
        store.close()
    result = summary.to_json()
    for failure in result["failures"]:
        # One structured line per failed unit: CloudWatch Logs Insights can count them by account/region/kind.
        log.warning(json.dumps({"event": "collect_failure", **failure}))
    log.info(json.dumps({"event": "collect_summary", **{k: v for k, v in result.items() if k != "failures"}}))
    if os.environ.get("AWSCOST_METRICS", "1") != "0":
        _publish_metrics(result, kinds)
    return result


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    action = event.get("action")
    if action not in ACTIONS:
        # A wrong event is a deployment mistake: fail the invocation so the Errors alarm fires.
        raise ValueError(f"unknown action {action!r}; known: {', '.join(ACTIONS)}")
    try:
        return collect(event)
    except AwsCostError as exc:
        log.error(json.dumps({"event": "error", "action": action, "error": exc.render()}))
        raise
