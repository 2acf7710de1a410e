"""Host and container attributes are taken per host-hour: a host resized within the day, or a container whose
service changes between files, is priced and allocated hour by hour, whatever the order of the input files;
two values of one attribute within one host-hour are a reported conflict, never a file-order choice."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from awscost.containers import Sample
from awscost.containers import allocation as alloc
from awscost.containers.readers import AGENT_SCHEMA, read_inputs, write_parquet

DAY = datetime(2026, 11, 26, tzinfo=UTC)
PRICES = {
    ("m5.large", "us-east-1"): Decimal("0.096"),
    ("m5.xlarge", "us-east-1"): Decimal("0.192"),
}


def agent_lines(
    path: Path, hours: range, *, itype: str = "m5.large", service: str = "checkout", host: str = "i-1"
) -> Path:
    """The agent's lines for one host: containers c1 (0.5 vCPU, 1 GiB) and c2 (0.25 vCPU, 2 GiB) every 5
    minutes of `hours`, c1 with service `service`."""
    with path.open("w") as fh:
        for h in hours:
            for minute in range(0, 60, 5):
                ts = DAY + timedelta(hours=h, minutes=minute)
                for cid, svc, cpu, mem in (("c1", service, 0.5, 1.0), ("c2", "search", 0.25, 2.0)):
                    rec = {
                        "awscost": AGENT_SCHEMA, "timestamp": ts.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
                        "host_id": host, "instance_type": itype, "region": "us-east-1",
                        "account": "222233334444", "container_id": cid, "container_name": cid,
                        "service": svc, "cluster": "prod", "cpu_reserved_vcpu": 0.0, "cpu_used_vcpu": cpu,
                        "mem_reserved_gb": 0.0, "mem_used_gb": mem, "launch_type": "EC2",
                    }  # fmt: skip
                    fh.write(json.dumps(rec) + "\n")
    return path


def allocate_files(paths: list[Path], tmp: Path) -> alloc.Allocation:
    """As the job does: the inputs streamed to Parquet (the DuckDB fast path for agent files), then allocated."""
    target = tmp / f"parquet-{len(list(tmp.glob('parquet-*')))}"
    write_parquet(paths, target)
    return alloc.allocate(str(target), price=alloc.price_table(PRICES))


def by_hour(a: alloc.Allocation) -> dict[int, alloc.HostHour]:
    return {h.hour.hour: h for h in a.hosts}


def shares(a: alloc.Allocation, hour: int) -> dict[str, int]:
    return {s.service: s.total_units for s in a.services if s.hour.hour == hour}


def test_host_resized_mid_day_is_priced_per_hour_in_any_file_order(tmp_path: Path) -> None:
    morning = agent_lines(tmp_path / "morning.jsonl", range(12), itype="m5.large")
    afternoon = agent_lines(tmp_path / "afternoon.jsonl", range(12, 24), itype="m5.xlarge")
    first = allocate_files([morning, afternoon], tmp_path)
    second = allocate_files([afternoon, morning], tmp_path)
    assert first.hosts == second.hosts and first.services == second.services
    hours = by_hour(first)
    assert sorted(hours) == list(range(24))
    for h in range(24):
        itype, usd = ("m5.large", "0.096") if h < 12 else ("m5.xlarge", "0.192")
        assert hours[h].instance_type == itype, h
        assert hours[h].covered == 1 and hours[h].cost_units == alloc.to_units(Decimal(usd)), h
    # By hand, each hour at its own size (weights 9 per vCPU, 1 per GiB). c1 claims 0.5 vCPU and 1 GiB, c2
    # 0.25 vCPU and 2 GiB. m5.large (2 vCPU, 8 GiB, $0.096): c1 = 0.096/26 x (18 x 0.5/2 + 8 x 1/8) = 0.0203077,
    # c2 = 0.096/26 x (18 x 0.25/2 + 8 x 2/8) = 0.0156923, idle the rest = 0.06. m5.xlarge (4 vCPU, 16 GiB,
    # $0.192): the same c1 and c2 (twice the price for twice the size), idle = 0.192 - 0.036 = 0.156.
    for h, idle in ((3, "0.06"), (15, "0.156")):
        got = shares(first, h)
        assert abs(got["checkout"] - 2030769) <= 1 and abs(got["search"] - 1569231) <= 1, h
        assert abs(got[alloc.IDLE] - alloc.to_units(Decimal(idle))) <= 2, h
    assert alloc.check_conservation(first) == [] and not first.conflicts


def test_container_relabelled_between_files_is_allocated_per_hour(tmp_path: Path) -> None:
    before = agent_lines(tmp_path / "before.jsonl", range(0, 10), service="checkout")
    after = agent_lines(tmp_path / "after.jsonl", range(10, 20), service="payments")
    first = allocate_files([before, after], tmp_path)
    second = allocate_files([after, before], tmp_path)
    for h in range(20):
        names = set(shares(first, h))
        assert names == (
            {"checkout", "search", alloc.IDLE} if h < 10 else {"payments", "search", alloc.IDLE}
        ), h
    day = {r["service"]: r["total_cost"] for r in alloc.summarize(first, granularity="day")}
    assert day["checkout"] == day["payments"] > 0  # ten hours each, the same use
    assert first.services == second.services and first.hosts == second.hosts
    assert not first.conflicts and alloc.check_conservation(first) == []


def test_two_values_in_one_host_hour_are_a_reported_conflict(tmp_path: Path) -> None:
    # Two files both cover hours 10-11 of host i-1: one says m5.large, the other m5.xlarge.
    a = agent_lines(tmp_path / "a.jsonl", range(8, 12), itype="m5.large")
    b = agent_lines(tmp_path / "b.jsonl", range(10, 14), itype="m5.xlarge")
    first = allocate_files([a, b], tmp_path)
    second = allocate_files([b, a], tmp_path)
    assert first.conflicts == second.conflicts and first.hosts == second.hosts
    assert first.services == second.services
    # The conflicting hours are not allocated at any price; the others are, each at its own type.
    assert {h: x.instance_type for h, x in by_hour(first).items()} == {
        8: "m5.large", 9: "m5.large", 12: "m5.xlarge", 13: "m5.xlarge"
    }  # fmt: skip
    assert [(c.host_id, c.hour.hour, c.attribute, c.container_id) for c in first.conflicts] == [
        ("i-1", 10, "instance_type", None),
        ("i-1", 11, "instance_type", None),
    ]
    conflict = first.conflicts[0]
    assert conflict.hour == DAY + timedelta(hours=10)
    assert conflict.values == (("m5.large", (str(a),)), ("m5.xlarge", (str(b),)))
    assert str(conflict) == (
        f"host i-1 2026-11-26T10:00Z: instance_type is 'm5.large' in {a}; 'm5.xlarge' in {b}"
    )
    assert alloc.check_conservation(first) == []


def test_a_container_with_two_services_in_one_hour_is_a_conflict(tmp_path: Path) -> None:
    a = agent_lines(tmp_path / "a.jsonl", range(10, 12), service="checkout")
    b = agent_lines(tmp_path / "b.jsonl", range(11, 13), service="payments")
    for order in ([a, b], [b, a]):
        got = allocate_files(order, tmp_path)
        assert sorted(by_hour(got)) == [10, 12]
        (c,) = got.conflicts
        assert (c.host_id, c.hour.hour, c.attribute, c.container_id) == ("i-1", 11, "service", "c1")
        assert c.values == (("checkout", (str(a),)), ("payments", (str(b),)))
        assert "container c1" in str(c)


def test_an_hour_stating_no_type_takes_the_hosts_only_type(tmp_path: Path) -> None:
    """Docker stats lines carry no instance type; the agent's lines of the same host do. An hour whose samples
    state none takes the host's type when every hour that states one agrees (the input never says otherwise)."""
    typed = agent_lines(tmp_path / "typed.jsonl", range(0, 2), itype="m5.large")
    untyped = tmp_path / "untyped.jsonl"
    untyped.write_text(
        "".join(
            line.replace('"instance_type": "m5.large", ', "") + "\n"
            for line in agent_lines(tmp_path / "tmp.jsonl", range(2, 4)).read_text().splitlines()
        )
    )
    got = allocate_files([untyped, typed], tmp_path)
    assert [h.instance_type for h in got.hosts] == ["m5.large"] * 4
    # When the typed hours disagree, an hour stating none is not given either type: it is unpriced.
    resized = agent_lines(tmp_path / "resized.jsonl", range(4, 5), itype="m5.xlarge")
    got = allocate_files([untyped, typed, resized], tmp_path)
    assert {h.hour.hour: h.instance_type for h in got.hosts} == {0: "m5.large", 1: "m5.large", 4: "m5.xlarge"}
    assert got.unpriced["i-1"].hours == 2 and not got.conflicts


