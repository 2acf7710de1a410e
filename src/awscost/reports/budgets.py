"""AWS Budgets from the `[budgets]` table of awscost.toml: the budgets wanted, the ones AWS holds, the plan that
makes AWS match (create, update, leave, report or prune), and that plan carried out.

    [budgets]
    notify_sns = "arn:aws:sns:us-east-1:111111111111:cost-alerts"   # one SNS topic (optional)
    notify_emails = ["finops@example.com"]                         # up to 10 addresses (optional)
    actual_thresholds = [80, 100]       # % of the budget spent (the default)
    forecast_thresholds = [100]         # % of the budget forecast for the month (the default)
    metric = "EffectiveCost"            # EffectiveCost (amortized, the default) | BilledCost
    report_source = "config"            # where the cost report reads a budget's amount: config | aws

    [budgets.account."111111111111"]
    monthly = "1200.00"                 # USD; a string or an integer (a TOML float is not exact)

    [budgets.audience.payments]         # an audience of [[report.audience]]: its accounts and tag filter
    monthly = "5000"
    notify_emails = ["payments-leads@example.com"]   # each default may be given again per budget

Every budget awscost manages is named `awscost-account-<id>` or `awscost-audience-<name>` (PREFIX): a budget
made by hand has another name and is never changed, reported or deleted. The Budgets API is global and lives
in the payer account (the caller's, sts:GetCallerIdentity). A budget is compared with AWS's field by field
(amount as a number, unit, time unit, type, cost filters, cost types, notifications and their subscribers), so
a second apply changes nothing. Standard library and boto3 only: the job runs in the collector's Lambda.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from awscost.core.config import Settings, check_keys, exact_amount, validate_account_id
from awscost.core.errors import AwsAccessError, ConfigError
from awscost.reports.config import EMAIL, METRICS, Audience, report_settings

PREFIX = "awscost-"
BUDGETS_REGION = "us-east-1"  # the Budgets endpoint (budgets.amazonaws.com) signs in us-east-1
TABLE_KEYS = (
    "notify_sns",
    "notify_emails",
    "actual_thresholds",
    "forecast_thresholds",
    "metric",
    "report_source",
    "account",
    "audience",
)
ENTRY_KEYS = ("monthly", "notify_sns", "notify_emails", "actual_thresholds", "forecast_thresholds")
REPORT_SOURCES = ("config", "aws")
# The Budgets API is authorized by IAM actions named for no operation: each, with the operations awscost calls
# under it (tests/test_jobs.py checks them against the service model).
IAM_OPERATIONS = {
    "budgets:ViewBudget": (
        "DescribeBudgets",
        "DescribeNotificationsForBudget",
        "DescribeSubscribersForNotification",
    ),
    "budgets:ModifyBudget": (
        "CreateBudget",
        "UpdateBudget",
        "DeleteBudget",
        "CreateNotification",
        "DeleteNotification",
        "CreateSubscriber",
        "DeleteSubscriber",
    ),
}
SNS_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")
MAX_EMAILS = 10  # AWS Budgets: up to 10 email subscribers and one SNS topic per notification
MAX_NOTIFICATIONS = 10  # notifications per budget (AWS Budgets quota)
MAX_AMOUNT = Decimal("1e12")
# CostTypes of each metric, every field given so that AWS's answer (which fills the ones left out) compares
# equal: EffectiveCost is the amortized cost, as in the cost reports; BilledCost the unblended.
_COST_TYPES = {
    "IncludeTax": True,
    "IncludeSubscription": True,
    "UseBlended": False,
    "IncludeRefund": True,
    "IncludeCredit": True,
    "IncludeUpfront": True,
    "IncludeRecurring": True,
    "IncludeOtherSubscription": True,
    "IncludeSupport": True,
    "IncludeDiscount": True,
}


def cost_types(metric: str) -> dict[str, bool]:
    return {**_COST_TYPES, "UseAmortized": metric == "EffectiveCost"}


# ---------------------------------------------------------------- config


@dataclass(frozen=True)
class Notify:
    sns: str | None = None
    emails: tuple[str, ...] = ()
    actual: tuple[Decimal, ...] = (Decimal(80), Decimal(100))
    forecast: tuple[Decimal, ...] = (Decimal(100),)

    @property
    def subscribers(self) -> tuple[tuple[str, str], ...]:
        """(SubscriptionType, Address), sorted: the form they are compared in."""
        out = [("EMAIL", e) for e in self.emails] + ([("SNS", self.sns)] if self.sns else [])
        return tuple(sorted(out))


@dataclass(frozen=True)
class BudgetEntry:
    kind: str  # "account" | "audience"
    key: str  # the account id or the audience name
    monthly: Decimal
    notify: Notify
    where: str  # the file and key, for errors found when the plan is made

    @property
    def name(self) -> str:
        return f"{PREFIX}{self.kind}-{self.key}"


@dataclass(frozen=True)
class BudgetSettings:
    entries: tuple[BudgetEntry, ...] = ()
    metric: str = "EffectiveCost"
    report_source: str = "config"

    def for_audience(self, name: str) -> BudgetEntry | None:
        return next((e for e in self.entries if e.kind == "audience" and e.key == name), None)

    def for_account(self, account: str) -> BudgetEntry | None:
        return next((e for e in self.entries if e.kind == "account" and e.key == account), None)


def _amount(value: Any, where: str) -> Decimal:
    return exact_amount(
        value,
        where,
        what="an amount in USD",
        example="1200.00",
        currency="USD",
        positive=True,
        below=MAX_AMOUNT,
        cents=True,
    )


def _thresholds(value: Any, where: str) -> tuple[Decimal, ...]:
    if not isinstance(value, list):
        raise ConfigError("must be a list of percentages, like [80, 100]", where=where)
    out = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | float | str):
            raise ConfigError(f"{item!r} is not a percentage", where=where)
        try:
            pct = Decimal(str(item).strip())
        except InvalidOperation:
            raise ConfigError(f"{item!r} is not a percentage", where=where) from None
        if not pct.is_finite() or not 0 < pct <= 1000:
            raise ConfigError(f"{item!r} is not a percentage above 0 (at most 1000)", where=where)
        out.append(pct)
    if len(set(out)) != len(out):
        raise ConfigError("a threshold is given twice", where=where)
    return tuple(sorted(out))


def _notify(data: dict[str, Any], base: Notify, where: str) -> Notify:
    sns, emails, actual, forecast = base.sns, base.emails, base.actual, base.forecast
    if "notify_sns" in data:
        sns = data["notify_sns"]
        if not isinstance(sns, str) or not SNS_ARN.match(sns.strip()):
            raise ConfigError(f"{sns!r} is not an SNS topic ARN", where=f"{where}.notify_sns")
        sns = sns.strip()
    if "notify_emails" in data:
        value = data["notify_emails"]
        if isinstance(value, str):
            value = [v for v in value.split(",") if v.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError("must be a list of mail addresses", where=f"{where}.notify_emails")
        emails = tuple(dict.fromkeys(v.strip() for v in value))
        for address in emails:
            if not EMAIL.match(address):
                raise ConfigError(f"{address!r} is not a mail address", where=f"{where}.notify_emails")
        if len(emails) > MAX_EMAILS:
            raise ConfigError(
                f"{len(emails)} addresses: AWS Budgets takes at most {MAX_EMAILS} per notification",
                where=f"{where}.notify_emails",
            )
    if "actual_thresholds" in data:
        actual = _thresholds(data["actual_thresholds"], f"{where}.actual_thresholds")
    if "forecast_thresholds" in data:
        forecast = _thresholds(data["forecast_thresholds"], f"{where}.forecast_thresholds")
    return Notify(sns, emails, actual, forecast)


def _entry(kind: str, key: str, data: Any, base: Notify, where: str) -> BudgetEntry:
    data = check_keys(data, ENTRY_KEYS, where)
    if "monthly" not in data:
        raise ConfigError('a budget needs its monthly amount (monthly = "1200.00")', where=f"{where}.monthly")
    notify = _notify(data, base, where)
    if len(notify.actual) + len(notify.forecast) > MAX_NOTIFICATIONS:
        raise ConfigError(
            f"{len(notify.actual) + len(notify.forecast)} thresholds: a budget holds at most {MAX_NOTIFICATIONS}",
            where=where,
        )
    if not notify.subscribers and ("actual_thresholds" in data or "forecast_thresholds" in data):
        raise ConfigError("thresholds notify nobody", where=where, hint="give notify_sns or notify_emails")
    return BudgetEntry(kind, key, _amount(data["monthly"], f"{where}.monthly"), notify, where)


def budget_settings(settings: Settings) -> BudgetSettings:
    """Parse `[budgets]` of the settings' file; every error names the file and key."""
    path = settings.config_path or "awscost.toml"
    where = f"{path}: budgets"
    data = check_keys(settings.section("budgets"), TABLE_KEYS, where)
    base = _notify(data, Notify(), where)
    if not base.subscribers and ("actual_thresholds" in data or "forecast_thresholds" in data):
        raise ConfigError("thresholds notify nobody", where=where, hint="give notify_sns or notify_emails")
    metric = data.get("metric", "EffectiveCost")
    if metric not in METRICS:
        raise ConfigError(f"unknown metric {metric!r}", where=f"{where}.metric", hint=", ".join(METRICS))
    source = data.get("report_source", "config")
    if source not in REPORT_SOURCES:
        raise ConfigError(
            f"unknown report_source {source!r}",
            where=f"{where}.report_source",
            hint=", ".join(REPORT_SOURCES),
        )
    entries: list[BudgetEntry] = []
    accounts = data.get("account", {})
    if not isinstance(accounts, dict):
        raise ConfigError('must be a table of [budgets.account."ID"] tables', where=f"{where}.account")
    for account, entry in accounts.items():
        at = f'{where}.account."{account}"'
        entries.append(_entry("account", validate_account_id(account, where=at), entry, base, at))
    audiences = data.get("audience", {})
    if not isinstance(audiences, dict):
        raise ConfigError("must be a table of [budgets.audience.NAME] tables", where=f"{where}.audience")
    if audiences:
        known = {a.name for a in report_settings(settings).audiences}
        for name, entry in audiences.items():
            at = f"{where}.audience.{name}"
            if name not in known:
                raise ConfigError(
                    f"unknown audience {name!r}",
                    where=at,
                    hint=f"[[report.audience]] names: {', '.join(sorted(known)) or 'none configured'}",
                )
            entries.append(_entry("audience", name, entry, base, at))
    return BudgetSettings(tuple(entries), metric, source)


