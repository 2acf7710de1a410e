"""Each container's claim on its host, per host-hour, from the normalized samples: the heavy part of the
allocation (~21 M samples a month for 500 containers), run in DuckDB, which streams and spills.

- Rounds: a host's samples closer than `join` seconds are one sampling round; a round counts in the UTC hour
  it starts in, and so do its samples.
- Claims: a sample claims max(reserved, used), as an integer of 1e-9 vCPU and 1e-9 GiB. A container's claim in
  a round is the average of its distinct samples in it (a sample read twice, from two files, counts once; two
  different readings at one instant are averaged, never added), rounded to the unit; its claim in the hour is
  the sum over the hour's rounds x step / 3600 (vCPU-hours, GiB-hours, rounded to the unit). Integers all the
  way: the sums do not depend on the order in which the samples are read.
- Attributes per host-hour: the instance type, region, account and launch type of a host-hour, and the service
  and cluster of a container in it, are the values that hour's own samples state. An hour whose samples state
  none takes the host's (the container's) value when every hour that states one agrees — the input never says
  otherwise; else it stays unknown (an unpriced hour, never a guess). Two values of one attribute within one
  host-hour are a `Conflict`: that host-hour is not allocated, and the conflict names the host, the hour, the
  values and the files that state each, so the answer never depends on the order of the files.

The common case takes one pass over the samples: a container seen at most once per round (the agent, `docker
stats` every minute) needs no de-duplication, which is proved per container-hour by counting its rounds exactly
(a round start's bucket of `join` seconds is unique, so a bit per bucket counts them). Only container-hours
with a second sample in some round (a file given twice, a faster sampler) go through the exact distinct path.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FIXED = 10**9  # claims as integers of 1e-9 vCPU(-hours) / GiB(-hours)
HOUR_US = 3_600_000_000
HOST_ATTRS = ("instance_type", "region", "account", "launch_type")
CONTAINER_ATTRS = ("service", "cluster")
_MAX_BITS = 1024  # rounds per hour counted with a bitstring up to this many buckets, else count(distinct)


@dataclass(frozen=True)
class Conflict:
    """Two or more values of one attribute within one host-hour; that host-hour is not allocated."""

    host_id: str
    hour: datetime
    attribute: str  # instance_type | region | account | launch_type, or service | cluster of `container_id`
    values: tuple[tuple[str, tuple[str, ...]], ...]  # each value (sorted) and the input files stating it
    container_id: str | None = None  # None: an attribute of the host

    def __str__(self) -> str:
        who = f"host {self.host_id}" + (f" container {self.container_id}" if self.container_id else "")
        said = "; ".join(f"{v!r} in {', '.join(files) or 'an unnamed input'}" for v, files in self.values)
        return f"{who} {self.hour:%Y-%m-%dT%H}:00Z: {self.attribute} is {said}"

    def to_json(self) -> dict[str, Any]:
        return {
            "host_id": self.host_id,
            "hour": self.hour.strftime("%Y-%m-%dT%H:00:00Z"),
            "container_id": self.container_id,
            "attribute": self.attribute,
            "values": {v: list(files) for v, files in self.values},
        }


@dataclass
class Claims:
    # (host_id, hour number, rounds, instance_type, region, account, launch_type, host_vcpu, host_mem_gb,
    #  container_id, service, cluster, cpu claim, memory claim (both FIXED units x hours), step seconds);
    # sorted by host, hour, service, container; host-hours with a conflict left out
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    hostless: int = 0  # samples naming no host


def source_sql(con: Any, source: Any) -> str:
    """The FROM text for `source`: a Parquet file, glob or directory, or an Arrow table (registered)."""
    if isinstance(source, str | Path):
        pattern = str(Path(source) / "*.parquet") if Path(source).is_dir() else str(source)
        return "read_parquet('" + pattern.replace("'", "''") + "', union_by_name = true)"
    con.register("samples_src", source)
    return "samples_src"


def _fixed(column: str) -> str:
    """SQL: a claim in integer units; NULL, NaN, infinite and negative readings claim nothing. The cap
    (1e9 vCPU or GiB) only keeps a corrupt reading from overflowing the integer."""
    return (
        f"(case when isfinite({column}) and {column} > 0 "
        f"then round(least({column}, 1e9) * {FIXED})::bigint else 0 end)"
    )


def _lo_hi(columns: tuple[str, ...]) -> str:
    """SQL: each column's range over the group's samples (NULLs state nothing)."""
    return ", ".join(f"min({c}) as {c}_lo, max({c}) as {c}_hi" for c in columns)


def _ranges(columns: tuple[str, ...]) -> str:
    """SQL: the ranges of grouped ranges."""
    return ", ".join(f"min({c}_lo) as {c}_lo, max({c}_hi) as {c}_hi" for c in columns)


def _fill(hour: str, whole: str, column: str) -> str:
    """SQL: the hour's value, else the value every hour that states one agrees on, else NULL."""
    return (
        f"coalesce({hour}.{column}_lo, case when {whole}.{column}_lo = {whole}.{column}_hi "
        f"then {whole}.{column}_lo end) as {column}"
    )


