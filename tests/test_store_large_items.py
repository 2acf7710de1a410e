"""Items above DynamoDB's 400 KB limit (issue 11 item 4, probe T16): org totals hold per-key totals only, an
item that would pass the limit is written in parts and read back whole, and one item a store cannot hold never
stops the others. DynamoDB through the moto server over HTTP (which enforces the limit), SQLite beside it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from awscost.core.errors import StoreError
from awscost.store import Store, UsageItem, open_store
from awscost.store import dynamodb_parts as parts
from awscost.store.base import ItemsRejected, listed

T0 = datetime(2026, 11, 2, tzinfo=UTC)
H = timedelta(hours=1)
A, B = "111122223333", "222233334444"
URL = "dynamodb://AWSCost?region=us-east-1&map_table=AWSCostMap"
EXTRA = 3000  # reservations the collector lists in one account x region (~150 bytes each in DynamoDB)


def reservations(n: int, account: str | None = None) -> list[dict[str, Any]]:
    """`n` reservations as the ri-ec2 collector lists them (~265 bytes each in DynamoDB)."""
    out = []
    for i in range(n):
        entry = {
            "id": f"{i:08x}-1a2b-4c3d-9e8f-0123456789ab",
            "key": f"linux-m5.{['large', 'xlarge', '2xlarge'][i % 3]}",
            "count": 1 + i % 4,
            "start": "2026-01-15T08:30:00Z",
            "end": f"2027-{1 + i % 12:02d}-15T08:30:00Z",
            "scope": "Region",
            "offering_type": "No Upfront",
            "offering_class": "standard",
            "duration_seconds": 31536000,
            "fixed_price": 0.0,
            "usage_price": 0.0416,
            "tenancy": "default",
        }
        if account:
            entry["account"] = account
        out.append(entry)
    return out


def big_item(n: int = 2000, hour: int = 0, account: str = "sandbox-org") -> UsageItem:
    listed_ = reservations(n, None if account.isdigit() else A)
    usage: dict[str, int] = {}
    for r in listed_:
        usage[r["key"]] = usage.get(r["key"], 0) + r["count"]
    return UsageItem("ri-ec2", account, "us-east-1", T0 + hour * H, usage, {"reservations": listed_})


def sixty() -> list[UsageItem]:
    """59 ordinary items and, in the middle, the 2000-reservation item of probe T16."""
    small = [
        UsageItem("ec2", acct, region, T0, {"linux-m5.large": i + 1})
        for i, (acct, region) in enumerate(
            (a, r) for a in (A, B) for r in ("us-east-1", "eu-west-1", "us-west-2")
        )
    ]
    small += [UsageItem("rds", A, "us-east-1", T0 + h * H, {"db.r5.large:mysql": h}) for h in range(53)]
    return [*small[:30], big_item(), *small[30:]]


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        s = open_store(f"sqlite:///{tmp_path}/awscost.db")
    else:
        request.getfixturevalue("aws")
        s = open_store(URL)
    s.init()
    try:
        yield s
    finally:
        s.close()


def raw_table() -> list[dict[str, Any]]:
    client = boto3.client("dynamodb", region_name="us-east-1")
    return client.scan(TableName="AWSCost", ConsistentRead=True)["Items"]


# -- the limit itself -------------------------------------------------------------------------------------


def test_moto_refuses_an_item_above_400_kb_as_dynamodb_does(aws: str) -> None:
    from awscost.store.dynamodb import item_to_dynamo

    open_store(URL).init()
    raw = item_to_dynamo(big_item())
    assert parts.item_size(raw) > parts.ITEM_LIMIT  # ~650 KB
    client = boto3.client("dynamodb", region_name="us-east-1")
    with pytest.raises(
        client.exceptions.ClientError, match="Item size has exceeded the maximum allowed size"
    ):
        client.put_item(TableName="AWSCost", Item=raw)


def test_item_size_counts_names_and_values_as_dynamodb_does() -> None:
    # The AWS guide's rules: strings in UTF-8 bytes; numbers 1 byte per 2 significant digits + 1; binary raw
    # bytes; bool/null 1; list/map 3 bytes + 1 per element (+ the element's name in a map).
    assert parts.item_size({"awsResource": {"S": "ec2:1:é"}}) == 11 + 8
    assert parts.item_size({"n": {"N": "12345"}}) == 1 + 4
    assert parts.item_size({"n": {"N": "0.00120"}}) == 1 + 2  # "12": zeros trimmed
    assert parts.item_size({"n": {"N": "1E+3"}}) == 1 + 2
    assert parts.item_size({"b": {"B": b"\x00" * 10}, "t": {"BOOL": True}, "z": {"NULL": True}}) == 11 + 2 + 2
    assert parts.item_size({"m": {"M": {"ab": {"S": "xyz"}, "c": {"L": [{"N": "7"}, {"S": ""}]}}}}) == (
        1 + 3 + (1 + 2 + 3) + (1 + 1 + 3 + (1 + 2) + (1 + 0))
    )


def test_an_item_below_the_split_size_is_written_whole(aws: str) -> None:
    store = open_store(URL)
    store.init()
    item = big_item(1300)  # ~345 KB: under SPLIT_OVER, one item as before
    from awscost.store.dynamodb import item_to_dynamo

    assert parts.ITEM_LIMIT * 0.8 < parts.item_size(item_to_dynamo(item)) <= parts.SPLIT_OVER
    assert store.put_items([item]) == 1
    assert [r["time"]["S"] for r in raw_table()] == [item.time_key]


# -- split and read back whole ------------------------------------------------------------------------------


def test_sixty_items_with_one_of_2000_reservations_are_all_stored_and_read_back_whole(store: Store) -> None:
    items = sixty()
    assert store.put_items(items) == 60
    got = list(store.query())
    want = {(i.aws_resource, i.time_key): i.to_json() for i in items}
    assert {(i.aws_resource, i.time_key): i.to_json() for i in got} == want
    big = big_item()
    assert store.get(big.aws_resource, T0) == big
    # every way of asking for it gives it whole: by key, by kind, by time range ending at its hour
    assert list(store.query(kind="ri-ec2", account="sandbox-org", region="us-east-1", until=T0 + H)) == [big]
    assert list(store.query(kind="ri-ec2", since=T0, until=T0 + H)) == [big]
    assert big in list(store.query(region="us-east-1", since=T0 - H, until=T0 + H))  # a scan
    info = store.info()  # type: ignore[attr-defined]
    assert (info.items, info.resources) == (60, len({i.aws_resource for i in items}))
    assert store.resources() == sorted({i.aws_resource for i in items})


def test_a_split_item_is_a_head_and_parts_under_the_documented_keys(aws: str) -> None:
    store = open_store(URL)
    store.init()
    big = big_item()
    store.put_items([big, UsageItem("ri-ec2", "sandbox-org", "us-east-1", T0 + H, {"linux-m5.large": 1})])
    rows = sorted(raw_table(), key=lambda r: r["time"]["S"])
    times = [r["time"]["S"] for r in rows]
    assert times == [
        big.time_key,
        f"{big.time_key}#001",
        f"{big.time_key}#002",
        (T0 + H).strftime("%Y-%m-%dT%H:00:00Z"),
    ]
    head, p1, p2 = rows[:3]
    assert set(head) == {"awsResource", "time", "usage", "_parts"}  # the reservations are in the parts
    assert head["usage"]["M"]["linux-m5.large"] == {"N": str(big.usage["linux-m5.large"])}
    assert head["_parts"]["M"]["count"] == {"N": "2"}
    assert p1["_sha256"] == p2["_sha256"] == head["_parts"]["M"]["sha256"]
    assert all(parts.item_size(r) <= parts.ITEM_LIMIT for r in rows)
    assert len(bytes(p1["_part"]["B"])) == parts.PART_BYTES


def test_rewriting_a_split_item_smaller_or_whole_reads_the_newest(store: Store) -> None:
    store.put_items([big_item(3000)])  # 3 parts
    store.put_items([big_item(1500)])  # 2 parts: part 3 of the first write is left, and ignored
    assert store.get("ri-ec2:sandbox-org:us-east-1", T0) == big_item(1500)
    assert list(store.query(kind="ri-ec2")) == [big_item(1500)]
    small = UsageItem("ri-ec2", "sandbox-org", "us-east-1", T0, {"linux-m5.large": 1}, {"accounts": [A]})
    store.put_items([small])
    assert store.get(small.aws_resource, T0) == small
    assert list(store.query()) == [small]
    assert store.info().items == 1  # type: ignore[attr-defined]


def test_a_missing_part_is_an_error_never_a_partial_item(aws: str) -> None:
    store = open_store(URL)
    store.init()
    store.put_items([big_item()])
    boto3.client("dynamodb", region_name="us-east-1").delete_item(
        TableName="AWSCost",
        Key={
            "awsResource": {"S": "ri-ec2:sandbox-org:us-east-1"},
            "time": {"S": f"{big_item().time_key}#002"},
        },
    )
    for read in (lambda: store.get("ri-ec2:sandbox-org:us-east-1", T0), lambda: list(store.query())):
        with pytest.raises(StoreError, match=r"split into 2 parts but part\(s\) 2 are missing") as exc:
            read()
        assert exc.value.exit_code == 3


# -- one bad item never stops the others ----------------------------------------------------------------------


def test_an_item_no_store_can_hold_is_reported_and_the_others_written(store: Store) -> None:
    items = sixty()
    bad = UsageItem("ec2", B, "us-east-1", T0 + 5 * H, {"linux-m5.large": float("nan")})
    with pytest.raises(ItemsRejected, match=r"1 item\(s\) not stored, 60 written") as exc:
        store.put_items([*items[:10], bad, *items[10:]])
    assert exc.value.rejected == [(bad.aws_resource, bad.time_key, "number nan cannot be stored")]
    assert exc.value.written == 60 and exc.value.exit_code == 3
    assert len(list(store.query())) == 60


def test_an_item_dynamodb_refuses_is_isolated_from_its_batch(
    aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch writer of before: the refused batch took the whole write down (the 30 items after it were
    never written). Sent whole (no split), DynamoDB refuses the big item; the 59 others are still written."""
    store = open_store(URL)
    store.init()
    monkeypatch.setattr(parts, "SPLIT_OVER", 10 * parts.ITEM_LIMIT)
    with pytest.raises(ItemsRejected) as exc:
        store.put_items(sixty())
    assert exc.value.written == 59
    ((resource, time, reason),) = exc.value.rejected
    assert (resource, time) == ("ri-ec2:sandbox-org:us-east-1", big_item().time_key)
    assert "Item size has exceeded the maximum allowed size" in reason
    assert len(list(store.query())) == 59


