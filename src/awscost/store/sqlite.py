"""The embedded default store: one SQLite file holding the same items as the DynamoDB tables.

    sqlite:///relative/path.db     relative to the working directory
    sqlite:////abs/path.db         absolute
    sqlite:///:memory:             private to this process (tests)

One connection guarded by a lock serves the collector's thread pool: SQLite serialises writers anyway, and
a single connection keeps `:memory:` stores shared between threads.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from awscost.core.errors import ConfigError, InputError, StoreError
from awscost.core.timeutil import format_hour, parse_hour
from awscost.store.base import (
    Closing,
    ItemsRejected,
    StoreInfo,
    UsageItem,
    ceil_hour,
    plain_value,
    split_resource,
)

SCHEMA_VERSION = 1
OPEN_WAIT_S = 10.0  # as long as a statement waits for a lock (sqlite3's timeout in _connect)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS usage (
    awsResource TEXT NOT NULL,
    time        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    account     TEXT NOT NULL,
    region      TEXT NOT NULL,
    usage       TEXT NOT NULL,
    attrs       TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (awsResource, time)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS usage_kind_account_region_time ON usage (kind, account, region, time);
CREATE INDEX IF NOT EXISTS usage_account ON usage (account);
CREATE INDEX IF NOT EXISTS usage_time ON usage (time);
CREATE TABLE IF NOT EXISTS map (id TEXT PRIMARY KEY, attrs TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
"""

PREFIX = "sqlite:///"


def sqlite_path(url: str) -> str:
    """`sqlite:///a/b.db` -> `a/b.db`; `sqlite:////a/b.db` -> `/a/b.db`; `sqlite:///:memory:` as is."""
    hint = "use sqlite:///relative/path.db, sqlite:////absolute/path.db or sqlite:///:memory:"
    if not url.startswith(PREFIX) or len(url) == len(PREFIX):
        raise ConfigError(f"bad SQLite store URL {url!r}", param="store", hint=hint)
    if "?" in url:
        raise ConfigError(f"a SQLite store URL takes no options: {url!r}", param="store", hint=hint)
    return url[len(PREFIX) :]


