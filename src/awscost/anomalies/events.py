"""The anomaly log: every event a scan found, kept in the store's map table, so that a scan run again (the
same day, or a longer window) updates an event instead of raising it twice, an acknowledged event is never
raised again, and the report and the dashboard read what was found without scanning.

One map item per event, `anomaly:<source>:<id>` (source: billing | usage | ce; the id is the detector's stable
hash of series and first day, so the same event found again has the same item):

    event       the Anomaly's JSON as last seen (its end, days and impact grow while it is open)
    first_seen  when a scan first found it; last_seen: the last scan that did
    notified    None, or {"at", "impact_total", "count"}: the last notice sent and how many were sent
    ack         None, or {"by", "at", "note"}: acknowledged, so never notified again
    verdict     usage events only: None, or the bill's last verdict on it (anomalies/confirm.py's Confirmation:
                confirmed | withdrawn | pending, the bill's event, the hours of early warning), kept until a
                scan with the bill gives a new one

Notices are throttled per event: one when an event is first found, another only when its total impact grew by
`growth` percent (in absolute value) since the notice before (`due`). Standard library and the store only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from awscost.core.errors import InputError

PREFIX = "anomaly:"
SOURCES = ("billing", "usage", "ce")
MIN_ID = 6  # characters of an id `ack` accepts as a unique prefix


def record_id(source: str, event_id: str) -> str:
    return f"{PREFIX}{source}:{event_id}"


@dataclass(frozen=True)
class Tracked:
    """An event as the log holds it after a scan."""

    source: str
    event: dict[str, Any]  # Anomaly.to_json()
    first_seen: str
    last_seen: str
    notified: dict[str, Any] | None
    ack: dict[str, Any] | None
    status: str  # new (first found now) | known (found before) | grown (past its last notice) | acked
    currency: str | None = None  # of the event's money (the bill's currency; USD for the usage signal)
    verdict: dict[str, Any] | None = None  # usage events: Confirmation.to_json() of the last scan with a bill

    @property
    def id(self) -> str:
        return str(self.event["id"])

    @property
    def impact_total(self) -> Decimal:
        return Decimal(str(self.event["impact_total"]))

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "event": self.event,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "notified": self.notified,
            "ack": self.ack,
            "currency": self.currency,
            "verdict": self.verdict,
        }

    @classmethod
    def from_item(cls, item: dict[str, Any], status: str = "known") -> Tracked:
        return cls(
            source=str(item["source"]),
            event=dict(item["event"]),
            first_seen=str(item["first_seen"]),
            last_seen=str(item["last_seen"]),
            notified=dict(item["notified"]) if item.get("notified") else None,
            ack=dict(item["ack"]) if item.get("ack") else None,
            status="acked" if item.get("ack") else status,
            currency=str(item["currency"]) if item.get("currency") else None,
            verdict=dict(item["verdict"]) if item.get("verdict") else None,
        )


def grown(notified: dict[str, Any] | None, impact_total: Decimal, growth: Decimal) -> bool:
    """Whether an event's total impact has grown by `growth` percent (absolute values) since its last notice."""
    if notified is None:
        return True
    before = abs(Decimal(str(notified["impact_total"])))
    return abs(impact_total) >= before * (1 + growth / 100) and abs(impact_total) > before


def record(
    store: Any,
    source: str,
    events: Iterable[Any],
    now: datetime,
    growth: Decimal = Decimal(50),
    currency: str | None = None,
    verdicts: Mapping[str, dict[str, Any]] | None = None,
) -> list[Tracked]:
    """Write each event (an Anomaly) to the log, merged with what the log held of it, and return them with
    their status. An event found again keeps its first_seen, notice and acknowledgement, and its verdict
    unless `verdicts` (event id -> the bill's Confirmation JSON) gives a new one."""
    verdicts = verdicts or {}
    if source not in SOURCES:
        raise InputError(f"unknown anomaly source {source!r}", param="source", hint=", ".join(SOURCES))
    out = []
    for anomaly in events:
        data = anomaly.to_json()
        item_id = record_id(source, str(data["id"]))
        held = store.get_map(item_id)
        if held is None:
            tracked = Tracked(
                source,
                data,
                now.isoformat(),
                now.isoformat(),
                None,
                None,
                "new",
                currency,
                verdicts.get(str(data["id"])),
            )
        else:
            previous = Tracked.from_item(held)
            impact = Decimal(str(data["impact_total"]))
            if previous.ack:
                status = "acked"
            elif previous.notified is not None and grown(previous.notified, impact, growth):
                status = "grown"
            else:
                status = "known"
            tracked = Tracked(
                source,
                data,
                previous.first_seen,
                now.isoformat(),
                previous.notified,
                previous.ack,
                status,
                currency or previous.currency,
                verdicts.get(str(data["id"]), previous.verdict),
            )
        store.put_map(item_id, tracked.to_json())
        out.append(tracked)
    return out


