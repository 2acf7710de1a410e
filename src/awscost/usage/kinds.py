"""The kinds catalog: what every kind of item in the `AWSCost` table is, written down once.

A kind is what the first part of `awsResource` names (`ec2os:123456789012:us-east-1`). Collected kinds count a
reservable resource every hour (or day); the `ri-*` kinds count the reservations that cover them; the others
are written by jobs (Cost Explorer's daily answers, micro-service costs). Every module that needs to know
something about a kind reads it here: the collection runner (collector, schedule), the IAM policy and the
deployed template (actions), `usage gaps` (cadence), the planner (reservation kind, size flexibility), pricing
(service, Price List code), Cost Explorer (its service name), the backfill from bills (bill product code).

Adding a reservable kind end to end (tried with MemoryDB): a `KindSpec` here for it and for its reservations,
its collector module under `collectors/` (both collectors; the `ri-*` ones share the helpers of
`collectors/reservations.py`), its IAM actions in the two CloudFormation templates (infra/awscost.yaml and
member-role.yaml; a test compares them with this catalog), and its prices in the snapshot. The planner,
pricing, Cost Explorer, gaps, backfill (for a kind keyed by its type) and the IAM policy follow from here.
Beyond that: a size-flexibility rule in planning/flex.py if its reservations are size-flexible, the tests
that pin the data model's kinds, and a sandbox layer handler where moto lacks its describe calls.

Only the standard library is imported here: the collector Lambda reads this catalog.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from awscost.core.errors import InputError
from awscost.core.registry import Registry

if TYPE_CHECKING:
    from awscost.usage.collectors.base import CollectContext, Observation

Cadence = Literal["hourly", "daily"]
# Where a kind is collected: in every region, or once per account (region GLOBAL_REGION in its items).
Scope = Literal["regional", "global"]
GLOBAL_REGION = "global"
# How a kind's reservations apply across instance sizes (planning/flex.py): the family's normalized units
# ("ec2": regional Linux/UNIX RIs; "rds": per engine; "elasticache": per node family), or not at all (None).
Flex = Literal["ec2", "rds", "elasticache"] | None
Writer = Literal["collector", "ce_fetch", "service_costs"]

CADENCES: tuple[Cadence, ...] = ("hourly", "daily")


@dataclass(frozen=True)
class KindSpec:
    name: str
    cadence: Cadence  # one item per UTC hour, or per UTC day (at whatever hour of it)
    key_format: str  # what the usage keys of an item are
    description: str
    writer: Writer = "collector"  # what writes the items: a collector, or the job named
    collector: str | None = None  # "module:function" (CollectContext -> Observation) for collected kinds
    iam_actions: tuple[str, ...] = ()  # exactly what its collector (or writer job) calls
    service: str | None = None  # awscost's service name, as the price book and Cost Explorer know it
    price_code: str | None = None  # AWS service code (Price List ServiceCode, the bill's product code)
    reservation_kind: str | None = None  # the ri-* kind whose keys cover this kind's keys (planned kinds)
    covers: str | None = None  # for ri-* kinds: the usage kind whose keys they hold
    ce_service: str | None = None  # Cost Explorer's SERVICE dimension value for its reservations
    flex: Flex = None  # size-flexibility rule of its reservations
    backfill: bool = False  # rebuilt from a bill's usage lines by `usage backfill`
    # For kinds keyed by the plain instance / node type: the bill's usage-type word of their instance hours
    # (`NodeUsage:cache.r6g.large`), and Cost Explorer's recommendation details that name the type
    # (`ElastiCacheInstanceDetails.NodeType`). Kinds with composite keys (ec2os, rds, es) are read by code.
    bill_usage: str | None = None
    ce_details: tuple[str, str] | None = None
    # How this service's instance / node type names look (a regular expression), so that a bare type given to
    # `pricing refresh --types` is asked of the right Price List; None: EC2's plain names, the fallback.
    type_pattern: str | None = None
    scope: Scope = "regional"
    # Reserved *capacity* (not instances): the usage keys it is bought for and the block it is sold in
    # (DynamoDB: read and write capacity units, in blocks of 100). Planned like the RI kinds, with nothing to
    # list what is owned (no describe call exists for it).
    capacity_keys: tuple[str, ...] = ()
    capacity_block: int | None = None
    # The bill's ServiceName of its usage (product/ProductName, as CUR and FOCUS name it), so that a cost
    # estimated from the kind's counts is matched with the bill's series (anomalies/usage.py).
    bill_service: str | None = None


def _collector(module: str, function: str) -> str:
    return f"awscost.usage.collectors.{module}:{function}"


_EC2 = "Amazon Elastic Compute Cloud - Compute"
_EC2_BILL = "Amazon Elastic Compute Cloud"  # the bill's name: Cost Explorer splits off "- Compute"
_RDS = "Amazon Relational Database Service"
_ELASTICACHE = "Amazon ElastiCache"
_ES = "Amazon OpenSearch Service"
_REDSHIFT = "Amazon Redshift"
_CE_ACTIONS = (
    "ce:GetReservationCoverage",
    "ce:GetReservationUtilization",
    "ce:GetReservationPurchaseRecommendation",
    "ce:GetSavingsPlansCoverage",
    "ce:GetSavingsPlansUtilization",
    "ce:GetSavingsPlansPurchaseRecommendation",
)

CATALOG: tuple[KindSpec, ...] = (
    # -- collected usage, hourly
    KindSpec(
        "ec2", "hourly", "instanceType:AZ (spot- prefix for spot)", "Running EC2 instances by type and AZ.",
        collector=_collector("ec2", "collect_ec2"), iam_actions=("ec2:DescribeInstances",),
        service="ec2", price_code="AmazonEC2", backfill=True, bill_service=_EC2_BILL,
    ),
    KindSpec(
        "ec2os", "hourly", "os-instanceType (spot- prefix for spot)", "Running EC2 instances by OS and type.",
        collector=_collector("ec2os", "collect_ec2os"),
        iam_actions=("ec2:DescribeInstances", "ec2:DescribeImages"),
        service="ec2", price_code="AmazonEC2", reservation_kind="ri-ec2", ce_service=_EC2, flex="ec2",
        backfill=True, bill_service=_EC2_BILL,
    ),
    KindSpec(
        "rds", "hourly", "class:engine (multi_az- prefix for Multi-AZ)",
        "RDS and Aurora DB instances by class, engine and Multi-AZ.",
        collector=_collector("rds", "collect_rds"), iam_actions=("rds:DescribeDBInstances",),
        service="rds", price_code="AmazonRDS", reservation_kind="ri-rds", ce_service=_RDS, flex="rds",
        backfill=True, type_pattern=r"^db\.", bill_service=_RDS,
    ),
    KindSpec(
        "dynamodb", "hourly", "read_capacity, write_capacity, table_count",
        "Provisioned read/write capacity of DynamoDB tables and their GSIs.",
        collector=_collector("dynamodb", "collect_dynamodb"),
        iam_actions=("dynamodb:ListTables", "dynamodb:DescribeTable"),
        service="dynamodb", price_code="AmazonDynamoDB", backfill=True,
        capacity_keys=("read_capacity", "write_capacity"), capacity_block=100, bill_service="Amazon DynamoDB",
    ),
    KindSpec(
        "elasticache", "hourly", "nodeType", "ElastiCache (Redis, Valkey, Memcached) nodes by node type.",
        collector=_collector("elasticache", "collect_elasticache"),
        iam_actions=("elasticache:DescribeCacheClusters",),
        service="elasticache", price_code="AmazonElastiCache", reservation_kind="ri-elasticache",
        ce_service=_ELASTICACHE, flex="elasticache", backfill=True, bill_usage="NodeUsage",
        ce_details=("ElastiCacheInstanceDetails", "NodeType"), type_pattern=r"^cache\.",
        bill_service=_ELASTICACHE,
    ),
    # -- collected usage, daily (clusters that change rarely)
    KindSpec(
        "es", "daily", "instanceType", "OpenSearch/Elasticsearch data, master and warm nodes by instance type.",
        collector=_collector("es", "collect_es"), iam_actions=("es:ListDomainNames", "es:DescribeDomains"),
        service="es", price_code="AmazonES", reservation_kind="ri-es", ce_service=_ES, backfill=True,
        bill_usage="ESInstance", type_pattern=r"\.(search|elasticsearch)$", bill_service=_ES,
    ),
    KindSpec(
        "redshift", "daily", "nodeType", "Redshift provisioned-cluster nodes by node type.",
        collector=_collector("redshift", "collect_redshift"), iam_actions=("redshift:DescribeClusters",),
        service="redshift", price_code="AmazonRedshift", reservation_kind="ri-redshift", ce_service=_REDSHIFT,
        backfill=True, bill_usage="Node", ce_details=("RedshiftInstanceDetails", "NodeType"),
        type_pattern=r"^(dc1|dc2|ds2|ra3)\.", bill_service=_REDSHIFT,
    ),
    # -- reservations owned, daily; keys shaped like the kind they cover
    KindSpec(
        "ri-ec2", "daily", "os-instanceType", "Active EC2 Reserved Instances by OS and instance type.",
        collector=_collector("reservations", "collect_ri_ec2"), iam_actions=("ec2:DescribeReservedInstances",),
        service="ec2", price_code="AmazonEC2", covers="ec2os",
    ),
    KindSpec(
        "ri-rds", "daily", "class:engine", "Active RDS reserved DB instances by class, engine and Multi-AZ.",
        collector=_collector("reservations", "collect_ri_rds"), iam_actions=("rds:DescribeReservedDBInstances",),
        service="rds", price_code="AmazonRDS", covers="rds",
    ),
    KindSpec(
        "ri-elasticache", "daily", "nodeType", "Active ElastiCache reserved nodes by node type.",
        collector=_collector("reservations", "collect_ri_elasticache"),
        iam_actions=("elasticache:DescribeReservedCacheNodes",),
        service="elasticache", price_code="AmazonElastiCache", covers="elasticache",
    ),
    KindSpec(
        "ri-es", "daily", "instanceType", "Active OpenSearch/Elasticsearch reserved instances by instance type.",
        collector=_collector("reservations", "collect_ri_es"), iam_actions=("es:DescribeReservedInstances",),
        service="es", price_code="AmazonES", covers="es",
    ),
    KindSpec(
        "ri-redshift", "daily", "nodeType", "Active Redshift reserved nodes by node type.",
        collector=_collector("reservations", "collect_ri_redshift"),
        iam_actions=("redshift:DescribeReservedNodes",),
        service="redshift", price_code="AmazonRedshift", covers="redshift",
    ),
    # -- Savings Plans owned, daily, once per account (the API is global, the plans apply across regions)
    KindSpec(
        "sp", "daily", "type/term/payment[/region/family] -> micro-USD of hourly commitment",
        "Active Savings Plans of the account by what they apply to (Compute, EC2 Instance ...).",
        collector=_collector("savings_plans", "collect_sp"), iam_actions=("savingsplans:DescribeSavingsPlans",),
        scope="global",
    ),
    # -- written by jobs: Cost Explorer's daily answers (ce_fetch), micro-service costs (service_costs)
    KindSpec(
        "ce-cov", "daily", "service -> coverage %",
        "Cost Explorer reservation and Savings Plans coverage per region.",
        writer="ce_fetch", iam_actions=_CE_ACTIONS,
    ),
    KindSpec(
        "ce-util", "daily", "service -> utilization %",
        "Cost Explorer reservation and Savings Plans utilization (region global).",
        writer="ce_fetch", iam_actions=_CE_ACTIONS,
    ),
    KindSpec(
        "ce-rec-7", "daily", "usage key -> recommended count; compute-sp -> $/h",
        "Cost Explorer RI and Savings Plans recommendations, 7-day lookback.", writer="ce_fetch",
        iam_actions=_CE_ACTIONS,
    ),
    KindSpec(
        "ce-rec-60", "daily", "usage key -> recommended count; compute-sp -> $/h",
        "Cost Explorer RI and Savings Plans recommendations, 60-day lookback.", writer="ce_fetch",
        iam_actions=_CE_ACTIONS,
    ),
    KindSpec(
        "svc-cost", "hourly", "service -> micro-USD",
        "Each micro-service's cost per host account and region, from container usage.", writer="service_costs",
    ),
)  # fmt: skip

KINDS: Registry[KindSpec] = Registry("kind", param="kind")
for _spec in CATALOG:
    KINDS.add(_spec.name, _spec)

# kind -> its collector, imported when the kind is collected (a Lambda imports only what it runs).
COLLECTORS: Registry[Callable[[CollectContext], Observation]] = Registry("collector", param="kinds")
for _spec in CATALOG:
    if _spec.collector:
        COLLECTORS.add(_spec.name, _spec.collector)

# Derived views, for the modules that need them.
COLLECTED: tuple[str, ...] = tuple(COLLECTORS)
PLAN_KINDS: tuple[str, ...] = tuple(s.name for s in CATALOG if s.reservation_kind)  # usage kinds to plan
CAPACITY_KINDS: tuple[str, ...] = tuple(s.name for s in CATALOG if s.capacity_block)  # reserved capacity
PLANNED_KINDS: tuple[str, ...] = PLAN_KINDS + CAPACITY_KINDS  # everything the plan has rows for
BACKFILL_KINDS: tuple[str, ...] = tuple(s.name for s in CATALOG if s.backfill)
DAILY_KINDS: frozenset[str] = frozenset(s.name for s in CATALOG if s.cadence == "daily")
GLOBAL_KINDS: frozenset[str] = frozenset(s.name for s in CATALOG if s.scope == "global")

# What the runner itself calls, whatever the kinds: who am I, which accounts, which regions, enter each account.
RUNNER_IAM_ACTIONS = (
    "sts:GetCallerIdentity",
    "sts:AssumeRole",
    "organizations:ListAccounts",
    "ec2:DescribeRegions",
)


def spec(kind: str) -> KindSpec:
    return KINDS.get(kind)


def cadence(kind: str, default: Cadence = "hourly") -> Cadence:
    """A kind's cadence; a kind this catalog does not know is taken at `default`."""
    return KINDS.get(kind).cadence if kind in KINDS else default