def test_in_memory_and_streamed_inputs_agree_on_hourly_attributes(tmp_path: Path) -> None:
    paths = [
        agent_lines(tmp_path / "a.jsonl", range(0, 3), itype="m5.large", service="checkout"),
        agent_lines(tmp_path / "b.jsonl", range(2, 5), itype="m5.xlarge", service="payments"),
    ]
    memory = alloc.allocate(read_inputs(paths).samples, price=alloc.price_table(PRICES))
    streamed = allocate_files(paths, tmp_path)
    assert memory.hosts == streamed.hosts and memory.services == streamed.services
    assert memory.conflicts == streamed.conflicts and len(memory.conflicts) == 2  # type and service, hour 2


# ---------------------------------------------------------------- property: file order never matters

T0 = datetime(2026, 11, 26, 10, tzinfo=UTC)
usage = st.floats(0, 3, allow_nan=False).map(lambda x: round(x, 3))
# A file: rows of (host, container, hour, minute, instance type, service, cpu, mem).
file_rows = st.lists(
    st.tuples(
        st.integers(0, 1),
        st.integers(0, 2),
        st.integers(0, 2),
        st.integers(0, 59),
        st.sampled_from(["m5.large", "m5.xlarge", None]),
        st.sampled_from(["web", "api"]),
        usage,
        usage,
    ),
    min_size=1,
    max_size=25,
)


