"""The delivery record: the store map item `report-delivery:<audience>:<period>` says to whom a period's report
was sent, and when. A retried run (Lambda retries a failed asynchronous invocation twice) reads it and skips
those recipients, so nobody gets the same report twice unless a resend is asked for."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from awscost.store.base import Store

PREFIX = "report-delivery:"


def record_id(audience: str, period: str) -> str:
    return f"{PREFIX}{audience}:{period}"


@dataclass
class DeliveryRecord:
    audience: str
    period: str
    sent: dict[str, str] = field(default_factory=dict)  # recipient -> when it was sent (ISO, UTC)
    archived: list[str] = field(default_factory=list)  # the S3 keys last written, s3://bucket/key
    updated: str = ""

    @classmethod
    def load(cls, store: Store, audience: str, period: str) -> DeliveryRecord:
        found = store.get_map(record_id(audience, period)) or {}
        return cls(
            audience,
            period,
            sent={str(k): str(v) for k, v in (found.get("sent") or {}).items()},
            archived=[str(k) for k in found.get("archived") or []],
            updated=str(found.get("updated", "")),
        )

    def mark_sent(self, recipient: str, when: datetime) -> None:
        self.sent[recipient] = when.isoformat()

    def save(self, store: Store, when: datetime) -> None:
        self.updated = when.isoformat()
        store.put_map(record_id(self.audience, self.period), self.to_json())

    def to_json(self) -> dict[str, Any]:
        return {
            "audience": self.audience,
            "period": self.period,
            "sent": dict(self.sent),
            "archived": list(self.archived),
            "updated": self.updated,
        }
