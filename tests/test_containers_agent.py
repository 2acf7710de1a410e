"""The snapshot agent against a real unix-socket HTTP server serving Docker-API responses (built from the
refdata stats) and a local IMDSv2 server; the agent's lines then read back and allocate."""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import click
import pytest
from click.testing import CliRunner

from awscost.containers import read_inputs
from awscost.containers.agent import DockerClient, instance_identity, snapshot
from awscost.containers.allocation import allocate, price_table, summarize
from awscost.core.errors import AwsAccessError
from awscost.entrypoints.cli import cli
from conftest import refdata

TOKEN = "AQAEAtoken=="
IDENTITY = {
    "accountId": "111222333444",
    "architecture": "x86_64",
    "availabilityZone": "eu-west-1b",
    "imageId": "ami-0abcdef1234567890",
    "instanceId": "i-0123456789abcdef0",
    "instanceType": "m5.large",
    "pendingTime": "2026-05-14T17:50:00Z",
    "privateIp": "10.0.1.23",
    "region": "eu-west-1",
    "version": "2017-09-30",
}


def docker_responses() -> dict[str, Any]:
    tasks = json.loads(refdata("otel-awsecscontainermetrics/instance_tasks_metadata.json").read_text())
    stats = json.loads(refdata("otel-awsecscontainermetrics/instance_tasks_stats.json").read_text())
    by_id = {k: v for d in stats for k, v in d.items()}
    listing, routes = [], {"/info": {"NCPU": 2, "MemTotal": 8 * 1024**3, "OSType": "linux"}}
    for task in tasks:
        for c in task["Containers"]:
            cid = c["DockerId"]
            listing.append(
                {
                    "Id": cid,
                    "Names": ["/" + c["DockerName"]],
                    "Image": c["Image"],
                    "Labels": c["Labels"],
                    "State": "running",
                }
            )
            routes[f"/containers/{cid}/stats?stream=false"] = by_id[cid]
            # ECS sets CpuShares to the task's CPU units and Memory to its hard limit.
            cpu_units = int(task["Limits"]["CPU"] * 1024)
            routes[f"/containers/{cid}/json"] = {
                "Id": cid,
                "HostConfig": {
                    "CpuShares": cpu_units,
                    "Memory": task["Limits"]["Memory"] * 1024**2,
                    "MemoryReservation": 0,
                },
            }
    routes["/containers/json"] = listing
    return routes


class _DockerHandler(BaseHTTPRequestHandler):
    """The Docker Engine API stand-in: `routes` maps a request path to its JSON answer (absent: 404), and
    every path requested is recorded in `seen`."""

    routes: ClassVar[dict[str, Any]] = {}
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        body = self.routes.get(self.path)
        self.send_response(200 if body is not None else 404)
        payload = json.dumps(body if body is not None else {"message": "no such path"}).encode()
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def address_string(self) -> str:  # a unix socket has no (host, port)
        return "unix"

    def log_message(self, *args: Any) -> None:
        pass


class _UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


