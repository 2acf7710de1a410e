"""Athena over the billing dataset in S3: the table's DDL, the symlink files it reads, and an engine that runs
one SQL query through the Athena API and returns a `Frame`.

Why symlinks. A dataset's prefix holds, beside the objects its manifest lists, the objects the previous load
replaced (kept one more load for readers of the previous manifest, `s3_dataset.py`) and those of killed
loads. A table over the period folders would read them all and count a re-delivered month twice. So the
table reads `prefix/_athena/x_BillingPeriod=YYYY-MM/symlink.txt` instead (SymlinkTextInputFormat: each line
the full `s3://` URL of one parquet object), which lists exactly the objects the manifest in place lists for
that period, its data parts and its amortization rows. A load writes them right after its manifest swap (the
commit point) and deletes the files of periods the manifest no longer holds (`sync_symlinks`); every load
compares every period's file with its manifest, so one killed between its swap and its symlinks is repaired
by the next load that lands. Until then the files name the previous manifest's objects, which stay in S3
until that next load (superseded keys go one load later, and only after the symlinks stop naming them):
Athena reads the previous dataset whole, one load behind, never a mix within a period nor a missing object.

The table (`athena_ddl`): every canonical column but the partition key, in canonical order, with the Hive
type of its schema.py type; `x_BillingPeriod` is the partition column, projected (partition projection: no
Glue partitions to add) as a month from the dataset's first period to NOW. Queries pay per byte scanned:
`AthenaOptions.max_bytes_scanned` stops a query past it, and the workgroup's own BytesScannedCutoffPerQuery
is the limit Athena enforces itself (docs/athena.md).

`[billing.athena]` in awscost.toml:

    [billing.athena]
    database = "awscost"            # Glue database of the table
    table = "billing"
    workgroup = "primary"
    output_location = "s3://..."    # query results; optional when the workgroup enforces its own
    max_bytes_scanned = 10000000000 # optional: awscost stops a query scanning more
    region = "us-east-1"            # optional: the Athena region (default: the environment's)
    poll_seconds = 1.0              # between GetQueryExecution calls
"""

from __future__ import annotations

import contextlib
import re
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation, localcontext
from typing import TYPE_CHECKING, Any

from awscost.billing.analyses import Analyses
from awscost.billing.dataset import PARTITION
from awscost.billing.frame import Frame
from awscost.billing.s3 import S3Location, S3Options
from awscost.billing.schema import CANONICAL
from awscost.core.errors import AwsAccessError, AwsCostWarning, ConfigError, InputError

if TYPE_CHECKING:
    from awscost.core.config import Settings

ATHENA_DIR = "_athena"  # under the dataset prefix: one folder per period, each with its symlink file
SYMLINK_FILE = "symlink.txt"
# Athena's SQL price: $5.00 per TB scanned, each query rounded up to the megabyte with a 10 MB minimum
# (aws.amazon.com/athena/pricing, "SQL queries", us-east-1 and most regions). TB and MB in bytes as AWS bills
# data (2^40, 2^20). A failed query is not charged; a cancelled or stopped one is, for what it scanned.
PRICE_PER_TB_USD = Decimal("5.00")
TB = 2**40
MB = 2**20
MIN_BILLED_BYTES = 10 * MB

_OPTION_KEYS = (
    "database",
    "table",
    "workgroup",
    "output_location",
    "max_bytes_scanned",
    "region",
    "poll_seconds",
)
# Athena lower-cases table and database names and allows no special character but '_' (Athena's "Names for
# tables, databases, and columns"); a leading digit would need quoting in every query.
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,254}$")
_WORKGROUP = re.compile(r"^[a-zA-Z0-9._-]{1,128}$")
# Athena's ErrorCategory: 1 system, 2 user (the query or its input), 3 other.
_USER_ERROR = 2
_DONE = ("SUCCEEDED", "FAILED", "CANCELLED")
_ACCESS_CODES = ("AccessDeniedException", "AccessDenied", "UnrecognizedClientException")


