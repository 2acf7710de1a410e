"""`awscost.toml` kept in S3 or in an SSM parameter, for where no file can be: a Lambda function's environment
holds at most 4 KB, and a report configuration with its audiences is more. `AWSCOST_CONFIG` (or `--config`)
then names the location instead of a path:

    s3://BUCKET/KEY            the object's text (GetObject)
    ssm:NAME                   a String or SecureString parameter (GetParameter, decrypted); NAME as the
                               parameter's name (`/finops/awscost-config`; names or its ARN. A standard parameter holds
                               4 KB, an advanced one 8 KB: S3 is for anything larger.

The text is read once per process start and parsed as the file would be; an unreadable location is a
ConfigError naming it and why (not found, access denied), never a run on defaults. boto3 and the standard
library only, imported when a location is read (the collector's zip cold-starts without them).
"""

from __future__ import annotations

from awscost.core.errors import ConfigError

SCHEMES = ("s3://", "ssm:")


def is_remote(location: str) -> bool:
    return location.startswith(SCHEMES)


def read_text(location: str) -> str:
    """The configuration text at an `s3://` or `ssm:` location."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        if location.startswith("s3://"):
            bucket, _, key = location[len("s3://") :].partition("/")
            if not bucket or not key:
                raise ConfigError("an S3 location is s3://BUCKET/KEY", where=location)
            body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
            try:
                return str(body.decode("utf-8"))
            except UnicodeDecodeError:
                raise ConfigError("not UTF-8 text", where=location) from None
        name = location[len("ssm:") :]
        if not name:
            raise ConfigError("an SSM location is ssm:NAME (e.g. ssm:/finops/awscost-config)", where=location)
        answer = boto3.client("ssm").get_parameter(Name=name, WithDecryption=True)
        return str(answer["Parameter"]["Value"])
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchKey", "NoSuchBucket", "404", "ParameterNotFound"):
            raise ConfigError(
                "config file not found", where=location, hint="upload awscost.toml there (see README)"
            ) from None
        message = exc.response.get("Error", {}).get("Message", "") or str(exc)
        raise ConfigError(f"cannot read ({code}): {message}", where=location) from None
    except BotoCoreError as exc:
        raise ConfigError(f"cannot read: {exc}", where=location) from None
