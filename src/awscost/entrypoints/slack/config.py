"""`[slack]` of awscost.toml: who may ask `/awscost`, and which audience each one sees.

    [slack]
    team_id = "T0123ABCD"         # optional: only requests of this workspace are answered
    alerts_channel = "C0456EFGH"  # where the anomaly alerts are posted (the bot must be a member)
    max_age = 300                 # seconds a built report is shown before it is built again
    [slack.users]                 # a Slack user id -> the audience of [[report.audience]] it sees
    U012ABCDEF = "organization"
    U034GHIJKL = "ml"
    [slack.channels]              # anyone asking in this channel, unless mapped above
    C078MNOPQR = "web"

A user's own mapping wins over the channel's; a user mapped in neither is refused. Standard library only (the
Slack Lambda reads it before it hands anything on).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from awscost.core.config import Settings
from awscost.core.errors import ConfigError

TABLE_KEYS = ("team_id", "alerts_channel", "max_age", "users", "channels")
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")
CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,20}$")
TEAM_ID = re.compile(r"^[TE][A-Z0-9]{2,20}$")


@dataclass(frozen=True)
class SlackSettings:
    users: dict[str, str] = field(default_factory=dict)  # user id -> audience name
    channels: dict[str, str] = field(default_factory=dict)  # channel id -> audience name
    team_id: str | None = None
    alerts_channel: str | None = None
    max_age: float = 300.0

    def audience_of(self, user: str, channel: str | None) -> str | None:
        """The audience name a request of `user` in `channel` sees (`organization` for every account), or
        None when neither is mapped: the user is refused."""
        if user in self.users:
            return self.users[user]
        if channel is not None and channel in self.channels:
            return self.channels[channel]
        return None


def _ids(value: Any, where: str, pattern: re.Pattern[str], what: str, known: set[str]) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ConfigError(f"must be a table of {what} id = audience", where=where)
    for key, audience in value.items():
        if not pattern.match(str(key)):
            raise ConfigError(f"{key!r} is not a Slack {what} id", where=f"{where}.{key}")
        if not isinstance(audience, str) or audience not in known:
            raise ConfigError(
                f"unknown audience {audience!r}", where=f"{where}.{key}", hint=", ".join(sorted(known))
            )
    return {str(k): str(v) for k, v in value.items()}


def slack_settings(settings: Settings) -> SlackSettings:
    """Parse `[slack]`; every error names the file and key. Audiences are checked against [report]."""
    from awscost.reports.config import ORG_AUDIENCE, report_settings

    where = f"{settings.config_path or 'awscost.toml'}: slack"
    data = settings.section("slack")
    unknown = sorted(set(data) - set(TABLE_KEYS))
    if unknown:
        raise ConfigError(
            f"unknown key {unknown[0]!r}", where=f"{where}.{unknown[0]}", hint=", ".join(TABLE_KEYS)
        )
    known = {a.name for a in report_settings(settings).audiences} | {ORG_AUDIENCE}
    team = data.get("team_id")
    if team is not None and not (isinstance(team, str) and TEAM_ID.match(team)):
        raise ConfigError(f"{team!r} is not a Slack team id (T...)", where=f"{where}.team_id")
    channel = data.get("alerts_channel")
    if channel is not None and not (isinstance(channel, str) and CHANNEL_ID.match(channel)):
        raise ConfigError(f"{channel!r} is not a Slack channel id (C...)", where=f"{where}.alerts_channel")
    max_age = data.get("max_age", 300)
    if isinstance(max_age, bool) or not isinstance(max_age, int | float) or not 0 <= max_age <= 86400:
        raise ConfigError(
            f"must be a number of seconds from 0 to 86400, not {max_age!r}", where=f"{where}.max_age"
        )
    return SlackSettings(
        users=_ids(data.get("users", {}), f"{where}.users", USER_ID, "user", known),
        channels=_ids(data.get("channels", {}), f"{where}.channels", CHANNEL_ID, "channel", known),
        team_id=team,
        alerts_channel=channel,
        max_age=float(max_age),
    )


__all__ = ["SlackSettings", "slack_settings"]
