"""EC2 instances: kinds `ec2` (`instanceType:AZ`) and `ec2os` (`os-instanceType`), hourly.

Only running instances count (pending, stopping, stopped and terminated ones do not bill instance
hours). Spot instances get a `spot-` prefix on the key in both kinds, so they never mix with the
on-demand usage that reservations can cover: `spot-c4.large:us-west-2a`, `spot-linux-c4.large`.

ec2os takes the OS from the instance's `PlatformDetails` (what AWS bills), else from its AMI. AMIs are
resolved in batches (one DescribeImages per 100 ids) and cached in the map table (AWSCostMap, `id` = AMI
id, `os_type`); an AMI that cannot be resolved is recorded with `os_type` "?" for a person to annotate,
and its instances count as `unknown-<type>` (or `windows-<type>` when the instance says Platform windows)
until then. An annotated entry (any other `os_type`) is used as is on the next run.
"""

from __future__ import annotations

from typing import Any

from awscost.collect import osnames
from awscost.collect.base import CollectContext, Observation, collector

AMI_BATCH = 100
UNRESOLVED = "?"


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


def _spot(inst: dict[str, Any]) -> str:
    return "spot-" if inst.get("InstanceLifecycle") == "spot" else ""


@collector("ec2", schedule="hourly", iam_actions=("ec2:DescribeInstances",))
def collect_ec2(ctx: CollectContext) -> Observation:
    """Running EC2 instances by instance type and availability zone."""
    obs = Observation()
    for inst in running_instances(ctx):
        az = inst.get("Placement", {}).get("AvailabilityZone", ctx.region)
        obs.add(f"{_spot(inst)}{inst['InstanceType']}:{az}")
    return obs


def resolve_amis(ctx: CollectContext, image_ids: set[str]) -> dict[str, str]:
    """AMI id -> OS name for `image_ids`: the map table first, DescribeImages for the rest (batched)."""
    known: dict[str, str] = {}
    missing: list[str] = []
    for ami in sorted(image_ids):
        entry = ctx.maps.get(ami)
        if entry is not None and entry.get("os_type"):
            known[ami] = str(entry["os_type"])
        else:
            missing.append(ami)
    if not missing:
        return known
    ec2 = ctx.client("ec2")
    for start in range(0, len(missing), AMI_BATCH):
        chunk = missing[start : start + AMI_BATCH]
        # A filter (unlike ImageIds=) does not fail the whole batch when one AMI was deregistered.
        pages = ec2.get_paginator("describe_images").paginate(
            Filters=[{"Name": "image-id", "Values": chunk}], IncludeDeprecated=True
        )
        for page in pages:
            for image in page.get("Images", []):
                os_name = osnames.from_image(image)
                known[image["ImageId"]] = os_name if os_name != osnames.UNKNOWN else UNRESOLVED
    for ami in missing:
        os_type = known.setdefault(ami, UNRESOLVED)
        ctx.maps.put(ami, {"os_type": os_type, "region": ctx.region, "account": ctx.account.id})
    return known


def instance_os(inst: dict[str, Any], amis: dict[str, str]) -> str:
    found = osnames.from_platform_details(inst.get("PlatformDetails"))
    if found:
        return found
    os_type = amis.get(str(inst.get("ImageId")), UNRESOLVED)
    if os_type in (UNRESOLVED, osnames.UNKNOWN):
        return "windows" if str(inst.get("Platform", "")).lower() == "windows" else osnames.UNKNOWN
    return os_type


@collector("ec2os", schedule="hourly", iam_actions=("ec2:DescribeInstances", "ec2:DescribeImages"))
def collect_ec2os(ctx: CollectContext) -> Observation:
    """Running EC2 instances by operating system and instance type."""
    instances = running_instances(ctx)
    need = {str(i["ImageId"]) for i in instances if i.get("ImageId") and not i.get("PlatformDetails")}
    amis = resolve_amis(ctx, need) if need else {}
    obs = Observation()
    for inst in instances:
        obs.add(f"{_spot(inst)}{instance_os(inst, amis)}-{inst['InstanceType']}")
    return obs
