"""The sandbox scenario: a deterministic multi-account AWS fleet over simulated time.

Everything is derived from the seed and the simulated hour, never from the wall clock, so every run (and every
engineer's generator built on it: bill, Cost Explorer, containers) sees the same fleet at the same hour.

The fleet is described as *groups* (one resource shape in one account and region). A group's count at
an hour is its baseline, plus business-hours autoscaling in the region's local time, plus occasional
spikes; some groups only exist for a window of hours, and one baseline slot of many groups is replaced
now and then, so instance ids come and go. This gives the hourly history the spread an RI planner needs
(min, P5, median, P95, max all differ).

Beyond the shared API (`fleet_at`, `reservations`, `hours`): `savings_plans()` (the plans owned, from the
TOML), `paused_at(hour)` (Redshift clusters that exist but are paused), `active_reservations(hour)`,
`business_hours(region, hour)` (0..1, the autoscaling shape), `management`, `account_ids`.

Tags: `FleetUnit.tags` holds the tags as the bill shows them for cost allocation: user-defined
`Spend_Category` appears as `user:Spend_Category` (SPEND_TAG); other keys (`Name`, `Role`,
`ecs:cluster-name`) as on the resource. `resource_tags(unit)` gives the tags to put on the AWS resource
(the `user:` prefix removed).

Data and code: what the scenario *is* lives in `scenario.toml` next to this module (the org name, accounts,
regions with their business-hours UTC offsets, the start hour, every hand-written group, the pools the
seeded EC2 fleet is drawn from, and the illustrative price tables). This module keeps what is logic: how a
group's count moves over simulated time (business hours, noise, spikes, churn, windows, Redshift pausing),
how resource ids are made, the seeded draws, and the rules that derive reservations from the groups.
Groups that were written in code by a loop over a few literal rows (ECS hosts, OpenSearch data + master
pairs) are written out in the TOML, one `[[group]]` each: a handful of rows read better spelled out than
as a template. The per-account, per-region EC2 fleet stays a compact form that `_generated_groups`
expands, because it is not a list at all but a sequence of seeded draws: the TOML holds its pools (types,
OS weights, peak/spike/churn choices, spend categories) and each account's `ec2_scale`, the code holds the
order of the draws, which is what a seed means.
"""

from __future__ import annotations

import hashlib
import random
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from importlib.resources import files
from types import MappingProxyType
from typing import Any

from awscost.core.timeutil import HOUR, floor_hour

SPEND_TAG = "user:Spend_Category"
KINDS = ("ec2", "rds", "elasticache", "es", "redshift", "dynamodb")
RI_KINDS = ("ri-ec2", "ri-rds", "ri-elasticache", "ri-es", "ri-redshift")
YEAR = timedelta(seconds=31536000)

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class SandboxAccount:
    id: str
    name: str
    management: bool


@dataclass(frozen=True)
class FleetUnit:
    account: str
    region: str
    kind: str  # "ec2" | "rds" | "elasticache" | "es" | "redshift" | "dynamodb"
    type: str  # instance/node/class type; dynamodb: table name
    count: int  # instances / nodes (dynamodb: 1 table)
    ids: tuple[str, ...]  # stable resource ids/names, len == count
    az: str | None = None
    os: str | None = None  # ec2: linux|windows|rhel|suse|windows-sql-std ...
    engine: str | None = (
        None  # rds: mysql|postgres|aurora-mysql|aurora-postgresql; elasticache: redis|memcached
    )
    spot: bool = False
    multi_az: bool = False
    read_capacity: int = 0  # dynamodb: table + GSIs summed
    write_capacity: int = 0
    tags: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    # Added beyond the shared API: the resource that holds the nodes (Aurora cluster, Redis replication group,
    # Memcached cluster, OpenSearch domain, Redshift cluster), the node role in an OpenSearch domain
    # ("data" | "master"), and DynamoDB details the seeder needs.
    name: str | None = None
    role: str | None = None
    gsis: tuple[tuple[str, int, int], ...] = ()  # dynamodb: (index name, read, write)
    on_demand: bool = False  # dynamodb PAY_PER_REQUEST (excluded from capacity)


