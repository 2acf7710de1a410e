"""Active reservations, kinds ri-ec2, ri-rds, ri-elasticache, ri-es, ri-redshift (daily).

Usage keys have the same shape as the kind they cover, so a report can set one against the other:
    ri-ec2          `os-instanceType` (`linux-t2.small`), OS from ProductDescription in the ec2os vocabulary
    ri-rds          `class:engine`, `multi_az-` as a PREFIX as in `rds` (the original used a suffix here)
    ri-elasticache  node type           ri-es  instance type           ri-redshift  node type
Counts are reserved units (instances / nodes). `attrs["reservations"]` lists each active reservation:
id, key, count, scope ("Region" or "Availability Zone"), az, start, end (ISO 8601), offering_type, and
where AWS says so offering_class, product and engine. Reservations in other states (payment-pending,
retired ...) are not counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from awscost.aws.paging import follow_token
from awscost.core import vocabulary
from awscost.usage.collectors.base import CollectContext, Observation
from awscost.usage.collectors.rds import rds_key


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return None if value is None else str(value)


def _end(start: Any, duration_seconds: Any) -> str | None:
    if isinstance(start, datetime) and duration_seconds:
        return _iso(start + timedelta(seconds=int(duration_seconds)))
    return None


def _regional(rid: str, key: str, count: Any, ri: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """One active regional reservation as stored in the item's attrs (every kind but EC2 is regional)."""
    return {
        "id": rid,
        "key": key,
        "count": int(count),
        "scope": "Region",
        "az": None,
        "start": _iso(ri.get("StartTime")),
        "end": _end(ri.get("StartTime"), ri.get("Duration")),
        **extra,
    }


def _observation(reservations: list[dict[str, Any]]) -> Observation:
    obs = Observation()
    for r in reservations:
        obs.add(r["key"], r["count"])
    obs.attrs["reservations"] = sorted(reservations, key=lambda r: (r["key"], r["id"]))
    return obs


def collect_ri_ec2(ctx: CollectContext) -> Observation:
    """Active EC2 Reserved Instances by OS and instance type."""
    # DescribeReservedInstances has no pagination: one call returns every reservation of the region.
    resp = ctx.client("ec2").describe_reserved_instances(Filters=[{"Name": "state", "Values": ["active"]}])
    out = []
    for ri in resp.get("ReservedInstances", []):
        if ri.get("State") != "active":
            continue
        os_name = vocabulary.from_platform_details(ri.get("ProductDescription")) or vocabulary.UNKNOWN
        out.append(
            {
                "id": ri["ReservedInstancesId"],
                "key": f"{os_name}-{ri['InstanceType']}",
                "count": int(ri["InstanceCount"]),
                "scope": ri.get("Scope", "Region"),
                "az": ri.get("AvailabilityZone"),
                "start": _iso(ri.get("Start")),
                "end": _iso(ri.get("End")) or _end(ri.get("Start"), ri.get("Duration")),
                "offering_type": ri.get("OfferingType"),
                "offering_class": ri.get("OfferingClass"),
                "product": ri.get("ProductDescription"),
                "tenancy": ri.get("InstanceTenancy"),
            }
        )
    return _observation(out)


def collect_ri_rds(ctx: CollectContext) -> Observation:
    """Active RDS reserved DB instances by class, engine and Multi-AZ."""
    out = []
    paginator = ctx.client("rds").get_paginator("describe_reserved_db_instances")
    for page in paginator.paginate(PaginationConfig=ctx.pagination()):
        for ri in page.get("ReservedDBInstances", []):
            if ri.get("State") != "active":
                continue
            engine = vocabulary.engine_from_reserved(ri.get("ProductDescription", ""))
            out.append(
                _regional(
                    ri["ReservedDBInstanceId"],
                    rds_key(ri["DBInstanceClass"], engine, bool(ri.get("MultiAZ"))),
                    ri["DBInstanceCount"],
                    ri,
                    offering_type=ri.get("OfferingType"),
                    product=ri.get("ProductDescription"),
                    engine=engine,
                )
            )
    return _observation(out)


def collect_ri_elasticache(ctx: CollectContext) -> Observation:
    """Active ElastiCache reserved nodes by node type."""
    out = []
    paginator = ctx.client("elasticache").get_paginator("describe_reserved_cache_nodes")
    for page in paginator.paginate(PaginationConfig=ctx.pagination()):
        for ri in page.get("ReservedCacheNodes", []):
            if ri.get("State") != "active":
                continue
            out.append(
                _regional(
                    ri["ReservedCacheNodeId"],
                    ri["CacheNodeType"],
                    ri["CacheNodeCount"],
                    ri,
                    offering_type=ri.get("OfferingType"),
                    product=ri.get("ProductDescription"),
                )
            )
    return _observation(out)


def _opensearch_reserved(ctx: CollectContext) -> Iterator[dict[str, Any]]:
    # botocore ships no paginator for this operation: follow NextToken by hand.
    client = ctx.client("opensearch")
    yield from follow_token(
        client.describe_reserved_instances, {"MaxResults": ctx.page_size or 100}, "ReservedInstances"
    )


def collect_ri_es(ctx: CollectContext) -> Observation:
    """Active OpenSearch/Elasticsearch reserved instances by instance type."""
    out = []
    for ri in _opensearch_reserved(ctx):
        if str(ri.get("State", "")).lower() != "active":
            continue
        out.append(
            _regional(
                ri["ReservedInstanceId"],
                ri["InstanceType"],
                ri["InstanceCount"],
                ri,
                offering_type=ri.get("PaymentOption"),
                name=ri.get("ReservationName"),
            )
        )
    return _observation(out)


def collect_ri_redshift(ctx: CollectContext) -> Observation:
    """Active Redshift reserved nodes by node type."""
    out = []
    paginator = ctx.client("redshift").get_paginator("describe_reserved_nodes")
    for page in paginator.paginate(PaginationConfig=ctx.pagination()):
        for ri in page.get("ReservedNodes", []):
            if ri.get("State") != "active":
                continue
            out.append(
                _regional(
                    ri["ReservedNodeId"],
                    ri["NodeType"],
                    ri["NodeCount"],
                    ri,
                    offering_type=ri.get("OfferingType"),
                )
            )
    return _observation(out)
