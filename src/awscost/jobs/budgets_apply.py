"""Job `budgets_apply` (B): make the AWS Budgets of the payer account match `[budgets]` of awscost.toml.

Creates the budgets the config asks for, updates the ones that differ (UpdateBudget for the amount, filters
and cost types; notifications and subscribers one by one), leaves the equal ones alone, and reports the
awscost-managed budgets (named `awscost-...`) the config no longer holds, deleting them only with `prune`.
Running it twice changes nothing the second time. Budgets made by hand are never touched. Boto3 only: it runs
in the collector's Lambda; it is run by a person (or a pipeline) when the config changes, so it has no
schedule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from awscost.jobs.base import Context, Job


@dataclass(frozen=True)
class Params:
    prune: bool = False  # delete the awscost- budgets the config no longer holds (else: report them)
    dry_run: bool = False  # say what would change, change nothing


@dataclass(frozen=True)
class Result:
    account: str  # the payer account the budgets live in
    dry_run: bool
    changes: list[Any] = field(default_factory=list)  # budgets.Change, in plan order

    def names(self, action: str) -> list[str]:
        return [c.name for c in self.changes if c.action == action]

    @property
    def changed(self) -> bool:
        return any(c.action in ("create", "update", "remove") for c in self.changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "dry_run": self.dry_run,
            "created": self.names("create"),
            "updated": self.names("update"),
            "unchanged": self.names("unchanged"),
            "removed": self.names("remove"),
            "not_in_config": self.names("report"),  # kept: deleted only with prune
            "changes": [c.to_json() for c in self.changes],
        }


def run(ctx: Context, params: Params) -> Result:
    from awscost.aws.accounts import accounts_of_ou, caller_account
    from awscost.reports import budgets
    from awscost.reports.config import report_settings

    config = budgets.budget_settings(ctx.settings)
    audiences = {a.name: a for a in report_settings(ctx.settings).audiences}
    session = ctx.session()
    wanted = budgets.desired(config, audiences, lambda unit: accounts_of_ou(session, unit))
    account = caller_account(session)
    client = budgets.budgets_client(session)
    held = budgets.actual(client, account)
    changes = budgets.plan(wanted, held, prune=params.prune)
    if not params.dry_run:
        budgets.apply(client, account, wanted, held, changes)
    return Result(account, params.dry_run, changes)


def metrics(params: Params, result: Result) -> tuple[dict[str, str], dict[str, float]]:
    return {"Job": "budgets_apply"}, {
        "BudgetsChanged": sum(c.action in ("create", "update", "remove") for c in result.changes),
        "BudgetsNotInConfig": len(result.names("report")),
    }


JOB: Job[Params, Result] = Job(
    name="budgets_apply",
    params=Params,
    run=run,
    description="Create, update and (with prune) delete the awscost- AWS Budgets from [budgets] of the config.",
    # budgets:ViewBudget authorizes the Describe* calls, budgets:ModifyBudget every Create/Update/Delete of a
    # budget, notification or subscriber (reports.budgets.IAM_OPERATIONS); Organizations resolves an
    # audience's OU ids to its accounts. Not deployed (no rules): were it, the two budgets actions have
    # resource-level permissions (arn:aws:budgets::ACCOUNT:budget/awscost-*) and belong in a scoped grant, not
    # in the stack's "Resource: *" statement.
    iam_actions=(
        "budgets:ModifyBudget",
        "budgets:ViewBudget",
        "organizations:ListAccountsForParent",
        "organizations:ListChildren",
        "sts:GetCallerIdentity",
    ),
    metrics=metrics,
)
