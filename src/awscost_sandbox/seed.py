"""Seed the sandbox: the Organization (management + member accounts under the scenario's ids) and, hour
by hour, moto's resources reconciled with `scenario.fleet_at(hour)`.

Everything goes through real boto3 clients over HTTP, as the management account or, in member accounts, with
keys from STS AssumeRole into `OrganizationAccountAccessRole` (moto maps them to that account). Reconciling
diffs against what the previous call created, so an hour costs only the calls its changes need.
"""

from __future__ import annotations

import fnmatch
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from unittest import mock

from awscost.core.timeutil import floor_hour
from awscost_sandbox.scenario import FleetUnit, Scenario, resource_tags
from awscost_sandbox.server import FAKE_KEY, SandboxServer

ROLE_NAME = "OrganizationAccountAccessRole"
PASSWORD = "sandbox-Passw0rd"

# AMI name prefixes (from moto's bundled public images) per OS, so instances carry the platform fields and
# AMI descriptions the ec2os collector reads.
AMI_NAMES = {
    "linux": "amzn2-ami-hvm-*",
    "windows": "Windows_Server-2016-English-Full-Base-*",
    "windows-sql-std": "Windows_Server-2016-English-Full-SQL_2016_SP1_Standard-*",
    "rhel": "RHEL-7.4_HVM*",
    "suse": "suse-sles-12*",
}


@dataclass
class _State:
    """What the seeder created in moto, to diff the next hour against."""

    clients: dict[tuple[str, str, str], Any] = field(default_factory=dict)
    amis: dict[tuple[str, str], str] = field(default_factory=dict)  # (region, os) -> ami id
    instances: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)  # scenario id -> moto id
    units: dict[tuple[str, str, str, str], tuple[Any, ...]] = field(default_factory=dict)
    paused: set[tuple[str, str, str]] = field(default_factory=set)
    calls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class ApplyStats:
    hour: datetime
    calls: int
    launched: int
    terminated: int


def _state(server: SandboxServer) -> _State:
    state = getattr(server, "_seed_state", None)
    if state is None:
        state = _State()
        server._seed_state = state  # type: ignore[attr-defined]
    return state


def _client(server: SandboxServer, account: str, region: str, service: str) -> Any:
    state = _state(server)
    key = (account, region, service)
    with state.lock:
        client = state.clients.get(key)
        if client is None:
            is_mgmt = account == server.scenario.management.id and server.access_key != FAKE_KEY
            client = server.client(service, region, None if is_mgmt else account)
            client.meta.events.register("before-send", _count_call(state))
            state.clients[key] = client
    return client


def _count_call(state: _State) -> Any:
    def handler(**_: Any) -> None:
        with state.lock:
            state.calls += 1

    return handler


def seed_organization(server: SandboxServer) -> None:
    """Create the Organization with the scenario's account ids, and management keys for `server.env()`.

    moto assigns random ids to new accounts; creating them while its id generator yields the scenario's ids
    keeps Organizations, assumed roles, the bill and the reservations on one set of ids.
    """
    scenario = server.scenario
    mgmt = scenario.management
    iam = server.session(mgmt.id, role_name=ROLE_NAME).client("iam", endpoint_url=server.endpoint)
    iam.create_user(UserName="sandbox-admin")
    key = iam.create_access_key(UserName="sandbox-admin")["AccessKey"]
    server.access_key, server.secret_key = key["AccessKeyId"], key["SecretAccessKey"]
    _state(server).clients.clear()
    org = server.client("organizations")
    org.create_organization(FeatureSet="ALL")
    members = [a for a in scenario.accounts if not a.management]
    ids = iter([a.id for a in members])
    with mock.patch("moto.organizations.utils.make_random_account_id", lambda: next(ids)):
        for acct in members:
            org.create_account(
                Email=f"{acct.name}@sandbox.example", AccountName=acct.name, RoleName=ROLE_NAME
            )


