"""Anomaly notices on SNS: one per event when it is first found, again only when it has grown (events.due),
at most `max_notifications` per run, the rest in one summary notice, so a bad day (a bill restated, a
threshold set too low) cannot flood a channel.

Each notice is plain text an email subscriber can read, with the event's fields as message attributes
(`account_id`, `service`, `kind`, `source`, `anomaly_id`): a team subscribes with a filter policy on its
account instead of reading everyone's. A publish that fails leaves its event un-notified, so the next run
sends it; the run says which failed. Standard library and boto3 only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from awscost.anomalies.events import Tracked, mark_notified

SUBJECT_MAX = 100  # SNS: at most 100 characters, printable ASCII, no line break


@dataclass
class Sent:
    notified: list[str] = field(default_factory=list)  # event ids sent singly
    summarized: list[str] = field(default_factory=list)  # event ids counted in the summary notice
    failed: list[str] = field(default_factory=list)  # "id: why"
    message_ids: list[str] = field(default_factory=list)


def _ascii(text: str) -> str:
    return "".join(c if 32 <= ord(c) < 127 else "?" for c in text)


def subject(tracked: Tracked) -> str:
    e = tracked.event
    again = "grew: " if tracked.status == "grown" else ""
    sign = "+" if not str(e["impact_per_day"]).startswith("-") else "-"
    text = (
        f"awscost anomaly {again}{sign}${str(e['impact_per_day']).lstrip('-')}/day "
        f"{e['service']} in {e['account_id']}"
    )
    text = _ascii(text)
    return text if len(text) <= SUBJECT_MAX else text[: SUBJECT_MAX - 3] + "..."


def body(tracked: Tracked, names: dict[str, str]) -> str:
    e = tracked.event
    account = e["account_id"]
    named = f"{account} ({names[account]})" if account in names else account
    lines = [
        str(e["explanation"]),
        "",
        f"Account:   {named}",
        f"Service:   {e['service']}",
        f"Kind:      {e['kind']} ({'still open' if e.get('end') is None else 'ended ' + str(e['end'])})",
        f"Started:   {e['start']}",
        f"Expected:  ${e['expected']}/day",
        f"Actual:    ${e['actual']}/day",
        f"Impact:    ${e['impact_per_day']}/day, ${e['impact_total']} over {e['days']} day(s) so far",
        f"Score:     {e['score']}",
        f"Source:    awscost anomaly_scan, {tracked.source} signal; first seen {tracked.first_seen}",
        "",
        f"Acknowledge (no more notices): awscost anomalies ack {e['id']}",
    ]
    if tracked.status == "grown" and tracked.notified:
        lines.insert(
            1,
            f"(It has grown since the notice of {tracked.notified['at']}: "
            f"${tracked.notified['impact_total']} then.)",
        )
    return "\n".join(lines)


def _attributes(tracked: Tracked) -> dict[str, dict[str, str]]:
    e = tracked.event
    values = {
        "anomaly_id": str(e["id"]),
        "account_id": str(e["account_id"]),
        "service": str(e["service"]),
        "kind": str(e["kind"]),
        "source": tracked.source,
    }
    return {k: {"DataType": "String", "StringValue": v} for k, v in values.items() if v}


def publish(
    sns: Any,
    topic_arn: str,
    store: Any,
    due: Sequence[Tracked],
    now: datetime,
    *,
    most: int,
    names: dict[str, str] | None = None,
) -> Sent:
    """Send the due events' notices (largest first) and mark each one sent in the log."""
    from botocore.exceptions import BotoCoreError, ClientError

    names = names or {}
    sent = Sent()
    singly = list(due) if len(due) <= most else list(due[: most - 1])
    rest = list(due[len(singly) :])
    for tracked in singly:
        try:
            answer = sns.publish(
                TopicArn=topic_arn,
                Subject=subject(tracked),
                Message=body(tracked, names),
                MessageAttributes=_attributes(tracked),
            )
        except (ClientError, BotoCoreError) as exc:
            sent.failed.append(f"{tracked.id}: {exc}")
            continue
        sent.message_ids.append(str(answer["MessageId"]))
        mark_notified(store, tracked, now)
        sent.notified.append(tracked.id)
    if rest:
        total = sum(abs(t.impact_total) for t in rest)
        lines = [
            f"{len(rest)} more anomalies were found in this run, ${total:,} of impact in all; the largest:",
            "",
            *(f"- {t.event['explanation']} (id {t.id})" for t in rest[:20]),
            "",
            "awscost anomalies list shows them all.",
        ]
        try:
            answer = sns.publish(
                TopicArn=topic_arn,
                Subject=_ascii(f"awscost: {len(rest)} more cost anomalies"),
                Message="\n".join(lines),
                MessageAttributes={"kind": {"DataType": "String", "StringValue": "summary"}},
            )
        except (ClientError, BotoCoreError) as exc:
            sent.failed.extend(f"{t.id}: summary notice: {exc}" for t in rest)
        else:
            sent.message_ids.append(str(answer["MessageId"]))
            for tracked in rest:
                mark_notified(store, tracked, now)
                sent.summarized.append(tracked.id)
    return sent


__all__ = ["Sent", "body", "publish", "subject"]
