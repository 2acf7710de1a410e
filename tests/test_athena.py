"""Athena over the S3 billing dataset (`billing/athena.py`).

The engine against botocore's Stubber (moto's Athena returns no real results; the Stubber checks every call's
parameters and every response against AWS's model): a query's whole Start / Get / Results sequence over two
result pages, each Athena type to its Python value (decimals exact to the last digit, NULLs), a failure with
its reason, the bytes-scanned cutoff stopping the query, the names given back their case. The DDL: golden
(tests/data/athena/billing_ddl.sql), parsed by sqlglot's Athena dialect, its types those of the parquet files
a load writes. The symlink files, against a moto server over HTTP: exactly the manifest's objects, never a
superseded one, repaired by the next load after a load killed right after its swap, SSE-KMS when configured.
The command `awscost billing athena-ddl`. `[billing.athena]`'s errors.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from hypothesis import given
from hypothesis import strategies as st

from awscost.billing import athena, load, load_into
from awscost.billing.athena import AthenaEngine, AthenaOptions, athena_ddl
from awscost.billing.crashpoint import CRASH_ENV
from awscost.billing.s3 import S3Location, S3Options
from awscost.billing.schema import CANONICAL
from awscost.core.config import Settings
from awscost.core.errors import AwsAccessError, AwsCostWarning, ConfigError, InputError
from sent_queries import record_queries

DATA = Path(__file__).parent / "data"
BILLING = DATA / "billing"
GOLDEN = DATA / "athena" / "billing_ddl.sql"
SRC = Path(__file__).resolve().parents[1] / "src"
BUCKET = "billing-data"
PREFIX = "awscost/billing/"
URL = f"s3://{BUCKET}/{PREFIX}"
QID = "0f6c9a6e-3c1b-4bb2-9a57-1d2b1c9e7f10"
SQL = 'SELECT "ServiceName", sum("BilledCost") AS "BilledCost" FROM billing GROUP BY 1'


# --------------------------------------------------------------------------------------------------------
# The engine, against the Stubber


@pytest.fixture()
def client(monkeypatch: pytest.MonkeyPatch) -> Any:
    """awscost's own Athena client (retries, timeouts); the Stubber answers before anything is sent."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    return athena.athena_client(AthenaOptions(region="us-east-1"))


def execution(state: str, scanned: int | None = None, **status: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "QueryExecutionId": QID,
        "Query": SQL,
        "StatementType": "DML",
        "WorkGroup": "analytics",
        "Status": {"State": state, "SubmissionDateTime": datetime(2026, 12, 2, 3, 0, tzinfo=UTC), **status},
    }
    if scanned is not None:
        out["Statistics"] = {"DataScannedInBytes": scanned, "EngineExecutionTimeInMillis": 1200}
    return {"QueryExecution": out}


COLUMNS = [
    ("servicename", "varchar"),
    ("billedcost", "decimal"),
    ("rows", "bigint"),
    ("share", "double"),
    ("covered", "boolean"),
    ("day", "date"),
    ("start", "timestamp"),
    ("tags", "map"),
]
NAMES = ["ServiceName", "BilledCost", "Rows", "Share", "Covered", "Day", "Start", "Tags"]


def page(rows: list[list[str | None]], token: str | None = None) -> dict[str, Any]:
    info = [
        {"Name": n, "Label": n, "Type": t, **({"Precision": 38, "Scale": 18} if t == "decimal" else {})}
        for n, t in COLUMNS
    ]
    data = [{"Data": [{} if v is None else {"VarCharValue": v} for v in row]} for row in rows]
    out: dict[str, Any] = {"ResultSet": {"Rows": data, "ResultSetMetadata": {"ColumnInfo": info}}}
    if token:
        out["NextToken"] = token
    return out


START = {
    "QueryString": SQL,
    "QueryExecutionContext": {"Database": "awscost"},
    "WorkGroup": "analytics",
    "ResultConfiguration": {"OutputLocation": "s3://query-results/awscost/"},
}
OPTIONS = AthenaOptions(workgroup="analytics", output_location="s3://query-results/awscost/")


