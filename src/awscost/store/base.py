"""The usage item and the store protocol every backend implements (SQLite embedded default, DynamoDB seed schema).

Item shape (DESIGN.md "Data model"): `awsResource` = `<kind>:<account>:<region>`, `time` = UTC hour
(`2026-11-26T10:00:00Z`), `usage` = map usage key -> count for that hour. Other attributes (e.g. the
reservation details of `ri-*` items) travel in `attrs` and are stored beside `usage`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from awscost.core.errors import InputError, StoreError
from awscost.core.timeutil import floor_hour, format_hour, parse_hour

Number = int | float


def split_resource(aws_resource: str) -> tuple[str, str, str]:
    """`ec2:123456789012:us-east-1` -> (kind, account, region). Kinds never contain ':'."""
    parts = aws_resource.split(":")
    if len(parts) != 3 or not all(parts):
        raise InputError(f"awsResource {aws_resource!r} is not kind:account:region")
    return parts[0], parts[1], parts[2]


@dataclass(frozen=True)
class UsageItem:
    kind: str
    account: str  # 12-digit account id, or the organization name for the org-wide total
    region: str
    time: datetime  # aware UTC, on the hour
    usage: Mapping[str, Number]
    attrs: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "time", floor_hour(self.time))

    @property
    def aws_resource(self) -> str:
        return f"{self.kind}:{self.account}:{self.region}"

    @property
    def time_key(self) -> str:
        return format_hour(self.time)

    def to_json(self) -> dict[str, Any]:
        """The export/import line format: {"awsResource": ..., "time": ..., "usage": {...}, **attrs}."""
        out: dict[str, Any] = {
            "awsResource": self.aws_resource,
            "time": self.time_key,
            "usage": dict(self.usage),
        }
        out.update(self.attrs)
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> UsageItem:
        kind, account, region = split_resource(str(obj["awsResource"]))
        attrs = {k: v for k, v in obj.items() if k not in ("awsResource", "time", "usage")}
        return cls(kind, account, region, parse_hour(str(obj["time"])), dict(obj.get("usage") or {}), attrs)


@runtime_checkable
class Store(Protocol):
    """What every backend provides. Writes are idempotent: (awsResource, time) is the key; a put overwrites."""

    url: str

    def init(self) -> None:
        """Create tables if absent (SQLite does this on open; DynamoDB via `awscost store init`)."""

    def put_items(self, items: Iterable[UsageItem]) -> int:
        """Write (overwrite) items; returns the number written."""
        ...

    def query(
        self,
        kind: str | None = None,
        account: str | None = None,
        region: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[UsageItem]:
        """Items matching every given filter; since <= time < until. Ordered by awsResource, then time."""
        ...

    def get(self, aws_resource: str, time: datetime) -> UsageItem | None: ...

    def resources(self) -> list[str]:
        """Distinct awsResource values, sorted."""
        ...

    def put_map(self, id: str, attrs: Mapping[str, Any]) -> None:
        """Write a mapping item (table AWSCostMap, partition key `id`), e.g. `ami:ami-123` -> {"os": "linux"}."""

    def get_map(self, id: str) -> dict[str, Any] | None: ...

    def scan_map(self, prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]: ...

    def close(self) -> None: ...

    def __enter__(self) -> Store: ...

    def __exit__(self, *exc: object) -> None: ...


class ItemsRejected(StoreError):
    """Some items of one `put_items` could not be stored (a value no backend can hold, an item DynamoDB
    refused); every other item of that call was written. `written` counts those, `rejected` names the others
    as (awsResource, time, reason)."""

    def __init__(self, written: int, rejected: list[tuple[str, str, str]], *, where: str) -> None:
        self.written = written
        self.rejected = rejected
        resource, time, reason = rejected[0]
        more = f" (and {len(rejected) - 1} more)" if len(rejected) > 1 else ""
        super().__init__(
            f"{len(rejected)} item(s) not stored, {written} written: {resource} {time}: {reason}{more}",
            where=where,
        )


def listed(store: Store, item: UsageItem, name: str) -> list[dict[str, Any]]:
    """The per-commitment details `attrs[name]` ("reservations", "savings_plans") of `item`. An org-wide total
    holds per-key totals only (one item per org and hour stays far below DynamoDB's 400 KB whatever the number
    of reservations): its details are those of the account items it sums (`attrs["accounts"]`), of the same
    hour, each with its "account". An item that lists its own (an account's, an older org total) gives those."""
    own = item.attrs.get(name)
    accounts = item.attrs.get("accounts")
    if own is not None or item.account.isdigit() or not isinstance(accounts, list):
        return list(own or [])
    out: list[dict[str, Any]] = []
    for account in accounts:
        found = store.get(f"{item.kind}:{account}:{item.region}", item.time)
        if found is not None:
            out.extend({**entry, "account": str(account)} for entry in found.attrs.get(name) or [])
    return out


class Closing:
    """Backends inherit this: `with open_store(url) as store:` closes the store however the block ends."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def plain_value(value: Any, *, where: str = "attrs") -> Any:
    """The one value vocabulary every backend stores, so a dump of one loads into the other unchanged.

    Decimal becomes int when integral, else float (usage counts are counts; exact money belongs in a string
    attribute); datetimes become ISO strings; tuples/sets become lists. NaN and infinity have no DynamoDB
    representation, so they are refused here rather than by one backend only.
    """
    import math
    from decimal import Decimal

    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(f"number {value!r} cannot be stored", where=where)
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InputError(f"number {value!r} cannot be stored", where=where)
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        on_hour = value.minute == value.second == value.microsecond == 0
        return format_hour(value) if on_hour else value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): plain_value(v, where=f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain_value(v, where=where) for v in value]
    if hasattr(value, "isoformat"):  # date
        return value.isoformat()
    raise InputError(f"value of type {type(value).__name__} cannot be stored", where=where)


def ceil_hour(dt: datetime) -> datetime:
    """The first UTC hour at or after `dt` (naive = UTC). Items sit on the hour, so `since <= time < until`
    equals `ceil_hour(since) <= time < ceil_hour(until)`: backends compare hour keys only."""
    from datetime import UTC, timedelta

    aware = dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)
    floor = floor_hour(aware)
    return floor if floor == aware else floor + timedelta(hours=1)


@dataclass(frozen=True)
class StoreInfo:
    """What `awscost store info` prints; backends with an `info()` method return it."""

    url: str
    items: int
    resources: int
    first_time: datetime | None
    last_time: datetime | None
    map_items: int
