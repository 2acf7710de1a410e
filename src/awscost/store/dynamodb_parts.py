"""DynamoDB's 400 KB item limit: the size of an item as DynamoDB counts it, and items larger than the limit
split into parts and read back whole.

Key scheme of a split item (table AWSCost; `H` = the item's hour key, e.g. `2026-11-02T00:00:00Z`):

    head      awsResource, time = H        the attributes that fit (`usage` first, then the smallest),
                                           and `_parts` = {"count": N, "sha256": D}
    part i    awsResource, time = H#00i    `_part` (B): bytes [(i-1)·PART_BYTES, i·PART_BYTES) of the JSON
              (i = 1 .. N, 3 digits)       object of the other attributes; `_sha256` (S) = D

D is the SHA-256 of that whole JSON text. Parts sort right after their head (`#` > end of the hour key,
before the next hour), so a key query returns a head followed by its parts, and a time range ending at
hour H covers `H#...` when its upper bound is `H#~`. The parts are written before the head: a head is never
visible before its parts. A reader joins the parts whose `_sha256` is the head's; a part with another
digest (left over from an earlier, larger version of the item) is ignored, and a missing part is an error,
never a silently partial item. Anything that reads the table by its keys alone (info, resources) skips the
parts, whose time is not an hour.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from awscost.core.errors import InputError, StoreError

ITEM_LIMIT = 400 * 1024  # DynamoDB's maximum item size: attribute names and values, UTF-8
SPLIT_OVER = 390_000  # an item above this is split: a margin below the limit for DynamoDB's "approximately"
PART_BYTES = 350_000  # JSON bytes per part item
MAX_PARTS = 999  # 3-digit part numbers: ~350 MB, far beyond any item of ours
PARTS = "_parts"  # head attribute: {"count": N, "sha256": D}
PART = "_part"  # part attribute: the bytes
PART_SHA = "_sha256"  # part attribute: the digest of the whole JSON, to join parts of one write only
SEP = "#"
RANGE_END = SEP + "~"  # `hour#~` sorts after every part of `hour` and before the next hour


def _utf8(text: str) -> int:
    return len(text.encode("utf-8"))


def _number_size(text: str) -> int:
    """DynamoDB: 1 byte per two significant digits (leading and trailing zeros trimmed), plus 1 byte."""
    digits = Decimal(text).as_tuple().digits
    significant = "".join(map(str, digits)).strip("0") or "0"
    return (len(significant) + 1) // 2 + 1


def value_size(value: Mapping[str, Any]) -> int:
    """Size of one serialized attribute value ({"S": ...}, {"M": {...}}, ...) as DynamoDB counts it."""
    ((kind, data),) = value.items()
    if kind == "S":
        return _utf8(data)
    if kind == "N":
        return _number_size(data)
    if kind == "B":
        return len(bytes(data.value if hasattr(data, "value") else data))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(_utf8(v) for v in data)
    if kind == "NS":
        return sum(_number_size(v) for v in data)
    if kind == "BS":
        return sum(len(bytes(v.value if hasattr(v, "value") else v)) for v in data)
    # List / Map: 3 bytes, plus 1 byte per element (and, in a map, the element's name).
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in data)
    if kind == "M":
        return 3 + sum(1 + _utf8(k) + value_size(v) for k, v in data.items())
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def item_size(raw: Mapping[str, Mapping[str, Any]]) -> int:
    """Size of a serialized item as DynamoDB counts it against ITEM_LIMIT: attribute names plus values."""
    return sum(_utf8(name) + value_size(value) for name, value in raw.items())


def split_item(
    raw: dict[str, Any], decode: Callable[[Mapping[str, Any]], Any], *, where: str
) -> list[dict[str, Any]]:
    """The items to write for one serialized item, in write order: itself when it fits, else its parts and
    then its head. `decode` turns a serialized value into the plain value a normal read returns."""
    if item_size(raw) <= SPLIT_OVER:
        return [raw]
    keys = {k: raw[k] for k in ("awsResource", "time")}
    digest_room = _utf8(PARTS) + value_size(
        {"M": {"count": {"N": str(MAX_PARTS)}, "sha256": {"S": "0" * 64}}}
    )
    room = SPLIT_OVER - item_size(keys) - digest_room
    head = dict(keys)
    rest: dict[str, Any] = {}
    others = sorted(
        (k for k in raw if k not in keys and k != "usage"), key=lambda k: (item_size({k: raw[k]}), k)
    )
    for name in ["usage", *others] if "usage" in raw else others:
        size = item_size({name: raw[name]})
        if size <= room:
            head[name] = raw[name]
            room -= size
        else:
            rest[name] = decode(raw[name])
    text = json.dumps(rest, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode("utf-8")
    count = -(-len(text) // PART_BYTES)
    if count > MAX_PARTS:
        raise InputError(f"item of {len(text)} bytes is more than {MAX_PARTS} parts hold", where=where)
    digest = hashlib.sha256(text).hexdigest()
    hour = raw["time"]["S"]
    parts = [
        {
            "awsResource": raw["awsResource"],
            "time": {"S": f"{hour}{SEP}{i:03d}"},
            PART: {"B": text[(i - 1) * PART_BYTES : i * PART_BYTES]},
            PART_SHA: {"S": digest},
        }
        for i in range(1, count + 1)
    ]
    head[PARTS] = {"M": {"count": {"N": str(count)}, "sha256": {"S": digest}}}
    return [*parts, head]


def is_part(raw: Mapping[str, Any]) -> bool:
    return SEP in str(raw.get("time", {}).get("S", ""))


class Assembler:
    """Joins heads and their parts from a stream of raw items into (head, the other attributes) pairs.

    `ordered`: the stream is in key order (a key query), so a head is complete when the next head comes;
    otherwise (a scan) heads are finished at the end of the stream."""

    def __init__(self, *, where: str, ordered: bool) -> None:
        self.where = where
        self.ordered = ordered
        self._heads: dict[tuple[str, str], dict[str, Any]] = {}
        self._parts: dict[tuple[str, str], dict[int, tuple[str, bytes]]] = {}

    def feed(self, raws: Iterable[Mapping[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        for raw in raws:
            resource = str(raw.get("awsResource", {}).get("S", ""))
            time = str(raw.get("time", {}).get("S", ""))
            if SEP in time:
                hour, _, number = time.partition(SEP)
                if number.isdigit() and PART in raw:
                    data = raw[PART]["B"]
                    chunk = bytes(data.value if hasattr(data, "value") else data)
                    sha = str(raw.get(PART_SHA, {}).get("S", ""))
                    self._parts.setdefault((resource, hour), {})[int(number)] = (sha, chunk)
                continue
            if self.ordered:
                yield from self._finish()
            if PARTS in raw:
                self._heads[(resource, time)] = dict(raw)
            else:
                yield dict(raw), {}
        yield from self._finish()

    def _finish(self) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        for key in sorted(self._heads):
            head = self._heads.pop(key)
            yield head, self._join(key, head, self._parts.pop(key, {}))
        self._parts.clear()  # parts without a head: an interrupted write, its head never written

    def _join(
        self, key: tuple[str, str], head: dict[str, Any], parts: dict[int, tuple[str, bytes]]
    ) -> dict[str, Any]:
        spec = head.pop(PARTS).get("M", {})
        count = int(spec.get("count", {}).get("N", "0"))
        digest = str(spec.get("sha256", {}).get("S", ""))
        missing = [i for i in range(1, count + 1) if parts.get(i, ("", b""))[0] != digest]
        text = b"".join(parts[i][1] for i in range(1, count + 1)) if not missing else b""
        if missing or hashlib.sha256(text).hexdigest() != digest:
            raise StoreError(
                f"item {key[0]} {key[1]} is split into {count} parts but part(s) "
                f"{', '.join(map(str, missing)) or 'all'} are missing or from another write",
                where=self.where,
                hint="write that hour again (collect or import it: a put overwrites the whole item)",
            )
        rest: dict[str, Any] = json.loads(text)
        return rest