def _name_problem(key: str, value: Any) -> str | None:
    if key == "workgroup":
        ok = isinstance(value, str) and bool(_WORKGROUP.match(value))
        return None if ok else f"workgroup {value!r} is not a workgroup name (letters, digits, '.', '_', '-')"
    if isinstance(value, str) and _NAME.match(value):
        return None
    return (
        f"{key} {value!r} is not an Athena name: lower-case letters, digits and '_', not starting with a "
        "digit (Athena lower-cases names)"
    )


@dataclass(frozen=True)
class AthenaOptions:
    """Where and how queries run (see the module's docstring)."""

    database: str = "awscost"
    table: str = "billing"
    workgroup: str = "primary"
    output_location: str | None = None
    max_bytes_scanned: int | None = None
    region: str | None = None
    poll_seconds: float = 1.0

    @classmethod
    def from_settings(cls, settings: Settings) -> AthenaOptions:
        from awscost.core.config import validate_region

        raw, where = settings.subtable("billing", "athena", _OPTION_KEYS)
        values: dict[str, Any] = {}
        for key in ("database", "table", "workgroup"):
            if key in raw:
                problem = _name_problem(key, raw[key])
                if problem:
                    raise ConfigError(problem, where=where)
                values[key] = raw[key]
        if "output_location" in raw:
            value = raw["output_location"]
            if not isinstance(value, str) or not value.startswith("s3://"):
                raise ConfigError(f"output_location must be an s3:// URL, not {value!r}", where=where)
            try:
                S3Location.parse(value)
            except InputError as exc:
                raise ConfigError(f"output_location: {exc.message}", where=where) from None
            values["output_location"] = value
        if "max_bytes_scanned" in raw:
            value = raw["max_bytes_scanned"]
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ConfigError(f"max_bytes_scanned must be a positive integer, not {value!r}", where=where)
            values["max_bytes_scanned"] = value
        if "region" in raw:
            value = raw["region"]
            if not isinstance(value, str):
                raise ConfigError(f"region must be a string, not {value!r}", where=where)
            values["region"] = validate_region(value, where=where)
        if "poll_seconds" in raw:
            value = raw["poll_seconds"]
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 60:
                raise ConfigError(
                    f"poll_seconds must be a number of seconds in (0, 60], not {value!r}", where=where
                )
            values["poll_seconds"] = float(value)
        return cls(**values)

    def with_names(self, database: str | None = None, table: str | None = None) -> AthenaOptions:
        """These options with the database and table a caller names (the command line's --database, --table)."""
        for key, value in (("database", database), ("table", table)):
            if value is not None:
                problem = _name_problem(key, value)
                if problem:
                    raise InputError(problem, param=key)
        return replace(self, database=database or self.database, table=table or self.table)


# ---------------------------------------------------------------------------------------------------------
# The table


def hive_type(duckdb_type: str) -> str:
    """The Hive DDL type of a canonical (DuckDB) column type, rendered by sqlglot: VARCHAR -> string,
    DECIMAL(p,s) -> decimal(p,s), TIMESTAMP -> timestamp, MAP(VARCHAR, VARCHAR) -> map<string,string>, ...
    A type Athena's Hive tables have no twin for (HUGEINT, UUID, a time zone) is a ValueError: the schema
    changed, and the table must say how."""
    from sqlglot import exp

    supported = {
        exp.DataType.Type.TEXT,
        exp.DataType.Type.VARCHAR,
        exp.DataType.Type.CHAR,
        exp.DataType.Type.DECIMAL,
        exp.DataType.Type.TIMESTAMP,
        exp.DataType.Type.TIMESTAMPNTZ,
        exp.DataType.Type.DATE,
        exp.DataType.Type.BOOLEAN,
        exp.DataType.Type.TINYINT,
        exp.DataType.Type.SMALLINT,
        exp.DataType.Type.INT,
        exp.DataType.Type.BIGINT,
        exp.DataType.Type.FLOAT,
        exp.DataType.Type.DOUBLE,
        exp.DataType.Type.MAP,
        exp.DataType.Type.ARRAY,
        exp.DataType.Type.STRUCT,
    }
    dtype = exp.DataType.build(duckdb_type, dialect="duckdb")
    for node in dtype.find_all(exp.DataType):
        if node.this not in supported:
            raise ValueError(f"no Athena (Hive) type for {duckdb_type!r} ({node.this.name})")
    return dtype.sql("hive").lower().replace(", ", ",")


