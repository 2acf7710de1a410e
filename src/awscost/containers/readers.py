"""Readers for container usage inputs, one registry, the format detected per JSON value.

Formats (examples in ../shared/refdata/otel-awsecscontainermetrics/):
- `docker-stats-line`: `docker stats --no-stream --format '{{json .}}'`
  (CPUPerc "0.50%", MemUsage "12.5MiB / 1.9GiB").
  These lines carry no time: prefix each with an ISO time (`2026-11-26T10:00:00Z {...}`, what `ts -s` or
  `echo "$(date -u +%FT%TZ) $line"` gives), or pass a default time in the `ReadContext`.
- `docker-stats-json`: the Docker Engine `/containers/{id}/stats` object (also the ECS `/task/stats` map
  DockerId -> stats, and a list of such maps).
- `ecs-task-metadata`: ECS task metadata v4 `/task` (or a list of tasks, as on managed instances).
  It has no usage; it names, reserves and places the containers whose stats are read alongside it.
- `container-insights`: CloudWatch Container Insights performance log events (Type Container / Task), raw or
  wrapped as `aws logs filter-log-events` output ({"events": [{"message": "<json>"}]}).
- `awscost-agent`: the lines `awscost containers snapshot` appends.

A file is JSON lines unless its first line is not a complete JSON value, in which case it is one JSON document
(pretty-printed files such as the refdata ones). `.gz` files are read transparently.
"""

from __future__ import annotations

import gzip
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from awscost.containers.identity import ServiceNamer
from awscost.containers.samples import ECS_CPU_UNITS_PER_VCPU, GIB, MIB, Malformed, ReadResult, Sample
from awscost.core.registry import Registry

AGENT_SCHEMA = "container-sample/1"


class BadRecord(ValueError):
    """A JSON value that is recognised but unusable (reason in the message)."""


@dataclass
class ReadContext:
    """Facts an input may lack, given by the caller (CLI options): applied only where the input is silent."""

    host_id: str | None = None
    instance_type: str | None = None
    region: str | None = None
    account: str | None = None
    cluster: str | None = None
    time: datetime | None = None  # for docker-stats lines without a time prefix


@dataclass
class ContainerInfo:
    """What ECS task metadata says about one container (joined to its stats by DockerId)."""

    container_id: str
    name: str
    image: str | None
    labels: dict[str, str]
    family: str | None
    ecs_service: str | None
    cluster: str | None
    task_arn: str
    launch_type: str
    region: str | None
    account: str | None
    cpu_reserved_vcpu: float
    mem_reserved_gb: float
    task_vcpu: float | None
    task_mem_gb: float | None


@dataclass
class _Collected:
    samples: list[Sample] = field(default_factory=list)
    infos: dict[str, ContainerInfo] = field(default_factory=dict)
    # Container Insights task-level events, kept aside: used only for tasks without container-level events.
    task_events: list[Sample] = field(default_factory=list)


# ---------------------------------------------------------------- small parsers

_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([KMGTP]?i?B|[kKMGTP]?B?)\s*$")
_UNITS = {
    "B": 1, "": 1,
    "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3, "TiB": 1024**4, "PiB": 1024**5,
    "kB": 1000, "KB": 1000, "MB": 1000**2, "GB": 1000**3, "TB": 1000**4, "PB": 1000**5,
}  # fmt: skip


def parse_size(text: str) -> float:
    """Docker's human sizes (`12.5MiB`, `1.944GiB`, `3kB`) -> bytes."""
    m = _SIZE.match(text)
    if not m or m.group(2) not in _UNITS:
        raise BadRecord(f"size {text!r} not understood")
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_percent(text: str) -> float:
    value = text.strip().rstrip("%").strip()
    if value in ("--", ""):
        raise BadRecord(f"percentage {text!r} missing")
    try:
        return float(value) / 100.0
    except ValueError:
        raise BadRecord(f"percentage {text!r} not understood") from None


