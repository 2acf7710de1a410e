"""`awscost sandbox`: run the emulated multi-account AWS in the foreground until Ctrl-C."""

from __future__ import annotations

import click

from awscost.timeutil import parse_hour


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

    from awscost.sandbox.serve import run_sandbox

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