# ---------------------------------------------------------------- desired and actual budgets


@dataclass(frozen=True)
class Budget:
    """One budget as awscost compares it: what AWS's Budget and notifications say, normalized."""

    name: str
    amount: Decimal
    unit: str = "USD"
    time_unit: str = "MONTHLY"
    budget_type: str = "COST"
    cost_filters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    cost_types: tuple[tuple[str, bool], ...] = ()
    # (NotificationType, ComparisonOperator, Threshold, ThresholdType) -> its subscribers
    notifications: tuple[tuple[tuple[str, str, Decimal, str], tuple[tuple[str, str], ...]], ...] = ()

    def fields(self) -> dict[str, Any]:
        """What UpdateBudget's NewBudget and CreateBudget's Budget carry."""
        return {
            "BudgetName": self.name,
            "BudgetLimit": {"Amount": str(self.amount), "Unit": self.unit},
            "CostFilters": {k: list(v) for k, v in self.cost_filters},
            "CostTypes": dict(self.cost_types),
            "TimeUnit": self.time_unit,
            "BudgetType": self.budget_type,
        }

    def differences(self, other: Budget) -> list[str]:
        """What differs from `other` (AWS's), named for a person: [] when nothing does."""
        out = []
        if self.amount != other.amount or self.unit != other.unit:
            out.append(f"amount {other.amount} {other.unit} -> {self.amount} {self.unit}")
        if self.time_unit != other.time_unit:
            out.append(f"time unit {other.time_unit} -> {self.time_unit}")
        if self.budget_type != other.budget_type:
            out.append(f"type {other.budget_type} -> {self.budget_type}")
        if self.cost_filters != other.cost_filters:
            out.append("cost filters")
        if self.cost_types != other.cost_types:
            out.append("cost types")
        if self.notifications != other.notifications:
            out.append("notifications")
        return out


