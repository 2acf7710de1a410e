"""Redshift nodes, kind `redshift`, daily: key = node type (`dc2.8xlarge`), count = NumberOfNodes.

Counted per node, not per cluster (the original's defect). Paused clusters bill no node hours and are
left out, as are clusters being deleted.
"""

from __future__ import annotations

from awscost.usage.collectors.base import CollectContext, Observation

NOT_BILLED = frozenset({"paused", "deleting", "final-snapshot"})


def collect_redshift(ctx: CollectContext) -> Observation:
    """Redshift provisioned-cluster nodes by node type."""
    obs = Observation()
    paginator = ctx.client("redshift").get_paginator("describe_clusters")
    for page in paginator.paginate(PaginationConfig=ctx.pagination()):
        for cluster in page.get("Clusters", []):
            if str(cluster.get("ClusterStatus", "")).lower() in NOT_BILLED:
                continue
            obs.add(cluster["NodeType"], int(cluster.get("NumberOfNodes", 1)))
    return obs
