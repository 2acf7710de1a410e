"""What a collector is, what it is given, and what it returns.

A collector counts one resource kind in one account and region at the moment it runs, and returns an
`Observation` (usage key -> count, plus attributes). The runner stamps it with the sample hour and
writes it; collectors never touch the usage table. The kinds catalog (`awscost.usage.kinds`) names each
kind's collector function and the exact IAM actions it calls, so a policy can be generated from it and a
test can check every action exists.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from awscost.aws.accounts import Account

T = TypeVar("T")


@dataclass
class Observation:
    usage: dict[str, int] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)

    def add(self, key: str, count: int = 1) -> None:
        if count:
            self.usage[key] = self.usage.get(key, 0) + int(count)


class Clients(Protocol):
    def get(self, service: str, region: str | None = None) -> Any: ...


class MapStore(Protocol):
    def get_map(self, id: str) -> dict[str, Any] | None: ...

    def put_map(self, id: str, attrs: Mapping[str, Any]) -> None: ...

    def scan_map(self, prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]: ...


class MapCache:
    """The map table (AWSCostMap) as seen by collectors running in worker threads.

    Loaded once per run (`scan_map(prefix)`), read and extended under a lock; new entries are written
    back by the runner's own thread (`flush`), so a store need not be thread-safe.
    """

    def __init__(self, entries: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, dict[str, Any]] = {k: dict(v) for k, v in (entries or {}).items()}
        self._pending: dict[str, dict[str, Any]] = {}
        self._locks: dict[str, threading.Lock] = {}

    @classmethod
    def load(cls, store: MapStore | None, prefixes: Iterable[str] = ("ami-",)) -> MapCache:
        entries: dict[str, dict[str, Any]] = {}
        if store is not None:
            for prefix in prefixes:
                entries.update(dict(store.scan_map(prefix)))
        return cls(entries)

    def get(self, id: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._entries.get(id)
            return dict(found) if found is not None else None

    def put(self, id: str, attrs: Mapping[str, Any]) -> None:
        with self._lock:
            self._entries[id] = dict(attrs)
            self._pending[id] = dict(attrs)

    def lock(self, name: str) -> threading.Lock:
        """A lock per name, so units that would resolve the same entries take turns instead of racing."""
        with self._lock:
            return self._locks.setdefault(name, threading.Lock())

    def pending(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return dict(self._pending)

    def flush(self, store: MapStore) -> int:
        with self._lock:
            pending, self._pending = self._pending, {}
        for id, attrs in pending.items():
            store.put_map(id, attrs)
        return len(pending)


class Memo:
    """Results shared by the kinds of one account x region (ec2 and ec2os read one DescribeInstances)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._values: dict[str, Any] = {}

    def get(self, key: str, compute: Callable[[], T]) -> T:
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._values:
                self._values[key] = compute()
            value: T = self._values[key]
            return value


@dataclass
class CollectContext:
    account: Account
    region: str
    at: datetime  # the sample hour (aware UTC)
    clients: Clients
    maps: MapCache = field(default_factory=MapCache)
    memo: Memo = field(default_factory=Memo)
    page_size: int | None = None  # None = each API's maximum page

    def client(self, service: str) -> Any:
        return self.clients.get(service, self.region)

    def pagination(self) -> dict[str, Any]:
        return {"PageSize": self.page_size} if self.page_size else {}
