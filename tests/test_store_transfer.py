"""Export and import: our line format, JSON arrays, `aws dynamodb scan` output, the original's items."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from awscost.core.errors import InputError
from awscost.store import UsageItem, open_store
from awscost.usage.transfer import export_items, import_items, normalise_legacy_key, read_items

T0 = datetime(2026, 11, 26, 10, tzinfo=UTC)


def _items() -> list[UsageItem]:
    return [
        UsageItem("ec2", "111111111111", "us-east-1", T0, {"c4.large:us-east-1a": 3}),
        UsageItem("ri-ec2", "org", "us-east-1", T0, {"linux-t2.small": 2}, {"scope": "Region", "price": 0.5}),
    ]


def test_export_jsonl_exact() -> None:
    out = io.StringIO()
    assert export_items(_items(), out, "jsonl") == 2
    assert out.getvalue() == (
        '{"awsResource":"ec2:111111111111:us-east-1","time":"2026-11-26T10:00:00Z","usage":{"c4.large:us-east-1a":3}}\n'
        '{"awsResource":"ri-ec2:org:us-east-1","time":"2026-11-26T10:00:00Z","usage":{"linux-t2.small":2},'
        '"scope":"Region","price":0.5}\n'
    )


def test_export_json_array_and_empty() -> None:
    out = io.StringIO()
    export_items(_items(), out, "json")
    assert [UsageItem.from_json(o) for o in json.loads(out.getvalue())] == _items()
    empty = io.StringIO()
    assert export_items([], empty, "json") == 0 and json.loads(empty.getvalue()) == []
    with pytest.raises(InputError, match="unknown export format"):
        export_items([], io.StringIO(), "xml")


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_round_trip_through_a_file(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"dump.{fmt}"
    with path.open("w") as out:
        export_items(_items(), out, fmt)
    store = open_store(f"sqlite:///{tmp_path}/a.db")
    result = import_items(store, path)
    assert (result.records, result.written, result.legacy, dict(result.skipped)) == (2, 2, 0, {})
    assert list(store.query()) == _items()


# What `aws dynamodb scan --table-name AWSCost --output json` prints for a table of the original system.
LEGACY_SCAN = {
    "Items": [
        {
            "awsResource": {"S": "ec2os:111111111111:us-west-2"},
            "time": {"S": "20181105-10"},
            "node_types": {"M": {"linux-c4.large": {"N": "3"}, "sles-m4.large": {"N": "1"}}},
        },
        {
            "awsResource": {"S": "rds:111111111111:us-west-2"},
            "time": {"S": "20181105-10"},
            "node_types": {"M": {"multi_az-db.r4.large:mysql": {"N": "2"}}},
        },
        {
            "awsResource": {"S": "ri-rds:myorg:us-west-2"},
            "time": {"S": "20181105"},
            "node_types": {
                "M": {"db.r4.large:mysql-multi_az": {"N": "2"}, "db.t2.small:postgres": {"N": "1.5"}}
            },
        },
        {
            "awsResource": {"S": "state"},
            "time": {"S": "0"},
            "next_hourly_scan": {"S": "20181105-11"},
        },
        {
            "awsResource": {"S": "ec2:111111111111:us-west-2"},
            "time": {"S": "2026-11-26T10:00:00Z"},
            "usage": {"M": {"c4.large:us-west-2a": {"N": "4"}}},
        },
    ],
    "Count": 5,
    "ScannedCount": 5,
    "ConsumedCapacity": None,
}


def test_import_original_dynamodb_scan(tmp_path: Path) -> None:
    path = tmp_path / "scan.json"
    path.write_text(json.dumps(LEGACY_SCAN, indent=4))
    result = read_items(path)
    assert result.records == 5
    assert result.legacy == 3
    assert dict(result.skipped) == {"no usage map (not a usage item, like the original's `state` item)": 1}
    assert list(result.skipped_examples.values()) == ["state"]
    assert dict(result.normalised) == {"sles -> suse": 1, "Multi-AZ suffix -> multi_az- prefix": 1}
    got = {(i.aws_resource, i.time_key): dict(i.usage) for i in result.items}
    assert got == {
        # 2018-11-05 10:00 US/Pacific (PST, UTC-8) is 18:00 UTC
        ("ec2os:111111111111:us-west-2", "2018-11-05T18:00:00Z"): {"linux-c4.large": 3, "suse-m4.large": 1},
        ("rds:111111111111:us-west-2", "2018-11-05T18:00:00Z"): {"multi_az-db.r4.large:mysql": 2},
        # a daily item: local midnight
        ("ri-rds:myorg:us-west-2", "2018-11-05T08:00:00Z"): {
            "multi_az-db.r4.large:mysql": 2,
            "db.t2.small:postgres": 1.5,
        },
        ("ec2:111111111111:us-west-2", "2026-11-26T10:00:00Z"): {"c4.large:us-west-2a": 4},
    }
    # numbers: integral N -> int, others float
    ec2os = next(i for i in result.items if i.kind == "ec2os")
    assert all(type(v) is int for v in ec2os.usage.values())


def test_import_summer_time_and_dynamodb_export_lines(tmp_path: Path) -> None:
    # A DynamoDB export-to-S3 file: one {"Item": ...} per line. July is PDT (UTC-7).
    line = {"Item": {"awsResource": {"S": "ec2:111111111111:us-east-1"}, "time": {"S": "20180701-23"},
                     "node_types": {"M": {"t2.micro:us-east-1a": {"N": "1"}}}}}  # fmt: skip
    path = tmp_path / "export.json"
    path.write_text(json.dumps(line) + "\n")
    [item] = read_items(path).items
    assert item.time_key == "2018-07-02T06:00:00Z"


def test_import_jsonl_with_blank_lines_and_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(
        '{"awsResource":"ec2:111111111111:us-east-1","time":"2026-11-26T10:00:00Z","usage":{"a":1}}\n'
        "\n"
        '{"awsResource":"ec2:111111111111:us-east-1","time":"2026-11-26T10:30:00Z","usage":{"a":2}}\n'
    )
    result = read_items(path)
    assert (result.records, result.duplicates, [dict(i.usage) for i in result.items]) == (2, 1, [{"a": 2}])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"awsResource":"ec2:1:r","time":"2026-11-26T10:00:00Z","usage":{"a":1}}\n{not json\n', "in.jsonl:2: invalid JSON"),  # noqa: E501
        ('{"awsResource":"ec2:1:r","time":"2026-11-26T10:00:00Z","usage":{"a":1}}\n[1]\n', "in.jsonl:2: expected a JSON object"),  # noqa: E501
        ('\n\n{"awsResource":"ec2:1","time":"2026-11-26T10:00:00Z","usage":{"a":1}}\n', "in.jsonl:3: awsResource 'ec2:1'"),  # noqa: E501
        ('{"awsResource":"ec2:1:r","time":"yesterday","usage":{"a":1}}\n', "in.jsonl:1: time 'yesterday'"),
        ('{"awsResource":"ec2:1:r","time":"2026-13-40T10:00:00Z","usage":{"a":1}}\n', "in.jsonl:1: '2026-13-40T10:00:00Z'"),  # noqa: E501
        ('{"awsResource":"ec2:1:r","time":"2026-11-26T10:00:00Z","usage":{"a":"3"}}\n', "in.jsonl:1: usage['a']"),
        ('{"awsResource":"ec2:1:r","time":"2026-11-26T10:00:00Z","usage":[1]}\n', "in.jsonl:1: usage of ec2:1:r"),
        ('{"time":"2026-11-26T10:00:00Z","usage":{"a":1}}\n', "in.jsonl:1: no awsResource"),
        ('[{"awsResource":"ec2:1:r","time":"2026-11-26T10:00:00Z","usage":{"a":1}}, {"awsResource":"x"', "in.jsonl:1: invalid JSON"),  # noqa: E501
        ('[{"awsResource":"ec2:1:r","time":"2026-11-26T10:00:00Z","usage":{"a":1}}, {"usage":{}}]', "in.jsonl: item 2: no awsResource"),  # noqa: E501
    ],
)  # fmt: skip
def test_bad_records_name_file_and_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(content)
    with pytest.raises(InputError) as exc:
        read_items(path)
    assert exc.value.render().startswith(f"{tmp_path}/{message}")


def test_import_is_all_or_nothing(tmp_path: Path) -> None:
    good = '{"awsResource":"ec2:111111111111:us-east-1","time":"2026-11-26T%02d:00:00Z","usage":{"a":1}}\n'
    path = tmp_path / "in.jsonl"
    bad = '{"awsResource":"ec2:1:r","time":"soon","usage":{}}\n'
    path.write_text("".join(good % h for h in range(10)) + bad)
    store = open_store(f"sqlite:///{tmp_path}/a.db")
    with pytest.raises(InputError, match=r"in\.jsonl:11"):
        import_items(store, path)
    assert list(store.query()) == []


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    with path.open("w") as out:
        export_items(_items(), out)
    store = open_store(f"sqlite:///{tmp_path}/a.db")
    result = import_items(store, path, dry_run=True)
    assert (len(result.items), result.written) == (2, 0)
    assert list(store.query()) == []


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read: No such file"):
        read_items(tmp_path / "missing.jsonl")


def test_dynamodb_dump_loads_into_sqlite_and_back(aws: str, tmp_path: Path) -> None:
    """A dump of one backend loads into the other (DESIGN.md): DynamoDB -> JSONL -> SQLite -> JSONL."""
    dynamo = open_store("dynamodb://AWSCost?region=us-east-1")
    dynamo.init()
    dynamo.put_items(_items())
    first = tmp_path / "dynamo.jsonl"
    with first.open("w") as out:
        export_items(dynamo.query(), out)
    sqlite = open_store(f"sqlite:///{tmp_path}/a.db")
    import_items(sqlite, first)
    second = io.StringIO()
    export_items(sqlite.query(), second)
    assert second.getvalue() == first.read_text()


def test_normalise_legacy_keys() -> None:
    cases = {
        ("ec2os", "sles-m4.large"): ("suse-m4.large", "sles -> suse"),
        ("ec2os", "spot-sles-m4.large"): ("spot-suse-m4.large", "sles -> suse"),
        ("ri-ec2", "Linux/UNIX (Amazon VPC)-t2.small"): ("linux-t2.small", "product description -> OS"),
        ("ri-ec2", "Red Hat Enterprise Linux:m5.large"): ("rhel-m5.large", "product description -> OS"),
        ("ri-ec2", "Windows with SQL Server Standard-t2.small"): ("windows-sql-std-t2.small", "product description -> OS"),  # noqa: E501
        ("ri-ec2", "linux-t2.small"): ("linux-t2.small", None),
        ("ri-rds", "db.r4.large:mysql-multi_az"): ("multi_az-db.r4.large:mysql", "Multi-AZ suffix -> multi_az- prefix"),
        ("ri-rds", "db.r4.large:mysql (Multi-AZ)"): ("multi_az-db.r4.large:mysql", "Multi-AZ suffix -> multi_az- prefix"),  # noqa: E501
        ("rds", "multi_az-db.r4.large:mysql"): ("multi_az-db.r4.large:mysql", None),
        ("ri-rds", "db.r4.large:aurora-mysql"): ("db.r4.large:aurora-mysql", None),
        ("ec2", "sles-m4.large"): ("sles-m4.large", None),  # not an OS key in this kind
    }  # fmt: skip
    for (kind, key), expected in cases.items():
        assert normalise_legacy_key(kind, key) == expected, (kind, key)


_json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False, width=32).filter(lambda f: f != int(f)),
    st.text(max_size=8),
)
_attr_names = st.text(alphabet="abcdefgh_", min_size=1, max_size=6).filter(
    lambda k: k not in ("usage", "time", "node_types")
)


@settings(max_examples=40, deadline=None)
@given(
    usage=st.dictionaries(
        st.text(min_size=1, max_size=12), st.integers(min_value=0, max_value=10**9), min_size=1
    ),
    attrs=st.dictionaries(
        _attr_names, st.one_of(_json_scalar, st.lists(_json_scalar, max_size=3)), max_size=4
    ),
    hour=st.integers(min_value=0, max_value=10_000),
)
def test_property_export_then_import_is_identity(
    usage: dict[str, int], attrs: dict[str, object], hour: int
) -> None:
    import tempfile

    item = UsageItem("ec2", "111111111111", "us-east-1", T0 - timedelta(hours=hour), usage, attrs)
    out = io.StringIO()
    export_items([item], out)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "one.jsonl"
        path.write_text(out.getvalue())
        [back] = read_items(path).items
    assert back == item
