"""The seed's DynamoDB tables as a store: `dynamodb://AWSCost?region=us-east-1&map_table=AWSCostMap`.

URL parameters: `region` (else the standard AWS environment), `map_table` (default `<table>Map`),
`endpoint_url` (else AWS_ENDPOINT_URL / real AWS), `max_attempts` (botocore retries, default 8).

Items: `awsResource` (S, partition key), `time` (S, sort key), `usage` (M of N), attrs as further attributes.
Numbers travel as Decimal (boto3 requires it) and come back as int when integral, else float. An item above
DynamoDB's 400 KB limit is stored as a head and parts under the key scheme of `dynamodb_parts`, and read
back whole by `query` and `get`.
"""

from __future__ import annotations

import random
import re
import time as _time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from awscost.core.errors import ConfigError, InputError, StoreError
from awscost.core.timeutil import format_hour, parse_hour
from awscost.store.base import (
    Closing,
    ItemsRejected,
    StoreInfo,
    UsageItem,
    ceil_hour,
    plain_value,
    split_resource,
)
from awscost.store.dynamodb_parts import PARTS, RANGE_END, SEP, Assembler, split_item

BATCH_LIMIT = 25  # AWS's BatchWriteItem limit (moto accepts 26; AWS does not)
MAX_UNPROCESSED_ROUNDS = 10
_KEY_ATTRS = ("awsResource", "time", "usage")

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_dynamo_value(value: Any, *, where: str = "attrs") -> Any:
    """A plain value (see `plain_value`) with floats as Decimal, as boto3's serializer requires."""
    value = plain_value(value, where=where)
    return _floats_to_decimal(value)


def _floats_to_decimal(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _floats_to_decimal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_floats_to_decimal(v) for v in value]
    return value


def from_dynamo_value(value: Any) -> Any:
    """Deserialized DynamoDB value -> plain Python: Decimal -> int if integral, else float; sets -> lists."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        # Key order sorted, as SQLite's JSON is: a dump of either backend is then byte-identical.
        return {k: from_dynamo_value(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [from_dynamo_value(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(from_dynamo_value(v) for v in value)
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if hasattr(value, "value") and type(value).__name__ == "Binary":
        return bytes(value.value)
    return value


def serialize_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in item.items()}


def deserialize_item(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {k: from_dynamo_value(_deserializer.deserialize(raw[k])) for k in sorted(raw)}


def item_to_dynamo(item: UsageItem) -> dict[str, Any]:
    where = f"{item.aws_resource} {item.time_key}"
    split_resource(item.aws_resource)
    out: dict[str, Any] = {k: to_dynamo_value(v, where=f"{where} {k}") for k, v in item.attrs.items()}
    out["awsResource"] = item.aws_resource
    out["time"] = item.time_key
    out["usage"] = to_dynamo_value(dict(item.usage), where=f"{where} usage")
    return serialize_item(out)


def item_from_dynamo(raw: Mapping[str, Any], rest: Mapping[str, Any] | None = None) -> UsageItem:
    """A stored item; `rest`: the attributes of a split item kept in its parts (already plain)."""
    plain = deserialize_item({k: v for k, v in raw.items() if k != PARTS})
    if rest:
        plain.update(rest)
    return UsageItem.from_json(plain)


URL_OPTIONS = ("region", "map_table", "endpoint_url", "max_attempts")
DEFAULT_MAX_ATTEMPTS = 8
MAX_ATTEMPTS_RANGE = (0, 100)  # botocore refuses < 0; more than 100 retries only hides an outage
_TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")  # DynamoDB's rule for table names
_REGION = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?")  # botocore's own check


def parse_url(url: str) -> dict[str, str]:
    """The table and the options of a DynamoDB store URL, each checked here so that a bad one is a
    configuration error naming it (exit 2), never botocore's traceback or a failure on first use."""
    parts = urlsplit(url)
    if parts.scheme != "dynamodb" or not parts.netloc:
        raise ConfigError(
            f"bad DynamoDB store URL {url!r}", param="store", hint="use dynamodb://TABLE?region=REGION"
        )
    try:
        pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise ConfigError(f"bad options {parts.query!r} in store URL {url!r}", param="store") from None
    params = dict(pairs)
    unknown = sorted(set(params) - set(URL_OPTIONS))
    if unknown:
        raise ConfigError(
            f"unknown option(s) {', '.join(unknown)} in store URL {url!r}",
            param="store",
            hint=f"known: {', '.join(URL_OPTIONS)}",
        )

    def bad(option: str, why: str) -> ConfigError:
        return ConfigError(f"{option}={params[option]!r} in store URL {url!r} {why}", param="store")

    for option, value in params.items():
        if not value:
            raise bad(option, "is empty")
    for option, name in (("table", parts.netloc), ("map_table", params.get("map_table"))):
        if name is not None and not _TABLE_NAME.fullmatch(name):
            what = f"table name {name!r}" if option == "table" else f"map_table={name!r}"
            raise ConfigError(
                f"{what} in store URL {url!r} is not a DynamoDB table name",
                param="store",
                hint="3 to 255 letters, digits, '_', '-' or '.'",
            )
    if "region" in params and not _REGION.fullmatch(params["region"]):
        raise bad("region", "is not a region name (like us-east-1)")
    if "max_attempts" in params:
        lo, hi = MAX_ATTEMPTS_RANGE
        value = params["max_attempts"]
        if not (value.isascii() and value.isdigit() and lo <= int(value) <= hi):
            raise bad("max_attempts", f"is not a whole number from {lo} to {hi}")
    if "endpoint_url" in params:
        endpoint = urlsplit(params["endpoint_url"])
        if endpoint.scheme not in ("http", "https") or not endpoint.netloc:
            raise bad("endpoint_url", "is not an http(s):// URL")
    return {"table": parts.netloc, **params}


