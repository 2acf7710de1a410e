"""The snapshot agent: one JSON line per running container, with the host's identity, for plain Docker hosts.

Run from cron (`* * * * * awscost containers snapshot --out /var/log/awscost/containers.jsonl`) or as an ECS
daemon task with /var/run/docker.sock mounted. Standard library only: the Docker Engine API is HTTP over the
unix socket, the host identity comes from IMDSv2 (token PUT, then the instance identity document).

Reservations: ECS on EC2 runs each container with CpuShares = its CPU units and MemoryReservation / Memory
from the task definition, so for containers with ECS labels those are read back as reservations. Plain Docker
containers reserve only an explicit `--memory-reservation`; `--cpus` and `--memory` are caps, not
reservations.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from awscost.containers.readers import AGENT_SCHEMA, BadRecord, docker_cpu_vcpu, docker_mem_bytes, parse_ts
from awscost.containers.samples import ECS_CPU_UNITS_PER_VCPU, GIB
from awscost.core.errors import AwsAccessError, InputError

DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock"
DEFAULT_IMDS = "http://169.254.169.254"
ECS_LABEL_PREFIX = "com.amazonaws.ecs."


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
        finally:
            conn.close()
        if resp.status != 200:
            raise AwsAccessError(f"Docker API GET {path} answered {resp.status}", where=self.socket_path)
        try:
            return json.loads(body)
        except ValueError:
            raise AwsAccessError(
                f"Docker API GET {path} did not answer JSON", where=self.socket_path
            ) from None

    def containers(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.get("/containers/json")
        return result

    def stats(self, container_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.get(f"/containers/{quote(container_id)}/stats?stream=false")
        return result

    def inspect(self, container_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.get(f"/containers/{quote(container_id)}/json")
        return result

    def info(self) -> dict[str, Any]:
        result: dict[str, Any] = self.get("/info")
        return result


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
            doc: dict[str, Any] = json.loads(resp.read())
    except (OSError, ValueError) as exc:
        raise AwsAccessError(
            f"instance metadata (IMDSv2) not reachable: {exc}",
            where=base,
            hint="run on EC2, or give --host-id/--instance-type/--region/--account",
        ) from None
    return doc


def _reservations(labels: dict[str, str], host_config: dict[str, Any]) -> tuple[float, float]:
    ecs = any(k.startswith(ECS_LABEL_PREFIX) for k in labels)
    mem = host_config.get("MemoryReservation") or (host_config.get("Memory") if ecs else 0) or 0
    # Docker's default CpuShares is 0 (=1024 relative weight); only ECS gives shares the meaning of CPU units.
    shares = host_config.get("CpuShares") or 0
    cpu = shares / ECS_CPU_UNITS_PER_VCPU if ecs and shares > 2 else 0.0
    return float(cpu), float(mem) / GIB


def snapshot(
    docker: DockerClient,
    identity: dict[str, Any],
    *,
    label: str | None = None,
    now: datetime | None = None,
) -> Iterator[dict[str, Any]]:
    """One agent record per running container (the awscost-agent line format)."""
    # One time for the whole run, not each container's stats read time: the stats calls are sequential (about
    # a second each with stream=false), and one run must stay one sampling round for the allocation.
    when = now or datetime.now(UTC)
    info = docker.info()
    host_vcpu = float(info["NCPU"]) if info.get("NCPU") else None
    host_mem = float(info["MemTotal"]) / GIB if info.get("MemTotal") else None
    for c in docker.containers():
        cid = str(c.get("Id") or "")
        if not cid:
            continue
        labels = {str(k): str(v) for k, v in (c.get("Labels") or {}).items()}
        names = c.get("Names") or []
        name = str(names[0]).lstrip("/") if names else cid[:12]
        stats = docker.stats(cid)
        try:
            if stats.get("read"):
                parse_ts(stats["read"])  # Docker's zero time: the container stopped meanwhile
            cpu_used, mem_used = docker_cpu_vcpu(stats), docker_mem_bytes(stats) / GIB
        except BadRecord:
            continue  # a container that stopped between the list and the stats call has empty stats
        cpu_res, mem_res = _reservations(labels, (docker.inspect(cid).get("HostConfig") or {}))
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
            "mem_used_gb": mem_used,
            "launch_type": "EC2",
            "host_vcpu": host_vcpu,
            "host_mem_gb": host_mem,
            "image": c.get("Image"),
            "labels": labels,
        }


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