@dataclass(frozen=True)
class SandboxReservation:
    account: str
    region: str
    kind: str  # "ri-ec2" | "ri-rds" | "ri-elasticache" | "ri-es" | "ri-redshift"
    id: str
    type: str
    count: int
    start: datetime
    end: datetime
    os: str | None = None
    engine: str | None = None
    multi_az: bool = False
    scope: str = "Region"
    az: str | None = None
    offering_type: str = "No Upfront"
    duration_seconds: int = 31536000
    fixed_price: Decimal = Decimal(0)  # upfront $
    usage_price: Decimal = Decimal(0)  # hourly $ (recurring)

    def active_at(self, hour: datetime) -> bool:
        return self.start <= hour < self.end


@dataclass(frozen=True)
class SandboxSavingsPlan:
    account: str
    id: str
    type: str  # "Compute" | "EC2Instance", as the Savings Plans API names it
    commitment: Decimal  # $/hour
    start: datetime
    end: datetime
    payment: str = "No Upfront"
    discount: Decimal = Decimal("0.72")  # SP rate / the sandbox's on-demand rate, for the bill
    region: str | None = None  # EC2Instance plans: the region and instance family they apply to
    family: str | None = None

    @property
    def term_seconds(self) -> int:
        return int((self.end - self.start).total_seconds())

    @property
    def arn(self) -> str:
        return f"arn:aws:savingsplans::{self.account}:savingsplan/{self.id}"

    def active_at(self, hour: datetime) -> bool:
        return self.start <= hour < self.end


def resource_tags(unit: FleetUnit) -> dict[str, str]:
    """The tags as set on the AWS resource (cost-allocation `user:` prefix removed)."""
    return {k.removeprefix("user:"): v for k, v in unit.tags.items()}


def _load_data() -> dict[str, Any]:
    text = files("awscost_sandbox").joinpath("scenario.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


# Read once at import: every Scenario, whatever its seed, shares the same fleet description.
_DATA = _load_data()

# Approximate on-demand $/hour (Linux, us-east-1, 2026) for the sandbox: its reservation prices and its bill
# (awscost_sandbox.bill). Not a price source: awscost.planning.pricing is; these only make the fleet's fees
# and bill plausible. Kept as Decimal strings (OD_PRICE, DEFAULT_OD_PRICE) because bill.py converts them.
OD_PRICE: dict[str, str] = dict(_DATA["prices"]["od"])
DEFAULT_OD_PRICE: str = _DATA["prices"]["default_od"]
OS_PRICE_EXTRA: dict[str, Decimal] = {os: Decimal(p) for os, p in _DATA["prices"]["os_extra"].items()}
# Region -> UTC offset of its business day; the TOML's key order is the scenario's region order.
_LOCAL_OFFSET: dict[str, int] = dict(_DATA["regions"])
# Account name -> how big its generated EC2 fleet is (an account without `ec2_scale` counts as 1).
_EC2_SCALE: dict[str, int] = {a["name"]: a.get("ec2_scale", 1) for a in _DATA["account"]}


def _hex(*parts: object, n: int = 17) -> str:
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:n]


@dataclass(frozen=True)
class _Group:
    key: str
    account: str
    region: str
    kind: str
    type: str
    base: int
    peak: int = 0  # extra units at full business hours
    spike_p: float = 0.0  # probability a 3-hour block has a spike
    spike: int = 0
    churn_hours: int = 0  # one baseline slot replaced every N hours (0 = never)
    window: tuple[int, int] | None = None  # exists only for hour index in [a, b)
    az: str | None = None
    os: str | None = None
    engine: str | None = None
    spot: bool = False
    multi_az: bool = False
    name: str | None = None
    role: str | None = None
    tags: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    rcu: int = 0
    wcu: int = 0
    gsis: tuple[tuple[str, int, int], ...] = ()
    on_demand: bool = False
    paused_local: bool = False  # redshift: paused outside 08-20 local time and at weekends