def parse_ts(value: Any) -> datetime:
    """ISO 8601 (nanoseconds allowed) or epoch milliseconds -> aware UTC."""
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        try:
            return datetime.fromtimestamp(int(value) / 1000.0, tz=UTC)
        except (OverflowError, OSError, ValueError):  # NaN, 1e308, past year 9999
            raise BadRecord(f"time {value!r} out of range") from None
    if not isinstance(value, str):
        raise BadRecord(f"time {value!r} not understood")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Docker writes nanoseconds; Python keeps microseconds.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise BadRecord(f"time {value!r} not understood") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    if dt.year < 2000:  # Docker's zero time "0001-01-01T00:00:00Z" means "not read"
        raise BadRecord(f"time {value!r} is Docker's zero time")
    return dt.astimezone(UTC)


def _num(obj: dict[str, Any], key: str, default: float | None = None) -> float:
    value = obj.get(key, default)
    if value is None or isinstance(value, bool):
        raise BadRecord(f"{key} missing")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise BadRecord(f"{key}={value!r} is not a number") from None


def region_of_az(az: str | None) -> str | None:
    if not az:
        return None
    m = re.match(r"^([a-z]{2}(?:-gov)?-[a-z]+-\d)", az)
    return m.group(1) if m else None


def _arn_parts(arn: str | None) -> tuple[str | None, str | None]:
    """(region, account) of an ARN."""
    if not arn or not arn.startswith("arn:"):
        return None, None
    parts = arn.split(":")
    return (parts[3] or None, parts[4] or None) if len(parts) > 5 else (None, None)


def cluster_name(value: str | None) -> str | None:
    if not value:
        return None
    return value.rsplit("/", 1)[-1] if value.startswith("arn:") else value


# ---------------------------------------------------------------- per-format converters


def _docker_stats_line(obj: dict[str, Any], ctx: ReadContext, ts: datetime | None, out: _Collected) -> None:
    when = ts or ctx.time
    if when is None:
        raise BadRecord(
            "docker stats line has no time: prefix it with an ISO time or give the read context a time"
        )
    cpu = parse_percent(str(obj.get("CPUPerc", "")))
    usage = str(obj.get("MemUsage", ""))
    if "/" not in usage:
        raise BadRecord(f"MemUsage {usage!r} is not 'used / limit'")
    used_text, _limit_text = usage.split("/", 1)
    name = str(obj.get("Name") or obj.get("Container") or "")
    cid = str(obj.get("ID") or obj.get("Container") or name)
    if not cid:
        raise BadRecord("no ID/Name")
    out.samples.append(
        Sample(
            timestamp=when, host_id=ctx.host_id, instance_type=ctx.instance_type, region=ctx.region,
            account=ctx.account, container_id=cid, container_name=name or cid, service=None,
            cluster=ctx.cluster, cpu_reserved_vcpu=0.0, cpu_used_vcpu=cpu, mem_reserved_gb=0.0,
            mem_used_gb=parse_size(used_text) / GIB,
        )
    )  # fmt: skip


# Docker's usage counters are uint64 in the Engine API.
DOCKER_COUNTER_MAX = 2**64 - 1


def docker_section(obj: dict[str, Any], key: str, where: str = "") -> dict[str, Any]:
    """A nested object of a Docker answer ({} when absent); anything but an object is a BadRecord."""
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadRecord(f"{where}{key} is a {type(value).__name__}, not an object")
    return value


def docker_counter(obj: dict[str, Any], key: str, where: str = "") -> int | float | None:
    """A Docker counter (None when absent): a number from 0 to 2**64-1. Anything else (a string, a negative
    number, NaN, 1e308) is a BadRecord naming the field, never a number passed on."""
    value = obj.get(key)
    if value is None:
        return None
    # NaN fails both comparisons, so it is refused with the rest.
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= DOCKER_COUNTER_MAX:
        raise BadRecord(f"{where}{key}={repr(value)[:40]} is not a count from 0 to 2**64-1")
    return value


