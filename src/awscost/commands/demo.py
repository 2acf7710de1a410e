"""`awscost demo`: the sandbox end to end (emulated AWS, the real collector, what it collected)."""

from __future__ import annotations

import click

from awscost.sandbox.demo import DEFAULT_HOURS, MAX_HOURS

from ._common import format_option


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

    from awscost.sandbox.demo import run_demo

    console = Console() if fmt == "table" else Console(stderr=True)
    run_demo(hours, out_dir, console, seed=seed, fmt=fmt)
