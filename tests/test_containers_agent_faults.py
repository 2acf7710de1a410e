"""The snapshot agent under faulty Docker answers (issue 11, the probes' "Container snapshot agent" rows).

The Docker Engine API is the fake of test_containers_agent (a real HTTP server on a real unix socket, a
stand-in for the Docker daemon), here answering a synthetic three-container host so the rows need no refdata.
Each defect row has its case: a bad answer about the host is one error line (exit 4, nothing written); a bad
answer about one container skips it with a warning naming it and keeps the others (exit 0); a hostile id is
never put in a request path. The property test throws arbitrary JSON into any field of any answer.
"""

from __future__ import annotations

import copy
import json
import math
import re
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from awscost.containers.agent import CONTAINER_REF, DockerClient, container_segment, snapshot
from awscost.containers.samples import GIB
from awscost.core.errors import AwsAccessError, AwsCostError, AwsCostWarning, InputError
from test_containers_agent import _DockerHandler, _UnixHTTPServer

IDS = [c * 64 for c in "abc"]  # Docker ids: 64 hex digits
HOST = {"NCPU": 2, "MemTotal": 8 * GIB}
IDENTITY = {
    "instanceId": "i-0123456789abcdef0",
    "instanceType": "m5.large",
    "region": "eu-west-1",
    "accountId": "111122223333",
}
# Every path the agent may request: the host's two, and a container's two under a Docker id or name.
SAFE_PATH = re.compile(
    r"/info|/containers/json|/containers/[a-zA-Z0-9][a-zA-Z0-9_.-]*/(json|stats\?stream=false)"
)


def stats_path(i: int) -> str:
    return f"/containers/{IDS[i]}/stats?stream=false"


def inspect_path(i: int) -> str:
    return f"/containers/{IDS[i]}/json"


def host_routes() -> dict[str, Any]:
    """Three running containers web0..web2, each 0.05 vCPU and 256 MiB used, 256 MiB reserved."""
    routes: dict[str, Any] = {"/info": dict(HOST)}
    routes["/containers/json"] = [
        {"Id": IDS[i], "Names": [f"/web{i}"], "Image": "nginx:1.25", "Labels": {"app": f"web{i}"}}
        for i in range(3)
    ]
    for i in range(3):
        routes[stats_path(i)] = {
            "read": "2026-11-02T10:00:00.123456789Z",
            "cpu_stats": {
                "cpu_usage": {"total_usage": 2_000_000_000},
                "system_cpu_usage": 40_000_000_000,
                "online_cpus": 2,
            },
            "precpu_stats": {"cpu_usage": {"total_usage": 1_000_000_000}, "system_cpu_usage": 20_000_000_000},
            "memory_stats": {"usage": 300 * 1024**2, "stats": {"inactive_file": 44 * 1024**2}},
        }
        routes[inspect_path(i)] = {
            "Id": IDS[i],
            "HostConfig": {"CpuShares": 0, "MemoryReservation": 256 * 1024**2},
        }
    return routes


class _FaultyDockerHandler(_DockerHandler):
    """The fake Docker API; an answer given as bytes is sent as is (a body that is not JSON)."""

    socket_path = ""

    def do_GET(self) -> None:
        body = self.routes.get(self.path)
        if isinstance(body, bytes):
            self.seen.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:  # the agent has read all of an empty answer and may have closed already
                self.wfile.write(body)
            return
        super().do_GET()


@contextmanager
def fake_docker(directory: Path) -> Iterator[type[_FaultyDockerHandler]]:
    """A Docker API on `directory`/d.sock; set the yielded handler's `routes` (and read its `seen`)."""
    path = str(directory / "d.sock")
    handler = type("H", (_FaultyDockerHandler,), {"routes": host_routes(), "seen": [], "socket_path": path})
    server = _UnixHTTPServer(path, handler)
    # A short poll: shutdown() waits up to one poll interval, 0.5 s by default, for each of ~30 tests.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield handler
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture()
def docker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[type[_FaultyDockerHandler]]:
    # AF_UNIX paths are limited to ~107 bytes: a short temporary directory.
    with fake_docker(tmp_path_factory.mktemp("d")) as handler:
        yield handler


