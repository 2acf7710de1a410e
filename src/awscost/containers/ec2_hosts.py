"""Instance types of container hosts that the input names only by id (Container Insights, ECS metadata).

One `ec2:DescribeInstances` per region for up to 200 ids at a time, filtered by instance-id (a filter, unlike
`InstanceIds=`, does not fail the whole call on one terminated, no-longer-visible instance). Uses the standard
credential chain of `awscost.aws.session`; the instances must be in the caller's account.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from awscost.core.errors import AwsAccessError

IAM_PERMISSIONS = ("ec2:DescribeInstances",)
INSTANCE_ID = re.compile(r"^i-[0-9a-f]{8,17}$")


def describe_instance_types(
    hosts: Iterable[tuple[str, str | None]], default_region: str | None = None, session: Any = None
) -> dict[str, str]:
    """{instance id: instance type} for (host id, region) pairs; non-EC2 ids (Fargate tasks) are skipped."""
    from botocore.exceptions import BotoCoreError, ClientError

    from awscost.aws.session import client, make_session

    by_region: dict[str | None, set[str]] = {}
    for host, region in hosts:
        if host and INSTANCE_ID.match(host):
            by_region.setdefault(region or default_region, set()).add(host)
    if not by_region:
        return {}
    session = session or make_session(region=default_region)
    found: dict[str, str] = {}
    for region, ids in sorted(by_region.items(), key=lambda kv: kv[0] or ""):
        ec2 = client(session, "ec2", region)
        ordered = sorted(ids)
        for start in range(0, len(ordered), 200):
            chunk = ordered[start : start + 200]
            try:
                pages = ec2.get_paginator("describe_instances").paginate(
                    Filters=[{"Name": "instance-id", "Values": chunk}]
                )
                for page in pages:
                    for reservation in page.get("Reservations", []):
                        for inst in reservation.get("Instances", []):
                            found[inst["InstanceId"]] = inst["InstanceType"]
            except (ClientError, BotoCoreError) as exc:
                raise AwsAccessError(
                    f"ec2:DescribeInstances failed: {exc}", where=f"region {region or '(default)'}"
                ) from None
    return found
