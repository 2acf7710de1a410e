"""Allocation of host cost to services: hand-computed examples, conservation and monotonicity properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from awscost.containers import ReadContext, Sample, read_inputs
from awscost.containers.allocation import (
    IDLE,
    FargateRates,
    Options,
    allocate,
    check_conservation,
    largest_remainder,
    price_table,
    split_with_rest,
    summarize,
    to_units,
    to_usage_items,
)
from conftest import refdata

DATA = Path(__file__).parent / "data" / "containers"
ONE_UNIT = Decimal("0.00000001")
T0 = datetime(2026, 11, 26, 10, tzinfo=UTC)


def costs(allocation) -> dict[str, tuple[Decimal, Decimal]]:
    rows = summarize(allocation, by="service", granularity="hour")
    return {r["service"]: (r["cpu_cost"], r["memory_cost"]) for r in rows}


def near(a: Decimal, b: Decimal) -> bool:
    """Equal to within one allocation unit (1e-8 USD): hand arithmetic is not rounded the same way."""
    return abs(a - b) <= ONE_UNIT


def test_refdata_ecs_task_on_m5_large_by_hand() -> None:
    samples = read_inputs(
        [
            refdata("otel-awsecscontainermetrics/task_metadata.json"),
            refdata("otel-awsecscontainermetrics/task_stats.json"),
        ],
        ReadContext(host_id="i-0abc", instance_type="m5.large"),
    ).samples
    # The snapshot is taken as standing for its whole hour (step 3600).
    a = allocate(
        samples,
        options=Options(step_seconds=3600),
        price=price_table({("m5.large", "us-west-2"): Decimal("0.096")}),
    )
    # By hand: m5.large = 2 vCPU, 8 GiB at $0.096/h. Weights 9 x 2 = 18 and 1 x 8 = 8:
    cpu_part = Decimal("0.096") * 18 / 26  # 0.0664615385
    mem_part = Decimal("0.096") * 8 / 26  # 0.0295384615
    # Task three-nginx reserves 0.5 vCPU and 512 MiB = 0.5 GiB (use: 0 CPU, ~2.5 MiB per container, below it).
    svc_cpu = cpu_part * Decimal("0.5") / 2  # 0.0166153846
    svc_mem = mem_part * Decimal("0.5") / 8  # 0.0018461538
    got = costs(a)
    assert near(got["three-nginx"][0], svc_cpu) and near(got["three-nginx"][1], svc_mem)
    assert near(got[IDLE][0], cpu_part - svc_cpu) and near(got[IDLE][1], mem_part - svc_mem)
    assert sum(got["three-nginx"]) + sum(got[IDLE]) == Decimal("0.096")  # to the last digit
    assert check_conservation(a) == []


def test_refdata_managed_instance_tasks_by_hand() -> None:
    samples = read_inputs(
        [
            refdata("otel-awsecscontainermetrics/instance_tasks_metadata.json"),
            refdata("otel-awsecscontainermetrics/instance_tasks_stats.json"),
        ],
        ReadContext(host_id="i-0mi", instance_type="m5.large"),
    ).samples
    a = allocate(
        samples,
        options=Options(step_seconds=3600),
        price=price_table({("m5.large", "eu-west-1"): Decimal("0.107")}),
    )
    cpu_part, mem_part = Decimal("0.107") * 18 / 26, Decimal("0.107") * 8 / 26
    got = costs(a)
    # daemon-app-monitor: 0.25 vCPU of 2, 0.5 GiB of 8 (its use, 0.0004 vCPU and 63 MiB, is below that)
    assert near(got["daemon-app-monitor"][0], cpu_part * Decimal("0.25") / 2)
    assert near(got["daemon-app-monitor"][1], mem_part * Decimal("0.5") / 8)
    # web-frontend-service: 1 vCPU of 2, 2 GiB of 8
    assert near(got["web-frontend-service"][0], cpu_part / 2)
    assert near(got["web-frontend-service"][1], mem_part * 2 / 8)
    assert near(got[IDLE][0], cpu_part * Decimal("0.75") / 2)
    assert sum(sum(v) for v in got.values()) == Decimal("0.107")


def test_docker_stats_lines_partial_hour_and_overlap_by_hand() -> None:
    ctx = ReadContext(host_id="i-1", instance_type="t3.medium", region="us-east-1")
    once = read_inputs([DATA / "docker_stats.log"], ctx).samples
    twice = read_inputs([DATA / "docker_stats.log", DATA / "docker_stats_overlap.log"], ctx).samples
    assert len(twice) == len(once) + 1
    prices = price_table({("t3.medium", "us-east-1"): Decimal("0.0416")})
    a1, a2 = allocate(once, price=prices), allocate(twice, price=prices)
    # The same sample read from two files is counted once.
    assert costs(a1) == costs(a2)
    # By hand: two 1-minute ticks observed (10:00, 10:01) -> the host costs 0.0416 x 2/60.
    host = Decimal("0.0416") * 2 / 60
    assert a1.hosts[0].cost_units == 138667 and near(sum(sum(v) for v in costs(a1).values()), host)
    cpu_part = host * 18 / 22  # t3.medium: 2 vCPU x 9, 4 GiB x 1
    mem_part = host * 4 / 22
    cap_cpu, cap_mem = Decimal(2) * 2 / 60, Decimal(4) * 2 / 60  # vCPU-hours, GiB-hours observed
    web_cpu = Decimal("0.5") * 2 / 60  # 0.5 vCPU in both minutes
    worker_cpu = Decimal("1.5") * 1 / 60  # 1.5 vCPU in one minute: present for part of the time
    web_mem, worker_mem = Decimal("0.5") * 2 / 60, Decimal(1) * 1 / 60
    got = costs(a1)
    assert near(got["web-1"][0], cpu_part * web_cpu / cap_cpu)
    assert near(got["worker-1"][0], cpu_part * worker_cpu / cap_cpu)
    assert near(got["web-1"][1], mem_part * web_mem / cap_mem)
    assert near(got["worker-1"][1], mem_part * worker_mem / cap_mem)
    assert check_conservation(a1) == []


def test_unpriced_host_is_listed_never_zero() -> None:
    samples = read_inputs(
        [DATA / "docker_stats.log"], ReadContext(host_id="i-1", instance_type="x9.huge", region="us-east-1")
    ).samples
    a = allocate(samples, price=price_table({}))
    assert a.hosts == [] and a.services == []
    assert a.unpriced["i-1"].reason == "no on-demand price for x9.huge in us-east-1"
    assert a.unpriced["i-1"].hours == 1
    no_type = allocate(
        read_inputs([DATA / "docker_stats.log"], ReadContext(host_id="i-2")).samples, price=price_table({})
    )
    assert "no instance type/region" in no_type.unpriced["i-2"].reason


def test_fargate_task_priced_from_the_price_list_offer() -> None:
    rates = FargateRates.from_offer_file(refdata("opencost/ecs-pricing-us-east-1.json"), "us-east-1")
    assert (rates.cpu_per_vcpu_hour, rates.mem_per_gb_hour) == (Decimal("0.04048"), Decimal("0.004445"))
    arm = FargateRates.from_offer_file(refdata("opencost/ecs-pricing-us-east-1.json"), arch="arm")
    assert (arm.cpu_per_vcpu_hour, arm.mem_per_gb_hour) == (Decimal("0.03238"), Decimal("0.00356"))
    samples = read_inputs([DATA / "insights_fargate.jsonl"]).samples
    fargate = [s for s in samples if s.launch_type == "FARGATE"]
    a = allocate(fargate, options=Options(step_seconds=3600), fargate=rates, price=price_table({}))
    # By hand: task 0.5 vCPU x 0.04048 + 1 GiB x 0.004445 = 0.02024 + 0.004445 = 0.024685 for the hour.
    host = a.hosts[0]
    assert host.cost_units == 2468500 and host.cpu_units == 2024000 and host.cost_source == "fargate"
    got = costs(a)
    # app: max(0.25 reserved, 0.09 used) of 0.5 vCPU; envoy: 0.01 used. Memory: 512 + 50 MiB of 1 GiB
    envoy_cpu = Decimal("10.24") / 1024  # 0.01 vCPU
    assert near(got["api"][0], Decimal("0.02024") * (Decimal("0.25") + envoy_cpu) / Decimal("0.5"))
    assert near(got["api"][1], Decimal("0.004445") * Decimal(512 + 50) / 1024)
    assert check_conservation(a) == []


def test_idle_shared_in_proportion() -> None:
    samples = read_inputs(
        [DATA / "docker_stats.log"], ReadContext(host_id="i-1", instance_type="t3.medium", region="us-east-1")
    ).samples
    prices = price_table({("t3.medium", "us-east-1"): Decimal("0.0416")})
    sep, shared = (
        allocate(samples, price=prices),
        allocate(samples, price=prices, options=Options(idle="share")),
    )
    assert IDLE in costs(sep) and IDLE not in costs(shared)
    total_sep = sum(sum(v) for v in costs(sep).values())
    assert sum(sum(v) for v in costs(shared).values()) == total_sep
    # web-1 had 0.25 of the CPU part, worker-1 0.375: shared idle keeps their ratio (to one unit).
    s = costs(shared)
    ratio = (s["worker-1"][0] / s["web-1"][0]).quantize(Decimal("0.0001"))
    assert ratio == Decimal("1.5000")


def test_overcommitted_host_has_no_idle_and_is_conserved() -> None:
    samples = [sample("i-9", T0, f"c{i}", cpu=1.5, mem=3.0) for i in range(3)]  # 4.5 vCPU on a 2 vCPU host
    a = allocate(
        samples,
        options=Options(step_seconds=3600),
        price=price_table({("t3.medium", "us-east-1"): Decimal("0.0416")}),
    )
    got = costs(a)
    assert IDLE not in got and check_conservation(a) == []
    assert sorted(v[0] for k, v in got.items())[-1] - sorted(v[0] for k, v in got.items())[0] <= ONE_UNIT


def test_usage_items_for_the_store() -> None:
    samples = read_inputs(
        [DATA / "docker_stats.log"],
        ReadContext(host_id="i-1", instance_type="t3.medium", region="us-east-1", account="222233334444"),
    ).samples
    a = allocate(samples, price=price_table({("t3.medium", "us-east-1"): Decimal("0.0416")}))
    (item,) = to_usage_items(a, granularity="day")
    assert item.aws_resource == "svc-cost:222233334444:us-east-1" and item.time_key == "2026-11-26T00:00:00Z"
    assert item.attrs["unit"] == "micro-USD"
    assert sum(item.usage.values()) == 1387  # 0.00138667 USD -> 1387 micro-USD, shared without loss
    assert set(item.usage) == {"web-1", "worker-1", IDLE}


# ---------------------------------------------------------------- properties


def sample(
    host: str,
    ts: datetime,
    cid: str,
    *,
    cpu: float,
    mem: float,
    res_cpu: float = 0.0,
    res_mem: float = 0.0,
    itype: str = "t3.medium",
    service: str | None = None,
) -> Sample:
    return Sample(
        timestamp=ts,
        host_id=host,
        instance_type=itype,
        region="us-east-1",
        account="222233334444",
        container_id=cid,
        container_name=cid,
        service=service or cid,
        cluster="c",
        cpu_reserved_vcpu=res_cpu,
        cpu_used_vcpu=cpu,
        mem_reserved_gb=res_mem,
        mem_used_gb=mem,
    )


@given(
    total=st.integers(0, 10**12),
    claims=st.lists(st.integers(0, 10**10), max_size=12),
    capacity=st.integers(0, 10**11),
)
def test_split_is_exact(total: int, claims: list[int], capacity: int) -> None:
    parts, rest = split_with_rest(total, claims, capacity)
    assert sum(parts) + rest == total and all(p >= 0 for p in parts) and rest >= 0
    assert sum(largest_remainder(total, [*claims, 1])) == total


usage = st.floats(0, 3, allow_nan=False).map(lambda x: round(x, 4))
container_rows = st.lists(
    st.tuples(st.integers(0, 2), st.integers(0, 3), st.integers(0, 119), usage, usage, usage, usage),
    min_size=1,
    max_size=40,
)
PRICES = {("t3.medium", "us-east-1"): Decimal("0.0416"), ("m5.xlarge", "us-east-1"): Decimal("0.192")}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=container_rows,
    price_a=st.decimals("0.0001", "50", places=6),
    idle=st.sampled_from(["separate", "share"]),
)
def test_conservation_every_host_hour(rows, price_a: Decimal, idle: str) -> None:
    samples = [
        sample(
            f"i-{h}",
            T0 + timedelta(minutes=m),
            f"c{c}",
            cpu=cpu,
            mem=mem,
            res_cpu=rc,
            res_mem=rm,
            itype="t3.medium" if h else "m5.xlarge",
        )
        for h, c, m, cpu, mem, rc, rm in rows
    ]
    # Host 2 is a Fargate task (0.5 vCPU, 1 GiB), priced by its own rates, split by those rates.
    for smp in samples:
        if smp.host_id == "i-2":
            smp.launch_type, smp.instance_type, smp.host_vcpu, smp.host_mem_gb = "FARGATE", None, 0.5, 1.0
    prices = {("t3.medium", "us-east-1"): price_a, ("m5.xlarge", "us-east-1"): Decimal("0.192")}
    rates = FargateRates(Decimal("0.04048"), Decimal("0.004445"))
    a = allocate(samples, price=price_table(prices), options=Options(idle=idle), fargate=rates)
    assert check_conservation(a) == []
    hosts = {(h.host_id, h.hour) for h in a.hosts}
    assert hosts == {(s.host_id, s.timestamp.replace(minute=0)) for s in samples}
    # What is conserved is the right amount: the test's own prices x the part of the hour observed.
    for h in a.hosts:
        if h.launch_type == "FARGATE":
            hourly = rates.cpu_per_vcpu_hour * Decimal("0.5") + rates.mem_per_gb_hour * Decimal("1.0")
        else:
            hourly = prices[(str(h.instance_type), "us-east-1")]
        assert 0 < h.covered <= 1
        assert abs(h.cost_units - to_units(hourly * h.covered)) <= 1, (h.host_id, h.hour)
    for s in a.services:
        assert s.cpu_units >= 0 and s.mem_units >= 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    others=st.lists(st.tuples(usage, usage), min_size=0, max_size=6),
    mine=st.tuples(usage, usage),
    more=st.floats(0, 3, allow_nan=False).map(lambda x: round(x, 4)),
)
def test_more_usage_never_lowers_the_share(others, mine, more: float) -> None:
    def run(cpu: float):
        samples = [sample("i-1", T0, "me", cpu=cpu, mem=mine[1])]
        samples += [sample("i-1", T0, f"o{i}", cpu=c, mem=m) for i, (c, m) in enumerate(others)]
        a = allocate(samples, options=Options(step_seconds=3600), price=price_table(PRICES))
        return sum(s.total_units for s in a.services if s.service == "me")

    # Rounded to 1e-8 USD, a share may move by one unit against its exact quota; never more.
    assert run(mine[0] + more) >= run(mine[0]) - 1


def test_streamed_parquet_allocates_like_memory(tmp_path: Path) -> None:
    from awscost.containers.readers import write_parquet

    inputs = [DATA / "docker_stats.log", DATA / "docker_stats_overlap.log", DATA / "insights_fargate.jsonl"]
    ctx = ReadContext(host_id="i-1", instance_type="t3.medium", region="us-east-1")
    in_memory = read_inputs(inputs, ctx)
    streamed = write_parquet(inputs, tmp_path / "s", ctx, batch_rows=2)
    assert streamed.rows == len(in_memory.samples) and streamed.samples == []
    assert streamed.malformed == in_memory.malformed and streamed.hosts == {
        s.host_id for s in in_memory.samples
    }
    prices = price_table({("t3.medium", "us-east-1"): Decimal("0.0416")})
    rates = FargateRates(Decimal("0.04048"), Decimal("0.004445"))
    a = allocate(in_memory.samples, price=prices, fargate=rates)
    b = allocate(str(tmp_path / "s"), price=prices, fargate=rates)
    assert a.hosts == b.hosts and a.services == b.services and a.unpriced == b.unpriced


def test_sampling_interval_found_per_host() -> None:
    prices = price_table({("t3.medium", "us-east-1"): Decimal("0.0416")})
    # Every 5 minutes for an hour; within a round the containers' stats are read a few seconds apart.
    five = [
        sample("i-5", T0 + timedelta(minutes=m, seconds=k * 3), f"c{k}", cpu=0.5, mem=1.0)
        for m in range(0, 60, 5)
        for k in range(3)
    ]
    a = allocate(five, price=prices)
    (host,) = a.hosts
    assert host.covered == 1 and host.cost_units == 4160000  # the whole hour: 12 rounds x 300 s
    got = costs(a)
    # Each container: 0.5 of 2 vCPU and 1 of 4 GiB all hour: 1/4 of each part.
    assert near(got["c0"][0], Decimal("0.0416") * 18 / 22 / 4) and near(
        got["c0"][1], Decimal("0.0416") * 4 / 22 / 4
    )
    # Given explicitly, the step wins: 60 s per round -> 12 minutes observed.
    b = allocate(five, price=prices, options=Options(step_seconds=60))
    assert b.hosts[0].covered == Decimal(12 * 60) / 3600
    # Half an hour of 1-minute samples: half the hour's price, the other half not invented.
    half = [sample("i-6", T0 + timedelta(minutes=m), "c", cpu=0.1, mem=0.1) for m in range(30)]
    assert allocate(half, price=prices).hosts[0].cost_units == 2080000


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=container_rows, dup=st.lists(st.booleans(), min_size=40, max_size=40))
def test_duplicated_samples_change_nothing(rows, dup: list[bool]) -> None:
    samples = [
        sample(f"i-{h}", T0 + timedelta(minutes=m), f"c{c}", cpu=cpu, mem=mem, res_cpu=rc, res_mem=rm)
        for h, c, m, cpu, mem, rc, rm in rows
    ]
    # The same samples read again from another file (any subset, in another order).
    again = samples + [s for s, d in zip(reversed(samples), dup, strict=False) if d]
    prices = price_table({("t3.medium", "us-east-1"): Decimal("0.0416")})
    a, b = allocate(samples, price=prices), allocate(again, price=prices)
    assert a.hosts == b.hosts and a.services == b.services


def test_a_sample_read_twice_counts_once() -> None:
    """Two different readings of one container at one instant average; reading one of them again (the same
    log line in two files) must not tilt that average (found by the property above, seed-dependent)."""
    prices = price_table({("t3.medium", "us-east-1"): Decimal("0.0416")})
    a = sample("i-1", T0, "c0", cpu=1.0, mem=1.0)
    b = sample("i-1", T0, "c0", cpu=2.0, mem=1.0)
    other = sample("i-1", T0, "c1", cpu=0.5, mem=1.0)
    once = allocate([a, b, other], price=prices)
    twice = allocate([a, b, b, other], price=prices)
    assert costs(once) == costs(twice)
    # And the average is the two readings' mean: c0 claims 1.5 vCPU against c1's 0.5 (capacity 2 vCPU).
    cpu_c0, cpu_c1 = costs(once)["c0"][0], costs(once)["c1"][0]
    assert abs(cpu_c0 - 3 * cpu_c1) <= 3 * ONE_UNIT
