"""DynamoDB provisioned capacity, kind `dynamodb`, hourly.

Keys: `read_capacity` and `write_capacity` (units of every provisioned table plus its global secondary
indexes; the original ignored GSIs) and `table_count` (provisioned tables). On-demand tables
(PAY_PER_REQUEST) have no capacity to reserve and are left out entirely.
"""

from __future__ import annotations

from typing import Any

from awscost.usage.collectors.base import CollectContext, Observation


def _provisioned(desc: dict[str, Any]) -> bool:
    return desc.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED") == "PROVISIONED"


def collect_dynamodb(ctx: CollectContext) -> Observation:
    """Provisioned read/write capacity of DynamoDB tables and their GSIs."""
    ddb = ctx.client("dynamodb")
    read = write = tables = 0
    for page in ddb.get_paginator("list_tables").paginate(PaginationConfig=ctx.pagination()):
        for name in page.get("TableNames", []):
            desc = ddb.describe_table(TableName=name)["Table"]
            if not _provisioned(desc) or desc.get("TableStatus") == "DELETING":
                continue
            tables += 1
            parts = [desc, *desc.get("GlobalSecondaryIndexes", [])]
            for part in parts:
                throughput = part.get("ProvisionedThroughput", {})
                read += int(throughput.get("ReadCapacityUnits", 0))
                write += int(throughput.get("WriteCapacityUnits", 0))
    obs = Observation()
    if tables:
        obs.usage = {"read_capacity": read, "write_capacity": write, "table_count": tables}
    return obs
