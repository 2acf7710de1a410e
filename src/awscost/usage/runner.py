"""The collection runner: accounts x regions x kinds, in parallel, each unit isolated.

`run_collection` resolves the accounts (self / list / Organizations), the regions and the kinds, enters
each account once (AssumeRole, cached), then runs one unit per account x region x kind on a bounded
thread pool (a global kind, Savings Plans, is one unit per account, in region "global"). A unit that fails
(AccessDenied, a region not enabled, throttling that outlasted the retries, an unreachable endpoint ...)
becomes a `Failure`; every other unit is still collected and written. Each sample is stamped with the
sample hour (`at` floored to the UTC hour, default the current hour), never the moment the code ran, so
writing the same hour twice overwrites it.

Per kind and region it also writes the org-wide total `kind:<org_name>:region`: the sum over the
accounts that succeeded, with `attrs["accounts"]` (included) and `attrs["missing_accounts"]` (failed)
so a partial total is visible as such. It holds per-key totals only; the reservations and Savings Plans
stay listed in the account items (`store.base.listed` reads them for a total). Daily kinds are stamped
with the given hour too: they are one sample per day, so run `--kinds daily` once a day (and `--kinds
hourly` every hour).

Only boto3 and the standard library are imported here: this runs in a Lambda.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import boto3

from awscost.aws.accounts import Account, AccountSessions, discover_accounts, parse_accounts_option
from awscost.aws.errors import failure_reason
from awscost.aws.regions import resolve_regions
from awscost.aws.session import CallCounter, make_session
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


def org_totals(
    kind: str,
    region: str,
    at: datetime,
    org_name: str,
    results: Sequence[UnitResult],
    all_accounts: Sequence[str],
) -> UsageItem | None:
    """The org-wide item of one kind x region: sum over accounts whose unit succeeded (None if none did)."""
    ok = sorted((r for r in results if r.observation is not None), key=lambda r: r.account)
    if not ok:
        return None
    usage: dict[str, int] = {}
    for r in ok:
        assert r.observation is not None
        for key, count in r.observation.usage.items():
            usage[key] = usage.get(key, 0) + count
    included = [r.account for r in ok]
    # Per-key totals only: the reservations / Savings Plans stay listed in the account items (store.listed
    # reads them back for a total); all of them in one item would pass DynamoDB's 400 KB item limit.
    attrs: dict[str, Any] = {
        "accounts": included,
        "missing_accounts": sorted(set(all_accounts) - set(included)),
    }
    return UsageItem(kind, org_name, region, at, usage, attrs)


def not_stored(exc: ItemsRejected) -> list[Failure]:
    """The items a store refused, as failures of their units: the run goes on and ends as a partial one."""
    out = []
    for resource, time, reason in exc.rejected:
        kind, account, region = split_resource(resource)
        out.append(Failure(account, region, kind, f"not stored ({time}): {reason}"))
    return out


def _resolve_accounts(settings: Settings, accounts: str | Iterable[str] | None) -> Settings:
    if accounts is None:
        return settings
    if isinstance(accounts, str):
        return settings.with_overrides(accounts=parse_accounts_option(accounts))
    return settings.with_overrides(accounts=parse_accounts_option(",".join(accounts)))


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
) -> CollectionSummary:
    """Collect `kinds` in every account x region for the sample hour `at`; write items and org totals.

    `accounts`: None = settings.accounts; "self", "organizations", or ids. `regions`: None = settings,
    else every enabled region. `session`: the caller's boto3 session (default: the standard chain).
    `page_size`: page size for paginated describes (None = each API's maximum). Errors that stop the whole
    run (no credentials, Organizations refused, an unknown kind or region) raise AwsCostError subclasses;
    per-unit errors are returned in `summary.failures`.
    """
    chosen = resolve_kinds(kinds)
    hour = floor_hour(at) if at is not None else current_hour()
    settings = _resolve_accounts(settings, accounts)
    counter = CallCounter()
    if session is None:
        session = make_session(counter=counter)
    else:
        counter.attach(session)
    caller = None
    account_list = discover_accounts(settings, session)
    if settings.accounts == "self":
        caller = account_list[0].id
    region_list = resolve_regions(settings, session, regions)
    sessions = AccountSessions(
        session,
        role_name=role_name or settings.role_name,
        external_id=external_id or settings.external_id,
        counter=counter,
        caller_id=caller,
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

    work = [(a, r, k) for a in account_list for r in region_list for k in chosen if k not in GLOBAL_KINDS]
    work += [(a, GLOBAL_REGION, k) for a in account_list for k in chosen if k in GLOBAL_KINDS]
    summary.units_total = len(work)
    workers = max(1, min(max_workers or settings.max_workers, len(work) or 1))
    results: list[UnitResult] = []
    pending_items: list[UsageItem] = []

    def flush(force: bool = False) -> None:
        # Only this (the caller's) thread writes, so the store need not be thread-safe.
        if pending_items and (force or len(pending_items) >= WRITE_BATCH):
            try:
                summary.items_written += store.put_items(list(pending_items))
            except ItemsRejected as exc:  # every other item is written: the rejected ones are failed units
                summary.items_written += exc.written
                summary.failures.extend(not_stored(exc))
            pending_items.clear()

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="awscost-collect") as pool:
        futures: set[Future[UnitResult]] = {pool.submit(unit, *w) for w in work}
        done_count = 0
        while futures:
            done, futures = wait(futures, return_when=FIRST_COMPLETED)
            for fut in done:
                res = fut.result()
                results.append(res)
                done_count += 1
                summary.calls_by_unit[(res.account, res.region, res.kind)] = res.calls
                if res.observation is not None:
                    summary.units_ok += 1
                    obs = res.observation
                    pending_items.append(
                        UsageItem(res.kind, res.account, res.region, hour, obs.usage, obs.attrs)
                    )
                else:
                    assert res.failure is not None
                    summary.failures.append(res.failure)
                if progress is not None:
                    progress(done_count, len(work), res)
            flush()

    account_ids = [a.id for a in account_list]
    for kind in chosen:
        for region in regions_of[kind]:
            unit_results = [r for r in results if r.kind == kind and r.region == region]
            total = org_totals(kind, region, hour, settings.org_name, unit_results, account_ids)
            if total is not None:
                pending_items.append(total)
    flush(force=True)
    summary.maps_written = maps.flush(store)
    summary.failures.sort(key=lambda f: (f.account, f.region, f.kind))
    summary.api_calls = counter.total
    summary.api_attempts = counter.attempts
    summary.assume_role_calls = sessions.assume_role_calls
    summary.calls_by_operation = dict(counter.by_operation)
    return summary
