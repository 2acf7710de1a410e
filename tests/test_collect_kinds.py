"""Each collector against a moto server over HTTP, with counts a person would count by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from awscost.aws.accounts import Account
from awscost.aws.session import CallCounter, ClientCache, make_session
from awscost.usage.collectors.base import CollectContext, MapCache, Memo
from awscost.usage.kinds import COLLECTORS

ACCOUNT = Account("123456789012", "moto default")
HOUR = datetime(2026, 11, 26, 10, tzinfo=UTC)
WIN_SQL_STD = "ami-1812c061"  # moto: Windows_Server-2016-English-Full-SQL_2016_SP1_Standard
WIN_BASE = "ami-b7e93bce"  # moto: Windows_Server-2016-English-Full-Base
AMZN = "ami-760aaa0f"  # moto: amzn-ami-hvm-2017.09.1
RHEL = "ami-bb9a6bc2"  # moto: RHEL-7.4_HVM_GA
SLES = "ami-35e92e4c"  # moto: suse-sles-12-sp3


def make_ctx(
    region: str = "us-east-1",
    *,
    page_size: int | None = None,
    maps: MapCache | None = None,
    counter: Any = None,
) -> CollectContext:
    session = make_session(counter=counter or CallCounter())
    return CollectContext(ACCOUNT, region, HOUR, ClientCache(session), maps or MapCache(), Memo(), page_size)


def run(kind: str, ctx: CollectContext) -> dict[str, int]:
    return COLLECTORS.get(kind)(ctx).usage


def launch(ec2: Any, ami: str, itype: str, az: str, n: int = 1, *, spot: bool = False) -> list[str]:
    kw: dict[str, Any] = {"InstanceMarketOptions": {"MarketType": "spot"}} if spot else {}
    resp = ec2.run_instances(
        ImageId=ami, MinCount=n, MaxCount=n, InstanceType=itype, Placement={"AvailabilityZone": az}, **kw
    )
    return [i["InstanceId"] for i in resp["Instances"]]


@pytest.fixture()
def fleet(aws: str) -> dict[str, Any]:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    launch(ec2, AMZN, "c4.large", "us-east-1a", 3)
    launch(ec2, AMZN, "c4.large", "us-east-1b", 1)
    launch(ec2, WIN_BASE, "t3.micro", "us-east-1a", 2)
    launch(ec2, WIN_SQL_STD, "m5.xlarge", "us-east-1c", 1)
    launch(ec2, RHEL, "m5.large", "us-east-1a", 2)
    launch(ec2, SLES, "m5.large", "us-east-1b", 1)
    launch(ec2, AMZN, "c4.large", "us-east-1a", 2, spot=True)
    stopped = launch(ec2, AMZN, "c4.large", "us-east-1a", 2)
    terminated = launch(ec2, WIN_BASE, "t3.micro", "us-east-1a", 1)
    ec2.stop_instances(InstanceIds=stopped)
    ec2.terminate_instances(InstanceIds=terminated)
    # Another region is another fleet.
    launch(boto3.client("ec2", region_name="us-west-2"), "ami-04681a1dbd79675a5", "t2.small", "us-west-2a", 4)
    return {"stopped": stopped, "terminated": terminated}


def test_ec2_counts_running_instances_by_type_and_az(fleet: dict[str, Any]) -> None:
    assert run("ec2", make_ctx()) == {
        "c4.large:us-east-1a": 3,
        "c4.large:us-east-1b": 1,
        "t3.micro:us-east-1a": 2,
        "m5.xlarge:us-east-1c": 1,
        "m5.large:us-east-1a": 2,
        "m5.large:us-east-1b": 1,
        "spot-c4.large:us-east-1a": 2,
    }
    assert run("ec2", make_ctx("us-west-2")) == {"t2.small:us-west-2a": 4}
    assert run("ec2", make_ctx("eu-west-1")) == {}


def test_ec2os_resolves_os_from_amis_and_caches_them(fleet: dict[str, Any]) -> None:
    maps = MapCache()
    counter = CallCounter()
    ctx = make_ctx(maps=maps, counter=counter)
    assert run("ec2os", ctx) == {
        "linux-c4.large": 4,
        "windows-t3.micro": 2,
        "windows-sql-std-m5.xlarge": 1,
        "rhel-m5.large": 2,
        "suse-m5.large": 1,
        "spot-linux-c4.large": 2,
    }
    # Five distinct AMIs resolved with one DescribeImages call, one DescribeInstances page.
    assert counter.by_operation == {"ec2.DescribeInstances": 1, "ec2.DescribeImages": 1}
    pending = maps.pending()
    assert {k: v["os_type"] for k, v in pending.items()} == {
        AMZN: "linux",
        WIN_BASE: "windows",
        WIN_SQL_STD: "windows-sql-std",
        RHEL: "rhel",
        SLES: "suse",
    }
    # The next run reads the map and never calls DescribeImages again.
    counter2 = CallCounter()
    assert run("ec2os", make_ctx(maps=MapCache(pending), counter=counter2)) == run(
        "ec2os", make_ctx(maps=maps)
    )
    assert counter2.by_operation == {"ec2.DescribeInstances": 1}


def test_ec2os_unknown_ami_recorded_with_question_mark_and_annotation_is_used(aws: str) -> None:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    # An AMI of our own whose name says nothing about its OS.
    base = launch(ec2, AMZN, "t3.nano", "us-east-1a")[0]
    private = ec2.create_image(InstanceId=base, Name="golden-image-42", Description="team build")["ImageId"]
    ec2.terminate_instances(InstanceIds=[base])
    launch(ec2, private, "t3.nano", "us-east-1a", 2)
    maps = MapCache()
    assert run("ec2os", make_ctx(maps=maps)) == {"unknown-t3.nano": 2}
    assert maps.get(private) is not None and maps.get(private)["os_type"] == "?"  # type: ignore[index]
    # A person annotates the AMI in the map; the next collection uses it.
    annotated = MapCache({private: {"os_type": "rhel"}})
    assert run("ec2os", make_ctx(maps=annotated)) == {"rhel-t3.nano": 2}


def test_ec2_and_ec2os_share_one_describe_instances_per_region(fleet: dict[str, Any]) -> None:
    counter = CallCounter()
    ctx = make_ctx(counter=counter, maps=MapCache())
    run("ec2", ctx)
    run("ec2os", ctx)
    assert counter.by_operation["ec2.DescribeInstances"] == 1


def test_ec2_paginates_beyond_one_page(aws: str) -> None:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    for i in range(13):  # 13 reservations; moto pages by reservation
        launch(ec2, AMZN, "t3.small" if i % 2 else "t3.medium", "us-east-1a")
    counter = CallCounter()
    assert run("ec2", make_ctx(page_size=5, counter=counter)) == {
        "t3.small:us-east-1a": 6,
        "t3.medium:us-east-1a": 7,
    }
    assert counter.by_operation["ec2.DescribeInstances"] == 3  # the paging floor: ceil(13 / 5)


def test_rds_class_engine_multi_az_and_aurora_members(aws: str) -> None:
    rds = boto3.client("rds", region_name="us-east-1")
    common = {"AllocatedStorage": 20, "MasterUsername": "admin", "MasterUserPassword": "Passw0rd1"}
    rds.create_db_cluster(
        DBClusterIdentifier="aur",
        Engine="aurora-mysql",
        MasterUsername="admin",
        MasterUserPassword="Passw0rd1",
    )
    for name in ("aur-1", "aur-2"):
        rds.create_db_instance(
            DBInstanceIdentifier=name,
            DBClusterIdentifier="aur",
            Engine="aurora-mysql",
            DBInstanceClass="db.r4.large",
        )
    rds.create_db_instance(
        DBInstanceIdentifier="m1", Engine="mysql", DBInstanceClass="db.m5.large", MultiAZ=True, **common
    )
    rds.create_db_instance(
        DBInstanceIdentifier="p1", Engine="postgres", DBInstanceClass="db.m5.large", **common
    )
    rds.create_db_instance(
        DBInstanceIdentifier="p2", Engine="postgres", DBInstanceClass="db.m5.large", **common
    )
    rds.create_db_instance(
        DBInstanceIdentifier="p3", Engine="postgres", DBInstanceClass="db.m5.large", **common
    )
    rds.stop_db_instance(DBInstanceIdentifier="p3")
    assert run("rds", make_ctx()) == {
        "db.r4.large:aurora-mysql": 2,
        "multi_az-db.m5.large:mysql": 1,
        "db.m5.large:postgres": 2,
    }


def test_dynamodb_provisioned_tables_and_gsis_on_demand_excluded(aws: str) -> None:
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    key = {
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    }
    ddb.create_table(
        TableName="plain", ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 3}, **key
    )
    ddb.create_table(
        TableName="with-gsi",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        ProvisionedThroughput={"ReadCapacityUnits": 10, "WriteCapacityUnits": 4},
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
                "ProvisionedThroughput": {"ReadCapacityUnits": 7, "WriteCapacityUnits": 2},
            }
        ],
    )
    ddb.create_table(TableName="on-demand", BillingMode="PAY_PER_REQUEST", **key)
    assert run("dynamodb", make_ctx()) == {"read_capacity": 22, "write_capacity": 9, "table_count": 2}
    assert run("dynamodb", make_ctx("us-west-2")) == {}


def test_dynamodb_paginates_table_list(aws: str) -> None:
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    key = {
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    }
    for i in range(7):
        ddb.create_table(
            TableName=f"t{i:02d}",
            ProvisionedThroughput={"ReadCapacityUnits": i + 1, "WriteCapacityUnits": 1},
            **key,
        )
    counter = CallCounter()
    assert run("dynamodb", make_ctx(page_size=3, counter=counter)) == {
        "read_capacity": 28,
        "write_capacity": 7,
        "table_count": 7,
    }
    assert counter.by_operation["dynamodb.ListTables"] == 3
    assert counter.by_operation["dynamodb.DescribeTable"] == 7


def test_elasticache_counts_nodes_memcached_and_redis(aws: str) -> None:
    ec = boto3.client("elasticache", region_name="us-east-1")
    ec.create_cache_cluster(
        CacheClusterId="mc", Engine="memcached", CacheNodeType="cache.r4.large", NumCacheNodes=3
    )
    ec.create_cache_cluster(
        CacheClusterId="rd", Engine="redis", CacheNodeType="cache.r4.large", NumCacheNodes=1
    )
    ec.create_cache_cluster(
        CacheClusterId="rd2", Engine="redis", CacheNodeType="cache.t3.micro", NumCacheNodes=1
    )
    assert run("elasticache", make_ctx()) == {"cache.r4.large": 4, "cache.t3.micro": 1}


def test_elasticache_replication_group_members_are_counted_per_node() -> None:
    # moto does not list replication-group members as cache clusters; AWS does (one cluster per member).
    client = boto3.client(
        "elasticache", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    members = [
        {
            "CacheClusterId": f"rg-00{i}",
            "CacheNodeType": "cache.m5.large",
            "Engine": "redis",
            "CacheClusterStatus": "available",
            "NumCacheNodes": 1,
            "ReplicationGroupId": "rg",
        }
        for i in (1, 2, 3)
    ]
    with Stubber(client) as stub:
        stub.add_response("describe_cache_clusters", {"CacheClusters": members})
        ctx = CollectContext(ACCOUNT, "us-east-1", HOUR, _Fixed(client))
        assert run("elasticache", ctx) == {"cache.m5.large": 3}


class _Fixed:
    """Client factory returning one given (Stubber-backed) client."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def get(self, service: str, region: str | None = None) -> Any:
        return self.client


