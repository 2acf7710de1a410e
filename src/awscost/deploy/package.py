"""`awscost deploy package`: the deployment's artifacts, built from a clone into one folder (`dist/`), all
carrying one build stamp.

    dist/
      build-stamp.json          version (`git describe --tags --always --dirty`), UTC build time, commit
      awscost-collector.zip     the awscost package, for the jobs whose extra is None (boto3, which the
                                Lambda runtime provides, and the standard library): no __pycache__, no price
                                snapshot (3 MB the collector never reads), the stamp inside; and slack-bolt
                                with its slack-sdk (2.5 MB, pure Python), for the Slack function, which runs
                                from this zip so that its cold start is a small zip's, not the image's
      analytics/                the analytics image's build context: infra/analytics/Dockerfile and
                                requirements.lock, and the whole awscost package with the stamp (every job
                                whose extra is billing, reports or analyze runs from that image)
      templates/                infra/*.yaml as built (the stack, the member role, the pipeline)

The zip is deterministic: entries sorted, each with the same fixed time and mode, so two builds of one commit
differ only by the stamp's build time (and not at all with SOURCE_DATE_EPOCH set, as reproducible builds
do). Why an image and not a layer for the analytics jobs: docs/deployment.md (their libraries are ~370 MB
installed; a zip and its layers may hold 250 MB unzipped).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from awscost.core.errors import ConfigError
from awscost.jobs.version import STAMP_NAME

COLLECTOR_ZIP = "awscost-collector.zip"
ANALYTICS = "analytics"
TEMPLATES = "templates"
# Paths inside the awscost package the collector's zip leaves out: data nothing on its path reads.
COLLECTOR_LEAVES_OUT = frozenset({"planning/pricing/prices-snapshot.json.gz"})
# The distributions the Slack function needs beside boto3, copied into the zip as installed where it is built
# (the `slack` extra's range; their licence files come with their .dist-info).
SLACK_DISTRIBUTIONS = ("slack_bolt", "slack_sdk")
ANALYTICS_FILES = ("Dockerfile", "requirements.lock")
# Every entry's time: the earliest a zip can hold, so a rebuild of the same files is the same bytes.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
ZIP_MODE = 0o644 << 16


@dataclass(frozen=True)
class BuildStamp:
    version: str  # git describe --tags --always --dirty
    built_at: str  # UTC, ISO 8601, seconds
    commit: str  # the full commit id

    def to_json(self) -> dict[str, str]:
        return {"version": self.version, "built_at": self.built_at, "commit": self.commit}

    @classmethod
    def read(cls, path: Path) -> BuildStamp:
        from awscost.jobs.version import read_stamp

        found = read_stamp(path)
        assert found.built_at is not None and found.commit is not None  # read_stamp checked them
        return cls(found.version, found.built_at, found.commit)


@dataclass(frozen=True)
class Package:
    out: Path
    stamp: BuildStamp
    collector: Path
    collector_bytes: int  # the zip's size
    collector_unzipped: int  # what Lambda's 250 MB limit counts
    collector_files: int
    analytics: Path
    templates: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "stamp": self.stamp.to_json(),
            "collector": str(self.collector),
            "collector_bytes": self.collector_bytes,
            "collector_unzipped_bytes": self.collector_unzipped,
            "collector_files": self.collector_files,
            "analytics": str(self.analytics),
            "templates": list(self.templates),
        }


def source_root() -> Path:
    """The clone the running awscost comes from (an editable install's src/ layout): where infra/ is."""
    import awscost

    root = Path(awscost.__file__).resolve().parents[2]
    if not (root / "infra" / ANALYTICS / "Dockerfile").is_file():
        raise ConfigError(
            "awscost is not installed from a clone (no infra/analytics/Dockerfile beside src/)",
            where=str(root),
            hint="run `awscost deploy package` from a clone installed with `pip install -e .`, or pass --source",
        )
    return root


def _git(root: Path, *args: str) -> str:
    try:
        run = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise ConfigError(f"git cannot run: {exc}", where=str(root)) from None
    if run.returncode != 0:
        raise ConfigError(
            f"git {' '.join(args)} failed: {run.stderr.strip() or run.returncode}",
            where=str(root),
            hint="the version stamp is git's: build from a clone",
        )
    return run.stdout.strip()


def build_time(now: datetime | None = None) -> datetime:
    """`now`, else SOURCE_DATE_EPOCH when set (a reproducible build's clock), else the wall clock; UTC."""
    if now is not None:
        return now.astimezone(UTC)
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        if not epoch.isdigit():
            raise ConfigError(f"SOURCE_DATE_EPOCH {epoch!r} is not whole seconds", where="environment")
        return datetime.fromtimestamp(int(epoch), UTC)
    return datetime.now(UTC)


def build_stamp(root: Path, now: datetime | None = None) -> BuildStamp:
    when = build_time(now).replace(microsecond=0)
    return BuildStamp(
        version=_git(root, "describe", "--tags", "--always", "--dirty"),
        built_at=when.isoformat().replace("+00:00", "Z"),
        commit=_git(root, "rev-parse", "HEAD"),
    )


def package_files(package: Path, leave_out: Iterable[str] = ()) -> list[tuple[str, Path]]:
    """(path inside the package, file) of every file of the package, sorted, without bytecode caches, a
    stamp of an earlier build, or `leave_out`."""
    left_out = {*leave_out, STAMP_NAME}
    files = []
    for path in package.rglob("*"):
        relative = path.relative_to(package).as_posix()
        if path.is_dir() or "__pycache__" in path.parts or path.suffix == ".pyc" or relative in left_out:
            continue
        files.append((relative, path))
    return sorted(files)


def write_zip(target: Path | BinaryIO, entries: Iterable[tuple[str, bytes]]) -> tuple[int, int]:
    """A deterministic zip of `entries` (name, bytes), in the order given, into a file or a buffer; (files,
    unzipped bytes)."""
    count = total = 0
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = ZIP_MODE
            info.create_system = 3  # unix, whatever builds it: the mode bits above are read as such
            zf.writestr(info, data)
            count += 1
            total += len(data)
    return count, total


def distribution_files(names: Iterable[str]) -> list[tuple[str, bytes]]:
    """The files of installed distributions (their packages and .dist-info, no bytecode), as (path in the
    zip, bytes); a distribution not installed is one error saying how to install it."""
    from importlib import metadata

    out: list[tuple[str, bytes]] = []
    for name in names:
        try:
            files = metadata.distribution(name).files or []
        except metadata.PackageNotFoundError:
            raise ConfigError(
                f"the collector zip carries {name} for the Slack function, and it is not installed",
                where="deploy package",
                hint="pip install 'awscost[slack]'",
            ) from None
        for file in files:
            rel = str(file)
            if rel.startswith("..") or "__pycache__" in rel or rel.endswith(".pyc"):
                continue  # scripts outside site-packages, and bytecode Lambda would not trust anyway
            out.append((rel, Path(str(file.locate())).read_bytes()))
    return out


def stamp_bytes(stamp: BuildStamp) -> bytes:
    return (json.dumps(stamp.to_json(), indent=2, sort_keys=True) + "\n").encode()


def build(out: Path, *, root: Path | None = None, now: datetime | None = None) -> Package:
    """Build the artifacts of the clone `root` (default: the running awscost's) into `out`, replacing what an
    earlier build left there (and nothing else of `out`)."""
    root = root or source_root()
    package = root / "src" / "awscost"
    infra = root / "infra"
    if not (package / "__init__.py").is_file():
        raise ConfigError("no awscost package under src/awscost", where=str(root), hint="--source is a clone")
    for name in ANALYTICS_FILES:
        if not (infra / ANALYTICS / name).is_file():
            raise ConfigError(f"the analytics image needs {name}", where=str(infra / ANALYTICS))
    stamp = build_stamp(root, now)
    out.mkdir(parents=True, exist_ok=True)
    (out / STAMP_NAME).write_bytes(stamp_bytes(stamp))

    collector = out / COLLECTOR_ZIP
    prefix = "awscost/"
    entries = [(prefix + rel, p.read_bytes()) for rel, p in package_files(package, COLLECTOR_LEAVES_OUT)]
    entries.append((prefix + STAMP_NAME, stamp_bytes(stamp)))
    entries += distribution_files(SLACK_DISTRIBUTIONS)
    files, unzipped = write_zip(collector, sorted(entries))

    analytics = out / ANALYTICS
    shutil.rmtree(analytics, ignore_errors=True)
    (analytics / "awscost").mkdir(parents=True)
    for name in ANALYTICS_FILES:
        shutil.copyfile(infra / ANALYTICS / name, analytics / name)
    for rel, path in package_files(package):  # the whole package: the price snapshot serves ri_plan there
        target = analytics / "awscost" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    (analytics / "awscost" / STAMP_NAME).write_bytes(stamp_bytes(stamp))

    templates = out / TEMPLATES
    shutil.rmtree(templates, ignore_errors=True)
    templates.mkdir()
    names = []
    for template in sorted(infra.glob("*.yaml")):
        shutil.copyfile(template, templates / template.name)
        names.append(template.name)
    return Package(
        out=out,
        stamp=stamp,
        collector=collector,
        collector_bytes=collector.stat().st_size,
        collector_unzipped=unzipped,
        collector_files=files,
        analytics=analytics,
        templates=tuple(names),
    )
