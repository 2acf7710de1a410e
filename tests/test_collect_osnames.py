"""The ec2os collector: instances with PlatformDetails (as AWS returns them) need no AMI lookup; AMIs are
resolved in batches (the vocabulary itself is tested in test_vocabulary.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.stub import Stubber

from awscost.aws.accounts import Account
from awscost.usage.collectors.base import CollectContext, MapCache
from awscost.usage.kinds import COLLECTORS


class Fixed:
    def __init__(self, client: Any) -> None:
        self.client = client

    def get(self, service: str, region: str | None = None) -> Any:
        return self.client


def test_ec2os_uses_instance_platform_details_without_describe_images() -> None:
    ec2 = boto3.client("ec2", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")

    def inst(iid: str, itype: str, details: str, spot: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "InstanceId": iid,
            "InstanceType": itype,
            "ImageId": "ami-0abcdef1234567890",
            "State": {"Code": 16, "Name": "running"},
            "Placement": {"AvailabilityZone": "us-east-1a"},
            "PlatformDetails": details,
        }
        if spot:
            out["InstanceLifecycle"] = "spot"
        return out

    stub = Stubber(ec2)
    stub.add_response(
        "describe_instances",
        {
            "Reservations": [
                {
                    "ReservationId": "r-1",
                    "Instances": [
                        inst("i-1", "m5.large", "Windows with SQL Server Enterprise"),
                        inst("i-2", "m5.large", "Red Hat Enterprise Linux"),
                        inst("i-3", "t3.micro", "Linux/UNIX"),
                        inst("i-4", "t3.micro", "Linux/UNIX", spot=True),
                    ],
                }
            ]
        },
        {"Filters": [{"Name": "instance-state-name", "Values": ["running"]}]},
    )
    maps = MapCache()
    with stub:  # a DescribeImages call would fail here: no response is queued for it
        ctx = CollectContext(
            Account("111111111111", "a"), "us-east-1", datetime(2026, 1, 1, tzinfo=UTC), Fixed(ec2), maps
        )
        usage = COLLECTORS.get("ec2os")(ctx).usage
    assert usage == {
        "windows-sql-ent-m5.large": 1,
        "rhel-m5.large": 1,
        "linux-t3.micro": 1,
        "spot-linux-t3.micro": 1,
    }
    assert maps.pending() == {}


def test_ec2os_resolves_many_amis_in_batches_of_100() -> None:
    ec2 = boto3.client("ec2", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    amis = [f"ami-{i:017x}" for i in range(150)]
    instances = [
        {
            "InstanceId": f"i-{i:017x}",
            "InstanceType": "t3.micro",
            "ImageId": ami,
            "State": {"Code": 16, "Name": "running"},
            "Placement": {"AvailabilityZone": "us-east-1a"},
        }
        for i, ami in enumerate(amis)
    ]
    stub = Stubber(ec2)
    stub.add_response(
        "describe_instances",
        {"Reservations": [{"ReservationId": "r-1", "Instances": instances}]},
        {"Filters": [{"Name": "instance-state-name", "Values": ["running"]}]},
    )
    for chunk in (amis[:100], amis[100:]):
        images = [
            {"ImageId": a, "Name": "amzn2-ami-hvm", "PlatformDetails": "Linux/UNIX"} for a in chunk[:-1]
        ]
        stub.add_response(
            "describe_images",
            {"Images": images},  # the last AMI of each chunk was deregistered: not returned
            {"Filters": [{"Name": "image-id", "Values": chunk}], "IncludeDeprecated": True},
        )
    maps = MapCache()
    with stub:
        ctx = CollectContext(
            Account("111111111111", "a"), "us-east-1", datetime(2026, 1, 1, tzinfo=UTC), Fixed(ec2), maps
        )
        usage = COLLECTORS.get("ec2os")(ctx).usage
        stub.assert_no_pending_responses()
    assert usage == {"linux-t3.micro": 148, "unknown-t3.micro": 2}
    assert {k for k, v in maps.pending().items() if v["os_type"] == "?"} == {amis[99], amis[149]}


def test_ec2os_windows_platform_wins_over_an_unresolvable_ami() -> None:
    ec2 = boto3.client("ec2", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    inst = {
        "InstanceId": "i-1",
        "InstanceType": "c5.large",
        "ImageId": "ami-0gone0000000000000",
        "Platform": "windows",
        "State": {"Code": 16, "Name": "running"},
        "Placement": {"AvailabilityZone": "us-east-1a"},
    }
    stub = Stubber(ec2)
    stub.add_response(
        "describe_instances",
        {"Reservations": [{"ReservationId": "r-1", "Instances": [inst]}]},
        {"Filters": [{"Name": "instance-state-name", "Values": ["running"]}]},
    )
    stub.add_response(
        "describe_images",
        {"Images": []},
        {"Filters": [{"Name": "image-id", "Values": ["ami-0gone0000000000000"]}], "IncludeDeprecated": True},
    )
    maps = MapCache()
    with stub:
        ctx = CollectContext(
            Account("111111111111", "a"), "us-east-1", datetime(2026, 1, 1, tzinfo=UTC), Fixed(ec2), maps
        )
        assert COLLECTORS.get("ec2os")(ctx).usage == {"windows-c5.large": 1}
    assert maps.get("ami-0gone0000000000000") == {
        "os_type": "?",
        "region": "us-east-1",
        "account": "111111111111",
    }