def test_es_counts_data_master_and_warm_nodes_in_chunks_of_five(aws: str) -> None:
    osc = boto3.client("opensearch", region_name="us-east-1")
    osc.create_domain(
        DomainName="logs",
        ClusterConfig={
            "InstanceType": "r6g.large.search",
            "InstanceCount": 4,
            "DedicatedMasterEnabled": True,
            "DedicatedMasterType": "m6g.large.search",
            "DedicatedMasterCount": 3,
            "WarmEnabled": True,
            "WarmType": "ultrawarm1.medium.search",
            "WarmCount": 2,
        },
    )
    for i in range(6):
        osc.create_domain(
            DomainName=f"small-{i}",
            EngineVersion="Elasticsearch_7.10",
            ClusterConfig={"InstanceType": "m4.large.elasticsearch", "InstanceCount": 2},
        )
    counter = CallCounter()
    assert run("es", make_ctx(counter=counter)) == {
        "r6g.large.search": 4,
        "m6g.large.search": 3,
        "ultrawarm1.medium.search": 2,
        "m4.large.elasticsearch": 12,
    }
    assert counter.by_operation["opensearch.DescribeDomains"] == 2  # 7 domains, at most 5 per call


def test_redshift_counts_nodes_and_skips_paused(aws: str) -> None:
    rs = boto3.client("redshift", region_name="us-east-1")
    common = {"MasterUsername": "admin", "MasterUserPassword": "Passw0rd1", "ClusterType": "multi-node"}
    rs.create_cluster(ClusterIdentifier="big", NodeType="dc2.8xlarge", NumberOfNodes=4, **common)
    rs.create_cluster(ClusterIdentifier="big2", NodeType="dc2.8xlarge", NumberOfNodes=2, **common)
    rs.create_cluster(ClusterIdentifier="idle", NodeType="ra3.4xlarge", NumberOfNodes=3, **common)
    rs.create_cluster(
        ClusterIdentifier="one",
        NodeType="dc2.large",
        MasterUsername="admin",
        MasterUserPassword="Passw0rd1",
        ClusterType="single-node",
    )
    rs.pause_cluster(ClusterIdentifier="idle")
    assert run("redshift", make_ctx()) == {"dc2.8xlarge": 6, "dc2.large": 1}


