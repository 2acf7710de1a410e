"""`awscost init`: write a commented starter awscost.toml."""

from __future__ import annotations

import click

from awscost.config import DEFAULT_CONFIG_PATH, write_starter_config


@click.command()
@click.option("--path", default=DEFAULT_CONFIG_PATH, show_default=True, type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(path: str, force: bool) -> None:
    """Write a commented starter awscost.toml."""
    written = write_starter_config(path, force=force)
    click.echo(f"wrote {written}")
