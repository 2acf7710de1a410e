"""Values the review found crashing or silently accepted (issue 11 item 11): collect's --regions and --at, extreme
times, `usage import` of negative counts, unknown kinds and 100k-deep JSON, and the Lambda event's regions.
Each is exit 2 with one line naming the option, file and line or event key; nothing is written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import awscost as awscost_package
from awscost.core.errors import InputError
from awscost.core.timeutil import parse_hour, parse_time
from awscost.jobs import JOBS

GOOD = {
    "awsResource": "ec2:111122223333:us-east-1",
    "time": "2026-11-02T00:00:00Z",
    "usage": {"m5.large:a": 2},
}
EXTREME = ["0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00"]


def awscost(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The real entry point in a clean directory, with no AWS reachable: a bad value must stop it first."""
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    env |= {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_MAX_ATTEMPTS": "1"}
    env |= {"PYTHONPATH": str(Path(awscost_package.__file__).resolve().parents[1])}  # the sources under test
    return subprocess.run(
        [sys.executable, "-m", "awscost", *args],
        capture_output=True,
        text=True,
        input=stdin,
        cwd=tmp_path,
        env=env,
        check=False,
        timeout=60,
    )


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("awscost: error: "), proc.stderr
    return lines[0].removeprefix("awscost: error: ")


@pytest.mark.parametrize("text", EXTREME)
def test_extreme_times_are_input_errors_not_overflow(text: str) -> None:
    with pytest.raises(InputError, match="outside the years 1 to 9999"):
        parse_hour(text, where="--at")
    assert parse_time("9999-12-31T23:30:00Z").year == 9999  # the edges themselves are times


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--regions", ","], "--regions: no regions given"),
        (["--at", "2099-01-01T00:00:00Z"], "--at: 2099-01-01T00:00:00Z is after the current hour"),
        (["--at", EXTREME[0]], f"--at: '{EXTREME[0]}' is outside the years 1 to 9999 in UTC"),
        (["--at", EXTREME[1]], f"--at: '{EXTREME[1]}' is outside the years 1 to 9999 in UTC"),
    ],
)
def test_collect_refuses_bad_values_before_any_call(tmp_path: Path, args: list[str], line: str) -> None:
    proc = awscost(tmp_path, "collect", "--kinds", "ec2", "--accounts", "111122223333", *args)
    assert one_line_error(proc).startswith(line)
    assert list(tmp_path.iterdir()) == []  # no store created


@pytest.mark.parametrize("option", ["--regions", "--services", "--types"])
def test_pricing_refresh_refuses_an_empty_list_rather_than_fetching_everything(
    tmp_path: Path, option: str
) -> None:
    proc = awscost(tmp_path, "pricing", "refresh", option, ",")
    assert one_line_error(proc).startswith(f"{option}: no {option[2:]} given")
    assert list(tmp_path.iterdir()) == []  # no store created, nothing fetched


def _jsonl(*records: Any) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)


def test_usage_import_refuses_an_hour_to_come(tmp_path: Path) -> None:
    future = {**GOOD, "time": "9999-12-31T23:00:00Z"}
    proc = awscost(tmp_path, "usage", "import", "-", "--store", "sqlite:///s.db", stdin=_jsonl(GOOD, future))
    assert one_line_error(proc).startswith("-:2: 9999-12-31T23:00:00Z is after the current hour 20")
    assert list(tmp_path.iterdir()) == []  # nothing written, no store created


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (_jsonl(GOOD, {**GOOD, "usage": {"a": -5}}), "in.jsonl:2: usage['a']: usage count -5 is negative"),
        (
            _jsonl(GOOD, {**GOOD, "awsResource": "bogus:111122223333:us-east-1"}),
            "in.jsonl:2: unknown kind 'bogus' in 'bogus:111122223333:us-east-1'",
        ),
        (_jsonl(GOOD, {**GOOD, "time": EXTREME[0]}), "in.jsonl:2: '0001-01-01T00:30:00+01:00' is outside"),
        (_jsonl(GOOD, "[" * 100_000 + "]" * 100_000), "in.jsonl:2: JSON nested too deeply"),
        (_jsonl(GOOD, '{"a":' * 100_000 + "1" + "}" * 100_000), "in.jsonl:2: JSON nested too deeply"),
        ("[" * 100_000 + "]" * 100_000, "in.jsonl: JSON nested too deeply"),
    ],
)
def test_usage_import_refuses_bad_records_and_writes_nothing(tmp_path: Path, text: str, line: str) -> None:
    (tmp_path / "in.jsonl").write_text(text)
    proc = awscost(tmp_path, "usage", "import", "in.jsonl", "--store", "sqlite:///a.db")
    assert one_line_error(proc).startswith(line)
    assert not (tmp_path / "a.db").exists()  # validated before the store is opened


def test_usage_import_of_good_records_still_imports(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_text(_jsonl(GOOD, {**GOOD, "usage": {"a": 0, "b": 1.5}}))
    proc = awscost(tmp_path, "usage", "import", "in.jsonl", "--store", "sqlite:///a.db")
    assert proc.returncode == 0 and "imported 1 items" in proc.stdout, proc.stderr


@pytest.mark.parametrize("body", ["[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000])
def test_run_event_nested_too_deeply_is_one_line(tmp_path: Path, body: str) -> None:
    proc = awscost(tmp_path, "run", "collect", "--event", "-", "--store", "sqlite:///a.db", stdin=body)
    assert one_line_error(proc) == "stdin: not JSON an event can be: nested too deeply"


def test_lambda_regions_as_one_string_is_one_region() -> None:
    collect = JOBS.get("collect")
    assert collect.parse({"regions": "us-east-1"}).regions == ("us-east-1",)
    assert collect.parse({"regions": "us-east-1, eu-west-1"}).regions == ("us-east-1", "eu-west-1")
    assert collect.parse({"regions": ["us-east-1"]}).regions == ("us-east-1",)


@pytest.mark.parametrize(
    ("event", "line"),
    [
        ({"regions": ","}, "regions: no regions given"),
        ({"regions": []}, "regions: no regions given"),
        ({"at": "2099-01-01T00:00:00Z"}, "at: 2099-01-01T00:00:00Z is after the current hour"),
        ({"at": EXTREME[1]}, "event.at: '9999-12-31T23:30:00-01:00' is outside the years 1 to 9999 in UTC"),
    ],
)
def test_lambda_handler_refuses_empty_regions_and_future_hours(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, event: dict[str, Any], line: str
) -> None:
    from awscost.entrypoints.lambda_handler import handler

    monkeypatch.setenv("AWSCOST_STORE", f"sqlite:///{tmp_path / 'a.db'}")
    monkeypatch.setenv("AWSCOST_ACCOUNTS", "111122223333")
    monkeypatch.delenv("AWSCOST_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as err:
        handler({"job": "collect", "kinds": "ec2", **event})
    assert err.value.render().startswith(line)
    assert not (tmp_path / "a.db").exists()


def test_lambda_collects_the_one_region_a_string_names(aws: str, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from awscost.entrypoints.lambda_handler import handler

    monkeypatch.setenv("AWSCOST_STORE", f"sqlite:///{tmp_path / 'a.db'}")
    monkeypatch.setenv("AWSCOST_METRICS", "0")
    monkeypatch.chdir(tmp_path)
    result = handler({"job": "collect", "kinds": "ec2", "regions": "us-east-1", "at": "2026-11-02T00:00:00Z"})
    assert result["regions"] == ["us-east-1"] and result["failures"] == []
