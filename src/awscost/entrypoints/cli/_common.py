"""Options every command shares: --config, --store, --format. Commands get a loaded `Settings`."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from awscost.core.config import Settings, load_settings
from awscost.core.output import FORMATS

if TYPE_CHECKING:
    from awscost.jobs.base import Context

F = TypeVar("F", bound=Callable[..., Any])


config_option = click.option(
    "--config",
    "config_path",
    type=str,  # a path, or s3://BUCKET/KEY, or ssm:NAME (core/remote_config.py)
    default=None,
    envvar="AWSCOST_CONFIG",
    help="Config file (default ./awscost.toml, or $AWSCOST_CONFIG); also s3://BUCKET/KEY or ssm:NAME.",
)


class DatasetLocation(click.ParamType):
    """A billing dataset: a directory (a Path) or `s3://bucket/prefix/` (kept as the string; a Path would
    fold its '//')."""

    name = "DIR|s3://BUCKET/PREFIX/"

    def __init__(self, exists: bool = False) -> None:
        self.local = click.Path(exists=exists, file_okay=False, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and value.startswith("s3://"):
            return value
        return self.local.convert(value, param, ctx)


def with_settings(func: F) -> F:
    """Add --config and --store; call `func(settings=Settings, ...)`."""

    @config_option
    @click.option(
        "--store", "store_url", default=None, help="Store URL: sqlite:///PATH or dynamodb://TABLE?region=R."
    )
    @functools.wraps(func)
    def wrapper(*args: Any, config_path: str | None, store_url: str | None, **kwargs: Any) -> Any:
        settings = load_settings(config_path).with_overrides(store=store_url)
        return func(*args, settings=settings, **kwargs)

    return wrapper  # type: ignore[return-value]


def with_config(func: F) -> F:
    """Add --config alone (commands that use no store); call `func(settings=Settings, ...)`."""

    @config_option
    @functools.wraps(func)
    def wrapper(*args: Any, config_path: str | None, **kwargs: Any) -> Any:
        settings = load_settings(config_path)
        return func(*args, settings=settings, **kwargs)

    return wrapper  # type: ignore[return-value]


def format_option(default: str = "table", formats: tuple[str, ...] = FORMATS) -> Callable[[F], F]:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(formats),
        default=default,
        show_default=True,
        help="Output format.",
    )


def csv_list(value: str | None) -> list[str] | None:
    """Split a comma-separated option value; None stays None."""
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def _interactive() -> bool:
    return sys.stderr.isatty()


def _progress_bar(label: str) -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    # On stderr, so that `--format json > file` keeps stdout clean while a person watches the bar.
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
        console=Console(stderr=True),
    )


@contextmanager
def job_context(settings: Settings, label: str = "working") -> Iterator[Context]:
    """The Context a command runs its job with: a progress bar on stderr when a person watches, nothing
    in a pipe."""
    from awscost.jobs.base import Context  # here: a query command (billing summary) never pays for jobs/

    if not _interactive():
        yield Context(settings)
        return
    with _progress_bar(label) as bar:
        task = bar.add_task(label, total=None)

        def progress(done: int, total: int | None, what: str) -> None:
            bar.update(task, completed=done, total=total)

        yield Context(settings, progress=progress)


def run_job(name: str, ctx: Context, params: Any) -> Any:
    """Run the registered job `name`: the one way a command does its work (`awscost.jobs.run_job`)."""
    from awscost.jobs import run_job as run

    return run(name, ctx, params)


def prefer_option(func: Any) -> Any:
    """`--prefer FORMAT` for commands reading billing files (the billing group, usage backfill)."""
    from awscost.billing.readers import READERS  # imported by the commands that take it, not by every one

    return click.option(
        "--prefer",
        type=click.Choice(sorted(READERS)),
        default=None,
        help="Where files of two formats hold the same billing account and month (a FOCUS export and the CUR "
        "of that month), keep this format's rows; without it such files are refused.",
    )(func)


def bill_source_options(func: Any) -> Any:
    """`--dataset`, `--file` (repeatable) and `--engine`: where a job reads the bill (billing/engines.py
    open_source; the job's Params check the combination). The command is called with dataset, files, engine."""
    func = click.option(
        "--engine",
        type=click.Choice(["duckdb", "spark", "athena"]),
        default="duckdb",
        show_default=True,
        help="Where the bill is asked (spark, athena: over the --dataset; docs/scaling.md).",
    )(func)
    func = click.option(
        "--file", "files", multiple=True, help="Billing files (repeatable), instead of --dataset."
    )(func)
    return click.option(
        "--dataset", default=None, help="A billing dataset (a directory or s3://BUCKET/PREFIX/)."
    )(func)
