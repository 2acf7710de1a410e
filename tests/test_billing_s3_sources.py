"""Bills read straight from S3 (billing/s3_sources.py): the sandbox's demo bill put into a moto bucket in the
legacy CUR layout and in the Data Exports (FOCUS / CUR 2.0) layout, loaded incrementally, re-delivered, read
by the one-shot commands, and refused clearly where S3 refuses. Real boto3 against the moto server over HTTP;
the S3 GetObject calls are counted by a botocore event hook on the client the code under test makes."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from awscost.billing import load, load_into, s3_sources
from awscost.billing.s3 import S3Options
from awscost.core.errors import AwsAccessError, InputError
from awscost.entrypoints.cli import cli, main
from awscost_sandbox.bill import REPORT, write_bill
from awscost_sandbox.scenario import default_scenario
from fault_proxy import FaultProxy, Rule

BUCKET = "sandbox-billing"  # the bucket the sandbox's manifests name
EXPORT = "sandbox-focus"


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    scenario = default_scenario()
    edge = datetime(2026, 11, 30, 21, tzinfo=UTC)  # 12 hours, then 6 across the month end: two periods
    hours = scenario.hours(12) + [edge + timedelta(hours=i) for i in range(6)]
    return write_bill(scenario, hours, tmp_path_factory.mktemp("bill"))


def _s3() -> Any:
    return boto3.client("s3", region_name="us-east-1")


def _put_tree(s3: Any, root: Path, prefix: str) -> list[str]:
    keys = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        key = f"{prefix}{path.relative_to(root).as_posix()}"
        s3.upload_file(str(path), BUCKET, key)
        keys.append(key)
    return keys


@pytest.fixture()
def gets(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """GetObject calls per key made by the S3 clients the code under test builds (botocore's before-parameter-build
    event), to tell manifests apart from data files."""
    counted: Counter[str] = Counter()
    real = s3_sources.client

    def counting_client(options: S3Options | None = None) -> Any:
        c = real(options)
        c.meta.events.register(
            "before-parameter-build.s3.GetObject", lambda params, **_: counted.update([params["Key"]])
        )
        return c

    monkeypatch.setattr(s3_sources, "client", counting_client)
    return counted


def _main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The command line as a person runs it (`awscost ...`): exit code, stdout, stderr."""
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _data_gets(counted: Counter[str]) -> dict[str, int]:
    return {k: n for k, n in counted.items() if not k.endswith("Manifest.json")}


def _totals(marker: dict[str, Any]) -> dict[str, tuple[int, Decimal, Decimal]]:
    return {
        p: (int(i["rows"]), Decimal(i["BilledCost"]), Decimal(i["EffectiveCost"]))
        for p, i in marker["periods"].items()
    }