# -- the collector: org totals hold totals; the account item of 2000 reservations is split ------------------


@pytest.fixture()
def many_reservations() -> Iterator[Any]:
    """The sandbox with EXTRA more ri-ec2 reservations in the management account's us-east-1: its item is
    larger than DynamoDB's limit, and would be the org total's too if that listed them."""
    from awscost_sandbox.demo import sandbox_environment
    from awscost_sandbox.scenario import SandboxReservation, default_scenario
    from awscost_sandbox.seed import seed_organization
    from awscost_sandbox.server import SandboxServer

    scenario = default_scenario()
    start = scenario.start - timedelta(days=30)
    extra = [
        SandboxReservation(
            scenario.management.id,
            "us-east-1",
            "ri-ec2",
            f"{i:08x}-aaaa-4bbb-8ccc-0123456789ab",
            ["m5.large", "c5.xlarge", "r5.2xlarge"][i % 3],
            1 + i % 3,
            start,
            start + timedelta(days=365 + i % 60),
            os="linux",
        )
        for i in range(EXTRA)
    ]
    scenario._reservations = [*scenario.reservations(), *extra]
    with SandboxServer(scenario) as server, sandbox_environment(server):
        seed_organization(server)
        yield scenario


def _collect(scenario: Any, url: str) -> Any:
    from awscost.core.config import Settings
    from awscost.usage.runner import run_collection
    from awscost_sandbox.seed import ROLE_NAME

    open_store(url).init()
    with open_store(url) as store:
        return run_collection(
            Settings(org_name=scenario.org_name),
            kinds="ri-ec2,ec2",
            accounts=scenario.account_ids,
            regions=["us-east-1", "eu-west-1"],
            at=scenario.start,
            store=store,
            role_name=ROLE_NAME,
        )


