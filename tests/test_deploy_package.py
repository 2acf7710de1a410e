"""`awscost deploy package`: the collector zip (the package alone, deterministic, stamped) runs the Lambda
handler with boto3 and the standard library only; the `version` job answers the stamp; the analytics image's
context pins every module its jobs need."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import pytest
from click.testing import CliRunner

from awscost.deploy.package import COLLECTOR_ZIP, ZIP_TIME, build, source_root
from awscost.jobs import JOBS

ROOT = Path(__file__).resolve().parents[1]
WHEN = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
ANALYTICS_ONLY = ("duckdb", "pyarrow", "numpy", "pandas", "xlsxwriter", "matplotlib", "jinja2", "polars")


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    build(out, now=WHEN)
    return out


def test_the_collector_zip_is_the_package_and_bolt_with_its_stamp(dist: Path) -> None:
    assert source_root() == ROOT
    with zipfile.ZipFile(dist / COLLECTOR_ZIP) as zf:
        infos = zf.infolist()
        stamp = json.loads(zf.read("awscost/build-stamp.json"))
    names = [i.filename for i in infos]
    # the package, and slack-bolt with slack-sdk (and their licences) for the Slack function
    tops = {n.split("/")[0] for n in names}
    assert names == sorted(names)
    assert {t for t in tops if not t.endswith(".dist-info")} == {
        "awscost",
        "slack_bolt",
        "slack_sdk",
        "slack",
    }
    for name in ("slack_bolt", "slack_sdk"):
        version = metadata.version(name)
        assert f"{name}-{version}.dist-info/METADATA" in names
        assert any(n.startswith(f"{name}-{version}.dist-info/") and "LICENSE" in n.upper() for n in names)
    assert "awscost/entrypoints/lambda_handler.py" in names and "awscost/jobs/version.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or "prices-snapshot" in n]
    assert {i.date_time for i in infos} == {ZIP_TIME} and {i.external_attr >> 16 for i in infos} == {0o644}
    assert stamp == {
        "version": _git("describe", "--tags", "--always", "--dirty"),
        "built_at": "2026-12-01T09:30:00Z",
        "commit": _git("rev-parse", "HEAD"),
    }
    assert json.loads((dist / "build-stamp.json").read_text()) == stamp
    assert json.loads((dist / "analytics" / "awscost" / "build-stamp.json").read_text()) == stamp
    # The image holds the whole package (ri_plan reads the price snapshot there) and its build context.
    assert (dist / "analytics" / "awscost" / "planning" / "pricing" / "prices-snapshot.json.gz").is_file()
    assert {p.name for p in (dist / "analytics").iterdir()} == {"Dockerfile", "requirements.lock", "awscost"}
    assert sorted(p.name for p in (dist / "templates").iterdir()) == sorted(
        p.name for p in (ROOT / "infra").glob("*.yaml")
    )


def test_two_builds_at_one_time_are_the_same_bytes(dist: Path, tmp_path: Path) -> None:
    again = build(tmp_path / "again", now=WHEN)
    assert again.collector.read_bytes() == (dist / COLLECTOR_ZIP).read_bytes()
    later = build(tmp_path / "later", now=datetime(2026, 12, 2, tzinfo=UTC))
    assert later.collector.read_bytes() != again.collector.read_bytes()  # the stamp's time, nothing else
    with zipfile.ZipFile(later.collector) as a, zipfile.ZipFile(again.collector) as b:
        differ = [n for n in a.namelist() if a.read(n) != b.read(n)]
    assert differ == ["awscost/build-stamp.json"]


def test_the_zip_runs_the_version_job_through_the_handler_with_boto3_alone(
    dist: Path, tmp_path: Path
) -> None:
    task = tmp_path / "task"  # like /var/task: the zip unpacked, nothing else of awscost on the path
    zipfile.ZipFile(dist / COLLECTOR_ZIP).extractall(task)
    code = (
        "import json, sys\n"
        "from awscost.entrypoints.lambda_handler import handler\n"
        "import awscost.jobs.collect\n"
        "result = handler({'job': 'version'})\n"
        "import awscost\n"
        "print(json.dumps({'result': result, 'file': awscost.__file__,\n"
        f"    'analytics': sorted(m for m in sys.modules if m.split('.')[0] in {ANALYTICS_ONLY!r})}}))\n"
    )
    env = {
        "PYTHONPATH": str(task),
        "AWSCOST_STORE": f"sqlite:///{tmp_path / 'awscost.db'}",
        "AWSCOST_METRICS": "0",  # no CloudWatch here: the metrics the handler publishes after every run
        "PATH": "/usr/bin",
    }
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["file"] == str(task / "awscost" / "__init__.py")
    assert out["analytics"] == []
    stamp = json.loads((dist / "build-stamp.json").read_text())
    assert out["result"] == {**stamp, "packaged": True}


def test_the_zip_starts_the_slack_function_with_bolt_from_the_zip_and_nothing_heavy(
    dist: Path, tmp_path: Path
) -> None:
    task = tmp_path / "task"
    zipfile.ZipFile(dist / COLLECTOR_ZIP).extractall(task)
    code = (
        "import json, sys, time\n"
        "t = time.perf_counter()\n"
        "import awscost.entrypoints.slack.lambda_function\n"
        "import slack_bolt, slack_sdk\n"
        "seconds = time.perf_counter() - t\n"
        "print(json.dumps({'bolt': slack_bolt.__file__, 'sdk': slack_sdk.__file__, 'seconds': seconds,\n"
        f"    'analytics': sorted(m for m in sys.modules if m.split('.')[0] in {ANALYTICS_ONLY!r})}}))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={"PYTHONPATH": str(task), "PATH": "/usr/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout.strip().splitlines()[-1])
    # bolt from the zip (PYTHONPATH first, as /var/task is on Lambda), not from the test's environment
    assert out["bolt"].startswith(str(task)) and out["sdk"].startswith(str(task))
    assert out["analytics"] == []


def test_unpackaged_the_version_job_says_so() -> None:
    from awscost.core.config import Settings
    from awscost.jobs import Context, run_job
    from awscost.jobs.version import Params

    job = JOBS.get("version")
    assert job.extra is None and job.schedule == "none"
    result = run_job("version", Context(Settings()), Params()).to_json()
    assert result == {
        "version": f"{metadata.version('awscost')}+unpackaged",
        "built_at": None,
        "commit": None,
        "packaged": False,
    }


def test_a_broken_stamp_is_one_error_naming_the_file(tmp_path: Path) -> None:
    from awscost.core.errors import ConfigError
    from awscost.jobs.version import read_stamp

    path = tmp_path / "build-stamp.json"
    path.write_text('{"version": "v1"}')
    with pytest.raises(ConfigError, match=r"build-stamp.json: a build stamp holds the strings version"):
        read_stamp(path)


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "infra" / "analytics" / "requirements.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep and re.fullmatch(r"[0-9][0-9A-Za-z.]*", version), line
            pins[name.lower()] = version
    return pins


def test_the_lock_pins_every_module_the_analytics_jobs_import_at_the_tested_versions() -> None:
    pins = _lock()
    distributions = metadata.packages_distributions()
    needed = {m for job in (JOBS.get(n) for n in JOBS) if job.extra is not None for m in job.needs}
    assert needed >= {"duckdb", "pyarrow", "numpy", "xlsxwriter", "matplotlib", "jinja2"}
    for module in needed:
        (dist,) = {d.lower() for d in distributions[module]}
        assert dist in pins, module
    # Each pin is what this suite runs with (and so what the image runs), their dependencies included.
    for name, version in pins.items():
        assert metadata.version(name) == version, name
        for requirement in metadata.requires(name) or []:
            if "extra ==" not in requirement and "python_version" not in requirement:
                dependency = re.match(r"[A-Za-z0-9_.\-]+", requirement)
                assert dependency and dependency.group(0).lower().replace("_", "-") in pins, requirement


def test_the_dockerfile_builds_on_the_lambda_python_the_stack_runs() -> None:
    dockerfile = (ROOT / "infra" / "analytics" / "Dockerfile").read_text()
    assert "not built here: this machine has no Docker engine" in dockerfile.replace("Not built", "not built")
    assert "FROM public.ecr.aws/lambda/python:3.12" in dockerfile
    assert re.search(r"Runtime: python3\.12", (ROOT / "infra" / "awscost.yaml").read_text())


def test_deploy_package_command_prints_what_it_built(tmp_path: Path) -> None:
    from awscost.entrypoints.cli import cli

    run = CliRunner().invoke(cli, ["deploy", "package", "--out", str(tmp_path / "dist")])
    assert run.exit_code == 0, run.output
    lines = run.output.splitlines()
    assert lines[0].startswith(f"version:    {_git('describe', '--tags', '--always', '--dirty')} (")
    assert re.fullmatch(
        r"collector:  .*awscost-collector\.zip \([\d,]+ bytes, [\d,]+ unzipped, \d+ files\)", lines[1]
    )
    assert (tmp_path / "dist" / COLLECTOR_ZIP).is_file()


def test_a_folder_that_is_no_clone_is_one_error_naming_it(tmp_path: Path) -> None:
    from awscost.core.errors import ConfigError

    with pytest.raises(ConfigError, match=rf"{tmp_path}: no awscost package under src/awscost"):
        build(tmp_path / "dist", root=tmp_path)
    assert not (tmp_path / "dist").exists()  # nothing written