def docker_cpu_vcpu(stats: dict[str, Any]) -> float:
    """vCPUs used between precpu_stats and cpu_stats: Docker's own formula (docker stats' CPU % / 100)."""
    cpu, pre = docker_section(stats, "cpu_stats"), docker_section(stats, "precpu_stats")
    usage = docker_section(cpu, "cpu_usage", "cpu_stats.")
    total = docker_counter(usage, "total_usage", "cpu_stats.cpu_usage.")
    if total is None:
        raise BadRecord("cpu_stats.cpu_usage.total_usage missing")
    pre_total = docker_counter(docker_section(pre, "cpu_usage", "precpu_stats."), "total_usage") or 0
    system = docker_counter(cpu, "system_cpu_usage", "cpu_stats.")
    pre_system = docker_counter(pre, "system_cpu_usage", "precpu_stats.") or 0
    percpu = usage.get("percpu_usage") or []
    if not isinstance(percpu, list):
        raise BadRecord("cpu_stats.cpu_usage.percpu_usage is not a list")
    online = docker_counter(cpu, "online_cpus", "cpu_stats.") or len(percpu) or 1
    if system is None:
        raise BadRecord("cpu_stats.system_cpu_usage missing")
    cpu_delta, system_delta = int(total) - int(pre_total), int(system) - int(pre_system)
    if system_delta <= 0 or cpu_delta <= 0:
        return 0.0  # no interval measured, or no CPU used in it (the refdata's delta-0 case)
    return cpu_delta / system_delta * float(online)


def docker_mem_bytes(stats: dict[str, Any]) -> float:
    """Memory in use without page cache, as `docker stats` shows it (cgroup v1 and v2)."""
    mem = docker_section(stats, "memory_stats")
    usage = docker_counter(mem, "usage", "memory_stats.")
    if usage is None:
        raise BadRecord("memory_stats.usage missing")
    inner = docker_section(mem, "stats", "memory_stats.")
    for key in ("total_inactive_file", "inactive_file"):
        v = docker_counter(inner, key, "memory_stats.stats.")
        if v is not None and v < usage:
            return float(usage - v)
    return float(usage)


def _docker_stats_json(obj: dict[str, Any], ctx: ReadContext, ts: datetime | None, out: _Collected) -> None:
    cid = str(obj.get("id") or "")
    if not cid:
        raise BadRecord("stats object without id")
    name = str(obj.get("name") or cid).lstrip("/")
    when = parse_ts(obj["read"]) if obj.get("read") else (ts or ctx.time)
    if when is None:
        raise BadRecord("stats object without read time")
    cpu = obj.get("cpu_stats") or {}
    online = cpu.get("online_cpus")
    # memory_stats.limit is a cap, not a reservation, and is uint64-max ("unlimited") on most hosts: not used.
    out.samples.append(
        Sample(
            timestamp=when, host_id=ctx.host_id, instance_type=ctx.instance_type, region=ctx.region,
            account=ctx.account, container_id=cid, container_name=name, service=None, cluster=ctx.cluster,
            cpu_reserved_vcpu=0.0, cpu_used_vcpu=docker_cpu_vcpu(obj), mem_reserved_gb=0.0,
            mem_used_gb=docker_mem_bytes(obj) / GIB, host_vcpu=float(online) if online else None,
        )
    )  # fmt: skip


