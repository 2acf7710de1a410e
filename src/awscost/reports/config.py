"""The `[report]` table of awscost.toml: delivery settings and the audiences (`[[report.audience]]`).

    [report]
    bucket = "my-cost-reports"          # archive: s3://bucket/reports/<audience>/<period>/...
    mail_from = "finops@example.com"    # a verified SES identity, or the SMTP sender
    ses_region = "us-east-1"            # mail through SES (the default when smtp_host is unset)
    smtp_host = "smtp.example.com"      # mail through SMTP instead
    smtp_port = 587
    smtp_starttls = true
    smtp_user = "reports"
    smtp_password_env = "AWSCOST_SMTP_PASSWORD"   # the NAME of the variable holding the password
    tag_key = "user:Spend_Category"     # the coverage tag (default: [awscost] tag_key)

    [[report.audience]]
    name = "payments"
    recipients = ["payments-leads@example.com"]
    accounts = ["111111111111", "ou-ab12-cdef3456"]   # "all", ids, or Organizations OU ids
    schedule = "weekly"                 # daily | weekly | monthly
    metric = "EffectiveCost"            # EffectiveCost (amortized, the default) | BilledCost
    [report.audience.tags]
    "user:team" = ["payments"]

The older `[awscost]` keys `report_bucket`, `mail_from` and `mail_to` still work: the first two as defaults of
`[report]`, `mail_to` as the recipients of the organization-wide audience used when none is configured.
Standard library only; every error names the file and key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from awscost.core.config import Settings, validate_account_id
from awscost.core.errors import ConfigError
from awscost.reports.periods import SCHEDULES

METRICS = ("EffectiveCost", "BilledCost")
ORG_AUDIENCE = "organization"  # the audience of a report without --audience: every account
OU_ID = re.compile(r"^ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}$")
ROOT_ID = re.compile(r"^r-[0-9a-z]{4,32}$")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")  # it becomes an S3 key part and a store key
EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
REPORT_KEYS = (
    "bucket",
    "mail_from",
    "ses_region",
    "smtp_host",
    "smtp_port",
    "smtp_starttls",
    "smtp_user",
    "smtp_password_env",
    "tag_key",
    "audience",
)
AUDIENCE_KEYS = ("name", "recipients", "accounts", "tags", "schedule", "metric")


@dataclass(frozen=True)
class Audience:
    name: str
    recipients: tuple[str, ...] = ()
    # None = every account; otherwise account ids and OU ids (resolved through Organizations when run).
    accounts: tuple[str, ...] | None = None
    # tag key -> the values in scope (a row is in scope when, for every key, its value is one of them).
    tags: dict[str, tuple[str, ...]] = field(default_factory=dict)
    schedule: str = "monthly"
    metric: str = "EffectiveCost"

    @property
    def account_ids(self) -> tuple[str, ...]:
        return tuple(a for a in self.accounts or () if a.isdigit())

    @property
    def org_units(self) -> tuple[str, ...]:
        return tuple(a for a in self.accounts or () if not a.isdigit())


@dataclass(frozen=True)
class ReportSettings:
    bucket: str | None = None
    mail_from: str | None = None
    ses_region: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_user: str | None = None
    smtp_password_env: str | None = None
    tag_key: str = "user:Spend_Category"
    audiences: tuple[Audience, ...] = ()

    @property
    def transport(self) -> str:
        """How mail goes out: SMTP when a host is set, else SES."""
        return "smtp" if self.smtp_host else "ses"

    def audience(self, name: str) -> Audience:
        for audience in self.audiences:
            if audience.name == name:
                return audience
        known = ", ".join(a.name for a in self.audiences) or "none configured"
        raise ConfigError(
            f"unknown audience {name!r}", param="audience", hint=f"[[report.audience]] names: {known}"
        )


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError("must be a non-empty string", where=where)
    return value.strip()


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError("must be a list of strings", where=where)
    return tuple(v.strip() for v in value if v.strip())


def _emails(value: Any, where: str) -> tuple[str, ...]:
    out = _strings(value, where)
    for address in out:
        if not EMAIL.match(address):
            raise ConfigError(f"{address!r} is not a mail address", where=where)
    return out


def _accounts(value: Any, where: str) -> tuple[str, ...] | None:
    if value == "all":
        return None
    out = []
    for item in _strings(value, where) if not isinstance(value, int) else (str(value),):
        if OU_ID.match(item) or ROOT_ID.match(item):
            out.append(item)
        else:
            out.append(validate_account_id(item, where=where))
    if not out:
        raise ConfigError('names no account (use "all" for every account)', where=where)
    return tuple(dict.fromkeys(out))  # a repeated id is one account, never counted twice


def _tags(value: Any, where: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise ConfigError('must be a table of tag key = ["value", ...]', where=where)
    out: dict[str, tuple[str, ...]] = {}
    for key, values in value.items():
        chosen = _strings(values, f"{where}.{key}")
        if not chosen:
            raise ConfigError("names no tag value", where=f"{where}.{key}")
        out[str(key)] = chosen
    return out


def _audience(data: Any, where: str) -> Audience:
    if not isinstance(data, dict):
        raise ConfigError("must be a table ([[report.audience]])", where=where)
    unknown = sorted(set(data) - set(AUDIENCE_KEYS))
    if unknown:
        raise ConfigError(
            f"unknown key(s) {', '.join(unknown)}", where=where, hint=f"known: {', '.join(AUDIENCE_KEYS)}"
        )
    if "name" not in data:
        raise ConfigError("an audience needs a name", where=where)
    name = _string(data["name"], f"{where}.name")
    if not NAME.match(name):
        raise ConfigError(
            f"audience name {name!r} may hold only letters, digits, '.', '_' and '-'", where=f"{where}.name"
        )
    where = f"{where} ({name})"
    schedule = _string(data.get("schedule", "monthly"), f"{where}.schedule")
    if schedule not in SCHEDULES:
        raise ConfigError(
            f"unknown schedule {schedule!r}", where=f"{where}.schedule", hint=", ".join(SCHEDULES)
        )
    metric = _string(data.get("metric", "EffectiveCost"), f"{where}.metric")
    if metric not in METRICS:
        raise ConfigError(f"unknown metric {metric!r}", where=f"{where}.metric", hint=", ".join(METRICS))
    if "accounts" not in data:
        raise ConfigError('an audience names its accounts ("all", ids or OU ids)', where=f"{where}.accounts")
    return Audience(
        name=name,
        recipients=_emails(data.get("recipients", []), f"{where}.recipients"),
        accounts=_accounts(data["accounts"], f"{where}.accounts"),
        tags=_tags(data.get("tags", {}), f"{where}.tags"),
        schedule=schedule,
        metric=metric,
    )


def report_settings(settings: Settings) -> ReportSettings:
    """Parse `[report]` of the settings' file (with the `[awscost]` fallbacks)."""
    path = settings.config_path or "awscost.toml"
    data = settings.section("report")
    unknown = sorted(set(data) - set(REPORT_KEYS))
    if unknown:
        raise ConfigError(
            f"unknown key(s) {', '.join(unknown)}",
            where=f"{path}: report",
            hint=f"known: {', '.join(REPORT_KEYS)}",
        )
    out: dict[str, Any] = {}
    for key in (
        "bucket",
        "mail_from",
        "ses_region",
        "smtp_host",
        "smtp_user",
        "smtp_password_env",
        "tag_key",
    ):
        if key in data:
            out[key] = _string(data[key], f"{path}: report.{key}")
    if "mail_from" in out and not EMAIL.match(out["mail_from"].rsplit("<", 1)[-1].rstrip(">")):
        raise ConfigError(f"{out['mail_from']!r} is not a mail address", where=f"{path}: report.mail_from")
    if "smtp_port" in data:
        port = data["smtp_port"]
        if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
            raise ConfigError("must be a port number (1-65535)", where=f"{path}: report.smtp_port")
        out["smtp_port"] = port
    if "smtp_starttls" in data:
        if not isinstance(data["smtp_starttls"], bool):
            raise ConfigError("must be true or false", where=f"{path}: report.smtp_starttls")
        out["smtp_starttls"] = data["smtp_starttls"]
    out.setdefault("bucket", settings.report_bucket)
    out.setdefault("mail_from", settings.mail_from)
    out.setdefault("tag_key", settings.tag_key)
    raw = data.get("audience", [])
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        raise ConfigError("must be a list of tables ([[report.audience]])", where=f"{path}: report.audience")
    audiences = [_audience(item, f"{path}: report.audience[{i}]") for i, item in enumerate(raw)]
    names = [a.name for a in audiences]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigError(f"audience {repeated[0]!r} is defined twice", where=f"{path}: report.audience")
    if not audiences:
        # Without audiences: one organization-wide report for the [awscost] mail_to recipients.
        audiences = [Audience(ORG_AUDIENCE, recipients=settings.mail_to, accounts=None, schedule="monthly")]
    return ReportSettings(**out, audiences=tuple(audiences))


def organization_audience(metric: str = "EffectiveCost") -> Audience:
    """The report without --audience: every account, no tag filter."""
    return Audience(ORG_AUDIENCE, accounts=None, metric=metric)
