"""The report's archive in S3: `reports/<audience>/<period>/cost-report.{html,xlsx,json}`, and the same three
under `reports/<audience>/latest/` so a bookmark always opens the newest. Keys depend only on audience and
period: a rerun of a period overwrites its files, never adds copies. `archive_file` puts one file a job wrote
(the RI workbook: `<prefix>/<day>/AwsRIUsageReport.xlsx`) the same way.

No ServerSideEncryption argument is sent: objects take the bucket's default encryption (SSE-S3 or SSE-KMS, set
on the bucket), for the archive and the workbook alike."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from awscost.aws.errors import failure_reason
from awscost.aws.session import client, client_config
from awscost.core.errors import AwsAccessError, InputError
from awscost.reports.deliver.artifacts import Artifacts

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILES = (  # suffix, content type
    ("html", "text/html; charset=utf-8"),
    ("xlsx", XLSX_TYPE),
    ("json", "application/json"),
)
MAX_PRESIGN_DAYS = 7  # SigV4 presigned URLs live at most 604800 s
# Errors that mean "this bucket cannot take the report": said once, naming the bucket, and nothing more is tried.
BUCKET_ERRORS = frozenset({"NoSuchBucket", "AccessDenied", "AllAccessDisabled", "InvalidBucketName"})


def prefix(audience: str, period: str) -> str:
    return f"reports/{audience}/{period}/"


def planned_keys(artifacts: Artifacts) -> tuple[str, ...]:
    """The keys `archive` writes, in order: the period's three files, then latest/."""
    out = []
    for folder in (artifacts.period, "latest"):
        out += [f"{prefix(artifacts.audience, folder)}cost-report.{suffix}" for suffix, _ in FILES]
    return tuple(out)


def s3_client(session: Any) -> Any:
    """An S3 client that presigns with SigV4: its URLs carry X-Amz-Expires and AWS enforces their lifetime
    (SigV2 URLs are refused by regions opened since 2014)."""
    return client(session, "s3", config=client_config().merge(Config(signature_version="s3v4")))


@dataclass(frozen=True)
class ArchiveResult:
    bucket: str
    keys: tuple[str, ...]
    s3: Any  # the client that wrote them, kept to presign links to them

    @property
    def workbook_key(self) -> str:
        return next(k for k in self.keys if k.endswith(".xlsx"))

    def presign(self, key: str, days: int = MAX_PRESIGN_DAYS) -> str:
        """A GET URL for `key` valid `days` days (1..7). Signed with the client's credentials, so a URL signed
        by temporary credentials (a Lambda role) stops working when those expire, whatever `days` says."""
        if key not in self.keys:
            raise InputError(f"{key!r} was not archived by this run", param="key")
        if not 1 <= days <= MAX_PRESIGN_DAYS:
            raise InputError(f"a presigned link lives 1 to {MAX_PRESIGN_DAYS} days, not {days}", param="days")
        url: str = self.s3.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=days * 86400
        )
        return url

    def to_json(self) -> dict[str, Any]:
        return {"bucket": self.bucket, "keys": list(self.keys)}


def archive(s3: Any, bucket: str, artifacts: Artifacts) -> ArchiveResult:
    """Write the report's files to `bucket` (an S3 client is given: see `s3_client`). A bucket that is
    missing or refuses the first write raises AwsAccessError naming it, before anything else is written."""
    artifacts.check()
    keys = planned_keys(artifacts)
    bodies = {
        "html": (artifacts.html_file or artifacts.html).encode(),
        "xlsx": artifacts.xlsx,
        "json": artifacts.json,
    }
    dated, latest = keys[: len(FILES)], keys[len(FILES) :]
    with s3_errors(
        bucket, artifacts.where, missing_hint="create it, or set [report] bucket to one that exists"
    ):
        for key, (suffix, content_type) in zip(dated, FILES, strict=True):
            s3.put_object(Bucket=bucket, Key=key, Body=bodies[suffix], ContentType=content_type)
        # latest/ is a server-side copy: the workbook is not uploaded twice. The copy keeps the content type.
        for source, key in zip(dated, latest, strict=True):
            s3.copy_object(
                Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": source}, MetadataDirective="COPY"
            )
    return ArchiveResult(bucket, keys, s3)


def archive_file(s3: Any, bucket: str, key: str, path: Path, *, content_type: str, where: str) -> str:
    """One file a job wrote (the RI workbook) put at `key`, with the errors and the bucket's default
    encryption of the report archive; returns its s3:// URL. Streamed from the file, never whole in memory."""
    hint = "create it, or give an s3:// location in a bucket that exists"
    with s3_errors(bucket, where, missing_hint=hint), open(path, "rb") as body:
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
    return f"s3://{bucket}/{key}"


@contextmanager
def s3_errors(bucket: str, where: str, *, missing_hint: str) -> Iterator[None]:
    """S3 failures of a report write as one AwsAccessError naming the bucket (a missing or refusing bucket
    with what to do about it)."""
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        what = "does not exist" if code == "NoSuchBucket" else "refused the report"
        hint = (
            missing_hint
            if code == "NoSuchBucket"
            else "the role needs s3:PutObject and s3:GetObject on reports/* of the bucket"
        )
        if code in BUCKET_ERRORS:
            raise AwsAccessError(
                f"report bucket {bucket!r} {what}: {failure_reason(exc)}", where=where, hint=hint
            ) from None
        raise AwsAccessError(
            f"archiving to s3://{bucket}/ failed: {failure_reason(exc)}", where=where
        ) from None
    except BotoCoreError as exc:  # no credentials, no route to S3: before any object was written, or midway
        raise AwsAccessError(f"archiving to s3://{bucket}/ failed: {exc}", where=where) from None