def file_samples(index: int, rows: list[tuple]) -> list[Sample]:
    # fmt: off
    return [
        Sample(
            timestamp=T0 + timedelta(hours=hour, minutes=minute), host_id=f"i-{h}", instance_type=itype,
            region="us-east-1", account="222233334444", container_id=f"c{c}", container_name=f"c{c}",
            service=svc, cluster="prod", cpu_reserved_vcpu=0.0, cpu_used_vcpu=cpu, mem_reserved_gb=0.0,
            mem_used_gb=mem, source_file=f"file-{index}.jsonl",
        )
        for h, c, hour, minute, itype, svc, cpu, mem in rows
    ]
    # fmt: on


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=st.lists(file_rows, min_size=2, max_size=4), seed=st.integers(0, 2**32 - 1))
def test_permuting_the_input_files_never_changes_the_allocation(files: list[list[tuple]], seed: int) -> None:
    per_file = [file_samples(i, rows) for i, rows in enumerate(files)]
    order = list(range(len(per_file)))
    random.Random(seed).shuffle(order)
    # Both idle rules; a 2 s step takes the other way of counting rounds (more than 1024 buckets an hour).
    options = alloc.Options(
        idle="share" if seed % 2 else "separate", step_seconds=2 if seed % 3 == 0 else None
    )

    def run(indices: list[int]) -> alloc.Allocation:
        samples = [s for i in indices for s in per_file[i]]
        return alloc.allocate(samples, price=alloc.price_table(PRICES), options=options)

    a, b = run(list(range(len(per_file)))), run(order)
    assert a.hosts == b.hosts and a.services == b.services
    assert a.unpriced == b.unpriced and a.conflicts == b.conflicts
    assert alloc.check_conservation(a) == []
    # Every host-hour is accounted for exactly once: allocated, unpriced, or held out by a conflict.
    seen = {(s.host_id, s.timestamp.replace(minute=0)) for f in per_file for s in f}
    held = {(c.host_id, c.hour) for c in a.conflicts}
    allocated = {(h.host_id, h.hour) for h in a.hosts}
    assert not held & allocated
    assert allocated | held | {k for k in seen if k[0] in a.unpriced} == seen


def test_a_round_across_the_hour_takes_its_attributes_in_the_hour_it_starts() -> None:
    """A round begun at 10:59:58 holds c2's reading of 11:00:03: that reading counts in hour 10, with the
    service it states there, so c2's relabel at 11:01 is no conflict and hour 10 does not lose c2's claim."""

    def s(ts: datetime, cid: str, service: str) -> Sample:
        return Sample(
            timestamp=ts, host_id="i-1", instance_type="m5.large", region="us-east-1", account="1",
            container_id=cid, container_name=cid, service=service, cluster=None, cpu_reserved_vcpu=0.0,
            cpu_used_vcpu=0.5, mem_reserved_gb=0.0, mem_used_gb=1.0,
        )  # fmt: skip

    ten = DAY + timedelta(hours=10)
    samples = [s(ten + timedelta(minutes=m, seconds=58), "c1", "web") for m in range(0, 60)]  # 10:00:58 ...
    samples += [s(ten + timedelta(hours=1, seconds=3), "c2", "batch")]  # 11:00:03, in the 10:59:58 round
    samples += [s(ten + timedelta(hours=1, minutes=m), "c1", "web") for m in range(1, 60)]
    samples += [s(ten + timedelta(hours=1, minutes=m), "c2", "reports") for m in range(1, 60)]
    got = alloc.allocate(samples, price=alloc.price_table(PRICES))
    assert not got.conflicts and alloc.check_conservation(got) == []
    assert set(shares(got, 10)) == {"web", "batch", alloc.IDLE}
    assert set(shares(got, 11)) == {"web", "reports", alloc.IDLE}
    # c2's one reading claims one round of hour 10 (60 s of 0.5 vCPU): 0.5/60 of the 2 vCPU-hours.
    cpu_part = Decimal("0.096") * 18 / 26
    batch = next(x for x in got.services if x.service == "batch")
    assert abs(batch.cpu_units - alloc.to_units(cpu_part * Decimal("0.5") / 60 / 2)) <= 1
