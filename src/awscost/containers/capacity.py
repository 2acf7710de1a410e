"""Host capacity (vCPU, GiB) of an EC2 instance type, from the type's name.

AWS sizes are regular: `large` = 2 vCPU, `xlarge` = 4, `Nxlarge` = 4N, `medium` = 1; the general purpose (m),
compute (c) and memory (r) families have 4, 2 and 8 GiB per vCPU. Burstable t2/t3/t3a/t4g are listed.
Types outside these rules return None: the caller gives a capacity lookup of its own (e.g. from the pricing
module's instance table) or the capacity the input reports (Docker `online_cpus`, the agent's `/info`).
"""

from __future__ import annotations

import re

_BURSTABLE: dict[str, tuple[float, float]] = {
    "nano": (2, 0.5), "micro": (2, 1), "small": (2, 2), "medium": (2, 4),
    "large": (2, 8), "xlarge": (4, 16), "2xlarge": (8, 32),
}  # fmt: skip
_T2 = {"nano": (1, 0.5), "micro": (1, 1), "small": (1, 2), "medium": (2, 4), "large": (2, 8),
       "xlarge": (4, 16), "2xlarge": (8, 32)}  # fmt: skip
_GIB_PER_VCPU = {"c": 2.0, "m": 4.0, "r": 8.0}
_FAMILY = re.compile(r"^([cmr])(\d)([a-z]*)$")


def _vcpus(size: str) -> float | None:
    if size == "medium":
        return 1
    if size == "large":
        return 2
    m = re.match(r"^(\d*)xlarge$", size)
    if m:
        return 4 * (int(m.group(1)) if m.group(1) else 1)
    return None


def instance_capacity(instance_type: str) -> tuple[float, float] | None:
    """(vCPU, GiB) for `m5.large`, `c6g.4xlarge`, `t3.micro` ...; None when the name does not tell."""
    family, _, size = instance_type.partition(".")
    if family == "t2":
        return _T2.get(size)
    if family in ("t3", "t3a", "t4g"):
        return _BURSTABLE.get(size)
    m = _FAMILY.match(family)
    if not m:
        return None
    kind, _gen, extra = m.groups()
    # Network- and frequency-optimized variants (c5n, m5zn, ...) break the per-vCPU memory rule.
    if "z" in extra or (kind == "c" and "n" in extra):
        return None
    vcpu = _vcpus(size)
    if vcpu is None:
        return None
    return vcpu, vcpu * _GIB_PER_VCPU[kind]
