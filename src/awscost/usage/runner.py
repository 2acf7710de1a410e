"""The collection runner: accounts x regions x kinds, in parallel, each unit isolated.

`run_collection` resolves the accounts (self / list / Organizations; an id given twice counts once), the
regions and the kinds, enters each account once (AssumeRole, cached), then runs one unit per account x
region x kind on a bounded set of threads, at most PER_ACCOUNT_REGION at once in one account x region
(AWS meters calls per account and region). A global kind, Savings Plans, is one unit per account, in
region "global". A unit that fails (AccessDenied, a region not enabled, throttling that outlasted the
retries, an unreachable endpoint, a read or connect timeout ...) becomes a `Failure`; every other unit is
still collected and written. Each sample is stamped with the sample hour (`at` floored to the UTC hour,
default the current hour), never the moment the code ran, so writing the same hour twice overwrites it.

Every AWS client has connect and read timeouts (settings `connect_timeout`, `read_timeout`), and a run
may have a deadline (`deadline` seconds, the setting or the parameter; the Lambda handler sets it below
the function's remaining time): units not finished by then are failures with reason "deadline: ...",
and what finished is written all the same: items, org totals, maps.

Per kind and region it also writes the org-wide total `kind:<org_name>:region`: the sum of the account
items stored for that hour, whether this run or an earlier run of the same hour wrote them, with
`attrs["accounts"]` (summed) and `attrs["missing_accounts"]` (accounts of the run with no item for the
hour) so a partial total is visible as such, and re-running a complete hour while one account fails
keeps the complete total. It holds per-key totals only; the reservations and Savings Plans stay listed
in the account items (`store.base.listed` reads them for a total). Daily kinds are stamped with the given
hour too: they are one sample per day, so run `--kinds daily` once a day (and `--kinds hourly` every hour).

Only boto3 and the standard library are imported here: this runs in a Lambda.
"""

from __future__ import annotations

import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import boto3

from awscost.aws.accounts import Account, AccountSessions, discover_accounts, parse_accounts_option
from awscost.aws.errors import failure_reason
from awscost.aws.regions import resolve_regions
from awscost.aws.session import DEFAULT_POOL, CallCounter, client_config, make_session
from awscost.core.config import Settings
from awscost.core.timeutil import current_hour, floor_hour, format_hour
from awscost.store.base import ItemsRejected, Store, UsageItem, split_resource
from awscost.usage.collectors.base import CollectContext, MapCache, Memo, Observation
from awscost.usage.kinds import COLLECTORS, GLOBAL_KINDS, GLOBAL_REGION, resolve_kinds

WRITE_BATCH = 25  # one DynamoDB BatchWriteItem


@dataclass(frozen=True)
class Failure:
    account: str
    region: str
    kind: str
    reason: str


@dataclass(frozen=True)
class UnitResult:
    account: str
    region: str
    kind: str
    calls: int
    observation: Observation | None = None
    failure: Failure | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


@dataclass
class CollectionSummary:
    at: datetime
    kinds: list[str]
    accounts: list[Account]
    regions: list[str]
    items_written: int = 0
    units_total: int = 0
    units_ok: int = 0
    failures: list[Failure] = field(default_factory=list)
    api_calls: int = 0
    api_attempts: int = 0  # HTTP attempts, retries included
    assume_role_calls: int = 0
    calls_by_unit: dict[tuple[str, str, str], int] = field(default_factory=dict)
    calls_by_operation: dict[str, int] = field(default_factory=dict)
    maps_written: int = 0

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_json(self) -> dict[str, Any]:
        return {
            "time": format_hour(self.at),
            "kinds": self.kinds,
            "accounts": [a.id for a in self.accounts],
            "regions": self.regions,
            "items_written": self.items_written,
            "units_total": self.units_total,
            "units_ok": self.units_ok,
            "failures": [f.__dict__ for f in self.failures],
            "api_calls": self.api_calls,
            "api_attempts": self.api_attempts,
            "assume_role_calls": self.assume_role_calls,
            "maps_written": self.maps_written,
            "calls_by_operation": dict(sorted(self.calls_by_operation.items())),
        }


Progress = Callable[[int, int, UnitResult], None]