def test_a_query_runs_start_to_end_over_two_result_pages_with_every_value_typed(client: Any) -> None:
    header = [n for n, _ in COLUMNS]
    first = [
        "AmazonEC2",
        "12345678901234567890.123456789012345678",
        "9007199254740993",  # above 2^53: an int, not a float
        "0.25",
        "true",
        "2026-11-01",
        "2026-11-01 00:00:00.000",
        "{team=search}",
    ]
    second = [
        "AmazonS3",
        "0.000000000000000001",
        "0",
        "1.0E-7",
        "false",
        "2026-11-30",
        "2026-11-30 23:00:00.123",
        "{}",
    ]
    nulls: list[str | None] = ["", None, None, None, None, None, None, None]  # '' stays an empty string
    sleeps: list[float] = []
    with Stubber(client) as stub:
        stub.add_response("start_query_execution", {"QueryExecutionId": QID}, START)
        stub.add_response("get_query_execution", execution("QUEUED"), {"QueryExecutionId": QID})
        stub.add_response("get_query_execution", execution("RUNNING", 1000), {"QueryExecutionId": QID})
        stub.add_response(
            "get_query_execution", execution("SUCCEEDED", 123_456_789), {"QueryExecutionId": QID}
        )
        stub.add_response(
            "get_query_results",
            page([header, first, second], token="page-2"),
            {"QueryExecutionId": QID, "MaxResults": 1000},
        )
        stub.add_response(
            "get_query_results",
            page([nulls]),
            {"QueryExecutionId": QID, "MaxResults": 1000, "NextToken": "page-2"},
        )
        frame = AthenaEngine(client, OPTIONS, sleep=sleeps.append).query(SQL, names=NAMES)
        stub.assert_no_pending_responses()
    assert sleeps == [1.0, 1.0]  # between the three polls, poll_seconds apart
    assert frame.columns == NAMES  # Athena's lower-cased names given back their case
    assert frame.rows == [
        (
            "AmazonEC2",
            Decimal("12345678901234567890.123456789012345678"),
            9007199254740993,
            0.25,
            True,
            date(2026, 11, 1),
            datetime(2026, 11, 1),
            "{team=search}",
        ),
        (
            "AmazonS3",
            Decimal("1E-18"),
            0,
            1e-7,
            False,
            date(2026, 11, 30),
            datetime(2026, 11, 30, 23, 0, 0, 123000),
            "{}",
        ),
        ("", None, None, None, None, None, None, None),
    ]
    # Exact to the last digit: the text Athena sent, as a Decimal, not through a float.
    assert str(frame.rows[0][1]) == "12345678901234567890.123456789012345678"
    assert frame.attrs["athena"] == {
        "query_execution_id": QID,
        "data_scanned_bytes": 123_456_789,
        # 123456789 bytes is 117.7 MB, billed as 118 MB at $5 per 2^40 bytes.
        "cost_usd": Decimal(5) * 118 * 2**20 / 2**40,
    }
    assert frame.attrs["athena"]["cost_usd"] == Decimal("0.00056266784667968750")


def test_without_names_the_columns_are_athenas_and_without_output_location_none_is_sent(client: Any) -> None:
    start = {k: v for k, v in START.items() if k != "ResultConfiguration"}
    start["WorkGroup"] = "primary"
    with Stubber(client) as stub:
        stub.add_response("start_query_execution", {"QueryExecutionId": QID}, start)
        stub.add_response("get_query_execution", execution("SUCCEEDED", 0), {"QueryExecutionId": QID})
        stub.add_response(
            "get_query_results",
            page([[n for n, _ in COLUMNS]]),
            {"QueryExecutionId": QID, "MaxResults": 1000},
        )
        frame = AthenaEngine(client, AthenaOptions(), sleep=pytest.fail).query(SQL)
    assert frame.columns == [n for n, _ in COLUMNS] and frame.rows == []
    # A query scanning nothing is billed Athena's 10 MB minimum.
    assert frame.attrs["athena"]["cost_usd"] == Decimal(5) * 10 * 2**20 / 2**40


@pytest.mark.parametrize(
    ("category", "error"),
    [(2, InputError), (1, AwsAccessError)],  # the query's fault (USER) or Athena's (SYSTEM)
)
def test_a_failed_query_is_an_error_naming_its_id_and_athenas_reason(
    client: Any, category: int, error: type[Exception]
) -> None:
    reason = "COLUMN_NOT_FOUND: line 1:8: Column 'servicenam' cannot be resolved"
    failed = execution(
        "FAILED",
        0,
        StateChangeReason=reason,
        AthenaError={
            "ErrorCategory": category,
            "ErrorType": 1006,
            "Retryable": False,
            "ErrorMessage": reason,
        },
    )
    with Stubber(client) as stub:
        stub.add_response("start_query_execution", {"QueryExecutionId": QID}, START)
        stub.add_response("get_query_execution", failed, {"QueryExecutionId": QID})
        with pytest.raises(error) as info:
            AthenaEngine(client, OPTIONS, sleep=pytest.fail).query(SQL)
    assert str(info.value) == f"Athena query {QID}: the query failed: {reason}"


def test_a_query_refused_on_s3_access_is_an_access_error(client: Any) -> None:
    reason = "Access denied when writing output to url: s3://query-results/awscost/x.csv"
    failed = execution("FAILED", 0, StateChangeReason=reason, AthenaError={"ErrorCategory": 2})
    with Stubber(client) as stub:
        stub.add_response("start_query_execution", {"QueryExecutionId": QID}, START)
        stub.add_response("get_query_execution", failed, {"QueryExecutionId": QID})
        with pytest.raises(AwsAccessError, match="Access denied when writing output"):
            AthenaEngine(client, OPTIONS).query(SQL)


def test_a_query_scanning_past_max_bytes_scanned_is_stopped(client: Any) -> None:
    options = AthenaOptions(
        workgroup="analytics", output_location=OPTIONS.output_location, max_bytes_scanned=10**9
    )
    with Stubber(client) as stub:
        stub.add_response("start_query_execution", {"QueryExecutionId": QID}, START)
        stub.add_response("get_query_execution", execution("RUNNING", 10**9), {"QueryExecutionId": QID})
        stub.add_response("get_query_execution", execution("RUNNING", 10**9 + 1), {"QueryExecutionId": QID})
        stub.add_response("stop_query_execution", {}, {"QueryExecutionId": QID})
        with pytest.raises(InputError) as info:
            AthenaEngine(client, options, sleep=lambda s: None).query(SQL)
        stub.assert_no_pending_responses()  # StopQueryExecution was called
    message = str(info.value)
    assert message.startswith(
        f"Athena query {QID}: the query scanned 1000000001 bytes, above max_bytes_scanned "
    )
    assert "stopped" in message and "$0.004549" in message  # what was scanned is charged: 954 MB


