"""The analytics jobs in Lambda, with their S3 inputs and outputs: the RI workbook, the service costs and the
billing ingest, each run by the handler in-process from the event its EventBridge rule sends (the job's own
`rules=`, `${DataBucket}` and `${BillExportUrl}` given as the stack's Fn::Sub would), against a moto server.

The function's environment as Lambda gives it: settings from an awscost.toml in S3 (AWSCOST_CONFIG), the store
from AWSCOST_STORE, a home directory where nothing can be created (Lambda's is read-only) and a temporary
directory of its own that the test inspects afterwards (/tmp, kept by a warm container between invocations).
The inputs are the sandbox's demo bill and container logs, put into S3 first."""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import openpyxl
import pytest

from awscost.core.errors import AwsAccessError, InputError
from awscost.jobs import JOBS
from awscost.jobs.results import latest_result
from awscost.store import open_store
from fault_proxy import FaultProxy, Rule

DATA = "awscost-data-123456789012"  # the stack's bucket (${DataBucket})
BILLS = "acme-cur-exports"  # the billing export bucket (${BillExportUrl})
STORE = "dynamodb://AWSCost?region=us-east-1&map_table=AWSCostMap"
CONFIG = '[awscost]\norg_name = "acme"\n'
MANIFEST = "billing/_awscost_billing.json"


def rule_event(job: str, **extra: Any) -> dict[str, Any]:
    """The event of the job's (only) rule, rendered as the stack's Fn::Sub renders it, plus `extra`."""
    (rule,) = JOBS.get(job).rules
    values = {"DataBucket": DATA, "BillExportUrl": f"s3://{BILLS}/cur/"}

    def sub(value: Any) -> Any:
        if isinstance(value, str):
            for name, text in values.items():
                value = value.replace("${" + name + "}", text)
            return value
        if isinstance(value, list):
            return [sub(v) for v in value]
        return value

    return {**{k: sub(v) for k, v in rule.event.items()}, **extra}


def handle(event: dict[str, Any]) -> dict[str, Any]:
    from awscost.entrypoints.lambda_handler import handler

    return handler(event)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sandbox's bill (legacy CUR with manifests) and its container logs for the same hours."""
    from awscost_sandbox.bill import write_bill
    from awscost_sandbox.containers import write_logs
    from awscost_sandbox.scenario import default_scenario

    root = tmp_path_factory.mktemp("sandbox")
    scenario = default_scenario()
    hours = scenario.hours(3)
    return {
        "cur": write_bill(scenario, hours, root / "bill", formats=("cur",))["cur"],
        "logs": write_logs(scenario, hours, root / "containers")[0].parent,
    }


