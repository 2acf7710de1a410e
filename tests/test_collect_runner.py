"""The runner over a moto server: several accounts entered by AssumeRole, failures isolated, throttling
retried, org totals, and collecting an hour twice equal to collecting it once."""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from awscost.aws.session import make_session
from awscost.core.config import Settings
from awscost.core.errors import InputError
from awscost.store import Store, open_store
from awscost.store.base import UsageItem
from awscost.usage.runner import failure_reason, run_collection

CALLER = "123456789012"  # moto's default account: the caller's own
MEMBER_A = "111111111111"
MEMBER_B = "222222222222"
ROLE = "CostCollector"
AT = datetime(2026, 11, 26, 10, 37, 12, tzinfo=UTC)
HOUR = datetime(2026, 11, 26, 10, tzinfo=UTC)
AMZN = "ami-760aaa0f"


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'awscost.db'}")
    yield s
    s.close()


def member_session(account: str) -> boto3.Session:
    creds = boto3.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{ROLE}", RoleSessionName="setup"
    )["Credentials"]
    return make_session(creds)


def launch(session: boto3.Session, region: str, itype: str, n: int, az_suffix: str = "a") -> None:
    session.client("ec2", region_name=region).run_instances(
        ImageId=AMZN,
        MinCount=n,
        MaxCount=n,
        InstanceType=itype,
        Placement={"AvailabilityZone": region + az_suffix},
    )


def provisioned_table(session: boto3.Session, region: str, name: str, rcu: int, wcu: int) -> None:
    session.client("dynamodb", region_name=region).create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        ProvisionedThroughput={"ReadCapacityUnits": rcu, "WriteCapacityUnits": wcu},
    )


@pytest.fixture()
def org_fleet(aws: str) -> None:
    """Resources in the caller's account and in two member accounts (made with assumed-role credentials)."""
    caller = make_session()
    a, b = member_session(MEMBER_A), member_session(MEMBER_B)
    launch(caller, "us-east-1", "c5.large", 2)
    launch(a, "us-east-1", "c5.large", 3)
    launch(a, "us-west-2", "t3.micro", 1)
    launch(b, "us-east-1", "m5.large", 4, "b")
    provisioned_table(a, "us-east-1", "orders", 10, 5)
    provisioned_table(b, "us-east-1", "users", 3, 2)


def items_by_resource(store: Store) -> dict[str, UsageItem]:
    return {i.aws_resource: i for i in store.query()}


def test_two_member_accounts_by_assume_role_and_org_totals(org_fleet: None, store: Store) -> None:
    summary = run_collection(
        Settings(org_name="acme"),
        kinds="ec2,dynamodb",
        accounts=[CALLER, MEMBER_A, MEMBER_B],
        regions=["us-east-1", "us-west-2"],
        at=AT,
        store=store,
        role_name=ROLE,
        max_workers=4,
    )
    assert summary.ok and summary.failures == []
    assert summary.units_total == summary.units_ok == 3 * 2 * 2
    assert summary.assume_role_calls == 2  # once per member account, not per region x kind
    assert summary.items_written == 12 + 2 * 2
    items = items_by_resource(store)
    assert {k: dict(v.usage) for k, v in items.items() if k.startswith("ec2:")} == {
        f"ec2:{CALLER}:us-east-1": {"c5.large:us-east-1a": 2},
        f"ec2:{CALLER}:us-west-2": {},
        f"ec2:{MEMBER_A}:us-east-1": {"c5.large:us-east-1a": 3},
        f"ec2:{MEMBER_A}:us-west-2": {"t3.micro:us-west-2a": 1},
        f"ec2:{MEMBER_B}:us-east-1": {"m5.large:us-east-1b": 4},
        f"ec2:{MEMBER_B}:us-west-2": {},
        "ec2:acme:us-east-1": {"c5.large:us-east-1a": 5, "m5.large:us-east-1b": 4},
        "ec2:acme:us-west-2": {"t3.micro:us-west-2a": 1},
    }
    assert dict(items["dynamodb:acme:us-east-1"].usage) == {
        "read_capacity": 13,
        "write_capacity": 7,
        "table_count": 2,
    }
    assert dict(items[f"dynamodb:{CALLER}:us-east-1"].usage) == {}
    total = items["ec2:acme:us-east-1"]
    assert total.attrs["accounts"] == sorted([CALLER, MEMBER_A, MEMBER_B])
    assert total.attrs["missing_accounts"] == []
    assert {i.time for i in items.values()} == {HOUR}
    # Calls per unit are what paging needs: 1 DescribeInstances; ListTables + 1 DescribeTable per table.
    assert summary.calls_by_unit[(MEMBER_A, "us-east-1", "ec2")] == 1
    assert summary.calls_by_unit[(MEMBER_A, "us-east-1", "dynamodb")] == 2
    assert summary.calls_by_unit[(CALLER, "us-west-2", "dynamodb")] == 1


