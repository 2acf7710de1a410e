"""Job `ce_fetch` (B): Cost Explorer's reservation coverage and utilization and its RI and Savings Plans
recommendations (7- and 60-day lookbacks), stored once a day as ce-cov, ce-util, ce-rec-7 and ce-rec-60 items
(account = the organization name), so that plans and reports can set AWS's view beside ours.

Boto3 only; runs in the collector Lambda. Cost Explorer answers from us-east-1 and charges per request
(~20 requests a run), so once a day is its schedule.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from awscost.core.errors import AwsAccessError
from awscost.jobs.base import Context, Job, Rule
from awscost.usage.kinds import CATALOG


@dataclass(frozen=True)
class Params:
    days: int = 7  # days of coverage and utilization, ending the day before `day`
    term: Literal["1y", "3y"] = "1y"
    payment: Literal["no", "partial", "all"] = "all"
    day: date | None = None  # the day to store the answers under; None: today (UTC)
    account: str | None = None  # the account the items are stored under; None: the organization name

    def __post_init__(self) -> None:
        if not 1 <= self.days <= 90:
            from awscost.core.errors import InputError

            raise InputError(f"days {self.days} is not from 1 to 90", param="days")


@dataclass(frozen=True)
class Result:
    day: date
    account: str
    items_written: int
    by_kind: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "account": self.account,
            "items_written": self.items_written,
            "by_kind": dict(sorted(self.by_kind.items())),
        }


def run(ctx: Context, params: Params) -> Result:
    from botocore.exceptions import BotoCoreError, ClientError

    from awscost.aws.session import client, client_config
    from awscost.planning.explorer import fetch_daily

    day = params.day or ctx.now().date()
    account = params.account or ctx.settings.org_name
    ce = client(ctx.session(), "ce", "us-east-1", config=client_config(max_attempts=3, pool=4))
    try:
        items = fetch_daily(
            ce, account=account, today=day, days=params.days, term=params.term, payment=params.payment
        )
    except (BotoCoreError, ClientError) as exc:
        raise AwsAccessError(f"Cost Explorer call failed: {exc}", where="ce us-east-1") from None
    with ctx.store() as store:
        written = int(store.put_items(items))
    return Result(day, account, written, dict(Counter(i.kind for i in items)))


JOB: Job[Params, Result] = Job(
    name="ce_fetch",
    params=Params,
    run=run,
    description="Fetch Cost Explorer coverage, utilization and RI/SP recommendations into the store.",
    schedule="daily",
    iam_actions=tuple(sorted({a for s in CATALOG if s.writer == "ce_fetch" for a in s.iam_actions})),
    # Cost Explorer's data for yesterday has settled by the morning (UTC).
    rules=(Rule("daily", "cron(30 6 * * ? *)", {"job": "ce_fetch"}),),
    uses=("store",),
)
