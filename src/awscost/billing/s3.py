"""Where bills and datasets live in S3: `s3://bucket/prefix` locations and the client that reaches them.

A CUR bucket is often in the payer (or a billing) account, reached by assuming a role there, sometimes with
an ExternalId, and encrypted with a KMS key; `[billing.s3]` in awscost.toml says so:

    [billing.s3]
    role_arn = "arn:aws:iam::111122223333:role/awscost-cur-reader"   # optional: assumed for every S3 call
    external_id = "..."                                              # optional, with role_arn
    region = "us-east-1"                                             # the bucket's region
    kms_key_id = "arn:aws:kms:..."                                   # SSE-KMS key for objects awscost writes

Reads need no KMS setting (S3 decrypts SSE-KMS objects for a caller allowed kms:Decrypt); writes use
`kms_key_id` when set, else the bucket's default encryption. The endpoint comes from boto3's environment
(AWS_ENDPOINT_URL), as for every other client: tests point it at a moto server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from awscost.core.errors import AwsAccessError, ConfigError, InputError

if TYPE_CHECKING:
    from awscost.core.config import Settings

SCHEME = "s3://"
# Bucket names: 3-63 of lowercase letters, digits, dots and hyphens (S3's rules, checked before any call).
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z\-]*:iam::\d{12}:role/[\w+=,.@/\-]+$")
_OPTION_KEYS = ("role_arn", "external_id", "region", "kms_key_id")


def is_s3(location: object) -> bool:
    return isinstance(location, str) and location.startswith(SCHEME)


@dataclass(frozen=True)
class S3Location:
    """`s3://bucket/prefix`: `prefix` has no leading slash; a non-empty prefix of a folder ends with '/'."""

    bucket: str
    prefix: str = ""

    @classmethod
    def parse(cls, url: str, *, folder: bool = False) -> S3Location:
        """`folder=True` reads the prefix as a folder (a trailing '/' is added), as for a dataset or a bill
        delivery prefix."""
        if not is_s3(url):
            raise InputError("not an s3:// location", where=url)
        bucket, _, prefix = url[len(SCHEME) :].partition("/")
        if not _BUCKET.match(bucket):
            raise InputError(f"{bucket!r} is not a valid S3 bucket name", where=url)
        if "//" in prefix or prefix.startswith("/"):
            raise InputError("S3 key prefix has an empty path segment ('//')", where=url)
        if folder and prefix and not prefix.endswith("/"):
            prefix += "/"
        return cls(bucket, prefix)

    def key(self, *parts: str) -> str:
        return self.prefix + "/".join(p.strip("/") for p in parts if p)

    def child(self, *parts: str) -> S3Location:
        return S3Location(self.bucket, self.key(*parts))

    def url(self, key: str | None = None) -> str:
        return f"{SCHEME}{self.bucket}/{self.prefix if key is None else key}"

    def __str__(self) -> str:
        return self.url()


@dataclass(frozen=True)
class S3Options:
    """How to reach the bills' bucket (see the module's docstring)."""

    role_arn: str | None = None
    external_id: str | None = None
    region: str | None = None
    kms_key_id: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Options:
        raw, where = settings.subtable("billing", "s3", _OPTION_KEYS)
        values: dict[str, str | None] = {}
        for key in _OPTION_KEYS:
            value = raw.get(key)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ConfigError(f"{key} must be a non-empty string", where=where)
            values[key] = value.strip() if isinstance(value, str) else None
        if values["role_arn"] and not _ROLE_ARN.match(values["role_arn"] or ""):
            raise ConfigError(f"role_arn {values['role_arn']!r} is not an IAM role ARN", where=where)
        if values["external_id"] and not values["role_arn"]:
            raise ConfigError("external_id is given without role_arn", where=where)
        return cls(**values)

    def put_args(self) -> dict[str, str]:
        """Extra PutObject / CreateMultipartUpload arguments for an object awscost writes."""
        if self.kms_key_id:
            return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_id}
        return {}


def client(options: S3Options | None = None) -> Any:
    """An S3 client with the retries and timeouts of every awscost client; through `options.role_arn`
    (assumed once, with its ExternalId) when set. A refused AssumeRole is an AwsAccessError naming the role."""
    from awscost.aws import session as aws_session

    options = options or S3Options()
    base = aws_session.make_session(region=options.region)
    if options.role_arn:
        from botocore.exceptions import BotoCoreError, ClientError

        sts = aws_session.client(base, "sts")
        kwargs: dict[str, Any] = {"RoleArn": options.role_arn, "RoleSessionName": "awscost-billing"}
        if options.external_id:
            kwargs["ExternalId"] = options.external_id
        try:
            creds = sts.assume_role(**kwargs)["Credentials"]
        except (ClientError, BotoCoreError) as exc:
            raise AwsAccessError(f"cannot assume {options.role_arn}: {exc}", where="[billing.s3]") from None
        base = aws_session.make_session(creds, region=options.region)
    return aws_session.client(base, "s3", options.region)