def _ecs_task_metadata(obj: dict[str, Any], ctx: ReadContext, ts: datetime | None, out: _Collected) -> None:
    task_arn = str(obj.get("TaskARN") or "")
    region, account = _arn_parts(task_arn)
    region = region or region_of_az(obj.get("AvailabilityZone"))
    limits = obj.get("Limits") or {}
    task_vcpu = float(limits["CPU"]) if limits.get("CPU") else None
    task_mem = float(limits["Memory"]) * MIB / GIB if limits.get("Memory") else None
    launch = str(obj.get("LaunchType") or "EC2").upper()
    service = obj.get("ServiceName")
    group = str(obj.get("Group") or "")
    if not service and group.startswith("service:"):
        service = group.split(":", 1)[1]
    containers = [c for c in obj.get("Containers") or [] if isinstance(c, dict) and c.get("DockerId")]
    if not containers:
        raise BadRecord("task metadata without containers")
    own_cpu = [float((c.get("Limits") or {}).get("CPU") or 0) / ECS_CPU_UNITS_PER_VCPU for c in containers]
    own_mem = [float((c.get("Limits") or {}).get("Memory") or 0) * MIB / GIB for c in containers]
    # Task-level limits reserve capacity for the task as a whole; what the containers do not reserve
    # themselves is shared equally among them, so the task's reservation is neither lost nor counted twice.
    extra_cpu = max(0.0, (task_vcpu or 0.0) - sum(own_cpu)) / len(containers)
    extra_mem = max(0.0, (task_mem or 0.0) - sum(own_mem)) / len(containers)
    for c, cpu, mem in zip(containers, own_cpu, own_mem, strict=True):
        labels = {str(k): str(v) for k, v in (c.get("Labels") or {}).items()}
        out.infos[str(c["DockerId"])] = ContainerInfo(
            container_id=str(c["DockerId"]), name=str(c.get("Name") or c.get("DockerName") or c["DockerId"]),
            image=c.get("Image"), labels=labels, family=obj.get("Family"), ecs_service=service,
            cluster=cluster_name(obj.get("Cluster") or labels.get("com.amazonaws.ecs.cluster")),
            task_arn=task_arn, launch_type="FARGATE" if launch == "FARGATE" else "EC2", region=region,
            account=account, cpu_reserved_vcpu=cpu + extra_cpu, mem_reserved_gb=mem + extra_mem,
            task_vcpu=task_vcpu, task_mem_gb=task_mem,
        )  # fmt: skip


def _container_insights(obj: dict[str, Any], ctx: ReadContext, ts: datetime | None, out: _Collected) -> None:
    kind = str(obj.get("Type"))
    when = parse_ts(obj.get("Timestamp"))
    task_id = str(obj.get("TaskId") or "")
    cluster = cluster_name(obj.get("ClusterName")) or ctx.cluster
    launch = "FARGATE" if str(obj.get("LaunchType", "")).upper() == "FARGATE" else "EC2"
    host = obj.get("EC2InstanceId") or ctx.host_id
    if launch == "FARGATE":
        host = f"task/{cluster}/{task_id}" if task_id else None
    base = dict(
        timestamp=when, host_id=host, instance_type=obj.get("InstanceType") or ctx.instance_type,
        region=obj.get("Region") or ctx.region,
        account=str(obj.get("AccountId") or ctx.account or "") or None,
        service=obj.get("ServiceName") or None, cluster=cluster,
        cpu_reserved_vcpu=_num(obj, "CpuReserved", 0.0) / ECS_CPU_UNITS_PER_VCPU,
        cpu_used_vcpu=_num(obj, "CpuUtilized", 0.0) / ECS_CPU_UNITS_PER_VCPU,
        mem_reserved_gb=_num(obj, "MemoryReserved", 0.0) * MIB / GIB,
        mem_used_gb=_num(obj, "MemoryUtilized", 0.0) * MIB / GIB, launch_type=launch,
        task_family=obj.get("TaskDefinitionFamily"),
    )  # fmt: skip
    if kind == "Container":
        name = str(obj.get("ContainerName") or "")
        if not name:
            raise BadRecord("Container event without ContainerName")
        cid = f"{task_id}/{name}" if task_id else name
        out.samples.append(Sample(container_id=cid, container_name=name, **base))  # type: ignore[arg-type]
    else:  # Task
        if not task_id:
            raise BadRecord("Task event without TaskId")
        out.task_events.append(
            Sample(container_id=f"{task_id}/__task__", container_name=task_id, **base)  # type: ignore[arg-type]
        )