def _literal(text: str, what: str) -> str:
    """A Hive string literal: the dataset's URL goes into the DDL as text, so it must hold no quote."""
    if "'" in text or "\\" in text:
        raise InputError(
            f"the {what} holds a quote or backslash, which the table's DDL cannot carry", where=text
        )
    return f"'{text}'"


def athena_ddl(dataset_url: str, manifest: Mapping[str, Any], options: AthenaOptions | None = None) -> str:
    """`CREATE EXTERNAL TABLE IF NOT EXISTS` of the dataset at `dataset_url` (its manifest `manifest`) for
    Athena: parquet read through the `_athena/` symlink files, partitioned by `x_BillingPeriod`, projected.

    From Athena's documentation (Athena User Guide): identifiers in DDL are quoted with backticks ("Names for
    tables, databases, and columns"); Athena lower-cases column names, so the projection properties name the
    partition column lower-cased (`projection.x_billingperiod.*`, `${x_billingperiod}`), as the column is
    stored in Glue; a date projection needs `type`, `range` (both ends in `format`, or NOW), `format` (a Java
    DateTimeFormatter pattern) and, at month precision, `interval` 1 and `interval.unit` MONTHS ("Supported
    types for partition projection"); `storage.location.template` holds a placeholder per partition column
    and ends with '/' ("Setting up partition projection"). The SerDe and formats are those Athena reads a
    symlink table of parquet with (Delta Lake's "Presto and Athena integration" manifests, the same format).

    Money columns are declared with the type the parquet files hold: schema.MONEY, DECIMAL(38,18), for every
    period. The manifest's `money_types` (dataset.money_types / table.widest) say which columns *fit*
    DECIMAL(18,10), the narrower storage DuckDB's own table uses; the files keep the canonical type, and a
    Hive table declaring another decimal than its files is read differently by each engine (NULLs in Spark,
    errors in others), so the table follows the files, as tests/test_athena.py checks against a loaded
    object's schema."""
    loc = S3Location.parse(dataset_url, folder=True)
    periods = sorted(manifest.get("periods", {}))
    if not periods:
        raise InputError("the dataset holds no billing period yet: load one first", where=loc.url())
    options = options or AthenaOptions()
    column = PARTITION.lower()  # as Glue stores it
    root = loc.url(loc.key(ATHENA_DIR)) + "/"
    columns = ",\n".join(
        f"  `{name}` {hive_type(kind)}" for name, kind in CANONICAL.items() if name != PARTITION
    )
    properties = {
        "projection.enabled": "true",
        f"projection.{column}.type": "date",
        f"projection.{column}.format": "yyyy-MM",
        f"projection.{column}.range": f"{periods[0]},NOW",
        f"projection.{column}.interval": "1",
        f"projection.{column}.interval.unit": "MONTHS",
        "storage.location.template": f"{root}{PARTITION}=${{{column}}}/",
    }
    props = ",\n".join(
        f"  {_literal(k, 'property')} = {_literal(v, 'dataset URL')}" for k, v in properties.items()
    )
    return (
        f"CREATE EXTERNAL TABLE IF NOT EXISTS `{options.database}`.`{options.table}` (\n{columns}\n)\n"
        f"PARTITIONED BY (`{PARTITION}` {hive_type(CANONICAL[PARTITION])})\n"
        "ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'\n"
        "STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat'\n"
        "OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'\n"
        f"LOCATION {_literal(root, 'dataset URL')}\n"
        f"TBLPROPERTIES (\n{props}\n)\n"
    )


