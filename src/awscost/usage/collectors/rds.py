"""RDS DB instances, kind `rds`, hourly: key `class:engine`, `multi_az-` prefix for Multi-AZ.

Aurora cluster members are DB instances and count one each (`db.r4.large:aurora-mysql`). Instances
that do not bill instance hours (stopped, stopping, being deleted) are left out.
"""

from __future__ import annotations

from awscost.usage.collectors.base import CollectContext, Observation

NOT_BILLED = frozenset({"stopped", "stopping", "deleting", "deleted"})


def rds_key(instance_class: str, engine: str, multi_az: bool) -> str:
    return f"{'multi_az-' if multi_az else ''}{instance_class}:{engine}"


def collect_rds(ctx: CollectContext) -> Observation:
    """RDS and Aurora DB instances by class, engine and Multi-AZ."""
    obs = Observation()
    pages = (
        ctx.client("rds").get_paginator("describe_db_instances").paginate(PaginationConfig=ctx.pagination())
    )
    for page in pages:
        for db in page.get("DBInstances", []):
            if db.get("DBInstanceStatus") in NOT_BILLED:
                continue
            obs.add(rds_key(db["DBInstanceClass"], db["Engine"], bool(db.get("MultiAZ"))))
    return obs
