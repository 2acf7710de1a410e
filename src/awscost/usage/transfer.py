"""Moving usage items in and out of a store: the export line format, and every import source we accept.

Export: one JSON object per item, `{"awsResource": ..., "time": ..., "usage": {...}, ...attrs}`
(`UsageItem.to_json`), as JSON lines or as one JSON array.

Import, detected from the content:
  (a) those JSON lines (a blank line is ignored);
  (b) a JSON array of the same objects;
  (c) `aws dynamodb scan --table-name AWSCost --output json` (`{"Items": [...], "Count": ...}`), items in
      DynamoDB JSON (`{"S": ...}`, `{"N": "3"}`, `{"M": {...}}`); lines of a DynamoDB export to S3
      (`{"Item": {...}}`) are accepted as well.
Items of the ORIGINAL system are migrated: the `node_types` map becomes `usage`; `time` written as
`%Y%m%d-%H` (hourly) or `%Y%m%d` (daily) in US/Pacific local time becomes the UTC hour
(`timeutil.parse_legacy_time`). Items that hold no usage map (the controller's `state` item and the like)
are skipped and counted with the reason. For legacy items only, keys are normalised where the rewrite is
unambiguous (see `normalise_legacy_key`). Import is all-or-nothing: every record is validated before the
first write, and a bad record stops the import with its file and line (or item number).
"""

from __future__ import annotations

import io
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from awscost.core import vocabulary
from awscost.core.errors import AwsCostError, InputError
from awscost.core.timeutil import current_hour, format_hour, parse_hour, parse_legacy_time
from awscost.store.base import Store, UsageItem, plain_value, split_resource
from awscost.usage import kinds as catalog

EXPORT_FORMATS = ("jsonl", "json")
TOO_DEEP = "JSON nested too deeply (arrays or objects inside each other)"
# Items nest a few levels (attrs["reservations"] is a list of objects); deeper is not an item, and would reach
# the interpreter's recursion limit somewhere between this check and the store's write.
MAX_NESTING = 32
_DYNAMO_TYPES = frozenset({"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"})
_LEGACY_TIME = re.compile(r"^\d{8}(-\d{1,2})?$")
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}")

# Reservation product descriptions the original used as the OS part of ri-ec2 keys ("Linux/UNIX (Amazon VPC)"),
# mapped onto the one OS vocabulary; longest first, so "windows with sql server web" wins over "windows".
_PRODUCT_OS = sorted(
    [(d, n) for d, n in vocabulary.BY_PLATFORM.items() if d != "sles"]
    + [(f"{d} (amazon vpc)", n) for d, n in vocabulary.BY_PLATFORM.items() if d != "sles"],
    key=lambda pair: -len(pair[0]),
)
_MULTI_AZ_SUFFIX = re.compile(r"^(?P<key>.+?)[-_:. ]?(multi[-_ ]?az)$", re.IGNORECASE)
# The kinds whose keys start with an OS, and those keyed class:engine (with the multi_az- prefix), from the
# catalog's key formats.
_OS_KINDS = frozenset(s.name for s in catalog.CATALOG if s.key_format.startswith("os-"))
_MULTI_AZ_KINDS = frozenset(s.name for s in catalog.CATALOG if s.key_format.startswith("class:engine"))


# -- export ---------------------------------------------------------------------------------------------


def item_line(item: UsageItem) -> str:
    return json.dumps(item.to_json(), separators=(",", ":"), ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    return plain_value(value)


def export_items(items: Iterable[UsageItem], out: IO[str], fmt: str = "jsonl") -> int:
    """Write items as JSON lines or one JSON array (streamed: the array is never built in memory)."""
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"unknown export format {fmt!r}", param="fmt", hint="use jsonl or json")
    n = 0
    if fmt == "json":
        out.write("[")
    for item in items:
        if fmt == "json":
            out.write("\n" if n == 0 else ",\n")
        out.write(item_line(item))
        if fmt == "jsonl":
            out.write("\n")
        n += 1
    if fmt == "json":
        out.write("\n]\n" if n else "]\n")
    return n