def test_collect_with_3000_reservations_stores_everything(many_reservations: Any, tmp_path: Path) -> None:
    scenario = many_reservations
    mgmt = scenario.management.id
    for url in (URL, f"sqlite:///{tmp_path}/s.db"):
        summary = _collect(scenario, url)
        assert summary.ok, summary.failures
        with open_store(url) as store:
            stored = list(store.query())
            assert summary.items_written == len(stored) == len(scenario.account_ids) * 2 * 2 + 2 * 2
            mine = store.get(f"ri-ec2:{mgmt}:us-east-1", scenario.start)
            assert mine is not None and len(mine.attrs["reservations"]) >= EXTRA
            from awscost.store.dynamodb import item_to_dynamo

            assert parts.item_size(item_to_dynamo(mine)) > parts.ITEM_LIMIT
            org = store.get(f"ri-ec2:{scenario.org_name}:us-east-1", scenario.start)
            assert org is not None
            # per-key totals only, like an account item; the reservations are the accounts' own
            assert set(org.attrs) == {"accounts", "missing_accounts"}
            accounts = [store.get(f"ri-ec2:{a}:us-east-1", scenario.start) for a in scenario.account_ids]
            want: dict[str, int] = {}
            for item in accounts:
                assert item is not None
                for key, n in item.usage.items():
                    want[key] = want.get(key, 0) + int(n)
            assert dict(org.usage) == want
            details = listed(store, org, "reservations")
            assert len(details) == sum(len(i.attrs["reservations"]) for i in accounts if i is not None)
            assert {d["account"] for d in details} >= {mgmt}
            assert [d for d in details if d["account"] == mgmt] == [
                {**d, "account": mgmt} for d in mine.attrs["reservations"]
            ]