def take(sock: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The snapshot's records and the warnings it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        records = list(snapshot(DockerClient(sock, timeout=5), IDENTITY, label="app"))
    assert all(issubclass(w.category, AwsCostWarning) for w in caught), [str(w.message) for w in caught]
    return records, [str(w.message) for w in caught]


def cli(args: list[str]) -> Any:
    """`awscost ARGS` through the real entry point (one error line, the exit code), in process."""
    from awscost.entrypoints.cli import main

    @click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
    @click.pass_context
    def entry(ctx: click.Context) -> None:
        main(list(ctx.args))

    return CliRunner().invoke(entry, args)


def snapshot_args(sock: str) -> list[str]:
    return [
        "containers",
        "snapshot",
        "--docker-socket",
        sock,
        "--host-id",
        IDENTITY["instanceId"],
        "--instance-type",
        IDENTITY["instanceType"],
        "--region",
        IDENTITY["region"],
        "--account",
        IDENTITY["accountId"],
    ]


@pytest.fixture()
def sock(docker: type[_FaultyDockerHandler]) -> str:
    return docker.socket_path


def test_good_host_gives_every_container(sock: str) -> None:
    records, warned = take(sock)
    assert [r["container_name"] for r in records] == ["web0", "web1", "web2"] and warned == []
    assert records[0]["cpu_used_vcpu"] == pytest.approx(0.1) and records[0]["mem_used_gb"] == 0.25


# -- the probes' data-lost row: a container removed between the list and the stats call ----------------------


def test_container_removed_between_list_and_stats_keeps_the_others(
    docker: type[_FaultyDockerHandler], sock: str, tmp_path: Path
) -> None:
    del docker.routes[stats_path(1)]  # the daemon answers 404 "No such container"
    out = tmp_path / "containers.jsonl"
    res = cli([*snapshot_args(sock), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert [json.loads(line)["container_name"] for line in out.read_text().splitlines()] == ["web0", "web2"]
    assert (
        "awscost: warning: container web1 (bbbbbbbbbbbb) was removed before its stats were read: skipped"
        in res.stderr.splitlines()
    )
    assert "Traceback" not in res.stderr
    # Removed between the stats and the inspect call: the same.
    docker.routes = host_routes()
    del docker.routes[inspect_path(2)]
    records, warned = take(sock)
    assert [r["container_name"] for r in records] == ["web0", "web1"]
    assert warned == ["container web2 (cccccccccccc) was removed before its stats were read: skipped"]


# -- the probes' crash rows: a bad answer about the host is one error line, nothing written --------------------


def _set(path: str, *keys: Any) -> Callable[[dict[str, Any], Any], None]:
    def apply(routes: dict[str, Any], value: Any) -> None:
        if not keys:
            routes[path] = value
            return
        node = routes[path]
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value

    return apply


HOST_FAULTS = {
    "info-NCPU-abc": (_set("/info", "NCPU"), "abc", "/info answered NCPU='abc', not a count"),
    "info-not-an-object": (_set("/info"), ["NCPU", 2], "/info answered a JSON list, not an object"),
    "info-MemTotal-NaN": (_set("/info", "MemTotal"), math.nan, "/info answered MemTotal=nan, not a count"),
    "list-is-a-dict": (
        _set("/containers/json"),
        {"a": {"Id": IDS[0]}},
        "/containers/json answered a JSON dict, not a list",
    ),
    "list-not-json": (_set("/containers/json"), b"<html>502</html>", "/containers/json did not answer JSON"),
}


@pytest.mark.parametrize("fault", list(HOST_FAULTS))
def test_bad_host_answer_is_one_error_line_and_nothing_written(
    fault: str, docker: type[_FaultyDockerHandler], sock: str, tmp_path: Path
) -> None:
    apply, value, message = HOST_FAULTS[fault]
    apply(docker.routes, value)
    with pytest.raises(AwsAccessError, match=re.escape(message)):
        take(sock)
    out = tmp_path / "containers.jsonl"
    res = cli([*snapshot_args(sock), "--out", str(out)])
    assert res.exit_code == 4 and "Traceback" not in res.stderr
    assert res.stderr.splitlines() == [f"awscost: error: {sock}: Docker API GET {message}"]
    assert not out.exists()


# -- ... and a bad answer about one container skips it, with a warning naming it ----------------------------


ECS = {"app": "web0", "com.amazonaws.ecs.cluster": "arn:aws:ecs:eu-west-1:111122223333:cluster/c"}
CONTAINER_FAULTS = {
    "Labels-is-a-list": (
        _set("/containers/json", 0, "Labels"),
        ["app=web0"],
        "Labels is a list, not an object",
    ),
    "stats-not-an-object": (
        _set(stats_path(0)),
        [1, 2],
        f"Docker API GET {stats_path(0)} answered a JSON list, not an object",
    ),
    "stats-not-json": (_set(stats_path(0)), b"{", f"Docker API GET {stats_path(0)} did not answer JSON"),
    "total_usage-lots": (
        _set(stats_path(0), "cpu_stats", "cpu_usage", "total_usage"),
        "lots",
        "cpu_stats.cpu_usage.total_usage='lots' is not a count from 0 to 2**64-1",
    ),
    "CpuShares-string": (
        _set(inspect_path(0), "HostConfig", "CpuShares"),
        "1024",
        "HostConfig.CpuShares='1024' is not a count from 0 to 2**64-1",
    ),
    "MemoryReservation-big": (
        _set(inspect_path(0), "HostConfig", "MemoryReservation"),
        "big",
        "HostConfig.MemoryReservation='big' is not a count from 0 to 2**64-1",
    ),
    "total_usage-NaN": (
        _set(stats_path(0), "cpu_stats", "cpu_usage", "total_usage"),
        math.nan,
        "cpu_stats.cpu_usage.total_usage=nan is not a count from 0 to 2**64-1",
    ),
    "memory-NaN": (
        _set(stats_path(0), "memory_stats", "usage"),
        math.nan,
        "memory_stats.usage=nan is not a count from 0 to 2**64-1",
    ),
    "memory-negative": (
        _set(stats_path(0), "memory_stats", "usage"),
        -5_000_000_000,
        "memory_stats.usage=-5000000000 is not a count from 0 to 2**64-1",
    ),
    "memory-1e308": (
        _set(stats_path(0), "memory_stats", "usage"),
        1e308,
        "memory_stats.usage=1e+308 is not a count from 0 to 2**64-1",
    ),
    # A count Docker could hold but no 8 GiB host: not emitted as 8.6e9 GB.
    "memory-beyond-host": (
        _set(stats_path(0), "memory_stats", "usage"),
        2**63,
        "memory used 8.58993e+09 GiB is more than the host's 8 GiB",
    ),
    "cpu-beyond-host": (
        _set(stats_path(0), "cpu_stats", "cpu_usage", "total_usage"),
        10**18,
        "CPU used 1e+08 vCPU is more than the host's 2",
    ),
    "HostConfig-is-a-string": (
        _set(inspect_path(0), "HostConfig"),
        "x",
        "HostConfig is a str, not an object",
    ),
}


@pytest.mark.parametrize("fault", list(CONTAINER_FAULTS))
def test_bad_container_answer_skips_only_that_container(
    fault: str, docker: type[_FaultyDockerHandler], sock: str
) -> None:
    apply, value, reason = CONTAINER_FAULTS[fault]
    docker.routes["/containers/json"][0]["Labels"] = dict(ECS)  # ECS: CpuShares and Memory are read
    apply(docker.routes, value)
    records, warned = take(sock)
    assert [r["container_name"] for r in records] == ["web1", "web2"]
    assert warned == [f"container web0 (aaaaaaaaaaaa): {reason}: skipped"]
    assert all(r["mem_used_gb"] == 0.25 and r["cpu_used_vcpu"] == pytest.approx(0.1) for r in records)


def test_bad_container_answer_through_the_command(docker: type[_FaultyDockerHandler], sock: str) -> None:
    docker.routes[stats_path(0)]["memory_stats"]["usage"] = -5_000_000_000
    res = cli(snapshot_args(sock))
    assert res.exit_code == 0 and "Traceback" not in res.stderr
    lines = [json.loads(line) for line in res.stdout.splitlines()]
    assert [r["container_name"] for r in lines] == ["web1", "web2"]
    assert all(r["mem_used_gb"] >= 0 for r in lines)
    assert res.stderr.splitlines() == [
        "awscost: warning: container web0 (aaaaaaaaaaaa): memory_stats.usage=-5000000000 is not a count from 0 "
        "to 2**64-1: skipped"
    ]


def test_cpu_a_hair_over_the_host_is_capped_not_dropped(
    docker: type[_FaultyDockerHandler], sock: str
) -> None:
    # Docker reads the container's and the host's counters a moment apart: 2.04 of 2 vCPU is jitter.
    docker.routes[stats_path(0)]["cpu_stats"]["cpu_usage"]["total_usage"] = 1_000_000_000 + 20_400_000_000
    records, warned = take(sock)
    assert records[0]["cpu_used_vcpu"] == 2.0 and warned == []


# -- the probes' injection row: an id that is a path ---------------------------------------------------------


@pytest.mark.parametrize(
    "hostile", ["../../info?x=", "../../v1.41/containers/create", "a/b", "web0\n", ".hidden", ""]
)
def test_hostile_container_id_is_never_requested(
    hostile: str, docker: type[_FaultyDockerHandler], sock: str
) -> None:
    docker.routes["/containers/json"][0]["Id"] = hostile
    records, warned = take(sock)
    assert [r["container_name"] for r in records] == ["web1", "web2"]
    assert warned == [f"container list entry 1: Id {hostile!r} is not a Docker id or name: skipped"]
    assert all(SAFE_PATH.fullmatch(p) for p in docker.seen), docker.seen
    assert not any(hostile and hostile in p for p in docker.seen)
    with pytest.raises(InputError, match="is not a Docker id or name"):
        DockerClient(sock).stats(hostile)


def test_container_path_segment_is_quoted_whole() -> None:
    assert container_segment(IDS[0]) == IDS[0]
    assert container_segment("web-1_a.b") == "web-1_a.b"
    assert CONTAINER_REF.fullmatch("081d2c75d3a2419d95ab6f8979fb61fb-1547245599")  # ECS-style DockerId


# -- property: any JSON anywhere in any answer ----------------------------------------------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()  # NaN and infinities too: Python's json reads them, Docker (Go) never writes them
    | st.text(max_size=12)
    | st.sampled_from(["../../info?x=", "0001-01-01T00:00:00Z", "2026-11-02T10:00:00Z", "1024", "-1"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def _positions(node: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _positions(v, (*at, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _positions(v, (*at, i))


def _put(routes: dict[str, Any], path: str, at: tuple[Any, ...], value: Any) -> None:
    if not at:
        routes[path] = value
        return
    node = routes[path]
    for k in at[:-1]:
        node = node[k]
    node[at[-1]] = value


@st.composite
def faulty_routes(draw: st.DrawFn) -> dict[str, Any]:
    """The good host's answers with one to three of them broken: a field (or a whole answer) replaced by any
    JSON value, an answer gone (404), or a body that is not JSON."""
    routes = copy.deepcopy(host_routes())
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(sorted(routes)))
        kind = draw(st.sampled_from(["value", "value", "value", "gone", "garbage"]))
        if kind == "gone":
            del routes[path]
        elif kind == "garbage":
            routes[path] = draw(st.sampled_from([b"", b"{", b"[" * 100_000, b"\xff\xfe", b"null"]))
        elif not isinstance(routes[path], bytes):
            at = draw(st.sampled_from(list(_positions(routes[path]))))
            _put(routes, path, at, draw(JSON))
    return routes


@pytest.fixture(scope="module")
def shared_docker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[type[_FaultyDockerHandler]]:
    """One server for all the property's examples (module scope: hypothesis runs every example in one call)."""
    with fake_docker(tmp_path_factory.mktemp("p")) as handler:
        yield handler


# No deadline: an example's time on 2 shared cores varies tenfold, and slowness is not what is tested here.
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(routes=faulty_routes())
def test_any_malformed_docker_answer_gives_samples_or_one_clear_error(
    shared_docker: type[_FaultyDockerHandler], routes: dict[str, Any]
) -> None:
    shared_docker.routes, shared_docker.seen = routes, []
    try:
        records, warned = take(shared_docker.socket_path)
    except AwsCostError as exc:
        assert "\n" not in str(exc)  # one line
        event(f"error: {type(exc).__name__}")
        return
    event(f"{len(records)} sample(s), {len(warned)} warning(s)")
    assert all("\n" not in w for w in warned)
    assert all(SAFE_PATH.fullmatch(p) for p in shared_docker.seen), shared_docker.seen
    for r in records:
        json.dumps(r, allow_nan=False)  # valid JSON: no NaN or infinity written
        assert CONTAINER_REF.fullmatch(r["container_id"])
        for key in ("cpu_reserved_vcpu", "cpu_used_vcpu", "mem_reserved_gb", "mem_used_gb"):
            assert math.isfinite(r[key]) and r[key] >= 0, (key, r[key])
        if r["host_vcpu"] is not None:
            assert r["cpu_used_vcpu"] <= r["host_vcpu"] and r["cpu_reserved_vcpu"] <= r["host_vcpu"]
        if r["host_mem_gb"] is not None:
            assert r["mem_used_gb"] <= r["host_mem_gb"] and r["mem_reserved_gb"] <= r["host_mem_gb"]