# ---------------------------------------------------------------------------------------------------------
# The symlink files


def symlink_key(loc: S3Location, period: str) -> str:
    """The key of a period's symlink file: `prefix/_athena/x_BillingPeriod=YYYY-MM/symlink.txt`."""
    return loc.key(ATHENA_DIR, f"{PARTITION}={period}", SYMLINK_FILE)


def symlink_body(loc: S3Location, info: Mapping[str, Any]) -> bytes:
    """A period's symlink file: the full URL of each object its manifest entry lists, one a line."""
    return "".join(loc.url(loc.key(o["key"])) + "\n" for o in info["objects"]).encode()


@dataclass(frozen=True)
class SymlinkPlan:
    """What makes `_athena/` hold exactly the manifest's objects: files to write (key -> body), to delete."""

    write: dict[str, bytes]
    delete: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.write or self.delete)


def _athena_keys(s3: Any, loc: S3Location) -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=loc.bucket, Prefix=loc.key(ATHENA_DIR) + "/"
    ):
        keys.extend(o["Key"] for o in page.get("Contents", []))
    return keys


def _read_body(s3: Any, bucket: str, key: str) -> bytes | None:
    from botocore.exceptions import ClientError

    try:
        return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code")) in ("NoSuchKey", "404", "NotFound"):
            return None  # deleted since the listing: written again
        raise


def symlink_plan(s3: Any, loc: S3Location, manifest: Mapping[str, Any]) -> SymlinkPlan:
    """Compare `_athena/` with the manifest: one listing, one GET per period file there (they are tiny)."""
    from concurrent.futures import ThreadPoolExecutor

    from botocore.exceptions import BotoCoreError, ClientError

    wanted = {symlink_key(loc, p): symlink_body(loc, info) for p, info in manifest["periods"].items()}
    try:
        existing = _athena_keys(s3, loc)
        held = [k for k in existing if k in wanted]
        with ThreadPoolExecutor(4) as pool:  # boto3 clients are thread-safe
            bodies = dict(zip(held, pool.map(lambda k: _read_body(s3, loc.bucket, k), held), strict=True))
    except (ClientError, BotoCoreError) as exc:
        raise _s3_error(exc, "read the Athena symlink files", loc) from None
    return SymlinkPlan(
        write={k: body for k, body in wanted.items() if bodies.get(k) != body},
        delete=tuple(sorted(k for k in existing if k not in wanted)),
    )


def _s3_error(exc: Exception, what: str, loc: S3Location) -> AwsAccessError:
    from awscost.aws.errors import failure_reason

    return AwsAccessError(f"cannot {what}: {failure_reason(exc)}", where=loc.url(loc.key(ATHENA_DIR)) + "/")


def sync_symlinks(
    s3: Any, loc: S3Location, manifest: Mapping[str, Any], options: S3Options | None = None
) -> SymlinkPlan:
    """Write the period symlink files that differ from `manifest` (with `options.put_args()`: SSE-KMS when
    `kms_key_id` is set) and delete those of periods it does not hold. Returns what was done; a failure is an
    AwsAccessError (some files may be written: each one is whole, a period reads one manifest or the other)."""
    from botocore.exceptions import BotoCoreError, ClientError

    plan = symlink_plan(s3, loc, manifest)
    put_args = (options or S3Options()).put_args()
    try:
        for key, body in sorted(plan.write.items()):
            s3.put_object(Bucket=loc.bucket, Key=key, Body=body, ContentType="text/plain", **put_args)
        if plan.delete:
            response = s3.delete_objects(
                Bucket=loc.bucket, Delete={"Objects": [{"Key": k} for k in plan.delete], "Quiet": True}
            )
            if response.get("Errors"):
                first = response["Errors"][0]
                raise AwsAccessError(
                    f"cannot delete the Athena symlink file of a period the dataset no longer holds: "
                    f"{first.get('Code')}: {first.get('Message')}",
                    where=loc.url(first.get("Key", "")),
                )
    except (ClientError, BotoCoreError) as exc:
        raise _s3_error(exc, "write the Athena symlink files", loc) from None
    return plan


