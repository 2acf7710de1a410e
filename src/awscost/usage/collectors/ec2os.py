"""EC2 instances by operating system, kind `ec2os` (hourly): `os-instanceType` (`linux-c4.large`).

Running instances only, spot ones under a `spot-` prefix (`spot-linux-c4.large`), as in `ec2`, from the
same DescribeInstances read. The OS comes from the instance's `PlatformDetails` (what AWS bills), else
from its AMI. AMIs are resolved in batches (one DescribeImages per 100 ids) and cached in the map table
(AWSCostMap, `id` = AMI id, `os_type`); an AMI that cannot be resolved is recorded with `os_type` "?" for
a person to annotate, and its instances count as `unknown-<type>` (or `windows-<type>` when the instance
says Platform windows) until then. An annotated entry (any other `os_type`) is used as is on the next run.
The OS vocabulary is in `awscost.core.vocabulary`.
"""

from __future__ import annotations

from typing import Any

from awscost.core import vocabulary
from awscost.usage.collectors.base import CollectContext, Observation
from awscost.usage.collectors.ec2 import running_instances, spot_prefix

AMI_BATCH = 100
UNRESOLVED = "?"


def resolve_amis(ctx: CollectContext, image_ids: set[str]) -> dict[str, str]:
    """AMI id -> OS name for `image_ids`: the map table first, DescribeImages for the rest (batched).

    AMI ids are unique within a region, and accounts of one organization mostly run the same (public or
    shared) AMIs: units of one region resolve in turn, so an AMI is described once per run, not per account.
    """
    with ctx.maps.lock(f"ami:{ctx.region}"):
        return _resolve_amis(ctx, image_ids)


def _resolve_amis(ctx: CollectContext, image_ids: set[str]) -> dict[str, str]:
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
                os_name = vocabulary.from_image(image)
                known[image["ImageId"]] = os_name if os_name != vocabulary.UNKNOWN else UNRESOLVED
    for ami in missing:
        os_type = known.setdefault(ami, UNRESOLVED)
        ctx.maps.put(ami, {"os_type": os_type, "region": ctx.region, "account": ctx.account.id})
    return known


def instance_os(inst: dict[str, Any], amis: dict[str, str]) -> str:
    found = vocabulary.from_platform_details(inst.get("PlatformDetails"))
    if found:
        return found
    os_type = amis.get(str(inst.get("ImageId")), UNRESOLVED)
    if os_type in (UNRESOLVED, vocabulary.UNKNOWN):
        return "windows" if str(inst.get("Platform", "")).lower() == "windows" else vocabulary.UNKNOWN
    return os_type


def collect_ec2os(ctx: CollectContext) -> Observation:
    """Running EC2 instances by operating system and instance type."""
    instances = running_instances(ctx)
    need = {str(i["ImageId"]) for i in instances if i.get("ImageId") and not i.get("PlatformDetails")}
    amis = resolve_amis(ctx, need) if need else {}
    obs = Observation()
    for inst in instances:
        obs.add(f"{spot_prefix(inst)}{instance_os(inst, amis)}-{inst['InstanceType']}")
    return obs
