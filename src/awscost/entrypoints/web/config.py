"""`[dashboard]` of awscost.toml: who may look, and how often the live page checks for a new hour.

    [dashboard]
    poll_seconds = 30            # how often the server checks the store's last collected hour (one check
                                 # for every client: the live pages are told, they do not ask)
    max_age = 300                # seconds a built report is shown before it is built again

    [dashboard.tokens]           # required to serve on any address but 127.0.0.1 / ::1 / localhost
    "3q8...long-random..." = "managers"      # token = the audience of [[report.audience]] it may see
    "Zp1...long-random..." = "organization"  # the organization: every account

A token is a secret: keep the file private (or in SSM, AWSCOST_CONFIG=ssm:NAME). Tokens shorter than
MIN_TOKEN characters are refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from awscost.core.config import Settings
from awscost.core.errors import ConfigError

TABLE_KEYS = ("poll_seconds", "max_age", "tokens")
MIN_TOKEN = 24


@dataclass(frozen=True)
class DashboardSettings:
    tokens: dict[str, str] = field(default_factory=dict)  # token -> audience name
    poll_seconds: float = 30.0
    max_age: float = 300.0


def _seconds(value: Any, where: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(f"must be a number of seconds from {low:g} to {high:g}, not {value!r}", where=where)
    return float(value)


def dashboard_settings(settings: Settings) -> DashboardSettings:
    """Parse `[dashboard]`; every error names the file and key. Audiences are checked against [report]."""
    from awscost.reports.config import ORG_AUDIENCE, report_settings

    where = f"{settings.config_path or 'awscost.toml'}: dashboard"
    data = settings.section("dashboard")
    unknown = sorted(set(data) - set(TABLE_KEYS))
    if unknown:
        raise ConfigError(
            f"unknown key {unknown[0]!r}", where=f"{where}.{unknown[0]}", hint=", ".join(TABLE_KEYS)
        )
    tokens = data.get("tokens", {})
    if not isinstance(tokens, dict):
        raise ConfigError("must be a table of token = audience", where=f"{where}.tokens")
    known = {a.name for a in report_settings(settings).audiences} | {ORG_AUDIENCE}
    for token, audience in tokens.items():
        if len(token) < MIN_TOKEN:
            raise ConfigError(
                f"a token of {len(token)} characters is too easy to guess",
                where=f"{where}.tokens",
                hint=f"at least {MIN_TOKEN}: python -c 'import secrets; print(secrets.token_urlsafe(32))'",
            )
        if audience not in known:
            raise ConfigError(
                f"unknown audience {audience!r}", where=f"{where}.tokens", hint=", ".join(sorted(known))
            )
    return DashboardSettings(
        tokens={str(k): str(v) for k, v in tokens.items()},
        poll_seconds=_seconds(data.get("poll_seconds", 30), f"{where}.poll_seconds", 1, 3600),
        max_age=_seconds(data.get("max_age", 300), f"{where}.max_age", 0, 86400),
    )


__all__ = ["MIN_TOKEN", "DashboardSettings", "dashboard_settings"]
