"""Bills read straight from S3: the three delivery layouts AWS writes, and which of their deliveries are new.

- Legacy CUR: `<prefix>/<report>/<YYYYMMDD-YYYYMMDD>/<report>-Manifest.json` is the period's current
  manifest; its `reportKeys` name the data files in `<period>/<assemblyId>/`. Older assemblies keep their
  folders (and a copy of their manifest) beside it; the current manifest wins.
- CUR 2.0 and FOCUS (Data Exports): `<prefix>/<export>/metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json`
  names its `dataFiles` (full s3:// URIs) and its `executionId`; the data is in `<export>/data/...`.
- Plain objects: `s3://bucket/file.csv.gz`, or a prefix without manifests (every bill file under it).

A delivery is known by its manifest's URL and id (assemblyId, executionId, or the manifest's ETag) and
LastModified; a dataset records per period the delivery it was loaded from (`record`), and a load skips the
periods whose newest delivery is the one it holds (`held`). Loose files carry no identity: loaded each time.

The engine reads local files: DuckDB's httpfs extension cannot be installed here (it downloads at run time),
and a local file keeps one scan path with its CRLF / ragged-row rules. So each data file is downloaded,
streamed in chunks, into the load's work directory and read there; messages name the s3:// URL
(`SourceFile.display`), never the temporary path. A load into a dataset downloads one file at a time and
removes it once the engine has moved past it, so the disk holds one raw file at a time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, overload

from awscost.billing import sources
from awscost.billing.s3 import S3Location, S3Options, client
from awscost.core.errors import AwsAccessError, InputError

_LEGACY_PERIOD = re.compile(r"^(\d{4})(\d{2})01-\d{8}$")  # a legacy CUR period folder, 20261101-20261201
_EXPORT_PERIOD = re.compile(r"^BILLING_PERIOD=(\d{4})-(\d{2})$")
_DENIED = ("AccessDenied", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403")
_MISSING = ("NoSuchKey", "404", "NotFound")


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    modified: datetime
    etag: str

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass(frozen=True)
class RemoteDelivery:
    """One delivery found in S3: a manifest's data files (`period`, `manifest`, `id` set) or one loose file."""

    files: tuple[tuple[str, str], ...]  # (bucket, key) of each data file, in the manifest's order
    period: str | None = None
    manifest: S3Object | None = None
    id: str | None = None

    def record(self) -> dict[str, str] | None:
        """What the dataset marker keeps of a manifest delivery, to know it again."""
        if self.manifest is None or self.id is None:
            return None
        return {
            "manifest": self.manifest.url,
            "id": self.id,
            "modified": self.manifest.modified.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }


BILLS_READER = "the caller (or [billing.s3] role_arn)"  # who reads bills, named in a refusal


def _error(exc: Exception, action: str, url: str, reader: str = BILLS_READER) -> Exception:
    """A botocore error as the error a person can act on, naming the s3:// URL and the S3 action (and
    `reader`, who needs the permission)."""
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code == "NoSuchBucket":
            return InputError(f"{action}: no such bucket", where=url)
        if code in _MISSING:
            return InputError(f"{action}: no such object", where=url)
        if code in _DENIED:
            return AwsAccessError(
                f"{action} refused ({code}): {reader} needs s3:{action} here",
                where=url,
            )
        return AwsAccessError(f"{action} failed: {code or exc}", where=url)
    return AwsAccessError(f"{action} failed: {exc}", where=url)


def _call(action: str, url: str, fn: Any, *, reader: str = BILLS_READER, **kwargs: Any) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return fn(**kwargs)
    except (ClientError, BotoCoreError) as exc:
        raise _error(exc, action, url, reader) from None


def list_objects(s3: Any, loc: S3Location, *, reader: str = BILLS_READER) -> list[S3Object]:
    """Every object under the location (ListObjectsV2, all pages), folders' placeholder keys left out."""
    from botocore.exceptions import BotoCoreError, ClientError

    out: list[S3Object] = []
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=loc.bucket, Prefix=loc.prefix):
            for item in page.get("Contents", []):
                if not item["Key"].endswith("/"):
                    out.append(
                        S3Object(loc.bucket, item["Key"], item["LastModified"], str(item.get("ETag", "")))
                    )
    except (ClientError, BotoCoreError) as exc:
        raise _error(exc, "ListBucket", loc.url(), reader) from None
    return out


def _manifest_period(data: dict[str, Any], obj: S3Object) -> str:
    folder = obj.key.split("/")[-2] if "/" in obj.key else ""
    m = _EXPORT_PERIOD.match(folder)
    bp = data.get("billingPeriod")
    if m and not (isinstance(bp, dict) and bp.get("start")):
        return f"{m.group(1)}-{m.group(2)}"
    return sources._manifest_period(data, obj.url)