def aggregate(
    source: Any,
    *,
    step_seconds: int | None,
    default_step: int,
    round_seconds: int,
    memory_limit: str,
) -> Claims:
    """Claims per host-hour x container of `source` (an Arrow table, or Parquet as `readers.write_parquet`
    writes it), the host-hours' attributes, and the conflicts found."""
    import duckdb

    from awscost.billing.engine import spill_to_tmp

    if step_seconds is None:
        join_us = round_seconds * 1_000_000
        step_expr = f"coalesce(round(median(next_gap) / 1e6), {int(default_step)})::bigint"
    else:
        join_us = int(min(round_seconds, step_seconds / 2) * 1_000_000)
        step_expr = f"{int(step_seconds)}::bigint"
    join_us = max(join_us, 1)
    buckets = (HOUR_US - 1) // join_us + 1
    rounds_seen = (
        f"bit_count(bitstring_agg((k % {HOUR_US}) // {join_us}, 0, {buckets - 1}))"
        if buckets <= _MAX_BITS
        else "count(distinct k)"
    )
    con = duckdb.connect()
    try:
        spill_to_tmp(con)
        for setting in (
            f"memory_limit='{memory_limit}'",
            "preserve_insertion_order=false",
            "TimeZone='UTC'",
            "enable_progress_bar=false",
        ):
            con.execute(f"set {setting}")
        src = source_sql(con, source)
        # Every sample with its round's start `k` (the sample's own time unless it joined a round begun
        # before it: only those stamps are looked up, usually none).
        keyed = f"""(select s.*, coalesce(m.start, epoch_us(s.timestamp)) as k from {src} s
                     left join moved m on s.host_id = m.host_id and epoch_us(s.timestamp) = m.t
                     where s.host_id is not null)"""
        con.execute(f"""
            create temp table rounds as
            with stamps as (
              select distinct host_id, epoch_us(timestamp) as t from {src} where host_id is not null
            ),
            gaps as (select host_id, t, t - lag(t) over (partition by host_id order by t) as gap from stamps)
            select host_id, t, max(case when gap is null or gap > {join_us} then t end)
                     over (partition by host_id order by t rows between unbounded preceding and current row)
                   as start
            from gaps""")
        con.execute("create temp table moved as select host_id, t, start from rounds where t <> start")
        con.execute(f"""
            create temp table host_rounds as
            select host_id, start // {HOUR_US} as hour, count(*) as rounds from rounds where t = start
            group by 1, 2""")
        con.execute(f"""
            create temp table host_step as
            select host_id, {step_expr} as step from (
              select host_id, lead(start) over (partition by host_id order by start) - start as next_gap
              from rounds where t = start
            ) group by host_id""")
        # One pass: per container-hour its samples, the rounds they fall in, the sum of their claims and the
        # range of each attribute.
        con.execute(f"""
            create temp table agg as
            select host_id, container_id, k // {HOUR_US} as hour, count(*) as n, {rounds_seen} as nr,
                   sum({_fixed("greatest(cpu_reserved_vcpu, cpu_used_vcpu)")}) as cpu,
                   sum({_fixed("greatest(mem_reserved_gb, mem_used_gb)")}) as mem,
                   {_lo_hi(CONTAINER_ATTRS + HOST_ATTRS)},
                   max(host_vcpu) as host_vcpu, max(host_mem_gb) as host_mem_gb
            from {keyed} group by 1, 2, 3""")
        _exact_where_repeated(con, keyed)
        host_conflict = " or ".join(f"{c}_lo <> {c}_hi" for c in HOST_ATTRS)
        container_conflict = " or ".join(f"{c}_lo <> {c}_hi" for c in CONTAINER_ATTRS)
        con.execute(f"""
            create temp table host_hour as
            select *, coalesce({host_conflict}, false) or container_conflict as conflict from (
              select host_id, hour,
                     {_ranges(HOST_ATTRS)},
                     -- sizes: the largest the hour reports (a cpuset-limited container sees fewer CPUs)
                     max(host_vcpu) as host_vcpu_lo, max(host_vcpu) as host_vcpu_hi,
                     max(host_mem_gb) as host_mem_gb_lo, max(host_mem_gb) as host_mem_gb_hi,
                     coalesce(bool_or({container_conflict}), false) as container_conflict
              from agg group by 1, 2
            )""")
        numbers = ("host_vcpu", "host_mem_gb")
        rows = con.execute(f"""
            with host_all as (
              select host_id, {_ranges(HOST_ATTRS + numbers)}
              from host_hour group by host_id
            ),
            container_all as (
              select host_id, container_id, {_ranges(CONTAINER_ATTRS)}
              from agg group by 1, 2
            )
            select a.host_id, a.hour, r.rounds, {", ".join(_fill("h", "ha", c) for c in HOST_ATTRS + numbers)},
                   a.container_id, {", ".join(_fill("a", "ca", c) for c in CONTAINER_ATTRS)},
                   (a.cpu * st.step * 2 + 3600) // 7200 as cpu_claim,
                   (a.mem * st.step * 2 + 3600) // 7200 as mem_claim, st.step
            from agg a
            join host_hour h using (host_id, hour)
            join host_all ha using (host_id)
            join container_all ca using (host_id, container_id)
            join host_rounds r using (host_id, hour)
            join host_step st using (host_id)
            where not h.conflict
            order by a.host_id, a.hour, service, a.container_id""").fetchall()
        conflicts = _conflicts(con, src, keyed)
        hostless = con.execute(f"select count(*) from {src} where host_id is null").fetchone()
        return Claims(rows, conflicts, int(hostless[0]) if hostless else 0)
    finally:
        con.close()