# -- import ---------------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    """What an import read: the items to write, and why anything else was left out or rewritten."""

    source: str
    items: list[UsageItem] = field(default_factory=list)
    records: int = 0  # records read, skipped ones included
    legacy: int = 0  # items converted from the original system's format
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> count
    skipped_examples: dict[str, str] = field(default_factory=dict)  # reason -> first awsResource seen
    normalised: Counter[str] = field(default_factory=Counter)  # rewrite rule -> usage keys rewritten
    duplicates: int = 0  # records whose key an earlier record had (the later one is kept)
    written: int = 0

    def summary_rows(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = [
            {"what": "records read", "count": self.records},
            {"what": "imported" if self.written or not self.items else "to import", "count": len(self.items)},
        ]
        if self.legacy:
            rows.append({"what": "converted from the original format", "count": self.legacy})
        if self.duplicates:
            rows.append({"what": "duplicate keys (later record kept)", "count": self.duplicates})
        for reason, n in sorted(self.skipped.items()):
            rows.append({"what": f"skipped: {reason} (e.g. {self.skipped_examples[reason]})", "count": n})
        for rule, n in sorted(self.normalised.items()):
            rows.append({"what": f"usage keys normalised: {rule}", "count": n})
        return rows


def normalise_legacy_key(kind: str, key: str) -> tuple[str, str | None]:
    """Rewrite one usage key of the original system into today's vocabulary; returns (key, rule or None).

    Only unambiguous rewrites:
      * ec2os / ri-ec2: OS `sles` -> `suse` (`sles-m4.large`, `spot-sles-m4.large`);
        a reservation product description as OS -> the short name (`Linux/UNIX (Amazon VPC)-t2.small`
        -> `linux-t2.small`, likewise every product `awscost.core.vocabulary` names).
      * rds / ri-rds: a Multi-AZ suffix (`db.r4.large:mysql-multi_az`, `...:mysql (Multi-AZ)` variants
        `-multi_az`, `_multiaz`, `-Multi-AZ`) -> the `multi_az-` prefix used in usage keys.
    Anything else is kept as it is.
    """
    if kind in _OS_KINDS:
        spot = "spot-" if key.startswith("spot-") else ""
        rest = key[len(spot) :]
        if rest.startswith("sles-"):
            return f"{spot}suse-{rest[5:]}", "sles -> suse"
        lowered = rest.lower()
        for desc, os_name in _PRODUCT_OS:
            if lowered.startswith(desc) and len(rest) > len(desc) and rest[len(desc)] in "-:":
                return f"{spot}{os_name}-{rest[len(desc) + 1 :]}", "product description -> OS"
    if kind in _MULTI_AZ_KINDS and not key.startswith("multi_az-"):
        text = key.removesuffix(")").replace(" (", "-") if key.endswith(")") else key
        m = _MULTI_AZ_SUFFIX.match(text)
        if m:
            return f"multi_az-{m.group('key')}", "Multi-AZ suffix -> multi_az- prefix"
    return key, None


def _is_dynamo_json(obj: Mapping[str, Any]) -> bool:
    value = obj.get("awsResource")
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _DYNAMO_TYPES


def _decode_dynamo(obj: Mapping[str, Any], where: str) -> dict[str, Any]:
    from awscost.store.dynamodb import deserialize_item

    try:
        return deserialize_item(obj)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise InputError(f"not valid DynamoDB JSON: {exc}", where=where) from None


def _number(value: Any, where: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise InputError(f"usage count {value!r} is not a number", where=where)
    plain = plain_value(value, where=where)
    assert isinstance(plain, int | float)
    if plain < 0:  # every kind counts something (resources, reservations, capacity, a share, micro-USD)
        raise InputError(f"usage count {value!r} is negative", where=where)
    return plain


def _nesting(obj: Any) -> int:
    """How deeply lists and objects nest in `obj` (counted without recursion)."""
    deepest, stack = 0, [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, depth)
            if depth <= MAX_NESTING:
                stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict) else value))
    return deepest


