"""A job's latest result, saved in the store's map table and read back, so that a dashboard or a Slack answer
shows the last plan or report without recomputing it (S3 joins as a place to keep them with the reports).

One map item per job, `job-result:<job>`: when it finished, the params it ran with, and the result's JSON.
A result larger than a DynamoDB item holds comfortably is kept gzip-compressed (base64) in the same item.
A run whose result says it failed (`failure_of`: failed units, failed reports, an error) overwrites that item
too, so the last success is kept apart, in `job-success:<job>` (when it finished): `awscost health` and the
health job's SecondsSinceLastSuccess read it.
"""

from __future__ import annotations

import base64
import gzip
import json
from dataclasses import asdict, dataclass, is_dataclass
from datetime import datetime
from typing import Any

from awscost.core.errors import StoreError
from awscost.core.output import dumps
from awscost.core.timeutil import parse_time

PREFIX = "job-result:"
SUCCESS_PREFIX = "job-success:"
COMPRESS_OVER = 64 * 1024  # bytes of JSON
MAX_STORED = 350 * 1024  # a DynamoDB item is at most 400 KB, attribute names and the rest included


@dataclass(frozen=True)
class SavedResult:
    job: str
    finished_at: datetime
    params: dict[str, Any]
    result: dict[str, Any]


def _plain(params: Any) -> dict[str, Any]:
    raw = asdict(params) if is_dataclass(params) and not isinstance(params, type) else dict(params or {})
    loaded: dict[str, Any] = json.loads(dumps(raw))
    return loaded


def save_result(store: Any, job: str, params: Any, result: dict[str, Any], finished_at: datetime) -> None:
    text = dumps(result)
    attrs: dict[str, Any] = {"job": job, "finished_at": finished_at.isoformat(), "params": _plain(params)}
    if len(text) > COMPRESS_OVER:
        packed = base64.b64encode(gzip.compress(text.encode("utf-8"), mtime=0)).decode("ascii")
        if len(packed) > MAX_STORED:
            raise StoreError(
                f"the {job} result is {len(packed) // 1024} KB compressed, more than a store item holds",
                where=f"{PREFIX}{job}",
                hint="narrow the job (fewer kinds or accounts); results in S3 come with the reports",
            )
        attrs["result_gzip"] = packed
    else:
        attrs["result_json"] = text
    store.put_map(f"{PREFIX}{job}", attrs)
    if failure_of(result) is None:
        store.put_map(f"{SUCCESS_PREFIX}{job}", {"job": job, "finished_at": finished_at.isoformat()})


def save_failure(store: Any, job: str, params: Any, error: str, finished_at: datetime) -> None:
    """Save a run that raised (its error's one line) as the job's latest result; its last success stays."""
    save_result(store, job, params, {"error": error}, finished_at)


def failure_of(result: dict[str, Any]) -> str | None:
    """Why a saved result is not a success, or None when it is one. A result says it failed with an `error`
    (a run that raised, saved by `save_failure`), failed units (`failures`: collect, report), a count
    `failed` > 0 (report) or a list `failed` (pricing_refresh: queries that fell back to the snapshot)."""
    if result.get("error"):
        return str(result["error"])
    failures = result.get("failures")
    if isinstance(failures, list) and failures:
        return f"{len(failures)} failed unit(s)"
    failed = result.get("failed")
    if isinstance(failed, list) and failed:
        return f"{len(failed)} failed: {', '.join(map(str, failed[:3]))}"
    if isinstance(failed, int) and not isinstance(failed, bool) and failed > 0:
        return f"{failed} failed"
    return None


def last_success(store: Any, job: str) -> datetime | None:
    """When `job` last finished with a result that is a success, or None when it never did (as far as the
    store knows: a result saved before successes were kept apart counts when it is one)."""
    attrs = store.get_map(f"{SUCCESS_PREFIX}{job}")
    if attrs and attrs.get("finished_at"):
        return parse_time(str(attrs["finished_at"]), where=f"{SUCCESS_PREFIX}{job}.finished_at")
    latest = latest_result(store, job)
    if latest is not None and failure_of(latest.result) is None:
        return latest.finished_at
    return None


def latest_result(store: Any, job: str) -> SavedResult | None:
    """The last saved result of `job`, or None when it never ran against this store."""
    attrs = store.get_map(f"{PREFIX}{job}")
    if not attrs:
        return None
    if "result_gzip" in attrs:
        text = gzip.decompress(base64.b64decode(str(attrs["result_gzip"]))).decode("utf-8")
    else:
        text = str(attrs.get("result_json") or "{}")
    return SavedResult(
        job=str(attrs.get("job", job)),
        finished_at=parse_time(str(attrs["finished_at"]), where=f"{PREFIX}{job}.finished_at"),
        params=dict(attrs.get("params") or {}),
        result=json.loads(text),
    )
