"""Job `health`: is every scheduled job succeeding on time, and is every collected kind fresh? From the store
alone: each job's last success (jobs/results.py keeps it apart from its latest result) against its declared
schedule, and each kind's last sample hour (usage/freshness.py). `awscost health` prints the same for a person.

    job status   ok        succeeded within its schedule's allowance (hourly 2 h, daily 26 h, weekly 8 days,
                           monthly 32 days)
                 failing   its latest run failed (failed units, failed reports, an error) but its last
                           success is recent enough; the job's failure alarm is the one that fires
                 overdue   its last success is older than that, or it ran and never succeeded
                 never     it never ran against this store: not overdue (a stack just deployed would be until
                           its weekly job first ran); its SecondsSinceLastSuccess is missing
                 unscheduled  no rule runs it (run by hand): never expected

Scheduled hourly in the collector's function (boto3 only). With `publish` (the rule's event sets it) it
publishes `SecondsSinceLastSuccess` per scheduled job that has succeeded (dimension Job) and per kind
(dimension Kind) itself, through jobs/metrics.py: the handler's `metrics` contract gives one dimension set a
run, and these are one per series. Its `metrics` give the handler OverdueJobs and OverdueKinds (Job=health):
one alarm on either watches everything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from awscost.core.errors import InputError
from awscost.core.timeutil import format_hour
from awscost.jobs.base import Context, Job, Rule
from awscost.jobs.metrics import Datum, put_metrics
from awscost.store.base import Store
from awscost.usage.freshness import LOOKBACK, KindFreshness, kind_freshness

Status = Literal["ok", "failing", "overdue", "never", "unscheduled"]
OVERDUE_AFTER = {
    "hourly": timedelta(hours=2),
    "daily": timedelta(hours=26),
    "weekly": timedelta(days=8),
    "monthly": timedelta(days=32),
}
METRIC = "SecondsSinceLastSuccess"


@dataclass(frozen=True)
class JobHealth:
    job: str
    schedule: str  # the job's declared schedule ("none": no rule runs it)
    expected: bool  # scheduled by a rule of the stack
    status: Status
    last_success: datetime | None
    seconds_since: float | None  # since the last success
    last_run: datetime | None  # when the latest saved result finished
    failure: str | None  # why the latest saved result is not a success

    @property
    def overdue(self) -> bool:
        return self.status == "overdue"

    def to_json(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "schedule": self.schedule,
            "status": self.status,
            "last_success": self.last_success.isoformat() if self.last_success else None,
            "seconds_since_last_success": self.seconds_since,
            "last_run": self.last_run.isoformat() if self.last_run else None,
            "failure": self.failure,
            "overdue": self.overdue,
        }


@dataclass
class Health:
    now: datetime
    jobs: list[JobHealth]
    kinds: list[KindFreshness]
    published: int = 0  # values sent to CloudWatch by the job (0: not asked to publish)
    series: list[dict[str, Any]] = field(default_factory=list)

    @property
    def overdue_jobs(self) -> list[str]:
        return [j.job for j in self.jobs if j.overdue]

    @property
    def overdue_kinds(self) -> list[str]:
        return [k.kind for k in self.kinds if k.overdue]

    @property
    def overdue(self) -> bool:
        return bool(self.overdue_jobs or self.overdue_kinds)

    def metric_data(self) -> list[Datum]:
        """SecondsSinceLastSuccess of each scheduled job that succeeded once (Job=) and of each kind with a
        sample in the window (Kind=); what has none publishes nothing (an alarm treats missing data as
        breaching, and OverdueJobs / OverdueKinds count them)."""
        data = [
            Datum(METRIC, {"Job": j.job}, j.seconds_since, "Seconds")
            for j in self.jobs
            if j.expected and j.seconds_since is not None
        ]
        data += [
            Datum(METRIC, {"Kind": k.kind}, k.seconds_since, "Seconds")
            for k in self.kinds
            if k.seconds_since is not None
        ]
        return data

    def to_json(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "overdue_jobs": self.overdue_jobs,
            "overdue_kinds": self.overdue_kinds,
            "jobs": [j.to_json() for j in self.jobs],
            "kinds": [k.to_json() for k in self.kinds],
            "published": self.published,
        }


def _status(expected: bool, schedule: str, last: datetime | None, failure: str | None, ran: bool, now: datetime
            ) -> Status:  # fmt: skip
    if not expected:
        return "failing" if failure else "unscheduled"
    if last is None:
        return "overdue" if ran else "never"
    if now - last > OVERDUE_AFTER[schedule]:
        return "overdue"
    return "failing" if failure else "ok"


def job_health(store: Store, now: datetime) -> list[JobHealth]:
    """Every registered job, in the registry's order, from its saved results."""
    from awscost.jobs import JOBS
    from awscost.jobs.results import failure_of, last_success, latest_result

    out = []
    for name in JOBS:
        job = JOBS.get(name)
        expected = bool(job.rules) and job.schedule in OVERDUE_AFTER
        latest = latest_result(store, name)
        failure = failure_of(latest.result) if latest is not None else None
        last = last_success(store, name)
        out.append(
            JobHealth(
                job=name,
                schedule=job.schedule if job.rules else "none",
                expected=expected,
                status=_status(expected, job.schedule, last, failure, latest is not None, now),
                last_success=last,
                seconds_since=(now - last).total_seconds() if last is not None else None,
                last_run=latest.finished_at if latest is not None else None,
                failure=failure,
            )
        )
    return out