def apply_fleet(server: SandboxServer, scenario: Scenario, hour: datetime) -> ApplyStats:
    """Make moto's resources match `scenario.fleet_at(hour)` and move the server clock to that hour."""
    h = floor_hour(hour)
    state = _state(server)
    calls_before = state.calls
    fleet = scenario.fleet_at(h)
    paused = scenario.paused_at(h)
    by_place: dict[tuple[str, str], list[FleetUnit]] = defaultdict(list)
    for u in fleet:
        by_place[(u.account, u.region)].append(u)
    paused_by_place: dict[tuple[str, str], list[FleetUnit]] = defaultdict(list)
    for u in paused:
        paused_by_place[(u.account, u.region)].append(u)
    launched = terminated = 0
    places = {(a.id, r) for a in scenario.accounts for r in scenario.regions} | set(by_place)
    for place in sorted(places):
        units = by_place.get(place, [])
        n_launched, n_terminated = _apply_ec2(server, place, [u for u in units if u.kind == "ec2"])
        launched += n_launched
        terminated += n_terminated
        _apply_rds(server, place, [u for u in units if u.kind == "rds"])
        _apply_elasticache(server, place, [u for u in units if u.kind == "elasticache"])
        _apply_es(server, place, [u for u in units if u.kind == "es"])
        _apply_redshift(
            server, place, [u for u in units if u.kind == "redshift"], paused_by_place.get(place, [])
        )
        _apply_dynamodb(server, place, [u for u in units if u.kind == "dynamodb"])
    server.clock = h
    return ApplyStats(h, state.calls - calls_before, launched, terminated)


def _ami(server: SandboxServer, account: str, region: str, os: str) -> str:
    state = _state(server)
    if (region, "linux") not in state.amis:
        # One call per region for every OS (moto's image filtering is slow).
        ec2 = _client(server, account, region, "ec2")
        images = ec2.describe_images(Filters=[{"Name": "name", "Values": sorted(set(AMI_NAMES.values()))}])
        for name, pattern in AMI_NAMES.items():
            found = sorted(
                i["ImageId"] for i in images["Images"] if fnmatch.fnmatch(i.get("Name", ""), pattern)
            )
            if found:
                state.amis[(region, name)] = found[0]
        if (region, "linux") not in state.amis:
            state.amis[(region, "linux")] = min(i["ImageId"] for i in ec2.describe_images()["Images"])
    return state.amis.get((region, os), state.amis[(region, "linux")])


def _tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def _apply_ec2(server: SandboxServer, place: tuple[str, str], units: list[FleetUnit]) -> tuple[int, int]:
    account, region = place
    state = _state(server)
    running = state.instances.setdefault(place, {})
    wanted = {i for u in units for i in u.ids}
    gone = [sid for sid in running if sid not in wanted]
    launched = 0
    for u in units:
        new = [i for i in u.ids if i not in running]
        if not new:
            continue
        ec2 = _client(server, account, region, "ec2")
        tags = resource_tags(u)
        kwargs: dict[str, Any] = {
            "ImageId": _ami(server, account, region, u.os or "linux"),
            "InstanceType": u.type,
            "MinCount": len(new),
            "MaxCount": len(new),
            "Placement": {"AvailabilityZone": u.az or f"{region}a"},
            # moto picks its own instance ids; the seeder keeps scenario id -> moto id (`moto_instance_ids`).
            "TagSpecifications": [{"ResourceType": "instance", "Tags": _tag_list(tags)}] if tags else [],
        }
        if u.spot:
            kwargs["InstanceMarketOptions"] = {"MarketType": "spot"}
        made = ec2.run_instances(**kwargs)["Instances"]
        for sid, inst in zip(new, made, strict=True):
            running[sid] = inst["InstanceId"]
        launched += len(new)
    if gone:
        _client(server, account, region, "ec2").terminate_instances(InstanceIds=[running[s] for s in gone])
        for sid in gone:
            del running[sid]
    return launched, len(gone)


