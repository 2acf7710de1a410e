"""Usage keys -> reservation groups, with AWS's size flexibility in normalized units.

AWS applies a regional reservation across sizes of one family, counting *normalized units*:
nano 0.25, micro 0.5, small 1, medium 2, large 4, xlarge 8, Nxlarge 8N.
- EC2: regional Linux/UNIX reservations (shared tenancy) only; Windows, RHEL, SUSE, SQL Server are not
  size-flexible, nor zonal reservations.
- RDS: within an instance family and engine, except license-included engines (SQL Server, Oracle LI);
  Multi-AZ counts twice the units of Single-AZ.
- ElastiCache: within a node family (all engines, since 2024).
- OpenSearch and Redshift: none; a reservation is for one instance/node type.
- DynamoDB reserved capacity: one group per key (read or write capacity units), bought in blocks.
Which rule a kind follows is the catalog's (`KindSpec.flex`); which OS and engines are flexible, the
vocabulary's (`OperatingSystem.size_flexible`, `Engine.size_flexible`).

A group is either one concrete key (factor 1, "instances") or a size-flexible family ("normalized units").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from awscost.core import vocabulary
from awscost.usage import kinds as catalog

_SIZE = {"nano": 0.25, "micro": 0.5, "small": 1.0, "medium": 2.0, "large": 4.0, "xlarge": 8.0}
_NX = re.compile(r"^(\d+)xlarge$")


def size_factor(size: str) -> float | None:
    """Normalization factor of an instance size; None for sizes not normalized this way (metal)."""
    if size in _SIZE:
        return _SIZE[size]
    m = _NX.match(size)
    return 8.0 * int(m.group(1)) if m else None


@dataclass(frozen=True)
class KeyInfo:
    """What a usage key means for reservations."""

    kind: str
    key: str
    type: str  # instance / class / node type
    variant: str  # OS (ec2os), engine (rds), "" otherwise
    multi_az: bool
    group: str  # the key of the reservation group (family key when size-flexible)
    factor: float  # units of the group per instance of this key
    flexible: bool
    reservable: bool  # False: spot usage and keys no reservation covers

    @property
    def family(self) -> str:
        return self.type.rsplit(".", 1)[0]


def key_info(kind: str, key: str) -> KeyInfo:
    """What `key` of usage kind `kind` means for reservations, by the kind's size-flexibility rule."""
    spec = catalog.KINDS.get(kind) if kind in catalog.KINDS else None
    planned = spec is not None and spec.reservation_kind is not None
    rule = spec.flex if spec is not None else None
    if rule == "ec2":
        os_name, _, itype = key.rpartition("-")
        spot = os_name.startswith("spot-") or os_name == "spot"
        os_name = os_name.removeprefix("spot-")
        family, _, size = itype.rpartition(".")
        os_row = vocabulary.os_entry(os_name)
        factor = size_factor(size) if os_row is not None and os_row.size_flexible else None
        if factor is not None and family:
            return KeyInfo(kind, key, itype, os_name, False, f"{os_name}-{family}.*", factor, True, not spot)
        return KeyInfo(kind, key, itype, os_name, False, key, 1.0, False, not spot and bool(itype))
    if rule == "rds":
        multi = key.startswith("multi_az-")
        cls, _, engine = key.removeprefix("multi_az-").partition(":")
        family, _, size = cls.rpartition(".")
        factor = size_factor(size)
        engine_row = vocabulary.engine_entry(engine)
        if factor is not None and family and engine_row is not None and engine_row.size_flexible:
            group = f"{family}.*:{engine}"
            return KeyInfo(kind, key, cls, engine, multi, group, factor * (2 if multi else 1), True, True)
        return KeyInfo(kind, key, cls, engine, multi, key, 1.0, False, True)
    if rule == "elasticache":
        family, _, size = key.rpartition(".")
        factor = size_factor(size)
        if factor is not None and family.startswith("cache."):
            return KeyInfo(kind, key, key, "", False, f"{family}.*", factor, True, True)
        return KeyInfo(kind, key, key, "", False, key, 1.0, False, True)
    if spec is not None and spec.capacity_block:
        # reserved capacity (DynamoDB RCU / WCU): one group per key, counted in capacity units
        return KeyInfo(kind, key, key, "", False, key, 1.0, False, key in spec.capacity_keys)
    return KeyInfo(kind, key, key, "", False, key, 1.0, False, planned)


def concrete_units(units: float, sizes: dict[str, float]) -> list[tuple[str, int]]:
    """Express `units` normalized units as purchasable instances: largest sizes first among `sizes`
    (type -> factor, the types the group actually runs), the remainder floored to the smallest size."""
    out: list[tuple[str, int]] = []
    left = units
    for itype, factor in sorted(sizes.items(), key=lambda kv: -kv[1]):
        n = int(left // factor + 1e-9)
        if n > 0:
            out.append((itype, n))
            left -= n * factor
    return out


def describe_units(parts: list[tuple[str, int]]) -> str:
    return " + ".join(f"{n} x {t}" for t, n in parts) if parts else "0"
