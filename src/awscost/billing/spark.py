"""`SparkBill`: the bill analyses on Spark SQL, over the same parquet dataset DuckDB reads.

For a bill bigger than one machine (docs/scaling.md): the analyses are the very queries of `analyses.py`,
rendered for Spark by `portable.py`, so a figure from Spark is the figure DuckDB gives (tests/test_spark.py
holds them equal on every analysis, to the last decimal). pyspark is the optional `spark` extra; a session
is local (`local[2]` by default) or whatever `master` names (EMR's `yarn`; on Glue, pass the job's own
session as `spark=`).

The dataset is read with the canonical schema given, never inferred: money is DECIMAL(38,18) as the dataset
stores it (Spark's sums stay exact decimals), timestamps are TIMESTAMP_NTZ (the dataset's naive UTC, never
shifted by a session time zone), and no footer of any file is read to plan the scan. Which files: those the
dataset's marker (local) or manifest (S3) lists, never a listing of the prefix, which would also read the
superseded objects an S3 dataset keeps for one load. An S3 dataset is read through awscost's own download
cache by default (Spark here has no S3 filesystem: hadoop-aws is not part of pyspark's wheel); with
`direct=True` Spark reads the listed objects itself (`s3://` on EMR and Glue, whose S3 filesystems are
built in; `scheme="s3a"` where hadoop-aws is installed).

[billing.spark] of awscost.toml: `master` (default local[2]), `direct` (bool), `scheme` ("s3"), and `conf`,
a table of Spark settings passed as they are (e.g. spark.driver.memory).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from awscost.billing.analyses import TABLE, Analyses
from awscost.billing.frame import Frame, plain
from awscost.billing.portable import render
from awscost.billing.schema import CANONICAL
from awscost.core.errors import ConfigError, InputError

if TYPE_CHECKING:
    from awscost.billing.s3 import S3Options
    from awscost.core.config import Settings

DEFAULT_MASTER = "local[2]"
_KEYS = ("master", "direct", "scheme", "conf")
# The canonical DuckDB types as Spark's: text, money, naive timestamps and the two string maps.
_SPARK_TYPES = {
    "VARCHAR": "STRING",
    "DECIMAL(38,18)": "DECIMAL(38,18)",
    "TIMESTAMP": "TIMESTAMP_NTZ",
    "MAP(VARCHAR, VARCHAR)": "MAP<STRING, STRING>",
}


@dataclass(frozen=True)
class SparkOptions:
    master: str = DEFAULT_MASTER
    direct: bool = False
    scheme: str = "s3"
    conf: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> SparkOptions:
        raw = settings.section("billing").get("spark", {})
        where = f"{settings.config_path or 'awscost.toml'} [billing.spark]"
        if not isinstance(raw, dict):
            raise ConfigError("[billing.spark] must be a table", where=where)
        unknown = sorted(set(raw) - set(_KEYS))
        if unknown:
            raise ConfigError(
                f"unknown key(s) {', '.join(unknown)}; expected {', '.join(_KEYS)}", where=where
            )
        master = raw.get("master", DEFAULT_MASTER)
        if not isinstance(master, str) or not master.strip():
            raise ConfigError("master must be a non-empty string, e.g. local[4] or yarn", where=where)
        direct = raw.get("direct", False)
        if not isinstance(direct, bool):
            raise ConfigError("direct must be true or false", where=where)
        scheme = raw.get("scheme", "s3")
        if scheme not in ("s3", "s3a"):
            raise ConfigError(f"scheme must be s3 or s3a, not {scheme!r}", where=where)
        conf = raw.get("conf", {})
        if not isinstance(conf, dict) or not all(isinstance(k, str) for k in conf):
            raise ConfigError("conf must be a table of Spark settings", where=where)
        return cls(
            master=master.strip(), direct=direct, scheme=scheme, conf={k: str(v) for k, v in conf.items()}
        )


def spark_schema() -> str:
    """The canonical columns as a Spark DDL schema string, derived from schema.py (never a second list)."""
    return ", ".join(f"`{name}` {_SPARK_TYPES[typ]}" for name, typ in CANONICAL.items())


def session(options: SparkOptions | None = None) -> Any:
    """A Spark session for the analyses: UTC, no UI, shuffles sized for the master (the default 200
    partitions cost more than a small group-by on local[2])."""
    options = options or SparkOptions()
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise InputError(
            "the spark engine needs pyspark", param="engine", hint="pip install 'awscost[spark]' (Java 17+)"
        ) from None
    builder = (
        SparkSession.builder.master(options.master)
        .appName("awscost")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")  # a progress bar would garble a command's output
        .config("spark.sql.runSQLOnFiles", "false")  # SELECT ... FROM parquet.`/any/file`: not through us
        .config("spark.sql.shuffle.partitions", "4" if options.master.startswith("local") else "200")
    )
    for key, value in options.conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")  # Spark's INFO/WARN lines are not the command's output
    return spark


class SparkBill(Analyses):
    """The analyses over parquet files in a Spark session (the caller's session stays open on close)."""

    engine = "spark"

    def __init__(self, spark: Any, paths: list[str], *, source: str, owns_session: bool = False) -> None:
        self.spark = spark
        self.source = source
        self._owns = owns_session  # a session this bill started is stopped on close; a caller's stays
        if paths:
            self._df = spark.read.schema(spark_schema()).parquet(*paths)
        else:
            self._df = spark.createDataFrame([], spark_schema())

    def __enter__(self) -> SparkBill:
        return self

    def close(self) -> None:
        self.spark.catalog.dropTempView(TABLE)
        if self._owns:
            self.spark.stop()

    def _run(self, query: str, written: str) -> Frame:
        with self._asked(query) as df:
            rows = df.collect()
        return Frame(df.columns, [tuple(plain(v) for v in row) for row in rows])

    def arrow(self, query: str) -> Any:
        """Spark's own Arrow batches (DataFrame.toArrow): no Row object per group on the way. Measured on
        the cost cube's scan of 1 M rows (~460 k groups): collect() and Python rows took 67 s, Arrow 4.3 s."""
        with self._asked(render(query, self.engine)) as df:
            if hasattr(df, "toArrow"):
                return df.toArrow()
            # Spark 3.x (Glue 5.0's 3.5) has no toArrow: through pandas, Decimal objects kept (untested here,
            # where pyspark is 4.x; docs/scaling.md says so).
            import pyarrow as pa

            return pa.Table.from_pandas(df.toPandas(), preserve_index=False)

    @contextmanager
    def _asked(self, query: str) -> Iterator[Any]:
        """The DataFrame of `query` (Spark SQL) over this bill's files; Spark's refusal as an InputError."""
        from pyspark.errors import AnalysisException, ParseException

        # The view is this bill's files; set before each query, since two bills may share a session.
        self._df.createOrReplaceTempView(TABLE)
        from py4j.protocol import Py4JError
        from pyspark.errors import PySparkException

        try:
            yield self.spark.sql(query)
        except (AnalysisException, ParseException) as exc:  # the query: a column, a function, the syntax
            raise InputError(f"spark: {_first_line(exc)}", where=f"query of {self.source}") from None
        except (PySparkException, Py4JError) as exc:  # running it: a file gone, an overflow, the JVM
            raise InputError(
                f"spark could not run the query: {_first_line(exc)}", where=self.source
            ) from None


def _active_session() -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError:  # session() says how to install it
        return None
    return SparkSession.getActiveSession()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def dataset_paths(
    location: str | Path, *, s3_options: S3Options | None = None, direct: bool = False, scheme: str = "s3"
) -> list[str]:
    """The parquet files of a dataset as Spark reads them: the marker's (local) or the manifest's (S3)."""
    from awscost.billing import dataset as ds
    from awscost.billing import s3_dataset
    from awscost.billing.s3 import S3Location, client, is_s3
    from awscost.billing.sources import DATASET_MARKER, is_dataset

    if is_s3(location):
        url = str(location)
        if not direct:
            _, files = s3_dataset.open_dataset(url, s3_options)
            return [str(f) for f in files]
        loc = S3Location.parse(url, folder=True)
        manifest, _ = s3_dataset.read_manifest(client(s3_options), loc)
        if manifest is None:
            raise InputError(f"not an awscost billing dataset (no {DATASET_MARKER})", where=loc.url())
        ds.warn_stale(manifest, loc.url())
        urls = [loc.url(loc.key(o["key"])) for info in manifest["periods"].values() for o in info["objects"]]
        return [f"{scheme}://{u.removeprefix('s3://')}" for u in urls]
    root = Path(location)
    ds.recover(root)
    if not is_dataset(root):
        raise InputError(
            "not an awscost billing dataset (run `awscost billing load --into`)", where=str(root)
        )
    marker = ds.read_marker(root)
    ds.warn_stale(marker, str(root))
    return [
        str(f)
        for period in marker["periods"]
        for f in sorted((root / f"{ds.PARTITION}={period}").glob("*.parquet"))
    ]


def open_dataset(
    location: str | Path,
    *,
    spark: Any = None,
    options: SparkOptions | None = None,
    s3_options: S3Options | None = None,
) -> SparkBill:
    """A dataset (a directory, or s3://bucket/prefix/) as a SparkBill; `spark` defaults to the active session,
    else a new `session(options)`, stopped when the bill is closed."""
    options = options or SparkOptions()
    paths = dataset_paths(location, s3_options=s3_options, direct=options.direct, scheme=options.scheme)
    if spark is None:
        spark = _active_session()  # a notebook's or a test's: used, and left running
        if spark is None:
            return SparkBill(session(options), paths, source=str(location), owns_session=True)
    return SparkBill(spark, paths, source=str(location))


def open_for_engine(dataset: str | Path, settings: Settings) -> SparkBill:
    """The `spark` entry of billing/engines.py: [billing.spark] for the session, [billing.s3] for S3."""
    from awscost.billing.s3 import S3Options, is_s3

    s3_options = S3Options.from_settings(settings) if is_s3(dataset) else None
    return open_dataset(dataset, options=SparkOptions.from_settings(settings), s3_options=s3_options)


__all__ = [
    "SparkBill",
    "SparkOptions",
    "dataset_paths",
    "open_dataset",
    "open_for_engine",
    "session",
    "spark_schema",
]