def health_of(store: Store, now: datetime, lookback: timedelta = LOOKBACK) -> Health:
    """The health of every job and collected kind at `now`, from the store."""
    return Health(now, job_health(store, now), kind_freshness(store, now, lookback))


@dataclass(frozen=True)
class Params:
    publish: bool = False  # publish SecondsSinceLastSuccess to CloudWatch (the scheduled event sets it)
    lookback_days: int = LOOKBACK.days  # how far back the store is read for each kind's last sample

    def __post_init__(self) -> None:
        if self.lookback_days < 2:  # a daily kind is overdue after 26 hours: a shorter window cannot see it
            raise InputError(f"{self.lookback_days} is less than 2 days", param="lookback_days")


def publish(cloudwatch: Any, health: Health) -> int:
    """Publish the health's SecondsSinceLastSuccess series at its `now`; returns the values sent."""
    return put_metrics(cloudwatch, health.metric_data(), health.now)


def run(ctx: Context, params: Params) -> Health:
    now = ctx.now()
    with ctx.store(must_exist=True) as store:
        health = health_of(store, now, timedelta(days=params.lookback_days))
    if params.publish:
        from awscost.aws.session import client

        health.published = publish(client(ctx.session(), "cloudwatch"), health)
        health.series = [d.to_json() for d in health.metric_data()]
    return health


def metrics(params: Params, result: Health) -> tuple[dict[str, str], dict[str, float]]:
    """For the handler: how many jobs and kinds are overdue (one alarm each watches them all)."""
    return {"Job": "health"}, {
        "OverdueJobs": len(result.overdue_jobs),
        "OverdueKinds": len(result.overdue_kinds),
    }


def since_text(seconds: float | None) -> str:
    """`3d 4h`, `2h 05m`, `12m` for a person; `-` for none."""
    if seconds is None:
        return "-"
    minutes = int(seconds // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {mins:02d}m" if hours else f"{mins}m"


def rows(health: Health) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The job and kind tables `awscost health` prints."""
    jobs = [
        {
            "job": j.job,
            "schedule": j.schedule,
            "status": j.status,
            "last_success": j.last_success.isoformat(timespec="seconds") if j.last_success else "-",
            "since": since_text(j.seconds_since),
            "failure": j.failure or "",
        }
        for j in health.jobs
    ]
    kinds = [
        {
            "kind": k.kind,
            "cadence": k.cadence,
            "status": "overdue" if k.overdue else "ok",
            "last_hour": format_hour(k.last_hour) if k.last_hour else "-",
            "since": since_text(k.seconds_since),
        }
        for k in health.kinds
    ]
    return jobs, kinds


JOB: Job[Params, Health] = Job(
    name="health",
    params=Params,
    run=run,
    description="Health from the store: each job's last success against its schedule, each kind's last hour.",
    schedule="hourly",
    metrics=metrics,
    # At 50 past: after the hourly collection (:05) and billing ingest (:20) have had their time.
    rules=(
        Rule("hourly", "cron(50 * * * ? *)", {"job": "health", "publish": True}, "SecondsSinceLastSuccess"),
    ),
    uses=("store",),  # it reads the store, and the handler saves its result there
    memory_mb=256,
    timeout_s=300,
)

__all__ = ["JOB", "OVERDUE_AFTER", "Health", "JobHealth", "Params", "health_of", "job_health", "publish"]