@pytest.fixture()
def docker_socket(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # AF_UNIX paths are limited to ~107 bytes: keep it short.
    path = str(tmp_path_factory.mktemp("d") / "docker.sock")
    handler = type("H", (_DockerHandler,), {"routes": docker_responses(), "seen": []})
    server = _UnixHTTPServer(path, handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield path
    server.shutdown()
    server.server_close()


class _ImdsHandler(BaseHTTPRequestHandler):
    def do_PUT(self) -> None:
        if self.path != "/latest/api/token" or not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            self.send_error(400)
            return
        self._send(TOKEN.encode(), "text/plain")

    def do_GET(self) -> None:
        if self.headers.get("X-aws-ec2-metadata-token") != TOKEN:
            self.send_error(401)  # IMDSv2 only: no token, no answer
            return
        if self.path != "/latest/dynamic/instance-identity/document":
            self.send_error(404)
            return
        self._send(json.dumps(IDENTITY).encode(), "application/json")

    def _send(self, body: bytes, ctype: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def imds() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _ImdsHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_snapshot_records(docker_socket: str, imds: str) -> None:
    identity = instance_identity(imds)
    assert identity["instanceId"] == "i-0123456789abcdef0"
    records = list(
        snapshot(DockerClient(docker_socket), identity, label="com.amazonaws.ecs.task-definition-family")
    )
    assert [r["container_name"] for r in records] == ["monitor-agent", "nginx-proxy"]
    mon = records[0]
    assert mon["host_id"] == "i-0123456789abcdef0" and mon["instance_type"] == "m5.large"
    assert (mon["region"], mon["account"], mon["cluster"]) == ("eu-west-1", "111222333444", "mi-cluster")
    assert mon["service"] == "daemon-app-monitor"  # from the --label given
    assert mon["cpu_reserved_vcpu"] == 0.25 and mon["mem_reserved_gb"] == 0.5
    assert mon["cpu_used_vcpu"] == pytest.approx(4206000 / 19890000000 * 2)
    assert (mon["host_vcpu"], mon["host_mem_gb"]) == (2.0, 8.0)
    # One time per run (when given: `now`), so all containers of a run are one sampling round.
    again = list(
        snapshot(DockerClient(docker_socket), identity, now=datetime(2026, 5, 15, 9, 58, tzinfo=UTC))
    )
    assert {r["timestamp"] for r in again} == {"2026-05-15T09:58:00.000000Z"}


def test_snapshot_command_appends_lines_that_allocate(
    docker_socket: str, imds: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "containers.jsonl"
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds)
    runner = CliRunner()
    for _ in range(2):
        res = runner.invoke(
            cli, ["containers", "snapshot", "--out", str(out), "--docker-socket", docker_socket]
        )
        assert res.exit_code == 0, res.output
    lines = out.read_text().splitlines()
    assert len(lines) == 4  # appended, not overwritten
    result = read_inputs([out])
    assert result.malformed == [] and len(result.samples) == 4
    # The same stats read twice are the same tick: counted once.
    a = allocate(result.samples, price=price_table({("m5.large", "eu-west-1"): Decimal("0.107")}))
    rows = {r["service"]: r for r in summarize(a, granularity="hour")}
    # Docker labels carry the task family, not the ECS service name.
    assert set(rows) == {"web-frontend", "daemon-app-monitor", "__idle__"}
    # One minute observed: $0.107 / 60, all of it accounted for.
    assert sum(r["total_cost"] for r in rows.values()) == Decimal("0.00178333")


def test_snapshot_errors_are_one_line(tmp_path: Path, imds: str) -> None:
    with pytest.raises(AwsAccessError, match="cannot reach the Docker engine"):
        DockerClient(str(tmp_path / "nope.sock")).containers()
    with pytest.raises(AwsAccessError, match="IMDSv2"):
        instance_identity("http://127.0.0.1:9", timeout=0.5)


def test_snapshot_command_errors(docker_socket: str, imds: str, tmp_path: Path) -> None:
    from awscost.entrypoints.cli import main

    @click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
    @click.pass_context
    def entry(ctx: click.Context) -> None:
        main(list(ctx.args))

    base = ["containers", "snapshot", "--docker-socket", docker_socket, "--imds-endpoint", imds]
    res = CliRunner().invoke(entry, [*base, "--out", str(tmp_path / "missing-dir" / "x.jsonl")])
    assert res.exit_code == 2 and "cannot append" in res.stderr and "Traceback" not in res.stderr
    res = CliRunner().invoke(
        entry,
        [
            "containers",
            "snapshot",
            "--docker-socket",
            str(tmp_path / "no.sock"),
            "--host-id",
            "i-1",
            "--instance-type",
            "m5.large",
            "--region",
            "us-east-1",
            "--account",
            "111122223333",
        ],
    )
    assert res.exit_code == 4 and "cannot reach the Docker engine" in res.stderr
    # To standard output when no --out: one JSON line per container.
    res = CliRunner().invoke(entry, base)
    assert res.exit_code == 0 and len(res.stdout.splitlines()) == 2
