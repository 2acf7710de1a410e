"""The price book: on-demand, reserved and Savings Plans rates per (service, type, region, variant, tenancy).

`variant` is the OS for EC2 (the usage vocabulary: linux, windows, rhel, suse, windows-sql-std ...), the
engine for RDS (mysql, postgres, aurora-mysql ...), and "" where the price does not depend on it
(ElastiCache, OpenSearch, Redshift). Services use the usage kinds' names: ec2, rds, elasticache, es,
redshift, plus fargate (per vCPU-hour and GB-hour).

Every price carries its source and date ("aws-price-list-api" + publication date, or "snapshot" + the
snapshot's date) so that every output can say where its numbers came from. Snapshot prices also say, per
rate, where that number came from (`origin`: "ec2shop 2025-04-04", or "derived <rule>" for a rate computed
by one of the snapshot's documented rules, see docs/prices.md), so that outputs can say which are derived.

The snapshot (`prices-snapshot.json.gz`, built by scripts/build_price_snapshot.py) is a header line and one
line per service and region; a region's prices are parsed when one of them is first looked up. Installs
without it (the collector's Lambda zip leaves it out) get an empty snapshot that says so.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Any

from awscost.usage import kinds as catalog

TERMS = ("1y", "3y")
PAYMENTS = ("no", "partial", "all")
TERM_HOURS = {"1y": 8760, "3y": 26280}
# DynamoDB reserved capacity is sold as one offering per term, upfront + hourly (the Price List and the bill
# name it by the old RI offering "Heavy Utilization"): the partial-upfront shape, whatever payment is asked.
CAPACITY_PAYMENT = "partial"
# AWS service codes (the catalog's) and other spellings -> our service names.
SERVICE_ALIASES = {
    str(s.price_code).lower(): str(s.service) for s in catalog.CATALOG if s.price_code and s.service
} | {"opensearch": "es", "elasticsearch": "es", "amazonecs": "fargate"}
SNAPSHOT_RESOURCE = "prices-snapshot.json.gz"
# Services whose price depends on a variant: the OS for EC2, the engine for RDS (and Fargate's Linux). Every
# other service has one price per instance / node type.
VARIANT_SERVICES = ("ec2", "rds", "fargate")
# The mark of a rate no source publishes: the snapshot computed it by a documented rule (docs/prices.md).
DERIVED = "derived"


def canonical_service(service: str) -> str:
    s = service.strip().lower()
    return SERVICE_ALIASES.get(s, s)


@dataclass(frozen=True)
class ReservedRate:
    term: str  # "1y" | "3y"
    payment: str  # "no" | "partial" | "all"
    upfront: Decimal
    hourly: Decimal

    @property
    def effective_hourly(self) -> Decimal:
        """Upfront spread over the term's hours plus the recurring hourly fee."""
        return self.upfront / TERM_HOURS[self.term] + self.hourly


