"""`[dashboard]` of awscost.toml: who may look, and how often the live page checks for a new hour.

    [dashboard]
    poll_seconds = 30            # how often the server checks the store's last collected hour (one check
                                 # for every client: the live pages are told, they do not ask)
    max_age = 300                # seconds a built report is shown before it is built again

    [dashboard.tokens]           # required to serve on any address but 127.0.0.1 / ::1 / localhost
    "3q8...long-random..." = "managers"      # token = the audience of [[report.audience]] it may see
    "Zp1...long-random..." = "organization"  # the organization: every account

    # Or behind an authenticating proxy (oauth2-proxy, an ALB with OIDC, nginx auth_request): the header it
    # sets to the signed-in user, believed only from the proxy's addresses, each user mapped to an audience.
    trusted_header = "X-Forwarded-User"
    trusted_proxies = ["127.0.0.1", "::1"]   # the default: the proxy runs on this machine
    [dashboard.users]
    "alice@example.com" = "ml"

A token is a secret: keep the file private (or in SSM, AWSCOST_CONFIG=ssm:NAME). Tokens shorter than
MIN_TOKEN characters are refused. The proxy header is honoured only when `trusted_header` is set, and only on
a request from `trusted_proxies`: anyone else could send it themselves.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

from awscost.core.config import Settings, check_keys
from awscost.core.errors import ConfigError

TABLE_KEYS = (
    "poll_seconds",
    "max_age",
    "tokens",
    "trusted_header",
    "trusted_proxies",
    "users",
)
MIN_TOKEN = 24
HEADER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")
LOOPBACK_PROXIES = ("127.0.0.1", "::1")


@dataclass(frozen=True)
class DashboardSettings:
    tokens: dict[str, str] = field(default_factory=dict)  # token -> audience name
    poll_seconds: float = 30.0
    max_age: float = 300.0
    trusted_header: str | None = None  # the auth proxy's user header; None: no proxy is believed
    trusted_proxies: tuple[str, ...] = LOOPBACK_PROXIES
    users: dict[str, str] = field(default_factory=dict)  # the proxy's user -> audience name

    @property
    def authenticated(self) -> bool:
        """Whether every viewer is identified (tokens or a proxy): what serving beyond loopback needs."""
        return bool(self.tokens) or self.trusted_header is not None


def _seconds(value: Any, where: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(f"must be a number of seconds from {low:g} to {high:g}, not {value!r}", where=where)
    return float(value)


def dashboard_settings(settings: Settings) -> DashboardSettings:
    """Parse `[dashboard]`; every error names the file and key. Audiences are checked against [report]."""
    from awscost.reports.config import ORG_AUDIENCE, report_settings

    where = f"{settings.config_path or 'awscost.toml'}: dashboard"
    data = check_keys(settings.section("dashboard"), tuple(TABLE_KEYS), where)
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
    header, proxies, users = _proxy(data, where, known)
    return DashboardSettings(
        trusted_header=header,
        trusted_proxies=proxies,
        users=users,
        tokens={str(k): str(v) for k, v in tokens.items()},
        poll_seconds=_seconds(data.get("poll_seconds", 30), f"{where}.poll_seconds", 1, 3600),
        max_age=_seconds(data.get("max_age", 300), f"{where}.max_age", 0, 86400),
    )


def _proxy(
    data: dict[str, Any], where: str, known: set[str]
) -> tuple[str | None, tuple[str, ...], dict[str, str]]:
    """`trusted_header`, `trusted_proxies` and `[dashboard.users]`, checked together: a header without users
    would let nobody in, users or proxies without a header would be silently ignored."""
    header = data.get("trusted_header")
    users = data.get("users", {})
    proxies = data.get("trusted_proxies", list(LOOPBACK_PROXIES))
    if header is None:
        for key in ("users", "trusted_proxies"):
            if key in data:
                raise ConfigError("is read only with trusted_header", where=f"{where}.{key}")
        return None, LOOPBACK_PROXIES, {}
    if not isinstance(header, str) or not HEADER.match(header):
        raise ConfigError(f"not an HTTP header name: {header!r}", where=f"{where}.trusted_header")
    if header.lower() in ("authorization", "cookie", "host"):
        raise ConfigError(
            f"{header} is the client's own header, not a proxy's", where=f"{where}.trusted_header"
        )
    if not isinstance(users, dict) or not users:
        raise ConfigError("a trusted_header needs [dashboard.users]: user = audience", where=f"{where}.users")
    for user, audience in users.items():
        if audience not in known:
            raise ConfigError(
                f"unknown audience {audience!r} of user {user!r}",
                where=f"{where}.users",
                hint=", ".join(sorted(known)),
            )
    if not isinstance(proxies, list) or not proxies:
        raise ConfigError("must be a list of the proxy's IP addresses", where=f"{where}.trusted_proxies")
    for address in proxies:
        try:
            ipaddress.ip_address(address)
        except (ValueError, TypeError):
            raise ConfigError(f"not an IP address: {address!r}", where=f"{where}.trusted_proxies") from None
    return header, tuple(str(p) for p in proxies), {str(k): str(v) for k, v in users.items()}


__all__ = ["MIN_TOKEN", "DashboardSettings", "dashboard_settings"]
