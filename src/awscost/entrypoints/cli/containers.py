"""`awscost containers`: the snapshot agent and a look at the normalized samples of container usage inputs."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from awscost.core.config import Settings
from awscost.core.output import dumps, emit
from awscost.entrypoints.cli._common import format_option, with_settings


@click.group()
def containers() -> None:
    """Container usage: the host agent and the input readers."""


@containers.command()
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Append the JSON lines to FILE (default: standard output).",
)
@click.option(
    "--label",
    "label",
    default=None,
    help="Docker label that names the service (e.g. app); recorded as the sample's service.",
)
@click.option(
    "--docker-socket", default="/var/run/docker.sock", show_default=True, envvar="AWSCOST_DOCKER_SOCKET"
)
@click.option(
    "--imds-endpoint",
    default=None,
    help="IMDS endpoint (default $AWS_EC2_METADATA_SERVICE_ENDPOINT or 169.254.169.254).",
)
@click.option("--host-id", default=None, help="Instance id (IMDS is skipped when all four are given).")
@click.option("--instance-type", default=None)
@click.option("--region", default=None)
@click.option("--account", default=None)
def snapshot(
    out_path: str | None,
    label: str | None,
    docker_socket: str,
    imds_endpoint: str | None,
    host_id: str | None,
    instance_type: str | None,
    region: str | None,
    account: str | None,
) -> None:
    """Append one JSON line per running container (usage, reservations, host identity). Run it from cron.

    A container removed meanwhile, or whose answers are not what the Docker API documents, is skipped with a
    warning naming it (exit 0); a bad answer about the host, or no Docker, is one error line (exit 4) and
    nothing is written."""
    from awscost.containers.agent import DockerClient, identity_from_options
    from awscost.containers.agent import snapshot as take
    from awscost.core.errors import InputError

    identity = identity_from_options(host_id, instance_type, region, account, imds_endpoint)
    records = list(take(DockerClient(docker_socket), identity, label=label))
    text = "".join(dumps(r) + "\n" for r in records)
    if out_path:
        # One write of whole lines in append mode: concurrent cron runs never interleave partial lines.
        try:
            with Path(out_path).open("a", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise InputError(f"cannot append: {exc.strerror}", where=out_path) from None
        click.echo(f"{len(records)} container sample(s) appended to {out_path}", err=True)
    else:
        sys.stdout.write(text)


class LocalOrS3Path(click.Path):
    """An existing file or directory, or an s3:// location (checked and downloaded by the job)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and value.startswith("s3://"):
            return value
        return super().convert(value, param, ctx)


def input_options(func: Any) -> Any:
    """Options shared with `services allocate`: what the inputs may not say themselves."""
    for opt in reversed(
        [
            click.argument("inputs", nargs=-1, required=True, type=LocalOrS3Path(exists=True)),
            click.option("--host-id", default=None, help="Host instance id for inputs that do not name it."),
            click.option("--instance-type", default=None, help="Host instance type for inputs that lack it."),
            click.option("--region", default=None, help="Region for inputs that lack it."),
            click.option("--account", default=None, help="Account id for inputs that lack it."),
            click.option("--cluster", default=None, help="Cluster for inputs that lack it."),
            click.option(
                "--time",
                "time_",
                default=None,
                help="Time of `docker stats` lines that have no time prefix (ISO 8601).",
            ),
            click.option("--label", default=None, help="Docker label that names the service."),
        ]
    ):
        func = opt(func)
    return func


def read_context_params(opts: dict[str, Any]) -> dict[str, Any]:
    """The shared input options as Params fields (the inputs, and what they may not say themselves)."""
    from awscost.core.timeutil import parse_time

    return {
        "inputs": tuple(opts["inputs"]),
        "host_id": opts.get("host_id"),
        "instance_type": opts.get("instance_type"),
        "region": opts.get("region"),
        "account": opts.get("account"),
        "cluster": opts.get("cluster"),
        "time": parse_time(opts["time_"], where="--time") if opts.get("time_") else None,
        "label": opts.get("label"),
    }


def warn_malformed(malformed: Sequence[Any]) -> None:
    """The input lines skipped as malformed, the first ten of them, on stderr."""
    if malformed:
        shown = malformed[:10]
        click.echo(f"awscost: warning: {len(malformed)} malformed input line(s) skipped:", err=True)
        for m in shown:
            click.echo(f"  {m}", err=True)
        if len(malformed) > len(shown):
            click.echo(f"  ... and {len(malformed) - len(shown)} more", err=True)


@containers.command()
@input_options
@format_option()
@click.option("--no-overrides", is_flag=True, help="Ignore the service overrides in the store's map table.")
@with_settings
def samples(settings: Settings, fmt: str, no_overrides: bool, **opts: Any) -> None:
    """Show the normalized samples read from INPUTS (format auto-detected per line)."""
    from awscost.jobs.base import Context
    from awscost.jobs.service_costs import Params, read_samples

    params = Params(**read_context_params(opts), overrides=not no_overrides)
    result = read_samples(Context(settings), params)
    warn_malformed(result.malformed)
    emit((s.row() for s in result.samples), fmt, title="container samples")