def _dumps(value: Any, where: str) -> str:
    plain = plain_value(value, where=where)
    return json.dumps(plain, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


class SqliteStore(Closing):
    """`read_only`: open without writing anything (no tables created, no journal mode set), so that a reader
    never waits for a writer's lock and never turns someone else's SQLite file into a store."""

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        self.url = url
        path = sqlite_path(url)
        self.path = path if path == ":memory:" else str(Path(path).expanduser())
        self.read_only = read_only
        self._lock = threading.RLock()
        self.page_size = 2000  # rows read per statement by query()
        self._conn = self._open()

    # -- plumbing ---------------------------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        """`_connect`, tried again while another process holds the lock. Setting up a new file (the WAL
        switch, the schema) can meet SQLITE_BUSY at once, without SQLite's busy handler waiting its timeout:
        two collects starting together on a fresh store would otherwise fail one of them at open."""
        deadline = time.monotonic() + OPEN_WAIT_S
        while True:
            try:
                return self._connect()
            except StoreError as exc:
                busy = "locked" in exc.message or "busy" in exc.message
                if not busy or time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)

    def _error(self, exc: BaseException, doing: str) -> StoreError:
        text = str(exc)
        hint = None
        if "locked" in text or "busy" in text:
            hint = "another process holds a write lock; retry when it is done"
        elif "not a database" in text or "malformed" in text:
            hint = "the file is not an awscost SQLite store or is corrupt; open a store at another path"
        return StoreError(f"{doing}: {text}", where=self.path, hint=hint)

    def _connect(self) -> sqlite3.Connection:
        memory = self.path == ":memory:"
        read_only = self.read_only and not memory  # a private in-memory store has no one to disturb
        if not read_only and not memory:
            try:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the directory: {exc.strerror}", where=self.path) from None
        # mode=ro: SQLite itself refuses every write, the journal-mode switch and the DDL included.
        target = f"file:{quote(str(Path(self.path).absolute()))}?mode=ro" if read_only else self.path
        try:
            conn = sqlite3.connect(
                target, timeout=10.0, check_same_thread=False, isolation_level=None, uri=read_only
            )
        except sqlite3.Error as exc:
            raise self._error(exc, "cannot open") from None
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            version = self._schema_version(conn, tables) if tables or read_only else SCHEMA_VERSION
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"store schema {version} is newer than this awscost's ({SCHEMA_VERSION})",
                    where=self.path,
                    hint="upgrade awscost",
                )
            if tables and not memory:
                self._check_integrity(conn)
            if not read_only:
                if not memory:
                    conn.execute("PRAGMA journal_mode=WAL")
                    conn.execute("PRAGMA synchronous=NORMAL")
                # One transaction: another process opening the same new file sees all the tables or
                # none, never `usage` alone (which it would refuse as someone else's database).
                conn.executescript(
                    f"BEGIN IMMEDIATE;{_SCHEMA}INSERT OR IGNORE INTO meta (key, value) "
                    f"VALUES ('schema_version', '{int(SCHEMA_VERSION)}');COMMIT;"
                )
        except StoreError:
            conn.close()
            raise
        except sqlite3.Error as exc:
            conn.close()
            raise self._error(exc, "cannot open") from None
        return conn

    def _schema_version(self, conn: sqlite3.Connection, tables: set[str]) -> int:
        """The store's schema version; a database without awscost's tables is someone else's (or empty
        where only reading), and is refused before anything is written to it."""
        row = None
        if {"usage", "map", "meta"} <= tables:
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None or not str(row[0]).isdigit():
            names = sorted(tables)
            held = (
                f"it holds tables {', '.join(names[:5])}{' ...' if len(names) > 5 else ''}" if names else ""
            )
            raise StoreError(
                "not an awscost store" + (f" ({held})" if held else " (no awscost tables)"),
                where=self.path,
                hint="point the store setting at an awscost store, or at a new path to create one"
                + ("" if tables else " (`awscost store init` makes this one)"),
            )
        return int(row[0])

    def _check_integrity(self, conn: sqlite3.Connection) -> None:
        """PRAGMA quick_check: a damaged page fails here, on open, rather than after a collection has been
        written around it (SQLite writes into a corrupt file without noticing) or half way through a read."""
        rows = conn.execute("PRAGMA quick_check").fetchall()
        if rows == [("ok",)]:
            return
        # Each row may hold several lines ("*** in database main ***\nPage 17: ..."): one line, the first fault.
        faults = [
            line for r in rows for line in str(r[0]).splitlines() if line and not line.startswith("***")
        ]
        more = f" (and {len(faults) - 1} more faults)" if len(faults) > 1 else ""
        raise StoreError(
            f"the database is corrupt: {faults[0] if faults else '?'}{more}",
            where=self.path,
            hint="restore it from a backup; `sqlite3 FILE .recover` salvages what is still readable",
        )

    def _execute(self, sql: str, params: Iterable[Any] = (), doing: str = "cannot read") -> list[Any]:
        with self._lock:
            try:
                return self._conn.execute(sql, tuple(params)).fetchall()
            except sqlite3.ProgrammingError as exc:  # e.g. used after close()
                raise self._error(exc, doing) from None
            except sqlite3.Error as exc:
                raise self._error(exc, doing) from None

    @staticmethod
    def _item(row: tuple[str, str, str, str, str, str]) -> UsageItem:
        _resource, time, kind, account, region, usage, attrs = row  # type: ignore[misc]
        return UsageItem(kind, account, region, parse_hour(time), json.loads(usage), json.loads(attrs))

    # -- Store protocol ---------------------------------------------------------------------------------

    def init(self) -> None:
        """Tables are created on open; nothing more to do."""

    def put_items(self, items: Iterable[UsageItem]) -> int:
        """Write every item that can be stored, in one transaction; one that cannot (a value no store
        holds, text above SQLite's length limit) never stops the others: they are written, then
        ItemsRejected names it."""
        # Keyed like DynamoDB's batch (last wins), so both backends count the same items written.
        by_key: dict[tuple[str, str], tuple[str, ...]] = {}
        rejected: dict[tuple[str, str], str] = {}
        limit = self._conn.getlimit(sqlite3.SQLITE_LIMIT_LENGTH)
        for it in items:
            key = (it.aws_resource, it.time_key)
            rejected.pop(key, None)
            by_key.pop(key, None)
            try:
                split_resource(it.aws_resource)
                row = (
                    it.aws_resource,
                    it.time_key,
                    it.kind,
                    it.account,
                    it.region,
                    _dumps(dict(it.usage), f"{key[0]} {key[1]}"),
                    _dumps(dict(it.attrs), f"{key[0]} {key[1]}"),
                )
            except InputError as exc:
                rejected[key] = exc.message
                continue
            longest = max(len(row[5].encode("utf-8")), len(row[6].encode("utf-8")))
            if longest > limit:
                rejected[key] = f"{longest} bytes of JSON, more than SQLite's limit of {limit}"
                continue
            by_key[key] = row
        rows = list(by_key.values())
        if rows:
            with self._lock:
                try:
                    self._conn.execute("BEGIN IMMEDIATE")
                    try:
                        self._conn.executemany(
                            "INSERT OR REPLACE INTO usage"
                            " (awsResource, time, kind, account, region, usage, attrs)"
                            " VALUES (?, ?, ?, ?, ?, ?, ?)",
                            rows,
                        )
                    except BaseException:
                        self._conn.execute("ROLLBACK")
                        raise
                    self._conn.execute("COMMIT")
                except sqlite3.Error as exc:
                    raise self._error(exc, "cannot write") from None
        if rejected:
            ordered = sorted((resource, time, reason) for (resource, time), reason in rejected.items())
            raise ItemsRejected(len(rows), ordered, where=self.path)
        return len(rows)

    def query(
        self,
        kind: str | None = None,
        account: str | None = None,
        region: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[UsageItem]:
        clauses, params = self._filters(kind, account, region, since, until)
        # Keyset pages: memory stays bounded and the lock is never held while the caller consumes items
        # (a collector thread may write between two of them).
        after: tuple[str, str] | None = None
        while True:
            page_clauses = [*clauses, "(awsResource, time) > (?, ?)"] if after else clauses
            where = f" WHERE {' AND '.join(page_clauses)}" if page_clauses else ""
            rows = self._execute(
                "SELECT awsResource, time, kind, account, region, usage, attrs FROM usage"
                f"{where} ORDER BY awsResource, time LIMIT {self.page_size}",
                [*params, *after] if after else params,
            )
            for row in rows:
                yield self._item(row)
            if len(rows) < self.page_size:
                return
            after = (rows[-1][0], rows[-1][1])

    @staticmethod
    def _filters(
        kind: str | None,
        account: str | None,
        region: str | None,
        since: datetime | None,
        until: datetime | None,
    ) -> tuple[list[str], list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in (("kind", kind), ("account", account), ("region", region)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        # The time key has a fixed width, so text order is time order; items sit on the hour, so
        # `since <= time < until` is the same as comparing with both bounds rounded up to an hour.
        if since is not None:
            clauses.append("time >= ?")
            params.append(format_hour(ceil_hour(since)))
        if until is not None:
            clauses.append("time < ?")
            params.append(format_hour(ceil_hour(until)))
        return clauses, params

    def get(self, aws_resource: str, time: datetime) -> UsageItem | None:
        rows = self._execute(
            "SELECT awsResource, time, kind, account, region, usage, attrs FROM usage"
            " WHERE awsResource = ? AND time = ?",
            (aws_resource, format_hour(time)),
        )
        return self._item(rows[0]) if rows else None

    def resources(self) -> list[str]:
        return [r[0] for r in self._execute("SELECT DISTINCT awsResource FROM usage ORDER BY awsResource")]

    def put_map(self, id: str, attrs: Mapping[str, Any]) -> None:
        data = _dumps({k: v for k, v in attrs.items() if k != "id"}, f"map {id}")
        sql = "INSERT OR REPLACE INTO map (id, attrs) VALUES (?, ?)"
        self._execute(sql, (id, data), doing="cannot write")

    def get_map(self, id: str) -> dict[str, Any] | None:
        rows = self._execute("SELECT attrs FROM map WHERE id = ?", (id,))
        return json.loads(rows[0][0]) if rows else None

    def scan_map(self, prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
        # substr() rather than LIKE: LIKE is case-insensitive and treats % and _ as wildcards.
        rows = self._execute(
            "SELECT id, attrs FROM map WHERE substr(id, 1, ?) = ? ORDER BY id", (len(prefix), prefix)
        )
        for id_, attrs in rows:
            yield id_, json.loads(attrs)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- extras (not in the protocol) -------------------------------------------------------------------

    def info(self) -> StoreInfo:
        ((n, first, last),) = self._execute("SELECT count(*), min(time), max(time) FROM usage")
        ((resources,),) = self._execute("SELECT count(DISTINCT awsResource) FROM usage")
        ((maps,),) = self._execute("SELECT count(*) FROM map")
        return StoreInfo(
            self.url,
            n,
            resources,
            parse_hour(first) if first else None,
            parse_hour(last) if last else None,
            maps,
        )

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_sqlite(url: str, *, read_only: bool = False) -> SqliteStore:
    return SqliteStore(url, read_only=read_only)