def test_legacy_cur_loads_incrementally_and_a_redelivery_reloads_its_period_alone(
    aws: str, written: dict[str, Path], gets: Counter[str], tmp_path: Path
) -> None:
    s3 = _s3()
    s3.create_bucket(Bucket=BUCKET)
    keys = _put_tree(s3, written["cur"], "cur/")
    assert any(k.endswith(f"/{REPORT}-Manifest.json") for k in keys)
    local = load_into([written["cur"]], tmp_path / "local")

    ds = tmp_path / "ds"
    first = load_into([f"s3://{BUCKET}/cur/"], ds, s3_options=S3Options())
    assert _totals(first) == _totals(local)  # to the cent, row for row
    assert set(_data_gets(gets)) == {k for k in keys if k.endswith(".csv.gz")}
    for period, info in first["periods"].items():
        delivery = info["delivery"]
        assert delivery["manifest"].startswith(f"s3://{BUCKET}/cur/{REPORT}/") and delivery["id"]
        assert all(src.startswith(f"s3://{BUCKET}/cur/") for src in info["sources"]), period
    assert not list(tmp_path.glob(".ds.work-*")), "the downloads are removed with the load's work dir"

    # Second load through the command line: nothing new, no data file read, the dataset as it was.
    gets.clear()
    result = CliRunner().invoke(cli, ["billing", "load", f"s3://{BUCKET}/cur/", "--into", str(ds)])
    assert result.exit_code == 0, result.output
    assert "nothing new (periods 2026-11, 2026-12 are loaded already)" in result.output
    assert _data_gets(gets) == {}
    assert json.loads((ds / "_awscost_billing.json").read_text())["periods"] == first["periods"]

    # AWS re-delivers November: a new assembly folder, the period's manifest rewritten to name it.
    period_manifest = next(k for k in keys if k.endswith(f"{REPORT}-Manifest.json") and "202611" in k)
    body = s3.get_object(Bucket=BUCKET, Key=period_manifest)["Body"].read()
    manifest = json.loads(body)
    # As AWS does, the old assembly keeps a copy of its manifest; the period's current manifest wins.
    old_copy = period_manifest.replace(
        f"/{REPORT}-Manifest.json", f"/{manifest['assemblyId']}/{REPORT}-Manifest.json"
    )
    s3.put_object(Bucket=BUCKET, Key=old_copy, Body=body)
    old_key = f"cur/{manifest['reportKeys'][0]}"
    new_key = old_key.replace(f"/{manifest['assemblyId']}/", "/feedc0de/")
    s3.copy_object(Bucket=BUCKET, Key=new_key, CopySource={"Bucket": BUCKET, "Key": old_key})
    manifest.update(assemblyId="feedc0de", reportKeys=[new_key.removeprefix("cur/")])
    s3.put_object(Bucket=BUCKET, Key=period_manifest, Body=json.dumps(manifest).encode())
    gets.clear()
    unchanged: list[str] = []
    third = load_into(
        [f"s3://{BUCKET}/cur/"], ds, s3_options=S3Options(), on_unchanged=lambda p, _m: unchanged.append(p)
    )
    assert set(_data_gets(gets)) == {new_key}, "only the re-delivered period is read"
    assert unchanged == ["2026-12"]
    assert third["periods"]["2026-11"]["delivery"]["id"] == "feedc0de"
    assert third["periods"]["2026-12"] == first["periods"]["2026-12"]
    assert third["periods"]["2026-11"]["loaded_at"] >= first["periods"]["2026-11"]["loaded_at"]
    assert _totals(third) == _totals(local)  # replaced, not appended


def _export_layout(focus_dir: Path, root: Path) -> Path:
    """The sandbox's FOCUS files as a Data Exports FOCUS export delivers them: data/BILLING_PERIOD=YYYY-MM/
    and metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json naming its dataFiles and executionId."""
    for f in sorted(focus_dir.glob("focus-*.csv.gz")):
        period = f.name.removeprefix("focus-").removesuffix(".csv.gz")
        data = root / EXPORT / "data" / f"BILLING_PERIOD={period}" / f"{EXPORT}-00001.csv.gz"
        data.parent.mkdir(parents=True)
        shutil.copy(f, data)
        meta = root / EXPORT / "metadata" / f"BILLING_PERIOD={period}" / f"{EXPORT}-Manifest.json"
        meta.parent.mkdir(parents=True)
        start = datetime.strptime(period, "%Y-%m").replace(tzinfo=UTC)
        manifest = {
            "executionId": f"exec-{period}-1",
            "exportArn": "arn:aws:bcm-data-exports:us-east-1:123456789012:export/sandbox-focus-0001",
            "billingPeriod": {"start": start.strftime("%Y-%m-%dT%H:%M:%S.000Z")},
            "dataFiles": [f"s3://{BUCKET}/exports/{data.relative_to(root).as_posix()}"],
        }
        meta.write_text(json.dumps(manifest), encoding="utf-8")
    return root


def test_a_focus_data_export_loads_to_the_local_totals_and_once(
    aws: str, written: dict[str, Path], gets: Counter[str], tmp_path: Path
) -> None:
    s3 = _s3()
    s3.create_bucket(Bucket=BUCKET)
    _put_tree(s3, _export_layout(written["focus"], tmp_path / "export"), "exports/")
    local = load_into([written["focus"]], tmp_path / "local")
    ds = tmp_path / "ds"
    first = load_into([f"s3://{BUCKET}/exports/"], ds, s3_options=S3Options())
    assert _totals(first) == _totals(local)
    assert {i["delivery"]["id"] for i in first["periods"].values()} == {"exec-2026-11-1", "exec-2026-12-1"}
    gets.clear()
    second = load_into([f"s3://{BUCKET}/exports/"], ds, s3_options=S3Options())
    assert _data_gets(gets) == {} and second["periods"] == first["periods"]