def test_a_refused_item_is_a_failed_unit_and_the_run_goes_on(
    many_reservations: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = many_reservations
    monkeypatch.setattr(parts, "SPLIT_OVER", 10 * parts.ITEM_LIMIT)  # the big item goes whole: refused
    summary = _collect(scenario, URL)
    mgmt = scenario.management.id
    assert [(f.account, f.region, f.kind) for f in summary.failures] == [(mgmt, "us-east-1", "ri-ec2")]
    assert "not stored (2026-" in summary.failures[0].reason
    assert "Item size has exceeded" in summary.failures[0].reason
    with open_store(URL) as store:
        assert len(list(store.query())) == summary.items_written == len(scenario.account_ids) * 4 + 4 - 1


def test_org_totals_list_no_reservations() -> None:
    from awscost.usage.runner import org_totals

    # The account items as stored (org totals are summed from what the store holds for the hour).
    items = [
        UsageItem("ri-ec2", a, "us-east-1", T0, {"linux-m5.large": 2}, {"reservations": reservations(900)})
        for a in (A, B)
    ]
    total = org_totals("ri-ec2", "us-east-1", T0, "org", items, [A, B])
    assert total is not None
    assert dict(total.usage) == {"linux-m5.large": 4}
    assert dict(total.attrs) == {"accounts": [A, B], "missing_accounts": []}


# -- the split itself, over many shapes ------------------------------------------------------------------------


# Examples of up to ~1 MB take a few hundred ms: the deadline of the ci profile, on every profile.
@settings(
    max_examples=15,
    deadline=timedelta(seconds=10),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    n=st.integers(0, 4000),
    filler=st.text(min_size=0, max_size=8),
    repeat=st.integers(0, 200_000),
    usage_keys=st.integers(0, 20_000),
    ordered=st.booleans(),
    seed=st.integers(0, 2**16),
)
@example(n=3000, filler="", repeat=0, usage_keys=0, ordered=True, seed=0)  # the reservations in 2 parts
@example(n=0, filler="ü€😀", repeat=100_000, usage_keys=0, ordered=False, seed=1)  # UTF-8 cut between parts
@example(n=10, filler="", repeat=0, usage_keys=15_000, ordered=True, seed=2)  # `usage` itself in the parts
def test_split_items_are_below_the_limit_and_join_back_whole(
    n: int, filler: str, repeat: int, usage_keys: int, ordered: bool, seed: int
) -> None:
    import random

    from awscost.store.dynamodb import _decode_value, item_from_dynamo, item_to_dynamo

    usage = {f"linux-m5.{i}xlarge:us-east-1{'abc'[i % 3]}": i for i in range(usage_keys)}
    attrs = {"reservations": reservations(n, A), "note": filler * repeat, "accounts": [A, B]}
    item = UsageItem("ri-ec2", "org", "us-east-1", T0, usage, attrs)
    raws = parts.split_item(item_to_dynamo(item), _decode_value, where="test")
    assert all(parts.item_size(r) <= parts.ITEM_LIMIT for r in raws)
    assert (len(raws) > 1) == (parts.item_size(item_to_dynamo(item)) > parts.SPLIT_OVER)
    stream = raws[-1:] + raws[:-1] if ordered else random.Random(seed).sample(raws, len(raws))
    (joined,) = list(parts.Assembler(where="test", ordered=ordered).feed(stream))
    assert item_from_dynamo(*joined) == item
