"""ElastiCache nodes, kind `elasticache`, hourly: key = node type (`cache.r4.large`), count = nodes.

Counted per node, never per cluster or replication group (the original's defect): every Redis
replication-group member and every Memcached cluster is a cache cluster with NumCacheNodes nodes.
Serverless caches have no nodes and do not appear here.
"""

from __future__ import annotations

from awscost.usage.collectors.base import CollectContext, Observation

NOT_BILLED = frozenset({"deleting", "deleted"})


def collect_elasticache(ctx: CollectContext) -> Observation:
    """ElastiCache (Redis, Valkey, Memcached) nodes by node type."""
    obs = Observation()
    paginator = ctx.client("elasticache").get_paginator("describe_cache_clusters")
    for page in paginator.paginate(PaginationConfig=ctx.pagination()):
        for cluster in page.get("CacheClusters", []):
            if cluster.get("CacheClusterStatus") in NOT_BILLED:
                continue
            obs.add(cluster["CacheNodeType"], int(cluster.get("NumCacheNodes", 0)))
    return obs
