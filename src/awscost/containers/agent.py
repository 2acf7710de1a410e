"""The snapshot agent: one JSON line per running container, with the host's identity, for plain Docker hosts.

Run from cron (`* * * * * awscost containers snapshot --out /var/log/awscost/containers.jsonl`) or as an ECS
daemon task with /var/run/docker.sock mounted. Standard library only: the Docker Engine API is HTTP over the
unix socket, the host identity comes from IMDSv2 (token PUT, then the instance identity document).

Reservations: ECS on EC2 runs each container with CpuShares = its CPU units and MemoryReservation / Memory
from the task definition, so for containers with ECS labels those are read back as reservations. Plain Docker
containers reserve only an explicit `--memory-reservation`; `--cpus` and `--memory` are caps, not
reservations.

Faults: an answer about the host (`/info`, the container list) that is not what the Engine API documents is an
error (exit 4, one line) — no sample is better than samples on a wrong capacity. An answer about one container
that is unusable (it was removed between the list and the stats call: 404; a field of the wrong type; a count
that is negative, NaN or beyond the host) skips that container with a warning naming it; the others are
written and the exit code stays 0. A container id goes into a request path only when it is a Docker id or
name (`[a-zA-Z0-9][a-zA-Z0-9_.-]*`, which 64 hex digits are), and then quoted as one path segment.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import urllib.request
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from awscost.containers.readers import (
    AGENT_SCHEMA,
    BadRecord,
    docker_counter,
    docker_cpu_vcpu,
    docker_mem_bytes,
    docker_section,
    parse_ts,
)
from awscost.containers.samples import ECS_CPU_UNITS_PER_VCPU, GIB
from awscost.core.errors import AwsAccessError, AwsCostWarning, InputError

DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock"
DEFAULT_IMDS = "http://169.254.169.254"
ECS_LABEL_PREFIX = "com.amazonaws.ecs."
# Docker's container names (its own validation rule); its ids (64 hex digits) match it too.
CONTAINER_REF = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
MAX_CPU_SHARES = 262144  # the kernel's (and Docker's) upper bound for cpu.shares
# Docker's CPU formula reads the container's and the host's counters a moment apart, so a busy container can
# come out a little above the host's CPUs: up to this factor it is that jitter (capped at the host), beyond it
# the answer is wrong.
CPU_JITTER = 1.05


class DockerNotFound(AwsAccessError):
    """Docker answered 404: the container was removed (or the path does not exist)."""


class DockerBadAnswer(AwsAccessError):
    """Docker answered something that is not the JSON the Engine API documents for the call."""


class _Skip(Exception):
    """One container's answer is unusable: skip it with a warning (the reason in the message)."""


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


class DockerClient:
    """The few Docker Engine API calls the agent needs, over the unix socket."""

    def __init__(self, socket_path: str = DEFAULT_DOCKER_SOCKET, timeout: float = 10.0) -> None:
        self.socket_path = socket_path
        self.timeout = timeout

    def get(self, path: str) -> Any:
        conn = _UnixHTTPConnection(self.socket_path, self.timeout)
        try:
            conn.request("GET", path, headers={"Host": "docker"})
            resp = conn.getresponse()
            body = resp.read()
        except OSError as exc:
            raise AwsAccessError(
                f"cannot reach the Docker engine: {exc}",
                where=self.socket_path,
                hint="run on the Docker host with access to the socket, or pass --docker-socket",
            ) from None
        except http.client.HTTPException as exc:  # not HTTP, or cut short
            raise AwsAccessError(
                f"Docker API GET {path} did not answer HTTP ({type(exc).__name__})", where=self.socket_path
            ) from None
        finally:
            conn.close()
        if resp.status == 404:
            raise DockerNotFound(f"Docker API GET {path} answered 404", where=self.socket_path)
        if resp.status != 200:
            raise AwsAccessError(f"Docker API GET {path} answered {resp.status}", where=self.socket_path)
        try:
            return json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than Python's stack
            raise DockerBadAnswer(
                f"Docker API GET {path} did not answer JSON", where=self.socket_path
            ) from None

    def _get_object(self, path: str) -> dict[str, Any]:
        result = self.get(path)
        if not isinstance(result, dict):
            raise DockerBadAnswer(
                f"Docker API GET {path} answered a JSON {type(result).__name__}, not an object",
                where=self.socket_path,
            )
        return result

    def containers(self) -> list[Any]:
        """The running containers; each entry is checked by the snapshot (an odd one is skipped, not fatal)."""
        result = self.get("/containers/json")
        if not isinstance(result, list):
            raise DockerBadAnswer(
                f"Docker API GET /containers/json answered a JSON {type(result).__name__}, not a list",
                where=self.socket_path,
            )
        return result

    def stats(self, container_id: str) -> dict[str, Any]:
        return self._get_object(f"/containers/{container_segment(container_id)}/stats?stream=false")

    def inspect(self, container_id: str) -> dict[str, Any]:
        return self._get_object(f"/containers/{container_segment(container_id)}/json")

    def info(self) -> dict[str, Any]:
        return self._get_object("/info")


