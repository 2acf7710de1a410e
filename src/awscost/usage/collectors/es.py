"""OpenSearch / Elasticsearch domains, kind `es`, daily: key = instance type, count = nodes.

Data nodes (InstanceCount x InstanceType), dedicated masters and UltraWarm nodes each count under their
own instance type (`m4.large.elasticsearch`, `r6g.large.search`, `ultrawarm1.medium.search`). The
OpenSearch API lists both engines' domains; DescribeDomains takes at most 5 names per call (more made
the original fail), so names go in chunks of 5. Domains being deleted are left out.
"""

from __future__ import annotations

from typing import Any

from awscost.usage.collectors.base import CollectContext, Observation

DESCRIBE_CHUNK = 5


def domain_nodes(status: dict[str, Any]) -> list[tuple[str, int]]:
    cfg = status.get("ClusterConfig", {})
    out = [(cfg["InstanceType"], int(cfg.get("InstanceCount", 0)))] if cfg.get("InstanceType") else []
    if cfg.get("DedicatedMasterEnabled") and cfg.get("DedicatedMasterType"):
        out.append((cfg["DedicatedMasterType"], int(cfg.get("DedicatedMasterCount", 0))))
    if cfg.get("WarmEnabled") and cfg.get("WarmType"):
        out.append((cfg["WarmType"], int(cfg.get("WarmCount", 0))))
    return out


def collect_es(ctx: CollectContext) -> Observation:
    """OpenSearch/Elasticsearch data, dedicated master and warm nodes by instance type."""
    client = ctx.client("opensearch")
    names = sorted(d["DomainName"] for d in client.list_domain_names().get("DomainNames", []))
    obs = Observation()
    for start in range(0, len(names), DESCRIBE_CHUNK):
        resp = client.describe_domains(DomainNames=names[start : start + DESCRIBE_CHUNK])
        for status in resp.get("DomainStatusList", []):
            if status.get("Deleted"):
                continue
            for instance_type, count in domain_nodes(status):
                obs.add(instance_type, count)
    return obs
