"""The `awscost` command line: thin. Each command group lives in `awscost.entrypoints.cli.<module>` and is
imported only when used, so `awscost collect` never pays for pandas or DuckDB. A command parses its options
into a job's Params (or calls one library query) and prints the result.

The registry below is the one place a command is added.
"""

from __future__ import annotations

import sys
import warnings
from importlib.util import find_spec
from typing import Any

import click

from awscost import __version__
from awscost.core.errors import AwsCostError, AwsCostWarning
from awscost.core.registry import Registry, missing_extra

# The one table of commands: name -> "module:attribute" of a click.Command / click.Group, imported when used,
# and the command's one-line help (its docstring's first sentence), so that `awscost --help` lists every
# command without importing any (the sandbox's module imports moto: 0.75 s). tests/test_cli_help.py holds
# each line equal to the command's own short help. `demo` and `sandbox` live in the sandbox package (the
# sandbox extra); awscost itself never imports it.
COMMANDS: Registry[click.Command] = Registry("command")
SHORT_HELP: dict[str, str] = {}
for _name, (_target, _help) in {
    "init": ("awscost.entrypoints.cli.setup:init", "Write a commented starter awscost.toml."),
    "iam-policy": (
        "awscost.entrypoints.cli.setup:iam_policy",
        "Print the least-privilege IAM policy (JSON) that `awscost collect --kinds KINDS` needs.",
    ),
    "collect": (
        "awscost.entrypoints.cli.collect:collect",
        "Collect usage of KINDS in every account x region, for one UTC sample hour, into the store.",
    ),
    "usage": (
        "awscost.entrypoints.cli.usage:usage",
        "Show, export, import and check the usage items in the store.",
    ),
    "store": (
        "awscost.entrypoints.cli.store:store",
        "Create and inspect the store (sqlite:///PATH or dynamodb://TABLE?region=R).",
    ),
    "sandbox": (
        "awscost_sandbox.cli:sandbox",
        "Run an emulated AWS on 127.0.0.1: an Organization of four accounts in three regions with a fleet of "
        "every collected kind and their reservations.",
    ),
    "demo": (
        "awscost_sandbox.cli:demo",
        "Start an emulated multi-account AWS on 127.0.0.1, run the real collector for HOURS simulated hours "
        "into OUT/awscost.db, and print what it collected.",
    ),
    "billing": (
        "awscost.entrypoints.cli.billing:billing",
        "Billing files (legacy CUR, CUR 2.0, FOCUS, DBR) as one fast table: load, summarize, query.",
    ),
    "pricing": (
        "awscost.entrypoints.cli.pricing:pricing",
        "Prices: AWS Price List API (cached in the store) over the packaged dated snapshot.",
    ),
    "ri": (
        "awscost.entrypoints.cli.ri:ri",
        "Reserved Instances / Savings Plans planning: the break-even-optimal count per series.",
    ),
    "report": (
        "awscost.entrypoints.cli.report:report",
        "Cost reports (mail, S3, HTML/XLSX/JSON) and the RI workbook.",
    ),
    "budgets": (
        "awscost.entrypoints.cli.budgets:budgets",
        "AWS Budgets from [budgets] of awscost.toml: per account or audience, monthly, with alerts.",
    ),
    "services": ("awscost.entrypoints.cli.services:services", "Micro-service cost from container usage."),
    "containers": (
        "awscost.entrypoints.cli.containers:containers",
        "Container usage: the host agent and the input readers.",
    ),
    "deploy": (
        "awscost.entrypoints.cli.deploy:deploy",
        "Build and ship awscost to AWS: the stack, the artifacts, their upload to the pipeline, its last run.",
    ),
    "anomalies": (
        "awscost.entrypoints.cli.anomalies:anomalies",
        "Cost anomalies of the bill per account and service: detected, explained, next to AWS's.",
    ),
    "dashboard": (
        "awscost.entrypoints.cli.dashboard:dashboard",
        "The cost dashboard in the browser (read-only), or its pages exported as static HTML per audience.",
    ),
    "slack": (
        "awscost.entrypoints.cli.slack:slack",
        "The Slack command /awscost (served for development) and the anomaly alerts posted to Slack.",
    ),
    "forecast": (
        "awscost.entrypoints.cli.forecast:forecast",
        "Forecast the month's total per account or service from the bill's daily cost, with intervals.",
    ),
    "health": (
        "awscost.entrypoints.cli.health:health",
        "Show each scheduled job's last success and each kind's last collected hour, and what is overdue.",
    ),
    "run": (
        "awscost.entrypoints.cli.run:run",
        "Run JOB (or the job the event names) as Lambda would, print its result as JSON, and save it in the "
        "store as the job's latest result (what a dashboard or Slack shows).",
    ),
}.items():
    COMMANDS.add(_name, _target)
    SHORT_HELP[_name] = _help