def test_a_query_finished_past_the_cutoff_between_two_polls_returns_with_a_warning(client: Any) -> None:
    options = AthenaOptions(
        workgroup="analytics", output_location=OPTIONS.output_location, max_bytes_scanned=100
    )
    with Stubber(client) as stub:
        stub.add_response("start_query_execution", {"QueryExecutionId": QID}, START)
        stub.add_response("get_query_execution", execution("SUCCEEDED", 5000), {"QueryExecutionId": QID})
        stub.add_response(
            "get_query_results",
            page([[n for n, _ in COLUMNS]]),
            {"QueryExecutionId": QID, "MaxResults": 1000},
        )
        with pytest.warns(AwsCostWarning, match="BytesScannedCutoffPerQuery"):
            frame = AthenaEngine(client, options).query(SQL)
    assert frame.attrs["athena"]["data_scanned_bytes"] == 5000


def test_a_query_cancelled_by_the_workgroup_cutoff_says_so(client: Any) -> None:
    cancelled = execution("CANCELLED", 2 * 10**10, StateChangeReason="Query exhausted bytes scanned limit")
    with Stubber(client) as stub:
        stub.add_response("start_query_execution", {"QueryExecutionId": QID}, START)
        stub.add_response("get_query_execution", cancelled, {"QueryExecutionId": QID})
        with pytest.raises(InputError, match="cancelled: Query exhausted bytes scanned limit") as info:
            AthenaEngine(client, OPTIONS).query(SQL)
    assert "BytesScannedCutoffPerQuery" in str(info.value)


def test_a_query_running_past_the_timeout_is_stopped(client: Any) -> None:
    now = iter([0.0, 5.0, 11.0])
    with Stubber(client) as stub:
        stub.add_response("start_query_execution", {"QueryExecutionId": QID}, START)
        stub.add_response("get_query_execution", execution("RUNNING", 0), {"QueryExecutionId": QID})
        stub.add_response("get_query_execution", execution("RUNNING", 0), {"QueryExecutionId": QID})
        stub.add_response("stop_query_execution", {}, {"QueryExecutionId": QID})
        engine = AthenaEngine(client, OPTIONS, sleep=lambda s: None, clock=lambda: next(now), timeout_s=10)
        with pytest.raises(AwsAccessError, match="ran longer than 10 s"):
            engine.query(SQL)
        stub.assert_no_pending_responses()


def test_no_output_location_anywhere_names_the_setting(client: Any) -> None:
    message = (
        "No output location provided. An output location is required either through the Workgroup result "
        "configuration setting or as an API input."
    )
    with Stubber(client) as stub:
        stub.add_client_error("start_query_execution", "InvalidRequestException", message, 400)
        with pytest.raises(InputError) as info:
            AthenaEngine(client, AthenaOptions()).query(SQL)
    assert "output_location in awscost.toml [billing.athena]" in str(info.value)
    assert str(info.value).startswith(
        "Athena workgroup primary: cannot start an Athena query: InvalidRequestException"
    )


def test_names_must_match_the_results_columns(client: Any) -> None:
    for names, match in (
        (NAMES[:-1], "7 names for the 8 columns"),
        (["Other", *NAMES[1:]], "is 'servicename'"),
    ):
        with Stubber(client) as stub:
            stub.add_response("start_query_execution", {"QueryExecutionId": QID}, START)
            stub.add_response("get_query_execution", execution("SUCCEEDED", 0), {"QueryExecutionId": QID})
            stub.add_response(
                "get_query_results",
                page([[n for n, _ in COLUMNS]]),
                {"QueryExecutionId": QID, "MaxResults": 1000},
            )
            with pytest.raises(ValueError, match=match):
                AthenaEngine(client, OPTIONS).query(SQL, names=names)


def test_without_a_statement_type_the_header_row_is_told_by_its_names(client: Any) -> None:
    untyped = execution("SUCCEEDED", 0)
    del untyped["QueryExecution"]["StatementType"]
    row = ["AmazonEC2", "1.5", "2", "0.5", "true", "2026-11-01", "2026-11-01 00:00:00.000", "{}"]
    for rows, want in (([[n for n, _ in COLUMNS], row], 1), ([row, row], 2)):
        with Stubber(client) as stub:
            stub.add_response("start_query_execution", {"QueryExecutionId": QID}, START)
            stub.add_response("get_query_execution", untyped, {"QueryExecutionId": QID})
            stub.add_response("get_query_results", page(rows), {"QueryExecutionId": QID, "MaxResults": 1000})
            frame = AthenaEngine(client, OPTIONS).query(SQL)
        assert len(frame) == want and frame.rows[0][1] == Decimal("1.5")


def test_a_malformed_value_is_an_error_naming_the_column(client: Any) -> None:
    with Stubber(client) as stub:
        stub.add_response("start_query_execution", {"QueryExecutionId": QID}, START)
        stub.add_response("get_query_execution", execution("SUCCEEDED", 0), {"QueryExecutionId": QID})
        bad = ["x", "12.5.1", "1", "1", "true", "2026-11-01", "2026-11-01 00:00:00", "{}"]
        stub.add_response(
            "get_query_results",
            page([[n for n, _ in COLUMNS], bad]),
            {"QueryExecutionId": QID, "MaxResults": 1000},
        )
        with pytest.raises(AwsAccessError, match=r"unreadable decimal value '12\.5\.1' in column billedcost"):
            AthenaEngine(client, OPTIONS).query(SQL)


