"""The normalized container sample: one row per container per observation, whatever the input format.

Units are fixed here so every reader converts once: CPU in vCPU (1 vCPU = 1024 ECS CPU units = 100 % in
`docker stats`), memory in GiB (2**30 bytes; AWS's "GB" in Fargate and instance sizes is GiB).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

GIB = 1024**3
MIB = 1024**2
ECS_CPU_UNITS_PER_VCPU = 1024

# Column order of the normalized table (also the agent's JSON line keys, plus `labels`/`image`).
COLUMNS = (
    "timestamp",
    "host_id",
    "instance_type",
    "region",
    "account",
    "container_id",
    "container_name",
    "service",
    "cluster",
    "cpu_reserved_vcpu",
    "cpu_used_vcpu",
    "mem_reserved_gb",
    "mem_used_gb",
    "launch_type",
    "host_vcpu",
    "host_mem_gb",
    "source_file",
)


@dataclass
class Sample:
    timestamp: datetime  # aware UTC
    host_id: str | None  # EC2 instance id; for Fargate the task ARN (the task is the billed unit)
    instance_type: str | None
    region: str | None
    account: str | None
    container_id: str
    container_name: str
    service: str | None
    cluster: str | None
    cpu_reserved_vcpu: float
    cpu_used_vcpu: float
    mem_reserved_gb: float
    mem_used_gb: float
    launch_type: str = "EC2"  # EC2 | FARGATE
    host_vcpu: float | None = None  # host capacity when the input tells it (docker info, online_cpus)
    host_mem_gb: float | None = None
    source_file: str | None = None  # the input file the sample was read from (named in attribute conflicts)
    # Identity hints used to name the service when the input has no explicit one; not part of the table.
    labels: dict[str, str] = field(default_factory=dict, repr=False)
    image: str | None = None
    task_family: str | None = None

    def row(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: d[k] for k in COLUMNS}


@dataclass(frozen=True)
class Malformed:
    """An input line (or file) that could not be read; the rest of the input is still used."""

    file: str
    line: int  # 1-based; 0 when the whole file is unusable
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}" if self.line else f"{self.file}: {self.reason}"


@dataclass
class ReadResult:
    samples: list[Sample] = field(default_factory=list)  # empty when streamed (iter_samples, write_parquet)
    malformed: list[Malformed] = field(default_factory=list)
    files: int = 0
    rows: int = 0
    hosts: set[str] = field(default_factory=set)


def arrow_schema() -> Any:
    """The normalized table as a pyarrow schema (pyarrow imported here, not by the agent)."""
    import pyarrow as pa

    return pa.schema(
        [
            ("timestamp", pa.timestamp("us", tz="UTC")),
            *[(c, pa.string()) for c in COLUMNS[1:9]],
            *[(c, pa.float64()) for c in COLUMNS[9:13]],
            ("launch_type", pa.string()),
            ("host_vcpu", pa.float64()),
            ("host_mem_gb", pa.float64()),
            ("source_file", pa.string()),
        ]
    )


def to_arrow(samples: Iterable[Sample]) -> Any:
    """Samples as a pyarrow Table with `arrow_schema()`."""
    import pyarrow as pa

    cols: dict[str, list[Any]] = {c: [] for c in COLUMNS}
    for s in samples:
        for c in COLUMNS:
            cols[c].append(getattr(s, c))
    return pa.table(cols, schema=arrow_schema())