def _notification_key(n: dict[str, Any]) -> tuple[str, str, Decimal, str]:
    return (
        str(n["NotificationType"]),
        str(n["ComparisonOperator"]),
        Decimal(str(n["Threshold"])).normalize(),
        str(n.get("ThresholdType", "PERCENTAGE")),
    )


def notification_of(key: tuple[str, str, Decimal, str]) -> dict[str, Any]:
    kind, operator, threshold, threshold_type = key
    return {
        "NotificationType": kind,
        "ComparisonOperator": operator,
        "Threshold": float(threshold),  # the API's type is a double
        "ThresholdType": threshold_type,
    }


def subscribers_of(pairs: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"SubscriptionType": t, "Address": a} for t, a in pairs]


def _filters(
    entry: BudgetEntry, audience: Audience | None, org_units: Callable[[str], Iterable[str]]
) -> dict[str, list[str]]:
    if entry.kind == "account":
        return {"LinkedAccount": [entry.key]}
    assert audience is not None
    out: dict[str, list[str]] = {}
    if audience.accounts is not None:
        accounts = set(audience.account_ids)
        for unit in audience.org_units:
            accounts.update(org_units(unit))
        if not accounts:
            raise ConfigError(f"audience {audience.name} holds no account today", where=entry.where)
        out["LinkedAccount"] = sorted(accounts)
    if len(audience.tags) > 1:
        # Values of one CostFilters key are alternatives (OR); a budget cannot say "team=a AND env=prod".
        raise ConfigError(
            f"audience {audience.name} filters on {len(audience.tags)} tag keys; a budget can filter on one",
            where=entry.where,
        )
    for key, values in audience.tags.items():
        out["TagKeyValue"] = [f"{key}${v}" for v in values]
    return out


