"""The application layer: every job one module with typed Params and Result, in one registry.

Front ends (the CLI, the Lambda handler, later mail, Slack and the web) are adapters: they build Params, call
`job.run(ctx, params)` and print, return or show the Result. `run_event` is the one way an event (a Lambda
invocation, `awscost run JOB --event FILE`) becomes a run: `{"job": "collect", "kinds": "hourly"}` (`action`
is the name's older alias), every other key a field of the job's Params.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from awscost.core.errors import InputError
from awscost.core.registry import Registry
from awscost.jobs.base import Context, Job, Result

# job name -> "module:JOB", imported when run (a collector Lambda never imports the planner).
JOBS: Registry[Job[Any, Any]] = Registry("job", param="job")
for _name in (
    "collect",
    "ce_fetch",
    "pricing_refresh",
    "ri_plan",
    "ri_report",
    "billing_load",
    "service_costs",
    "report",
    "budgets_apply",
    "cost_metrics",
    "anomaly_scan",
    "forecast",
    "health",
    "version",
):
    JOBS.add(_name, f"awscost.jobs.{_name}:JOB")

EVENT_NAME_KEYS = ("job", "action")  # `action` is what the first deployed schedules sent


@dataclass(frozen=True)
class EventRun:
    job: Job[Any, Any]
    params: Any
    result: Result


def job_of_event(event: Mapping[str, Any]) -> tuple[Job[Any, Any], dict[str, Any]]:
    """The job an event names and the rest of the event (its Params); unknown -> error naming the known."""
    if not isinstance(event, Mapping):
        raise InputError(f"an event is a JSON object, not {type(event).__name__}", where="event")
    names = [event[k] for k in EVENT_NAME_KEYS if k in event]
    if not names:
        raise InputError("the event names no job", where="event", hint=f'add "job": one of {", ".join(JOBS)}')
    if len(set(names)) > 1:
        raise InputError(f"the event names two jobs: {', '.join(map(str, names))}", where="event")
    name = str(names[0])
    if name not in JOBS:
        raise InputError(f"unknown job {name!r}", where="event.job", hint=f"known: {', '.join(JOBS)}")
    return JOBS.get(name), {k: v for k, v in event.items() if k not in EVENT_NAME_KEYS}


def run_job(name: str, ctx: Context, params: Any) -> Any:
    """Run the registered job `name` with `params`: the one way a front end does its work. A job whose extra
    is not installed fails in one line naming it, before it starts."""
    job = JOBS.get(name)
    missing = job.missing_extra()
    if missing is not None:
        raise missing
    return job.run(ctx, params)


def run_event(ctx: Context, event: Mapping[str, Any], *, save: bool = True) -> EventRun:
    """Parse the event into the job's Params, run it, and save its result in the store (`save`)."""
    job, values = job_of_event(event)
    params = job.parse(values, where="event")
    result = run_job(job.name, ctx, params)
    if save:
        save_latest(ctx, job.name, params, result)
    return EventRun(job, params, result)


def save_latest(ctx: Context, name: str, params: Any, result: Result) -> None:
    from awscost.jobs.results import save_result

    with ctx.store() as store:
        save_result(store, name, params, result.to_json(), ctx.now())


__all__ = [
    "JOBS",
    "Context",
    "EventRun",
    "Job",
    "Result",
    "job_of_event",
    "run_event",
    "run_job",
    "save_latest",
]