def _agent(obj: dict[str, Any], ctx: ReadContext, ts: datetime | None, out: _Collected) -> None:
    if obj.get("awscost") != AGENT_SCHEMA:
        raise BadRecord(f"unknown agent schema {obj.get('awscost')!r}")

    def opt(key: str) -> float | None:
        v = obj.get(key)
        return None if v is None else float(v)

    out.samples.append(
        Sample(
            timestamp=parse_ts(obj["timestamp"]), host_id=obj.get("host_id") or ctx.host_id,
            instance_type=obj.get("instance_type") or ctx.instance_type,
            region=obj.get("region") or ctx.region,
            account=obj.get("account") or ctx.account, container_id=str(obj["container_id"]),
            container_name=str(obj.get("container_name") or obj["container_id"]), service=obj.get("service"),
            cluster=obj.get("cluster") or ctx.cluster, cpu_reserved_vcpu=_num(obj, "cpu_reserved_vcpu", 0.0),
            cpu_used_vcpu=_num(obj, "cpu_used_vcpu"), mem_reserved_gb=_num(obj, "mem_reserved_gb", 0.0),
            mem_used_gb=_num(obj, "mem_used_gb"), launch_type=str(obj.get("launch_type") or "EC2"),
            host_vcpu=opt("host_vcpu"), host_mem_gb=opt("host_mem_gb"),
            labels={str(k): str(v) for k, v in (obj.get("labels") or {}).items()}, image=obj.get("image"),
        )
    )  # fmt: skip


Converter = Callable[[dict[str, Any], ReadContext, "datetime | None", _Collected], None]
Detector = Callable[[dict[str, Any]], bool]


@dataclass(frozen=True)
class ContainerFormat:
    """One container usage format: how to recognise one of its JSON objects, and how to convert it."""

    detect: Detector
    convert: Converter


# The one registry of formats, tried in this order on every JSON object.
FORMATS: Registry[ContainerFormat] = Registry("container usage format")
FORMATS.add("awscost-agent", ContainerFormat(lambda o: "awscost" in o, _agent))
FORMATS.add(
    "docker-stats-line", ContainerFormat(lambda o: "CPUPerc" in o and "MemUsage" in o, _docker_stats_line)
)
FORMATS.add(
    "docker-stats-json",
    ContainerFormat(lambda o: "cpu_stats" in o and "memory_stats" in o, _docker_stats_json),
)
FORMATS.add(
    "ecs-task-metadata", ContainerFormat(lambda o: "TaskARN" in o and "Containers" in o, _ecs_task_metadata)
)
FORMATS.add(
    "container-insights",
    ContainerFormat(
        lambda o: o.get("Type") in ("Container", "Task") and "Timestamp" in o, _container_insights
    ),
)


def _dispatch(value: Any, ctx: ReadContext, ts: datetime | None, out: _Collected) -> int:
    """Convert one JSON value (object, list, or a DockerId -> stats map); returns objects converted."""
    if isinstance(value, list):
        return sum(_dispatch(v, ctx, ts, out) for v in value)
    if not isinstance(value, dict):
        raise BadRecord(f"expected a JSON object, got {type(value).__name__}")
    if isinstance(value.get("events"), list):  # `aws logs filter-log-events` / get-log-events output
        return sum(_dispatch(e, ctx, ts, out) for e in value["events"])
    if isinstance(value.get("message"), str) and value["message"].lstrip().startswith("{"):
        try:
            inner = json.loads(value["message"])
        except json.JSONDecodeError:
            raise BadRecord("log event message is not JSON") from None
        return _dispatch(inner, ctx, ts, out)
    for fmt in FORMATS.values():
        if fmt.detect(value):
            try:
                fmt.convert(value, ctx, ts, out)
            except (KeyError, TypeError, ValueError) as exc:
                if isinstance(exc, BadRecord):
                    raise
                raise BadRecord(f"{type(exc).__name__}: {exc}") from None
            return 1
    # The ECS /task/stats shape: every value a stats object keyed by its DockerId.
    if value and all(isinstance(v, dict) and "cpu_stats" in v for v in value.values()):
        return sum(_dispatch(v, ctx, ts, out) for v in value.values())
    keys = ", ".join(sorted(value)[:6])
    raise BadRecord(f"unrecognised record (keys: {keys})")


_TS_PREFIX = re.compile(r"^(\S+)\s+([\[{].*)$")


