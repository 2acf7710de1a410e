"""`awscost dashboard export`: the dashboard's pages as static HTML, one set per audience (never one set for
everyone: each set holds only what its audience may see), for a team without a server. Each set is a folder,
`<out>/<audience>/<page>.html` with the stylesheet beside it, written whole (a temporary folder renamed into
place) or uploaded to `s3://bucket/prefix/<audience>/` (private; SSE as the bucket's default).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from awscost.entrypoints.web.app import HERE, Dashboard, Viewer, render_page
from awscost.entrypoints.web.pages import PAGES
from awscost.views.reports import Ask


def pages_of(dash: Dashboard, audience: str | None, period: str) -> dict[str, bytes]:
    """file name -> content of one audience's set."""
    ask = Ask(audience=audience, period=period, today=dash.today)
    viewer = Viewer(audience, False)
    files = {
        f"{name}.html": render_page(dash, PAGES.get(name), ask, {}, viewer, static=True).encode("utf-8")
        for name in PAGES.names()
    }
    files["dashboard.css"] = (HERE / "static" / "dashboard.css").read_bytes()
    return files


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
        content_type = "text/css" if name.endswith(".css") else "text/html; charset=utf-8"
        s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type)
        keys.append(f"s3://{bucket}/{key}")
    return keys


__all__ = ["pages_of", "upload_set", "write_set"]