def _is_current(obj: S3Object) -> bool:
    """A period's current manifest (legacy: in the period folder; exports: in metadata/BILLING_PERIOD=...),
    not a copy kept in an older assembly's folder."""
    parts = obj.key.split("/")
    folder = parts[-2] if len(parts) > 1 else ""
    return bool(_LEGACY_PERIOD.match(folder) or _EXPORT_PERIOD.match(folder))


def read_manifest(s3: Any, obj: S3Object, listed: set[tuple[str, str]]) -> RemoteDelivery:
    """A legacy CUR manifest (`reportKeys`, `assemblyId`) or a Data Exports one (`dataFiles`, `executionId`);
    every data file it names must exist (an InputError names the manifest and the key)."""
    body = _call("GetObject", obj.url, s3.get_object, Bucket=obj.bucket, Key=obj.key)["Body"].read()
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"unreadable CUR manifest: {exc}", where=obj.url) from None
    if not isinstance(data, dict):
        raise InputError("not a CUR or Data Exports manifest", where=obj.url)
    period = _manifest_period(data, obj)
    files: list[tuple[str, str]] = []
    if isinstance(data.get("reportKeys"), list):
        base = obj.key.rsplit("/", 1)[0] if "/" in obj.key else ""
        for key in data["reportKeys"]:
            files.append(_locate(s3, obj, str(key), base, listed))
        ident = str(data.get("assemblyId") or obj.etag.strip('"'))
    elif isinstance(data.get("dataFiles"), list):
        for url in data["dataFiles"]:
            try:
                loc = S3Location.parse(str(url))
            except InputError as exc:  # named with the manifest that holds it
                raise InputError(f"data file {url!r}: {exc.message}", where=obj.url) from None
            files.append(_locate(s3, obj, loc.prefix, "", listed, bucket=loc.bucket))
        ident = str(data.get("executionId") or obj.etag.strip('"'))
    else:
        raise InputError("not a CUR manifest (no reportKeys or dataFiles list)", where=obj.url)
    if not files:
        raise InputError("manifest lists no report files", where=obj.url)
    return RemoteDelivery(tuple(files), period, obj, ident)


def _locate(
    s3: Any,
    manifest: S3Object,
    key: str,
    base: str,
    listed: set[tuple[str, str]],
    *,
    bucket: str | None = None,
) -> tuple[str, str]:
    """The object a manifest names: the key as given (in the manifest's bucket, or the bucket its URI names),
    else its trailing parts under the manifest's folder (a bucket replicated under another prefix)."""
    bucket = bucket or manifest.bucket
    parts = [p for p in key.split("/") if p]
    if not parts or len(key.encode("utf-8", "surrogatepass")) > 1024:
        raise InputError(f"report key {key!r} is not an S3 key", where=manifest.url)
    candidates = [(bucket, "/".join(parts))]
    if base:
        candidates += [(manifest.bucket, f"{base}/{'/'.join(parts[i:])}") for i in range(1, len(parts))]
    for candidate in candidates:
        if candidate in listed:
            return candidate
    from botocore.exceptions import BotoCoreError, ClientError

    try:  # outside the listed prefix: ask for it
        s3.head_object(Bucket=candidates[0][0], Key=candidates[0][1])
        return candidates[0]
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code not in _MISSING:
            raise _error(exc, "GetObject", f"s3://{candidates[0][0]}/{candidates[0][1]}") from None
    except BotoCoreError as exc:
        raise _error(exc, "GetObject", manifest.url) from None
    raise InputError(
        f"report key {key!r} (s3://{candidates[0][0]}/{candidates[0][1]}) named by the manifest does not exist",
        where=manifest.url,
    )


def discover(s3: Any, url: str) -> list[RemoteDelivery]:
    """The deliveries at `url`: an object (a manifest or a bill file) or a prefix. Under a prefix, manifests
    win over loose files, and per period only the newest delivery is kept (the current manifest first, then
    by LastModified, then key)."""
    loc = S3Location.parse(url)
    objects = list_objects(s3, loc)
    if loc.prefix and not loc.prefix.endswith("/"):
        exact = [o for o in objects if o.key == loc.prefix]
        if exact:
            return [_object_delivery(s3, exact[0], {(o.bucket, o.key) for o in objects})]
        loc = S3Location.parse(url, folder=True)
        objects = [o for o in objects if o.key.startswith(loc.prefix)]
    if not objects:
        raise InputError("no objects under this S3 prefix", where=url)
    if any(o.key.rsplit("/", 1)[-1] == sources.DATASET_MARKER for o in objects):
        raise InputError(
            "this is an awscost billing dataset: open it as a dataset, not among billing files", where=url
        )
    listed = {(o.bucket, o.key) for o in objects}
    manifests = [o for o in objects if o.key.endswith("Manifest.json")]
    if manifests:
        newest: dict[str, tuple[tuple[bool, datetime, str], RemoteDelivery]] = {}
        for obj in sorted(manifests, key=lambda o: o.key):
            delivery = read_manifest(s3, obj, listed)
            rank = (_is_current(obj), obj.modified, obj.key)
            assert delivery.period is not None
            if delivery.period not in newest or rank > newest[delivery.period][0]:
                newest[delivery.period] = (rank, delivery)
        return [newest[p][1] for p in sorted(newest)]
    found = [o for o in objects if _is_bill_key(o.key)]
    if not found:
        raise InputError("S3 prefix holds no billing files", where=url)
    return [RemoteDelivery(((o.bucket, o.key),)) for o in found]