def _error_response(status: int, body: str, content_type: str = "text/xml") -> AWSResponse:
    class Raw:
        def stream(self, **_: Any) -> Iterator[bytes]:
            yield body.encode()

    return AWSResponse("http://fault", status, {"Content-Type": content_type}, Raw())


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")


def _region_of(request: Any) -> str:
    """The region a request was signed for (all regions share the moto endpoint)."""
    found = re.search(r"Credential=[^/]+/\d+/([^/]+)/", _text(request.headers.get("Authorization")))
    return found.group(1) if found else ""


STS_DENIED = (
    '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
    "<Code>AccessDenied</Code><Message>User is not authorized to perform: sts:AssumeRole</Message>"
    "</Error><RequestId>r1</RequestId></ErrorResponse>"
)
EC2_ERROR = (
    "<Response><Errors><Error><Code>{code}</Code><Message>{msg}</Message></Error></Errors>"
    "<RequestID>r2</RequestID></Response>"
)


def fault(
    session: boto3.Session, event: str, when: Callable[[Any], bool], status: int, body: str
) -> list[int]:
    """Answer matching requests with an AWS error at the HTTP layer (botocore's retry logic still applies)."""
    hits: list[int] = []

    def handler(request: Any, **_: Any) -> AWSResponse | None:
        if when(request):
            hits.append(1)
            return _error_response(status, body)
        return None

    session.events.register(event, handler)
    return hits


def test_access_denied_in_one_account_others_still_collected(org_fleet: None, store: Store) -> None:
    session = make_session()
    fault(
        session,
        "before-send.sts.AssumeRole",
        lambda r: MEMBER_B in _text(r.body),
        403,
        STS_DENIED,
    )
    summary = run_collection(
        Settings(org_name="acme"),
        kinds="ec2",
        accounts=[CALLER, MEMBER_A, MEMBER_B],
        regions=["us-east-1", "us-west-2"],
        at=AT,
        store=store,
        role_name=ROLE,
        session=session,
    )
    assert not summary.ok
    assert [(f.account, f.region, f.kind) for f in summary.failures] == [
        (MEMBER_B, "us-east-1", "ec2"),
        (MEMBER_B, "us-west-2", "ec2"),
    ]
    assert all("AccessDenied" in f.reason and MEMBER_B in f.reason for f in summary.failures)
    assert summary.units_ok == 4 and summary.assume_role_calls == 2  # B tried once, not once per unit
    items = items_by_resource(store)
    assert f"ec2:{MEMBER_B}:us-east-1" not in items
    total = items["ec2:acme:us-east-1"]
    assert dict(total.usage) == {"c5.large:us-east-1a": 5}  # partial total, and it says so
    assert total.attrs["missing_accounts"] == [MEMBER_B]
    assert sorted(total.attrs["accounts"]) == [MEMBER_A, CALLER]


def test_unauthorized_operation_and_region_not_enabled_are_per_unit(aws: str, store: Store) -> None:
    launch(make_session(), "us-east-1", "c5.large", 1)
    session = make_session()
    fault(
        session,
        "before-send.ec2.DescribeInstances",
        lambda r: _region_of(r) == "eu-south-1",
        401,
        EC2_ERROR.format(code="OptInRequired", msg="You are not subscribed to this service."),
    )
    denied = '{"__type":"com.amazon.coral.service#AccessDeniedException","message":"not authorized"}'

    def ddb_denied(request: Any, **_: Any) -> AWSResponse | None:
        if _region_of(request) == "us-east-1":
            return _error_response(400, denied, "application/x-amz-json-1.0")
        return None

    session.events.register("before-send.dynamodb.ListTables", ddb_denied)
    summary = run_collection(
        Settings(),
        kinds=["ec2", "dynamodb"],
        regions=["us-east-1", "eu-south-1"],
        at=AT,
        store=store,
        session=session,
    )
    assert {(f.region, f.kind): f.reason.split(":")[0] for f in summary.failures} == {
        ("eu-south-1", "ec2"): "OptInRequired",
        ("us-east-1", "dynamodb"): "AccessDeniedException",
    }
    assert summary.units_ok == 2
    assert dict(items_by_resource(store)[f"ec2:{CALLER}:us-east-1"].usage) == {"c5.large:us-east-1a": 1}


