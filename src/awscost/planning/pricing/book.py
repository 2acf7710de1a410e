"""The price book: on-demand, reserved and Savings Plans rates per (service, type, region, variant, tenancy).

`variant` is the OS for EC2 (the usage vocabulary: linux, windows, rhel, suse, windows-sql-std ...), the
engine for RDS (mysql, postgres, aurora-mysql ...), and "" where the price does not depend on it
(ElastiCache, OpenSearch, Redshift). Services use the usage kinds' names: ec2, rds, elasticache, es,
redshift, plus fargate (per vCPU-hour and GB-hour).

Every price carries its source and date ("aws-price-list-api" + publication date, or "snapshot" + the
snapshot's date) so that every output can say where its numbers came from.
"""

from __future__ import annotations

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
# AWS service codes (the catalog's) and other spellings -> our service names.
SERVICE_ALIASES = {
    str(s.price_code).lower(): str(s.service) for s in catalog.CATALOG if s.price_code and s.service
} | {"opensearch": "es", "elasticsearch": "es", "amazonecs": "fargate"}
SNAPSHOT_RESOURCE = "prices-snapshot.json"
# Services whose price depends on a variant: the OS for EC2, the engine for RDS (and Fargate's Linux). Every
# other service has one price per instance / node type.
VARIANT_SERVICES = ("ec2", "rds", "fargate")


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

    @property
    def key(self) -> tuple[str, ...]:
        return price_key(self.service, self.region, self.type, self.variant, self.tenancy)

    @property
    def source_label(self) -> str:
        return f"{self.source} {self.date}".strip()

    def reserved_rate(self, term: str, payment: str) -> ReservedRate | None:
        return self.reserved.get(f"{term}/{payment}")

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
        return out

    @classmethod
    def from_json(cls, row: Mapping[str, Any], *, source: str, date: str) -> Price:
        reserved = {}
        for k, pair in (row.get("reserved") or {}).items():
            term, _, payment = k.partition("/")
            reserved[k] = ReservedRate(term, payment, Decimal(str(pair[0])), Decimal(str(pair[1])))
        od = row.get("on_demand")
        extra = {k: Decimal(str(row[k])) for k in ("vcpu_hour", "gb_hour") if row.get(k) is not None}
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
        )


def price_key(
    service: str, region: str, type: str, variant: str = "", tenancy: str = "shared"
) -> tuple[str, ...]:
    return (canonical_service(service), region, type, variant or "", (tenancy or "shared").lower())


class PriceBook:
    """Prices by key; later sources override earlier ones (snapshot, then the API cache)."""

    def __init__(self, prices: Iterable[Price] = (), *, notes: Iterable[str] = ()) -> None:
        self._prices: dict[tuple[str, ...], Price] = {}
        self.notes: list[str] = list(notes)  # what happened while loading (fallbacks), for outputs to show
        self.add(prices)

    def add(self, prices: Iterable[Price]) -> None:
        for p in prices:
            self._prices[p.key] = p

    def __len__(self) -> int:
        return len(self._prices)

    def __iter__(self) -> Iterator[Price]:
        return iter(self._prices.values())

    def lookup(
        self, service: str, type: str, region: str, variant: str = "", tenancy: str = "shared"
    ) -> Price | None:
        svc = canonical_service(service)
        if svc not in VARIANT_SERVICES:
            variant = ""  # one price per type: ElastiCache's engines cost the same, OpenSearch and Redshift have none
        elif svc == "ec2" and not variant:
            variant = "linux"
        return self._prices.get(price_key(svc, region, type, variant, tenancy))

    def on_demand_hourly(
        self, service: str, type: str, region: str, os: str = "linux", tenancy: str = "shared"
    ) -> Decimal | None:
        price = self.lookup(service, type, region, os, tenancy)
        return None if price is None else price.on_demand

    def fargate_rates(self, region: str, arch: str = "x86_64") -> Price | None:
        """Fargate Linux per vCPU-hour / GB-hour (Price.extra["vcpu_hour"], ["gb_hour"])."""
        return self._prices.get(price_key("fargate", region, arch, "linux"))

    def sources(self) -> list[str]:
        """Distinct "source date" labels, e.g. ["aws-price-list-api 2026-11-20", "snapshot 2026-11-26"]."""
        return sorted({p.source_label for p in self._prices.values()})


@lru_cache(maxsize=1)
def _snapshot_doc() -> dict[str, Any]:
    text = resources.files("awscost.planning.pricing").joinpath(SNAPSHOT_RESOURCE).read_text(encoding="utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


def snapshot_date() -> str:
    return str(_snapshot_doc()["date"])


def snapshot_prices() -> list[Price]:
    doc = _snapshot_doc()
    return [Price.from_json(row, source="snapshot", date=str(doc["date"])) for row in doc["prices"]]


@lru_cache(maxsize=1)
def snapshot_book() -> PriceBook:
    return PriceBook(snapshot_prices())
