"""`awscost usage ...` and `awscost store ...` through click, with exact output where it is stable."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from awscost.entrypoints.cli import cli, main
from awscost.store import UsageItem, open_store

T0 = datetime(2026, 11, 26, 10, tzinfo=UTC)
H = timedelta(hours=1)
A, B = "111111111111", "222222222222"


@pytest.fixture()
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/awscost.db"
    store = open_store(url)
    store.put_items(
        [
            UsageItem("ec2", A, "us-east-1", T0, {"t3.micro:us-east-1b": 2, "c4.large:us-east-1a": 3}),
            UsageItem("ec2", A, "us-east-1", T0 + 3 * H, {"c4.large:us-east-1a": 1}),
            UsageItem("rds", B, "eu-west-1", T0 + H, {"db.r4.large:mysql": 1}),
        ]
    )
    store.close()
    return url


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    # A wide terminal, so rich tables do not fold cells.
    result = CliRunner(env={"COLUMNS": "200"}).invoke(cli, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_show_jsonl_is_the_export_line_format(db: str) -> None:
    code, out, _ = run("usage", "show", "--store", db, "--format", "jsonl")
    assert code == 0
    assert out.splitlines() == [
        '{"awsResource":"ec2:111111111111:us-east-1","time":"2026-11-26T10:00:00Z",'
        '"usage":{"c4.large:us-east-1a":3,"t3.micro:us-east-1b":2}}',
        '{"awsResource":"ec2:111111111111:us-east-1","time":"2026-11-26T13:00:00Z",'
        '"usage":{"c4.large:us-east-1a":1}}',
        '{"awsResource":"rds:222222222222:eu-west-1","time":"2026-11-26T11:00:00Z","usage":{"db.r4.large:mysql":1}}',
    ]


def test_show_filters_and_json(db: str) -> None:
    code, out, _ = run(
        "usage", "show", "--store", db, "--kind", "ec2", "--since", "2026-11-26T11:00:00Z", "--format", "json"
    )
    assert code == 0
    assert json.loads(out) == [
        {
            "awsResource": "ec2:111111111111:us-east-1",
            "time": "2026-11-26T13:00:00Z",
            "usage": {"c4.large:us-east-1a": 1},
        }
    ]
    _, out, _ = run(
        "usage", "show", "--store", db, "--account", B, "--region", "eu-west-1", "--format", "csv"
    )
    assert out.splitlines() == [
        "awsResource,time,usage",
        'rds:222222222222:eu-west-1,2026-11-26T11:00:00Z,"{""db.r4.large:mysql"":1}"',
    ]
    _, out, _ = run("usage", "show", "--store", db, "--until", "2026-11-26T10:59", "--format", "jsonl")
    assert len(out.splitlines()) == 1


def test_show_table_renders_usage_compactly(db: str) -> None:
    code, out, _ = run("usage", "show", "--store", db, "--kind", "ec2")
    assert code == 0
    rows = [line for line in out.splitlines() if "ec2:" in line]
    assert len(rows) == 2
    assert "2026-11-26T10:00:00Z" in rows[0] and "c4.large:us-east-1a=3 t3.micro:us-east-1b=2" in rows[0]
    _, out, err = run("usage", "show", "--store", db, "--kind", "es")
    assert err == "no items match\n"


def test_export_to_file_then_import_elsewhere(db: str, tmp_path: Path) -> None:
    dump = tmp_path / "dump.jsonl"
    code, out, err = run("usage", "export", "--store", db, "--out", str(dump))
    assert (code, out, err) == (0, "", f"exported 3 items to {dump}\n")
    other = f"sqlite:///{tmp_path}/other.db"
    code, out, _ = run("usage", "import", str(dump), "--store", other)
    assert code == 0
    assert out == f"read 3 records from {dump}\nimported 3 items\n"
    assert run("usage", "export", "--store", other)[1] == dump.read_text()
    # JSON array export imports as well
    code, out, _ = run("usage", "export", "--store", db, "--format", "json", "--kind", "rds")
    assert [o["awsResource"] for o in json.loads(out)] == ["rds:222222222222:eu-west-1"]


def test_import_original_scan_reports_counts(tmp_path: Path) -> None:
    scan = {
        "Items": [
            {
                "awsResource": {"S": "ec2os:111111111111:us-west-2"},
                "time": {"S": "20181105-10"},
                "node_types": {"M": {"sles-m4.large": {"N": "1"}}},
            },
            {"awsResource": {"S": "state"}, "time": {"S": "0"}, "next": {"S": "x"}},
        ],
        "Count": 2,
        "ScannedCount": 2,
    }
    path = tmp_path / "scan.json"
    path.write_text(json.dumps(scan))
    url = f"sqlite:///{tmp_path}/a.db"
    code, out, _ = run("usage", "import", str(path), "--store", url, "--dry-run")
    assert code == 0
    assert out.splitlines() == [
        f"read 2 records from {path}",
        "would import 1 items (1 converted from the original format)",
        "skipped 1: no usage map (not a usage item, like the original's `state` item), e.g. 'state'",
        "normalised 1 usage keys: sles -> suse",
    ]
    assert list(open_store(url).query()) == []
    code, out, _ = run("usage", "import", "-", "--store", url, input=json.dumps(scan))
    assert code == 0
    assert out.splitlines()[1] == "imported 1 items (1 converted from the original format)"
    assert run("usage", "show", "--store", url, "--format", "jsonl")[1] == (
        '{"awsResource":"ec2os:111111111111:us-west-2","time":"2018-11-05T18:00:00Z","usage":{"suse-m4.large":1}}\n'
    )


def test_gaps_command(db: str) -> None:
    code, out, err = run("usage", "gaps", "--store", db, "--format", "jsonl")
    assert code == 0
    assert out == (
        '{"awsResource":"ec2:111111111111:us-east-1","cadence":"hourly","from":"2026-11-26T11:00:00Z",'
        '"until":"2026-11-26T13:00:00Z","missing":2}\n'
    )
    code, out, err = run("usage", "gaps", "--store", db, "--fail-on-gaps")
    assert code == 6 and "ec2:111111111111:us-east-1" in out and err == "1 gaps, 2 periods missing\n"
    code, out, err = run("usage", "gaps", "--store", db, "--kind", "rds", "--fail-on-gaps")
    assert (code, out, err) == (0, "", "no gaps\n")
    code, out, _ = run("usage", "gaps", "--store", db, "--kind", "rds", "--format", "json")
    assert (code, json.loads(out)) == (0, [])


def test_store_init_and_info_sqlite(tmp_path: Path, db: str) -> None:
    fresh = f"sqlite:///{tmp_path}/new/dir/a.db"
    assert run("store", "init", "--store", fresh) == (0, f"ready: {fresh}\n", "")
    assert (tmp_path / "new" / "dir" / "a.db").is_file()
    code, out, _ = run("store", "info", "--store", db)
    assert code == 0
    assert out == (
        f"url:       {db}\n"
        "items:     3\n"
        "resources: 2\n"
        "first:     2026-11-26T10:00:00Z\n"
        "last:      2026-11-26T13:00:00Z\n"
        "map_items: 0\n"
    )
    code, out, _ = run("store", "info", "--store", db, "--format", "json")
    assert code == 0
    assert json.loads(out)[0]["items"] == 3


def test_store_init_and_info_dynamodb(aws: str) -> None:
    url = "dynamodb://AWSCost?region=us-east-1"
    code, out, _ = run("store", "init", "--store", url)
    assert code == 0
    assert out.splitlines() == [
        "AWSCost: created (on-demand, encrypted, point-in-time recovery on)",
        "AWSCostMap: created (on-demand, encrypted, point-in-time recovery on)",
    ]
    store = open_store(url)
    store.put_items([UsageItem("ec2", A, "us-east-1", T0 + h * H, {"x": h}) for h in range(3)])
    code, out, _ = run("store", "info", "--store", url, "--format", "jsonl")
    assert json.loads(out) == {
        "url": url,
        "items": 3,
        "resources": 1,
        "first": "2026-11-26T10:00:00Z",
        "last": "2026-11-26T12:00:00Z",
        "map_items": 0,
    }


def _main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    code = exc.value.code
    return (code if isinstance(code, int) else 1), capsys.readouterr().err


def test_user_errors_are_one_line(tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _main(["usage", "show", "--store", db, "--since", "last tuesday"], capsys)
    assert (code, err) == (
        2,
        "awscost: error: --since: 'last tuesday' is not an ISO 8601 time (use e.g. 2026-11-26T10:00:00Z)\n",
    )
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"awsResource":"ec2:1:r","time":"2026-11-26T10:00:00Z","usage":{"a":1}}\n{oops\n')
    code, err = _main(["usage", "import", str(bad), "--store", db], capsys)
    assert code == 2 and err.startswith(f"awscost: error: {bad}:2: invalid JSON")
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"garbage" * 1000)
    code, err = _main(["store", "info", "--store", f"sqlite:///{corrupt}"], capsys)
    assert code == 3 and err.startswith(f"awscost: error: {corrupt}: cannot open: file is not a database")
    code, err = _main(["usage", "show", "--store", "mysql://x"], capsys)
    assert code == 2 and "unknown store URL scheme 'mysql'" in err


def test_missing_dynamodb_table_says_run_init(aws: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _main(["usage", "show", "--store", "dynamodb://AWSCost?region=us-east-1"], capsys)
    assert (code, err) == (
        3,
        "awscost: error: dynamodb table AWSCost (us-east-1): table 'AWSCost' does not exist"
        " (run `awscost store init`)\n",
    )