TYPES = {
    "decimal": Decimal,
    "bigint": int,
    "integer": int,
    "double": float,
    "boolean": bool,
    "date": date,
    "timestamp": datetime,
    "varchar": str,
    "map": str,
}


@given(
    kind=st.sampled_from(sorted(TYPES)),
    text=st.one_of(st.text(max_size=30), st.from_regex(r"-?[0-9]{1,40}(\.[0-9]{0,20})?", fullmatch=True)),
)
def test_any_value_text_is_its_type_or_a_value_error(kind: str, text: str) -> None:
    """Property: whatever text a result holds, its column's converter gives that type's value or raises the
    ValueError the engine turns into one error naming the column (never another exception)."""
    from decimal import InvalidOperation

    try:
        value = athena._converter(kind)(text)
    except (ValueError, InvalidOperation):
        return
    assert isinstance(value, TYPES[kind])
    if kind == "decimal":  # no NaN or infinity passes for money
        assert value.is_finite()


# --------------------------------------------------------------------------------------------------------
# [billing.athena]


def settings(table: Any) -> Settings:
    return Settings(raw={"billing": {"athena": table}}, config_path="awscost.toml")


def test_options_from_settings() -> None:
    assert AthenaOptions.from_settings(Settings()) == AthenaOptions()
    got = AthenaOptions.from_settings(
        settings(
            {
                "database": "finops",
                "table": "cur",
                "workgroup": "cost-reports",
                "output_location": "s3://athena-results/awscost/",
                "max_bytes_scanned": 50_000_000_000,
                "region": "eu-west-1",
                "poll_seconds": 2,
            }
        )
    )
    assert got == AthenaOptions(
        "finops", "cur", "cost-reports", "s3://athena-results/awscost/", 50_000_000_000, "eu-west-1", 2.0
    )
    assert got.with_names(table="bill") == AthenaOptions(
        "finops", "bill", "cost-reports", got.output_location, got.max_bytes_scanned, "eu-west-1", 2.0
    )


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"databse": "x"}, "unknown key(s) databse; expected database, table"),
        ({"database": "Billing"}, "database 'Billing' is not an Athena name"),
        ({"table": "my-table"}, "table 'my-table' is not an Athena name"),
        ({"database": 3}, "database 3 is not an Athena name"),
        ({"workgroup": "a b"}, "workgroup 'a b' is not a workgroup name"),
        ({"output_location": "results/"}, "output_location must be an s3:// URL, not 'results/'"),
        (
            {"output_location": "s3://Bad_Bucket/x"},
            "output_location: 'Bad_Bucket' is not a valid S3 bucket name",
        ),
        ({"max_bytes_scanned": 0}, "max_bytes_scanned must be a positive integer, not 0"),
        ({"max_bytes_scanned": True}, "max_bytes_scanned must be a positive integer, not True"),
        ({"max_bytes_scanned": "10GB"}, "max_bytes_scanned must be a positive integer, not '10GB'"),
        ({"region": "Europe"}, "'Europe' is not an AWS region name"),
        ({"region": 1}, "region must be a string, not 1"),
        ({"poll_seconds": 0}, "poll_seconds must be a number of seconds in (0, 60], not 0"),
        ({"poll_seconds": "1"}, "poll_seconds must be a number of seconds in (0, 60], not '1'"),
    ],
)
def test_a_bad_setting_is_a_config_error_naming_the_key(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        AthenaOptions.from_settings(settings(table))
    assert info.value.where == "awscost.toml [billing.athena]"
    assert message in info.value.message


settings_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(["awscost", "Billing", "s3://results/x/", "s3://Bad/x", "eu-west-1", "primary", "a b"]),
    st.lists(st.integers(), max_size=2),
)


@given(table=st.dictionaries(st.sampled_from([*athena._OPTION_KEYS, "databse"]), settings_values, max_size=5))
def test_any_billing_athena_table_gives_usable_options_or_one_config_error(table: dict[str, Any]) -> None:
    """Property: whatever [billing.athena] holds, options a query can use or one ConfigError naming the table."""
    try:
        options = AthenaOptions.from_settings(settings(table))
    except ConfigError as exc:
        assert exc.where == "awscost.toml [billing.athena]" and "\n" not in exc.render()
        return
    assert athena._NAME.match(options.database) and athena._NAME.match(options.table)
    assert athena._WORKGROUP.match(options.workgroup)
    assert options.output_location is None or options.output_location.startswith("s3://")
    assert options.max_bytes_scanned is None or options.max_bytes_scanned > 0
    assert 0 < options.poll_seconds <= 60


def test_billing_athena_must_be_a_table_and_flags_are_checked() -> None:
    with pytest.raises(ConfigError, match=r"\[billing.athena\] must be a table"):
        AthenaOptions.from_settings(settings("finops"))
    with pytest.raises(InputError) as info:
        AthenaOptions().with_names(database="Fin-Ops")
    assert info.value.param == "database"


# --------------------------------------------------------------------------------------------------------
# The DDL

MANIFEST = {"periods": {"2025-02": {}, "2024-03": {}}}


def test_the_ddl_is_the_golden_one() -> None:
    ddl = athena_ddl(URL, MANIFEST, AthenaOptions())
    assert ddl == GOLDEN.read_text(encoding="utf-8")