@pytest.fixture()
def lam(aws: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """The function's environment; yields its temporary directory (/tmp)."""
    tmp = tmp_path / "lambda-tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("HOME", str(blocker / "home"))  # nothing can be created under it, as in Lambda
    for name in ("XDG_CACHE_HOME", "TMPDIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "awscost-analytics")
    task = tmp_path / "task"
    task.mkdir()
    monkeypatch.chdir(task)  # like /var/task: no awscost.toml here
    s3 = boto3.client("s3", region_name="us-east-1")
    for bucket in (DATA, BILLS):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=DATA, Key="config/awscost.toml", Body=CONFIG.encode())
    monkeypatch.setenv("AWSCOST_CONFIG", f"s3://{DATA}/config/awscost.toml")
    monkeypatch.setenv("AWSCOST_STORE", STORE)
    with open_store(STORE) as store:
        store.ensure_tables()  # type: ignore[attr-defined]
    yield tmp


def _put_tree(root: Path, bucket: str, prefix: str) -> list[str]:
    s3 = boto3.client("s3", region_name="us-east-1")
    keys = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        key = prefix + path.relative_to(root).as_posix()
        s3.upload_file(str(path), bucket, key)
        keys.append(key)
    return keys


def _keys(bucket: str, prefix: str = "") -> list[str]:
    pages = boto3.client("s3", region_name="us-east-1").get_paginator("list_objects_v2")
    return [
        o["Key"] for page in pages.paginate(Bucket=bucket, Prefix=prefix) for o in page.get("Contents", [])
    ]


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _assert_saved_failure(job: str, says: str = "") -> None:
    """The failed run is the job's latest result (its error's line, for `awscost health`), and nothing else."""
    saved = _saved(job)
    assert saved is not None and list(saved.result) == ["error"] and says in saved.result["error"]


def _saved(job: str) -> Any:
    with open_store(STORE) as store:
        return latest_result(store, job)


# ---------------------------------------------------------------- billing_load


def test_billing_load_ingests_the_export_bucket_into_the_s3_dataset_and_then_reads_nothing_new(
    lam: Path, sandbox: dict[str, Path], tmp_path: Path
) -> None:
    from awscost.billing import load_into

    _put_tree(sandbox["cur"], BILLS, "cur/")
    first = handle(rule_event("billing_load"))

    local = load_into([sandbox["cur"]], tmp_path / "local-dataset")
    want = {p: (i["rows"], Decimal(i["BilledCost"])) for p, i in local["periods"].items()}
    assert first["dataset"] == f"s3://{DATA}/billing/" and first["files_read"] > 0
    assert {p["period"]: (p["rows"], Decimal(p["billed_cost"])) for p in first["periods"]} == want
    s3 = boto3.client("s3", region_name="us-east-1")
    manifest = json.loads(s3.get_object(Bucket=DATA, Key=MANIFEST)["Body"].read())
    assert {p: (i["rows"], Decimal(i["BilledCost"])) for p, i in manifest["periods"].items()} == want
    held = {f"billing/{o['key']}" for i in manifest["periods"].values() for o in i["objects"]}
    assert held <= set(_keys(DATA, "billing/"))
    assert all(
        i["delivery"]["manifest"].startswith(f"s3://{BILLS}/cur/") for i in manifest["periods"].values()
    )
    assert _files(lam) == []  # downloads and staging removed: a warm container starts the next hour empty
    assert _saved("billing_load").result == first

    etag = s3.head_object(Bucket=DATA, Key=MANIFEST)["ETag"]
    second = handle(rule_event("billing_load"))
    assert second["files_read"] == 0 and second["unchanged"] == sorted(want)
    assert second["periods"] == first["periods"]
    assert s3.head_object(Bucket=DATA, Key=MANIFEST)["ETag"] == etag  # the dataset left as it was
    assert _files(lam) == []


def test_a_redelivered_month_leaves_only_recent_cache_files_in_tmp(
    lam: Path, sandbox: dict[str, Path]
) -> None:
    """The load of a re-delivered month downloads that month's objects (into the cache, under /tmp in Lambda);
    a later run removes what no run of the last 15 minutes used, so /tmp does not fill hour after hour."""
    from awscost.billing import s3_dataset

    keys = _put_tree(sandbox["cur"], BILLS, "cur/")
    handle(rule_event("billing_load"))
    s3 = boto3.client("s3", region_name="us-east-1")
    current = next(k for k in keys if k.endswith("Manifest.json") and k.count("/") == 3)
    body = json.loads(s3.get_object(Bucket=BILLS, Key=current)["Body"].read())
    body["assemblyId"] = "redelivered-1"
    s3.put_object(Bucket=BILLS, Key=current, Body=json.dumps(body).encode())

    again = handle(rule_event("billing_load"))
    assert again["files_read"] > 0
    cached = _files(lam)
    assert cached and all(s3_dataset.cache_dir() in p.parents for p in cached)
    assert str(s3_dataset.cache_dir()).startswith(str(lam))  # not under the (read-only) home
    old = datetime.now(UTC).timestamp() - s3_dataset.LAMBDA_CACHE_KEEP_S - 60
    for path in cached:
        os.utime(path, (old, old))  # as if that run was an hour ago
    body["assemblyId"] = "redelivered-2"
    s3.put_object(Bucket=BILLS, Key=current, Body=json.dumps(body).encode())
    handle(rule_event("billing_load"))
    assert not set(cached) & set(_files(lam)), "the previous hour's downloads were pruned"


def test_billing_load_from_a_denied_export_bucket_fails_and_writes_nothing(
    lam: Path, sandbox: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _put_tree(sandbox["cur"], BILLS, "cur/")
    with _s3_denied(monkeypatch, BILLS), pytest.raises(AwsAccessError) as err:
        handle(rule_event("billing_load"))
    assert err.value.where == f"s3://{BILLS}/cur/" and "ListBucket refused" in err.value.message
    assert _keys(DATA, "billing/") == [] and _files(lam) == []
    _assert_saved_failure("billing_load", "AccessDenied")


# ---------------------------------------------------------------- service_costs


def test_service_costs_reads_container_logs_and_the_dataset_from_s3_as_the_local_run_does(
    lam: Path, sandbox: dict[str, Path], tmp_path: Path
) -> None:
    from awscost.billing import load_into
    from awscost.core.config import load_settings
    from awscost.jobs import Context, run_job
    from awscost.jobs.service_costs import Params

    _put_tree(sandbox["cur"], BILLS, "cur/")
    handle(rule_event("billing_load"))
    logs = _put_tree(sandbox["logs"], DATA, "containers/")
    boto3.client("s3", region_name="us-east-1").put_object(
        Bucket=DATA, Key="containers/README.txt", Body=b"not a log: left out"
    )

    result = handle(rule_event("service_costs"))

    load_into([sandbox["cur"]], tmp_path / "local-dataset")
    ctx = Context(load_settings(None, env={}).with_overrides(store=f"sqlite:///{tmp_path / 'local.db'}"))
    here = run_job(
        "service_costs", ctx, Params(inputs=(str(sandbox["logs"]),), dataset=str(tmp_path / "local-dataset"))
    ).to_json()
    assert result["rows"] == here["rows"] and result["priced"] == here["priced"]
    assert set(result["priced"]) == {"billing"}  # every host-hour at the bill's EffectiveCost
    services = {r["service"] for r in result["rows"]}
    assert {"storefront", "checkout", "__idle__"} <= services
    assert result["malformed"] == [] and result["unpriced"] == [] and result["stored"] == here["stored"] > 0
    with open_store(STORE) as store:
        assert list(store.query(kind="svc-cost"))
    assert _saved("service_costs").result == result
    assert len(logs) == len(list(sandbox["logs"].iterdir()))
    # Downloads and samples removed; what stays is the dataset's cache, under /tmp.
    from awscost.billing.s3_dataset import cache_dir

    assert all(cache_dir() in p.parents for p in _files(lam))
    # The containers' DuckDB would spill under /tmp, not into .tmp of the read-only working directory.
    assert (lam / "awscost-duckdb").is_dir() and not list(Path.cwd().iterdir())


def test_a_malformed_line_of_an_s3_log_is_named_by_its_url(lam: Path, sandbox: dict[str, Path]) -> None:
    first = sorted(sandbox["logs"].iterdir())[0]
    body = first.read_bytes() + b"{not json\n"
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.put_object(Bucket=DATA, Key=f"containers/host-a/{first.name}", Body=body)
    event = rule_event("service_costs", instance_type="m5.large", region="us-east-1")
    event.pop("dataset")  # on-demand prices: no dataset needed
    result = handle(event)
    lines = body.count(b"\n")
    (line,) = result["malformed"]
    assert line.startswith(f"s3://{DATA}/containers/host-a/{first.name}:{lines}: not JSON")


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (["s3://no-such-bucket-here/containers/"], "ListBucket: no such bucket"),
        ([f"s3://{DATA}/containers/"], "no container usage logs under this S3 prefix"),
        ([f"s3://{DATA}/containers/host-a/containers-2026-11-01.jsonl"], "no container usage logs"),
    ],
)
def test_service_costs_from_a_missing_s3_location_fails_naming_it(
    lam: Path, inputs: list[str], message: str
) -> None:
    with pytest.raises(InputError) as err:
        handle(rule_event("service_costs", inputs=inputs))
    assert err.value.where == inputs[0] and message in err.value.message
    with open_store(STORE) as store:
        assert not list(store.query(kind="svc-cost"))
    assert _files(lam) == []
    _assert_saved_failure("service_costs")