def mark_notified(store: Any, tracked: Tracked, now: datetime) -> Tracked:
    count = int((tracked.notified or {}).get("count", 0)) + 1
    notified = {"at": now.isoformat(), "impact_total": str(tracked.impact_total), "count": count}
    updated = replace(tracked, notified=notified)
    store.put_map(record_id(tracked.source, tracked.id), updated.to_json())
    return updated


def logged(store: Any, source: str | None = None) -> Iterator[Tracked]:
    """Every event of the log (of one source), in the store's order."""
    prefix = PREFIX if source is None else f"{PREFIX}{source}:"
    for _id, item in store.scan_map(prefix):
        yield Tracked.from_item(item)


def overlapping(store: Any, start: date, end: date, accounts: frozenset[str] | None = None) -> list[Tracked]:
    """The logged events that ran on a day of [start, end), of `accounts` (None: every account), largest
    total impact first: what the report's Movers section lists."""
    found = []
    for tracked in logged(store):
        event = tracked.event
        first = date.fromisoformat(str(event["date"]))
        last = date.fromisoformat(str(event["end"])[:10]) if event.get("end") else None
        if first >= end or (last is not None and last <= start):
            continue
        if accounts is not None and str(event["account_id"]) not in accounts:
            continue
        found.append(tracked)
    found.sort(key=lambda t: (-abs(t.impact_total), t.id))
    return found


def find(store: Any, wanted: str) -> Tracked:
    """The one logged event whose id is `wanted` or starts with it (at least MIN_ID characters)."""
    wanted = wanted.strip().lower()
    if len(wanted) < MIN_ID:
        raise InputError(
            f"an anomaly id of {len(wanted)} characters is ambiguous",
            param="id",
            hint=f"give at least {MIN_ID} characters of the id (awscost anomalies list shows them)",
        )
    matches = [t for t in logged(store) if t.id.lower().startswith(wanted)]
    if not matches:
        raise InputError(
            f"no recorded anomaly has the id {wanted!r}",
            param="id",
            hint="awscost anomalies list shows the recorded ones (a scan records what it finds)",
        )
    if len({(t.source, t.id) for t in matches}) > 1:
        raise InputError(
            f"{len(matches)} recorded anomalies match {wanted!r}: "
            + ", ".join(f"{t.source}:{t.id}" for t in matches[:5]),
            param="id",
            hint="give more of the id",
        )
    return matches[0]


def acknowledge(store: Any, wanted: str, by: str, note: str, now: datetime) -> Tracked:
    """Record an acknowledgement: the event is never notified again, whatever it grows to. Acknowledging an
    acknowledged event keeps the first acknowledgement."""
    tracked = find(store, wanted)
    if tracked.ack:
        return tracked
    if not by.strip():
        raise InputError("an acknowledgement says who made it", param="by")
    ack = {"by": by.strip(), "at": now.isoformat(), "note": note}
    updated = replace(tracked, ack=ack, status="acked")
    store.put_map(record_id(tracked.source, tracked.id), updated.to_json())
    return updated


def due(tracked: Iterable[Tracked]) -> list[Tracked]:
    """The events a notice is due for, largest total impact first: not acknowledged, and never notified (new,
    or found before while there was no topic or its notice failed) or grown since the last notice."""
    wanted = [t for t in tracked if t.status != "acked" and (t.notified is None or t.status == "grown")]
    wanted.sort(key=lambda t: (-abs(t.impact_total), t.id))
    return wanted


__all__ = [
    "PREFIX",
    "Tracked",
    "acknowledge",
    "due",
    "find",
    "grown",
    "logged",
    "mark_notified",
    "overlapping",
    "record",
    "record_id",
]
