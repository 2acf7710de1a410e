"""Settings from `awscost.toml` (or AWSCOST_CONFIG), overridden by AWSCOST_* environment variables and then by
command-line options. Every error names the file and the key.

The AWS side (credentials, profile, endpoint) is left to boto3's own standard environment: AWS_PROFILE,
AWS_ENDPOINT_URL, AWS_DEFAULT_REGION ... are honoured by `awscost.aws.session`.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from awscost.core import remote_config
from awscost.core.errors import ConfigError

DEFAULT_CONFIG_PATH = "awscost.toml"
# Top-level tables of awscost.toml: [awscost] (Settings), [accounts.names], and sections read by the module
# that owns them through Settings.section() ([containers] service_label; [report] delivery and audiences,
# parsed by awscost.reports.config; [budgets], the AWS Budgets awscost manages, by awscost.reports.budgets;
# [metrics] max_series, the bound on the cost metrics' CloudWatch series).
TABLES = (
    "awscost",
    "accounts",
    "containers",
    "report",
    "billing",
    "budgets",
    "metrics",
    "anomalies",
    "dashboard",
    "slack",
)
# The keys of the tables checked here ([report] checks its own, in awscost.reports.config; [billing.s3] in
# awscost.billing.s3, [billing.athena] in awscost.billing.athena; [budgets] in awscost.reports.budgets;
# [anomalies] in awscost.anomalies.config).
TABLE_KEYS = {"accounts": ("names",), "containers": ("service_label",), "metrics": ("max_series",)}
# Each CloudWatch custom metric series costs $0.30 a month: the cost metrics job keeps at most this many.
DEFAULT_MAX_SERIES = 50
MAX_SERIES_LIMIT = 1000
ACCOUNT_ID = re.compile(r"^\d{12}$")
REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")


@dataclass(frozen=True)
class Settings:
    store: str = "sqlite:///awscost.db"
    org_name: str = "org"
    # "self" (the caller's account), "organizations" (active accounts of the Organization), or explicit ids.
    accounts: str | tuple[str, ...] = "self"
    role_name: str | None = None  # role assumed in member accounts; None = use the caller's credentials as is
    external_id: str | None = None
    regions: tuple[str, ...] = ()  # empty = every enabled region (ec2:DescribeRegions)
    account_names: dict[str, str] = field(default_factory=dict)
    max_workers: int = 16
    # Seconds: every AWS client of the collector gives up connecting / waiting for an answer after these, and
    # a collection stops waiting for units after `deadline` (None = no deadline; the Lambda sets one below
    # its own timeout). Units not done by then are failed units ("deadline"); what finished is written.
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    deadline: float | None = None
    report_bucket: str | None = None
    mail_from: str | None = None
    mail_to: tuple[str, ...] = ()
    tag_key: str = "user:Spend_Category"
    config_path: str | None = None  # where these settings came from (None = defaults only)
    raw: dict[str, Any] = field(
        default_factory=dict
    )  # the whole parsed file, for sections owned by other modules

    def with_overrides(self, **kw: Any) -> Settings:
        return replace(self, **{k: v for k, v in kw.items() if v is not None})

    def section(self, name: str) -> dict[str, Any]:
        """A top-level table of the file (e.g. [pricing]) for the module that owns it; {} when absent."""
        value = self.raw.get(name, {})
        if not isinstance(value, dict):
            raise ConfigError(f"[{name}] must be a table", where=self.config_path)
        return value

    def subtable(self, section: str, name: str, keys: tuple[str, ...]) -> tuple[dict[str, Any], str]:
        """[section.name] (e.g. [billing.s3]) with only `keys` in it, and where it is for messages; {} when
        absent. The module that owns it checks each value."""
        where = f"{self.config_path or 'awscost.toml'} [{section}.{name}]"
        raw = self.section(section).get(name, {})
        if not isinstance(raw, dict):
            raise ConfigError(f"[{section}.{name}] must be a table", where=where)
        unknown = sorted(set(raw) - set(keys))
        if unknown:
            raise ConfigError(f"unknown key(s) {', '.join(unknown)}; expected {', '.join(keys)}", where=where)
        return raw, where


def _check_max_series(value: Any, *, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SERIES_LIMIT:
        raise ConfigError(
            f"must be an integer from 1 to {MAX_SERIES_LIMIT}, not {value!r}",
            where=where,
            hint="the most CloudWatch series the cost metrics create, each $0.30 a month",
        )
    return value


def max_series(settings: Settings) -> int:
    """[metrics] max_series: the most CloudWatch series the cost metrics job creates (default 50)."""
    value = settings.section("metrics").get("max_series", DEFAULT_MAX_SERIES)
    return _check_max_series(value, where=f"{settings.config_path or 'settings'}: metrics.max_series")


def validate_account_id(value: str, *, where: str) -> str:
    value = str(value).strip()
    if not ACCOUNT_ID.match(value):
        raise ConfigError(f"account id {value!r} is not 12 digits", where=where)
    return value


def validate_region(value: str, *, where: str) -> str:
    value = str(value).strip()
    if not REGION.match(value):
        raise ConfigError(f"{value!r} is not an AWS region name (like us-east-1)", where=where)
    return value


def check_keys(data: Any, known: tuple[str, ...], where: str) -> dict[str, Any]:
    """A config table with no key but `known` (a section's readers call it first), else a ConfigError at the
    first unknown key."""
    if not isinstance(data, dict):
        raise ConfigError("must be a table", where=where)
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(
            f"unknown key {unknown[0]!r}", where=f"{where}.{unknown[0]}", hint=f"known: {', '.join(known)}"
        )
    return data


def exact_amount(
    value: Any,
    where: str,
    *,
    what: str,
    example: str,
    currency: str,
    positive: bool = False,
    below: Decimal | None = None,
    cents: bool = False,
) -> Decimal:
    """Money in a config file, exact: a string or an integer, never a TOML float (0.1 is not 0.1 there).
    `what` and `example` say in the error what the key holds ("dollars per day", "50"); `positive`: above 0
    (else at least 0), `below`: under that, `cents`: at most two decimals."""
    if isinstance(value, float):
        raise ConfigError(
            f"{value!r} is a TOML float, not an exact amount", where=where, hint=f'write it as "{value}"'
        )
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ConfigError(f'must be {what} (a string like "{example}" or an integer)', where=where)
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ConfigError(f"{value!r} is not an amount in {currency}", where=where) from None
    if (
        not amount.is_finite()  # first: NaN does not compare
        or not (amount > 0 if positive else amount >= 0)
        or (below is not None and not amount < below)
    ):
        raise ConfigError(
            f"{value!r} is not an amount {'above' if positive else 'of at least'} 0", where=where
        )
    if cents and amount != amount.quantize(Decimal("0.01")):
        raise ConfigError(f"{value!r} has more than two decimals (cents)", where=where)
    return amount


def _str_list(value: Any, *, where: str) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        return [str(v).strip() for v in value]
    raise ConfigError("must be a list of strings or a comma-separated string", where=where)


def _parse(data: dict[str, Any], path: str) -> dict[str, Any]:
    section = data.get("awscost", data)
    if not isinstance(section, dict):
        raise ConfigError("[awscost] must be a table", where=path)
    for name, value in data.items():
        # A misspelt table ([awscots], [acounts]) would otherwise be ignored without a word.
        if isinstance(value, dict) and name not in TABLES:
            raise ConfigError(
                f"unknown table [{name}]",
                where=path,
                hint=f"known tables: {', '.join(f'[{t}]' for t in TABLES)}",
            )
        if section is not data and not isinstance(value, dict):
            if name in TABLES:
                raise ConfigError(f"[{name}] must be a table", where=f"{path}: {name}")
            # `store = ...` above [awscost] is a key of no table: TOML gives it no section, awscost no meaning.
            raise ConfigError(
                f"key {name!r} is outside every table",
                where=f"{path}: {name}",
                hint="move it under [awscost]",
            )
    for table, keys in TABLE_KEYS.items():
        value = data.get(table)
        unknown = sorted(set(value) - set(keys)) if isinstance(value, dict) else []
        if unknown:
            raise ConfigError(
                f"unknown key {unknown[0]!r}",
                where=f"{path}: {table}.{unknown[0]}",
                hint=f"known keys: {', '.join(keys)}",
            )
    containers = data.get("containers")
    if isinstance(containers, dict) and "service_label" in containers:
        label = containers["service_label"]
        if not isinstance(label, str) or not label:
            raise ConfigError("must be a non-empty string", where=f"{path}: containers.service_label")
    metrics = data.get("metrics")
    if isinstance(metrics, dict) and "max_series" in metrics:
        _check_max_series(metrics["max_series"], where=f"{path}: metrics.max_series")
    known = {f for f in Settings.__dataclass_fields__ if f not in ("config_path", "raw", "account_names")}
    out: dict[str, Any] = {}
    for key, value in section.items():
        where = f"{path}: awscost.{key}"
        if isinstance(value, dict) and section is data:
            continue  # other top-level tables ([accounts], [pricing] ...) when the file has no [awscost]
        if key not in known:
            raise ConfigError(
                f"unknown key {key!r}", where=where, hint=f"known keys: {', '.join(sorted(known))}"
            )
        if key in ("store", "org_name", "role_name", "external_id", "report_bucket", "mail_from", "tag_key"):
            if not isinstance(value, str) or not value:
                raise ConfigError("must be a non-empty string", where=where)
            if key == "org_name" and ":" in value:
                # awsResource is kind:<org_name>:region: a colon would make every org total unreadable
                raise ConfigError(
                    f"{value!r} contains ':'", where=where, hint="awsResource is kind:org_name:region"
                )
            out[key] = value
        elif key == "max_workers":
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 256:
                raise ConfigError("must be an integer from 1 to 256", where=where)
            out[key] = value
        elif key in ("connect_timeout", "read_timeout", "deadline"):
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 86400:
                raise ConfigError("must be a number of seconds above 0 (at most 86400)", where=where)
            out[key] = float(value)
        elif key == "regions":
            out[key] = tuple(validate_region(r, where=where) for r in _str_list(value, where=where))
        elif key == "mail_to":
            out[key] = tuple(_str_list(value, where=where))
        elif key == "accounts":
            if value in ("self", "organizations"):
                out[key] = value
            else:
                ids = tuple(validate_account_id(a, where=where) for a in _str_list(value, where=where))
                if not ids:  # a collection of nothing would succeed and store nothing
                    raise ConfigError(
                        "names no account", where=where, hint='give account ids, "self" or "organizations"'
                    )
                out[key] = ids
    names = data.get("accounts", {}).get("names", {}) if isinstance(data.get("accounts"), dict) else {}
    if not isinstance(names, dict):
        raise ConfigError("must be a table of account id = name", where=f"{path}: accounts.names")
    out["account_names"] = {
        validate_account_id(k, where=f"{path}: accounts.names"): str(v) for k, v in names.items()
    }
    return out


ENV_KEYS = {
    "AWSCOST_STORE": "store",
    "AWSCOST_ORG_NAME": "org_name",
    "AWSCOST_ACCOUNTS": "accounts",
    "AWSCOST_ROLE_NAME": "role_name",
    "AWSCOST_EXTERNAL_ID": "external_id",
    "AWSCOST_REGIONS": "regions",
    "AWSCOST_MAX_WORKERS": "max_workers",
    "AWSCOST_REPORT_BUCKET": "report_bucket",
    "AWSCOST_CONNECT_TIMEOUT": "connect_timeout",
    "AWSCOST_READ_TIMEOUT": "read_timeout",
    "AWSCOST_DEADLINE": "deadline",
}


def load_settings(path: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None) -> Settings:
    """Load settings. `path` None means AWSCOST_CONFIG, else ./awscost.toml if it exists, else defaults."""
    env = dict(os.environ if env is None else env)
    explicit = path is not None or "AWSCOST_CONFIG" in env
    location = str(path if path is not None else env.get("AWSCOST_CONFIG", DEFAULT_CONFIG_PATH))
    cfg_path = Path(location)
    values: dict[str, Any] = {}
    raw: dict[str, Any] = {}
    used_path: str | None = None
    text: str | None = None
    if remote_config.is_remote(location):  # s3://BUCKET/KEY or ssm:NAME (a Lambda function's config)
        text = remote_config.read_text(location)
    elif cfg_path.exists():
        try:
            data = cfg_path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read: {exc.strerror}", where=location) from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise ConfigError(
                f"not UTF-8 text (byte 0x{data[exc.start]:02x})", where=f"{location}:{line}"
            ) from None
    if text is not None:
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"not valid TOML: {exc}", where=location) from None
        except RecursionError:  # tomllib nests arrays and inline tables by recursion
            raise ConfigError("not valid TOML: values nested too deeply", where=location) from None
        values = _parse(raw, location)
        used_path = location
    elif explicit:
        raise ConfigError(
            "config file not found", where=str(cfg_path), hint="run `awscost init` to write one"
        )
    env_data: dict[str, Any] = {key: env[var] for var, key in ENV_KEYS.items() if env.get(var)}
    if "max_workers" in env_data:
        try:
            env_data["max_workers"] = int(env_data["max_workers"])
        except ValueError:
            raise ConfigError("must be an integer", where="environment: AWSCOST_MAX_WORKERS") from None
    for key in ("connect_timeout", "read_timeout", "deadline"):
        if key in env_data:
            try:
                env_data[key] = float(env_data[key])
            except ValueError:
                var = next(v for v, k in ENV_KEYS.items() if k == key)
                raise ConfigError("must be a number of seconds", where=f"environment: {var}") from None
    for var, key in ENV_KEYS.items():
        if key in env_data:
            try:  # one variable at a time, so that an error names the variable
                parsed = _parse({"awscost": {key: env_data[key]}}, f"environment: {var}")
            except ConfigError as exc:
                raise ConfigError(exc.message, where=f"environment: {var}", hint=exc.hint) from None
            parsed.pop("account_names")
            values.update(parsed)
    return Settings(**values, config_path=used_path, raw=raw)


STARTER_CONFIG = """\
# awscost configuration. Every key is optional; the values shown are the defaults unless noted.
# Environment variables AWSCOST_<KEY> (e.g. AWSCOST_STORE) override this file; command-line options override both.

[awscost]
# Where usage samples are stored:
#   sqlite:///awscost.db                       embedded, no server (default)
#   dynamodb://AWSCost?region=us-east-1        the AWSCost/AWSCostMap tables (create with `awscost store init`)
store = "sqlite:///awscost.db"

# Name under which org-wide totals are written (awsResource = kind:<org_name>:region).
org_name = "org"

# Which accounts to collect: "self" (the caller's account), "organizations" (every ACTIVE account of the
# AWS Organization; run from the management account), or a list of 12-digit ids.
accounts = "self"

# Role assumed in each member account (STS AssumeRole). Leave unset to use the caller's credentials only.
# role_name = "OrganizationAccountAccessRole"
# external_id = "..."

# Regions to collect. Unset = every region enabled in the account (ec2:DescribeRegions).
# regions = ["us-east-1", "us-west-2", "eu-west-1"]

# Parallel AWS calls (accounts x regions x kinds).
max_workers = 16

# Seconds an AWS call may take to connect / to answer (each attempt; throttling and timeouts are retried),
# and an optional deadline for a whole collection: units not finished by then are reported as failed
# ("deadline", exit 5) and everything that finished is written. In Lambda the deadline is set from the
# function's remaining time.
connect_timeout = 5
read_timeout = 30
# deadline = 600

# Tag key whose coverage `awscost billing tags` (and the reports) measure.
tag_key = "user:Spend_Category"

# Cost reports: delivery settings and audiences live in [report] below; these three older keys are its
# defaults (the bucket, the sender, and the recipients of the organization-wide report).
# report_bucket = "my-cost-reports"
# mail_from = "finops@example.com"
# mail_to = ["team@example.com"]

[accounts.names]
# Display names; otherwise the Organizations account name is used.
# "123456789012" = "production"

# Cost reports (`awscost report cost`): mail through SES (or SMTP with smtp_host), archived in S3.
# [report]
# bucket = "my-cost-reports"
# mail_from = "finops@example.com"
# ses_region = "us-east-1"
# smtp_host = "smtp.example.com"      # SMTP instead of SES
# smtp_port = 587
# smtp_starttls = true
# smtp_user = "reports"
# smtp_password_env = "AWSCOST_SMTP_PASSWORD"   # the name of the variable that holds the password
#
# [[report.audience]]
# name = "managers"
# recipients = ["cto@example.com"]
# accounts = "all"                    # "all", account ids, or Organizations OU ids (ou-...)
# schedule = "monthly"                # daily (month-to-date) | weekly (last week) | monthly (last month)
# metric = "EffectiveCost"            # amortized (default) | BilledCost
#
# [[report.audience]]
# name = "payments"
# recipients = ["payments@example.com"]
# accounts = ["123456789012"]
# schedule = "weekly"
# [report.audience.tags]
# "user:team" = ["payments"]

# AWS Budgets (`awscost budgets apply`, docs/budgets.md): monthly, per account or audience, named awscost-...
# [budgets]
# notify_sns = "arn:aws:sns:us-east-1:123456789012:cost-alerts"
# notify_emails = ["finops@example.com"]
# actual_thresholds = [80, 100]       # % of the budget spent
# forecast_thresholds = [100]         # % of the budget forecast for the month
# [budgets.account."123456789012"]
# monthly = "1200.00"                 # USD, exact: a string or an integer
# [budgets.audience.payments]
# monthly = "5000"
"""


def write_starter_config(path: str | os.PathLike[str], *, force: bool = False) -> Path:
    target = Path(path)
    if target.exists() and not force:
        raise ConfigError("already exists", where=str(target), hint="pass --force to overwrite")
    target.write_text(STARTER_CONFIG, encoding="utf-8")
    return target