def test_the_ddl_parses_as_athena_sql_with_every_canonical_column() -> None:
    from sqlglot import exp, parse_one

    tree = parse_one(athena_ddl(URL, MANIFEST, AthenaOptions(database="finops", table="bill")), read="athena")
    assert isinstance(tree, exp.Create) and tree.kind == "TABLE" and tree.args["exists"]
    table = tree.this.this
    assert (table.db, table.name) == ("finops", "bill")
    columns = [c.name for c in tree.this.expressions]
    assert columns == [c for c in CANONICAL if c != "x_BillingPeriod"]  # canonical order, partition key apart
    props = tree.args["properties"].expressions
    assert any(isinstance(p, exp.ExternalProperty) for p in props)
    partitioned = next(p for p in props if isinstance(p, exp.PartitionedByProperty))
    assert [c.name for c in partitioned.this.expressions] == ["x_BillingPeriod"]
    location = next(p for p in props if isinstance(p, exp.LocationProperty))
    assert location.this.name == f"{URL}_athena/"
    tblprops = {
        p.name: p.text("value")
        for p in props
        if isinstance(p, exp.Property) and p.name.startswith(("projection", "storage"))
    }
    assert tblprops == {
        "projection.enabled": "true",
        "projection.x_billingperiod.type": "date",
        "projection.x_billingperiod.format": "yyyy-MM",
        "projection.x_billingperiod.range": "2024-03,NOW",  # the first period, to now
        "projection.x_billingperiod.interval": "1",
        "projection.x_billingperiod.interval.unit": "MONTHS",
        "storage.location.template": f"{URL}_athena/x_BillingPeriod=${{x_billingperiod}}/",
    }


def test_hive_types_are_derived_from_the_schema_and_unknown_ones_refused() -> None:
    assert athena.hive_type("VARCHAR") == "string"
    assert athena.hive_type("DECIMAL(38,18)") == "decimal(38,18)"
    assert athena.hive_type("MAP(VARCHAR, VARCHAR)") == "map<string,string>"
    assert athena.hive_type("TIMESTAMP") == "timestamp"
    assert [athena.hive_type(t) for t in ("BIGINT", "INTEGER", "DOUBLE", "BOOLEAN", "DATE")] == [
        "bigint",
        "int",
        "double",
        "boolean",
        "date",
    ]
    with pytest.raises(ValueError, match="no Athena"):
        athena.hive_type("HUGEINT")
    with pytest.raises(ValueError, match="no Athena"):
        athena.hive_type("TIMESTAMPTZ")


def test_the_ddl_refuses_an_empty_dataset_and_a_quote_in_the_url() -> None:
    with pytest.raises(InputError, match="holds no billing period"):
        athena_ddl(URL, {"periods": {}})
    with pytest.raises(InputError, match="holds a quote"):
        athena_ddl(f"s3://{BUCKET}/it's/", MANIFEST)


# --------------------------------------------------------------------------------------------------------
# The symlink files, against a moto server