# Units of one account x region in flight at once. AWS meters API calls per account and region (EC2's token
# buckets, RDS's rate), so a run over many accounts spreads its threads across them instead of throttling one.
PER_ACCOUNT_REGION = 4
# Test-only (documented in tests/test_collect_crash.py): `AWSCOST_TEST_CRASH_AT=batch:N` SIGKILLs the process
# right after the N-th store batch is written, `maps` after the maps; the kill test proves a re-run recovers.
CRASH_ENV = "AWSCOST_TEST_CRASH_AT"
DEADLINE_REASON = "deadline: not finished within the run's deadline of {:g} s"


def org_totals(
    kind: str,
    region: str,
    at: datetime,
    org_name: str,
    items: Sequence[UsageItem],
    all_accounts: Sequence[str],
) -> UsageItem | None:
    """The org-wide item of one kind x region: the sum of the account `items` of that hour (None if none).

    `attrs["accounts"]` lists the accounts summed, `attrs["missing_accounts"]` those of `all_accounts` with
    no item: a partial total says so."""
    ok = sorted(items, key=lambda i: i.account)
    if not ok:
        return None
    usage: dict[str, int] = {}
    for item in ok:
        for key, count in item.usage.items():
            usage[key] = usage.get(key, 0) + int(count)
    included = [i.account for i in ok]
    # Per-key totals only: the reservations / Savings Plans stay listed in the account items (store.listed
    # reads them back for a total); all of them in one item would pass DynamoDB's 400 KB item limit.
    attrs: dict[str, Any] = {
        "accounts": included,
        "missing_accounts": sorted(set(all_accounts) - set(included)),
    }
    return UsageItem(kind, org_name, region, at, usage, attrs)


def stored_org_totals(
    store: Store,
    kind: str,
    region: str,
    at: datetime,
    org_name: str,
    collected: Mapping[str, UsageItem],
    accounts: Sequence[str],
) -> UsageItem | None:
    """The org total of one kind x region from what is stored for the hour, not only from this run.

    An account whose unit failed this time keeps the item an earlier run of the same hour stored, and the
    accounts summed by an earlier total of the hour stay in it: re-running an hour (all of it, or a few
    accounts to mend them) never turns a complete total into a partial one. Reads are point gets of the
    accounts this run has no item for, and one of the earlier total."""
    previous = store.get(f"{kind}:{org_name}:{region}", at)
    earlier = [str(a) for a in (previous.attrs.get("accounts") or [])] if previous is not None else []
    items: list[UsageItem] = []
    for account in dict.fromkeys([*accounts, *earlier]):
        item = collected.get(account) or store.get(f"{kind}:{account}:{region}", at)
        if item is not None:
            items.append(item)
    return org_totals(kind, region, at, org_name, items, accounts)


