"""`s3://` locations and the [billing.s3] settings: checked before any AWS call."""

from __future__ import annotations

import pytest

from awscost.billing.s3 import S3Location, S3Options, is_s3
from awscost.core.config import Settings
from awscost.core.errors import ConfigError, InputError


def test_location_parses_bucket_and_folder_prefix() -> None:
    loc = S3Location.parse("s3://cur-bucket/exports/daily", folder=True)
    assert (loc.bucket, loc.prefix) == ("cur-bucket", "exports/daily/")
    assert (
        loc.key("x_BillingPeriod=2026-11", "part.parquet")
        == "exports/daily/x_BillingPeriod=2026-11/part.parquet"
    )
    assert str(loc) == "s3://cur-bucket/exports/daily/"
    assert S3Location.parse("s3://cur-bucket").prefix == ""
    assert is_s3("s3://b/x") and not is_s3("/tmp/s3://b")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("s3://UPPER/x", "not a valid S3 bucket name"),
        ("s3://b/x", "not a valid S3 bucket name"),
        ("s3://bucket//x", "empty path segment"),
        ("/local/path", "not an s3:// location"),
    ],
)
def test_bad_location_is_a_clear_error(url: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        S3Location.parse(url)
    assert info.value.where == url


def _settings(s3: object) -> Settings:
    return Settings(raw={"billing": {"s3": s3}}, config_path="awscost.toml")


def test_options_from_settings() -> None:
    opts = S3Options.from_settings(
        _settings(
            {
                "role_arn": "arn:aws:iam::111122223333:role/cur-reader",
                "external_id": "x-1",
                "region": "eu-west-1",
                "kms_key_id": "alias/cur",
            }
        )
    )
    assert opts.role_arn == "arn:aws:iam::111122223333:role/cur-reader" and opts.region == "eu-west-1"
    assert opts.put_args() == {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "alias/cur"}
    assert S3Options.from_settings(Settings()).put_args() == {}


@pytest.mark.parametrize(
    ("s3", "message"),
    [
        ({"rolearn": "x"}, "unknown key"),
        ({"role_arn": "cur-reader"}, "not an IAM role ARN"),
        ({"external_id": "x"}, "without role_arn"),
        ({"region": ""}, "non-empty string"),
        ("s3", "must be a table"),
    ],
)
def test_bad_options_are_config_errors(s3: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        S3Options.from_settings(_settings(s3))
    assert "[billing.s3]" in str(info.value.where)