@pytest.fixture()
def s3(aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AWSCOST_CACHE_DIR", str(tmp_path / "cache"))
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    return client


def manifest(s3: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        s3.get_object(Bucket=BUCKET, Key=PREFIX + "_awscost_billing.json")["Body"].read()
    )
    return data


def symlinks(s3: Any) -> dict[str, list[str]]:
    """Period -> the URLs its symlink file lists, for every file under _athena/."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=PREFIX + "_athena/")
    out = {}
    for key in (o["Key"] for p in pages for o in p.get("Contents", [])):
        period = key.split("x_BillingPeriod=")[1].split("/")[0]
        assert key == f"{PREFIX}_athena/x_BillingPeriod={period}/symlink.txt"
        out[period] = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode().splitlines()
    return out


def listed(data: dict[str, Any]) -> dict[str, list[str]]:
    """Period -> the URLs of the objects the manifest lists."""
    return {p: [URL + o["key"] for o in info["objects"]] for p, info in data["periods"].items()}


def all_keys(s3: Any) -> set[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
    return {o["Key"] for page in pages for o in page.get("Contents", [])}


def test_each_load_writes_symlinks_of_exactly_the_manifests_objects_never_a_superseded_one(s3: Any) -> None:
    seen: set[str] = set()
    for files in (
        [BILLING / "cur_small.csv"],
        [BILLING / "cur2_small.csv"],
        [BILLING / "cur_small.csv"],
        [BILLING / "cur_small.csv"],
    ):
        load_into(files, URL)
        now = manifest(s3)
        links = symlinks(s3)
        assert links == listed(now)
        # The objects the load replaced are still in S3 (one more load) but in no symlink file.
        superseded = {URL + k for k in now["retired"]}
        assert not superseded & {u for urls in links.values() for u in urls}
        assert {u.removeprefix(f"s3://{BUCKET}/") for u in superseded} <= all_keys(s3)
        seen |= superseded
    assert seen  # the third and fourth loads replaced 2024-03's objects
    # Both periods, data parts and the amortization file each: every object each manifest lists.
    assert set(links) == {"2024-03", "2025-02"}
    assert all(
        u.endswith(".parquet") and "-part-" in u
        for urls in links.values()
        for u in urls
        if "amortized" not in u
    )


def test_amortization_files_are_listed_also_for_periods_a_load_changed_only_by_their_shares(
    s3: Any, tmp_path: Path
) -> None:
    """A DBR purchase month loaded after the months of its term rewrites their amortization rows (new keys):
    their symlink files follow, though the load brought no rows of theirs."""
    import dbr_bills

    term = ("2017-06-09 21:21:37", "2018-06-09 21:21:36")  # a one-year term: a share for each month
    files = {
        p: dbr_bills.write_month(
            tmp_path / "dbr", p, [dbr_bills.sign_up("900.00000000", *term)] if p == "2017-06" else []
        )
        for p in ("2017-06", "2017-07", "2017-08")
    }
    load_into([files["2017-07"], files["2017-08"]], URL)
    assert not any("amortized" in u for urls in symlinks(s3).values() for u in urls)  # no fee known yet
    load_into([files["2017-06"]], URL)
    links = symlinks(s3)
    assert links == listed(manifest(s3))
    for period in ("2017-06", "2017-07", "2017-08"):
        assert sum(u.endswith("-amortized.parquet") for u in links[period]) == 1, period


def test_a_load_killed_after_its_swap_leaves_the_previous_symlinks_and_the_next_load_repairs_them(
    s3: Any, tmp_path: Path
) -> None:
    load_into([BILLING / "cur_small.csv"], URL)
    before = symlinks(s3)
    files = [BILLING / "cur2_small.csv", BILLING / "cur_small.csv"]
    env = {**os.environ, CRASH_ENV: "swapped", "PYTHONPATH": str(SRC), "AWSCOST_DUCKDB_THREADS": "1"}
    args = ["billing", "load", *map(str, files), "--into", URL, "--format", "json"]
    proc = subprocess.run(
        [sys.executable, "-m", "awscost", *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    swapped = manifest(s3)
    assert set(swapped["periods"]) == {"2024-03", "2025-02"}  # the killed load landed ...
    assert symlinks(s3) == before != listed(swapped)  # ... but its symlinks were never written
    # What the old files name is still there: Athena reads the previous dataset whole, not a missing object.
    assert {u.removeprefix(f"s3://{BUCKET}/") for urls in before.values() for u in urls} <= all_keys(s3)
    with pytest.warns(AwsCostWarning, match="2024-03, 2025-02 differ from the manifest"):
        athena.dataset_ddl(URL)  # the DDL command sees it
    load_into([BILLING / "cur_small.csv"], URL)  # the next load that lands repairs every period
    assert symlinks(s3) == listed(manifest(s3))


def test_symlinks_of_a_period_the_manifest_no_longer_holds_are_deleted(s3: Any) -> None:
    load_into([BILLING / "cur_small.csv"], URL)
    loc = S3Location.parse(URL, folder=True)
    stale = athena.symlink_key(loc, "2019-01")
    s3.put_object(Bucket=BUCKET, Key=stale, Body=f"{URL}x_BillingPeriod=2019-01/gone.parquet\n".encode())
    s3.put_object(Bucket=BUCKET, Key=athena.symlink_key(loc, "2024-03"), Body=b"s3://elsewhere/x.parquet\n")
    done = athena.sync_symlinks(s3, loc, manifest(s3))
    assert set(done.write) == {athena.symlink_key(loc, "2024-03")} and done.delete == (stale,)
    assert symlinks(s3) == listed(manifest(s3))
    assert not athena.sync_symlinks(s3, loc, manifest(s3))  # in step: nothing written, nothing deleted


def test_symlink_files_are_written_with_sse_kms(s3: Any) -> None:
    key_id = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["Arn"]
    load_into([BILLING / "cur_small.csv"], URL, s3_options=S3Options(kms_key_id=key_id))
    key = f"{PREFIX}_athena/x_BillingPeriod=2024-03/symlink.txt"
    head = s3.head_object(Bucket=BUCKET, Key=key)
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == key_id


def test_a_symlink_failure_warns_and_keeps_the_superseded_objects(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_into([BILLING / "cur_small.csv"], URL)
    load_into([BILLING / "cur_small.csv"], URL)  # 2024-03 replaced: the first objects are retired
    retired = {PREFIX + k for k in manifest(s3)["retired"]}
    real = athena.sync_symlinks

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise AwsAccessError("cannot write the Athena symlink files: AccessDenied: Access Denied", where=URL)

    monkeypatch.setattr(athena, "sync_symlinks", refused)
    with pytest.warns(AwsCostWarning, match="the load landed, but Athena's symlink files were not updated"):
        load_into([BILLING / "cur_small.csv"], URL)
    monkeypatch.setattr(athena, "sync_symlinks", real)
    # Not deleted: the symlink files (one load behind) may still name them.
    assert retired <= all_keys(s3)
    load_into([BILLING / "cur_small.csv"], URL)
    assert symlinks(s3) == listed(manifest(s3))


def test_the_ddl_declares_the_types_the_parquet_files_hold(s3: Any, tmp_path: Path) -> None:
    """A Hive table declaring another type than its files is read differently by each engine: the DDL's
    column types are those of a loaded object's parquet schema, money included."""
    import pyarrow.parquet as pq
    from sqlglot import parse_one

    load_into([BILLING / "cur_small.csv"], URL)
    data = manifest(s3)
    key = PREFIX + data["periods"]["2024-03"]["objects"][0]["key"]
    target = tmp_path / "part.parquet"
    target.write_bytes(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    schema = pq.read_schema(target)
    tree = parse_one(athena_ddl(URL, data), read="athena")
    # The parquet schema's types, in Hive's words (pyarrow names a map's value field; the type is the same).
    arrow = {
        "string": "string",
        "timestamp[us]": "timestamp",
        "decimal128(38, 18)": "decimal(38, 18)",
        "map<string, string ('Tags')>": "map<string, string>",
        "map<string, string ('x_Extra')>": "map<string, string>",
    }
    declared = {c.name: c.args["kind"].sql("hive").lower() for c in tree.this.expressions}
    assert declared == {name: arrow[str(schema.field(name).type)] for name in declared}
    assert declared["BilledCost"] == "decimal(38, 18)"  # not the DECIMAL(18,10) the manifest says it fits
    assert data["periods"]["2024-03"]["money_types"]["BilledCost"] == "DECIMAL(18,10)"


# --------------------------------------------------------------------------------------------------------
# awscost billing athena-ddl


def test_cli_athena_ddl_prints_or_writes_the_tables_ddl(s3: Any, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from awscost.entrypoints.cli import cli as main

    load_into([BILLING / "cur_small.csv", BILLING / "cur2_small.csv"], URL)
    runner = CliRunner()
    printed = runner.invoke(main, ["billing", "athena-ddl", URL])
    assert printed.exit_code == 0, printed.output
    assert printed.stdout == athena_ddl(URL, manifest(s3), AthenaOptions()) and printed.stderr == ""
    config = tmp_path / "awscost.toml"
    config.write_text('[billing.athena]\ndatabase = "finops"\ntable = "cur"\n', encoding="utf-8")
    out = tmp_path / "ddl.sql"
    written = runner.invoke(
        main, ["billing", "athena-ddl", URL, "--table", "bill", "--out", str(out), "--config", str(config)]
    )
    assert written.exit_code == 0, written.output
    assert written.stdout == ""
    assert out.read_text(encoding="utf-8") == athena_ddl(
        URL, manifest(s3), AthenaOptions(database="finops", table="bill")
    )
    assert "CREATE EXTERNAL TABLE IF NOT EXISTS `finops`.`bill` (" in out.read_text(encoding="utf-8")


def test_cli_athena_ddl_warns_of_stale_symlinks_and_writes_them_when_asked(s3: Any) -> None:
    from click.testing import CliRunner

    from awscost.entrypoints.cli import cli as main

    load_into([BILLING / "cur_small.csv"], URL)
    s3.delete_object(
        Bucket=BUCKET, Key=f"{PREFIX}_athena/x_BillingPeriod=2024-03/symlink.txt"
    )  # as before awscost wrote them
    runner = CliRunner()
    warned = runner.invoke(main, ["billing", "athena-ddl", URL])
    assert warned.exit_code == 0, warned.output
    assert warned.stderr.startswith(
        f"awscost: warning: {URL}: the Athena symlink files of period(s) 2024-03 differ"
    )
    assert symlinks(s3) == {}
    fixed = runner.invoke(main, ["billing", "athena-ddl", URL, "--write-symlinks"])
    assert fixed.exit_code == 0 and fixed.stderr == "", fixed.output
    assert symlinks(s3) == listed(manifest(s3))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([f"s3://{BUCKET}/elsewhere/"], f"s3://{BUCKET}/elsewhere/: not an awscost billing dataset"),
        (["datasets/billing"], "datasets/billing: Athena reads a dataset in S3"),
        ([URL, "--database", "Fin-Ops"], "--database: database 'Fin-Ops' is not an Athena name"),
    ],
)
def test_cli_athena_ddl_errors_are_one_line(s3: Any, args: list[str], message: str) -> None:
    from click.testing import CliRunner

    from awscost.entrypoints.cli import cli as main

    result = CliRunner().invoke(main, ["billing", "athena-ddl", *args])
    # One error, rendered as its one line (`awscost: error: ...`, exit 2, by the entry point).
    assert isinstance(result.exception, InputError), result.output
    assert str(result.exception).startswith(message) and result.exception.exit_code == 2


def test_the_dataset_reads_the_same_with_symlinks_beside_it(s3: Any, tmp_path: Path) -> None:
    """The `_athena/` folder is no period of the dataset: DuckDB's reads and totals are unchanged."""
    load_into([BILLING / "cur_small.csv"], URL)
    load_into([BILLING / "cur_small.csv"], tmp_path / "local")
    with load(URL) as remote, load(tmp_path / "local") as local:
        assert remote.total("BilledCost") == local.total("BilledCost")


# ---------------------------------------------------------------------------------------------------------
# The analyses on Athena (AthenaBill): what is sent is the Trino rendering; what comes back is DuckDB's frame


def _athena_page(frame: Any, types: list[str]) -> dict[str, Any]:
    """A query's DuckDB rows as Athena's GetQueryResults gives them: a header row, every value text."""

    def text(value: Any) -> dict[str, str]:
        if value is None:
            return {}
        return {"VarCharValue": format(value, "f") if isinstance(value, Decimal) else str(value)}

    info = [
        {"Name": c.lower(), "Label": c.lower(), "Type": t} for c, t in zip(frame.columns, types, strict=True)
    ]
    header = {"Data": [{"VarCharValue": c.lower()} for c in frame.columns]}
    data = [header, *({"Data": [text(v) for v in row]} for row in frame.rows)]
    return {"ResultSet": {"Rows": data, "ResultSetMetadata": {"ColumnInfo": info}}}


def test_an_analysis_on_athena_sends_the_trino_rendering_and_returns_duckdbs_figures(
    client: Any, tmp_path: Path
) -> None:
    from awscost.billing.athena import AthenaBill
    from awscost.billing.portable import render
    from awscost_sandbox.bill import write_bill
    from awscost_sandbox.scenario import default_scenario

    scenario = default_scenario()
    cur = write_bill(scenario, scenario.hours(6), tmp_path / "bill")["cur"]
    with load(cur) as duck:
        sent = record_queries(duck)
        expected = duck.summary(
            by=["SubAccountId", "Tags.user:Spend_Category"], where="ChargeCategory = 'Usage'"
        )
        (query,) = sent
        raw = duck._frame(query)  # what the query gives before the single currency column is dropped
    assert len(raw) > 5 and any(r[1] is None for r in raw.rows)  # untagged rows too: NULL comes back as NULL
    options = AthenaOptions(
        workgroup="analytics", output_location="s3://query-results/awscost/", table="bills"
    )
    rendered = render(query, "athena", "bills")
    assert "FROM bills" in rendered and "ELEMENT_AT(Tags, 'user:Spend_Category')" in rendered
    with Stubber(client) as stub:
        stub.add_response(
            "start_query_execution",
            {"QueryExecutionId": QID},
            {
                "QueryString": rendered,
                "QueryExecutionContext": {"Database": "awscost"},
                "WorkGroup": "analytics",
                "ResultConfiguration": {"OutputLocation": "s3://query-results/awscost/"},
            },
        )
        stub.add_response("get_query_execution", execution("SUCCEEDED", scanned=3 * 2**30))
        stub.add_response(
            "get_query_results",
            _athena_page(raw, ["varchar", "varchar", "varchar", "decimal"]),
            {"QueryExecutionId": QID, "MaxResults": 1000},
        )
        bill = AthenaBill(AthenaEngine(client, options, sleep=lambda s: None), source="athena awscost.bills")
        got = bill.summary(by=["SubAccountId", "Tags.user:Spend_Category"], where="ChargeCategory = 'Usage'")
        stub.assert_no_pending_responses()
    assert got == expected and got.columns == ["SubAccountId", "Tags.user:Spend_Category", "EffectiveCost"]
    assert bill.queries == 1 and bill.scanned_bytes == 3 * 2**30
    assert bill.cost_usd == athena.scan_cost_usd(3 * 2**30) > 0


def test_the_athena_engine_opens_the_configured_table_over_an_s3_dataset(s3: Any) -> None:
    """`--engine athena` (billing/engines.py): the table of [billing.athena], the dataset's symlinks checked."""
    from awscost.billing.athena import AthenaBill
    from awscost.billing.engines import ENGINES, open_bill
    from awscost.billing.portable import DIALECTS

    assert list(ENGINES) == list(DIALECTS)  # every engine renders, every rendering has an engine
    load_into([BILLING / "cur_small.csv"], URL)
    settings = Settings(raw={"billing": {"athena": {"database": "finops", "table": "bills"}}})
    bill = open_bill("athena", URL, settings)
    assert isinstance(bill, AthenaBill) and bill.table == "bills"
    assert bill.source == f"athena finops.bills over {URL}" and bill.runner.options.database == "finops"
    with pytest.raises(InputError, match="Athena reads a dataset in S3"):
        open_bill("athena", "/tmp/local-dataset", settings)
    with pytest.raises(InputError, match="unknown engine 'presto'"):
        open_bill("presto", URL, settings)


def test_the_command_line_on_athena_over_http_prints_duckdbs_figures(
    s3: Any, aws: str, tmp_path: Path
) -> None:
    """`awscost billing summary --engine athena` against moto's Athena over HTTP. moto runs no SQL: the
    rows it answers are queued through its API (DuckDB's own rows of the same query, as Athena types them),
    and what was sent is read back: the Trino rendering, in the configured database and workgroup."""
    import urllib.request

    from click.testing import CliRunner

    from awscost.billing.portable import render
    from awscost.entrypoints.cli import cli

    load_into([BILLING / "cur_small.csv"], URL)
    s3.create_bucket(Bucket="query-results")
    config = tmp_path / "awscost.toml"
    config.write_text(
        '[billing.athena]\ndatabase = "finops"\nworkgroup = "primary"\n'
        'output_location = "s3://query-results/awscost/"\n',
        encoding="utf-8",
    )
    with load(URL) as duck:
        sent = record_queries(duck)
        duck.summary(by=["ServiceName"])
        (query,) = sent
        raw = duck._frame(query)
    page = _athena_page(raw, ["varchar", "varchar", "decimal"])["ResultSet"]
    body = {"results": [{"rows": page["Rows"], "column_info": page["ResultSetMetadata"]["ColumnInfo"]}]}
    request = urllib.request.Request(
        f"{aws}/moto-api/static/athena/query-results",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    assert urllib.request.urlopen(request).status == 201

    def run(*extra: str) -> Any:
        args = ["billing", "summary", "--by", "ServiceName", "--dataset", URL, "--format", "json"]
        result = CliRunner().invoke(cli, [*args, "--config", str(config), *extra], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    on_athena, on_duckdb = run("--engine", "athena"), run()
    assert on_athena == on_duckdb and len(on_duckdb) > 1
    client = boto3.client("athena", region_name="us-east-1")
    (qid,) = client.list_query_executions()["QueryExecutionIds"]
    execution = client.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
    assert execution["Query"] == render(query, "athena")
    assert execution["QueryExecutionContext"]["Database"] == "finops"
    assert execution["ResultConfiguration"]["OutputLocation"].startswith("s3://query-results/awscost/")
