"""The sandbox's two commands, `awscost demo` and `awscost sandbox`, registered in awscost's command table by
name so that awscost itself never imports this package: without the sandbox extra they say how to install it.
"""

from __future__ import annotations

import click

from awscost.core.timeutil import parse_hour
from awscost.entrypoints.cli._common import format_option
from awscost_sandbox.demo import DEFAULT_HOURS, MAX_HOURS


@click.command()
@click.option(
    "--hours",
    type=click.IntRange(1, MAX_HOURS),
    default=DEFAULT_HOURS,
    show_default=True,
    help="Simulated hours to collect (the default finishes in about a minute).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default="awscost-demo",
    show_default=True,
    help="Directory for the results; usage samples go to OUT/awscost.db.",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Scenario seed (same seed, same fleet).")
@format_option()
def demo(hours: int, out_dir: str, seed: int, fmt: str) -> None:
    """Start an emulated multi-account AWS on 127.0.0.1, run the real collector for HOURS simulated hours
    into OUT/awscost.db, and print what it collected.

    With --format json|jsonl|csv the per-kind summary goes to stdout and the narration to stderr.
    """
    from rich.console import Console

    from awscost_sandbox.demo import run_demo

    console = Console() if fmt == "table" else Console(stderr=True)
    run_demo(hours, out_dir, console, seed=seed, fmt=fmt)


@click.command()
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="Port (0 = any free one)."
)
@click.option("--seed", type=int, default=7, show_default=True, help="Scenario seed.")
@click.option(
    "--at", "at", default=None, help="Simulated hour whose fleet to seed (default: the scenario's first)."
)
def sandbox(port: int, seed: int, at: str | None) -> None:
    """Run an emulated AWS on 127.0.0.1: an Organization of four accounts in three regions with a fleet of
    every collected kind and their reservations. Prints the endpoint and the environment to export;
    Ctrl-C stops it.
    """
    import threading

    from awscost_sandbox.serve import run_sandbox

    stop = threading.Event()
    hour = parse_hour(at, where="--at") if at else None

    def ready(lines: list[str]) -> None:
        for line in lines:
            click.echo(line)

    try:
        run_sandbox(port=port, seed=seed, at=hour, ready=ready, stop=stop)
    except KeyboardInterrupt:
        stop.set()
        click.echo("sandbox stopped", err=True)