def test_rds_and_elasticache_paginate_beyond_one_page(aws: str) -> None:
    rds = boto3.client("rds", region_name="us-east-1")
    for i in range(5):
        rds.create_db_instance(
            DBInstanceIdentifier=f"pg{i}",
            Engine="postgres",
            DBInstanceClass="db.m5.large" if i % 2 else "db.r5.large",
            AllocatedStorage=20,
            MasterUsername="admin",
            MasterUserPassword="Passw0rd1",
        )
    ec = boto3.client("elasticache", region_name="us-east-1")
    for i in range(5):
        ec.create_cache_cluster(
            CacheClusterId=f"c{i}", Engine="memcached", CacheNodeType="cache.m5.large", NumCacheNodes=2
        )
    counter = CallCounter()
    ctx = make_ctx(page_size=2, counter=counter)
    assert run("rds", ctx) == {"db.m5.large:postgres": 2, "db.r5.large:postgres": 3}
    assert run("elasticache", ctx) == {"cache.m5.large": 10}
    # the paging floor: ceil(5 / 2) pages each
    assert counter.by_operation["rds.DescribeDBInstances"] == 3
    assert counter.by_operation["elasticache.DescribeCacheClusters"] == 3


def test_redshift_follows_the_marker_across_pages_and_skips_paused() -> None:
    # moto ignores MaxRecords for Redshift, so the second page is AWS-shaped through the Stubber.
    client = boto3.client(
        "redshift", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    with Stubber(client) as stub:
        stub.add_response(
            "describe_clusters",
            {
                "Clusters": [
                    {
                        "ClusterIdentifier": "a",
                        "NodeType": "ra3.4xlarge",
                        "NumberOfNodes": 2,
                        "ClusterStatus": "available",
                    },
                    {
                        "ClusterIdentifier": "b",
                        "NodeType": "dc2.large",
                        "NumberOfNodes": 4,
                        "ClusterStatus": "paused",
                    },
                ],
                "Marker": "page-2",
            },
            {"MaxRecords": 2},
        )
        stub.add_response(
            "describe_clusters",
            {
                "Clusters": [
                    {
                        "ClusterIdentifier": "c",
                        "NodeType": "ra3.4xlarge",
                        "NumberOfNodes": 3,
                        "ClusterStatus": "available",
                    }
                ]
            },
            {"MaxRecords": 2, "Marker": "page-2"},
        )
        ctx = CollectContext(ACCOUNT, "us-east-1", HOUR, _Fixed(client), page_size=2)
        assert run("redshift", ctx) == {"ra3.4xlarge": 5}
        stub.assert_no_pending_responses()
