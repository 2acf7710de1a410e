"""The billing dataset in S3 (`billing/s3_dataset.py`), over a moto server reached by boto3 over HTTP: the
sandbox's demo bill loaded into `s3://...` sums to the cent as the local dataset; a re-delivery replaces its
period; a concurrent writer loses with a clear error and the dataset intact; a load failing or killed at any
step leaves the previous dataset readable with its totals; SSE-KMS reaches S3 when `kms_key_id` is set."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest

from awscost.billing import load, load_into
from awscost.billing import s3_dataset as s3ds
from awscost.billing.crashpoint import CRASH_ENV
from awscost.billing.s3 import S3Options
from awscost.core.errors import InputError
from awscost_sandbox.bill import write_bill
from awscost_sandbox.scenario import default_scenario

DATA = Path(__file__).parent / "data" / "billing"
SRC = Path(__file__).resolve().parents[1] / "src"
BUCKET = "billing-data"
URL = f"s3://{BUCKET}/awscost/billing/"
MANIFEST_KEY = "awscost/billing/_awscost_billing.json"


@pytest.fixture(scope="module")
def demo_bill(tmp_path_factory: pytest.TempPathFactory) -> Path:
    scenario = default_scenario()
    edge = datetime(2026, 11, 30, 21, tzinfo=UTC)  # 12 hours, and 6 across a month end: two periods
    hours = scenario.hours(12) + [edge + timedelta(hours=i) for i in range(6)]
    return write_bill(scenario, hours, tmp_path_factory.mktemp("bill"))["cur"]


@pytest.fixture()
def s3(aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AWSCOST_CACHE_DIR", str(tmp_path / "cache"))
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    return client


def totals(source: str | Path) -> dict[str, tuple[int, Decimal, Decimal]]:
    """Per period: rows, BilledCost and EffectiveCost summed from the rows."""
    with load(source) as bill:
        frame = bill.sql(
            "SELECT x_BillingPeriod AS p, count(*) AS n, sum(BilledCost) AS b, sum(EffectiveCost) AS e "
            "FROM billing GROUP BY 1"
        )
    return {
        p: (int(n), Decimal(b), Decimal(e))
        for p, n, b, e in zip(*(frame.column(c) for c in "pnbe"), strict=True)
    }


def manifest(s3: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(s3.get_object(Bucket=BUCKET, Key=MANIFEST_KEY)["Body"].read())
    return data


def keys(s3: Any) -> set[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
    return {o["Key"] for page in pages for o in page.get("Contents", [])}


def symlinks(s3: Any) -> set[str]:
    """The Athena symlink file of each period the manifest holds."""
    periods = manifest(s3)["periods"]
    return {f"awscost/billing/_athena/x_BillingPeriod={p}/symlink.txt" for p in periods}


def test_demo_bill_in_s3_sums_as_the_local_dataset(s3: Any, demo_bill: Path, tmp_path: Path) -> None:
    local = load_into([demo_bill], tmp_path / "local")
    remote = load_into([demo_bill], URL)
    assert len(remote["periods"]) == 2
    for period, info in local["periods"].items():
        for key in ("rows", "BilledCost", "EffectiveCost", "accounts", "amortized", "money_types"):
            assert remote["periods"][period][key] == info[key], (period, key)
    assert totals(URL) == totals(tmp_path / "local")
    with load(URL) as bill, load(tmp_path / "local") as ref:
        by = ["SubAccountId", "ServiceName"]
        assert bill.summary(by=by) == ref.summary(by=by)
        assert bill.total("EffectiveCost") == ref.total("EffectiveCost")
    # The layout: the manifest lists every object of each period, and nothing else is there but each
    # period's Athena symlink file (billing/athena.py).
    held = {o["key"] for info in manifest(s3)["periods"].values() for o in info["objects"]}
    assert {"awscost/billing/" + k for k in held} | {MANIFEST_KEY} | symlinks(s3) == keys(s3)
    assert all(k.split("/")[0].startswith("x_BillingPeriod=") and "-part-" in k for k in held)
    # Opened again: from the cache, and materialized like a local dataset.
    with load(URL, materialize=True) as bill:
        assert bill.total("BilledCost") == sum(t[1] for t in totals(tmp_path / "local").values())


def test_a_second_load_replaces_the_period_and_a_third_removes_what_the_first_held(
    s3: Any, tmp_path: Path
) -> None:
    load_into([DATA / "cur_small.csv"], URL)
    first = manifest(s3)
    load_into([DATA / "cur2_small.csv"], URL)  # another period: 2024-03's objects are kept as they were
    both = totals(URL)
    second = manifest(s3)
    assert second["periods"]["2024-03"]["objects"] == first["periods"]["2024-03"]["objects"]
    load_into([DATA / "cur_small.csv"], URL)  # 2024-03 again: replaced, not doubled
    assert totals(URL) == both
    load_into([DATA / "cur_small.csv"], URL)
    assert totals(URL) == both
    load_into([DATA / "cur_small.csv"], tmp_path / "local")
    load_into([DATA / "cur2_small.csv"], tmp_path / "local")
    assert totals(tmp_path / "local") == both
    # The first load's 2024-03 objects were dropped by the third load and deleted by the fourth (after it,
    # no manifest of the last two held them); the manifest holds exactly what the bucket holds but the
    # keys the last load retired.
    now = manifest(s3)
    held = {"awscost/billing/" + o["key"] for info in now["periods"].values() for o in info["objects"]}
    retired = {"awscost/billing/" + k for k in now["retired"]}
    assert keys(s3) == held | retired | {MANIFEST_KEY} | symlinks(s3)
    assert not {"awscost/billing/" + o["key"] for o in first["periods"]["2024-03"]["objects"]} & keys(s3)


def test_a_concurrent_writer_loses_with_a_clear_error_and_the_dataset_is_intact(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_into([DATA / "cur_small.csv"], URL)
    before_keys = keys(s3)
    real = s3ds.read_manifest

    def read_then_another_load_lands(client: Any, loc: Any) -> Any:
        data, etag = real(client, loc)
        other = json.loads(json.dumps(data))
        other["load_id"] = "another-writer"  # another load's manifest replaces the one this load read
        client.put_object(Bucket=BUCKET, Key=MANIFEST_KEY, Body=json.dumps(other).encode())
        return data, etag

    monkeypatch.setattr(s3ds, "read_manifest", read_then_another_load_lands)
    with pytest.raises(InputError, match="another load replaced this dataset's manifest") as info:
        load_into([DATA / "cur2_small.csv"], URL)
    assert info.value.where == URL
    monkeypatch.setattr(s3ds, "read_manifest", real)
    assert manifest(s3)["load_id"] == "another-writer"
    assert keys(s3) == before_keys  # what the losing load uploaded is gone
    assert set(totals(URL)) == {"2024-03"}


def test_two_first_loads_one_wins(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new dataset is created with IfNoneMatch='*': a second first load loses the same way."""
    real = s3ds.read_manifest

    def another_creates_it(client: Any, loc: Any) -> Any:
        data, etag = real(client, loc)
        monkeypatch.setattr(s3ds, "read_manifest", real)
        load_into([DATA / "cur2_small.csv"], URL)
        return data, etag

    monkeypatch.setattr(s3ds, "read_manifest", another_creates_it)
    with pytest.raises(InputError, match="another load replaced"):
        load_into([DATA / "cur_small.csv"], URL)
    assert set(totals(URL)) == {"2025-02"}


