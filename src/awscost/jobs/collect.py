"""Job `collect` (A): one collection of accounts x regions x kinds for one sample hour, into the store.

Scheduled hourly with `kinds="hourly"` and daily with `kinds="daily"`; boto3 only, so it runs in the
collector Lambda. Its CloudWatch metrics (ItemsWritten, FailedUnits, ApiCalls by Kinds) feed the stack's
missed-hour and failed-unit alarms. A run with a deadline (in Lambda: the function's remaining time less a
margin) reports the units it could not finish as failed units and still writes everything that finished.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from awscost.core.config import Settings
from awscost.core.errors import InputError
from awscost.core.timeutil import floor_hour, format_hour
from awscost.jobs.base import Context, Job, Rule
from awscost.usage.kinds import iam_actions, resolve_kinds
from awscost.usage.runner import CollectionSummary, UnitResult, run_collection


@dataclass(frozen=True)
class Params:
    kinds: str | tuple[str, ...] = "hourly"  # hourly | daily | all | kinds
    accounts: str | tuple[str, ...] | None = None  # None: the settings'; "self" | "organizations" | ids
    regions: tuple[str, ...] | None = None  # None: the settings', else every enabled region
    at: datetime | None = None  # the sample hour (floored); None: the current hour
    role_name: str | None = None  # None: the settings'
    external_id: str | None = None
    # Seconds after which the run stops waiting for units (None: the settings' `deadline`); units not done
    # are failed units ("deadline"), what finished is written. The Lambda handler sets the settings' one.
    deadline: float | None = None


def run(ctx: Context, params: Params) -> CollectionSummary:
    kinds = resolve_kinds(params.kinds)  # before the store is opened: a typo creates nothing
    now = floor_hour(ctx.now())
    hour = floor_hour(params.at) if params.at is not None else now
    if hour > now:  # a sample of an hour to come would be a count of today's resources filed under it
        raise InputError(
            f"{format_hour(hour)} is after the current hour {format_hour(now)}",
            param="at",
            hint="collect a past hour",
        )
    # An empty list given is a mistake (`--regions ","`), never "every region": only None is.
    if params.regions is not None and not params.regions:
        raise InputError("no regions given", param="regions", hint="a comma list like us-east-1,eu-west-1")

    def progress(done: int, total: int, unit: UnitResult) -> None:
        ctx.progress(done, total, f"{unit.kind} {unit.account} {unit.region}")

    with ctx.store() as store:
        return run_collection(
            ctx.settings,
            kinds=kinds,
            accounts=params.accounts,
            regions=list(params.regions) if params.regions is not None else None,
            at=hour,
            store=store,
            role_name=params.role_name,
            external_id=params.external_id,
            progress=progress,
            session=ctx.session(),
            deadline=params.deadline,
        )


def metrics(params: Params, result: CollectionSummary) -> tuple[dict[str, str], dict[str, float]]:
    """Dimensions and values for CloudWatch: the stack alarms on FailedUnits and ItemsWritten of Kinds=hourly."""
    kinds = params.kinds if isinstance(params.kinds, str) else ",".join(params.kinds)
    return {"Kinds": kinds}, {
        "ItemsWritten": result.items_written,
        "FailedUnits": len(result.failures),
        "ApiCalls": result.api_calls,
    }


def iam_policy(
    settings: Settings, kinds: str | tuple[str, ...] | None = None, *, member: bool = False
) -> dict[str, Any]:
    """The least-privilege IAM policy document for collecting `kinds` (default all) with these settings.

    From the management account: the kinds' describes (on "*": they take no resource), AssumeRole on
    the member role only (`settings.role_name` in the accounts listed, or in any account for "self" and
    "organizations"; none without a role name: every call is then made with the caller's own credentials),
    and the store's DynamoDB actions on its two tables. `member`: what the member role needs, the describes
    and the region list.
    """
    actions = iam_actions(resolve_kinds(kinds), runner=not member)
    if member:
        describe = sorted({*actions, "ec2:DescribeRegions"})
        return {
            "Version": "2012-10-17",
            "Statement": [{"Sid": "AwsCostCollect", "Effect": "Allow", "Action": describe, "Resource": "*"}],
        }
    statements: list[dict[str, Any]] = [
        {
            "Sid": "AwsCostCollect",
            "Effect": "Allow",
            "Action": [a for a in actions if a != "sts:AssumeRole"],
            "Resource": "*",
        }
    ]
    if settings.role_name:
        accounts = settings.accounts if isinstance(settings.accounts, tuple) else ("*",)
        statements.append(
            {
                "Sid": "AwsCostEnterMemberAccounts",
                "Effect": "Allow",
                "Action": ["sts:AssumeRole"],
                "Resource": [f"arn:aws:iam::{a}:role/{settings.role_name}" for a in accounts],
            }
        )
    if settings.store.startswith("dynamodb://"):
        from awscost.store.dynamodb import DATA_ACTIONS, table_arns

        statements.append(
            {
                "Sid": "AwsCostStore",
                "Effect": "Allow",
                "Action": list(DATA_ACTIONS),
                "Resource": table_arns(settings.store),
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


JOB: Job[Params, CollectionSummary] = Job(
    name="collect",
    params=Params,
    run=run,
    description="Collect usage of the kinds in every account x region for one UTC hour into the store.",
    schedule="hourly",
    iam_actions=tuple(iam_actions()),
    metrics=metrics,
    rules=(
        Rule(
            "hourly", "cron(5 * * * ? *)", {"job": "collect", "kinds": "hourly"}, "5 past each hour, for it"
        ),
        Rule(
            "daily", "cron(15 0 * * ? *)", {"job": "collect", "kinds": "daily"}, "OpenSearch, Redshift, owned"
        ),
    ),
    uses=("store", "members"),
)