class _Refused(Exception):
    """DynamoDB refused a write request's data (ValidationException); `reason` is its message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _decode_value(value: Mapping[str, Any]) -> Any:
    return from_dynamo_value(_deserializer.deserialize(dict(value)))  # type: ignore[arg-type]


class DynamoDBStore(Closing):
    def __init__(
        self,
        url: str,
        *,
        client: Any | None = None,
        sleep: Callable[[float], None] = _time.sleep,
    ) -> None:
        self.url = url
        params = parse_url(url)
        self.table = params["table"]
        self.map_table = params.get("map_table") or f"{self.table}Map"
        self._sleep = sleep
        self.unprocessed_retries = 0  # rounds of UnprocessedItems re-sent, for the curious caller
        if client is not None:
            self.client = client
            self.region = params.get("region") or client.meta.region_name
            return
        config = Config(
            retries={
                "mode": "adaptive",
                "max_attempts": int(params.get("max_attempts", DEFAULT_MAX_ATTEMPTS)),
            },
            connect_timeout=5,
            read_timeout=30,
            max_pool_connections=32,
        )
        try:
            self.client = boto3.session.Session().client(
                "dynamodb",
                region_name=params.get("region"),
                endpoint_url=params.get("endpoint_url"),
                config=config,
            )
        except NoRegionError:
            raise StoreError(
                f"no region for DynamoDB store {url!r}", hint="add ?region=REGION or set AWS_DEFAULT_REGION"
            ) from None
        self.region = self.client.meta.region_name

    # -- plumbing ---------------------------------------------------------------------------------------

    def _where(self, table: str | None = None) -> str:
        return f"dynamodb table {table or self.table} ({self.region})"

    def _call(self, op: str, table: str, **kw: Any) -> dict[str, Any]:
        return self._invoke(op, table, kw, refusable=False)

    def _call_refusable(self, op: str, table: str, **kw: Any) -> dict[str, Any]:
        """As `_call`, but a ValidationException (this request's data is refused: too large ...) raises
        _Refused for the caller to isolate; every other error is a StoreError."""
        return self._invoke(op, table, kw, refusable=True)

    def _invoke(self, op: str, table: str, kw: dict[str, Any], *, refusable: bool) -> dict[str, Any]:
        try:
            result: dict[str, Any] = getattr(self.client, op)(**kw)
            return result
        except ClientError as exc:
            err = exc.response.get("Error", {})
            if refusable and err.get("Code") == "ValidationException":
                raise _Refused(str(err.get("Message") or "ValidationException")) from None
            raise self._client_error(exc, table) from None
        except NoCredentialsError:
            raise StoreError(
                "no AWS credentials", where=self._where(table), hint="set AWS_PROFILE or AWS_ACCESS_KEY_ID"
            ) from None
        except BotoCoreError as exc:  # endpoint unreachable, timeouts ...
            raise StoreError(f"cannot reach DynamoDB: {exc}", where=self._where(table)) from None

    def _client_error(self, exc: ClientError, table: str) -> StoreError:
        err = exc.response.get("Error", {})
        code, message = err.get("Code", "?"), err.get("Message", str(exc))
        if code == "ResourceNotFoundException":
            return StoreError(
                f"table {table!r} does not exist", where=self._where(table), hint="run `awscost store init`"
            )
        return StoreError(f"{code}: {message}", where=self._where(table))

    # -- Store protocol ---------------------------------------------------------------------------------

    def init(self) -> None:
        self.ensure_tables()

    def ensure_tables(self) -> list[str]:
        """Create both tables if absent (on-demand, encrypted) and turn on point-in-time recovery.

        Returns one line per table saying what was done. Safe to run again.
        """
        report = []
        for name, keys in (
            (self.table, [("awsResource", "HASH"), ("time", "RANGE")]),
            (self.map_table, [("id", "HASH")]),
        ):
            created = self._create_table(name, keys)
            try:
                self.client.get_waiter("table_exists").wait(
                    TableName=name, WaiterConfig={"Delay": 2, "MaxAttempts": 60}
                )
            except Exception as exc:  # botocore WaiterError: not a BotoCoreError subclass everywhere
                raise StoreError(f"table did not become ACTIVE: {exc}", where=self._where(name)) from None
            self._call(
                "update_continuous_backups",
                name,
                TableName=name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
            what = "created" if created else "exists"
            report.append(f"{name}: {what} (on-demand, encrypted, point-in-time recovery on)")
        return report

    def _create_table(self, name: str, keys: list[tuple[str, str]]) -> bool:
        try:
            self.client.create_table(
                TableName=name,
                KeySchema=[{"AttributeName": a, "KeyType": t} for a, t in keys],
                AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a, _ in keys],
                BillingMode="PAY_PER_REQUEST",
                SSESpecification={"Enabled": True},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceInUseException":
                return False
            raise self._client_error(exc, name) from None
        except BotoCoreError as exc:
            raise StoreError(f"cannot reach DynamoDB: {exc}", where=self._where(name)) from None
        return True

    def put_items(self, items: Iterable[UsageItem]) -> int:
        """Write every item that can be stored; an item above DynamoDB's 400 KB is written in parts (see
        dynamodb_parts). One that cannot be stored at all never stops the others: they are written, then
        ItemsRejected names it."""
        # Dedupe on the key (last wins): BatchWriteItem rejects a batch holding one key twice.
        by_key: dict[tuple[str, str], UsageItem] = {}
        for it in items:
            by_key[(it.aws_resource, it.time_key)] = it
        rejected: dict[tuple[str, str], str] = {}
        encoded: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for key, it in by_key.items():
            try:
                encoded[key] = split_item(item_to_dynamo(it), _decode_value, where=f"{key[0]} {key[1]}")
            except InputError as exc:
                rejected[key] = exc.message
        # Parts first, then heads (and whole items): a head is visible only once its parts are.
        parts = [(key, raw) for key, raws in encoded.items() for raw in raws[:-1]]
        rejected.update(self._write(parts))
        heads = [(key, raws[-1]) for key, raws in encoded.items() if key not in rejected]
        rejected.update(self._write(heads))
        written = sum(1 for key in encoded if key not in rejected)
        if rejected:
            ordered = sorted((resource, time, reason) for (resource, time), reason in rejected.items())
            raise ItemsRejected(written, ordered, where=self._where())
        return written

    def _write(self, keyed: list[tuple[tuple[str, str], dict[str, Any]]]) -> dict[tuple[str, str], str]:
        """Batch-write the raw items; returns the keys of those DynamoDB refused, with its reason. A refused
        batch (one bad item fails all 25) is written again one item at a time to find the bad one."""
        refused: dict[tuple[str, str], str] = {}
        for start in range(0, len(keyed), BATCH_LIMIT):
            chunk = keyed[start : start + BATCH_LIMIT]
            reason = self._batch_write(self.table, [{"PutRequest": {"Item": raw}} for _, raw in chunk])
            if reason is None:
                continue
            for key, raw in chunk:
                if key in refused:
                    continue
                try:
                    self._call_refusable("put_item", self.table, TableName=self.table, Item=raw)
                except _Refused as exc:
                    refused[key] = exc.reason
        return refused

    def _batch_write(self, table: str, requests: list[dict[str, Any]]) -> str | None:
        """None when every request is written; DynamoDB's reason when it refused the batch as invalid."""
        pending = {table: requests}
        for attempt in range(MAX_UNPROCESSED_ROUNDS + 1):
            try:
                result = self._call_refusable("batch_write_item", table, RequestItems=pending)
            except _Refused as exc:
                return exc.reason
            pending = {t: r for t, r in (result.get("UnprocessedItems") or {}).items() if r}
            if not pending:
                return None
            if attempt == MAX_UNPROCESSED_ROUNDS:
                break
            self.unprocessed_retries += 1
            # Full jitter: the table is over its throughput; spread the retries of parallel writers apart.
            self._sleep(random.uniform(0, min(5.0, 0.05 * 2**attempt)))
        left = sum(len(r) for r in pending.values())
        raise StoreError(
            f"{left} item(s) still unprocessed after {MAX_UNPROCESSED_ROUNDS} retries (throttled)",
            where=self._where(table),
            hint="retry later; collecting the same hour again overwrites, never doubles",
        )

    def _paginate(self, op: str, table: str, **kw: Any) -> Iterator[dict[str, Any]]:
        start: dict[str, Any] | None = None
        while True:
            extra = {"ExclusiveStartKey": start} if start else {}
            page = self._call(op, table, TableName=table, **kw, **extra)
            yield from page.get("Items", [])
            start = page.get("LastEvaluatedKey")
            if not start:
                return

    def query(
        self,
        kind: str | None = None,
        account: str | None = None,
        region: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[UsageItem]:
        lo = format_hour(ceil_hour(since)) if since is not None else None
        hi = format_hour(ceil_hour(until) - timedelta(hours=1)) if until is not None else None
        if lo is not None and hi is not None and lo > hi:
            return
        if hi is not None:
            hi += RANGE_END  # the last hour's parts (`hour#001` ...) too
        names: dict[str, str] = {"#t": "time", "#r": "awsResource"}
        values: dict[str, Any] = {}
        time_cond = None
        if lo is not None and hi is not None:
            time_cond = "#t BETWEEN :lo AND :hi"
            values.update({":lo": {"S": lo}, ":hi": {"S": hi}})
        elif lo is not None:
            time_cond = "#t >= :lo"
            values[":lo"] = {"S": lo}
        elif hi is not None:
            time_cond = "#t <= :hi"
            values[":hi"] = {"S": hi}

        if kind is not None and account is not None and region is not None:
            values[":r"] = {"S": f"{kind}:{account}:{region}"}
            cond = "#r = :r" + (f" AND {time_cond}" if time_cond else "")
            raws = self._paginate(
                "query",
                self.table,
                KeyConditionExpression=cond,
                ExpressionAttributeNames=names if time_cond else {"#r": "awsResource"},
                ExpressionAttributeValues=values,
                ConsistentRead=True,
            )
            yield from (i for i in self._decode(raws, ordered=True) if _matches(i, kind, account, region))
            return

        filters = [time_cond] if time_cond else []
        # Server-side narrowing where the key allows it; the exact match is re-checked on decode.
        prefix = ":".join(p for p in (kind, account) if p is not None) if kind is not None else None
        if prefix:
            filters.append("begins_with(#r, :p)")
            values[":p"] = {"S": prefix + ":"}
        if region is not None:
            filters.append("contains(#r, :g)")
            values[":g"] = {"S": f":{region}"}
        if account is not None and kind is None:
            filters.append("contains(#r, :a)")
            values[":a"] = {"S": f":{account}:"}
        kw: dict[str, Any] = {"ConsistentRead": True}
        if filters:
            used = {"#t": "time"} if time_cond else {}
            if prefix or region is not None or (account is not None and kind is None):
                used["#r"] = "awsResource"
            kw.update(
                FilterExpression=" AND ".join(filters),
                ExpressionAttributeNames=used,
                ExpressionAttributeValues=values,
            )
        scanned = self._decode(self._paginate("scan", self.table, **kw), ordered=False)
        found = [i for i in scanned if _matches(i, kind, account, region)]
        found.sort(key=lambda i: (i.aws_resource, i.time))
        yield from found

    def _decode(self, raws: Iterable[Mapping[str, Any]], *, ordered: bool) -> Iterator[UsageItem]:
        for raw, rest in Assembler(where=self._where(), ordered=ordered).feed(raws):
            try:
                yield item_from_dynamo(raw, rest)
            except (InputError, KeyError):
                # Not an item of ours (the original system's `state` item ...); `usage import` migrates those.
                continue

    def get(self, aws_resource: str, time: datetime) -> UsageItem | None:
        result = self._call(
            "get_item",
            self.table,
            TableName=self.table,
            Key={"awsResource": {"S": aws_resource}, "time": {"S": format_hour(time)}},
            ConsistentRead=True,
        )
        raw = result.get("Item")
        if not raw:
            return None
        if PARTS not in raw:
            return item_from_dynamo(raw)
        parts = self._paginate(
            "query",
            self.table,
            KeyConditionExpression="#r = :r AND begins_with(#t, :p)",
            ExpressionAttributeNames={"#r": "awsResource", "#t": "time"},
            ExpressionAttributeValues={":r": {"S": aws_resource}, ":p": {"S": format_hour(time) + SEP}},
            ConsistentRead=True,
        )
        found = list(self._decode([raw, *parts], ordered=True))
        return found[0] if found else None

    def resources(self) -> list[str]:
        seen: set[str] = set()
        for raw in self._paginate(
            "scan", self.table, ProjectionExpression="#r", ExpressionAttributeNames={"#r": "awsResource"}
        ):
            res = raw["awsResource"]["S"]
            try:
                split_resource(res)
            except InputError:
                continue
            seen.add(res)
        return sorted(seen)

    def put_map(self, id: str, attrs: Mapping[str, Any]) -> None:
        item = {k: to_dynamo_value(v, where=f"map {id} {k}") for k, v in attrs.items() if k != "id"}
        item["id"] = id
        self._call("put_item", self.map_table, TableName=self.map_table, Item=serialize_item(item))

    def get_map(self, id: str) -> dict[str, Any] | None:
        result = self._call(
            "get_item", self.map_table, TableName=self.map_table, Key={"id": {"S": id}}, ConsistentRead=True
        )
        raw = result.get("Item")
        if not raw:
            return None
        out = deserialize_item(raw)
        out.pop("id", None)
        return out

    def scan_map(self, prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
        kw: dict[str, Any] = {"ConsistentRead": True}
        if prefix:
            kw.update(
                FilterExpression="begins_with(#i, :p)",
                ExpressionAttributeNames={"#i": "id"},
                ExpressionAttributeValues={":p": {"S": prefix}},
            )
        rows = []
        for raw in self._paginate("scan", self.map_table, **kw):
            attrs = deserialize_item(raw)
            rows.append((str(attrs.pop("id")), attrs))
        rows.sort(key=lambda r: r[0])
        yield from rows

    def close(self) -> None:
        self.client.close()

    def info(self) -> StoreInfo:
        """Counts by key-only Scans: exact, unlike DescribeTable's ItemCount, which lags by hours."""
        items = 0
        resources: set[str] = set()
        first: str | None = None
        last: str | None = None
        for raw in self._paginate(
            "scan",
            self.table,
            ProjectionExpression="#r, #t",
            ExpressionAttributeNames={"#r": "awsResource", "#t": "time"},
        ):
            res, t = raw["awsResource"]["S"], raw["time"]["S"]
            try:
                split_resource(res)
                parse_hour(t)
            except InputError:
                continue  # not one of ours (see _decode)
            items += 1
            resources.add(res)
            first = t if first is None or t < first else first
            last = t if last is None or t > last else last
        maps = self._count(self.map_table)
        return StoreInfo(
            self.url,
            items,
            len(resources),
            parse_hour(first) if first else None,
            parse_hour(last) if last else None,
            maps,
        )

    def _count(self, table: str) -> int:
        total = 0
        start: dict[str, Any] | None = None
        while True:
            kw = {"ExclusiveStartKey": start} if start else {}
            page = self._call("scan", table, TableName=table, Select="COUNT", **kw)
            total += int(page.get("Count", 0))
            start = page.get("LastEvaluatedKey")
            if not start:
                return total

    def count_items(self) -> int:
        """Items in the usage table, foreign ones and the parts of split items included, by a COUNT scan."""
        return self._count(self.table)


def _matches(item: UsageItem, kind: str | None, account: str | None, region: str | None) -> bool:
    return (
        (kind is None or item.kind == kind)
        and (account is None or item.account == account)
        and (region is None or item.region == region)
    )


def open_dynamodb(url: str, *, read_only: bool = False) -> DynamoDBStore:
    """`read_only` changes nothing here: opening a DynamoDB store writes nothing, reads write nothing."""
    return DynamoDBStore(url)


# What this backend calls on its two tables (the `_call` / `_paginate` operations above; a test holds them
# equal): every command but `store init` needs DATA_ACTIONS alone, `store init` INIT_ACTIONS as well.
DATA_ACTIONS = (
    "dynamodb:BatchWriteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:Scan",
)
INIT_ACTIONS = ("dynamodb:CreateTable", "dynamodb:DescribeTable", "dynamodb:UpdateContinuousBackups")


def table_arns(url: str) -> list[str]:
    """The ARNs of the usage and map tables a store URL names (any account; the URL's region, else any)."""
    parts = urlsplit(url)
    if parts.scheme != "dynamodb" or not parts.netloc:
        raise StoreError(f"bad DynamoDB store URL {url!r}", hint="use dynamodb://TABLE?region=REGION")
    params = dict(parse_qsl(parts.query))  # the last value of a repeated key, as parse_url
    region = params.get("region") or "*"
    tables = (parts.netloc, params.get("map_table") or f"{parts.netloc}Map")
    return [f"arn:aws:dynamodb:{region}:*:table/{t}" for t in tables]
