"""Savings Plans owned, kind `sp` (daily, once per account: item `sp:<account>:global`).

Savings Plans are not regional: the Savings Plans API answers for the whole account from one endpoint
(`savingsplans.amazonaws.com`, signed for us-east-1), and a Compute Savings Plan applies to EC2, Fargate and
Lambda in every region. Usage keys say what a commitment applies to, in the price book's Savings Plans
vocabulary (`Price.savings_plans`), so the planner finds the rates a plan charges under the same key:

    compute/<1y|3y>/<no|partial|all>                            Compute Savings Plans
    ec2instance/<1y|3y>/<no|partial|all>/<region>/<family>      EC2 Instance Savings Plans (one family, region)
    sagemaker/... , database/...                                other plan types (collected, not planned)

Counts are the hourly commitment in micro-USD (`1500000` = $1.50/h), summed over the plans of a key, so money
stays exact in an integer count. `attrs["savings_plans"]` lists each active plan: id, arn, key, type,
commitment (the API's decimal string, $/h), currency, term, payment, start, end (ISO 8601), region, family,
upfront, recurring. Plans in other states (queued, payment-pending, retired, returned ...) are not counted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from awscost.aws.paging import follow_token
from awscost.usage.collectors.base import CollectContext, Observation

# The Savings Plans API's one endpoint is signed for us-east-1 (aws partition).
HOME_REGION = "us-east-1"
PLAN_TYPES = {
    "Compute": "compute",
    "EC2Instance": "ec2instance",
    "SageMaker": "sagemaker",
    "Database": "database",
}
PAYMENTS = {"No Upfront": "no", "Partial Upfront": "partial", "All Upfront": "all"}
TERMS = {31536000: "1y", 94608000: "3y"}
MICRO = Decimal(1_000_000)


def _iso(text: Any) -> str | None:
    """The API's timestamps ("2026-01-15T08:30:00.000Z") as the store writes times, UTC to the second."""
    if not text:
        return None
    value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _money(text: Any, what: str, plan_id: str) -> Decimal:
    try:
        return Decimal(str(text or "0"))
    except InvalidOperation:
        raise ValueError(f"Savings Plan {plan_id}: {what} {text!r} is not a number") from None


def plan_key(plan: dict[str, Any]) -> str:
    """The usage key of one DescribeSavingsPlans entry (see the module docstring)."""
    kind = PLAN_TYPES.get(str(plan.get("savingsPlanType")), str(plan.get("savingsPlanType", "")).lower())
    seconds = int(plan.get("termDurationInSeconds") or 0)
    term = TERMS.get(seconds, f"{seconds}s")
    payment = PAYMENTS.get(str(plan.get("paymentOption")), str(plan.get("paymentOption", "")).lower())
    key = f"{kind}/{term}/{payment}"
    if kind == "ec2instance":
        key += f"/{plan.get('region')}/{plan.get('ec2InstanceFamily')}"
    return key


def collect_sp(ctx: CollectContext) -> Observation:
    """Active Savings Plans of the account, by what they apply to, in micro-USD of hourly commitment."""
    client = ctx.clients.get("savingsplans", HOME_REGION)
    # botocore ships no paginator for DescribeSavingsPlans: follow nextToken by hand.
    kwargs = {"states": ["active"], "maxResults": ctx.page_size or 1000}
    plans = follow_token(client.describe_savings_plans, kwargs, "savingsPlans", "nextToken")
    obs = Observation()
    details = []
    for plan in plans:
        if plan.get("state") != "active":
            continue
        pid = str(plan["savingsPlanId"])
        commitment = _money(plan.get("commitment"), "commitment", pid)
        key = plan_key(plan)
        obs.add(key, int((commitment * MICRO).to_integral_value()))
        details.append(
            {
                "id": pid,
                "arn": plan.get("savingsPlanArn"),
                "key": key,
                "type": plan.get("savingsPlanType"),
                "commitment": str(commitment),
                "currency": plan.get("currency"),
                "term": key.split("/")[1],
                "payment": plan.get("paymentOption"),
                "start": _iso(plan.get("start")),
                "end": _iso(plan.get("end")),
                "region": plan.get("region") or None,
                "family": plan.get("ec2InstanceFamily") or None,
                "upfront": str(_money(plan.get("upfrontPaymentAmount"), "upfront", pid)),
                "recurring": str(_money(plan.get("recurringPaymentAmount"), "recurring", pid)),
            }
        )
    obs.attrs["savings_plans"] = sorted(details, key=lambda d: (d["key"], d["id"]))
    return obs