@dataclass(frozen=True)
class Price:
    service: str
    region: str
    type: str
    variant: str
    tenancy: str
    on_demand: Decimal | None
    reserved: Mapping[str, ReservedRate] = field(default_factory=dict)  # "1y/no" -> rate
    savings_plans: Mapping[str, Decimal] = field(default_factory=dict)  # "compute/1y/no" -> $/h
    extra: Mapping[str, Decimal] = field(default_factory=dict)  # fargate: vcpu_hour, gb_hour
    source: str = "snapshot"
    date: str = ""
    # Per rate ("on_demand", "1y/no", "compute/1y/no", "vcpu_hour" ...): "source date" or "derived <rule>".
    # Empty for Price List API prices, which are all the API's.
    origin: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, ...]:
        return price_key(self.service, self.region, self.type, self.variant, self.tenancy)

    @property
    def source_label(self) -> str:
        return f"{self.source} {self.date}".strip()

    def reserved_rate(self, term: str, payment: str) -> ReservedRate | None:
        return self.reserved.get(f"{term}/{payment}")

    def is_derived(self, *fields: str) -> bool:
        """Whether any of `fields` (all the price's rates when none is named) was derived by a rule."""
        names = fields or tuple(self.origin)
        return any(self.origin.get(f, "").startswith(DERIVED) for f in names)

    @property
    def derived_fields(self) -> tuple[str, ...]:
        return tuple(f for f, o in self.origin.items() if o.startswith(DERIVED))

    def label_for(self, *fields: str) -> str:
        """The source label of a figure computed from `fields`, marked when one of them is derived:
        "snapshot 2026-07-20" or "snapshot 2026-07-20, derived"."""
        return derived_label(self.source_label) if self.is_derived(*fields) else self.source_label

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "service": self.service,
            "region": self.region,
            "type": self.type,
            "variant": self.variant,
            "tenancy": self.tenancy,
            "on_demand": None if self.on_demand is None else str(self.on_demand),
            "reserved": {k: [str(r.upfront), str(r.hourly)] for k, r in self.reserved.items()},
            "savings_plans": {k: str(v) for k, v in self.savings_plans.items()},
            "source": self.source,
            "date": self.date,
        }
        out.update({k: str(v) for k, v in self.extra.items()})
        if self.origin:
            out["origin"] = compact_origin(self.origin)
        return out

    @classmethod
    def from_json(cls, row: Mapping[str, Any], *, source: str, date: str) -> Price:
        reserved = {}
        for k, pair in (row.get("reserved") or {}).items():
            term, _, payment = k.partition("/")
            reserved[k] = ReservedRate(term, payment, Decimal(str(pair[0])), Decimal(str(pair[1])))
        od = row.get("on_demand")
        extra = {k: Decimal(str(row[k])) for k in ("vcpu_hour", "gb_hour") if row.get(k) is not None}
        origin = {
            f: label for label, fields in (row.get("origin") or {}).items() for f in str(fields).split()
        }
        return cls(
            service=canonical_service(str(row["service"])),
            region=str(row["region"]),
            type=str(row["type"]),
            variant=str(row.get("variant") or ""),
            tenancy=str(row.get("tenancy") or "shared"),
            on_demand=None if od is None else Decimal(str(od)),
            reserved=reserved,
            savings_plans={k: Decimal(str(v)) for k, v in (row.get("savings_plans") or {}).items()},
            extra=extra,
            source=str(row.get("source") or source),
            date=str(row.get("date") or date),
            origin=origin,
        )


def compact_origin(origin: Mapping[str, str]) -> dict[str, str]:
    """{field: label} -> {label: "field field ..."}, the snapshot's form."""
    out: dict[str, list[str]] = {}
    for f, label in origin.items():
        out.setdefault(label, []).append(f)
    return {label: " ".join(fs) for label, fs in out.items()}


def derived_label(label: str) -> str:
    return f"{label}, {DERIVED}"


def is_derived_label(label: str | None) -> bool:
    """Whether a source label (a plan row's `price_source`, say) marks a derived price."""
    return bool(label) and str(label).endswith(f", {DERIVED}")


def price_key(
    service: str, region: str, type: str, variant: str = "", tenancy: str = "shared"
) -> tuple[str, ...]:
    return (canonical_service(service), region, type, variant or "", (tenancy or "shared").lower())


class PriceBook:
    """Prices by key; later sources override earlier ones (the API cache over the snapshot). A book may sit
    on a `base` book: what it does not hold, the base answers."""

    def __init__(
        self, prices: Iterable[Price] = (), *, notes: Iterable[str] = (), base: PriceBook | None = None
    ) -> None:
        self._prices: dict[tuple[str, ...], Price] = {}
        self._base = base
        self.notes: list[str] = list(notes)  # what happened while loading (fallbacks), for outputs to show
        self.add(prices)

    def add(self, prices: Iterable[Price]) -> None:
        for p in prices:
            self._prices[p.key] = p

    def _get(self, key: tuple[str, ...]) -> Price | None:
        found = self._prices.get(key)
        if found is None and self._base is not None:
            return self._base._get(key)
        return found

    def _all(self) -> dict[tuple[str, ...], Price]:
        merged = dict(self._base._all()) if self._base is not None else {}
        merged.update(self._prices)
        return merged

    def __len__(self) -> int:
        return len(self._all())

    def select(self, service: str | None = None, region: str | None = None) -> list[Price]:
        """The prices of one service and/or region (a snapshot parses only those regions)."""
        svc = canonical_service(service) if service else None
        merged = {p.key: p for p in self._base.select(svc, region)} if self._base is not None else {}
        merged.update(
            (k, p)
            for k, p in self._prices.items()
            if (svc is None or k[0] == svc) and (region in (None, k[1]))
        )
        return list(merged.values())

    def __iter__(self) -> Iterator[Price]:
        return iter(self._all().values())

    def lookup(
        self, service: str, type: str, region: str, variant: str = "", tenancy: str = "shared"
    ) -> Price | None:
        svc = canonical_service(service)
        if svc not in VARIANT_SERVICES:
            variant = ""  # one price per type: ElastiCache's engines cost the same, OpenSearch and Redshift have none
        elif svc == "ec2" and not variant:
            variant = "linux"
        found = self._get(price_key(svc, region, type, variant, tenancy))
        if found is None and svc == "es" and type.endswith(".elasticsearch"):
            # Elasticsearch-era domains report `m5.large.elasticsearch`; AWS prices it as `m5.large.search`.
            found = self._get(price_key(svc, region, type.removesuffix(".elasticsearch") + ".search"))
        return found

    def on_demand_hourly(
        self, service: str, type: str, region: str, os: str = "linux", tenancy: str = "shared"
    ) -> Decimal | None:
        price = self.lookup(service, type, region, os, tenancy)
        return None if price is None else price.on_demand

    def fargate_rates(self, region: str, arch: str = "x86_64") -> Price | None:
        """Fargate Linux per vCPU-hour / GB-hour (Price.extra["vcpu_hour"], ["gb_hour"])."""
        return self._get(price_key("fargate", region, arch, "linux"))

    def sources(self) -> list[str]:
        """Distinct "source date" labels, e.g. ["aws-price-list-api 2026-11-20", "snapshot 2026-07-20"]."""
        return sorted({p.source_label for p in self})


