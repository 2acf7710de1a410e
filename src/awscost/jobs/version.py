"""Job `version`: what is deployed, from the build stamp `awscost deploy package` writes into the package
(`awscost/build-stamp.json`: `git describe --tags --always --dirty`, the UTC build time, the commit), so a
function answers which build it runs; outside a package, the installed version marked "unpackaged".

Standard library only; runs in the collector zip and the analytics image alike (both carry the same stamp).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from awscost.core.errors import ConfigError
from awscost.jobs.base import Context, Job

# Beside awscost/__init__.py in the collector zip and in the analytics image; absent from a source checkout
# and a wheel (nothing but `deploy package` writes it).
STAMP_NAME = "build-stamp.json"
STAMP_FIELDS = ("version", "built_at", "commit")


def stamp_path() -> Path:
    import awscost

    return Path(awscost.__file__).resolve().parent / STAMP_NAME


@dataclass(frozen=True)
class Params:
    pass


@dataclass(frozen=True)
class Result:
    version: str  # git describe of the build, or the installed version + "+unpackaged"
    built_at: str | None  # UTC, ISO 8601 (None unpackaged)
    commit: str | None  # the full commit id (None unpackaged)
    packaged: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "built_at": self.built_at,
            "commit": self.commit,
            "packaged": self.packaged,
        }


def read_stamp(path: Path) -> Result:
    """The stamp at `path`; a stamp that is not the JSON object `deploy package` writes is a ConfigError
    naming the file (a broken package, never a silent "unknown")."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"unreadable build stamp: {exc}", where=str(path)) from None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in STAMP_FIELDS):
        raise ConfigError(f"a build stamp holds the strings {', '.join(STAMP_FIELDS)}", where=str(path))
    return Result(data["version"], data["built_at"], data["commit"], packaged=True)


def run(ctx: Context, params: Params) -> Result:
    path = stamp_path()
    if path.exists():
        return read_stamp(path)
    from importlib import metadata

    import awscost

    try:
        installed = metadata.version("awscost")
    except metadata.PackageNotFoundError:  # the package's files alone (sys.path), no metadata
        installed = awscost.__version__
    return Result(f"{installed}+unpackaged", None, None, packaged=False)


JOB: Job[Params, Result] = Job(
    name="version",
    params=Params,
    run=run,
    description="Say which build runs: the version, build time and commit stamped by `awscost deploy package`.",
)