def test_throttling_is_retried_and_the_unit_succeeds(aws: str, store: Store) -> None:
    launch(make_session(), "us-east-1", "c5.large", 2)
    session = make_session()
    throttled: list[int] = []

    def throttle_once(request: Any, **_: Any) -> AWSResponse | None:
        if not throttled:
            throttled.append(1)
            return _error_response(
                503, EC2_ERROR.format(code="RequestLimitExceeded", msg="Request limit exceeded.")
            )
        return None

    session.events.register("before-send.ec2.DescribeInstances", throttle_once)
    summary = run_collection(
        Settings(), kinds="ec2", regions=["us-east-1"], at=AT, store=store, session=session
    )
    assert summary.ok and throttled == [1]
    assert summary.calls_by_unit[(CALLER, "us-east-1", "ec2")] == 1  # one logical call ...
    assert summary.api_attempts >= summary.api_calls + 1  # ... sent twice
    assert dict(items_by_resource(store)[f"ec2:{CALLER}:us-east-1"].usage) == {"c5.large:us-east-1a": 2}


def test_failure_reason_names_exhausted_retries() -> None:
    from botocore.exceptions import ClientError

    exc = ClientError(
        {
            "Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"},
            "ResponseMetadata": {"RetryAttempts": 7},
        },
        "DescribeDBInstances",
    )
    assert failure_reason(exc) == "ThrottlingException: Rate exceeded (after 7 retries)"


def test_organizations_discovery_and_role(aws: str, store: Store) -> None:
    org = boto3.client("organizations")
    org.create_organization(FeatureSet="ALL")
    created = org.create_account(AccountName="prod", Email="prod@example.com")["CreateAccountStatus"]
    member = org.describe_create_account_status(CreateAccountRequestId=created["Id"])["CreateAccountStatus"][
        "AccountId"
    ]
    creds = boto3.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole", RoleSessionName="setup"
    )["Credentials"]
    launch(make_session(creds), "us-east-1", "r5.large", 2)
    summary = run_collection(
        Settings(account_names={member: "production"}),
        kinds="ec2",
        accounts="organizations",
        regions=["us-east-1"],
        at=AT,
        store=store,
        role_name="OrganizationAccountAccessRole",
    )
    assert summary.ok
    assert {a.id: a.name for a in summary.accounts}[member] == "production"
    assert CALLER in {a.id for a in summary.accounts}
    assert dict(items_by_resource(store)[f"ec2:{member}:us-east-1"].usage) == {"r5.large:us-east-1a": 2}


def test_unknown_kind_and_region_are_input_errors(aws: str, store: Store) -> None:
    with pytest.raises(InputError, match="unknown kind 'lambda'"):
        run_collection(Settings(), kinds="lambda", regions=["us-east-1"], store=store)
    with pytest.raises(InputError, match="unknown region 'us-mars-1'"):
        run_collection(Settings(), kinds="ec2", regions=["us-mars-1"], store=store)


def test_regions_default_to_every_enabled_region(aws: str, store: Store) -> None:
    summary = run_collection(Settings(), kinds="ec2", at=AT, store=store)
    enabled = sorted(
        r["RegionName"] for r in boto3.client("ec2").describe_regions(AllRegions=False)["Regions"]
    )
    assert summary.regions == enabled and len(enabled) > 3
    assert summary.ok and summary.units_ok == len(enabled)


TYPES = st.sampled_from(["t3.micro", "c5.large", "m5.large"])
AZS = st.sampled_from(["a", "b"])