def moto_instance_ids(server: SandboxServer, account: str, region: str) -> dict[str, str]:
    """Scenario instance id (as in the sandbox bill) -> the id moto gave it, for one account and region."""
    return dict(_state(server).instances.get((account, region), {}))


def _diff(
    server: SandboxServer, place: tuple[str, str], kind: str, wanted: dict[str, tuple[Any, ...]]
) -> tuple[list[str], list[str], list[str]]:
    """Names to create, to delete, and to change (delete + create) for one kind in one place."""
    state = _state(server)
    have = {k[3]: v for k, v in state.units.items() if k[:3] == (*place, kind)}
    create = [n for n in wanted if n not in have]
    delete = [n for n in have if n not in wanted]
    change = [n for n in wanted if n in have and have[n] != wanted[n]]
    return create, delete, change


def _remember(
    server: SandboxServer, place: tuple[str, str], kind: str, name: str, sig: tuple[Any, ...] | None
) -> None:
    state = _state(server)
    key = (*place, kind, name)
    if sig is None:
        state.units.pop(key, None)
    else:
        state.units[key] = sig


def _apply_rds(server: SandboxServer, place: tuple[str, str], units: list[FleetUnit]) -> None:
    account, region = place
    # Aurora: the cluster is one remembered unit, its member instances another each.
    wanted: dict[str, tuple[Any, ...]] = {}
    for u in units:
        aurora = bool(u.engine and u.engine.startswith("aurora"))
        if aurora:
            wanted[f"cluster:{u.name}"] = ("cluster", u.engine)
        for i in u.ids:
            wanted[i] = (
                "instance",
                u.type,
                u.engine,
                u.multi_az,
                u.name if aurora else None,
                tuple(u.tags.items()),
            )
    create, delete, change = _diff(server, place, "rds", wanted)
    if not (create or delete or change):
        return
    rds = _client(server, account, region, "rds")
    for name in [n for n in delete + change if not n.startswith("cluster:")]:
        rds.delete_db_instance(DBInstanceIdentifier=name, SkipFinalSnapshot=True)
        _remember(server, place, "rds", name, None)
    for name in [n for n in delete + change if n.startswith("cluster:")]:
        rds.delete_db_cluster(DBClusterIdentifier=name.removeprefix("cluster:"), SkipFinalSnapshot=True)
        _remember(server, place, "rds", name, None)
    units_by_id = {i: u for u in units for i in u.ids}
    for name in sorted(create + change, key=lambda n: not n.startswith("cluster:")):
        sig = wanted[name]
        if sig[0] == "cluster":
            rds.create_db_cluster(
                DBClusterIdentifier=name.removeprefix("cluster:"),
                Engine=sig[1],
                MasterUsername="sandbox",
                MasterUserPassword=PASSWORD,
            )
        else:
            u = units_by_id[name]
            kwargs: dict[str, Any] = {
                "DBInstanceIdentifier": name,
                "DBInstanceClass": u.type,
                "Engine": u.engine,
                "Tags": _tag_list(resource_tags(u)),
            }
            if sig[4]:
                kwargs["DBClusterIdentifier"] = sig[4]
            else:
                kwargs.update(
                    AllocatedStorage=20,
                    MasterUsername="sandbox",
                    MasterUserPassword=PASSWORD,
                    MultiAZ=u.multi_az,
                )
            rds.create_db_instance(**kwargs)
        _remember(server, place, "rds", name, sig)