def test_service_costs_from_denied_logs_fails_and_stores_nothing(
    lam: Path, sandbox: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _put_tree(sandbox["logs"], DATA, "containers/")
    with _s3_denied(monkeypatch, DATA), pytest.raises(AwsAccessError) as err:
        handle(rule_event("service_costs"))
    assert err.value.where == f"s3://{DATA}/containers/"
    assert err.value.message == "ListBucket refused (AccessDenied): the caller needs s3:ListBucket here"
    with open_store(STORE) as store:
        assert not list(store.query(kind="svc-cost"))
    assert _files(lam) == []
    _assert_saved_failure("service_costs")


# ---------------------------------------------------------------- ri_report


@pytest.fixture()
def collected(lam: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The usage a month of collection stored (test_ri_plan's), in a SQLite store the function is given."""
    from test_ri_plan import fill

    monkeypatch.setenv("AWSCOST_STORE", fill(tmp_path))


def test_ri_report_puts_the_workbook_in_s3_under_the_day(lam: Path, collected: None) -> None:
    from test_ri_plan import END

    before = datetime.now(UTC).date()
    result = handle(rule_event("ri_report", until=END.isoformat()))
    days = {f"{before}", f"{datetime.now(UTC).date()}"}  # the run's UTC day (a run across midnight: either)
    urls = {f"s3://{DATA}/reports/ri/{d}/AwsRIUsageReport.xlsx" for d in days}
    assert result["path"] in urls and result["groups"] > 0
    key = result["path"].removeprefix(f"s3://{DATA}/")
    assert _keys(DATA, "reports/") == [key]
    obj = boto3.client("s3", region_name="us-east-1").get_object(Bucket=DATA, Key=key)
    assert obj["ContentType"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    wb = openpyxl.load_workbook(io.BytesIO(obj["Body"].read()))
    assert wb.sheetnames[0] == "Summary" and "ec2os us-east-1" in wb.sheetnames
    assert all(ws.max_row > 1 for ws in wb.worksheets)
    assert _files(lam) == []  # the temporary workbook removed


def test_ri_report_to_a_missing_bucket_fails_naming_it(lam: Path, collected: None) -> None:
    with pytest.raises(AwsAccessError) as err:
        handle(rule_event("ri_report", out="s3://no-such-bucket-here/reports/ri/"))
    assert "report bucket 'no-such-bucket-here' does not exist" in err.value.message
    assert err.value.where is not None and err.value.where.startswith("s3://no-such-bucket-here/reports/ri/")
    assert _files(lam) == []


def test_ri_report_out_must_be_an_s3_folder_or_an_xlsx_file() -> None:
    from awscost.jobs.ri_report import Params

    with pytest.raises(InputError, match="an s3:// out is a folder"):
        Params(out=f"s3://{DATA}/reports/ri")
    with pytest.raises(InputError, match="not a valid S3 bucket name"):
        Params(out="s3://Bad_Bucket/ri/")
    assert Params(out=f"s3://{DATA}/").out == f"s3://{DATA}/"


# ---------------------------------------------------------------- every job


def test_every_scheduled_job_runs_in_lambda() -> None:
    for name, job in JOBS.items():
        assert job.lambda_unavailable is None, name


@pytest.mark.parametrize("job", ["ri_report", "service_costs", "billing_load"])
def test_the_event_fixtures_are_what_the_rules_send(job: str) -> None:
    fixture = json.loads((Path(__file__).parent / "events" / f"{job}.json").read_text())
    assert fixture.items() >= rule_event(job).items()


class _s3_denied:
    """S3 refuses every request about `bucket` (AccessDenied) through the fault proxy; the settings come from
    SSM, as a function configured with an SSM parameter reads them."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, bucket: str) -> None:
        self.monkeypatch, self.bucket = monkeypatch, bucket

    def __enter__(self) -> FaultProxy:
        ssm = boto3.client("ssm", region_name="us-east-1")
        ssm.put_parameter(Name="/finops/awscost-config", Value=CONFIG, Type="String")
        self.monkeypatch.setenv("AWSCOST_CONFIG", "ssm:/finops/awscost-config")
        self.proxy = FaultProxy(os.environ["AWS_ENDPOINT_URL"], "testing", "123456789012").start()
        self.proxy.set_rules(Rule("denied", service="s3", bucket=self.bucket))
        self.monkeypatch.setenv("AWS_ENDPOINT_URL_S3", self.proxy.endpoint)
        return self.proxy

    def __exit__(self, *exc: object) -> None:
        self.monkeypatch.delenv("AWS_ENDPOINT_URL_S3")
        self.proxy.stop()


# ---------------------------------------------------------------- anomaly_scan


def test_anomaly_scan_reads_the_s3_dataset_in_lambda_and_saves_its_events(lam: Path, tmp_path: Path) -> None:
    """The event fixture's job over an S3 dataset holding a CUR with a known anomaly (tests/anomaly_bills.py):
    the one event, explained, is the saved result; the work files under /tmp are gone."""
    import anomaly_bills as ab
    from awscost.billing import load_into

    load_into([ab.write(tmp_path / "bill")], f"s3://{DATA}/billing/")
    event = json.loads((Path(__file__).parent / "events" / "anomaly_scan.json").read_text())
    result = handle(event)
    (anomaly,) = result["anomalies"]
    assert anomaly["date"] == "2026-10-10" and anomaly["end"] is None
    assert "38 × r6g.2xlarge in eu-west-1" in anomaly["explanation"]
    saved = _saved("anomaly_scan")
    assert saved is not None and saved.result["anomalies"][0]["id"] == anomaly["id"]
    assert anomaly["status"] == "new"  # recorded in the stack's store, DynamoDB's map table
    again = handle(event)
    assert [a["status"] for a in again["anomalies"]] == ["known"]
    assert not [p for p in _files(lam) if not p.name.endswith(".parquet")]  # only the dataset's cache stays


# ---------------------------------------------------------------- forecast


def test_forecast_reads_the_s3_dataset_in_lambda_and_saves_its_figures(lam: Path, tmp_path: Path) -> None:
    """The event fixture's job over an S3 dataset (tests/anomaly_bills.py's CUR): per service as of the 15th,
    money as decimal strings, the saved result the returned one; the work files under /tmp are gone."""
    import anomaly_bills as ab
    from awscost.billing import load_into

    load_into([ab.write(tmp_path / "bill")], f"s3://{DATA}/billing/")
    event = json.loads((Path(__file__).parent / "events" / "forecast.json").read_text())
    result = handle(event)
    assert (result["month"], result["as_of"], result["by"], result["currency"]) == (
        "2026-10", "2026-10-15", "service", "USD"
    )  # fmt: skip
    keys = [s["key"] for s in result["series"]]
    assert keys[-1] == "total" and "Amazon Elastic Compute Cloud" in keys
    assert all(s["days_known"] == 14 and s["days_left"] == 17 for s in result["series"])
    saved = _saved("forecast")
    assert saved is not None and saved.result["series"] == result["series"]
    assert not [p for p in _files(lam) if not p.name.endswith(".parquet")]  # only the dataset's cache stays