@hsettings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fleet=st.lists(st.tuples(TYPES, AZS, st.integers(1, 3)), min_size=0, max_size=3))
def test_collecting_an_hour_twice_equals_once(
    aws: str, tmp_path_factory: pytest.TempPathFactory, fleet: list[tuple[str, str, int]]
) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{aws}/moto-api/reset", method="POST")).read()
    session = make_session()
    expected: dict[str, int] = {}
    for itype, az, n in fleet:
        launch(session, "us-east-1", itype, n, az)
        key = f"{itype}:us-east-1{az}"
        expected[key] = expected.get(key, 0) + n
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('idem') / 'a.db'}")
    try:
        run_collection(Settings(), kinds="ec2", regions=["us-east-1"], at=AT, store=store)
        once = sorted((i.aws_resource, i.time_key, sorted(i.usage.items())) for i in store.query())
        run_collection(Settings(), kinds="ec2", regions=["us-east-1"], at=AT.replace(minute=59), store=store)
        twice = sorted((i.aws_resource, i.time_key, sorted(i.usage.items())) for i in store.query())
    finally:
        store.close()
    assert once == twice
    assert dict(once[0][2]) == expected  # account item, what a person counts
    assert [r for r, _, _ in once] == [f"ec2:{CALLER}:us-east-1", "ec2:org:us-east-1"]


def test_throttling_that_outlasts_the_retries_fails_only_its_unit(
    aws: str, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import botocore.retries.bucket
    import botocore.retries.standard

    # Timing only: botocore's retry decisions and attempt limit stay real, its sleeps are skipped.
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)
    monkeypatch.setattr(
        botocore.retries.bucket.TokenBucket, "acquire", lambda self, amount=1, block=True: True
    )
    launch(make_session(), "us-east-1", "c5.large", 1)
    session = make_session()
    hits = fault(
        session,
        "before-send.ec2.DescribeInstances",
        lambda r: _region_of(r) == "us-west-2",
        503,
        EC2_ERROR.format(code="RequestLimitExceeded", msg="Request limit exceeded."),
    )
    summary = run_collection(
        Settings(), kinds="ec2", regions=["us-east-1", "us-west-2"], at=AT, store=store, session=session
    )
    assert len(hits) == 9  # the first try and 8 retries
    assert [(f.region, f.reason) for f in summary.failures] == [
        ("us-west-2", "RequestLimitExceeded: Request limit exceeded. (after 8 retries)")
    ]
    assert dict(items_by_resource(store)[f"ec2:{CALLER}:us-east-1"].usage) == {"c5.large:us-east-1a": 1}


def test_ami_map_is_written_to_the_store_and_read_back_next_run(aws: str, store: Store) -> None:
    launch(make_session(), "us-east-1", "c5.large", 2)
    first = run_collection(Settings(), kinds="ec2os", regions=["us-east-1"], at=AT, store=store)
    assert first.ok and first.maps_written == 1
    assert first.calls_by_operation["ec2.DescribeImages"] == 1
    entry = store.get_map(AMZN)
    assert entry is not None and entry["os_type"] == "linux"
    second = run_collection(Settings(), kinds="ec2os", regions=["us-east-1"], at=AT, store=store)
    assert second.maps_written == 0 and "ec2.DescribeImages" not in second.calls_by_operation
    assert dict(items_by_resource(store)[f"ec2os:{CALLER}:us-east-1"].usage) == {"linux-c5.large": 2}


def test_accounts_running_the_same_ami_describe_it_once(aws: str, store: Store) -> None:
    launch(make_session(), "us-east-1", "c5.large", 1)
    launch(member_session(MEMBER_A), "us-east-1", "c5.large", 2)
    launch(member_session(MEMBER_B), "us-east-1", "m5.large", 1)
    summary = run_collection(
        Settings(),
        kinds="ec2os",
        accounts=[CALLER, MEMBER_A, MEMBER_B],
        regions=["us-east-1"],
        at=AT,
        store=store,
        role_name=ROLE,
    )
    assert summary.ok and summary.calls_by_operation["ec2.DescribeImages"] == 1
    assert dict(items_by_resource(store)["ec2os:org:us-east-1"].usage) == {
        "linux-c5.large": 3,
        "linux-m5.large": 1,
    }


def test_failure_reason_is_one_capped_line() -> None:
    from botocore.parsers import ResponseParserError

    from awscost.aws.errors import REASON_MAX, failure_reason

    html = "Unable to parse response, invalid XML received:\n b'<!doctype html>\n<html>" + "x" * 500
    reason = failure_reason(ResponseParserError(html))
    assert "\n" not in reason and len(reason) == REASON_MAX and reason.endswith("…")
    assert reason.startswith(
        "unparseable response from the endpoint: Unable to parse response, invalid XML received: b'<!doctype"
    )
