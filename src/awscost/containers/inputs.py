"""Reading the container usage inputs a user names: files as given, directories by their log files, into
memory or streamed to Parquet (memory stays bounded whatever the input size)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from awscost.containers.identity import ServiceNamer
from awscost.containers.readers import ReadContext, read_inputs, write_parquet
from awscost.containers.samples import ReadResult
from awscost.core.errors import InputError

INPUT_SUFFIXES = (".json", ".jsonl", ".log", ".gz")


def expand_inputs(inputs: Iterable[str | Path]) -> list[Path]:
    """Files as given; directories by their *.json, *.jsonl, *.log and *.gz files, sorted."""
    out: list[Path] = []
    for raw in inputs:
        p = Path(raw)
        if not p.exists():
            raise InputError("no such file or directory", where=str(p))
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and f.suffix in INPUT_SUFFIXES)
        else:
            out.append(p)
    return out


def read_container_inputs(
    inputs: Iterable[str | Path],
    context: ReadContext,
    *,
    label: str | None = None,
    lookup: Any = None,
    parquet: Path | None = None,
) -> ReadResult:
    """Every sample of `inputs` (formats detected per line), service names by `label` / the map table's
    overrides (`lookup`); streamed to Parquet files in `parquet` when given. Malformed lines are skipped and
    listed in the result; no usable sample at all is an InputError."""
    names = [str(i) for i in inputs]
    paths = expand_inputs(names)
    namer = ServiceNamer(label, lookup)
    result = (
        write_parquet(paths, parquet, context, namer)
        if parquet is not None
        else read_inputs(paths, context, namer)
    )
    if not result.rows:
        bad = result.malformed
        raise InputError(
            "no usable container samples in the input",
            where=", ".join(names),
            hint=f"{len(bad)} malformed line(s), the first {bad[0]}"
            if bad
            else "are these container usage logs?",
        )
    return result
