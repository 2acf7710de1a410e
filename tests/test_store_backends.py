"""What is particular to each backend: URLs, files, locks, table creation, DynamoDB's limits and retries."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from awscost.core.errors import ConfigError, StoreError
from awscost.store import UsageItem, open_store
from awscost.store.dynamodb import DynamoDBStore, item_to_dynamo
from awscost.store.sqlite import SqliteStore, sqlite_path

T0 = datetime(2026, 11, 26, 10, tzinfo=UTC)
H = timedelta(hours=1)


def _item(hour: int = 0, kind: str = "ec2", n: int = 1) -> UsageItem:
    return UsageItem(kind, "111111111111", "us-east-1", T0 + hour * H, {"c4.large:us-east-1a": n})


# -- SQLite ---------------------------------------------------------------------------------------------


def test_sqlite_url_forms() -> None:
    assert sqlite_path("sqlite:///data/awscost.db") == "data/awscost.db"
    assert sqlite_path("sqlite:////var/lib/awscost.db") == "/var/lib/awscost.db"
    assert sqlite_path("sqlite:///:memory:") == ":memory:"
    with pytest.raises(ConfigError, match="bad SQLite store URL"):
        sqlite_path("sqlite://relative.db")


def test_sqlite_relative_path_and_parent_dirs_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store("sqlite:///deep/er/awscost.db")
    store.put_items([_item()])
    store.close()
    path = tmp_path / "deep" / "er" / "awscost.db"
    assert path.is_file()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert conn.execute("SELECT awsResource, time, kind, account, region FROM usage").fetchall() == [
        ("ec2:111111111111:us-east-1", "2026-11-26T10:00:00Z", "ec2", "111111111111", "us-east-1")
    ]
    conn.close()


def test_sqlite_memory_store() -> None:
    store = open_store("sqlite:///:memory:")
    store.put_items([_item(0), _item(1)])
    assert len(list(store.query())) == 2


def test_sqlite_corrupt_file_names_path(tmp_path: Path) -> None:
    bad = tmp_path / "awscost.db"
    bad.write_bytes(b"this is not a database at all, just text " * 100)
    with pytest.raises(StoreError) as exc:
        open_store(f"sqlite:///{bad}")
    assert str(bad) in exc.value.render() and "not a database" in exc.value.render()


def test_sqlite_unwritable_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError) as exc:
        open_store(f"sqlite:///{blocker}/sub/awscost.db")
    assert str(blocker / "sub" / "awscost.db") in exc.value.render()


def test_sqlite_locked_file_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "awscost.db"
    store = SqliteStore(f"sqlite:///{path}")
    store._conn.execute("PRAGMA busy_timeout = 50")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="locked") as exc:
            store.put_items([_item()])
        assert str(path) in exc.value.render()
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert store.put_items([_item()]) == 1  # and usable once the lock is gone


def test_sqlite_thread_pool_writers(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/awscost.db")
    errors: list[BaseException] = []

    def work(kind: str) -> None:
        try:
            for h in range(20):
                store.put_items([_item(h, kind=kind, n=h)])
                list(store.query(kind=kind))
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"k{n}",)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(list(store.query())) == 8 * 20


def test_sqlite_info(tmp_path: Path) -> None:
    store = SqliteStore(f"sqlite:///{tmp_path}/awscost.db")
    empty = store.info()
    assert (empty.items, empty.resources, empty.first_time, empty.last_time) == (0, 0, None, None)
    store.put_items([_item(0), _item(5), _item(2, kind="rds")])
    store.put_map("ami:ami-1", {"os": "linux"})
    info = store.info()
    assert (info.items, info.resources, info.first_time, info.last_time, info.map_items) == (
        3,
        2,
        T0,
        T0 + 5 * H,
        1,
    )


# -- DynamoDB through moto ------------------------------------------------------------------------------


def test_dynamodb_init_creates_tables_as_specified(aws: str) -> None:
    store = DynamoDBStore("dynamodb://AWSCost?region=us-east-1&map_table=AWSCostMap")
    assert store.ensure_tables() == [
        "AWSCost: created (on-demand, encrypted, point-in-time recovery on)",
        "AWSCostMap: created (on-demand, encrypted, point-in-time recovery on)",
    ]
    client = boto3.client("dynamodb", region_name="us-east-1")
    table = client.describe_table(TableName="AWSCost")["Table"]
    assert table["KeySchema"] == [
        {"AttributeName": "awsResource", "KeyType": "HASH"},
        {"AttributeName": "time", "KeyType": "RANGE"},
    ]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["SSEDescription"]["Status"] == "ENABLED"
    pitr = client.describe_continuous_backups(TableName="AWSCost")["ContinuousBackupsDescription"]
    assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    maps = client.describe_table(TableName="AWSCostMap")["Table"]
    assert maps["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    # idempotent
    assert store.ensure_tables()[0].startswith("AWSCost: exists")


def test_dynamodb_default_map_table_name(aws: str) -> None:
    assert DynamoDBStore("dynamodb://Usage?region=eu-west-1").map_table == "UsageMap"


def test_dynamodb_missing_table_hints_init(aws: str) -> None:
    store = open_store("dynamodb://AWSCost?region=us-east-1")
    with pytest.raises(StoreError) as exc:
        store.put_items([_item()])
    assert "does not exist" in exc.value.render() and "awscost store init" in exc.value.render()
    with pytest.raises(StoreError, match="awscost store init"):
        list(store.query())


def test_dynamodb_unreachable_endpoint(aws: str) -> None:
    store = open_store("dynamodb://AWSCost?region=us-east-1&endpoint_url=http://127.0.0.1:9&max_attempts=1")
    with pytest.raises(StoreError, match="cannot reach DynamoDB") as exc:
        store.get("ec2:111111111111:us-east-1", T0)
    assert exc.value.exit_code == 3


def test_dynamodb_bad_urls() -> None:
    with pytest.raises(ConfigError, match="unknown option"):
        DynamoDBStore("dynamodb://AWSCost?regoin=us-east-1")
    with pytest.raises(ConfigError, match="bad DynamoDB store URL"):
        DynamoDBStore("dynamodb:///?region=us-east-1")


def test_dynamodb_batches_of_25_with_duplicates_removed(aws: str) -> None:
    store = DynamoDBStore("dynamodb://AWSCost?region=us-east-1")
    store.init()
    sizes: list[int] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        sizes.extend(len(v) for v in params["RequestItems"].values())

    store.client.meta.events.register("provide-client-params.dynamodb.BatchWriteItem", record)
    items = [_item(h) for h in range(60)] + [_item(h, n=99) for h in range(10)]  # 10 keys twice
    assert store.put_items(items) == 60
    assert sizes == [25, 25, 10]
    assert store.get("ec2:111111111111:us-east-1", T0 + 3 * H).usage == {"c4.large:us-east-1a": 99}  # type: ignore[union-attr]


def _stubbed(url: str = "dynamodb://AWSCost?region=us-east-1") -> tuple[DynamoDBStore, Stubber, list[float]]:
    client = boto3.client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    sleeps: list[float] = []
    store = DynamoDBStore(url, client=client, sleep=sleeps.append)
    return store, Stubber(client), sleeps


def test_dynamodb_unprocessed_items_are_retried_with_backoff() -> None:
    # moto never returns UnprocessedItems; the Stubber checks our requests against the real service model.
    store, stub, sleeps = _stubbed()
    items = [_item(0), _item(1), _item(2)]
    requests = [{"PutRequest": {"Item": item_to_dynamo(i)}} for i in items]
    stub.add_response(
        "batch_write_item",
        {"UnprocessedItems": {"AWSCost": requests[1:]}},
        {"RequestItems": {"AWSCost": requests}},
    )
    stub.add_response(
        "batch_write_item",
        {"UnprocessedItems": {"AWSCost": requests[2:]}},
        {"RequestItems": {"AWSCost": requests[1:]}},
    )
    stub.add_response(
        "batch_write_item", {"UnprocessedItems": {}}, {"RequestItems": {"AWSCost": requests[2:]}}
    )
    with stub:
        assert store.put_items(items) == 3
    stub.assert_no_pending_responses()
    assert len(sleeps) == 2 and 0 <= sleeps[0] <= 0.05 and 0 <= sleeps[1] <= 0.1
    assert store.unprocessed_retries == 2


def test_dynamodb_unprocessed_items_give_up_with_a_store_error() -> None:
    store, stub, sleeps = _stubbed()
    request = [{"PutRequest": {"Item": item_to_dynamo(_item())}}]
    for _ in range(11):
        stub.add_response("batch_write_item", {"UnprocessedItems": {"AWSCost": request}})
    with stub, pytest.raises(StoreError, match="1 item\\(s\\) still unprocessed"):
        store.put_items([_item()])
    assert len(sleeps) == 10 and max(sleeps) <= 5.0


def test_dynamodb_query_aliases_time_and_uses_between() -> None:
    # moto accepts the reserved word `time` unaliased; AWS does not. Pin the exact request shape.
    store, stub, _ = _stubbed()
    stub.add_response(
        "query",
        {"Items": [item_to_dynamo(_item(1))], "Count": 1, "ScannedCount": 1},
        {
            "TableName": "AWSCost",
            "KeyConditionExpression": "#r = :r AND #t BETWEEN :lo AND :hi",
            "ExpressionAttributeNames": {"#r": "awsResource", "#t": "time"},
            "ExpressionAttributeValues": {
                ":r": {"S": "ec2:111111111111:us-east-1"},
                ":lo": {"S": "2026-11-26T10:00:00Z"},
                ":hi": {"S": "2026-11-26T12:00:00Z#~"},  # the last hour's parts of a split item too
            },
            "ConsistentRead": True,
        },
    )
    with stub:
        got = list(store.query("ec2", "111111111111", "us-east-1", since=T0, until=T0 + 2.5 * H))
    assert [i.time for i in got] == [T0 + H]


def test_dynamodb_scan_skips_foreign_items(aws: str) -> None:
    # A table still holding the original system's `state` item: reading it must not fail.
    store = DynamoDBStore("dynamodb://AWSCost?region=us-east-1")
    store.init()
    store.put_items([_item()])
    store.client.put_item(
        TableName="AWSCost", Item={"awsResource": {"S": "state"}, "time": {"S": "0"}, "next": {"S": "x"}}
    )
    assert [i.aws_resource for i in store.query()] == ["ec2:111111111111:us-east-1"]
    assert store.resources() == ["ec2:111111111111:us-east-1"]
    assert store.count_items() == 2  # foreign items included
    info = store.info()
    assert (info.items, info.resources, info.first_time, info.last_time) == (1, 1, T0, T0)


def test_dynamodb_scan_names_only_what_it_uses() -> None:
    # AWS rejects unused ExpressionAttributeNames/Values (moto does not): pin the Scan built for
    # account + since, and check it follows LastEvaluatedKey.
    store, stub, _ = _stubbed()
    expected = {
        "TableName": "AWSCost",
        "ConsistentRead": True,
        "FilterExpression": "#t >= :lo AND contains(#r, :a)",
        "ExpressionAttributeNames": {"#t": "time", "#r": "awsResource"},
        "ExpressionAttributeValues": {":lo": {"S": "2026-11-26T10:00:00Z"}, ":a": {"S": ":111111111111:"}},
    }
    last_key = {"awsResource": {"S": "ec2:111111111111:us-east-1"}, "time": {"S": "2026-11-26T11:00:00Z"}}
    stub.add_response("scan", {"Items": [item_to_dynamo(_item(1))], "LastEvaluatedKey": last_key}, expected)
    stub.add_response(
        "scan", {"Items": [item_to_dynamo(_item(0, kind="rds"))]}, {**expected, "ExclusiveStartKey": last_key}
    )
    with stub:
        got = list(store.query(account="111111111111", since=T0))
    assert [(i.kind, i.time) for i in got] == [("ec2", T0 + H), ("rds", T0)]


def test_sqlite_query_pages_and_allows_writes_while_iterating(tmp_path: Path) -> None:
    store = SqliteStore(f"sqlite:///{tmp_path}/a.db")
    store.page_size = 3
    store.put_items([_item(h, kind=k, n=h) for h in range(5) for k in ("rds", "ec2")])
    seen = []
    for it in store.query():
        seen.append((it.kind, it.time))
        if len(seen) == 1:  # a write from the same thread mid-iteration must neither block nor break paging
            store.put_items([_item(0, kind="zz")])
    assert seen == [("ec2", T0 + h * H) for h in range(5)] + [("rds", T0 + h * H) for h in range(5)] + [
        ("zz", T0)
    ]
    assert [i.time for i in store.query(kind="rds", since=T0 + H)] == [T0 + h * H for h in range(1, 5)]


def test_store_modules_import_only_boto3_and_stdlib() -> None:
    # Store code runs in the collector Lambda: a cold start must not pay for pandas, DuckDB, click or rich.
    import subprocess
    import sys

    code = (
        "import sys, awscost.store.sqlite, awscost.store.dynamodb;"
        "import awscost.usage.transfer, awscost.usage.gaps;"
        "heavy = {'pandas', 'duckdb', 'polars', 'pyarrow', 'numpy', 'click', 'rich'};"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_sqlite_home_relative_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    store = SqliteStore("sqlite:///~/awscost/usage.db")
    assert store.path == f"{tmp_path}/awscost/usage.db" and Path(store.path).is_file()