def reservation_kind(kind: str) -> str:
    found = KINDS.get(kind).reservation_kind
    if found is None:
        raise InputError(
            f"{kind} has no reservations to plan", param="kinds", hint=f"use {', '.join(PLAN_KINDS)}"
        )
    return found


def service(kind: str) -> str:
    found = KINDS.get(kind).service
    if found is None:
        raise InputError(f"{kind} is not a resource kind with a price", param="kinds")
    return found


def kind_for_ce_service(ce_service_name: str) -> str | None:
    """The usage kind whose reservations Cost Explorer names `ce_service_name`."""
    return next((s.name for s in CATALOG if s.ce_service == ce_service_name), None)


def resolve_kinds(kinds: str | Iterable[str] | None) -> list[str]:
    """ "hourly" | "daily" | "all" | comma list | iterable of kinds -> collected kinds, in catalog order.

    Daily kinds are one sample per day: run `--kinds daily` once a day.
    """
    known = f"known: hourly, daily, all, {', '.join(COLLECTED)}"
    if kinds is None or kinds == "all":
        return list(COLLECTED)
    if isinstance(kinds, str):
        if kinds in CADENCES:
            return [k for k in COLLECTED if KINDS.get(k).cadence == kinds]
        kinds = [k.strip() for k in kinds.split(",") if k.strip()]
    wanted: list[str] = []
    for kind in kinds:
        if kind in ("all", *CADENCES):
            wanted.extend(k for k in resolve_kinds(kind) if k not in wanted)
            continue
        if kind in KINDS and kind not in COLLECTORS:
            writer = KINDS.get(kind).writer
            raise InputError(f"{kind} is not collected", param="kinds", hint=f"the {writer} job writes it")
        if kind not in COLLECTORS:
            raise InputError(f"unknown kind {kind!r}", param="kinds", hint=known)
        if kind not in wanted:
            wanted.append(kind)
    if not wanted:
        raise InputError("no kinds given", param="kinds", hint=known)
    return wanted


def iam_actions(kinds: Iterable[str] | None = None, *, runner: bool = True) -> list[str]:
    """Sorted IAM actions needed to collect `kinds` (default all), plus the runner's own when `runner`."""
    chosen = resolve_kinds(list(kinds) if kinds is not None else None)
    actions = set(RUNNER_IAM_ACTIONS) if runner else set()
    for kind in chosen:
        actions.update(KINDS.get(kind).iam_actions)
    return sorted(actions)