def _crash_point(step: str) -> None:
    if os.environ.get(CRASH_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


Work = tuple[Account, str, str]


class _Scheduler:
    """Units on daemon threads: at most `workers` at once and `per_key` per account x region; results come
    back to the caller's thread. Daemon threads, because a unit stuck past the deadline (an endpoint that
    never answers) must not hold the process (a ThreadPoolExecutor joins its threads at exit)."""

    def __init__(
        self, work: Sequence[Work], run: Callable[..., UnitResult], workers: int, per_key: int
    ) -> None:
        self._todo = list(work)
        self._run = run
        self._per_key = per_key
        self._busy: dict[tuple[str, str], int] = {}
        self._cond = threading.Condition()
        self._stopped = False
        self.results: queue.Queue[tuple[int, UnitResult]] = queue.Queue()
        self._order = list(range(len(self._todo)))
        for n in range(workers):
            threading.Thread(target=self._worker, name=f"awscost-collect-{n}", daemon=True).start()

    def _take(self) -> tuple[int, Work] | None:
        with self._cond:
            while True:
                if self._stopped or not self._order:
                    return None
                for pos, i in enumerate(self._order):
                    account, region, _ = self._todo[i]
                    key = (account.id, region)
                    if self._busy.get(key, 0) < self._per_key:
                        self._busy[key] = self._busy.get(key, 0) + 1
                        del self._order[pos]
                        return i, self._todo[i]
                self._cond.wait()

    def _worker(self) -> None:
        while (taken := self._take()) is not None:
            i, (account, region, kind) = taken
            try:
                res = self._run(account, region, kind)
            finally:
                with self._cond:
                    self._busy[(account.id, region)] -= 1
                    self._cond.notify_all()
            self.results.put((i, res))

    def stop(self) -> None:
        """Start no further unit (those running finish on their own, unheard)."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()


def not_stored(exc: ItemsRejected) -> list[Failure]:
    """The items a store refused, as failures of their units: the run goes on and ends as a partial one."""
    out = []
    for resource, hour, reason in exc.rejected:
        kind, account, region = split_resource(resource)
        out.append(Failure(account, region, kind, f"not stored ({hour}): {reason}"))
    return out


def _resolve_accounts(settings: Settings, accounts: str | Iterable[str] | None) -> Settings:
    if accounts is None:
        return settings
    if isinstance(accounts, str):
        return settings.with_overrides(accounts=parse_accounts_option(accounts))
    return settings.with_overrides(accounts=parse_accounts_option(",".join(accounts)))


def mark_collected(store: Store, kinds: Iterable[str], hour: datetime) -> None:
    """The last hour each kind was collected (one unit at least), in one map item per kind: what `awscost
    health` reads hourly, instead of scanning the usage table (a Scan bills the whole table). Only moves
    forward: a backfill of an older hour leaves it."""
    from awscost.usage.freshness import MARKER_PREFIX

    for kind in sorted(kinds):
        key = f"{MARKER_PREFIX}{kind}"
        held = store.get_map(key) or {}
        if str(held.get("hour", "")) >= format_hour(hour):
            continue
        store.put_map(key, {"hour": format_hour(hour)})


def run_collection(
    settings: Settings,
    *,
    kinds: str | Iterable[str] = "hourly",
    accounts: str | Iterable[str] | None = None,
    regions: Sequence[str] | None = None,
    at: datetime | None = None,
    store: Store,
    role_name: str | None = None,
    external_id: str | None = None,
    max_workers: int | None = None,
    progress: Progress | None = None,
    session: boto3.Session | None = None,
    page_size: int | None = None,
    deadline: float | None = None,
) -> CollectionSummary:
    """Collect `kinds` in every account x region for the sample hour `at`; write items and org totals.

    `accounts`: None = settings.accounts; "self", "organizations", or ids. `regions`: None = settings,
    else every enabled region. `session`: the caller's boto3 session (default: the standard chain).
    `page_size`: page size for paginated describes (None = each API's maximum). `deadline`: seconds from
    now after which no unit is waited for (None = settings.deadline; units not done fail with "deadline").
    Errors that stop the whole run (no credentials, Organizations refused, an unknown kind or region) raise
    AwsCostError subclasses; per-unit errors are returned in `summary.failures`.
    """
    started = time.monotonic()
    budget = deadline if deadline is not None else settings.deadline
    chosen = resolve_kinds(kinds)
    hour = floor_hour(at) if at is not None else current_hour()
    settings = _resolve_accounts(settings, accounts)
    config = client_config(
        pool=DEFAULT_POOL, connect_timeout=settings.connect_timeout, read_timeout=settings.read_timeout
    )
    counter = CallCounter()
    if session is None:
        session = make_session(counter=counter)
    else:
        counter.attach(session)
    caller = None
    account_list = discover_accounts(settings, session, config)
    if settings.accounts == "self":
        caller = account_list[0].id
    region_list = resolve_regions(settings, session, regions, config)
    sessions = AccountSessions(
        session,
        role_name=role_name or settings.role_name,
        external_id=external_id or settings.external_id,
        counter=counter,
        caller_id=caller,
        config=config,
    )
    maps = MapCache.load(store) if "ec2os" in chosen else MapCache()
    summary = CollectionSummary(hour, chosen, account_list, region_list)
    # A global kind (Savings Plans) is one unit per account, in region GLOBAL_REGION.
    regions_of = {k: [GLOBAL_REGION] if k in GLOBAL_KINDS else region_list for k in chosen}
    memos = {(a.id, r): Memo() for a in account_list for r in [*region_list, GLOBAL_REGION]}

    def unit(account: Account, region: str, kind: str) -> UnitResult:
        try:
            # Entering the account (AssumeRole, once per account) is counted in the run, not in this unit.
            clients = sessions.clients(account.id)
        except Exception as exc:  # isolation is the point: one unit never stops the others
            return UnitResult(
                account.id, region, kind, 0, failure=Failure(account.id, region, kind, failure_reason(exc))
            )
        with counter.scope() as local:
            try:
                ctx = CollectContext(
                    account, region, hour, clients, maps, memos[(account.id, region)], page_size
                )
                obs = COLLECTORS.get(kind)(ctx)
            except Exception as exc:  # isolation is the point: one unit never stops the others
                failure = Failure(account.id, region, kind, failure_reason(exc))
                return UnitResult(account.id, region, kind, sum(local.values()), failure=failure)
        return UnitResult(account.id, region, kind, sum(local.values()), observation=obs)

    # Kind, then region, then account: neighbouring units are in different accounts, so the threads spread
    # over the accounts' rate limits rather than queueing behind one account x region.
    work: list[Work] = [
        (a, r, k) for k in chosen if k not in GLOBAL_KINDS for r in region_list for a in account_list
    ]
    work += [(a, GLOBAL_REGION, k) for k in chosen if k in GLOBAL_KINDS for a in account_list]
    summary.units_total = len(work)
    workers = max(1, min(max_workers or settings.max_workers, len(work) or 1))
    collected: dict[tuple[str, str], dict[str, UsageItem]] = {}  # (kind, region) -> account -> item
    pending_items: list[UsageItem] = []
    batches = [0]

    def flush(force: bool = False) -> None:
        # Only this (the caller's) thread writes, so the store need not be thread-safe.
        if pending_items and (force or len(pending_items) >= WRITE_BATCH):
            try:
                summary.items_written += store.put_items(list(pending_items))
            except ItemsRejected as exc:  # every other item is written: the rejected ones are failed units
                summary.items_written += exc.written
                summary.failures.extend(not_stored(exc))
            pending_items.clear()
            batches[0] += 1
            _crash_point(f"batch:{batches[0]}")

    def record(res: UnitResult) -> None:
        summary.calls_by_unit[(res.account, res.region, res.kind)] = res.calls
        if res.observation is not None:
            summary.units_ok += 1
            obs = res.observation
            item = UsageItem(res.kind, res.account, res.region, hour, obs.usage, obs.attrs)
            collected.setdefault((res.kind, res.region), {})[res.account] = item
            pending_items.append(item)
        else:
            assert res.failure is not None
            summary.failures.append(res.failure)

    finished: set[int] = set()
    if work:
        scheduler = _Scheduler(work, unit, workers, PER_ACCOUNT_REGION)
        try:
            while len(finished) < len(work):
                timeout = None if budget is None else budget - (time.monotonic() - started)
                if timeout is not None and timeout <= 0:
                    break
                try:
                    i, res = scheduler.results.get(timeout=timeout)
                except queue.Empty:
                    break
                finished.add(i)
                record(res)
                if progress is not None:
                    progress(len(finished), len(work), res)
                # Drain what else is done before writing, so batches fill up.
                while len(finished) < len(work):
                    try:
                        i, res = scheduler.results.get_nowait()
                    except queue.Empty:
                        break
                    finished.add(i)
                    record(res)
                    if progress is not None:
                        progress(len(finished), len(work), res)
                flush()
        finally:
            scheduler.stop()
    for i, (account, region, kind) in enumerate(work):
        if i not in finished:  # the deadline passed: reported, and the org total reads the store for it
            assert budget is not None
            record(
                UnitResult(
                    account.id,
                    region,
                    kind,
                    0,
                    failure=Failure(account.id, region, kind, DEADLINE_REASON.format(budget)),
                )
            )
    flush(force=True)

    account_ids = [a.id for a in account_list]
    for kind in chosen:
        for region in regions_of[kind]:
            total = stored_org_totals(
                store, kind, region, hour, settings.org_name, collected.get((kind, region), {}), account_ids
            )
            if total is not None:
                pending_items.append(total)
            flush()
    flush(force=True)
    summary.maps_written = maps.flush(store)
    _crash_point("maps")
    mark_collected(store, {kind for kind, _ in collected}, hour)
    summary.failures.sort(key=lambda f: (f.account, f.region, f.kind))
    summary.api_calls = counter.total
    summary.api_attempts = counter.attempts
    summary.assume_role_calls = sessions.assume_role_calls
    summary.calls_by_operation = dict(counter.by_operation)
    return summary