def test_one_shot_summary_reads_s3_as_it_reads_the_local_files(aws: str, written: dict[str, Path]) -> None:
    s3 = _s3()
    s3.create_bucket(Bucket=BUCKET)
    _put_tree(s3, written["cur"], "cur/")
    s3.upload_file(str(next(written["focus"].glob("focus-2026-11*"))), BUCKET, "loose/focus-2026-11.csv.gz")

    def summary(*paths: str) -> list[dict[str, Any]]:
        args = ["billing", "summary", *paths, "--by", "SubAccountId", "--metric", "BilledCost"]
        result = CliRunner().invoke(cli, [*args, "--format", "json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)  # type: ignore[no-any-return]

    assert summary(f"s3://{BUCKET}/cur/") == summary(str(written["cur"]))
    assert summary(f"s3://{BUCKET}/loose/focus-2026-11.csv.gz") == summary(
        str(next(written["focus"].glob("focus-2026-11*")))
    )
    with load(f"s3://{BUCKET}/cur/", s3_options=S3Options()) as bill, load(written["cur"]) as here:
        assert bill.total("BilledCost") == here.total("BilledCost")


def test_missing_bucket_key_and_denied_access_are_clear_errors(
    aws: str,
    written: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(InputError, match="ListBucket: no such bucket") as info:
        load_into(["s3://no-such-bucket/cur/"], tmp_path / "ds", s3_options=S3Options())
    assert info.value.where == "s3://no-such-bucket/cur/"
    code, _, err = _main(capsys, "billing", "summary", "s3://no-such-bucket/cur/")
    assert code == InputError.exit_code != 0
    assert err == "awscost: error: s3://no-such-bucket/cur/: ListBucket: no such bucket\n"

    s3 = _s3()
    s3.create_bucket(Bucket=BUCKET)
    keys = _put_tree(s3, written["cur"], "cur/")
    data_key = next(k for k in keys if k.endswith(".csv.gz") and "/202611" in k)
    s3.delete_object(Bucket=BUCKET, Key=data_key)
    with pytest.raises(InputError, match="named by the manifest does not exist") as info:
        load_into([f"s3://{BUCKET}/cur/"], tmp_path / "ds", s3_options=S3Options())
    # It names the manifest (where) and the key the manifest gives (the sandbox writes keys without the
    # bucket prefix "cur/", as after a replication under another prefix: found under the manifest's folder).
    assert info.value.where.endswith("Manifest.json") and data_key.removeprefix("cur/") in str(info.value)
    assert not (tmp_path / "ds").exists(), "nothing written"

    proxy = FaultProxy(aws, "testing", "123456789012").start()
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.endpoint)
        proxy.set_rules(Rule("denied", service="s3"))
        with pytest.raises(AwsAccessError, match="ListBucket refused") as denied:
            load_into([f"s3://{BUCKET}/cur/"], tmp_path / "ds", s3_options=S3Options())
        assert denied.value.where == f"s3://{BUCKET}/cur/"
        code, _, err = _main(capsys, "billing", "load", f"s3://{BUCKET}/cur/", "--into", str(tmp_path / "ds"))
        assert code == AwsAccessError.exit_code and f"s3://{BUCKET}/cur/: ListBucket refused" in err
    finally:
        proxy.stop()


def test_the_role_of_billing_s3_reads_a_bucket_the_caller_cannot(
    aws: str,
    written: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    s3 = _s3()
    s3.create_bucket(Bucket=BUCKET)
    _put_tree(s3, written["cur"], "cur/")
    config = tmp_path / "awscost.toml"
    config.write_text(
        '[billing.s3]\nrole_arn = "arn:aws:iam::111122223333:role/cur-reader"\nexternal_id = "x-1"\n'
        'region = "us-east-1"\n',
        encoding="utf-8",
    )
    proxy = FaultProxy(aws, "testing", "123456789012").start()
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.endpoint)
        # The caller's own keys may not read the bucket; the role's keys (learnt from AssumeRole) may.
        proxy.set_rules(Rule("denied", service="s3", account="123456789012"))
        args = ["billing", "load", f"s3://{BUCKET}/cur/", "--into", str(tmp_path / "ds")]
        code, _, err = _main(capsys, *args, "--format", "json")
        assert code == AwsAccessError.exit_code, err
        code, out, err = _main(capsys, *args, "--format", "json", "--config", str(config))
        assert code == 0, err
        rows = json.loads(out)
        assert [r["BillingPeriod"] for r in rows] == ["2026-11", "2026-12"]
        assert proxy.rules[0].hits >= 1  # the refused first try went through the proxy
    finally:
        proxy.stop()


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8,
)
_MANIFESTS = st.one_of(
    st.binary(max_size=200),
    _JSON.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {
            "billingPeriod": st.one_of(_JSON, st.just({"start": "20261101T000000.000Z"})),
            "assemblyId": _JSON,
            "reportKeys": st.lists(st.one_of(_TEXT, st.just("r/20261101-20261201/a/r-1.csv.gz")), max_size=3),
        }
    ).map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {
            "executionId": _JSON,
            "dataFiles": st.lists(
                st.one_of(_TEXT, st.just(f"s3://{BUCKET}/e/data/BILLING_PERIOD=2026-11/e-1.csv.gz")),
                max_size=3,
            ),
        }
    ).map(lambda v: json.dumps(v).encode()),
)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(body=_MANIFESTS)
def test_a_malformed_manifest_in_s3_is_a_delivery_or_one_error_naming_it(aws: str, body: bytes) -> None:
    """Whatever a manifest object holds, reading it gives a delivery or one InputError naming the manifest
    (a key it names that does not exist included), never another exception."""
    s3 = _s3()
    s3.create_bucket(Bucket=BUCKET)
    key = "e/metadata/BILLING_PERIOD=2026-11/e-Manifest.json"
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    for data_key in ("r/20261101-20261201/a/r-1.csv.gz", "e/data/BILLING_PERIOD=2026-11/e-1.csv.gz"):
        s3.put_object(Bucket=BUCKET, Key=data_key, Body=b"x")
    obj = next(o for o in s3_sources.list_objects(s3, s3_sources.S3Location(BUCKET, "e/")) if o.key == key)
    listed = {
        (BUCKET, "r/20261101-20261201/a/r-1.csv.gz"),
        (BUCKET, "e/data/BILLING_PERIOD=2026-11/e-1.csv.gz"),
    }
    try:
        delivery = s3_sources.read_manifest(s3, obj, listed)
    except InputError as exc:
        assert exc.where == f"s3://{BUCKET}/{key}" and "\n" not in exc.message.strip()
    else:
        assert delivery.period and delivery.files and delivery.id
        assert set(delivery.files) <= listed


