"""`awscost health`: the health job's figures from the store, for a person or a script."""

from __future__ import annotations

import click

from awscost.core.config import Settings
from awscost.core.output import dumps, emit
from awscost.entrypoints.cli._common import format_option, with_settings

EXIT_OVERDUE = 8  # a job or a kind is overdue (what `awscost health && ...` in a script tests)


@click.command()
@format_option(formats=("table", "json"))
@with_settings
def health(settings: Settings, fmt: str) -> None:
    """Show each scheduled job's last success and each kind's last collected hour, and what is overdue.

    A job is overdue when its last success is older than its schedule allows (hourly 2 h, daily 26 h, weekly
    8 days), a kind when its last sample hour is (hourly 2 h, daily 26 h). Exits 8 when anything is.
    """
    from datetime import UTC, datetime

    from awscost.jobs.health import health_of, rows
    from awscost.store import open_store

    with open_store(settings.store, read_only=True) as store:
        found = health_of(store, datetime.now(UTC))
    if fmt == "json":
        click.echo(dumps(found.to_json()))
    else:
        jobs, kinds = rows(found)
        emit(jobs, "table", title="Jobs")
        if kinds:
            emit(kinds, "table", title="Collection per kind")
        overdue = [*found.overdue_jobs, *(f"kind {k}" for k in found.overdue_kinds)]
        click.echo(f"overdue: {', '.join(overdue)}" if overdue else "nothing overdue", err=True)
    if found.overdue:
        raise click.exceptions.Exit(EXIT_OVERDUE)