def _is_bill_key(key: str) -> bool:
    name = key.rsplit("/", 1)[-1]
    return name.endswith(sources.BILL_SUFFIXES) and not name.startswith(".")


def _object_delivery(s3: Any, obj: S3Object, listed: set[tuple[str, str]]) -> RemoteDelivery:
    if obj.key.endswith("Manifest.json"):
        return read_manifest(s3, obj, listed)
    if not _is_bill_key(obj.key):
        raise InputError(
            f"not a billing file (expected one of {', '.join(sources.BILL_SUFFIXES)})", where=obj.url
        )
    return RemoteDelivery(((obj.bucket, obj.key),))


def download(s3: Any, bucket: str, key: str, target: Path, *, reader: str = BILLS_READER) -> Path:
    """One object streamed to `target` (boto3's managed transfer: ranged GETs in chunks, never whole in
    memory); nothing is left at `target` when it fails."""
    url = f"s3://{bucket}/{key}"
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(target, "wb") as fh:
            _call("GetObject", url, s3.download_fileobj, reader=reader, Bucket=bucket, Key=key, Fileobj=fh)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target


class Downloads(Sequence[sources.SourceFile]):
    """A delivery's files, downloaded when iterated. `transient`: each file is removed when the next one is
    asked for (the engine has copied it by then), so a load holds one raw file on disk at a time."""

    def __init__(
        self, s3: Any, delivery: RemoteDelivery, workdir: Path, *, transient: bool, number: int
    ) -> None:
        self._s3, self._delivery, self._workdir = s3, delivery, workdir
        self._transient, self._number = transient, number
        self._kept: list[sources.SourceFile] | None = None

    def __len__(self) -> int:
        return len(self._delivery.files)

    @overload
    def __getitem__(self, index: int) -> sources.SourceFile: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[sources.SourceFile]: ...
    def __getitem__(self, index: int | slice) -> Any:
        if self._kept is None:
            self._kept = list(self._fetch())
        return self._kept[index]

    def __iter__(self) -> Iterator[sources.SourceFile]:
        if self._kept is not None or not self._transient:
            if self._kept is None:
                self._kept = list(self._fetch())
            yield from self._kept
            return
        yield from self._fetch()

    def _fetch(self) -> Iterator[sources.SourceFile]:
        for i, (bucket, key) in enumerate(self._delivery.files):
            name = key.rsplit("/", 1)[-1]
            local = download(self._s3, bucket, key, self._workdir / f"s3-{self._number:04d}-{i:04d}" / name)
            url = f"s3://{bucket}/{key}"
            made = sources._file(local, local.parent, self._delivery.period)
            out = [
                sources.SourceFile(f.path, url + f.display[len(str(local)) :], f.kind, f.period_hint)
                for f in made
            ]
            yield from out
            if self._transient:
                for f in {local, *(f.path for f in made)}:
                    f.unlink(missing_ok=True)


def resolve(
    urls: Sequence[str],
    workdir: Path,
    options: S3Options | None = None,
    *,
    held: dict[str, dict[str, Any]] | None = None,
    transient: bool = False,
    on_unchanged: Callable[[str, str], None] | None = None,
) -> list[sources.Delivery]:
    """Deliveries for s3:// URLs. With `held` (period -> the delivery record the dataset holds), a period
    whose newest delivery is that one is left out (`on_unchanged(period, manifest_url)` is called for it)."""
    s3 = client(options)
    out: list[sources.Delivery] = []
    number = 0
    for url in urls:
        for remote in discover(s3, url):
            record = remote.record()
            if record is not None and held and remote.period is not None:
                old = held.get(remote.period) or {}
                if old.get("manifest") == record["manifest"] and old.get("id") == record["id"]:
                    if on_unchanged is not None:
                        on_unchanged(remote.period, record["manifest"])
                    continue
            number += 1
            files = Downloads(s3, remote, workdir, transient=transient, number=number)
            manifest = remote.manifest.url if remote.manifest is not None else None
            out.append(sources.Delivery(files, remote.period, manifest, record))
    return out
