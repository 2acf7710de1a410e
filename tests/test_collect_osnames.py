"""One OS vocabulary for instances, AMIs and reservations; instances with PlatformDetails (as AWS returns
them) need no AMI lookup."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from awscost.aws.accounts import Account
from awscost.core.vocabulary import from_image, from_platform_details
from awscost.usage.collectors.base import CollectContext, MapCache
from awscost.usage.collectors.registry import COLLECTORS


@pytest.mark.parametrize(
    ("details", "os_name"),
    [
        ("Linux/UNIX", "linux"),
        ("Linux/UNIX (Amazon VPC)", "linux"),
        ("Red Hat Enterprise Linux", "rhel"),
        ("Red Hat Enterprise Linux with HA", "rhel-ha"),
        ("Red Hat Enterprise Linux with SQL Server Standard and HA", "rhel-sql-std"),
        ("Red Hat Enterprise Linux with SQL Server Enterprise", "rhel-sql-ent"),
        ("SUSE Linux", "suse"),
        ("SUSE Linux (Amazon VPC)", "suse"),
        ("Ubuntu Pro", "ubuntu-pro"),
        ("Windows", "windows"),
        ("Windows BYOL", "windows-byol"),
        ("Windows with SQL Server Web", "windows-sql-web"),
        ("Windows with SQL Server Standard", "windows-sql-std"),
        ("Windows with SQL Server Enterprise (Amazon VPC)", "windows-sql-ent"),
        ("Windows with SQL Server Express", "windows"),  # Express is free: billed as Windows
        ("Linux with SQL Server Web", "linux-sql-web"),
        ("Linux with SQL Server Standard", "linux-sql-std"),
        ("Linux with SQL Server Enterprise", "linux-sql-ent"),
        ("", None),
        ("Plan 9", None),
    ],
)
def test_platform_details_vocabulary(details: str, os_name: str | None) -> None:
    assert from_platform_details(details) == os_name


@pytest.mark.parametrize(
    ("image", "os_name"),
    [
        ({"Name": "CentOS-7-x86_64-GenericCloud", "Description": "CentOS 7"}, "linux"),  # not rhel
        ({"Name": "RHEL-8.6.0_HVM-20220503-x86_64", "Description": "Provided by Red Hat, Inc."}, "rhel"),
        ({"Name": "suse-sles-15-sp4-v20220621-hvm-ssd-x86_64"}, "suse"),
        (
            {"Name": "Windows_Server-2019-English-Full-SQL_2019_Web-2022.06.15", "Platform": "windows"},
            "windows-sql-web",
        ),
        ({"Name": "whatever", "PlatformDetails": "Windows with SQL Server Enterprise"}, "windows-sql-ent"),
        ({"Name": "golden-42", "Description": "team image"}, "unknown"),
    ],
)
def test_image_os(image: dict[str, Any], os_name: str) -> None:
    assert from_image(image) == os_name


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
        usage = COLLECTORS["ec2os"].collect(ctx).usage
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
        usage = COLLECTORS["ec2os"].collect(ctx).usage
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
        assert COLLECTORS["ec2os"].collect(ctx).usage == {"windows-c5.large": 1}
    assert maps.get("ami-0gone0000000000000") == {
        "os_type": "?",
        "region": "us-east-1",
        "account": "111111111111",
    }