def _apply_elasticache(server: SandboxServer, place: tuple[str, str], units: list[FleetUnit]) -> None:
    account, region = place
    wanted: dict[str, tuple[Any, ...]] = {}
    for u in units:
        if u.engine == "redis":
            wanted[f"group:{u.name}"] = ("group", u.type, u.count)
            for i in u.ids:
                wanted[i] = ("member", u.type, u.name)
        else:  # memcached: one cluster of `count` nodes
            wanted[str(u.name)] = ("memcached", u.type, u.count)
    create, delete, change = _diff(server, place, "elasticache", wanted)
    if not (create or delete or change):
        return
    ec = _client(server, account, region, "elasticache")
    tags = {u.name: _tag_list(resource_tags(u)) for u in units}
    for name in delete + change:
        if name.startswith("group:"):
            ec.delete_replication_group(ReplicationGroupId=name.removeprefix("group:"))
        else:
            ec.delete_cache_cluster(CacheClusterId=name)
        _finish_cache_deletion(account, region, name)
        _remember(server, place, "elasticache", name, None)
    for name in sorted(create + change, key=lambda n: not n.startswith("group:")):
        sig = wanted[name]
        if sig[0] == "group":
            ec.create_replication_group(
                ReplicationGroupId=name.removeprefix("group:"),
                ReplicationGroupDescription="sandbox",
                CacheNodeType=sig[1],
                Engine="redis",
                NumCacheClusters=sig[2],
            )
        elif sig[0] == "member":
            # moto's replication group does not list its members as cache clusters; real AWS does.
            ec.create_cache_cluster(
                CacheClusterId=name,
                ReplicationGroupId=sig[2],
                CacheNodeType=sig[1],
                Engine="redis",
                NumCacheNodes=1,
                Tags=tags.get(sig[2], []),
            )
        else:
            ec.create_cache_cluster(
                CacheClusterId=name,
                CacheNodeType=sig[1],
                Engine="memcached",
                NumCacheNodes=sig[2],
                Tags=tags.get(name, []),
            )
        _remember(server, place, "elasticache", name, sig)


def _finish_cache_deletion(account: str, region: str, name: str) -> None:
    """Drop what moto keeps after a delete: it leaves ElastiCache clusters and replication groups in status
    "deleting" for ever (AWS removes them within minutes), so the name could never be used again. The moto
    server runs in this process (SandboxServer), so its backend is at hand."""
    from moto.elasticache.models import elasticache_backends

    backend = elasticache_backends[account][region]
    if name.startswith("group:"):
        backend.replication_groups.pop(name.removeprefix("group:"), None)
    else:
        backend.cache_clusters.pop(name, None)


def _apply_es(server: SandboxServer, place: tuple[str, str], units: list[FleetUnit]) -> None:
    account, region = place
    domains: dict[str, dict[str, FleetUnit]] = defaultdict(dict)
    for u in units:
        domains[str(u.name)][u.role or "data"] = u
    wanted = {
        name: tuple((role, u.type, u.count, u.engine) for role, u in sorted(parts.items()))
        for name, parts in domains.items()
    }
    create, delete, change = _diff(server, place, "es", wanted)
    if not (create or delete or change):
        return
    client = _client(server, account, region, "opensearch")
    for name in delete + change:
        client.delete_domain(DomainName=name)
        _remember(server, place, "es", name, None)
    for name in create + change:
        data, master = domains[name]["data"], domains[name].get("master")
        config: dict[str, Any] = {"InstanceType": data.type, "InstanceCount": data.count}
        if master:
            config.update(
                DedicatedMasterEnabled=True,
                DedicatedMasterType=master.type,
                DedicatedMasterCount=master.count,
            )
        client.create_domain(
            DomainName=name,
            EngineVersion=data.engine or "OpenSearch_2.11",
            ClusterConfig=config,
            TagList=_tag_list(resource_tags(data)),
        )
        _remember(server, place, "es", name, wanted[name])


