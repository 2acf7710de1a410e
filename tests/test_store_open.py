"""Opening a store: read-only commands write nothing on open, a SQLite file that is not an awscost store is
refused untouched, a corrupt one fails reads and writes alike, and a bad store URL option is a one-line
configuration error (exit 2). Issue 11 item 5 and probes T4, T6, T9, T28."""

from __future__ import annotations

import hashlib
import random
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from awscost.core.errors import ConfigError, StoreError
from awscost.entrypoints.cli import main
from awscost.store import UsageItem, open_store
from awscost.store.dynamodb import DynamoDBStore

T0 = datetime(2026, 11, 26, 10, tzinfo=UTC)
A = "111111111111"


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(argv)
        code: object = 0
    except SystemExit as exc:
        code = exc.code or 0
    captured = capsys.readouterr()
    return (code if isinstance(code, int) else 1), captured.out, captured.err


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _store(path: Path, n: int = 24) -> str:
    url = f"sqlite:///{path}"
    with open_store(url) as store:
        store.put_items(
            UsageItem("ec2", A, "us-east-1", T0 + timedelta(hours=h), {f"linux-m5.{h}xlarge": h + 1})
            for h in range(n)
        )
    return url


# -- read-only commands never write on open (T4) ------------------------------------------------------------


def test_read_only_commands_do_not_wait_for_a_writers_lock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _store(tmp_path / "s.db")
    writer = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
    writer.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('probe', 'x')")
    try:
        started = time.monotonic()
        code, out, err = _cli(["usage", "show", "--store", url, "--format", "jsonl"], capsys)
        assert (code, err) == (0, "")
        assert len(out.splitlines()) == 24
        code, out, err = _cli(["store", "info", "--store", url, "--format", "json"], capsys)
        assert code == 0 and '"items": 24' in out, err
        code, out, err = _cli(["usage", "gaps", "--store", url], capsys)
        assert code == 0, err
        assert time.monotonic() - started < 5  # no busy wait (the lock timeout is 10 s)
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_a_read_only_store_refuses_writes_with_a_clear_error(tmp_path: Path) -> None:
    url = _store(tmp_path / "s.db", n=2)
    before = _digest(tmp_path / "s.db")
    with open_store(url, read_only=True) as store:
        assert len(list(store.query())) == 2
        with pytest.raises(StoreError, match="cannot write: attempt to write a readonly database"):
            store.put_items([UsageItem("ec2", A, "us-east-1", T0, {"x": 1})])
    assert _digest(tmp_path / "s.db") == before


def test_read_only_open_of_a_missing_store_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no store here"):
        open_store(f"sqlite:///{tmp_path}/sub/none.db", read_only=True)
    assert list(tmp_path.iterdir()) == []


# -- someone else's SQLite database (T9) --------------------------------------------------------------------


@pytest.fixture()
def foreign(tmp_path: Path) -> Path:
    path = tmp_path / "crm.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("CREATE TABLE usage (who TEXT, minutes INTEGER)")  # a table name awscost uses too
    conn.execute("INSERT INTO customers VALUES (1, 'x')")
    conn.commit()
    conn.close()
    return path