def test_a_failure_after_uploads_leaves_the_previous_dataset(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_into([DATA / "cur_small.csv"], URL)
    before, before_keys = totals(URL), keys(s3)
    real_client = s3ds.client

    class Refused(Exception):
        pass

    def client_refusing_the_manifest(options: Any = None) -> Any:
        client = real_client(options)
        put = client.put_object

        def put_object(**kwargs: Any) -> Any:
            if kwargs["Key"].endswith("_awscost_billing.json"):
                raise Refused("the network went away")
            return put(**kwargs)

        client.put_object = put_object
        return client

    monkeypatch.setattr(s3ds, "client", client_refusing_the_manifest)
    with pytest.raises(Refused):
        load_into([DATA / "cur_small.csv", DATA / "cur2_small.csv"], URL)
    monkeypatch.setattr(s3ds, "client", real_client)
    assert keys(s3) == before_keys and totals(URL) == before


S3_STEPS = ["read-1", "write-2024-03", "amortized", "uploaded-1", "uploaded-2", "manifest", "swapped"]


@pytest.mark.parametrize("step", S3_STEPS)
def test_a_load_killed_at_any_step_keeps_the_previous_dataset(s3: Any, step: str, tmp_path: Path) -> None:
    load_into([DATA / "cur_small.csv"], URL)
    before = totals(URL)
    files = [DATA / "cur2_small.csv", DATA / "cur_small.csv"]
    env = {**os.environ, CRASH_ENV: step, "PYTHONPATH": str(SRC), "AWSCOST_DUCKDB_THREADS": "1"}
    args = ["billing", "load", *map(str, files), "--into", URL, "--format", "json"]
    proc = subprocess.run(
        [sys.executable, "-m", "awscost", *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == -signal.SIGKILL, (step, proc.returncode, proc.stderr)
    load_into(files, tmp_path / "reference")
    assert totals(URL) == (totals(tmp_path / "reference") if step == "swapped" else before)
    load_into(files, URL)  # the next load succeeds and holds both periods once
    assert totals(URL) == totals(tmp_path / "reference")


def test_sse_kms_put_args_reach_s3(s3: Any) -> None:
    key_id = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["Arn"]
    load_into([DATA / "cur_small.csv"], URL, s3_options=S3Options(kms_key_id=key_id))
    for key in keys(s3):
        head = s3.head_object(Bucket=BUCKET, Key=key)
        assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == key_id, key
    assert set(totals(URL)) == {"2024-03"}


def test_a_prefix_that_is_not_a_dataset_is_refused_and_a_missing_dataset_named(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="awscost/billing/notes.txt", Body=b"mine")
    with pytest.raises(InputError, match="not an awscost billing dataset") as info:
        load_into([DATA / "cur_small.csv"], URL)
    assert info.value.where == URL
    # A prefix with no manifest is read as billing files: an empty one says so.
    with pytest.raises(InputError, match="no objects under this S3 prefix") as info:
        load(f"s3://{BUCKET}/elsewhere/")
    assert info.value.where == f"s3://{BUCKET}/elsewhere/"
    assert keys(s3) == {"awscost/billing/notes.txt"}


def test_a_malformed_manifest_is_named(s3: Any) -> None:
    load_into([DATA / "cur_small.csv"], URL)
    data = manifest(s3)
    data["periods"]["2024-03"]["objects"] = []
    s3.put_object(Bucket=BUCKET, Key=MANIFEST_KEY, Body=json.dumps(data).encode())
    with pytest.raises(InputError, match="lacks its list of objects") as info:
        load(URL)
    assert info.value.where == f"s3://{BUCKET}/{MANIFEST_KEY}"


def test_cli_summary_of_an_s3_dataset(s3: Any, demo_bill: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from awscost.entrypoints.cli import cli as main

    load_into([demo_bill], tmp_path / "local")
    runner = CliRunner()
    loaded = runner.invoke(main, ["billing", "load", str(demo_bill), "--into", URL, "--format", "json"])
    assert loaded.exit_code == 0, loaded.output
    args = ["billing", "summary", "--by", "SubAccountId", "--format", "json"]
    remote = runner.invoke(main, [*args, "--dataset", URL])
    local = runner.invoke(main, [*args, "--dataset", str(tmp_path / "local")])
    assert remote.exit_code == 0, remote.output
    assert json.loads(remote.output) == json.loads(local.output) and json.loads(local.output)