def dataset_ddl(
    dataset_url: str,
    options: AthenaOptions | None = None,
    s3_options: S3Options | None = None,
    *,
    write_symlinks: bool = False,
) -> str:
    """The DDL of the dataset at `dataset_url`, its manifest read with `s3_options` ([billing.s3]).

    The symlink files are checked against the manifest: where they differ (a dataset last loaded before
    awscost wrote them, or a load killed after its swap) an AwsCostWarning says so, or with `write_symlinks`
    they are written first, as a load writes them."""
    from awscost.billing import s3_dataset
    from awscost.billing.s3 import client
    from awscost.billing.sources import DATASET_MARKER

    if not dataset_url.startswith("s3://"):
        raise InputError("Athena reads a dataset in S3: give its s3://BUCKET/PREFIX/", where=dataset_url)
    loc = S3Location.parse(dataset_url, folder=True)
    s3 = client(s3_options)
    manifest, _ = s3_dataset.read_manifest(s3, loc)
    if manifest is None:
        raise InputError(
            f"not an awscost billing dataset (no {DATASET_MARKER}; run `awscost billing load ... --into "
            f"{loc.url()}`)",
            where=loc.url(),
        )
    ddl = athena_ddl(loc.url(), manifest, options)
    if write_symlinks:
        sync_symlinks(s3, loc, manifest, s3_options)
    else:
        plan = symlink_plan(s3, loc, manifest)
        if plan:
            # A file anywhere under _athena/ that no period wants is deleted too: Athena would read it.
            found = (re.search(rf"{PARTITION}=([^/]+)/", k) for k in [*plan.write, *plan.delete])
            periods = sorted({m.group(1) if m else "(other)" for m in found})
            warnings.warn(
                AwsCostWarning(
                    f"{loc.url()}: the Athena symlink files of period(s) {', '.join(periods)} differ from the "
                    "manifest (the table would read what they name); the next load that lands writes them, or "
                    "run this command with --write-symlinks"
                ),
                stacklevel=2,
            )
    return ddl


# ---------------------------------------------------------------------------------------------------------
# The engine


def athena_client(options: AthenaOptions | None = None) -> Any:
    """An Athena client with the retries and timeouts of every awscost client, in `options.region` (else the
    environment's); credentials from the standard chain."""
    from awscost.aws import session as aws_session

    options = options or AthenaOptions()
    return aws_session.client(aws_session.make_session(region=options.region), "athena", options.region)


def scan_cost_usd(data_scanned_bytes: int) -> Decimal:
    """What Athena charges for a query that scanned this many bytes (see PRICE_PER_TB_USD), exact."""
    billed = max(MIN_BILLED_BYTES, -(-max(0, data_scanned_bytes) // MB) * MB)
    with localcontext() as ctx:
        ctx.prec = 60  # 5 / 2^40 has a finite decimal expansion: exact at this precision
        return (PRICE_PER_TB_USD * billed / TB).normalize()


_INTEGER = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]*)?")


def _integer(value: str) -> int:
    """Trino's integer text only (Python's int() would also take ' 1', '1_000' and other scripts' digits)."""
    if not _INTEGER.fullmatch(value):
        raise ValueError(value)
    return int(value)


def _decimal(value: str) -> Decimal:
    """Trino's decimal text (never exponent, NaN or infinity): exact, every digit kept."""
    if not _DECIMAL.fullmatch(value):
        raise ValueError(value)
    return Decimal(value)


