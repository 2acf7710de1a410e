"""The DuckDB fast path for agent JSON lines gives the same samples and allocation as the line reader."""

from __future__ import annotations

import gzip
import shutil
from decimal import Decimal
from pathlib import Path

from awscost.containers import ReadContext, ServiceNamer
from awscost.containers import allocation as alloc
from awscost.containers.readers import write_parquet
from awscost_sandbox.containers import sandbox_prices, write_logs
from awscost_sandbox.scenario import default_scenario

DATA = Path(__file__).parent / "data" / "containers"


def both(paths: list[Path], tmp: Path, ctx: ReadContext | None = None, namer: ServiceNamer | None = None):
    fast = write_parquet(paths, tmp / "fast", ctx, namer)
    slow = write_parquet(paths, tmp / "slow", ctx, namer, fast=False)
    return fast, slow


def test_fast_path_equals_line_reader_on_sandbox_logs(tmp_path: Path) -> None:
    scenario = default_scenario()
    paths = write_logs(scenario, scenario.hours(2), tmp_path / "logs")
    gz = tmp_path / "logs" / "day.jsonl.gz"
    with paths[0].open("rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    paths[0].unlink()
    fast, slow = both([gz], tmp_path)
    assert sorted(p.name for p in (tmp_path / "fast").iterdir()) == ["agent-0.parquet"]  # the fast path ran
    assert (fast.rows, fast.hosts, fast.malformed) == (slow.rows, slow.hosts, slow.malformed)
    options = alloc.Options(step_seconds=300)
    a = alloc.allocate(str(tmp_path / "fast"), options=options, price=sandbox_prices())
    b = alloc.allocate(str(tmp_path / "slow"), options=options, price=sandbox_prices())
    assert a.hosts == b.hosts and a.services == b.services


def test_fast_path_names_services_like_the_reader(tmp_path: Path) -> None:
    overrides = {"container:redis-1": {"service": "cache"}}
    ctx = ReadContext(cluster="blue")
    fast, slow = both(
        [DATA / "agent_labels.jsonl"], tmp_path, ctx, ServiceNamer("team.service", overrides.get)
    )
    assert fast.rows == slow.rows == 2 and fast.hosts == slow.hosts == {"i-0a1"}
    prices = alloc.price_table({("m5.large", "us-east-1"): Decimal("0.096")})
    a = alloc.allocate(str(tmp_path / "fast"), price=prices)
    b = alloc.allocate(str(tmp_path / "slow"), price=prices)
    assert {s.service for s in a.services} == {"payments", "cache", alloc.IDLE}
    assert {s.cluster for s in a.services if s.service != alloc.IDLE} == {"blue"}
    assert a.services == b.services


def test_bad_line_falls_back_to_the_line_reader(tmp_path: Path) -> None:
    lines = (DATA / "agent_labels.jsonl").read_text().splitlines()
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        "\n".join([lines[0], lines[1].replace('"cpu_used_vcpu":0.1', '"cpu_used_vcpu":"x"'), "{"]) + "\n"
    )
    result = write_parquet([bad], tmp_path / "out")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["samples.parquet"]
    assert [(m.line, m.reason.split(":")[0]) for m in result.malformed] == [
        (2, "cpu_used_vcpu='x' is not a number"),
        (3, "not JSON"),
    ]
    assert result.rows == 1