def desired(
    budget_config: BudgetSettings,
    audiences: dict[str, Audience],
    org_units: Callable[[str], Iterable[str]],
) -> list[Budget]:
    """The budgets the config asks for, in the config's order."""
    out = []
    for entry in budget_config.entries:
        audience = audiences.get(entry.key) if entry.kind == "audience" else None
        metric = audience.metric if audience is not None else budget_config.metric
        filters = _filters(entry, audience, org_units)
        notifications = []
        if entry.notify.subscribers:
            for kind, thresholds in (("ACTUAL", entry.notify.actual), ("FORECASTED", entry.notify.forecast)):
                for t in thresholds:
                    notifications.append(
                        ((kind, "GREATER_THAN", t.normalize(), "PERCENTAGE"), entry.notify.subscribers)
                    )
        out.append(
            Budget(
                name=entry.name,
                amount=entry.monthly,
                cost_filters=tuple(sorted((k, tuple(sorted(v))) for k, v in filters.items())),
                cost_types=tuple(sorted(cost_types(metric).items())),
                notifications=tuple(sorted(notifications)),
            )
        )
    return out


def _aws_error(exc: Exception, what: str) -> AwsAccessError:
    from awscost.aws.errors import failure_reason

    return AwsAccessError(f"{what} failed: {failure_reason(exc)}", where=f"budgets {BUDGETS_REGION}")


