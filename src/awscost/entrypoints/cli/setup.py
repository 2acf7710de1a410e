"""`awscost init`: write a commented starter awscost.toml."""

from __future__ import annotations

import click

from awscost.core.config import DEFAULT_CONFIG_PATH, write_starter_config


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
def iam_policy(kinds: str, member: bool) -> None:
    """Print the least-privilege IAM policy (JSON) that `awscost collect --kinds KINDS` needs.

    Generated from the kinds catalog, where each collected kind declares its actions.
    """
    import json

    from awscost.usage.kinds import iam_policy as policy

    click.echo(json.dumps(policy(kinds, member=member), indent=2))
