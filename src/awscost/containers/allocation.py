"""Micro-service cost from container usage: each host-hour's cost split over the containers on it, exactly.

Per host and UTC hour:

0. Attributes are the hour's own: the instance type, region, account and launch type a host-hour is priced and
   sized by, and the service and cluster each container's share goes to, are what the samples of that hour
   state (a host resized at noon is priced at each type for its own hours; a container relabelled between
   files goes to each label for the hours it had it), whatever the order of the input files. An hour whose
   samples state none takes the host's (container's) value only when every hour that states one agrees.
   Two values within one host-hour are a conflict: the host-hour is not allocated and is listed in
   `Allocation.conflicts` with the values and the files stating each, never settled by which file came first.
1. The host's cost: its amortized EffectiveCost from the billing dataset when given (a `HostCostLookup`),
   else its on-demand hourly price (a `PriceLookup`, injectable) times the part of the hour it was observed;
   a Fargate task (its own host) costs task vCPU x vCPU-hour rate + task GiB x GB-hour rate (`FargateRates`,
   from a Price List offer file). No cost found -> the host is listed in `Allocation.unpriced`, never costed
   at zero.
2. The cost is split into a CPU part and a memory part in proportion to capacity x weight (default 9 per
   vCPU : 1 per GiB, AWS split cost allocation's default); for Fargate the parts are the two billed rates.
3. Time: a host's samples closer than `round_seconds` (10) form one sampling round (one agent or `docker
   stats` run); each round stands for the host's sampling interval: `step_seconds` when given, else the
   median gap between the host's rounds (one round only: `default_step`, 60 s), so 1-minute and 5-minute
   logs both cost a full hour. A round, and its samples, count in the hour it starts in. A sample read twice
   (from two files) counts once; two different samples of one container in one round (a faster sampler) are
   averaged, never added. A container's claim in the hour is the sum over its rounds of max(reserved, used)
   x step / 3600, in vCPU-hours and GiB-hours: one present for half the hour claims half. The host's capacity
   in the hour is its size x (its rounds x step / 3600, at most 1). With the billing dataset the host-hour
   costs what the bill says, and the observed rounds stand for the whole hour's use.
4. Each container takes claim / max(capacity, sum of claims) of each part; the rest is the host's idle cost,
   a line of its own (`__idle__`) or, with `idle="share"`, shared over the services in proportion to their
   cost (CPU idle by CPU cost, memory idle by memory cost).
5. Money is integer units of 1e-8 USD ("micro-cents"); the host cost is rounded to that unit once, and every
   split uses the largest-remainder method, so services + idle == host cost exactly for every host-hour. The
   quotas are exact rationals (claims are fixed-point integers of 1e-9, summed as integers, so no order of
   reading changes them), so more usage never lowers a service's quota; the rounded result follows it to
   within one unit (1e-8 USD).

The heavy part (rounds, dedup, per-hour sums and attributes; ~21 M samples a month for 500 containers) runs
in DuckDB, which streams and spills (`claims.py`); the exact split runs in Python over the much smaller
host-hour x container table.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

from awscost.containers.capacity import instance_capacity
from awscost.containers.claims import FIXED, Claims, Conflict, aggregate, source_sql
from awscost.containers.samples import Sample
from awscost.core.errors import InputError

UNIT = Decimal("0.00000001")  # 1e-8 USD
IDLE = "__idle__"

PriceLookup = Callable[[str, str], "Decimal | None"]  # (instance type, region) -> USD per hour
CapacityLookup = Callable[[str], "tuple[float, float] | None"]  # instance type -> (vCPU, GiB)
HostCostLookup = Callable[[str, datetime], "Decimal | None"]  # (resource id, hour) -> USD for that hour
FargateLookup = Callable[[str], "FargateRates | None"]  # region -> rates


def to_units(value: Decimal) -> int:
    return int((value / UNIT).to_integral_value(rounding=ROUND_HALF_EVEN))


def from_units(units: int) -> Decimal:
    return (Decimal(units) * UNIT).quantize(UNIT)


def largest_remainder(total: int, weights: Sequence[int]) -> list[int]:
    """Split integer `total` in proportion to integer `weights`; the parts sum to `total` exactly.

    Each part gets floor(total*w/sum); the leftover units go to the largest remainders (ties: first index).
    With sum(weights) == 0 everything is returned as a zero split and the caller keeps `total` as a remainder.
    """
    denom = sum(weights)
    if denom <= 0 or total == 0:
        return [0] * len(weights)
    quotas = [total * w for w in weights]
    parts = [q // denom for q in quotas]
    left = total - sum(parts)
    if left:
        order = sorted(range(len(weights)), key=lambda i: (-(quotas[i] % denom), i))
        for i in order[:left]:
            parts[i] += 1
    return parts


def split_with_rest(total: int, claims: Sequence[int], capacity: int) -> tuple[list[int], int]:
    """Shares of `total` for `claims` out of max(capacity, sum(claims)); returns (shares, rest). Exact."""
    denom = max(capacity, sum(claims))
    if denom <= 0:
        return [0] * len(claims), total
    parts = largest_remainder(total, [*claims, denom - sum(claims)])
    return parts[:-1], parts[-1]


# ---------------------------------------------------------------- prices


@dataclass(frozen=True)
class FargateRates:
    cpu_per_vcpu_hour: Decimal
    mem_per_gb_hour: Decimal
    source: str = ""

    @classmethod
    def from_offer_file(
        cls, path: str | Path, region: str | None = None, *, os: str = "linux", arch: str = "x86"
    ) -> FargateRates:
        """Read an AmazonECS Price List offer file (the public JSON) for Fargate on-demand rates."""
        where = str(path)
        try:
            offer = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"cannot read the Fargate price offer: {exc}", where=where) from None
        want_os = "Windows" if os.lower() == "windows" else None
        rates: dict[str, Decimal] = {}
        for sku, product in (offer.get("products") or {}).items():
            attrs = product.get("attributes") or {}
            usage = str(attrs.get("usagetype", ""))
            if "Fargate" not in usage or (region and attrs.get("regionCode") not in (None, region)):
                continue
            if attrs.get("operatingSystem") != want_os:
                continue
            is_arm = attrs.get("cpuArchitecture") == "ARM"
            if is_arm != (arch.lower() in ("arm", "arm64")):
                continue
            if usage.endswith("vCPU-Hours:perCPU"):
                key = "cpu"
            elif usage.endswith("-GB-Hours") and "Ephemeral" not in usage:
                key = "mem"
            else:
                continue
            for term in ((offer.get("terms") or {}).get("OnDemand") or {}).get(sku, {}).values():
                for dim in (term.get("priceDimensions") or {}).values():
                    rates[key] = Decimal(str(dim["pricePerUnit"]["USD"]))
        if "cpu" not in rates or "mem" not in rates:
            raise InputError(
                f"no Fargate {os}/{arch} vCPU and GB rates found" + (f" for {region}" if region else ""),
                where=where,
            )
        return cls(rates["cpu"], rates["mem"], source=f"{where} (version {offer.get('version', '?')})")


def _no_prices(instance_type: str, region: str) -> Decimal | None:
    """Without a price lookup no host is priced on demand (the job gives the price book's)."""
    return None


def billing_host_costs(
    dataset_dir: str | Path, resource_ids: Iterable[str], *, s3_options: Any = None
) -> HostCostLookup:
    """Amortized EffectiveCost per (resource id, UTC hour) from the billing dataset (awscost.billing): a
    directory, or an s3:// dataset reached with `s3_options` ([billing.s3]).

    Charges longer than an hour (daily CUR granularity) are spread evenly over their hours.
    """
    try:
        from awscost.billing import load
    except ModuleNotFoundError as exc:
        from awscost.core.registry import missing_extra

        raise missing_extra(exc, "host costs from the billing dataset") from None
    ids = sorted({r for r in resource_ids if r})
    costs: dict[tuple[str, datetime], Decimal] = defaultdict(Decimal)
    if not ids:
        return lambda rid, hour: None
    quoted = ", ".join("'" + i.replace("'", "''") + "'" for i in ids)
    bill = load(dataset_dir, s3_options=s3_options)
    try:
        rel = bill.sql(
            "select ResourceId, ChargePeriodStart, ChargePeriodEnd, sum(EffectiveCost) as cost from billing "
            f"where ResourceId in ({quoted}) group by 1, 2, 3"
        )
    finally:
        if hasattr(bill, "close"):
            bill.close()
    rows = rel.rows
    for rid, start, end, cost in rows:
        if cost is None or cost != cost:  # NULL / NaN: no cost line, not a zero cost
            continue
        start_h = _as_utc(start).replace(minute=0, second=0, microsecond=0)
        hours = max(1, int((_as_utc(end) - start_h).total_seconds() // 3600)) if end is not None else 1
        each = Decimal(str(cost)) / hours
        for k in range(hours):
            costs[(str(rid), start_h + timedelta(hours=k))] += each
    known = {rid for rid, _ in costs}
    return lambda rid, hour: costs.get((rid, hour)) if rid in known else None


def _as_utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


# ---------------------------------------------------------------- the normalized table


def samples_to_arrow(samples: Iterable[Sample]) -> Any:
    """Normalized samples as a pyarrow Table (the COLUMNS order)."""
    from awscost.containers.samples import to_arrow

    return to_arrow(samples)


@dataclass(frozen=True)
class Options:
    step_seconds: int | None = None  # seconds a sampling round stands for; None = per host, from the data
    default_step: int = 60  # for a host with a single round when step_seconds is None
    round_seconds: int = 10  # a host's samples closer than this are one round
    cpu_weight: Decimal = Decimal(9)  # per vCPU
    mem_weight: Decimal = Decimal(1)  # per GiB
    idle: str = "separate"  # or "share"
    memory_limit: str = "1GB"  # DuckDB's working memory for the grid aggregation (it spills beyond)

    def __post_init__(self) -> None:
        if self.step_seconds is not None and not 0 < self.step_seconds <= 86400:
            raise InputError(
                f"step {self.step_seconds}s must be from 1 to 86400 seconds", param="step_seconds"
            )
        if self.idle not in ("separate", "share"):
            raise InputError(f"idle must be 'separate' or 'share', not {self.idle!r}", param="idle")
        if self.cpu_weight < 0 or self.mem_weight < 0 or self.cpu_weight + self.mem_weight <= 0:
            raise InputError("CPU and memory weights must be >= 0 and not both 0", param="cpu_weight")


@dataclass
class HostHour:
    host_id: str
    hour: datetime
    instance_type: str | None
    region: str | None
    account: str | None
    launch_type: str
    covered: Decimal  # fraction of the hour observed
    cost_units: int  # 1e-8 USD
    cost_source: str  # billing | on-demand | fargate
    cpu_units: int
    mem_units: int
    idle_cpu_units: int
    idle_mem_units: int
    capacity_known: bool


@dataclass
class ServiceCost:
    """One service's share of one host-hour."""

    host_id: str
    hour: datetime
    service: str
    cluster: str | None
    account: str | None
    region: str | None
    cpu_units: int
    mem_units: int

    @property
    def total_units(self) -> int:
        return self.cpu_units + self.mem_units


@dataclass
class Unpriced:
    host_id: str
    instance_type: str | None
    region: str | None
    hours: int
    reason: str


@dataclass
class Allocation:
    hosts: list[HostHour] = field(default_factory=list)
    services: list[ServiceCost] = field(default_factory=list)  # idle lines included (service == IDLE)
    unpriced: dict[str, Unpriced] = field(default_factory=dict)
    capacity_unknown: set[str] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)
    hostless_samples: int = 0  # samples whose input named no host (and no --host-id): not allocated, counted
    conflicts: list[Conflict] = field(default_factory=list)  # host-hours not allocated: their inputs disagree


def _fixed(x: float | None) -> int:
    return 0 if x is None or x != x or x <= 0 else round(x * FIXED)


def hosts_without_type(source: Any) -> list[tuple[str, str | None]]:
    """(host id, region) of EC2 hosts whose samples never give an instance type (to describe them)."""
    import duckdb

    from awscost.billing.engine import spill_to_tmp

    if isinstance(source, list):
        source = samples_to_arrow(source)
    con = duckdb.connect()
    try:
        spill_to_tmp(con)
        src = source_sql(con, source)
        rows = con.execute(
            f"select host_id, min(region) from {src} where host_id is not null "
            "and coalesce(launch_type, 'EC2') <> 'FARGATE' group by host_id having count(instance_type) = 0 "
            "order by host_id"
        ).fetchall()
    finally:
        con.close()
    return [(str(h), r) for h, r in rows]


def aggregate_claims(source: Any, options: Options) -> Claims:
    """Host-hour x container claims from a pyarrow Table / parquet path or glob (streamed by DuckDB), with the
    host-hours' attributes, the conflicts and the number of samples without a host (`claims.py`)."""
    return aggregate(
        source,
        step_seconds=options.step_seconds,
        default_step=options.default_step,
        round_seconds=options.round_seconds,
        memory_limit=options.memory_limit,
    )


def allocate(
    source: Any,
    *,
    options: Options | None = None,
    price: PriceLookup | None = None,
    capacity: CapacityLookup | None = None,
    host_cost: HostCostLookup | None = None,
    fargate: FargateRates | FargateLookup | None = None,
    host_types: Mapping[str, str] | None = None,
) -> Allocation:
    """Allocate every host-hour of `source`: samples list, pyarrow Table, or Parquet file, glob or directory
    (as `awscost.containers.readers.write_parquet` writes)."""
    options = options or Options()
    if isinstance(source, list):
        source = samples_to_arrow(source)
    claims = aggregate_claims(source, options)
    rows = claims.rows
    price = price or _no_prices
    capacity = capacity or instance_capacity
    out = Allocation(hostless_samples=claims.hostless, conflicts=claims.conflicts)
    start = 0
    while start < len(rows):
        end = start
        key = rows[start][0:2]
        while end < len(rows) and rows[end][0:2] == key:
            end += 1
        block = rows[start:end]
        if host_types and block[0][3] is None and block[0][0] in host_types:
            # The input did not say the type; EC2 did (`describe_instance_types`): fill column 3.
            itype = host_types[block[0][0]]
            block = [(*r[:3], itype, *r[4:]) for r in block]
        _allocate_host_hour(block, options, price, capacity, host_cost, fargate, out)
        start = end
    return out


def _allocate_host_hour(
    rows: Sequence[tuple[Any, ...]],
    options: Options,
    price: PriceLookup,
    capacity: CapacityLookup,
    host_cost: HostCostLookup | None,
    fargate_by_region: FargateRates | FargateLookup | None,
    out: Allocation,
) -> None:
    host_id, hour_n, ticks, itype, region, account, launch, h_vcpu, h_mem = rows[0][:9]  # ticks = rounds
    hour = datetime.fromtimestamp(int(hour_n) * 3600, tz=UTC)
    covered = min(Decimal(1), Decimal(int(ticks) * int(rows[0][14])) / 3600)
    # Capacity: the instance type's size, else what the input reported (Fargate: the task size).
    cap = capacity(itype) if itype and launch != "FARGATE" else None
    vcpu, mem = (cap if cap else (h_vcpu, h_mem)) if launch != "FARGATE" else (h_vcpu, h_mem)
    claims_cpu = [int(r[12]) for r in rows]
    claims_mem = [int(r[13]) for r in rows]
    cap_known = bool(vcpu) and bool(mem)
    if not cap_known:
        out.capacity_unknown.add(host_id)
    cap_cpu = _fixed(float(vcpu) * float(covered)) if vcpu else 0
    cap_mem = _fixed(float(mem) * float(covered)) if mem else 0

    cost: Decimal | None = None
    reason = ""
    src = ""
    fargate: FargateRates | None = None
    if launch == "FARGATE" and fargate_by_region is not None:
        fargate = (
            fargate_by_region
            if isinstance(fargate_by_region, FargateRates)
            else (fargate_by_region(region) if region else None)
        )
    if launch == "FARGATE":
        if fargate is None:
            reason = f"no Fargate rates for {region or 'an unknown region'}"
        elif not (h_vcpu and h_mem):
            reason = "Fargate task size unknown (no task metadata / Task event)"
        else:
            cpu_cost = fargate.cpu_per_vcpu_hour * Decimal(str(h_vcpu)) * covered
            mem_cost = fargate.mem_per_gb_hour * Decimal(str(h_mem)) * covered
            cost, src = cpu_cost + mem_cost, "fargate"
            out.sources.add(f"Fargate rates {fargate.source}")
    else:
        if host_cost is not None:
            cost = host_cost(host_id, hour)
            src = "billing" if cost is not None else ""
        if cost is None:
            hourly = price(itype, region) if itype and region else None
            if hourly is not None:
                cost, src = hourly * covered, "on-demand"
            else:
                reason = (
                    "no instance type/region in the input or its read context"
                    if not (itype and region)
                    else f"no on-demand price for {itype} in {region}"
                )
    if cost is None:
        u = out.unpriced.setdefault(host_id, Unpriced(host_id, itype, region, 0, reason))
        u.hours += 1
        return
    total = to_units(cost)
    if launch == "FARGATE" and fargate is not None:
        cpu_total = to_units(fargate.cpu_per_vcpu_hour * Decimal(str(h_vcpu)) * covered)
        cpu_total = min(cpu_total, total)
    else:
        wc = options.cpu_weight * Decimal(str(vcpu if cap_known else sum(claims_cpu) / FIXED))
        wm = options.mem_weight * Decimal(str(mem if cap_known else sum(claims_mem) / FIXED))
        cpu_total = largest_remainder(total, [to_units(wc), to_units(wm)])[0] if wc + wm > 0 else total
    mem_total = total - cpu_total
    if not cap_known:  # no size known: the containers share the host fully, nothing can be called idle
        cap_cpu, cap_mem = 0, 0
    cpu_parts, idle_cpu = split_with_rest(cpu_total, claims_cpu, cap_cpu)
    mem_parts, idle_mem = split_with_rest(mem_total, claims_mem, cap_mem)

    by_service: dict[tuple[str, str | None], list[int]] = {}
    for r, c, m in zip(rows, cpu_parts, mem_parts, strict=True):
        slot = by_service.setdefault((r[10] or "__unknown__", r[11]), [0, 0])
        slot[0] += c
        slot[1] += m
    if options.idle == "share" and by_service:
        keys = list(by_service)
        for idx, idle_total in ((0, idle_cpu), (1, idle_mem)):
            weights = [by_service[k][idx] for k in keys]  # CPU idle by CPU cost, memory idle by memory cost
            if sum(weights) == 0:
                weights = [1] * len(keys)
            for k, extra in zip(keys, largest_remainder(idle_total, weights), strict=True):
                by_service[k][idx] += extra
        idle_cpu = idle_mem = 0
    for (service, cluster), (c, m) in by_service.items():
        out.services.append(ServiceCost(host_id, hour, service, cluster, account, region, c, m))
    if idle_cpu or idle_mem:
        out.services.append(ServiceCost(host_id, hour, IDLE, None, account, region, idle_cpu, idle_mem))
    out.hosts.append(
        HostHour(host_id, hour, itype, region, account, launch, covered, total, src, cpu_total, mem_total,
                 idle_cpu, idle_mem, cap_known)
    )  # fmt: skip


# ---------------------------------------------------------------- reporting


def _period(hour: datetime, granularity: str) -> datetime:
    return hour.replace(hour=0) if granularity == "day" else hour


def summarize(
    allocation: Allocation, *, by: str = "service", granularity: str = "day"
) -> list[dict[str, Any]]:
    """Rows: <by>, period, cpu_cost, memory_cost, total_cost (Decimal USD), share_of_host.

    share_of_host = the group's cost / the cost of the host-hours it ran on (idle: of all host-hours).
    """
    if by not in ("service", "cluster", "account"):
        raise InputError(f"by must be service, cluster or account, not {by!r}", param="by")
    if granularity not in ("hour", "day"):
        raise InputError(f"granularity must be hour or day, not {granularity!r}", param="granularity")
    host_cost = {(h.host_id, h.hour): h.cost_units for h in allocation.hosts}
    sums: dict[tuple[str, datetime], list[int]] = defaultdict(lambda: [0, 0])
    seen_hosts: dict[tuple[str, datetime], set[tuple[str, datetime]]] = defaultdict(set)
    for s in allocation.services:
        if s.service == IDLE:
            key_value = IDLE
        else:
            picked = {"service": s.service, "cluster": s.cluster, "account": s.account}[by]
            key_value = picked or "__unknown__"
        k = (key_value, _period(s.hour, granularity))
        sums[k][0] += s.cpu_units
        sums[k][1] += s.mem_units
        seen_hosts[k].add((s.host_id, s.hour))
    rows = []
    for (name, period), (c, m) in sorted(sums.items(), key=lambda kv: (kv[0][1], -sum(kv[1]), kv[0][0])):
        base = sum(host_cost[h] for h in seen_hosts[(name, period)])
        share = (Decimal(c + m) / Decimal(base)).quantize(Decimal("0.0001")) if base else Decimal(0)
        rows.append(
            {
                by: name,
                "period": period if granularity == "hour" else period.date(),
                "cpu_cost": from_units(c),
                "memory_cost": from_units(m),
                "total_cost": from_units(c + m),
                "share_of_host": share,
            }
        )
    return rows


def to_usage_items(allocation: Allocation, *, granularity: str = "hour") -> list[Any]:
    """UsageItems kind "svc-cost" per (account, region, period): usage = service -> cost in integer micro-USD.

    The command line stores hours (the default): a later run over the next hours' logs then adds to the store
    instead of overwriting a whole day with part of it, and hour and day items never share a key. Reports
    sum the hours of a day. Each item holds the host-hours seen in that run (give all files of an hour).

    Values are rounded from 1e-8 USD with the largest-remainder method inside each item, so an item's values
    sum to its host cost rounded to the micro-dollar. attrs: unit="micro-USD", granularity. Idle included.
    """
    from awscost.store.base import UsageItem

    groups: dict[tuple[str, str, datetime], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for s in allocation.services:
        groups[(s.account or "unknown", s.region or "unknown", _period(s.hour, granularity))][s.service] += (
            s.total_units
        )
    items = []
    for (account, region, period), per_service in sorted(groups.items()):
        names = sorted(per_service)
        total = sum(per_service.values())
        micro_total = (total + 50) // 100  # 1e-8 -> 1e-6 USD, half up
        parts = largest_remainder(micro_total, [per_service[n] for n in names])
        items.append(
            UsageItem(
                "svc-cost", account, region, period, dict(zip(names, parts, strict=True)),
                {"unit": "micro-USD", "granularity": granularity},
            )
        )  # fmt: skip
    return items


def check_conservation(allocation: Allocation) -> list[str]:
    """Host-hours where services + idle != host cost (always empty unless there is a bug)."""
    totals: dict[tuple[str, datetime], int] = defaultdict(int)
    for s in allocation.services:
        totals[(s.host_id, s.hour)] += s.total_units
    return [
        f"{h.host_id} {h.hour:%Y-%m-%dT%H}: {totals[(h.host_id, h.hour)]} != {h.cost_units}"
        for h in allocation.hosts
        if totals[(h.host_id, h.hour)] != h.cost_units
    ]


def price_table(prices: Mapping[tuple[str, str], Decimal]) -> PriceLookup:
    """A PriceLookup from a dict {(instance type, region): USD/hour} (tests, notebooks, the sandbox)."""
    return lambda itype, region: prices.get((itype, region))