def container_segment(container_id: str) -> str:
    """A container id or name as one URL path segment. Only Docker ids and names are accepted: anything else
    (`../../info?x=`) could address another endpoint of the Engine API, so it is refused, never sent."""
    if not isinstance(container_id, str) or not CONTAINER_REF.fullmatch(container_id):
        raise InputError(f"container id {container_id!r} is not a Docker id or name", where="Docker API")
    return quote(container_id, safe="")


def instance_identity(endpoint: str | None = None, timeout: float = 2.0) -> dict[str, Any]:
    """The EC2 instance identity document through IMDSv2. Endpoint: argument, else the standard
    AWS_EC2_METADATA_SERVICE_ENDPOINT variable, else 169.254.169.254."""
    base = (endpoint or os.environ.get("AWS_EC2_METADATA_SERVICE_ENDPOINT") or DEFAULT_IMDS).rstrip("/")
    try:
        token_req = urllib.request.Request(
            f"{base}/latest/api/token", method="PUT", headers={"X-aws-ec2-metadata-token-ttl-seconds": "300"}
        )
        with urllib.request.urlopen(token_req, timeout=timeout) as resp:
            token = resp.read().decode()
        doc_req = urllib.request.Request(
            f"{base}/latest/dynamic/instance-identity/document", headers={"X-aws-ec2-metadata-token": token}
        )
        with urllib.request.urlopen(doc_req, timeout=timeout) as resp:
            doc = json.loads(resp.read())
    except (OSError, ValueError, RecursionError, http.client.HTTPException) as exc:
        raise AwsAccessError(
            f"instance metadata (IMDSv2) not reachable: {exc}",
            where=base,
            hint="run on EC2, or give --host-id/--instance-type/--region/--account",
        ) from None
    if not isinstance(doc, dict):
        raise AwsAccessError(
            f"instance identity document is a JSON {type(doc).__name__}, not an object", where=base
        )
    return doc


def _shown(text: str) -> str:
    """A container reference for a warning line: as is when it is a Docker id or name, else quoted (a name
    from the API could hold a newline or a terminal escape)."""
    return text if len(text) <= 128 and CONTAINER_REF.fullmatch(text) else repr(text[:80])


def _host_capacity(info: dict[str, Any], where: str) -> tuple[float | None, float | None]:
    """(vCPUs, GiB) of the host from `/info`; absent is unknown, any other odd value is an error."""

    def bad(key: str) -> DockerBadAnswer:
        return DockerBadAnswer(f"Docker API GET /info answered {key}={info[key]!r}, not a count", where=where)

    try:
        ncpu = docker_counter(info, "NCPU")
    except BadRecord:
        raise bad("NCPU") from None
    try:
        mem = docker_counter(info, "MemTotal")
    except BadRecord:
        raise bad("MemTotal") from None
    return (float(ncpu) if ncpu else None), (float(mem) / GIB if mem else None)


def _reservations(labels: dict[str, str], host_config: dict[str, Any]) -> tuple[float, float]:
    ecs = any(k.startswith(ECS_LABEL_PREFIX) for k in labels)
    try:
        reservation = docker_counter(host_config, "MemoryReservation", "HostConfig.")
        limit = docker_counter(host_config, "Memory", "HostConfig.")
        # Docker's default CpuShares is 0 (=1024 relative weight); only ECS gives shares the meaning of CPU units.
        shares = docker_counter(host_config, "CpuShares", "HostConfig.") or 0
    except BadRecord as exc:
        raise _Skip(str(exc)) from None
    if shares > MAX_CPU_SHARES:
        raise _Skip(f"HostConfig.CpuShares={shares!r} is above the kernel's {MAX_CPU_SHARES}")
    mem = reservation or (limit if ecs else 0) or 0
    cpu = shares / ECS_CPU_UNITS_PER_VCPU if ecs and shares > 2 else 0.0
    return float(cpu), float(mem) / GIB


def _labels(entry: dict[str, Any]) -> dict[str, str]:
    raw = entry.get("Labels")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _Skip(f"Labels is a {type(raw).__name__}, not an object")
    return {str(k): str(v) for k, v in raw.items()}


def _name(entry: dict[str, Any], cid: str) -> str:
    names = entry.get("Names")
    if isinstance(names, str):
        names = [names]
    first = names[0] if isinstance(names, list) and names else None
    return str(first).lstrip("/") if first else cid[:12]


def _usage(stats: dict[str, Any]) -> tuple[float, float, float | None] | None:
    """(vCPU, GiB used, the CPUs the stats count) or None when the stats are those of a container that stopped
    meanwhile (empty, or Docker's zero read time)."""
    read = stats.get("read")
    if (not stats.get("memory_stats") and not stats.get("cpu_stats")) or (
        isinstance(read, str) and read.startswith("0001-01-01")
    ):
        return None
    try:
        if read:
            parse_ts(read)
        online = docker_counter(docker_section(stats, "cpu_stats"), "online_cpus", "cpu_stats.")
        return docker_cpu_vcpu(stats), docker_mem_bytes(stats) / GIB, float(online) if online else None
    except BadRecord as exc:
        raise _Skip(str(exc)) from None


