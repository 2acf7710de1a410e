"""The regions to collect: `--regions`, else the config, else every region enabled in the account."""

from __future__ import annotations

from collections.abc import Sequence

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from awscost.aws.session import client
from awscost.core.config import Settings, validate_region
from awscost.core.errors import AwsAccessError, ConfigError, InputError


def known_regions(session: boto3.Session) -> set[str]:
    """Every region botocore knows for EC2 in any partition (aws, aws-cn, aws-us-gov ...)."""
    out: set[str] = set()
    for partition in session.get_available_partitions():
        out.update(session.get_available_regions("ec2", partition_name=partition))
    return out


def enabled_regions(session: boto3.Session, config: Config | None = None) -> list[str]:
    """Regions enabled for the caller's account (ec2:DescribeRegions, AllRegions=False)."""
    ec2 = client(session, "ec2", session.region_name or "us-east-1", config=config)
    try:
        resp = ec2.describe_regions(AllRegions=False)
    except (ClientError, BotoCoreError) as exc:
        raise AwsAccessError(f"ec2:DescribeRegions failed: {exc}", where="regions") from None
    return sorted(r["RegionName"] for r in resp["Regions"])


def resolve_regions(
    settings: Settings,
    session: boto3.Session,
    cli_regions: Sequence[str] | None = None,
    config: Config | None = None,
) -> list[str]:
    # A bad region given by the caller is about its `regions` parameter; one from the config names the file.
    where: str | None
    if cli_regions:
        where, param, wanted = None, "regions", list(cli_regions)
    elif settings.regions:
        where, param, wanted = f"{settings.config_path or 'config'}: regions", None, list(settings.regions)
    else:
        return enabled_regions(session, config)
    known = known_regions(session)
    out: list[str] = []
    for name in wanted:
        try:
            name = validate_region(name, where=where or "regions")
        except ConfigError as exc:
            raise InputError(exc.message, where=where, param=param) from None
        if known and name not in known:
            raise InputError(
                f"unknown region {name!r}", where=where, param=param, hint="see `aws ec2 describe-regions`"
            )
        if name not in out:
            out.append(name)
    return out
