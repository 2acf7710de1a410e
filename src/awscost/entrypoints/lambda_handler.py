"""The one AWS Lambda entry point: `event["job"]` -> the jobs registry (`event["action"]` is its alias).

Scheduled by EventBridge (infra/awscost.yaml): `{"job": "collect", "kinds": "hourly"}` every hour and
`{"job": "collect", "kinds": "daily"}` once a day; every other key of an event is a field of the job's Params
(`awscost run JOB --event FILE` runs the same event from a workstation). Settings come from AWSCOST_*
environment variables set by the stack (AWSCOST_STORE=dynamodb://AWSCost?region=..., AWSCOST_ACCOUNTS, ...).

A wrong event (unknown job, bad params), a job that cannot run in Lambda yet, or one whose extra the package
lacks fails the invocation with one line, so the function's Errors alarm fires. After each run the result is
saved in the store (the dashboard's "last run") and the job's CloudWatch metrics are published (namespace
`awscost`; the collector's ItemsWritten, FailedUnits and ApiCalls feed the missed-hour and failed-unit alarms).

Imports stay boto3 + standard library so a collector cold-starts fast and its zip stays small.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from awscost.core.errors import AwsCostError, NotBuiltError

log = logging.getLogger("awscost")
log.setLevel(os.environ.get("AWSCOST_LOG_LEVEL", "INFO"))

METRIC_NAMESPACE = "awscost"
DEADLINE_MARGIN = 60.0  # seconds kept for writing the totals, the saved result and the metrics


class NotInLambdaError(NotBuiltError):
    """The job's input or output cannot exist in Lambda yet (local files, say)."""


def _publish_metrics(dims: dict[str, str], values: dict[str, float]) -> None:
    import boto3

    dimensions = [{"Name": k, "Value": v} for k, v in dims.items()]
    boto3.client("cloudwatch").put_metric_data(
        Namespace=METRIC_NAMESPACE,
        MetricData=[
            {"MetricName": name, "Dimensions": dimensions, "Value": value, "Unit": "Count"}
            for name, value in values.items()
        ],
    )


def _log_progress() -> Any:
    """A log line at each tenth of the work: CloudWatch shows a long run moving without a line per unit."""
    last = {"tenth": -1}

    def progress(done: int, total: int | None, what: str) -> None:
        tenth = done * 10 // total if total else -1
        if total and (tenth > last["tenth"] or done == total):
            last["tenth"] = tenth
            log.info(json.dumps({"event": "progress", "done": done, "total": total, "last": what}))

    return progress


def _check_runnable(job: Any) -> None:
    if job.lambda_unavailable:
        raise NotInLambdaError(f"job {job.name} cannot run in Lambda yet: {job.lambda_unavailable}")


def _with_deadline(settings: Any, context: Any) -> Any:
    """The run's deadline below the function's: what finished is still written, and the metrics and the
    saved result go out before Lambda stops the process (the margin is for them)."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return settings
    seconds = remaining() / 1000
    deadline = max(1.0, seconds - min(DEADLINE_MARGIN, seconds * 0.2))
    if settings.deadline is not None and settings.deadline < deadline:
        return settings
    return settings.with_overrides(deadline=deadline)


def _save_failure(ctx: Any, name: str, values: dict[str, Any], error: str) -> None:
    from awscost.jobs.results import save_failure

    try:
        with ctx.optional_store() as store:  # a store that does not exist is not made for an error
            if store is not None:
                save_failure(store, name, dict(values), error, ctx.now())
    except AwsCostError as exc:  # never hide the run's own error behind the store's
        log.error(json.dumps({"event": "error", "job": name, "error": f"saving the failure: {exc.render()}"}))


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    if isinstance(event, dict) and isinstance(event.get("slack"), dict):
        # A /awscost command the Slack function acknowledged and handed on (entrypoints/slack): answered
        # through its response_url. Imported here only: the collector's path stays boto3 + stdlib.
        from awscost.entrypoints.slack.answer import answer_event

        return answer_event(event["slack"])
    from awscost.core.config import load_settings
    from awscost.jobs import Context, job_of_event, run_event, save_latest

    name = event.get("job") or event.get("action") if isinstance(event, dict) else None
    ctx = None
    try:
        job, values = job_of_event(event)
        _check_runnable(job)
        settings = _with_deadline(load_settings(os.environ.get("AWSCOST_CONFIG")), context)
        ctx = Context(settings, progress=_log_progress())
        run = run_event(ctx, event, save=False)
    except AwsCostError as exc:
        log.error(json.dumps({"event": "error", "job": name, "error": exc.render()}))
        if ctx is not None:  # the settings were read: `awscost health` shows this run's error as the latest
            _save_failure(ctx, job.name, values, exc.render())
        raise
    result = run.result.to_json()
    for failure in result.get("failures") or []:
        # One structured line per failed unit: CloudWatch Logs Insights can count them by account/region/kind.
        log.warning(json.dumps({"event": f"{job.name}_failure", **failure}, default=str))
    summary = {k: v for k, v in result.items() if k not in ("failures", "rows")}
    log.info(json.dumps({"event": f"{job.name}_summary", **summary}, default=str))
    # The metrics first: the missed-hour alarm must see a collection that ran, whatever happens next. Every
    # job publishes its failed units (accounts, audiences, files it could not do) under its name: the stack's
    # <Job>FailuresAlarm fires on any; an exception fails the invocation instead (the Errors alarm).
    if os.environ.get("AWSCOST_METRICS", "1") != "0":
        _publish_metrics({"Job": job.name}, {"Failures": float(len(result.get("failures") or []))})
        if job.metrics is not None:
            _publish_metrics(*job.metrics(run.params, run.result))
    save_latest(ctx, job.name, run.params, run.result)
    return result