def _record(obj: Any, where: str, result: ImportResult) -> UsageItem | None:
    if not isinstance(obj, dict):
        raise InputError(f"expected a JSON object, got {type(obj).__name__}", where=where)
    if _nesting(obj) > MAX_NESTING:
        raise InputError(TOO_DEEP, where=where, hint=f"an item nests at most {MAX_NESTING} levels")
    if set(obj) == {"Item"} and isinstance(obj["Item"], dict):  # a DynamoDB export-to-S3 line
        obj = obj["Item"]
    if _is_dynamo_json(obj):
        obj = _decode_dynamo(obj, where)
    resource = obj.get("awsResource")
    usage = obj.get("usage")
    legacy_usage = usage is None and "node_types" in obj
    if legacy_usage:
        usage = obj.get("node_types")
    if not isinstance(resource, str):
        raise InputError("no awsResource string", where=where)
    if usage is None:
        reason = "no usage map (not a usage item, like the original's `state` item)"
        result.skipped[reason] += 1
        result.skipped_examples.setdefault(reason, resource)
        return None
    if not isinstance(usage, dict):
        raise InputError(f"usage of {resource} is not a map", where=where)
    kind, account, region = split_resource(resource)  # InputError -> re-raised with `where` by the caller
    if kind not in catalog.KINDS:  # the original system's kinds are all in the catalog too
        raise InputError(
            f"unknown kind {kind!r} in {resource!r}", where=where, hint=f"known: {', '.join(catalog.KINDS)}"
        )
    raw_time = obj.get("time")
    if not isinstance(raw_time, str):
        raise InputError(f"no time string for {resource}", where=where)
    legacy_time = bool(_LEGACY_TIME.match(raw_time.strip()))
    if not legacy_time and not _ISO_TIME.match(raw_time.strip()):
        raise InputError(f"time {raw_time!r} is neither ISO 8601 nor the original's %Y%m%d-%H", where=where)
    time = parse_legacy_time(raw_time, where=where) if legacy_time else parse_hour(raw_time, where=where)
    now = current_hour()
    if time > now:  # a sample of an hour to come cannot have been collected (and `collect --at` refuses one)
        raise InputError(f"{format_hour(time)} is after the current hour {format_hour(now)}", where=where)
    legacy = legacy_usage or legacy_time
    counts: dict[str, int | float] = {}
    for key, value in usage.items():
        number = _number(value, f"{where}: usage[{key!r}]")
        if legacy:
            key, rule = normalise_legacy_key(kind, str(key))
            if rule:
                result.normalised[rule] += 1
        # Two original keys can meet in one (`sles-x` and `suse-x`): both were counts of the same thing.
        counts[key] = counts.get(key, 0) + number
    skip = ("awsResource", "time", "usage", "node_types")
    attrs = {k: plain_value(v, where=f"{where}: {k}") for k, v in obj.items() if k not in skip}
    if legacy:
        result.legacy += 1
    return UsageItem(kind, account, region, time, counts, attrs)


def _records(text: str, source: str) -> Iterator[tuple[Any, str]]:
    """(record, where) for every record in the text, whichever of the accepted layouts it uses."""
    stripped = text.lstrip()
    if not stripped:
        return
    if stripped.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON: {exc.msg}", where=f"{source}:{exc.lineno}") from None
        except RecursionError:  # the json module nests by recursion: [[[[...]]]] 100,000 deep
            raise InputError(TOO_DEEP, where=source) from None
        for n, obj in enumerate(data, 1):
            yield obj, f"{source}: item {n}"
        return
    try:
        whole = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        whole = None  # several lines: JSON lines (a line nested too deeply is named below)
    if isinstance(whole, dict) and isinstance(whole.get("Items"), list):
        for n, obj in enumerate(whole["Items"], 1):
            yield obj, f"{source}: Items[{n - 1}]"
        return
    for lineno, line in enumerate(io.StringIO(text), 1):
        if not line.strip():
            continue
        where = f"{source}:{lineno}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON: {exc.msg} (column {exc.colno})", where=where) from None
        except RecursionError:
            raise InputError(TOO_DEEP, where=where) from None
        yield record, where


def read_items(path: str | Path) -> ImportResult:
    """Read and validate a whole file (`-` = stdin) without writing anything."""
    source = str(path)
    try:
        text = sys.stdin.read() if source == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError(f"cannot read: {reason}", where=source) from None
    result = ImportResult(source)
    by_key: dict[tuple[str, str], UsageItem] = {}
    for obj, where in _records(text, source):
        result.records += 1
        try:
            item = _record(obj, where, result)
        except AwsCostError as exc:
            if exc.where is None or not exc.where.startswith(source):
                raise InputError(exc.message, where=where, hint=exc.hint) from None
            raise
        except RecursionError:  # an attribute nested nearly as deep as the json module allows
            raise InputError(TOO_DEEP, where=where) from None
        if item is None:
            continue
        key = (item.aws_resource, item.time_key)
        if key in by_key:
            result.duplicates += 1
            del by_key[key]  # keep file order for the later record
        by_key[key] = item
    result.items = list(by_key.values())
    return result


def import_items(store: Store, path: str | Path, *, dry_run: bool = False) -> ImportResult:
    """Validate the whole file, then write every item in one `put_items` (unless `dry_run`).

    SQLite writes that in one transaction; DynamoDB has no transaction that large, but nothing is written
    before every record has been validated.
    """
    result = read_items(path)
    if not dry_run:
        write_items(store, result)
    return result


def write_items(store: Store, result: ImportResult) -> ImportResult:
    """Write the items `read_items` validated, in one `put_items`."""
    result.written = store.put_items(result.items)
    return result
