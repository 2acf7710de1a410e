"""Sandbox answers to the AWS Budgets operations moto 5.2 lacks, kept in moto's own budgets backend.

Sandbox only (never on a production path). moto stores a budget's notifications with their subscribers but
answers neither DescribeSubscribersForNotification nor UpdateBudget, CreateSubscriber and DeleteSubscriber;
these handlers read and change the same records moto's CreateBudget / CreateNotification made, so that
`awscost budgets apply` runs end to end in the sandbox. What real AWS checks beyond the request's shape (a
budget's quotas, a subscriber already present) is not imitated except where named.
"""

from __future__ import annotations

from typing import Any

from awscost_sandbox.layer import LayerError, register


def _budget(account: str, params: dict[str, Any]) -> Any:
    from moto.budgets.models import budgets_backends

    backend = budgets_backends[account]["aws"]
    name = str(params.get("BudgetName") or (params.get("NewBudget") or {}).get("BudgetName"))
    found = backend.budgets[params["AccountId"]].get(name)
    if found is None:
        raise LayerError("NotFoundException", f"Unable to find budget: {name} - the budget doesn't exist.")
    return found


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    keys = ("NotificationType", "ComparisonOperator", "ThresholdType")
    return all(a.get(k) == b.get(k) for k in keys) and float(a["Threshold"]) == float(b["Threshold"])


def _notification(budget: Any, wanted: dict[str, Any]) -> Any:
    for n in budget.notifications:
        if _same(n.details, wanted):
            return n
    raise LayerError("NotFoundException", "Unable to find the notification of this budget.")


def describe_subscribers(params: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    n = _notification(_budget(account, params), params["Notification"])
    return {"Subscribers": [dict(s) for s in n.subscribers]}


def create_subscriber(params: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    n = _notification(_budget(account, params), params["Notification"])
    if params["Subscriber"] in n.subscribers:
        raise LayerError("DuplicateRecordException", "The subscriber already exists.")
    n.subscribers.append(dict(params["Subscriber"]))
    return {}


def delete_subscriber(params: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    n = _notification(_budget(account, params), params["Notification"])
    n.subscribers = [s for s in n.subscribers if s != params["Subscriber"]]
    return {}


def update_budget(params: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    from moto.core.utils import unix_time

    budget = _budget(account, params)
    new = dict(params["NewBudget"])
    # What the caller leaves out stays as it was (the time period AWS set, the calculated spend).
    budget.budget = {**budget.budget, **new, "LastUpdatedTime": unix_time()}
    return {}


register("budgets", "DescribeSubscribersForNotification", describe_subscribers)
register("budgets", "CreateSubscriber", create_subscriber)
register("budgets", "DeleteSubscriber", delete_subscriber)
register("budgets", "UpdateBudget", update_budget)