class Scenario:
    """A multi-account fleet over simulated time. `start` is the first simulated UTC hour (a Monday 00:00)."""

    def __init__(self, seed: int = 7) -> None:
        self.seed = seed
        self.org_name: str = _DATA["org_name"]
        self.accounts = [SandboxAccount(a["id"], a["name"], a["management"]) for a in _DATA["account"]]
        self.regions = list(_LOCAL_OFFSET)
        self.start: datetime = _DATA["start"]
        self._groups = _build_groups(seed, self.accounts, self.regions)
        self._reservations = _build_reservations(seed, self._groups, self.start)
        self._savings_plans = _build_savings_plans(self.accounts)

    # -- the shared API ------------------------------------------------------------------------------------
    def hours(self, n: int) -> list[datetime]:
        return [self.start + i * HOUR for i in range(n)]

    def fleet_at(self, hour: datetime) -> list[FleetUnit]:
        """Every unit running in that UTC hour (paused Redshift clusters excluded: see `paused_at`)."""
        h = floor_hour(hour)
        return [u for u, paused in self._units_at(h) if not paused]

    def paused_at(self, hour: datetime) -> list[FleetUnit]:
        """Redshift clusters that exist but are paused in that hour (no compute usage)."""
        return [u for u, paused in self._units_at(floor_hour(hour)) if paused]

    def reservations(self) -> list[SandboxReservation]:
        return list(self._reservations)

    def savings_plans(self) -> list[SandboxSavingsPlan]:
        return list(self._savings_plans)

    # -- helpers -----------------------------------------------------------------------------------------
    @property
    def management(self) -> SandboxAccount:
        return next(a for a in self.accounts if a.management)

    @property
    def account_ids(self) -> list[str]:
        return [a.id for a in self.accounts]

    def active_reservations(self, hour: datetime) -> list[SandboxReservation]:
        h = floor_hour(hour)
        return [r for r in self._reservations if r.active_at(h)]

    def business_hours(self, region: str, hour: datetime) -> float:
        """0..1: how far into the working day that hour is in the region's local time (weekdays 9-18)."""
        local = floor_hour(hour) + timedelta(hours=_LOCAL_OFFSET.get(region, 0))
        if local.weekday() >= 5 or not 9 <= local.hour < 18:
            return 0.0
        return 0.5 if local.hour in (9, 17) else 1.0

    def _units_at(self, h: datetime) -> list[tuple[FleetUnit, bool]]:
        idx = (h - self.start) // HOUR
        out: list[tuple[FleetUnit, bool]] = []
        for g in self._groups:
            if g.window and not g.window[0] <= idx < g.window[1]:
                continue
            busy = self.business_hours(g.region, h)
            if g.kind == "dynamodb":
                factor = 2 if busy else 1
                gsis = tuple((n, r * factor, w) for n, r, w in g.gsis)
                rcu = 0 if g.on_demand else g.rcu * factor + sum(r for _, r, _ in gsis)
                wcu = 0 if g.on_demand else g.wcu + sum(w for _, _, w in gsis)
                out.append(
                    (
                        FleetUnit(
                            g.account,
                            g.region,
                            g.kind,
                            g.type,
                            1,
                            (g.type,),
                            tags=g.tags,
                            read_capacity=rcu,
                            write_capacity=wcu,
                            name=g.type,
                            gsis=gsis,
                            on_demand=g.on_demand,
                        ),
                        False,
                    )
                )
                continue
            ids = self._ids(g, idx, h, busy)
            if not ids:
                continue
            paused = g.paused_local and not self._redshift_awake(g.region, h)
            unit = FleetUnit(
                g.account,
                g.region,
                g.kind,
                g.type,
                len(ids),
                tuple(ids),
                az=g.az,
                os=g.os,
                engine=g.engine,
                spot=g.spot,
                multi_az=g.multi_az,
                tags=g.tags,
                name=g.name,
                role=g.role,
            )
            out.append((unit, paused))
        return out

    def _redshift_awake(self, region: str, h: datetime) -> bool:
        local = h + timedelta(hours=_LOCAL_OFFSET.get(region, 0))
        return local.weekday() < 5 and 8 <= local.hour < 20

    def _ids(self, g: _Group, idx: int, h: datetime, busy: float) -> list[str]:
        slots: list[tuple[str, int, int]] = [("b", k, 0) for k in range(g.base)]
        if g.churn_hours and g.base:
            # Slot 0 is replaced every churn_hours (offset per group so replacements do not all coincide).
            offset = int(_hex(self.seed, g.key, "churn", n=6), 16) % g.churn_hours
            slots[0] = ("b", 0, (idx + offset) // g.churn_hours)
        extra = round(g.peak * busy)
        if extra:
            noise = random.Random(f"{self.seed}:{g.key}:noise:{idx}").randint(-1, 1) if g.peak > 2 else 0
            day = (h - self.start).days
            slots += [("p", j, day) for j in range(max(0, extra + noise))]
        if g.spike_p and random.Random(f"{self.seed}:{g.key}:spike:{idx // 3}").random() < g.spike_p:
            slots += [("s", j, idx // 3) for j in range(g.spike)]
        return [self._id(g, *slot) for slot in slots]

    def _id(self, g: _Group, lane: str, slot: int, gen: int) -> str:
        if g.kind == "ec2":
            return "i-" + _hex(self.seed, g.key, lane, slot, gen)
        base = g.name or g.key
        if g.kind == "rds" and g.engine and g.engine.startswith("aurora"):
            return f"{base}-{lane}{slot + 1}" if lane != "b" or slot else f"{base}-writer"
        if g.kind == "rds":
            return base
        if g.kind == "elasticache" and g.engine == "redis":
            return f"{base}-{slot + 1:03d}" if lane == "b" else f"{base}-{lane}{slot + 1:03d}"
        return f"{base}-{g.role + '-' if g.role else ''}node-{lane}{slot + 1}"


def _tags(spend: str | None, extra: Mapping[str, str] = _EMPTY) -> Mapping[str, str]:
    """Tags as the bill shows them: `extra` as on the resource, then the Spend_Category if the group has one."""
    t = dict(extra)
    if spend is not None:
        t[SPEND_TAG] = spend
    return MappingProxyType(t)


def _build_groups(seed: int, accounts: list[SandboxAccount], regions: list[str]) -> list[_Group]:
    # The order matters: _build_reservations walks the groups in this order with its own seeded RNG.
    ids = {a.name: a.id for a in accounts}
    return _generated_groups(seed, accounts, regions) + [_fixed_group(g, ids) for g in _DATA["group"]]


def _fixed_group(raw: Mapping[str, Any], account_ids: Mapping[str, str]) -> _Group:
    """One `[[group]]` of scenario.toml: account by name, Spend_Category as `spend`, lists for tuples."""
    g = dict(raw)
    g["account"] = account_ids[g["account"]]
    if g["kind"] == "dynamodb":
        g.setdefault("base", 1)  # a table is one unit; its size is its capacity
    g["tags"] = _tags(g.pop("spend", None), g.pop("tags", _EMPTY))
    if "window" in g:
        g["window"] = tuple(g["window"])
    if "gsis" in g:
        g["gsis"] = tuple(tuple(gsi) for gsi in g["gsis"])
    return _Group(**g)


def _generated_groups(seed: int, accounts: list[SandboxAccount], regions: list[str]) -> list[_Group]:
    """The seeded EC2 fleet: per account and region, groups drawn from the `[generated]` pools.

    What a seed means is the sequence of draws below, so keep their order when editing: an extra, moved or
    skipped draw reshuffles every group after it (and the reservations derived from them).
    """
    gen = _DATA["generated"]
    rng = random.Random(f"awscost-sandbox:{seed}")
    os_names, os_weights = list(gen["os_weights"]), list(gen["os_weights"].values())
    spot, project = gen["spot"], gen["project"]

    def maybe_spend() -> str | None:
        # Tag coverage gaps: a share of the groups carries no Spend_Category.
        return None if rng.random() < gen["untagged_share"] else rng.choice(gen["spend_categories"])

    groups: list[_Group] = []
    for acct in accounts:
        s = _EC2_SCALE.get(acct.name, 1)
        for region in regions:
            azs = [f"{region}a", f"{region}b", f"{region}c"]
            n_groups = 2 if acct.management else 2 + s
            for gi in range(n_groups):
                itype = rng.choice(gen["ec2_types"])
                os = rng.choices(os_names, os_weights)[0]
                if itype.split(".")[0].endswith("g"):
                    # Graviton (arm64) instances run Linux only; the draw above still happens so the
                    # rest of the scenario stays the same for a given seed.
                    os = "linux"
                key = f"{acct.id}-{region}-ec2-{gi}"
                spend = maybe_spend()
                base = rng.randint(1, 1 + s)
                groups.append(
                    _Group(
                        key,
                        acct.id,
                        region,
                        "ec2",
                        itype,
                        base=base,
                        peak=rng.choice(gen["peak"]) if not acct.management else 0,
                        spike_p=rng.choice(gen["spike_p"]),
                        spike=rng.randint(*gen["spike"]),
                        churn_hours=rng.choice(gen["churn_hours"]),
                        az=rng.choice(azs),
                        os=os,
                        tags=_tags(spend, {"Name": f"{acct.name}-{itype}-{gi}"}),
                    )
                )
            if acct.management:
                continue
            # Spot workers, only in business hours.
            groups.append(
                _Group(
                    f"{acct.id}-{region}-spot",
                    acct.id,
                    region,
                    "ec2",
                    spot["type"],
                    base=0,
                    peak=2 + s,
                    az=azs[1],
                    os="linux",
                    spot=True,
                    tags=_tags(spot["spend"], {"Name": f"{acct.name}-spot-worker"}),
                )
            )
            # A project that comes and goes: exists for a window of hours.
            a = rng.randint(*project["start"])
            window = (a, a + rng.randint(*project["hours"]))
            groups.append(
                _Group(
                    f"{acct.id}-{region}-project",
                    acct.id,
                    region,
                    "ec2",
                    project["type"],
                    base=project["base"],
                    window=window,
                    az=azs[2],
                    os="linux",
                    tags=_tags(maybe_spend(), {"Name": f"{acct.name}-project"}),
                )
            )
    return groups


def _price(itype: str, os: str | None) -> Decimal:
    base = Decimal(OD_PRICE.get(itype, DEFAULT_OD_PRICE))
    return base + OS_PRICE_EXTRA.get(os or "linux", Decimal(0))


def _build_reservations(seed: int, groups: list[_Group], start: datetime) -> list[SandboxReservation]:
    rng = random.Random(f"awscost-sandbox-ri:{seed}")
    out: list[SandboxReservation] = []
    q = Decimal("0.0001")
    # End dates relative to the scenario start: some far, a few within 30 and 90 days, one already expired.
    ends = [("far", 0.55), ("30d", 0.15), ("90d", 0.2), ("far2", 0.1)]
    seen: set[tuple[str, str, str, str, str | None, str | None, bool]] = set()
    for g in groups:
        if g.kind == "dynamodb" or g.base == 0 or g.spot or g.window or g.paused_local:
            continue
        ri_kind = f"ri-{g.kind}"
        shape = (ri_kind, g.account, g.region, g.type, g.os, g.engine, g.multi_az)
        if shape in seen or (any(r.kind == ri_kind for r in out) and rng.random() < 0.3):
            continue
        seen.add(shape)
        count = max(1, round(g.base * rng.uniform(0.4, 0.9)))
        when = rng.choices([e for e, _ in ends], [w for _, w in ends])[0]
        # Guarantee the planner's "expiring soon" cases exist whatever the seed draws.
        if len(out) == 1:
            when = "30d"
        elif len(out) == 3:
            when = "90d"
        if when == "30d":
            end = start + timedelta(days=rng.randint(5, 28))
        elif when == "90d":
            end = start + timedelta(days=rng.randint(35, 88))
        else:
            end = start + timedelta(days=rng.randint(120, 330))
        offering = rng.choice(["No Upfront", "Partial Upfront", "All Upfront"])
        od = _price(g.type, g.os) * (2 if g.multi_az else 1)
        if offering == "No Upfront":
            fixed, usage = Decimal(0), (od * Decimal("0.62")).quantize(q)
        elif offering == "Partial Upfront":
            fixed, usage = (
                (od * Decimal("0.29") * 8760).quantize(Decimal(1)),
                (od * Decimal("0.29")).quantize(q),
            )
        else:
            fixed, usage = (od * Decimal("0.57") * 8760).quantize(Decimal(1)), Decimal(0)
        scope, az = (
            ("Availability Zone", g.az) if g.kind == "ec2" and rng.random() < 0.2 else ("Region", None)
        )
        out.append(
            SandboxReservation(
                g.account,
                g.region,
                ri_kind,
                _ri_id(ri_kind, seed, g.key),
                g.type,
                count,
                start=end - YEAR,
                end=end,
                os=g.os if g.kind == "ec2" else None,
                engine=g.engine,
                multi_az=g.multi_az,
                scope=scope,
                az=az,
                offering_type=offering,
                fixed_price=fixed,
                usage_price=usage,
            )
        )
    # One reservation per kind expired before the scenario started (collectors must not count it).
    by_kind: dict[str, SandboxReservation] = {}
    for r in out:
        by_kind.setdefault(r.kind, r)
    for kind, r in sorted(by_kind.items()):
        if kind == "ri-ec2":
            end = start - timedelta(days=6)
            out.append(
                SandboxReservation(
                    r.account,
                    r.region,
                    kind,
                    _ri_id(kind, seed, "expired"),
                    r.type,
                    2,
                    start=end - YEAR,
                    end=end,
                    os=r.os,
                    engine=r.engine,
                    multi_az=r.multi_az,
                    offering_type="All Upfront",
                    fixed_price=(r.usage_price * 8760).quantize(Decimal(1)) or Decimal(500),
                )
            )
    return out


def _build_savings_plans(accounts: list[SandboxAccount]) -> list[SandboxSavingsPlan]:
    """The `[[savings_plan]]` entries of scenario.toml (not seeded: the same plans whatever the seed)."""
    ids = {a.name: a.id for a in accounts}
    out = []
    for i, raw in enumerate(_DATA.get("savings_plan", [])):
        h = _hex("savings-plan", i, raw["account"], raw["type"], n=32)
        out.append(
            SandboxSavingsPlan(
                account=ids[raw["account"]],
                id=f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}",
                type=raw["type"],
                commitment=Decimal(raw["commitment"]),
                start=raw["start"],
                end=raw["start"] + timedelta(seconds=int(raw["term_seconds"])),
                payment=raw.get("payment", "No Upfront"),
                discount=Decimal(raw.get("discount", "0.72")),
                region=raw.get("region"),
                family=raw.get("family"),
            )
        )
    return out


def _ri_id(kind: str, seed: int, key: str) -> str:
    h = _hex(seed, kind, key, n=32)
    if kind == "ri-ec2":  # EC2 reservation ids are UUIDs
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
    return f"{kind.removeprefix('ri-')}-ri-{h[:10]}"


def default_scenario(seed: int = 7) -> Scenario:
    return Scenario(seed)
