"""`awscost run JOB [--event FILE]`: run any job as the Lambda handler does, from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from awscost.core.config import Settings
from awscost.core.errors import InputError
from awscost.core.output import dumps
from awscost.entrypoints.cli._common import job_context, with_settings


def _read_event(path: str | None) -> dict[str, Any]:
    if path is None:
        return {}
    where = "stdin" if path == "-" else path
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        event = json.loads(text)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", where=where) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON: {exc.msg} (line {exc.lineno})", where=where) from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", where=where) from None
    except RecursionError:  # the json module nests by recursion: [[[[...]]]] 100,000 deep
        raise InputError("not JSON an event can be: nested too deeply", where=where) from None
    if not isinstance(event, dict):
        raise InputError("an event is a JSON object", where=where)
    return event


@click.command("run")
@click.argument("job", required=False)
@click.option(
    "--event",
    "event_path",
    type=click.Path(dir_okay=False, allow_dash=True),
    default=None,
    help="The event as the Lambda receives it (JSON file, - for stdin); its keys are the job's params.",
)
@click.option("--no-save", is_flag=True, help="Do not save the result as the job's latest in the store.")
@click.option(
    "--list", "list_jobs", is_flag=True, help="List the jobs with their schedule and what they need."
)
@with_settings
def run(settings: Settings, job: str | None, event_path: str | None, no_save: bool, list_jobs: bool) -> None:
    """Run JOB (or the job the event names) as Lambda would, print its result as JSON, and save it in the
    store as the job's latest result (what a dashboard or Slack shows)."""
    from awscost.jobs import JOBS, run_event

    if list_jobs:
        from awscost.core.output import emit

        rows = []
        for name, spec in JOBS.items():
            rows.append(
                {
                    "job": name,
                    "schedule": spec.schedule,
                    "extra": spec.extra or "-",
                    "lambda": "yes"
                    if spec.lambda_unavailable is None
                    else f"not yet: {spec.lambda_unavailable}",
                    "what": spec.description,
                }
            )
        emit(rows, "table")
        return
    event = _read_event(event_path)
    if job is not None:
        named = event.get("job") or event.get("action")
        if named is not None and named != job:
            raise InputError(f"the event names job {named!r}, the command {job!r}", where=event_path)
        event = {**{k: v for k, v in event.items() if k != "action"}, "job": job}
    if not event.get("job") and not event.get("action"):
        raise InputError("no job given", where="JOB", hint=f"one of {', '.join(JOBS)}")
    with job_context(settings, str(event.get("job") or event.get("action"))) as ctx:
        done = run_event(ctx, event, save=not no_save)
    click.echo(dumps(done.result.to_json()))