class SnapshotBook(PriceBook):
    """The packaged snapshot: a region's prices are parsed when one of them is first asked for."""

    def __init__(self, header: Mapping[str, Any], shards: Mapping[str, str], *, notes: Iterable[str] = ()):
        super().__init__(notes=notes)
        self.header = header
        self._raw = dict(shards)  # "service region" -> JSON text of its rows, until parsed

    @property
    def date(self) -> str | None:
        return str(self.header["date"]) if self.header else None

    @property
    def label(self) -> str | None:
        """ "snapshot <date>", None when this install has no snapshot."""
        return f"snapshot {self.date}" if self.date else None

    def _load(self, shard: str) -> None:
        text = self._raw.pop(shard, None)
        if text is not None:
            date = str(self.header["date"])
            self.add(Price.from_json(row, source="snapshot", date=date) for row in json.loads(text))

    def _get(self, key: tuple[str, ...]) -> Price | None:
        self._load(f"{key[0]} {key[1]}")
        return self._prices.get(key)

    def _all(self) -> dict[tuple[str, ...], Price]:
        for shard in list(self._raw):
            self._load(shard)
        return dict(self._prices)

    def select(self, service: str | None = None, region: str | None = None) -> list[Price]:
        svc = canonical_service(service) if service else None
        for shard in list(self._raw):
            s, r = shard.split(" ", 1)
            if (svc is None or s == svc) and region in (None, r):
                self._load(shard)
        return [p for k, p in self._prices.items() if (svc is None or k[0] == svc) and region in (None, k[1])]

    def regions(self, service: str) -> list[str]:
        """The regions the snapshot prices `service` in (without parsing them)."""
        svc = canonical_service(service)
        return sorted(s.split(" ", 1)[1] for s in self.header.get("shards", []) if s.split(" ", 1)[0] == svc)


def read_snapshot(data: bytes) -> SnapshotBook:
    """A snapshot file's bytes (gzip of the header line and the shard lines) -> its book."""
    lines = gzip.decompress(data).decode("utf-8").split("\n")
    header: dict[str, Any] = json.loads(lines[0])
    if header.get("kind") != "awscost price snapshot":
        raise ValueError("not an awscost price snapshot")
    shards = dict(line.split("\t", 1) for line in lines[1:] if line)
    return SnapshotBook(header, shards)


@lru_cache(maxsize=1)
def snapshot_book() -> SnapshotBook:
    """The packaged snapshot (empty, with a note, where this install does not hold it)."""
    try:
        data = resources.files("awscost.planning.pricing").joinpath(SNAPSHOT_RESOURCE).read_bytes()
    except FileNotFoundError:
        return SnapshotBook(
            {},
            {},
            notes=["no packaged price snapshot in this install: prices come from the store's cache only"],
        )
    return read_snapshot(data)


def snapshot_date() -> str | None:
    """The date of the newest price in the packaged snapshot; None when the install has no snapshot."""
    return snapshot_book().date


def snapshot_label() -> str:
    """How outputs name the packaged snapshot: "the packaged snapshot 2026-07-20" or that there is none."""
    book = snapshot_book()
    return f"the packaged {book.label}" if book.label else "no packaged snapshot (not in this install)"
