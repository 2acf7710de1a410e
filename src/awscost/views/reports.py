"""The cost report of a viewer, as the front ends show it: the `report` job's model for one audience, period
and (optionally) some of its accounts, built without rendering a file, and kept until the data under it
changes, so a page view or a Slack question does not rescan the bill.

A viewer is an audience of `[[report.audience]]` (or the organization: every account). A filter narrows it
(the report job refuses an account outside the audience), never widens it; the front end maps its user (a
dashboard token, a Slack user) to the audience before anything is asked.

The data's version is what a cached report is keyed by: the billing dataset's marker (a local dataset's
marker file's mtime and size; an S3 dataset's manifest ETag) and the store's anomaly log and saved results
are read each time a report is asked for, cheaply; a report older than `max_age` seconds is built again in
any case (the usage store has no version marker of its own).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from awscost.core.config import Settings
from awscost.core.errors import ConfigError, InputError
from awscost.jobs import Context, run_job

PERIODS = ("month-to-date", "last-month", "last-week")
MAX_CACHED = 64  # reports kept (audience x period x accounts); the oldest goes first


def default_dataset(settings: Settings) -> str | None:
    """`[billing] dataset`: the billing dataset the front ends read when none is given."""
    value = settings.section("billing").get("dataset")
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ConfigError(
            "must be a folder or s3://bucket/prefix/", where=f"{settings.config_path}: billing.dataset"
        )
    return value


@dataclass(frozen=True)
class Ask:
    """One report a front end wants: whose (audience None: the organization), which period, which accounts
    and regions (a narrowing only: the report job refuses an account outside the audience)."""

    audience: str | None = None
    period: str = "month-to-date"
    accounts: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    tag_key: str | None = None  # the Tags section's tag instead of [report] tag_key
    today: date | None = None

    def __post_init__(self) -> None:
        from awscost.reports.periods import resolve

        # The period is checked here, once, so a bad URL or Slack argument is a clear error before any scan.
        resolve(self.period, today=self.today or date.today(), where="period")


def dataset_version(dataset: str, settings: Settings) -> str:
    """A cheap marker of the dataset's content that changes whenever a load swaps it: an S3 dataset's
    manifest ETag (one GetObject of a small file), a local dataset's marker file's mtime and size."""
    from awscost.billing.s3 import S3Location, S3Options, client, is_s3

    if is_s3(dataset):
        from awscost.billing.s3_dataset import read_manifest

        _manifest, etag = read_manifest(
            client(S3Options.from_settings(settings)), S3Location.parse(dataset, folder=True)
        )
        return str(etag)
    from awscost.billing.sources import DATASET_MARKER

    marker = Path(dataset) / DATASET_MARKER
    if not marker.exists():
        raise InputError(
            "not an awscost billing dataset", where=dataset, hint="awscost billing load ... --into DIR"
        )
    stat = marker.stat()
    return f"{stat.st_mtime_ns}:{stat.st_size}"


@dataclass
class _Entry:
    report: Any
    version: str
    built: float


@dataclass
class Reports:
    """The reports of a front end's viewers, built through the report job and cached by data version."""

    settings: Settings
    dataset: str
    max_age: float = 300.0
    clock: Callable[[], float] = time.monotonic
    # The data version is read at most once a second: a page view then costs no store scan, and a change
    # shows in the next view after a second (a dataset load or a scan takes far longer than that).
    version_ttl: float = 1.0
    _version: tuple[float, str] | None = None
    _cache: OrderedDict[Ask, _Entry] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _building: dict[Ask, threading.Lock] = field(default_factory=dict)
    builds: int = 0  # how many reports were built (the cache's misses): what a test and a benchmark count

    def version(self) -> str:
        held = self._version
        if held is not None and self.clock() - held[0] < self.version_ttl:
            return held[1]
        at = self.clock()
        found = self._read_version()
        self._version = (at, found)
        return found

    def _read_version(self) -> str:
        from awscost.anomalies.events import PREFIX
        from awscost.store import open_store, store_exists

        parts = [dataset_version(self.dataset, self.settings)]
        if store_exists(self.settings.store):
            with open_store(self.settings.store) as store:
                # The anomaly log and the saved results the sections show: their last write times.
                seen = [str(i.get("last_seen", "")) for _, i in store.scan_map(PREFIX)]
                finished = [str(i.get("finished_at", "")) for _, i in store.scan_map("job-result:")]
                parts.append(max(seen, default=""))
                parts.append(max(finished, default=""))
        return "|".join(parts)

    def _fresh(self, ask: Ask, version: str) -> Any:
        with self._lock:
            entry = self._cache.get(ask)
            if entry is not None and entry.version == version and self.clock() - entry.built < self.max_age:
                self._cache.move_to_end(ask)
                return entry.report
        return None

    def get(self, ask: Ask) -> Any:
        """The report model (reports.model.Report) of `ask`; a report job error is raised as it is. Many
        viewers asking for the same report at once wait for one build (its own lock), not one build each."""
        version = self.version()
        report = self._fresh(ask, version)
        if report is not None:
            return report
        with self._lock:
            building = self._building.setdefault(ask, threading.Lock())
        with building:
            report = self._fresh(ask, version)  # built by another viewer while this one waited
            if report is not None:
                return report
            report = self._build(ask)
            with self._lock:
                self._cache[ask] = _Entry(report, version, self.clock())
                self._cache.move_to_end(ask)
                while len(self._cache) > MAX_CACHED:
                    evicted, _ = self._cache.popitem(last=False)
                    self._building.pop(evicted, None)
                self.builds += 1
        return report

    def _build(self, ask: Ask) -> Any:
        from awscost.jobs.report import Params

        params = Params(
            audience=ask.audience,
            period=ask.period,
            dataset=self.dataset,
            accounts=ask.accounts,
            regions=ask.regions,
            tag_key=ask.tag_key,
            today=ask.today,
            render=False,
        )
        result = run_job("report", Context(self.settings), params)
        (one,) = result.reports
        if one.error:
            raise InputError(one.error, where=f"report of {one.audience} {one.period}")
        return one.report


def narrowed(ask: Ask, **filters: Any) -> Ask:
    """`ask` with more filters: a front end's URL or command narrowing the viewer's report."""
    return replace(ask, **{k: v for k, v in filters.items() if v})


__all__ = ["PERIODS", "Ask", "Reports", "dataset_version", "default_dataset", "narrowed"]