@pytest.mark.parametrize(
    "argv",
    [
        ["usage", "show"],
        ["store", "info"],
        ["usage", "import", "ITEMS"],  # a command that writes
        ["store", "init"],
    ],
    ids=lambda a: "-".join(a[:2]),
)
def test_someone_elses_sqlite_database_is_refused_untouched(
    foreign: Path, argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    items = tmp_path / "items.jsonl"
    items.write_text(
        '{"awsResource": "ec2:111111111111:us-east-1", "time": "2026-11-26T10:00:00Z", "usage": {}}\n'
    )
    before = _digest(foreign)
    argv = [str(items) if a == "ITEMS" else a for a in argv]
    code, _, err = _cli([*argv, "--store", f"sqlite:///{foreign}"], capsys)
    assert code == 3
    assert err.startswith(
        f"awscost: error: {foreign}: not an awscost store (it holds tables customers, usage)"
    )
    assert len(err.splitlines()) == 1
    assert _digest(foreign) == before
    assert sorted(p.name for p in foreign.parent.iterdir()) == ["crm.db", "items.jsonl"]  # no -wal, no -shm


def test_an_empty_file_becomes_a_store_only_when_writing(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    path.touch()
    with pytest.raises(StoreError, match=r"not an awscost store \(no awscost tables\)"):
        open_store(f"sqlite:///{path}", read_only=True)
    assert path.stat().st_size == 0
    with open_store(f"sqlite:///{path}") as store:  # `store init`, or the first collect
        assert list(store.query()) == []
    with open_store(f"sqlite:///{path}", read_only=True) as store:
        assert list(store.query()) == []


# -- a corrupt store (T6) -----------------------------------------------------------------------------------


@pytest.fixture()
def corrupt(tmp_path: Path) -> Path:
    """A valid store of 2000 items with 4 KB of seeded noise written over a page in the middle."""
    path = tmp_path / "c.db"
    _store(path, n=2000)
    size = path.stat().st_size
    assert size > 64 * 1024
    with path.open("r+b") as fh:
        fh.seek((size // 2) // 4096 * 4096)
        fh.write(random.Random(6).randbytes(4096))
    return path


def test_a_corrupt_store_fails_writes_and_reads_alike(
    corrupt: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{corrupt}"
    with pytest.raises(StoreError, match="the database is corrupt") as exc:
        open_store(url)
    assert exc.value.exit_code == 3 and exc.value.where == str(corrupt)
    items = corrupt.parent / "items.jsonl"
    items.write_text(
        '{"awsResource": "ec2:111111111111:us-east-1", "time": "2026-12-01T10:00:00Z", "usage": {}}\n'
    )
    before = _digest(corrupt)
    for argv in (["usage", "import", str(items)], ["store", "info"], ["usage", "show"], ["usage", "gaps"]):
        code, _, err = _cli([*argv, "--store", url], capsys)
        assert code == 3, (argv, err)
        assert err.startswith(f"awscost: error: {corrupt}: the database is corrupt: "), (argv, err)
        assert len(err.splitlines()) == 1
    assert _digest(corrupt) == before  # nothing written into it


# -- store URL options (T28) --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("dynamodb://AWSCost?region=us-east-1&max_attempts=-5", "max_attempts='-5' in store URL"),
        ("dynamodb://AWSCost?region=us-east-1&max_attempts=1e3", "max_attempts='1e3' in store URL"),
        ("dynamodb://AWSCost?region=us-east-1&max_attempts=", "max_attempts='' in store URL"),
        ("dynamodb://AWSCost?region=us%20east", "region='us east' in store URL"),
        ("dynamodb://AWSCost?region=us-east-1&endpoint_url=foo", "endpoint_url='foo' in store URL"),
        ("dynamodb://AWSCost?region=us-east-1&map_table=a/b", "map_table='a/b' in store URL"),
        ("dynamodb://A?region=us-east-1", "table name 'A' in store URL"),
        ("dynamodb://AWSCost?region=us-east-1&regoin=x", "unknown option(s) regoin in store URL"),
        ("dynamodb://AWSCost?region", "bad options 'region' in store URL"),
        ("sqlite:///x.db?mode=rw", "a SQLite store URL takes no options"),
        ("mysql://x", "unknown store URL scheme 'mysql'"),
    ],
)
def test_bad_store_url_options_are_configuration_errors(
    url: str,
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    for argv in (["usage", "show"], ["usage", "import", "-"], ["store", "init"]):
        code, _, err = _cli([*argv, "--store", url], capsys)
        assert code == 2, (argv, err)
        assert err.startswith("awscost: error: ") and message in err, (argv, err)
        assert len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_good_store_url_options_still_open() -> None:
    store = DynamoDBStore(
        "dynamodb://AWS.Cost_1?region=eu-west-1&map_table=Maps-1&max_attempts=0&endpoint_url=http://127.0.0.1:9"
    )
    assert (store.table, store.map_table, store.region) == ("AWS.Cost_1", "Maps-1", "eu-west-1")
    assert store.client.meta.config.retries["total_max_attempts"] == 1
    with pytest.raises(ConfigError, match="max_attempts='101'"):
        DynamoDBStore("dynamodb://AWSCost?region=eu-west-1&max_attempts=101")