def test_bills_in_s3_load_incrementally_into_a_dataset_in_s3(
    aws: str, written: dict[str, Path], gets: Counter[str], tmp_path: Path
) -> None:
    """What the deployed ingest job does: the export bucket's deliveries into the S3 dataset, twice; the
    second load reads no bill file and leaves the dataset's manifest as it was."""
    s3 = _s3()
    s3.create_bucket(Bucket=BUCKET)
    keys = _put_tree(s3, written["cur"], "cur/")
    local = load_into([written["cur"]], tmp_path / "local")
    into = f"s3://{BUCKET}/dataset/"
    first = load_into([f"s3://{BUCKET}/cur/"], into, s3_options=S3Options())
    assert _totals(first) == _totals(local)
    assert {k for k in _data_gets(gets) if k.startswith("cur/")} == {k for k in keys if k.endswith(".csv.gz")}
    etag = s3.head_object(Bucket=BUCKET, Key="dataset/_awscost_billing.json")["ETag"]
    assert all(info["delivery"]["id"] for info in first["periods"].values())

    gets.clear()
    unchanged: list[str] = []
    second = load_into(
        [f"s3://{BUCKET}/cur/"], into, s3_options=S3Options(), on_unchanged=lambda p, _m: unchanged.append(p)
    )
    assert sorted(unchanged) == sorted(first["periods"])
    assert {k for k in _data_gets(gets) if k.startswith("cur/")} == set()  # no bill file read
    assert s3.head_object(Bucket=BUCKET, Key="dataset/_awscost_billing.json")["ETag"] == etag
    assert _totals(second) == _totals(first)
    with load(into, s3_options=S3Options()) as bill, load(tmp_path / "local") as here:
        assert bill.total("BilledCost") == here.total("BilledCost")
