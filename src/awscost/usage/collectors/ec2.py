"""EC2 instances, kind `ec2` (hourly): running instances by `instanceType:AZ`.

Only running instances count (pending, stopping, stopped and terminated ones do not bill instance
hours). Spot instances get a `spot-` prefix on the key, here and in `ec2os`, so they never mix with the
on-demand usage that reservations can cover: `spot-c4.large:us-west-2a`, `spot-linux-c4.large`.
"""

from __future__ import annotations

from typing import Any

from awscost.usage.collectors.base import CollectContext, Observation


def running_instances(ctx: CollectContext) -> list[dict[str, Any]]:
    """Every running instance of the account x region; one paginated read shared by ec2 and ec2os."""

    def read() -> list[dict[str, Any]]:
        ec2 = ctx.client("ec2")
        out: list[dict[str, Any]] = []
        pages = ec2.get_paginator("describe_instances").paginate(
            Filters=[{"Name": "instance-state-name", "Values": ["running"]}],
            PaginationConfig=ctx.pagination(),
        )
        for page in pages:
            for reservation in page.get("Reservations", []):
                for inst in reservation.get("Instances", []):
                    # The filter is applied server-side; checked again so no emulator laxity can leak in.
                    if inst.get("State", {}).get("Name") == "running":
                        out.append(inst)
        return out

    return ctx.memo.get("ec2:running-instances", read)


def spot_prefix(inst: dict[str, Any]) -> str:
    return "spot-" if inst.get("InstanceLifecycle") == "spot" else ""


def collect_ec2(ctx: CollectContext) -> Observation:
    """Running EC2 instances by instance type and availability zone."""
    obs = Observation()
    for inst in running_instances(ctx):
        az = inst.get("Placement", {}).get("AvailabilityZone", ctx.region)
        obs.add(f"{spot_prefix(inst)}{inst['InstanceType']}:{az}")
    return obs
