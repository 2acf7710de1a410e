"""One contract, every backend: SQLite on a temp file, DynamoDB through the moto server over HTTP."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from awscost.store import Store, UsageItem, open_store

T0 = datetime(2026, 11, 26, 10, tzinfo=UTC)
H = timedelta(hours=1)
ACCT_A, ACCT_B = "111111111111", "222222222222"


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        s = open_store(f"sqlite:///{tmp_path}/awscost.db")
    else:
        request.getfixturevalue("aws")
        s = open_store("dynamodb://AWSCost?region=us-east-1&map_table=AWSCostMap")
    s.init()
    try:
        yield s
    finally:
        s.close()


def item(
    kind: str = "ec2",
    account: str = ACCT_A,
    region: str = "us-east-1",
    hour: int = 0,
    usage: Mapping[str, int | float] | None = None,
) -> UsageItem:
    return UsageItem(kind, account, region, T0 + hour * H, usage or {"c4.large:us-east-1a": 1})


def keys(items: object) -> list[tuple[str, str]]:
    return [(i.aws_resource, i.time_key) for i in items]  # type: ignore[attr-defined]


def test_put_get_and_overwrite(store: Store) -> None:
    assert store.get("ec2:111111111111:us-east-1", T0) is None
    assert store.put_items([item(usage={"c4.large:us-east-1a": 3})]) == 1
    got = store.get("ec2:111111111111:us-east-1", T0)
    assert got is not None and dict(got.usage) == {"c4.large:us-east-1a": 3}
    # the same key again overwrites (the new usage map replaces the old one entirely)
    store.put_items([item(usage={"t3.micro:us-east-1b": 5})])
    got = store.get("ec2:111111111111:us-east-1", T0 + timedelta(minutes=20))  # any time in the hour
    assert got is not None and dict(got.usage) == {"t3.micro:us-east-1b": 5}
    assert len(list(store.query())) == 1


def test_put_twice_is_idempotent(store: Store) -> None:
    batch = [item(hour=h, usage={"m5.large:us-east-1a": h + 1}) for h in range(3)]
    store.put_items(batch)
    store.put_items(batch)
    assert [(i.time_key, dict(i.usage)) for i in store.query()] == [
        (b.time_key, dict(b.usage)) for b in batch
    ]


def test_duplicate_keys_in_one_put_last_wins(store: Store) -> None:
    assert store.put_items([item(usage={"a": 1}), item(usage={"a": 2})]) == 1
    got = store.get("ec2:111111111111:us-east-1", T0)
    assert got is not None and dict(got.usage) == {"a": 2}


def _fleet() -> list[UsageItem]:
    out = []
    for kind, acct, region, h in itertools.product(
        ("ec2", "rds"), (ACCT_A, ACCT_B), ("us-east-1", "eu-west-1"), range(4)
    ):
        out.append(item(kind, acct, region, h, usage={"n": h}))
    return out


def test_query_filters_and_order(store: Store) -> None:
    fleet = _fleet()
    store.put_items(reversed(fleet))
    everything = list(store.query())
    assert keys(everything) == sorted(keys(fleet))
    assert {i.kind for i in store.query(kind="rds")} == {"rds"}
    assert len(list(store.query(kind="rds"))) == 16
    assert {i.account for i in store.query(account=ACCT_B)} == {ACCT_B}
    assert len(list(store.query(account=ACCT_B))) == 16
    assert {i.region for i in store.query(region="eu-west-1")} == {"eu-west-1"}
    assert len(list(store.query(kind="ec2", region="eu-west-1"))) == 8
    assert len(list(store.query(kind="ec2", account=ACCT_A))) == 8
    # full key: DynamoDB answers this with a Query on the partition key
    exact = list(store.query(kind="ec2", account=ACCT_A, region="us-east-1"))
    assert [i.time for i in exact] == [T0 + h * H for h in range(4)]
    # since <= time < until; bounds off the hour round up
    window = list(store.query(kind="ec2", account=ACCT_A, region="us-east-1", since=T0 + H, until=T0 + 3 * H))
    assert [i.time for i in window] == [T0 + H, T0 + 2 * H]
    window = list(
        store.query(kind="ec2", account=ACCT_A, region="us-east-1", since=T0 + H / 2, until=T0 + 2.5 * H)
    )
    assert [i.time for i in window] == [T0 + H, T0 + 2 * H]
    assert len(list(store.query(since=T0 + 3 * H))) == 8
    assert len(list(store.query(until=T0 + H))) == 8
    assert len(list(store.query(account=ACCT_A, since=T0 + H, until=T0 + 2 * H))) == 4
    assert list(store.query(since=T0 + 2 * H, until=T0 + 2 * H)) == []
    assert list(store.query(kind="ec2", account=ACCT_A, region="us-east-1", since=T0 + 3 * H, until=T0)) == []
    assert list(store.query(kind="es")) == []


def test_account_filter_is_exact_not_substring(store: Store) -> None:
    store.put_items([item(account="org"), item(account="org2"), item(account=ACCT_A, region="us-west-2")])
    assert [i.account for i in store.query(account="org")] == ["org"]
    assert [i.region for i in store.query(region="us-west-2")] == ["us-west-2"]
    assert [i.account for i in store.query(kind="ec2", account="org")] == ["org"]


def test_resources(store: Store) -> None:
    store.put_items(_fleet())
    assert store.resources() == sorted({i.aws_resource for i in _fleet()})


def test_many_items_and_over_one_megabyte(store: Store) -> None:
    # 30 items of ~40 KB each: more than 25 (one BatchWriteItem) and more than 1 MB (one Scan/Query page).
    big = {f"{'x' * 300}-{n:03d}": n for n in range(130)}
    items = [item(hour=h, usage=big) for h in range(30)]
    assert store.put_items(items) == 30
    pages: list[int] = []
    client = getattr(store, "client", None)
    if client is not None:  # count DynamoDB pages to prove the store followed LastEvaluatedKey
        client.meta.events.register("after-call.dynamodb.*", lambda **kw: pages.append(1))
    got = list(store.query())
    assert len(got) == 30 and [i.time for i in got] == [T0 + h * H for h in range(30)]
    assert dict(got[-1].usage) == big
    assert len(list(store.query(kind="ec2", account=ACCT_A, region="us-east-1"))) == 30
    if client is not None:
        assert len(pages) >= 4  # two pages for the Scan, two for the Query


def test_attrs_and_numbers_round_trip(store: Store) -> None:
    attrs = {
        "scope": "Region",
        "end": "2027-01-01T00:00:00Z",
        "count": 7,
        "price": 0.25,
        "nested": {"a": [1, 2.5]},
    }
    it = UsageItem("ri-ec2", "org", "us-east-1", T0, {"linux-t2.small": 2, "linux-t3.micro": 0.5}, attrs)
    store.put_items([it])
    got = store.get(it.aws_resource, T0)
    assert got is not None
    assert dict(got.usage) == {"linux-t2.small": 2, "linux-t3.micro": 0.5}
    assert isinstance(got.usage["linux-t2.small"], int) and isinstance(got.usage["linux-t3.micro"], float)
    assert dict(got.attrs) == attrs
    assert isinstance(got.attrs["count"], int) and isinstance(got.attrs["price"], float)
    assert got.to_json() == it.to_json()


def test_nan_is_refused_and_the_other_items_written(store: Store) -> None:
    from awscost.store.base import ItemsRejected

    with pytest.raises(
        ItemsRejected, match=r"1 item\(s\) not stored, 1 written: .*number nan cannot be stored"
    ):
        store.put_items([item(usage={"x": float("nan")}), item(hour=1)])
    assert keys(store.query()) == [("ec2:111111111111:us-east-1", "2026-11-26T11:00:00Z")]


def test_map_put_get_scan(store: Store) -> None:
    assert store.get_map("ami:ami-1") is None
    store.put_map("ami:ami-1", {"os": "linux"})
    store.put_map("ami:ami-2", {"os": "?", "name": "weird"})
    store.put_map("ami:ami-2", {"os": "windows"})  # overwrite replaces
    store.put_map("container:web", {"service": "web", "weight": 1.5})
    store.put_map("AMI:upper", {"os": "rhel"})
    assert store.get_map("ami:ami-2") == {"os": "windows"}
    assert list(store.scan_map("ami:")) == [("ami:ami-1", {"os": "linux"}), ("ami:ami-2", {"os": "windows"})]
    assert [k for k, _ in store.scan_map()] == ["AMI:upper", "ami:ami-1", "ami:ami-2", "container:web"]
    assert dict(store.scan_map("container:")) == {"container:web": {"service": "web", "weight": 1.5}}


_usage = st.dictionaries(
    st.sampled_from(["c4.large:us-east-1a", "t3.micro:us-east-1b", "m5.xlarge:us-east-1c"]),
    st.integers(min_value=0, max_value=10_000),
    min_size=1,
)
_items = st.lists(
    st.builds(
        UsageItem,
        kind=st.sampled_from(["ec2", "rds"]),
        account=st.sampled_from([ACCT_A, "org"]),
        region=st.just("us-east-1"),
        time=st.integers(min_value=0, max_value=5).map(lambda h: T0 + h * H),
        usage=_usage,
    ),
    max_size=12,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=_items)
def test_property_putting_twice_equals_once(tmp_path: Path, batch: list[UsageItem]) -> None:
    # SQLite only: the hypothesis loop would otherwise reset the moto server per example.
    import uuid

    once = open_store(f"sqlite:///{tmp_path}/{uuid.uuid4().hex}-once.db")
    twice = open_store(f"sqlite:///{tmp_path}/{uuid.uuid4().hex}-twice.db")
    once.put_items(batch)
    twice.put_items(batch)
    twice.put_items(batch)
    assert [i.to_json() for i in once.query()] == [i.to_json() for i in twice.query()]
    # and what is stored is the last value written per key
    last = {(i.aws_resource, i.time_key): dict(i.usage) for i in batch}
    assert {(i.aws_resource, i.time_key): dict(i.usage) for i in once.query()} == last
    once.close()
    twice.close()


def test_property_putting_twice_equals_once_dynamodb(aws: str) -> None:
    # DynamoDB: one store, hypothesis examples written under distinct kinds so the server need not reset.
    store = open_store("dynamodb://AWSCost?region=us-east-1")
    store.init()
    counter = itertools.count()

    @settings(max_examples=10, deadline=None)
    @given(batch=_items)
    def check(batch: list[UsageItem]) -> None:
        tag = f"k{next(counter)}"
        batch = [UsageItem(tag, i.account, i.region, i.time, i.usage) for i in batch]
        store.put_items(batch)
        first = [i.to_json() for i in store.query(kind=tag)]
        store.put_items(batch)
        assert [i.to_json() for i in store.query(kind=tag)] == first
        last = {(i.aws_resource, i.time_key): dict(i.usage) for i in batch}
        assert {(i.aws_resource, i.time_key): dict(i.usage) for i in store.query(kind=tag)} == last

    check()
