"""SQL building blocks the readers share: typed, strict projections of source columns.

Casts are strict on purpose: an unparseable number or date must fail the load (and be diagnosed with its
row), never become NULL and silently change a total.
"""

from __future__ import annotations

from collections.abc import Iterable

from awscost.billing.schema import MONEY, TAGS
from awscost.core.vocabulary import REGION_NAMES


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class Cols:
    """The source's columns (name -> DuckDB type) and typed accessors that yield NULL for absent columns.

    Each source column is cast once, in an inner SELECT (`pre`), and the projection refers to the cast by
    alias: the CUR rules use the same cost column in several expressions. The numeric and timestamp
    columns touched are remembered, so a failed cast can be traced back to its first offending row.
    """

    def __init__(self, types: dict[str, str]) -> None:
        self.types = types
        self.numeric: list[str] = []
        self.timestamps: list[str] = []
        self.pre: dict[str, str] = {}
        self._aliases: dict[tuple[str, str], str] = {}

    def has(self, name: str) -> bool:
        return name in self.types

    def any(self, *names: str) -> bool:
        return any(n in self.types for n in names)

    def _alias(self, kind: str, name: str, expr: str) -> str:
        key = (kind, name)
        if key not in self._aliases:
            alias = f"__{kind}{len(self._aliases)}"
            self._aliases[key] = alias
            self.pre[alias] = expr
        return quote(self._aliases[key])

    def s(self, name: str) -> str:
        if name not in self.types:
            return "NULL::VARCHAR"
        if self.types[name] == "VARCHAR":
            return self._alias("s", name, f"NULLIF({quote(name)}, '')")
        return self._alias("s", name, f"CAST({quote(name)} AS VARCHAR)")

    def n(self, name: str) -> str:
        if name not in self.types:
            return f"NULL::{MONEY}"
        if name not in self.numeric:
            self.numeric.append(name)
        typ = self.types[name]
        if typ in ("DOUBLE", "FLOAT", "REAL"):
            # Through the shortest decimal text of the double: 0.1 stays 0.1, not 0.1000000000000000055.
            return self._alias("n", name, f"CAST(CAST({quote(name)} AS VARCHAR) AS {MONEY})")
        if typ == "VARCHAR":
            # A quoted empty field ("", as a DBR writes every empty one) is no number: NULL, as unquoted.
            return self._alias("n", name, f"CAST(NULLIF({quote(name)}, '') AS {MONEY})")
        return self._alias("n", name, f"CAST({quote(name)} AS {MONEY})")

    def t(self, name: str) -> str:
        if name not in self.types:
            return "NULL::TIMESTAMP"
        if name not in self.timestamps:
            self.timestamps.append(name)
        value = f"NULLIF({quote(name)}, '')" if self.types[name] == "VARCHAR" else quote(name)
        return self._alias("t", name, f"CAST(CAST({value} AS TIMESTAMPTZ) AS TIMESTAMP)")

    def coalesce(self, *exprs: str) -> str:
        real = [e for e in exprs if not e.startswith("NULL::")]
        if not real:
            return exprs[0] if exprs else "NULL"
        return real[0] if len(real) == 1 else f"COALESCE({', '.join(real)})"


def tag_map(entries: Iterable[tuple[str, str]]) -> str:
    """A MAP(VARCHAR, VARCHAR) expression from (key, SQL value expression) pairs; empty values are left out,
    so `Tags['k'] IS NULL` means "not tagged" whatever the source wrote for a missing tag."""
    items = [f"struct_pack(k := {lit(k)}, v := CAST({expr} AS VARCHAR))" for k, expr in entries]
    if not items:
        return f"NULL::{TAGS}"
    return f"map_from_entries(list_filter([{', '.join(items)}], lambda e: e.v IS NOT NULL AND e.v <> ''))"


def json_map(expr: str) -> str:
    """A JSON object text (FOCUS Tags, CUR 2.0 CSV map columns) as MAP(VARCHAR, VARCHAR); non-string JSON
    values keep their JSON text."""
    return (
        f"CASE WHEN NULLIF(TRIM({expr}), '') IS NULL THEN NULL::{TAGS} "
        f"ELSE CAST(CAST({expr} AS JSON) AS {TAGS}) END"
    )


def month_of(ts_expr: str) -> str:
    return f"strftime({ts_expr}, '%Y-%m')"


SERVICE_CATEGORY = {
    # AWS product codes -> FOCUS ServiceCategory (FOCUS 1.0 allowed values); unknown codes are 'Other'.
    "AmazonEC2": "Compute",
    "AWSLambda": "Compute",
    "AmazonECS": "Compute",
    "AmazonEKS": "Compute",
    "AWSFargate": "Compute",
    "AmazonLightsail": "Compute",
    "AmazonRDS": "Databases",
    "AmazonDynamoDB": "Databases",
    "AmazonElastiCache": "Databases",
    "AmazonRedshift": "Databases",
    "AmazonDocDB": "Databases",
    "AmazonNeptune": "Databases",
    "AmazonS3": "Storage",
    "AmazonEFS": "Storage",
    "AmazonFSx": "Storage",
    "AmazonS3GlacierDeepArchive": "Storage",
    "AWSBackup": "Storage",
    "AmazonGlacier": "Storage",
    "AWSDataTransfer": "Networking",
    "AmazonVPC": "Networking",
    "AmazonCloudFront": "Networking",
    "AmazonRoute53": "Networking",
    "AWSELB": "Networking",
    "AmazonApiGateway": "Networking",
    "AWSQueueService": "Integration",
    "AmazonSNS": "Integration",
    "AmazonMQ": "Integration",
    "AWSEvents": "Integration",
    "AWSGlue": "Analytics",
    "AmazonAthena": "Analytics",
    "AmazonES": "Analytics",
    "AmazonKinesis": "Analytics",
    "ElasticMapReduce": "Analytics",
    "AmazonQuickSight": "Analytics",
    "AmazonCloudWatch": "Management and Governance",
    "AWSCloudTrail": "Management and Governance",
    "AWSConfig": "Management and Governance",
    "AWSCostExplorer": "Management and Governance",
    "awskms": "Security",
    "AWSSecretsManager": "Security",
    "AmazonGuardDuty": "Security",
    "awswaf": "Security",
    "AmazonSageMaker": "AI and Machine Learning",
    "AmazonBedrock": "AI and Machine Learning",
    "AWSCodeCommit": "Developer Tools",
    "AWSCodePipeline": "Developer Tools",
    "AmazonECR": "Storage",
}


def service_category(code_expr: str) -> str:
    whens = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in SERVICE_CATEGORY.items())
    return f"CASE {code_expr} {whens} ELSE 'Other' END"


def region_name(region_expr: str) -> str:
    """The Price List location name of a region code (NULL for a code it does not know, such as `global`)."""
    if region_expr.startswith("NULL::"):
        return "NULL::VARCHAR"
    whens = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in REGION_NAMES.items())
    return f"CASE {region_expr} {whens} ELSE NULL END"


def resource_type(resource_expr: str) -> str:
    """The resource type in an ARN (`arn:aws:sqs:...` -> service:type) or from an id prefix (i-, "
    "vol-, ...)."""
    return (
        f"CASE WHEN {resource_expr} LIKE 'arn:%' THEN split_part(split_part({resource_expr}, ':', "
        "6), '/', 1) "
        f"WHEN {resource_expr} LIKE 'i-%' THEN 'instance' WHEN {resource_expr} LIKE 'vol-%' THEN 'volume' "
        f"WHEN {resource_expr} LIKE 'snap-%' THEN 'snapshot' ELSE NULL END"
    )
