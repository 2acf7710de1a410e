"""The anomaly alerts in Slack: the anomaly log's due events posted to `[slack] alerts_channel` with the bot
token (slack_sdk's WebClient, chat.postMessage), one message each, largest first, every AWS string escaped
(`awscost slack alerts`); deployed, the Slack function posts each notice of the stack's anomaly topic instead
(`notice_message`: SNS already throttles them per event).

Slack keeps its own throttle beside SNS's (anomalies/notify.py marks an event notified when SNS sent it): a
map item `slack-alert:<source>:<id>` holds the impact last posted, so an event is posted once, and again only
when its total impact grew by `growth` percent (anomalies/events.py `grown`); an acknowledged event never.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from awscost.anomalies.events import Tracked, grown, logged
from awscost.entrypoints.slack import blocks
from awscost.entrypoints.slack.blocks import escape

PREFIX = "slack-alert:"
GROWTH = Decimal(50)


@dataclass
class Posted:
    posted: list[str] = field(default_factory=list)  # event ids
    failed: list[str] = field(default_factory=list)  # "id: error"

    def to_json(self) -> dict[str, Any]:
        return {"posted": self.posted, "failed": self.failed}


def due(store: Any, growth: Decimal = GROWTH) -> list[Tracked]:
    """The log's events a Slack alert is due for: not acknowledged, never posted or grown since, largest first."""
    out = []
    for tracked in logged(store):
        if tracked.ack:
            continue
        held = store.get_map(f"{PREFIX}{tracked.source}:{tracked.id}")
        if held is None or grown(held, tracked.impact_total, growth):
            out.append(tracked)
    out.sort(key=lambda t: (-abs(t.impact_total), t.id))
    return out


def alert_message(tracked: Tracked, names: dict[str, str] | None = None) -> dict[str, Any]:
    """One event as a message: what, where, how much, why (its explanation), its id to acknowledge it by."""
    e = tracked.event
    account = str(e["account_id"])
    name = (names or {}).get(account)
    who = f"{account} ({name})" if name and name != account else account
    currency = tracked.currency or "USD"
    state = "open" if e.get("end") is None else f"ended {str(e['end'])[:10]}"
    title = f"Cost anomaly: {e['service']} in {who}"
    return {
        "text": escape(f"{title}: {e['explanation']}"),
        "blocks": [
            blocks.header(title),
            blocks.section(escape(str(e["explanation"]))),
            blocks.fields(
                [
                    ("First day", escape(e["date"])),
                    ("Kind", escape(e["kind"])),
                    ("Impact per day", escape(f"{Decimal(str(e['impact_per_day'])):,.2f} {currency}")),
                    ("Impact so far", escape(f"{tracked.impact_total:,.2f} {currency}")),
                    ("State", escape(state)),
                    ("Signal", escape(tracked.source)),
                ]
            ),
            blocks.context(escape(f"id {tracked.id} · awscost anomalies ack {tracked.id[:12]}")),
        ],
    }


def post_alerts(
    client: Any,
    channel: str,
    events: Sequence[Tracked],
    *,
    store: Any | None = None,
    now: datetime | None = None,
    names: dict[str, str] | None = None,
) -> Posted:
    """Post each event to `channel` with `client` (a slack_sdk WebClient holding the bot token); with a store,
    each one posted is recorded, so the next run posts it again only when it grew."""
    from slack_sdk.errors import SlackApiError, SlackClientError

    out = Posted()
    for tracked in events:
        try:
            client.chat_postMessage(channel=channel, **alert_message(tracked, names))
        except (SlackApiError, SlackClientError, OSError) as exc:
            out.failed.append(f"{tracked.id}: {exc}")
            continue
        out.posted.append(tracked.id)
        if store is not None:
            store.put_map(
                f"{PREFIX}{tracked.source}:{tracked.id}",
                {
                    "impact_total": str(tracked.impact_total),
                    "at": (now.isoformat() if now is not None else None),
                    "channel": channel,
                },
            )
    return out


def notice_message(subject: str, text: str) -> dict[str, Any]:
    """An SNS anomaly notice (anomalies/notify.py: its subject and plain-text body) as a Slack message: what
    the Slack function posts for each notice of the stack's anomaly topic."""
    body = text if len(text) <= blocks.SECTION_MAX - 10 else text[: blocks.SECTION_MAX - 11] + "…"
    return {
        "text": escape(subject),
        "blocks": [blocks.header(subject), blocks.section(f"```{escape(body)}```")],
    }


def names_of(events: Iterable[Tracked], settings: Any) -> dict[str, str]:
    return {
        a: n for a, n in settings.account_names.items() if any(a == t.event["account_id"] for t in events)
    }


__all__ = ["PREFIX", "Posted", "alert_message", "due", "names_of", "notice_message", "post_alerts"]