def _exact_where_repeated(con: Any, keyed: str) -> None:
    """Container-hours with more samples than rounds (a sample read twice, or two readings in one round):
    their claims recomputed from the distinct samples, averaged per round (rounded to the unit)."""
    found = con.execute("select count(*) from agg where n <> nr").fetchone()
    if not found or not found[0]:
        return
    con.execute(f"""
        create temp table exact as
        select host_id, container_id, hour, sum(cpu) as cpu, sum(mem) as mem from (
          select host_id, container_id, k // {HOUR_US} as hour,
                 (2 * sum(cpu) + count(*)) // (2 * count(*)) as cpu,
                 (2 * sum(mem) + count(*)) // (2 * count(*)) as mem
          from (
            select distinct s.host_id, s.container_id, s.k, epoch_us(s.timestamp) as t,
                   {_fixed("greatest(s.cpu_reserved_vcpu, s.cpu_used_vcpu)")} as cpu,
                   {_fixed("greatest(s.mem_reserved_gb, s.mem_used_gb)")} as mem,
                   s.cpu_reserved_vcpu, s.cpu_used_vcpu, s.mem_reserved_gb, s.mem_used_gb
            from {keyed} s
            semi join (select host_id, container_id, hour from agg where n <> nr) r
              on s.host_id = r.host_id and s.container_id = r.container_id and s.k // {HOUR_US} = r.hour
          ) group by host_id, container_id, k
        ) group by 1, 2, 3""")
    con.execute("""
        update agg set cpu = e.cpu, mem = e.mem from exact e
        where agg.host_id = e.host_id and agg.container_id = e.container_id and agg.hour = e.hour""")


def _conflicts(con: Any, src: str, keyed: str) -> list[Conflict]:
    """The conflicts of the host-hours held out, each value with the files that state it."""
    held = con.execute("select host_id, hour from host_hour where conflict").fetchall()
    if not held:
        return []
    names = {d[0] for d in con.execute(f"select * from {src} limit 0").description}
    file_col = "s.source_file" if "source_file" in names else "null"
    attrs = HOST_ATTRS + CONTAINER_ATTRS
    rows = con.execute(f"""
        select distinct s.host_id, s.k // {HOUR_US} as hour, s.container_id, {", ".join(f"s.{c}" for c in attrs)},
               {file_col} as source_file
        from {keyed} s semi join (select host_id, hour from host_hour where conflict) c
          on s.host_id = c.host_id and s.k // {HOUR_US} = c.hour""").fetchall()
    # (host, hour, container or None, attribute) -> value -> files
    seen: dict[tuple[str, int, str | None, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for row in rows:
        host, hour, container = row[0], int(row[1]), row[2]
        source = row[-1]
        for i, attr in enumerate(attrs):
            value = row[3 + i]
            if value is None:
                continue
            key = (host, hour, None if attr in HOST_ATTRS else container, attr)
            files = seen[key][str(value)]
            if source is not None:
                files.add(str(source))
    out = []
    for (host, hour, container, attr), values in seen.items():
        if len(values) > 1:
            out.append(
                Conflict(
                    host_id=str(host),
                    hour=datetime.fromtimestamp(hour * 3600, tz=UTC),
                    attribute=attr,
                    values=tuple((v, tuple(sorted(values[v]))) for v in sorted(values)),
                    container_id=None if container is None else str(container),
                )
            )
    order = {a: i for i, a in enumerate(attrs)}
    out.sort(
        key=lambda c: (
            c.host_id,
            c.hour,
            c.container_id is not None,
            c.container_id or "",
            order[c.attribute],
        )
    )
    return out
