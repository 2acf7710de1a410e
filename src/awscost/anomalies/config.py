"""`[anomalies]` of awscost.toml: the detector's thresholds (global, per account, per service) and where and how
often anomalies are notified.

    [anomalies]
    min_impact = "50"           # dollars per day an anomaly must move (a string or an integer: exact)
    score = 6                   # the robust z-score it must reach
    notify_sns = "arn:aws:sns:us-east-1:111111111111:awscost-anomalies"   # optional; the stack's rule gives its own
    renotify_growth = 50        # % an event's total impact must grow by since its last notice to be sent again
    max_notifications = 10      # notices one run publishes; the rest are counted in one summary notice

    [anomalies.account."111111111111"]   # a large account: only large moves
    min_impact = "500"

    [anomalies.service."AWS Lambda"]     # ServiceName as the bill has it
    score = 8

A per-service override wins over a per-account one, which wins over the global value, field by field
(detect.Thresholds). Standard library only, with the detector's types.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from awscost.anomalies.detect import Limit, Thresholds
from awscost.core.config import Settings, check_keys, exact_amount, validate_account_id
from awscost.core.errors import ConfigError

TABLE_KEYS = (
    "min_impact",
    "score",
    "notify_sns",
    "renotify_growth",
    "max_notifications",
    "account",
    "service",
)
LIMIT_KEYS = ("min_impact", "score")
DEFAULT_GROWTH = 50  # % of growth before an open event is notified again
DEFAULT_MAX_NOTIFICATIONS = 10
SNS_ARN = "arn:aws"  # arn:aws:sns:..., arn:aws-us-gov:sns:..., arn:aws-cn:sns:...


@dataclass(frozen=True)
class AnomalySettings:
    thresholds: Thresholds
    notify_sns: str | None
    renotify_growth: Decimal  # percent
    max_notifications: int


def _dollars(value: Any, where: str) -> Decimal:
    return exact_amount(value, where, what="dollars per day", example="50", currency="dollars")


def _positive(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1000:
        raise ConfigError(f"must be a number above 0 (below 1000), not {value!r}", where=where)
    return float(value)


def _limit(data: Any, where: str) -> Limit:
    data = check_keys(data, LIMIT_KEYS, where)
    if not data:
        raise ConfigError("an override changes nothing", where=where, hint="give min_impact or score")
    return Limit(
        min_impact=_dollars(data["min_impact"], f"{where}.min_impact") if "min_impact" in data else None,
        score=_positive(data["score"], f"{where}.score") if "score" in data else None,
    )


def anomaly_settings(settings: Settings) -> AnomalySettings:
    """Parse `[anomalies]` of the settings' file; every error names the file and key."""
    where = f"{settings.config_path or 'awscost.toml'}: anomalies"
    data = check_keys(settings.section("anomalies"), TABLE_KEYS, where)
    defaults = Thresholds()
    accounts, services = data.get("account", {}), data.get("service", {})
    if not isinstance(accounts, dict):
        raise ConfigError('must be a table of [anomalies.account."ID"] tables', where=f"{where}.account")
    if not isinstance(services, dict):
        raise ConfigError('must be a table of [anomalies.service."NAME"] tables', where=f"{where}.service")
    thresholds = Thresholds(
        min_impact=_dollars(data["min_impact"], f"{where}.min_impact")
        if "min_impact" in data
        else defaults.min_impact,
        score=_positive(data["score"], f"{where}.score") if "score" in data else defaults.score,
        accounts={
            validate_account_id(str(k), where=f'{where}.account."{k}"'): _limit(v, f'{where}.account."{k}"')
            for k, v in accounts.items()
        },
        services={str(k): _limit(v, f'{where}.service."{k}"') for k, v in services.items()},
    )
    topic = data.get("notify_sns")
    if topic is not None and (
        not isinstance(topic, str) or not topic.startswith(SNS_ARN) or ":sns:" not in topic
    ):
        raise ConfigError(f"{topic!r} is not an SNS topic ARN", where=f"{where}.notify_sns")
    growth = data.get("renotify_growth", DEFAULT_GROWTH)
    if isinstance(growth, bool) or not isinstance(growth, int | float) or not 0 < growth <= 10000:
        raise ConfigError(
            f"must be a percentage above 0, not {growth!r}",
            where=f"{where}.renotify_growth",
            hint="50 sends an open event again once its total impact grew by half",
        )
    most = data.get("max_notifications", DEFAULT_MAX_NOTIFICATIONS)
    if isinstance(most, bool) or not isinstance(most, int) or not 1 <= most <= 100:
        raise ConfigError(
            f"must be an integer from 1 to 100, not {most!r}", where=f"{where}.max_notifications"
        )
    return AnomalySettings(thresholds, topic, Decimal(str(growth)), most)


__all__ = ["AnomalySettings", "anomaly_settings"]
