"""Container usage readers on real formats: refdata ECS metadata, docker stats, Insights."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from awscost.containers import ReadContext, ServiceNamer, image_repository, read_inputs
from awscost.containers.readers import docker_cpu_vcpu, parse_size, parse_ts
from conftest import refdata

DATA = Path(__file__).parent / "data" / "containers"
MIB = 1024**2
GIB = 1024**3


def by_name(samples):
    return {s.container_name: s for s in samples}


def test_ecs_task_metadata_joined_to_task_stats() -> None:
    meta, stats = (
        refdata("otel-awsecscontainermetrics/task_metadata.json"),
        refdata("otel-awsecscontainermetrics/task_stats.json"),
    )
    result = read_inputs([stats, meta], ReadContext(host_id="i-0abc", instance_type="m5.large"))
    assert result.malformed == []
    s = by_name(result.samples)
    assert sorted(s) == ["nginx100", "nginx200", "nginx300"]
    n300 = s["nginx300"]
    assert n300.container_id.startswith("4a984770")
    assert n300.service == "three-nginx"  # no ECS service: the task definition family
    assert (n300.cluster, n300.region, n300.account) == ("test200", "us-west-2", "803860917211")
    assert n300.timestamp == datetime(2020, 7, 31, 6, 47, 36, 391793, tzinfo=UTC)
    # precpu_stats == cpu_stats: a delta of 0 is zero use, not a division error.
    assert n300.cpu_used_vcpu == 0.0
    # Docker's "used" memory excludes inactive file cache: 2658304 - 12288 bytes.
    assert n300.mem_used_gb == pytest.approx((2658304 - 12288) / GIB)
    # The task reserves 0.5 vCPU / 512 MiB; containers 0 CPU / 128 MiB each: the rest is shared equally.
    assert n300.cpu_reserved_vcpu == pytest.approx(0.5 / 3)
    assert n300.mem_reserved_gb == pytest.approx((128 + 128 / 3) * MIB / GIB)
    assert n300.host_id == "i-0abc" and n300.launch_type == "EC2"


def test_managed_instance_tasks_with_uint64_unlimited_memory() -> None:
    result = read_inputs(
        [
            refdata("otel-awsecscontainermetrics/instance_tasks_metadata.json"),
            refdata("otel-awsecscontainermetrics/instance_tasks_stats.json"),
        ]
    )
    assert result.malformed == []
    s = by_name(result.samples)
    web, mon = s["nginx-proxy"], s["monitor-agent"]
    assert web.service == "web-frontend-service"  # ServiceName beats the family
    assert mon.service == "daemon-app-monitor"
    # CPU: (18222054000 - 18219339000) / (114737540000000 - 114717640000000) * 2 online CPUs
    assert web.cpu_used_vcpu == pytest.approx(2715000 / 19900000000 * 2)
    # cgroup v2 without inactive_file: usage as is; limit 2**64-1 ignored (no overflow, no fake cap)
    assert web.mem_used_gb == pytest.approx(46559232 / GIB)
    assert web.cpu_reserved_vcpu == pytest.approx(1.0) and web.mem_reserved_gb == pytest.approx(2.0)
    # monitor: container 2 CPU units of a 0.25 vCPU task -> 0.25 vCPU in all
    assert mon.cpu_reserved_vcpu == pytest.approx(0.25) and mon.mem_reserved_gb == pytest.approx(0.5)
    assert (mon.region, mon.account, mon.cluster) == ("eu-west-1", "111222333444", "mi-cluster")
    assert mon.host_id is None  # the input does not name the host; allocation needs --host-id


def test_docker_stats_lines_and_malformed_lines_reported_by_line() -> None:
    result = read_inputs([DATA / "docker_stats.log"], ReadContext(host_id="i-1", instance_type="t3.medium"))
    names = [s.container_name for s in result.samples]
    assert names == ["web-1", "worker-1", "web-1"]
    web = result.samples[0]
    assert web.cpu_used_vcpu == pytest.approx(0.5) and web.mem_used_gb == pytest.approx(0.5)
    assert result.samples[1].cpu_used_vcpu == pytest.approx(1.5)
    assert web.timestamp == datetime(2026, 11, 26, 10, 0, 2, tzinfo=UTC)
    lines = {(Path(m.file).name, m.line): m.reason for m in result.malformed}
    assert set(lines) == {("docker_stats.log", 4), ("docker_stats.log", 5), ("docker_stats.log", 6)}
    assert "not JSON" in lines[("docker_stats.log", 4)]
    assert "missing" in lines[("docker_stats.log", 5)]
    assert "no time" in lines[("docker_stats.log", 6)]
    # With a default time, the unprefixed line is read too.
    again = read_inputs(
        [DATA / "docker_stats.log"], ReadContext(host_id="i-1", time=datetime(2026, 11, 26, 10, tzinfo=UTC))
    )
    assert len(again.samples) == 4 and len(again.malformed) == 2


def test_container_insights_events_task_used_only_for_size() -> None:
    result = read_inputs([DATA / "insights_fargate.jsonl"])
    assert [str(m) for m in result.malformed] == [
        f"{DATA / 'insights_fargate.jsonl'}:5: CpuUtilized='lots' is not a number"
    ]
    s = by_name(result.samples)
    assert sorted(s) == ["app", "cwagent", "envoy"]  # the Task event is not a sample: its containers are
    app = s["app"]
    assert app.launch_type == "FARGATE" and app.host_id == "task/prod/7f3e0c1d"
    assert (app.host_vcpu, app.host_mem_gb) == (0.5, 1.0)  # task size from the Task event
    assert app.cpu_used_vcpu == pytest.approx(0.09) and app.cpu_reserved_vcpu == pytest.approx(0.25)
    assert app.service == "api" and app.account == "222233334444"
    cw = s["cwagent"]
    assert cw.host_id == "i-0c470579dbcdbd2f3" and cw.launch_type == "EC2"
    assert cw.timestamp == datetime(2026, 11, 26, 10, tzinfo=UTC)


def test_logs_export_wrapper_and_gzip(tmp_path: Path) -> None:
    events = [json.loads(x) for x in (DATA / "insights_fargate.jsonl").read_text().splitlines()[:3]]
    wrapped = {"events": [{"timestamp": e["Timestamp"], "message": json.dumps(e)} for e in events]}
    path = tmp_path / "export.json.gz"
    with gzip.open(path, "wt") as fh:
        json.dump(wrapped, fh, indent=2)
    result = read_inputs([path])
    assert result.malformed == [] and sorted(s.container_name for s in result.samples) == ["app", "envoy"]


def test_unreadable_and_unknown_inputs(tmp_path: Path) -> None:
    other = tmp_path / "other.json"
    other.write_text('{"hello": 1}\n[1, 2]\n')
    result = read_inputs([other, tmp_path / "missing.json"])
    reasons = [str(m) for m in result.malformed]
    assert reasons[0].endswith(":1: unrecognised record (keys: hello)")
    assert reasons[1].endswith(":2: expected a JSON object, got int")
    assert "missing.json: cannot read" in reasons[2]


@pytest.mark.parametrize(
    ("image", "repo"),
    [
        ("111222333444.dkr.ecr.eu-west-1.amazonaws.com/web-frontend:latest", "web-frontend"),
        ("nginx:latest", "nginx"),
        ("library/redis@sha256:abc", "redis"),
        ("localhost:5000/team/billing-api:1.2", "team/billing-api"),
        ("ghcr.io/acme/worker", "acme/worker"),
        (None, None),
    ],
)
def test_image_repository(image: str | None, repo: str | None) -> None:
    assert image_repository(image) == repo


def test_service_identity_order() -> None:
    overrides = {"container:legacy-1": {"service": "billing"}, "container:acme/worker": {"service": "jobs"}}
    namer = ServiceNamer(label="app", overrides=overrides.get)
    labels = {"app": "shop", "com.docker.compose.service": "web"}
    assert namer.name(container_name="legacy-1", ecs_service="svc", labels=labels) == "billing"
    assert namer.name(container_name="w", image="ghcr.io/acme/worker:2") == "jobs"
    assert namer.name(container_name="c", ecs_service="svc", family="fam", labels=labels) == "svc"
    assert namer.name(container_name="c", family="fam", labels=labels) == "fam"
    assert namer.name(container_name="c", labels=labels, image="x/y") == "shop"
    assert ServiceNamer().name(container_name="c", labels=labels, image="x/y") == "web"
    assert ServiceNamer().name(container_name="c", image="registry.example.com/y:1") == "y"
    assert ServiceNamer().name(container_name="c") == "c"


def test_parsers() -> None:
    assert parse_size("1.944GiB") == pytest.approx(1.944 * GIB)
    assert parse_size("3kB") == 3000 and parse_size("0B") == 0
    assert docker_cpu_vcpu({"cpu_stats": {"cpu_usage": {"total_usage": 5}, "system_cpu_usage": 10}}) > 0


def test_cut_first_line_does_not_lose_the_file(tmp_path: Path) -> None:
    good = (DATA / "insights_fargate.jsonl").read_text().splitlines()[1:4]
    cut = tmp_path / "cut.jsonl"
    cut.write_text('{"Version":"0","Type":"Contai\n' + "\n".join(good) + "\n")
    result = read_inputs([cut])
    assert [m.line for m in result.malformed] == [1] and len(result.samples) == 3
    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "Cluster": "x",\n  "TaskARN": \n}\n')
    (m,) = read_inputs([broken]).malformed
    assert m.line == 4 and m.reason.startswith("not JSON")


def test_docker_stats_counts_out_of_range_are_malformed_lines(tmp_path: Path) -> None:
    # The Docker stats math is the agent's too: a negative, NaN or non-number count is a malformed line naming
    # the field, never a sample with negative or NaN memory; an epoch time past year 9999 likewise.
    def stats(total: object, usage: object) -> str:
        return json.dumps(
            {
                "id": "a" * 64,
                "name": "/web",
                "read": "2026-11-02T10:00:00Z",
                "cpu_stats": {"cpu_usage": {"total_usage": total}, "system_cpu_usage": 40, "online_cpus": 2},
                "precpu_stats": {"cpu_usage": {"total_usage": 10}, "system_cpu_usage": 20},
                "memory_stats": {"usage": usage},
            }
        )

    lines = [
        stats(20, 300 * MIB),
        stats(20, -5_000_000_000),
        stats(float("nan"), 300 * MIB),
        stats("lots", 1),
    ]
    path = tmp_path / "stats.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = read_inputs([path], ReadContext(host_id="i-1", instance_type="m5.large"))
    assert len(result.samples) == 1 and result.samples[0].mem_used_gb == pytest.approx(300 * MIB / GIB)
    reasons = {m.line: m.reason for m in result.malformed}
    assert reasons == {
        2: "memory_stats.usage=-5000000000 is not a count from 0 to 2**64-1",
        3: "cpu_stats.cpu_usage.total_usage=nan is not a count from 0 to 2**64-1",
        4: "cpu_stats.cpu_usage.total_usage='lots' is not a count from 0 to 2**64-1",
    }
    with pytest.raises(ValueError, match="out of range"):
        parse_ts(1e308)
    with pytest.raises(ValueError, match="out of range"):
        parse_ts(float("nan"))