# The third-party packages a command's module needs on import beyond awscost's own dependencies: without one,
# the listing says what to install (looked up with find_spec, which imports nothing).
NEEDS: dict[str, tuple[str, ...]] = {"sandbox": ("moto",), "demo": ("moto",)}


def _missing(name: str) -> ModuleNotFoundError | None:
    """The error importing command `name` would raise for a package of NEEDS that is not installed."""
    for package in NEEDS.get(name, ()):
        try:
            found = find_spec(package)
        except (ImportError, ValueError):  # a finder refusing the name counts as not installed
            found = None
        if found is None:
            return ModuleNotFoundError(f"No module named {package!r}", name=package)
    return None


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        cmd = COMMANDS.get(cmd_name)  # MissingExtraError names the extra to install
        assert isinstance(cmd, click.Command)
        return cmd

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; an error about a library parameter is told under the flag the user typed, and an
        optional package the command needs but that is not installed names the extra to install."""
        rest = [*getattr(ctx, "_protected_args", []), *ctx.args]
        try:
            with warnings.catch_warnings():
                # What the library warns about (a dataset loaded by older readers, ...) is one line on stderr.
                warnings.simplefilter("always", AwsCostWarning)
                shown = warnings.showwarning
                warnings.showwarning = lambda message, category, *args, **kw: (
                    click.echo(f"awscost: warning: {message}", err=True)
                    if issubclass(category, AwsCostWarning)
                    else shown(message, category, *args, **kw)
                )
                return super().invoke(ctx)
        except AwsCostError as exc:
            if exc.param and exc.param_label is None:
                exc.label_param(param_flags(rest).get(exc.param))
            raise
        except ModuleNotFoundError as exc:
            if (exc.name or "").split(".")[0] == "awscost":
                raise  # our own module missing: a packaging bug, with its traceback
            raise missing_extra(exc, f"awscost {rest[0] if rest else ''}".strip()) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list, from SHORT_HELP (no command imported); a command whose extra is not installed is
        listed with what to install."""
        rows = []
        for name in self.list_commands(ctx):
            missing = _missing(name)
            if missing is not None:
                rows.append((name, f"(not installed: {missing_extra(missing, name).hint})"))
                continue
            limit = formatter.width - 6 - len(name)
            rows.append((name, click.Command(name, help=SHORT_HELP[name]).get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="awscost")
def cli() -> None:
    """awscost: AWS usage collection, reserved-capacity planning, cost reports and fast billing tables.

    Every command reads ./awscost.toml (or --config / AWSCOST_CONFIG) and takes --store to pick the store.
    """


def param_flags(argv: list[str]) -> dict[str, str]:
    """Library parameter name -> how the command line spells it (`kinds` -> `--kinds`, `paths` -> `PATHS`),
    for the command that `argv` invokes, so an error about a parameter names the flag the user typed."""
    flags: dict[str, str] = {}
    try:
        ctx = cli.make_context("awscost", list(argv), resilient_parsing=True)
        cmd: click.Command = cli
        while True:
            for p in cmd.params:
                if p.name and isinstance(p, click.Option):
                    flags[p.name] = max((o for o in p.opts if o.startswith("--")), key=len, default=p.opts[0])
                elif p.name and isinstance(p, click.Argument):
                    flags[p.name] = p.human_readable_name
            rest = [*getattr(ctx, "_protected_args", []), *ctx.args]
            if not isinstance(cmd, click.Group) or not rest:
                break
            name, sub, sub_args = cmd.resolve_command(ctx, rest)
            if sub is None or name is None:
                break
            ctx = sub.make_context(name, sub_args, parent=ctx, resilient_parsing=True)
            cmd = sub
    except (click.ClickException, AwsCostError):
        pass  # an unparsable command line: the error then speaks the library's names
    return flags


def main(argv: list[str] | None = None) -> Any:
    """Entry point: user mistakes become one line on stderr and a non-zero exit, never a traceback."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        return cli.main(args=args, prog_name="awscost", standalone_mode=False)
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
