"""`awscost dashboard`: serve the cost dashboard (web/app.py) or export its pages as static HTML per audience."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from awscost.core.config import Settings
from awscost.entrypoints.cli._common import with_settings

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _dashboard(settings: Settings, dataset: str | None) -> Any:
    from awscost.core.errors import InputError
    from awscost.entrypoints.web.app import Dashboard
    from awscost.entrypoints.web.config import dashboard_settings
    from awscost.views.reports import Reports, default_dataset

    location = dataset or default_dataset(settings)
    if not location:
        raise InputError(
            "no billing dataset to show", param="dataset", hint="--dataset DIR|s3://... or [billing] dataset"
        )
    config = dashboard_settings(settings)
    return Dashboard(
        settings,
        str(location),
        config,
        Reports(settings, str(location), max_age=config.max_age),
    )


@click.group(invoke_without_command=True)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to bind (any other than loopback needs [dashboard.tokens] or a trusted_header).",
)
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--dataset", default=None, help="The billing dataset (default: [billing] dataset).")
@click.option(
    "--certfile", type=click.Path(exists=True, dir_okay=False), default=None, help="TLS certificate (PEM)."
)
@click.option("--keyfile", type=click.Path(exists=True, dir_okay=False), default=None, help="TLS key (PEM).")
@with_settings
@click.pass_context
def dashboard(
    ctx: click.Context,
    settings: Settings,
    host: str,
    port: int,
    dataset: str | None,
    certfile: str | None,
    keyfile: str | None,
) -> None:
    """The cost dashboard in the browser (read-only), or its pages exported as static HTML per audience.

    Pages: overview, live usage, reservations, tags, services; filters in the URL (docs/dashboard.md)."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from awscost.core.errors import InputError
    from awscost.entrypoints.web.app import create_app

    dash = _dashboard(settings, dataset)
    if host not in LOOPBACK and not dash.config.authenticated:
        raise InputError(
            f"refusing to serve on {host} without [dashboard.tokens] or a trusted_header: anyone who reaches "
            "it would see every cost",
            param="host",
            hint="serve on 127.0.0.1 (behind a proxy), or give each audience a token (docs/dashboard.md)",
        )
    if bool(certfile) != bool(keyfile):
        raise InputError("TLS needs both --certfile and --keyfile", param="certfile")
    scheme = "https" if certfile else "http"
    click.echo(
        f"awscost dashboard on {scheme}://{host}:{port}/ (dataset {dash.dataset}; Ctrl-C stops it)", err=True
    )
    uvicorn.run(
        create_app(dash),
        host=host,
        port=port,
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
        log_level="warning",
    )


@dashboard.command("export")
@click.option(
    "--out", required=True, help="A folder, or s3://BUCKET/PREFIX/ (one set per audience under it)."
)
@click.option("--audience", "audiences", multiple=True, help="An audience (repeatable; default: every one).")
@click.option("--period", default="month-to-date", show_default=True)
@click.option("--dataset", default=None, help="The billing dataset (default: [billing] dataset).")
@with_settings
def export_cmd(
    settings: Settings, out: str, audiences: tuple[str, ...], period: str, dataset: str | None
) -> None:
    """Write the dashboard's pages as static HTML, one set per audience (each sees only its own)."""
    from awscost.entrypoints.web.export import pages_of, upload_set, write_set
    from awscost.reports.config import ORG_AUDIENCE

    dash = _dashboard(settings, dataset)
    names = list(audiences) or dash.audiences()
    for name in names:
        if name not in dash.audiences():
            from awscost.core.errors import InputError

            raise InputError(f"unknown audience {name!r}", param="audience", hint=", ".join(dash.audiences()))
    for name in names:
        files = pages_of(dash, None if name == ORG_AUDIENCE else name, period)
        if out.startswith("s3://"):
            from awscost.billing.s3 import S3Options, client

            bucket, _, prefix = out[len("s3://") :].partition("/")
            keys = upload_set(
                client(S3Options.from_settings(settings)), files, bucket, f"{prefix.rstrip('/')}/{name}"
            )
            click.echo(f"{name}: {len(keys)} files to s3://{bucket}/{prefix.rstrip('/')}/{name}/")
        else:
            folder = write_set(files, Path(out) / name)
            click.echo(f"{name}: {folder / 'overview.html'}")
