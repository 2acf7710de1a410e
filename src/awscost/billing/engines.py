"""The engines a bill's analyses run on: one registry, engine name -> how to open a dataset on it.

Every engine runs the same queries (analyses.py, rendered per engine by portable.py) and returns the same
Frames, so a front end or a job asks `open_bill(engine, dataset, settings)` and never knows which answers:

    duckdb  this machine (the default): a local dataset, or an S3 one through its download cache
    spark   Spark SQL (spark.py; [billing.spark]): local[N], EMR, Glue
    athena  Athena over the S3 dataset's table (athena.py; [billing.athena], `awscost billing athena-ddl`)

docs/scaling.md says when to move from one to the next.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from awscost.core.errors import InputError
from awscost.core.registry import Registry

if TYPE_CHECKING:
    from awscost.billing.analyses import Analyses
    from awscost.core.config import Settings

Opener = Callable[[str | Path, "Settings"], "Analyses"]
ENGINES: Registry[Opener] = Registry("engine", param="engine")
ENGINES.add("duckdb", "awscost.billing.bill:open_for_engine")
ENGINES.add("spark", "awscost.billing.spark:open_for_engine")
ENGINES.add("athena", "awscost.billing.athena:open_for_engine")


def open_bill(engine: str, dataset: str | Path, settings: Settings) -> Analyses:
    """The dataset at `dataset` (a directory or s3://bucket/prefix/) as a bill on `engine`."""
    return ENGINES.get(engine)(dataset, settings)


def open_source(
    engine: str, dataset: str | Path | None, files: Sequence[str | Path], settings: Settings
) -> Analyses:
    """What a job reads the bill from: a dataset on `engine`, or billing files on DuckDB, read in place
    (not copied into DuckDB first: a job asks a few questions of it once). An S3 dataset or file is reached
    with the settings' [billing.s3]."""
    if engine != "duckdb":
        if dataset is None or files:
            raise InputError(f"the {engine} engine reads a billing dataset", param="engine")
        return open_bill(engine, dataset, settings)
    from awscost.billing.bill import load
    from awscost.billing.s3 import S3Options, is_s3

    paths = [dataset] if dataset else list(files)
    if not paths:
        raise InputError("no billing data given", param="dataset", hint="--dataset DIR or --file PATH")
    s3_options = S3Options.from_settings(settings) if any(is_s3(str(p)) for p in paths) else None
    return load(paths, materialize=False, s3_options=s3_options)


__all__ = ["ENGINES", "open_bill", "open_source"]
