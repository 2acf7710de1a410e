"""`awscost dashboard export`: the dashboard's pages as static HTML, one set per audience (never one set for
everyone: each set holds only what its audience may see), for a team without a server. Each set is a folder,
`<out>/<audience>/<page>.html` with the stylesheet beside it, written whole (a temporary folder renamed into
place) or uploaded to `s3://bucket/prefix/<audience>/` (private; SSE as the bucket's default). The pages are
reports/dashboard/render.py's static set, the same the report job publishes.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from awscost.entrypoints.web.app import Dashboard, scope_accounts
from awscost.reports.dashboard.render import static_set
from awscost.reports.deliver.dashboard import content_type
from awscost.views.reports import Ask


def pages_of(dash: Dashboard, audience: str | None, period: str) -> dict[str, bytes]:
    """file name -> content of one audience's set."""
    from awscost.reports.dashboard.live import live_view
    from awscost.store import open_store, store_exists

    ask = Ask(audience=audience, period=period, today=dash.today)
    report = dash.reports.get(ask)
    live = None
    if store_exists(dash.settings.store):
        with open_store(dash.settings.store) as store:
            live = live_view(store, accounts=scope_accounts(report, ask))
    return static_set(dash.environment(), report, live, audience=audience or "organization", period=period)


def write_set(files: dict[str, bytes], folder: Path) -> Path:
    """Replace `folder` with the files, whole: they are written beside it, then renamed into place."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{folder.name}.work-", dir=folder.parent))
    for name, data in files.items():
        (work / name).write_bytes(data)
    old = folder.with_name(f".{folder.name}.old")
    if folder.exists():
        if old.exists():
            shutil.rmtree(old)
        folder.rename(old)
    work.rename(folder)
    if old.exists():
        shutil.rmtree(old)
    return folder


def upload_set(s3: Any, files: dict[str, bytes], bucket: str, prefix: str) -> list[str]:
    """Put each file under s3://bucket/prefix (no public ACL: the bucket's own policy and encryption)."""
    keys = []
    for name, data in files.items():
        key = f"{prefix.rstrip('/')}/{name}" if prefix.strip("/") else name
        s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type(name))
        keys.append(f"s3://{bucket}/{key}")
    return keys


__all__ = ["pages_of", "upload_set", "write_set"]