def _split_prefix(line: str) -> tuple[datetime | None, str]:
    """`2026-11-26T10:00:00Z {...}` -> (time, json text); other lines unchanged."""
    if line.startswith(("{", "[")):
        return None, line
    m = _TS_PREFIX.match(line)
    if not m:
        return None, line
    try:
        return parse_ts(m.group(1)), m.group(2)
    except BadRecord:
        return None, line


def _open_text(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace")
    return path.open("r", encoding="utf-8", errors="replace")


FLUSH_EVERY = 4096


def _context_line(line: str) -> bool:
    """Cheap test for the records the first pass needs (ECS task metadata, Container Insights Task events)."""
    return "TaskARN" in line or '"Task"' in line


def _read_file(
    path: Path,
    ctx: ReadContext,
    out: _Collected,
    malformed: list[Malformed],
    prefilter: Callable[[str], bool] | None = None,
) -> Iterator[None]:
    """Read one file into `out`, yielding every FLUSH_EVERY samples so the caller can drain them (streaming).

    With `prefilter`, JSON lines failing it are skipped unparsed (the first pass reads only context records).
    """
    name = str(path)
    try:
        fh = _open_text(path)
    except OSError as exc:
        malformed.append(Malformed(name, 0, f"cannot read: {exc.strerror}"))
        return
    with fh:
        first = fh.readline()
        while first and not first.strip():
            first = fh.readline()
        _, first_json = _split_prefix(first.strip())
        whole = False
        if first_json.startswith(("{", "[")):
            try:
                json.loads(first_json)
            except json.JSONDecodeError:
                whole = True  # an opening brace alone on its line: a pretty-printed document
        whole_error: Malformed | None = None
        if whole:
            text = first + fh.read()
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                # Either a broken document or JSON lines whose first line is cut: try the lines, and keep
                # this one error if no line is usable either.
                whole_error = Malformed(name, exc.lineno, f"not JSON: {exc.msg}")
            else:
                try:
                    _dispatch(value, ctx, None, out)
                except BadRecord as exc:
                    malformed.append(Malformed(name, 1, str(exc)))
                yield
                return
        fh.seek(0)
        mark, converted = len(malformed), 0
        for lineno, raw in enumerate(fh, start=1):
            line = raw.strip()
            if not line or (prefilter is not None and not prefilter(line)):
                continue
            ts, text = _split_prefix(line)
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                malformed.append(Malformed(name, lineno, f"not JSON: {exc.msg}"))
                continue
            try:
                _dispatch(value, ctx, ts, out)
                converted += 1
            except BadRecord as exc:
                malformed.append(Malformed(name, lineno, str(exc)))
            if len(out.samples) >= FLUSH_EVERY:
                yield
        if whole_error is not None and not converted:
            del malformed[mark:]
            malformed.append(whole_error)
        yield


def _apply_info(s: Sample, info: ContainerInfo) -> Sample:
    fargate = info.launch_type == "FARGATE"
    return replace(
        s,
        container_name=info.name,
        service=s.service or info.ecs_service,
        task_family=info.family,
        cluster=info.cluster or s.cluster,
        cpu_reserved_vcpu=max(s.cpu_reserved_vcpu, info.cpu_reserved_vcpu),
        mem_reserved_gb=max(s.mem_reserved_gb, info.mem_reserved_gb),
        launch_type=info.launch_type,
        region=info.region or s.region,
        account=info.account or s.account,
        # A Fargate task is its own billed host, sized by the task limits.
        host_id=info.task_arn if fargate else s.host_id,
        instance_type=None if fargate else s.instance_type,
        host_vcpu=info.task_vcpu if fargate else s.host_vcpu,
        host_mem_gb=info.task_mem_gb if fargate else s.host_mem_gb,
        labels=info.labels or s.labels,
        image=info.image or s.image,
    )


def iter_samples(
    paths: Iterable[str | Path],
    ctx: ReadContext | None = None,
    namer: ServiceNamer | None = None,
    result: ReadResult | None = None,
) -> Iterator[Sample]:
    """Stream finished samples (joined to ECS metadata, service named) from every input; memory stays bounded.

    Two passes: the first reads only the context records (ECS task metadata, Container Insights Task events),
    which every sample may need and which are small; the second streams the samples. Malformed lines go to
    `result.malformed`, file and sample counts to `result.files` / `result.rows` / `result.hosts`.
    """
    ctx = ctx or ReadContext()
    namer = namer or ServiceNamer()
    result = result if result is not None else ReadResult()
    files = [Path(p) for p in paths]
    pre = _Collected()
    for path in files:
        for _ in _read_file(path, ctx, pre, [], prefilter=_context_line):
            pre.samples.clear()
    infos = pre.infos
    # Container Insights: a Task event is the sum of its containers, so it is used only for tasks that have no
    # Container events (no double counting); for Fargate it also gives the task size (the host's capacity).
    task_size = {
        t.host_id: (t.cpu_reserved_vcpu, t.mem_reserved_gb)
        for t in pre.task_events
        if t.launch_type == "FARGATE" and t.host_id
    }
    with_containers: set[str] = set()

    def finish(s: Sample) -> Sample:
        info = infos.get(s.container_id)
        if info is not None:
            s = _apply_info(s, info)
        if s.launch_type == "FARGATE" and s.host_vcpu is None and s.host_id in task_size:
            s.host_vcpu, s.host_mem_gb = task_size[s.host_id]
        s.service = namer.name(
            container_name=s.container_name, image=s.image, labels=s.labels, ecs_service=s.service,
            family=s.task_family,
        )  # fmt: skip
        result.rows += 1
        if s.host_id:
            result.hosts.add(s.host_id)
        return s

    out = _Collected()
    for path in files:
        result.files += 1
        source, events = str(path), len(out.task_events)
        for _ in _read_file(path, ctx, out, result.malformed):
            for s in out.samples:
                s.source_file = source
                if "/" in s.container_id:
                    with_containers.add(s.container_id.split("/", 1)[0])
                yield finish(s)
            out.samples.clear()
        for t in out.task_events[events:]:
            t.source_file = source
        out.infos.clear()
    for t in out.task_events:
        if t.container_id.split("/", 1)[0] not in with_containers:
            yield finish(t)


def read_inputs(
    paths: Iterable[str | Path],
    ctx: ReadContext | None = None,
    namer: ServiceNamer | None = None,
) -> ReadResult:
    """Read inputs into memory: ECS metadata joined to stats, services named. Malformed lines collected."""
    result = ReadResult()
    result.samples = list(iter_samples(paths, ctx, namer, result))
    return result


def write_parquet(
    paths: Iterable[str | Path],
    target_dir: str | Path,
    ctx: ReadContext | None = None,
    namer: ServiceNamer | None = None,
    batch_rows: int = 65536,
    *,
    fast: bool = True,
) -> ReadResult:
    """Stream the normalized samples of `paths` to Parquet files in `target_dir` (bounded memory); samples are
    not kept. Clean agent files take the DuckDB fast path (`fastpath.py`); every other file, and any agent
    file with a bad line, goes through the line-by-line reader. Read the result with `target_dir/*.parquet`.
    """
    import pyarrow.parquet as pq

    from awscost.containers.fastpath import agent_file_to_parquet, is_agent_file
    from awscost.containers.samples import arrow_schema, to_arrow

    ctx = ctx or ReadContext()
    namer = namer or ServiceNamer()
    out_dir = Path(target_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    result = ReadResult()
    slow: list[Path] = []
    for i, path in enumerate(Path(p) for p in paths):
        done = (
            agent_file_to_parquet(path, out_dir / f"agent-{i}.parquet", ctx, namer)
            if fast and is_agent_file(path)
            else None
        )
        if done is None:
            slow.append(path)
            continue
        result.files += 1
        result.rows += done[0]
        result.hosts |= done[1]
    if slow or not result.files:
        batch: list[Sample] = []
        with pq.ParquetWriter(str(out_dir / "samples.parquet"), arrow_schema()) as writer:
            for s in iter_samples(slow, ctx, namer, result):
                batch.append(s)
                if len(batch) >= batch_rows:
                    writer.write_table(to_arrow(batch))
                    batch.clear()
            writer.write_table(to_arrow(batch))
    return result
