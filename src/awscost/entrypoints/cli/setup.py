"""`awscost init`: write a commented starter awscost.toml; `awscost iam-policy`: the collector's IAM policy."""

from __future__ import annotations

import click

from awscost.core.config import DEFAULT_CONFIG_PATH, Settings, write_starter_config
from awscost.entrypoints.cli._common import with_settings


@click.command()
@click.option("--path", default=DEFAULT_CONFIG_PATH, show_default=True, type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(path: str, force: bool) -> None:
    """Write a commented starter awscost.toml."""
    written = write_starter_config(path, force=force)
    click.echo(f"wrote {written}")


@click.command(name="iam-policy")
@click.option("--kinds", default="all", show_default=True, help="hourly | daily | all | comma list of kinds.")
@click.option("--member", is_flag=True, help="The member-account policy (no Organizations, no AssumeRole).")
@click.option("--accounts", default=None, help='Comma list of account ids, "self" or "organizations".')
@click.option("--role-name", default=None, help="Role assumed in member accounts (default: the config's).")
@with_settings
def iam_policy(
    settings: Settings, kinds: str, member: bool, accounts: str | None, role_name: str | None
) -> None:
    """Print the least-privilege IAM policy (JSON) that `awscost collect --kinds KINDS` needs.

    The actions come from the kinds catalog, where each collected kind declares its own. AssumeRole is
    granted on the member role alone (role_name, in the accounts listed or in any account), and the
    store's actions on its DynamoDB tables (`--store`, else the config's).
    """
    import json

    from awscost.aws.accounts import parse_accounts_option
    from awscost.jobs.collect import iam_policy as policy

    settings = settings.with_overrides(accounts=parse_accounts_option(accounts), role_name=role_name)
    click.echo(json.dumps(policy(settings, kinds, member=member), indent=2))