def _apply_redshift(
    server: SandboxServer, place: tuple[str, str], units: list[FleetUnit], paused: list[FleetUnit]
) -> None:
    account, region = place
    state = _state(server)
    wanted = {str(u.name): (u.type, u.count) for u in [*units, *paused]}
    create, delete, change = _diff(server, place, "redshift", wanted)
    should_pause = {str(u.name) for u in paused}
    is_paused = {n for (a, r, n) in state.paused if (a, r) == place}
    if not (create or delete or change or should_pause != is_paused):
        return
    rs = _client(server, account, region, "redshift")
    all_units = {str(u.name): u for u in [*units, *paused]}
    for name in delete + change:
        rs.delete_cluster(ClusterIdentifier=name, SkipFinalClusterSnapshot=True)
        _remember(server, place, "redshift", name, None)
        state.paused.discard((*place, name))
    for name in create + change:
        u = all_units[name]
        rs.create_cluster(
            ClusterIdentifier=name,
            NodeType=u.type,
            NumberOfNodes=u.count,
            ClusterType="multi-node" if u.count > 1 else "single-node",
            MasterUsername="sandbox",
            MasterUserPassword=PASSWORD,
            Tags=_tag_list(resource_tags(u)),
        )
        _remember(server, place, "redshift", name, wanted[name])
    for name in sorted(should_pause):
        if (*place, name) not in state.paused:
            rs.pause_cluster(ClusterIdentifier=name)
            state.paused.add((*place, name))
    for name in sorted(n for n in is_paused if n not in should_pause and n in wanted):
        rs.resume_cluster(ClusterIdentifier=name)
        state.paused.discard((*place, name))


def _apply_dynamodb(server: SandboxServer, place: tuple[str, str], units: list[FleetUnit]) -> None:
    account, region = place
    wanted = {u.type: (u.on_demand, u.read_capacity, u.write_capacity, u.gsis) for u in units}
    create, delete, change = _diff(server, place, "dynamodb", wanted)
    if not (create or delete or change):
        return
    ddb = _client(server, account, region, "dynamodb")
    units_by_name = {u.type: u for u in units}
    for name in delete:
        ddb.delete_table(TableName=name)
        _remember(server, place, "dynamodb", name, None)
    for name in create:
        u = units_by_name[name]
        attrs = [{"AttributeName": "pk", "AttributeType": "S"}] + [
            {"AttributeName": f"{g}_key", "AttributeType": "S"} for g, _, _ in u.gsis
        ]
        kwargs: dict[str, Any] = {
            "TableName": name,
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": attrs,
            "Tags": _tag_list(resource_tags(u)),
        }
        table_rcu, table_wcu = _table_capacity(u)
        if u.on_demand:
            kwargs["BillingMode"] = "PAY_PER_REQUEST"
        else:
            kwargs["ProvisionedThroughput"] = {
                "ReadCapacityUnits": table_rcu,
                "WriteCapacityUnits": table_wcu,
            }
        if u.gsis:
            kwargs["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": g,
                    "KeySchema": [{"AttributeName": f"{g}_key", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                    **(
                        {}
                        if u.on_demand
                        else {"ProvisionedThroughput": {"ReadCapacityUnits": r, "WriteCapacityUnits": w}}
                    ),
                }
                for g, r, w in u.gsis
            ]
        ddb.create_table(**kwargs)
        _remember(server, place, "dynamodb", name, wanted[name])
    for name in change:
        u = units_by_name[name]
        table_rcu, table_wcu = _table_capacity(u)
        kwargs = {
            "TableName": name,
            "ProvisionedThroughput": {"ReadCapacityUnits": table_rcu, "WriteCapacityUnits": table_wcu},
        }
        if u.gsis:
            kwargs["GlobalSecondaryIndexUpdates"] = [
                {
                    "Update": {
                        "IndexName": g,
                        "ProvisionedThroughput": {"ReadCapacityUnits": r, "WriteCapacityUnits": w},
                    }
                }
                for g, r, w in u.gsis
            ]
        ddb.update_table(**kwargs)
        _remember(server, place, "dynamodb", name, wanted[name])


def _table_capacity(u: FleetUnit) -> tuple[int, int]:
    """The table's own capacity: the unit's totals minus its GSIs'."""
    return (
        u.read_capacity - sum(r for _, r, _ in u.gsis),
        u.write_capacity - sum(w for _, _, w in u.gsis),
    )


def counts(units: Iterable[FleetUnit]) -> dict[str, int]:
    """Units per kind (instances/nodes; dynamodb tables): what a person would count in the fleet."""
    out: dict[str, int] = defaultdict(int)
    for u in units:
        out[u.kind] += u.count
    return dict(out)