def actual(budgets: Any, account_id: str, *, prefix: str = PREFIX) -> dict[str, Budget]:
    """The budgets of the payer account whose names start with `prefix`, with notifications and
    subscribers, as awscost compares them."""
    from botocore.exceptions import BotoCoreError, ClientError

    out: dict[str, Budget] = {}
    try:
        found: list[dict[str, Any]] = []
        token = None
        while True:
            page = budgets.describe_budgets(AccountId=account_id, **({"NextToken": token} if token else {}))
            found += page.get("Budgets", [])
            token = page.get("NextToken")
            if not token:
                break
        for b in found:
            name = str(b["BudgetName"])
            if not name.startswith(prefix):
                continue  # made by hand (or by another tool): never awscost's to touch
            limit = b.get("BudgetLimit") or {}
            notifications = []
            for n in _all(
                budgets.describe_notifications_for_budget,
                "Notifications",
                AccountId=account_id,
                BudgetName=name,
            ):
                subscribers = _all(
                    budgets.describe_subscribers_for_notification,
                    "Subscribers",
                    AccountId=account_id,
                    BudgetName=name,
                    Notification=n,
                )
                notifications.append(
                    (
                        _notification_key(n),
                        tuple(sorted((str(s["SubscriptionType"]), str(s["Address"])) for s in subscribers)),
                    )
                )
            out[name] = Budget(
                name=name,
                amount=Decimal(str(limit.get("Amount", "0"))),
                unit=str(limit.get("Unit", "")),
                time_unit=str(b.get("TimeUnit", "")),
                budget_type=str(b.get("BudgetType", "")),
                cost_filters=tuple(
                    sorted((k, tuple(sorted(map(str, v)))) for k, v in (b.get("CostFilters") or {}).items())
                ),
                cost_types=tuple(sorted((k, bool(v)) for k, v in (b.get("CostTypes") or {}).items())),
                notifications=tuple(sorted(notifications)),
            )
    except (BotoCoreError, ClientError) as exc:
        raise _aws_error(exc, "reading the budgets (budgets:ViewBudget)") from None
    return out


def _all(call: Callable[..., Any], key: str, **kw: Any) -> list[dict[str, Any]]:
    """Every page of a Budgets Describe* call (NextToken paging)."""
    out: list[dict[str, Any]] = []
    token = None
    while True:
        page = call(**kw, **({"NextToken": token} if token else {}))
        out += page.get(key, [])
        token = page.get("NextToken")
        if not token:
            return out


# ---------------------------------------------------------------- the plan and its application


@dataclass
class Change:
    name: str
    action: str  # create | update | unchanged | remove (deleted: --prune) | report (not in config, kept)
    changes: list[str] = field(default_factory=list)
    amount: Decimal | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "budget": self.name,
            "action": self.action,
            "changes": self.changes,
            "amount": None if self.amount is None else str(self.amount),
        }


def plan(wanted: list[Budget], held: dict[str, Budget], *, prune: bool) -> list[Change]:
    out = []
    for budget in wanted:
        found = held.get(budget.name)
        if found is None:
            out.append(Change(budget.name, "create", ["new budget"], budget.amount))
        else:
            diffs = budget.differences(found)
            out.append(Change(budget.name, "update" if diffs else "unchanged", diffs, budget.amount))
    names = {b.name for b in wanted}
    for name in sorted(set(held) - names):
        out.append(Change(name, "remove" if prune else "report", ["not in [budgets]"], held[name].amount))
    return out


def apply(
    budgets: Any, account_id: str, wanted: list[Budget], held: dict[str, Budget], changes: list[Change]
) -> None:
    """Carry out `changes` (from `plan`): one budget at a time, the first AWS error stopping the rest (what
    was done stays done; the next apply sees it and does only what is left)."""
    from botocore.exceptions import BotoCoreError, ClientError

    by_name = {b.name: b for b in wanted}
    for change in changes:
        try:
            if change.action == "create":
                b = by_name[change.name]
                budgets.create_budget(
                    AccountId=account_id,
                    Budget=b.fields(),
                    NotificationsWithSubscribers=[
                        {"Notification": notification_of(k), "Subscribers": subscribers_of(s)}
                        for k, s in b.notifications
                    ],
                )
            elif change.action == "update":
                _update(budgets, account_id, by_name[change.name], held[change.name])
            elif change.action == "remove":
                budgets.delete_budget(AccountId=account_id, BudgetName=change.name)
        except (BotoCoreError, ClientError) as exc:
            raise _aws_error(exc, f"{change.action} of budget {change.name} (budgets:ModifyBudget)") from None


