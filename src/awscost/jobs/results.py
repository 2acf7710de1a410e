"""A job's latest result, saved in the store's map table and read back, so that a dashboard or a Slack answer
shows the last plan or report without recomputing it (S3 joins as a place to keep them with the reports).

One map item per job, `job-result:<job>`: when it finished, the params it ran with, and the result's JSON.
A result larger than a DynamoDB item holds comfortably is kept gzip-compressed (base64) in the same item.
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