def _boolean(value: str) -> bool:
    if value not in ("true", "false"):
        raise ValueError(value)
    return value == "true"


def _timestamp(value: str) -> datetime:
    """Athena's `2024-03-01 00:00:00.000` (up to nanoseconds: cut to Python's microseconds)."""
    whole, dot, fraction = value.partition(".")
    return datetime.fromisoformat(whole + (dot + fraction[:6] if dot else ""))


_CONVERT: dict[str, Callable[[str], Any]] = {
    "decimal": _decimal,
    "bigint": _integer,
    "integer": _integer,
    "int": _integer,
    "smallint": _integer,
    "tinyint": _integer,
    "double": float,
    "real": float,
    "float": float,
    "boolean": _boolean,
    "date": date.fromisoformat,
    "timestamp": _timestamp,
    "varchar": str,
    "char": str,
    "string": str,
}


def _converter(athena_type: str) -> Callable[[str], Any]:
    """By ColumnInfo.Type (`decimal`, `varchar`, ...; a `(precision)` suffix ignored); other types (map,
    array, row, a zoned timestamp, json) stay Athena's text."""
    return _CONVERT.get(athena_type.split("(")[0].strip().lower(), str)


class AthenaEngine:
    """Runs one SQL query in Athena (`query`): StartQueryExecution in the options' database and workgroup,
    GetQueryExecution every `poll_seconds` until it ends, then GetQueryResults page by page, each value typed
    by its column's Athena type. A query scanning more than `max_bytes_scanned` (or running past `timeout_s`)
    is stopped (StopQueryExecution) and is an error. `sleep` and `clock` are injectable for tests."""

    def __init__(
        self,
        client: Any,
        options: AthenaOptions | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        timeout_s: float | None = None,
    ) -> None:
        self.client = client
        self.options = options or AthenaOptions()
        self.sleep, self.clock, self.timeout_s = sleep, clock, timeout_s

    @property
    def _where(self) -> str:
        return f"Athena workgroup {self.options.workgroup}"

    def _call(self, what: str, method: Callable[..., Any], where: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        from awscost.aws.errors import failure_reason

        try:
            return method(**kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            message = f"cannot {what}: {failure_reason(exc)}"
            if code == "InvalidRequestException":
                hint = None
                if "output location" in str(exc).lower():
                    hint = "set output_location in awscost.toml [billing.athena], or a result location on the workgroup"
                raise InputError(message, where=where, hint=hint) from None
            raise AwsAccessError(message, where=where) from None
        except BotoCoreError as exc:
            raise AwsAccessError(f"cannot {what}: {failure_reason(exc)}", where=where) from None

    def _start(self, sql: str) -> str:
        kwargs: dict[str, Any] = {
            "QueryString": sql,
            "QueryExecutionContext": {"Database": self.options.database},
            "WorkGroup": self.options.workgroup,
        }
        if self.options.output_location:
            kwargs["ResultConfiguration"] = {"OutputLocation": self.options.output_location}
        response = self._call(
            "start an Athena query", self.client.start_query_execution, self._where, **kwargs
        )
        return str(response["QueryExecutionId"])

    def _stop(self, qid: str) -> None:
        with contextlib.suppress(AwsAccessError, InputError):  # it ends anyway; the error says why we stopped
            self._call(
                "stop the query",
                self.client.stop_query_execution,
                f"Athena query {qid}",
                QueryExecutionId=qid,
            )

    def _wait(self, qid: str) -> dict[str, Any]:
        """The query's execution once it ended (SUCCEEDED), else the error saying how it ended."""
        where = f"Athena query {qid}"
        started = self.clock()
        limit = self.options.max_bytes_scanned
        while True:
            execution: dict[str, Any] = self._call(
                "read the query's state", self.client.get_query_execution, where, QueryExecutionId=qid
            )["QueryExecution"]
            status = execution.get("Status", {})
            state = status.get("State")
            scanned = int(execution.get("Statistics", {}).get("DataScannedInBytes", 0) or 0)
            if state == "SUCCEEDED":
                if limit is not None and scanned > limit:  # it ended between two polls: paid for already
                    warnings.warn(
                        AwsCostWarning(
                            f"{where}: scanned {scanned} bytes, above max_bytes_scanned {limit} of "
                            f"[billing.athena] (${scan_cost_usd(scanned):.6f}); it ended before awscost saw it: "
                            "set the workgroup's BytesScannedCutoffPerQuery to have Athena stop such a query"
                        ),
                        stacklevel=3,
                    )
                return execution
            if state in ("FAILED", "CANCELLED"):
                raise self._failure(where, state, status, scanned)
            if limit is not None and scanned > limit:
                self._stop(qid)
                raise InputError(
                    f"the query scanned {scanned} bytes, above max_bytes_scanned {limit} of [billing.athena]; "
                    f"stopped (what it scanned is charged: ${scan_cost_usd(scanned):.6f})",
                    where=where,
                    hint="narrow the query (fewer billing periods or columns), or raise max_bytes_scanned",
                )
            if self.timeout_s is not None and self.clock() - started > self.timeout_s:
                self._stop(qid)
                raise AwsAccessError(
                    f"the query ran longer than {self.timeout_s:g} s ({state}); stopped", where=where
                )
            self.sleep(self.options.poll_seconds)

    @staticmethod
    def _failure(where: str, state: str, status: Mapping[str, Any], scanned: int) -> Exception:
        error = status.get("AthenaError", {}) or {}
        reason = status.get("StateChangeReason") or error.get("ErrorMessage") or "no reason given"
        if state == "CANCELLED":
            return InputError(
                f"the query was cancelled: {reason} (after scanning {scanned} bytes, ${scan_cost_usd(scanned):.6f})",
                where=where,
                hint="a workgroup's BytesScannedCutoffPerQuery cancels a query scanning more; or it was stopped",
            )
        denied = any(w in reason.lower() for w in ("access denied", "accessdenied", "permission denied"))
        if error.get("ErrorCategory") == _USER_ERROR and not denied:
            return InputError(f"the query failed: {reason}", where=where)
        return AwsAccessError(f"the query failed: {reason}", where=where)

    def _pages(self, qid: str) -> Any:
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"QueryExecutionId": qid, "MaxResults": 1000}
            if token:
                kwargs["NextToken"] = token
            page = self._call(
                "read the query's results", self.client.get_query_results, f"Athena query {qid}", **kwargs
            )
            yield page
            token = page.get("NextToken")
            if not token:
                return

    def _results(self, qid: str, header: bool | None) -> tuple[list[str], list[tuple[Any, ...]]]:
        """The column names (as Athena gives them: lower-cased) and the typed rows, every page read. `header`:
        the first row is the column names (None: when it equals them, for an execution without its type)."""
        where = f"Athena query {qid}"
        columns: list[tuple[str, str, Callable[[str], Any]]] | None = None
        rows: list[tuple[Any, ...]] = []
        for page in self._pages(qid):
            result = page.get("ResultSet", {})
            if columns is None:  # every page repeats the metadata
                info = result.get("ResultSetMetadata", {}).get("ColumnInfo", [])
                columns = [(c["Name"], c["Type"], _converter(c["Type"])) for c in info]
                labels = [[c.get(k) for c in info] for k in ("Name", "Label")]
            data = result.get("Rows", [])
            if header is None:
                header = bool(data) and [d.get("VarCharValue") for d in data[0].get("Data", [])] in labels
            if header:  # the first row of the first page
                data, header = data[1:], False
            for row in data:
                values = []
                for (name, kind, convert), datum in zip(columns, row.get("Data", []), strict=True):
                    text = datum.get("VarCharValue")  # absent: NULL ('' is an empty string)
                    try:
                        values.append(None if text is None else convert(text))
                    except (ValueError, InvalidOperation):
                        raise AwsAccessError(
                            f"unreadable {kind} value {text!r} in column {name} of the query's results",
                            where=where,
                        ) from None
                rows.append(tuple(values))
        return [name for name, _, _ in columns or []], rows

    def query(self, sql: str, names: Sequence[str] | None = None) -> Frame:
        """The rows of `sql` (one statement, Trino SQL). Athena lower-cases result column names: `names`
        (the query's select names, in order) gives them back their case. `attrs["athena"]` says what the
        query scanned and cost: query_execution_id, data_scanned_bytes, cost_usd (Decimal)."""
        qid = self._start(sql)
        execution = self._wait(qid)
        # A SELECT (statement type DML) returns its column names as the first row.
        kind = execution.get("StatementType")
        got, rows = self._results(qid, header=kind == "DML" if kind else None)
        columns = got
        if names is not None:
            where = f"Athena query {qid}"
            if len(names) != len(got):
                raise ValueError(
                    f"{len(names)} names for the {len(got)} columns of {where}: {', '.join(got)}"
                )
            for i, (name, athena_name) in enumerate(zip(names, got, strict=True)):
                # An unnamed expression is Athena's _colN; a named one must be the name lower-cased.
                if athena_name not in (name.lower(), f"_col{i}"):
                    raise ValueError(f"column {i} of {where} is {athena_name!r}, not {name!r}")
            columns = list(names)
        scanned = int(execution.get("Statistics", {}).get("DataScannedInBytes", 0) or 0)
        attrs = {
            "athena": {
                "query_execution_id": qid,
                "data_scanned_bytes": scanned,
                "cost_usd": scan_cost_usd(scanned),
            }
        }
        return Frame(columns, rows, attrs)


# ---------------------------------------------------------------------------------------------------------
# The analyses on Athena


class AthenaBill(Analyses):
    """The analyses (analyses.py) on Athena: each query rendered in Trino's dialect (portable.py) over the
    table of [billing.athena] and run by an AthenaEngine. What the queries scanned and cost adds up in
    `scanned_bytes` and `cost_usd`, so a run can say what its questions cost."""

    engine = "athena"

    def __init__(self, runner: AthenaEngine, *, source: str) -> None:
        self.runner = runner
        self.source = source
        table = runner.options.table
        self.table = None if table == "billing" else table
        self.queries = 0
        self.scanned_bytes = 0
        self.cost_usd = Decimal(0)

    def _run(self, query: str, written: str) -> Frame:
        from awscost.billing.frame import plain
        from awscost.billing.portable import select_names

        frame = self.runner.query(query, names=select_names(written))
        info = frame.attrs.get("athena", {})
        self.queries += 1
        self.scanned_bytes += int(info.get("data_scanned_bytes", 0))
        self.cost_usd += Decimal(info.get("cost_usd", 0))
        # Athena's decimals come back at their scale (1.500000000000000000): as every engine's, plain.
        return Frame(frame.columns, [tuple(plain(v) for v in row) for row in frame.rows], frame.attrs)


def open_for_engine(dataset: str | Any, settings: Settings) -> AthenaBill:
    """The `athena` entry of billing/engines.py: the table of [billing.athena], made over `dataset` by
    `awscost billing athena-ddl`. The dataset's symlink files are checked against its manifest first (a
    warning where the table would read another load's objects)."""
    options = AthenaOptions.from_settings(settings)
    url = str(dataset)
    if not url.startswith("s3://"):
        raise InputError("Athena reads a dataset in S3: give its s3://BUCKET/PREFIX/", where=url)
    dataset_ddl(url, options, S3Options.from_settings(settings))  # warns of symlinks behind the manifest
    return AthenaBill(
        AthenaEngine(athena_client(options), options),
        source=f"athena {options.database}.{options.table} over {url}",
    )