def _update(budgets: Any, account_id: str, want: Budget, have: Budget) -> None:
    if (want.amount, want.unit, want.time_unit, want.budget_type, want.cost_filters, want.cost_types) != (
        have.amount,
        have.unit,
        have.time_unit,
        have.budget_type,
        have.cost_filters,
        have.cost_types,
    ):
        budgets.update_budget(AccountId=account_id, NewBudget=want.fields())
    wanted, held = dict(want.notifications), dict(have.notifications)
    for key in sorted(set(held) - set(wanted)):
        budgets.delete_notification(
            AccountId=account_id, BudgetName=want.name, Notification=notification_of(key)
        )
    for key in sorted(set(wanted) - set(held)):
        budgets.create_notification(
            AccountId=account_id,
            BudgetName=want.name,
            Notification=notification_of(key),
            Subscribers=subscribers_of(wanted[key]),
        )
    for key in sorted(set(wanted) & set(held)):
        # The same threshold with other subscribers: add and remove subscribers, keeping the notification
        # (and what AWS knows of alerts already sent this month).
        for pair in sorted(set(wanted[key]) - set(held[key])):
            budgets.create_subscriber(
                AccountId=account_id,
                BudgetName=want.name,
                Notification=notification_of(key),
                Subscriber=subscribers_of([pair])[0],
            )
        for pair in sorted(set(held[key]) - set(wanted[key])):
            budgets.delete_subscriber(
                AccountId=account_id,
                BudgetName=want.name,
                Notification=notification_of(key),
                Subscriber=subscribers_of([pair])[0],
            )


def budgets_client(session: Any) -> Any:
    from awscost.aws.session import client, client_config

    return client(session, "budgets", BUDGETS_REGION, config=client_config(max_attempts=3, pool=2))


# ---------------------------------------------------------------- the budgets a cost report shows

CONFIG_SOURCE = "awscost.toml [budgets]"
AWS_SOURCE = "AWS Budgets (DescribeBudgets)"


@dataclass(frozen=True)
class ReportBudget:
    """A monthly budget the cost report sets beside its own actual and forecast."""

    name: str
    account: str | None  # None: the audience's whole scope; else one account's budget
    amount: Decimal  # USD
    source: str  # where the amount comes from: CONFIG_SOURCE or AWS_SOURCE


def held_amounts(budgets: Any, account_id: str) -> dict[str, Decimal]:
    """The amounts of the awscost- budgets AWS holds (DescribeBudgets alone: the report needs no alerts)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        found = _all(budgets.describe_budgets, "Budgets", AccountId=account_id)
    except (BotoCoreError, ClientError) as exc:
        raise _aws_error(exc, "reading the budgets (budgets:ViewBudget)") from None
    return {
        str(b["BudgetName"]): Decimal(str((b.get("BudgetLimit") or {}).get("Amount", "0")))
        for b in found
        if str(b["BudgetName"]).startswith(PREFIX) and (b.get("BudgetLimit") or {}).get("Unit") == "USD"
    }


def report_budgets(
    config: BudgetSettings, audience: str, amounts: dict[str, Decimal] | None = None
) -> tuple[ReportBudget, ...]:
    """The audience's budget and every account budget (the report keeps those of accounts wholly in its
    scope). `amounts` (report_source = "aws"): AWS's amounts; a configured budget AWS does not hold yet (not
    applied) is left out rather than shown with the config's amount under AWS's name."""
    out = []
    for entry in config.entries:
        if entry.kind == "audience" and entry.key != audience:
            continue
        if amounts is None:
            amount, source = entry.monthly, CONFIG_SOURCE
        elif entry.name in amounts:
            amount, source = amounts[entry.name], AWS_SOURCE
        else:
            continue
        out.append(ReportBudget(entry.name, entry.key if entry.kind == "account" else None, amount, source))
    return tuple(out)
