"""The application layer: every job declares what it needs, events parse once into typed Params, results are
saved and read back, and `awscost run` runs any job as the Lambda does."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import botocore.session
import pytest
from click.testing import CliRunner

from awscost.core.errors import InputError
from awscost.jobs import JOBS, job_of_event
from awscost.jobs.base import params_from_mapping
from awscost.jobs.results import COMPRESS_OVER, latest_result, save_result
from awscost.store import open_store

SCHEDULES = {"none", "hourly", "daily", "weekly", "monthly"}


def _extras() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for line in metadata.requires("awscost") or []:
        m = re.match(r"^([A-Za-z0-9_.\-]+)[^;]*;\s*extra\s*==\s*['\"]([\w\-]+)['\"]", line)
        if m:
            out.setdefault(m.group(2), set()).add(m.group(1).lower())
    return out


@pytest.mark.parametrize("name", list(JOBS))
def test_each_job_declares_params_schedule_iam_and_its_extra(name: str) -> None:
    job = JOBS.get(name)
    assert job.name == name and job.description and job.schedule in SCHEDULES
    assert dataclasses.is_dataclass(job.params) and job.params.__dataclass_params__.frozen  # type: ignore[attr-defined]
    session = botocore.session.get_session()
    from awscost.reports.budgets import IAM_OPERATIONS  # actions named for no operation, with theirs

    for action in job.iam_actions:
        prefix, _, operation = action.partition(":")
        model = {"es": "opensearch"}.get(prefix, prefix)
        names = session.get_service_model(model).operation_names
        assert set(IAM_OPERATIONS.get(action, (operation,))) <= set(names), action
    # The modules it checks for come from the extra it names (so the Lambda's one-line refusal is right).
    if job.extra is not None:
        extras = _extras()
        assert job.extra in extras and job.needs
        assert {m.lower() for m in job.needs} <= extras[job.extra], (job.extra, job.needs)
    else:
        assert job.needs == () and job.lambda_unavailable is None  # boto3 only: the collector's zip runs it
    assert job.missing_extra() is None  # everything is installed here


def test_collect_is_hourly_and_asks_exactly_what_the_catalog_needs() -> None:
    from awscost.usage.kinds import iam_actions

    job = JOBS.get("collect")
    assert job.schedule == "hourly" and list(job.iam_actions) == iam_actions()


@dataclasses.dataclass(frozen=True)
class Sample:
    name: str
    count: int = 1
    ratio: float = 0.5
    money: Decimal = Decimal(0)
    kinds: tuple[str, ...] | None = None
    at: datetime | None = None
    day: date | None = None
    term: Literal["1y", "3y"] = "1y"
    prices: dict[str, Decimal] = dataclasses.field(default_factory=dict)
    flag: bool = False
    accounts: str | tuple[str, ...] | None = None


def test_event_values_are_parsed_once_into_typed_params() -> None:
    p = params_from_mapping(
        Sample,
        {
            "name": "x",
            "count": 3,
            "ratio": 1,
            "money": "0.10",
            "kinds": "ec2, rds",
            "at": "2026-11-26T10:20:00Z",
            "day": "2026-11-26",
            "term": "3y",
            "prices": {"m5.large": "0.096"},
            "flag": True,
            "accounts": ["111111111111", "222222222222"],
        },
        where="event",
    )
    assert p == Sample(
        "x",
        3,
        1.0,
        Decimal("0.10"),
        ("ec2", "rds"),
        datetime(2026, 11, 26, 10, 20, tzinfo=UTC),
        date(2026, 11, 26),
        "3y",
        {"m5.large": Decimal("0.096")},
        True,
        ("111111111111", "222222222222"),
    )
    assert params_from_mapping(Sample, {"name": "y", "accounts": "organizations"}, where="e").accounts == (
        "organizations"
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"name": "x", "cont": 1}, "event: unknown key(s) cont (known: name, count,"),
        ({"name": "x", "count": "3"}, "event.count: expected an integer, not '3'"),
        ({"name": "x", "count": True}, "event.count: expected an integer, not True"),
        ({"name": "x", "term": "5y"}, "event.term: '5y' is not one of '1y', '3y'"),
        ({"name": "x", "money": "NaN"}, "event.money: expected a decimal number, not 'NaN'"),
        ({"name": "x", "money": True}, "event.money: expected a decimal number, not True"),
        ({"name": "x", "at": "yesterday"}, "event.at: 'yesterday' is not an ISO 8601 time"),
        ({"name": "x", "kinds": 7}, "event.kinds: expected a list, not int"),
        ({"name": "x", "prices": {"m5.large": "cheap"}}, "event.prices.m5.large: expected a decimal number"),
        ({}, "event: missing 1 required positional argument: 'name'"),
    ],
)
def test_bad_event_values_name_the_key(values: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError) as err:
        params_from_mapping(Sample, values, where="event")
    assert err.value.render().startswith(message), err.value.render()


def test_literal_values_must_have_the_literal_type_too() -> None:
    plan = JOBS.get("ri_plan")
    assert plan.parse({"renew_days": 90}).renew_days == 90
    for wrong in (False, 30.0, "30"):
        with pytest.raises(InputError, match="is not one of 0, 30, 90"):
            plan.parse({"renew_days": wrong})


def test_an_event_names_one_known_job() -> None:
    job, rest = job_of_event({"job": "collect", "kinds": "hourly"})
    assert job.name == "collect" and rest == {"kinds": "hourly"}
    assert job_of_event({"action": "collect"})[0].name == "collect"  # the first schedules' spelling
    with pytest.raises(InputError, match="names two jobs"):
        job_of_event({"job": "collect", "action": "ri_plan"})
    with pytest.raises(InputError, match=r"unknown job 'colect' \(known: collect, ce_fetch"):
        job_of_event({"job": "colect"})
    with pytest.raises(InputError, match="names no job"):
        job_of_event({"kinds": "hourly"})


def test_job_params_validate_themselves() -> None:
    from awscost.jobs import ri_plan, ri_report, service_costs

    with pytest.raises(InputError) as err:
        ri_plan.Params(lookback=0)
    assert err.value.param == "lookback"
    with pytest.raises(InputError, match=r"does not end in \.xlsx"):
        ri_report.Params(out="r.csv")
    with pytest.raises(InputError, match="no container usage inputs"):
        service_costs.Params(inputs=())
    # The report takes the plan's params too: one place for both.
    assert issubclass(ri_report.Params, ri_plan.Params)


@pytest.mark.parametrize("size", [100, COMPRESS_OVER * 2])
def test_saved_results_read_back_on_sqlite_and_dynamodb(aws: str, tmp_path: Path, size: int) -> None:
    from awscost.jobs.collect import Params

    result = {"rows": [{"key": f"k{i}", "value": str(i)} for i in range(size // 20)], "note": "x" * 10}
    when = datetime(2026, 11, 26, 10, 5, tzinfo=UTC)
    for url in (f"sqlite:///{tmp_path / 'a.db'}", "dynamodb://AWSCost?region=us-east-1&map_table=AWSCostMap"):
        with open_store(url) as store:
            ensure = getattr(store, "ensure_tables", None)
            if callable(ensure):
                list(ensure())
            assert latest_result(store, "collect") is None
            save_result(store, "collect", Params(kinds=("ec2",), at=when), result, when)
            saved = latest_result(store, "collect")
            attrs = store.get_map("job-result:collect")
        assert saved is not None and saved.result == result and saved.finished_at == when
        assert saved.params["kinds"] == ["ec2"] and saved.params["at"] == "2026-11-26T10:05:00+00:00"
        assert ("result_gzip" in attrs) is (size > COMPRESS_OVER)


def test_awscost_run_runs_a_job_from_an_event_file_and_saves_it(aws: str, tmp_path: Path) -> None:
    import boto3

    from awscost.entrypoints.cli import cli

    ec2 = boto3.client("ec2", region_name="us-east-1")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    ec2.run_instances(ImageId=image, InstanceType="m5.large", MinCount=2, MaxCount=2)
    store = f"sqlite:///{tmp_path / 'a.db'}"
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps({"job": "collect", "kinds": "ec2", "regions": ["us-east-1"], "at": "2026-11-26T10:00:00Z"})
    )
    result = CliRunner().invoke(cli, ["run", "--event", str(event), "--store", store])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["time"] == "2026-11-26T10:00:00Z" and printed["failures"] == []
    with open_store(store) as s:
        saved = latest_result(s, "collect")
    assert saved is not None and saved.result == printed
    # The job named on the command line, params from stdin; --no-save leaves the saved result alone.
    again = CliRunner().invoke(
        cli,
        ["run", "collect", "--event", "-", "--store", store, "--no-save"],
        input='{"kinds": "ec2", "regions": "us-east-1"}',
    )
    assert again.exit_code == 0, again.output
    with open_store(store) as s:
        assert latest_result(s, "collect") == saved


def test_awscost_run_errors_are_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "awscost", "run", *args, "--store", f"sqlite:///{tmp_path / 'a.db'}"],
            capture_output=True,
            text=True,
            input=stdin,
            check=False,
        )

    unknown = run("colect")
    assert unknown.returncode == 2 and unknown.stderr.startswith(
        "awscost: error: event.job: unknown job 'colect'"
    )
    bad = run("collect", "--event", "-", stdin='{"kinds": 5}')
    assert bad.returncode == 2 and "event.kinds: expected" in bad.stderr and "Traceback" not in bad.stderr
    clash = run("ri_plan", "--event", "-", stdin='{"job": "collect"}')
    assert clash.returncode == 2 and "the event names job 'collect', the command 'ri_plan'" in clash.stderr
    listed = run("--list")
    assert listed.returncode == 0 and "service_costs" in listed.stdout
    assert "not yet" not in listed.stdout  # every job runs in Lambda (tests/test_lambda_jobs.py)
