"""The `awscost` command line: thin. Each command group lives in `awscost.commands.<module>` and is imported
only when used, so `awscost collect` never pays for pandas or DuckDB.

The registry below is the one place a command is added.
"""

from __future__ import annotations

import sys
from importlib import import_module
from importlib.util import find_spec
from typing import Any

import click

from awscost import __version__
from awscost.core.errors import AwsCostError

# command name -> "module:attribute" of a click.Command / click.Group. One registry, lazily imported.
COMMANDS: dict[str, str] = {
    "init": "awscost.entrypoints.cli.setup:init",
    "iam-policy": "awscost.entrypoints.cli.setup:iam_policy",
    "collect": "awscost.entrypoints.cli.collect:collect",
    "usage": "awscost.entrypoints.cli.usage:usage",
    "store": "awscost.entrypoints.cli.store:store",
    "sandbox": "awscost_sandbox.cli:sandbox",
    "demo": "awscost_sandbox.cli:demo",
    "billing": "awscost.entrypoints.cli.billing:billing",
    "pricing": "awscost.entrypoints.cli.pricing:pricing",
    "ri": "awscost.entrypoints.cli.ri:ri",
    "report": "awscost.entrypoints.cli.report:report",
    "services": "awscost.entrypoints.cli.services:services",
    "containers": "awscost.entrypoints.cli.containers:containers",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        # Only commands whose module is present are listed (a partial install still shows a clean help).
        return sorted(n for n, t in COMMANDS.items() if find_spec(t.partition(":")[0]) is not None)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attr = target.partition(":")
        try:
            cmd = getattr(import_module(module), attr)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("awscost"):
                raise click.ClickException(
                    f"command {cmd_name!r} is not built yet ({module} missing)"
                ) from None
            raise click.ClickException(
                f"command {cmd_name!r} needs the optional package {exc.name!r}: pip install 'awscost[all]'"
            ) from None
        assert isinstance(cmd, click.Command)
        return cmd


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="awscost")
def cli() -> None:
    """awscost: AWS usage collection, reserved-capacity planning, cost reports and fast billing tables.

    Every command reads ./awscost.toml (or --config / AWSCOST_CONFIG) and takes --store to pick the store.
    """


def main(argv: list[str] | None = None) -> Any:
    """Entry point: user mistakes become one line on stderr and a non-zero exit, never a traceback."""
    try:
        return cli.main(args=argv, prog_name="awscost", standalone_mode=False)
    except AwsCostError as exc:
        click.echo(f"awscost: error: {exc.render()}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        sys.exit(0)


if __name__ == "__main__":
    main()