def _bounded(
    cpu_used: float,
    mem_used: float,
    cpu_res: float,
    mem_res: float,
    host_vcpu: float | None,
    host_mem: float | None,
) -> float:
    """The container's CPU used, after checking each figure against the host (its CPUs: `/info`, else those
    the stats count); raises _Skip beyond it. No container uses or reserves more than its host has."""
    if host_vcpu is not None:
        if cpu_used > host_vcpu * CPU_JITTER:
            raise _Skip(f"CPU used {cpu_used:.6g} vCPU is more than the host's {host_vcpu:g}")
        if cpu_res > host_vcpu:
            raise _Skip(f"CPU reserved {cpu_res:.6g} vCPU is more than the host's {host_vcpu:g}")
        cpu_used = min(cpu_used, host_vcpu)
    if host_mem is not None:
        for what, value in (("memory used", mem_used), ("memory reserved", mem_res)):
            if value > host_mem:
                raise _Skip(f"{what} {value:.6g} GiB is more than the host's {host_mem:.6g} GiB")
    return cpu_used


def snapshot(
    docker: DockerClient,
    identity: dict[str, Any],
    *,
    label: str | None = None,
    now: datetime | None = None,
) -> Iterator[dict[str, Any]]:
    """One agent record per running container (the awscost-agent line format). A container whose answers are
    unusable is skipped with an `AwsCostWarning` naming it; a bad answer about the host raises."""
    # One time for the whole run, not each container's stats read time: the stats calls are sequential (about
    # a second each with stream=false), and one run must stay one sampling round for the allocation.
    when = now or datetime.now(UTC)
    host_vcpu, host_mem = _host_capacity(docker.info(), docker.socket_path)
    for i, entry in enumerate(docker.containers()):
        if not isinstance(entry, dict):
            _warn(f"container list entry {i + 1} is a JSON {type(entry).__name__}, not an object: skipped")
            continue
        raw_id = entry.get("Id")
        if not isinstance(raw_id, str) or not CONTAINER_REF.fullmatch(raw_id):
            _warn(f"container list entry {i + 1}: Id {repr(raw_id)[:80]} is not a Docker id or name: skipped")
            continue
        cid = raw_id
        name = _name(entry, cid)
        try:
            labels = _labels(entry)
            usage = _usage(docker.stats(cid))
            if usage is None:
                _warn(f"container {_shown(name)} ({cid[:12]}) stopped before its stats were read: skipped")
                continue
            host_config = docker.inspect(cid).get("HostConfig") or {}
            if not isinstance(host_config, dict):
                raise _Skip(f"HostConfig is a {type(host_config).__name__}, not an object")
            cpu_res, mem_res = _reservations(labels, host_config)
            cpu_used = _bounded(usage[0], usage[1], cpu_res, mem_res, host_vcpu or usage[2], host_mem)
        except DockerNotFound:
            _warn(f"container {_shown(name)} ({cid[:12]}) was removed before its stats were read: skipped")
            continue
        except DockerBadAnswer as exc:
            _warn(f"container {_shown(name)} ({cid[:12]}): {exc.message}: skipped")
            continue
        except _Skip as exc:
            _warn(f"container {_shown(name)} ({cid[:12]}): {exc}: skipped")
            continue
        image = entry.get("Image")
        yield {
            "awscost": AGENT_SCHEMA,
            "timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "host_id": identity.get("instanceId"),
            "instance_type": identity.get("instanceType"),
            "region": identity.get("region"),
            "account": identity.get("accountId"),
            "container_id": cid,
            "container_name": name,
            "service": labels.get(label) if label else None,
            "cluster": labels.get("com.amazonaws.ecs.cluster", "").rsplit("/", 1)[-1] or None,
            "cpu_reserved_vcpu": cpu_res,
            "cpu_used_vcpu": cpu_used,
            "mem_reserved_gb": mem_res,
            "mem_used_gb": usage[1],
            "launch_type": "EC2",
            "host_vcpu": host_vcpu,
            "host_mem_gb": host_mem,
            "image": str(image) if image is not None else None,
            "labels": labels,
        }


def _warn(message: str) -> None:
    warnings.warn(message, AwsCostWarning, stacklevel=3)


def identity_from_options(
    host_id: str | None, instance_type: str | None, region: str | None, account: str | None, imds: str | None
) -> dict[str, Any]:
    """IMDS identity, with any given option taking precedence; IMDS is skipped when all four are given."""
    given = {"instanceId": host_id, "instanceType": instance_type, "region": region, "accountId": account}
    if all(given.values()):
        return dict(given)
    doc = instance_identity(imds)
    doc.update({k: v for k, v in given.items() if v})
    if not doc.get("instanceId"):
        raise InputError("instance identity has no instanceId", where=imds or DEFAULT_IMDS)
    return doc
